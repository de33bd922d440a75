# -*- coding: utf-8 -*-
"""Run Prometheus's own promtool over rule files and bare PromQL expressions (test helper)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile

import yaml

REPO = pathlib.Path(__file__).resolve().parents[4]
RULES_DIR = REPO / "roles" / "monitoring" / "files" / "rules"
DASHBOARDS_DIR = REPO / "roles" / "monitoring" / "files" / "dashboards"
PROMTOOL_TESTS_DIR = pathlib.Path(__file__).resolve().parent / "promtool"


def promtool(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        raise AssertionError("promtool is not installed: `make setup` installs Debian's prometheus package (bindep.txt)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def rule_files() -> list:
    return sorted(RULES_DIR.glob("*.rules.yml"))


def alerts() -> list:
    """Every alerting rule of every rule file, as dicts with the file's name under ``file``."""
    found = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            found += [dict(rule, file=path.name) for rule in group["rules"] if "alert" in rule]
    return found


def expression_errors(expressions: dict) -> dict:
    """Parse each named PromQL expression with promtool; return {name: promtool's complaint} for those that fail.

    promtool has no offline "parse this query" command, so each expression becomes a recording rule named after it.
    """
    names = list(expressions)
    records = [{"record": f"expression_{index}", "expr": expressions[name]} for index, name in enumerate(names)]
    rules = {"groups": [{"name": "parse", "rules": records}]}
    with tempfile.TemporaryDirectory() as workdir:
        path = pathlib.Path(workdir) / "expressions.rules.yml"
        path.write_text(yaml.safe_dump(rules), encoding="utf-8")
        result = promtool("check", "rules", str(path))
    if result.returncode == 0:
        return {}
    errors = {}
    for line in (result.stdout + result.stderr).splitlines():
        for index, name in enumerate(names):
            if f'"expression_{index}"' in line:
                errors[name] = line.split(": ", 1)[-1]
    return errors or {"(promtool)": result.stdout + result.stderr}
