# -*- coding: utf-8 -*-
"""The alert rules: promtool accepts them, every alert follows the conventions and has firing and quiet tests."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from .promql import PROMTOOL_TESTS_DIR, REPO, alerts, expression_errors, promtool, rule_files

RUNBOOK_BASE = "https://github.com/aibang/gke_platform/blob/main/"
SEVERITIES = {"critical", "warning", "info"}
ALERTS = alerts()
TEST_FILES = sorted(PROMTOOL_TESTS_DIR.glob("*.test.yml"))


def test_there_are_rules_and_tests():
    assert ALERTS and TEST_FILES


@pytest.mark.parametrize("path", rule_files(), ids=lambda path: path.name)
def test_promtool_check_rules(path):
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule", ALERTS, ids=lambda rule: rule["alert"])
def test_alert_expression_parses(rule):
    assert expression_errors({rule["alert"]: rule["expr"]}) == {}


@pytest.mark.parametrize("rule", ALERTS, ids=lambda rule: rule["alert"])
def test_alert_follows_the_conventions(rule):
    assert rule["alert"].startswith("Aibang"), "shared prefix"
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    runbook = f"docs/runbooks/{rule['alert']}.md"
    assert annotations["runbook_url"] == RUNBOOK_BASE + runbook
    assert (REPO / runbook).is_file(), f"{runbook} is missing"


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda path: path.name)
def test_promtool_test_rules(path):
    result = promtool("test", "rules", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def _expectations() -> dict:
    """{alertname: {"fires", "quiet"}}: which kinds of promtool expectation exist for each alert."""
    seen: dict = {}
    for path in TEST_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in group.get("alert_rule_test", []):
                seen.setdefault(case["alertname"], set()).add("fires" if case.get("exp_alerts") else "quiet")
    return seen


@pytest.mark.parametrize("rule", ALERTS, ids=lambda rule: rule["alert"])
def test_every_alert_is_tested_firing_and_quiet(rule):
    assert _expectations().get(rule["alert"], set()) == {"fires", "quiet"}


def test_every_runbook_belongs_to_an_alert():
    names = {rule["alert"] for rule in ALERTS}
    pages = {path.stem for path in (REPO / "docs" / "runbooks").glob("*.md")} - {"README"}
    assert pages <= names, f"runbooks without an alert: {sorted(pages - names)}"


def test_a_bad_expression_fails_naming_the_rule(tmp_path: pathlib.Path):
    bad = {"groups": [{"name": "bad", "rules": [
        {"alert": "AibangGood", "expr": "up == 0"},
        {"alert": "AibangBroken", "expr": "rate(squid_client_http_requests_total[5m]"},
    ]}]}
    path = tmp_path / "bad.rules.yml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    result = promtool("check", "rules", str(path))
    assert result.returncode != 0
    assert '"AibangBroken"' in result.stdout + result.stderr
    assert '"AibangGood"' not in result.stdout + result.stderr
    assert list(expression_errors({"AibangBroken": bad["groups"][0]["rules"][1]["expr"], "AibangGood": "up"})) == ["AibangBroken"]
