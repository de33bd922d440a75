# -*- coding: utf-8 -*-
"""Every role's defaults/main.yml and meta/argument_specs.yml agree: one default per variable, documented once."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = sorted(path for path in (pathlib.Path(__file__).parents[3] / "roles").iterdir() if path.is_dir())


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_defaults_match_argument_specs(role):
    defaults = load(role / "defaults" / "main.yml")
    specs = load(role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry_point, spec in specs.items():
        for name, option in spec.get("options", {}).items():
            assert name.startswith(role.name + "_"), f"{entry_point}: {name} lacks the {role.name}_ prefix"
            if option.get("required"):
                assert name not in defaults, f"{name} is required, so it has no default"
            else:
                assert name in defaults, f"{entry_point}: {name} is documented but has no default in defaults/main.yml"
                assert option.get("default") == defaults[name], f"{entry_point}: {name} default differs from defaults/main.yml"
    documented = {name for spec in specs.values() for name in spec.get("options", {})}
    assert set(defaults) <= documented, f"undocumented defaults: {sorted(set(defaults) - documented)}"
