# -*- coding: utf-8 -*-
"""Every role documents each entry point in meta/argument_specs.yml and writes each default once, in defaults/main.yml;
every entry point starts with the role's preflight."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = sorted(path for path in (pathlib.Path(__file__).parents[3] / "roles").iterdir() if path.is_dir())


def load(path: pathlib.Path):
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def entry_points(role: pathlib.Path) -> dict:
    return load(role / "meta" / "argument_specs.yml")["argument_specs"]


def options(role: pathlib.Path):
    for entry_point, spec in entry_points(role).items():
        for name, option in spec.get("options", {}).items():
            yield entry_point, name, option


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_options_carry_the_role_prefix(role):
    for entry_point, name, _option in options(role):
        assert name.startswith(role.name + "_"), f"{entry_point}: {name} lacks the {role.name}_ prefix"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_each_default_is_written_once_in_defaults_main(role):
    defaults = load(role / "defaults" / "main.yml")
    for entry_point, name, option in options(role):
        assert "default" not in option, f"{entry_point}: {name} repeats its default; defaults/main.yml holds it"
        assert "type" in option and option.get("description"), f"{entry_point}: {name} needs a type and a description"
        if option.get("required"):
            assert name not in defaults, f"{entry_point}: {name} is required, so it has no default"
        else:
            assert name in defaults, f"{entry_point}: {name} is optional but has no default in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_default_is_documented(role):
    defaults = load(role / "defaults" / "main.yml")
    documented = {name for _entry_point, name, _option in options(role)}
    assert set(defaults) <= documented, f"undocumented defaults: {sorted(set(defaults) - documented)}"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_entry_point_starts_with_the_preflight(role):
    assert (role / "tasks" / "preflight.yml").exists(), f"{role.name} has no tasks/preflight.yml"
    for entry_point in entry_points(role):
        tasks = load(role / "tasks" / f"{entry_point}.yml")
        assert tasks, f"entry point {entry_point} has no tasks/{entry_point}.yml"
        assert tasks[0].get("ansible.builtin.import_tasks") == "preflight.yml", (
            f"tasks/{entry_point}.yml must start with: ansible.builtin.import_tasks: preflight.yml"
        )
