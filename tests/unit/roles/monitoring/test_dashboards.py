# -*- coding: utf-8 -*-
"""The Grafana dashboards: every panel's query parses with promtool and every variable it uses resolves."""

from __future__ import annotations

import json
import re

import pytest

from .promql import DASHBOARDS_DIR, expression_errors

# Grafana's own variables, with a value of the right kind for parsing.
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600", "__interval_ms": "60000"}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)$")
DASHBOARDS = sorted(DASHBOARDS_DIR.glob("*.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def variables(board: dict) -> list:
    return board["templating"]["list"]


def variable_query(variable: dict) -> str:
    query = variable.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else query


def panels(board: dict):
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def references(text: str) -> set:
    return {next(name for name in match.groups() if name) for match in VARIABLE.finditer(text)}


def substitute(text: str, values: dict) -> str:
    return VARIABLE.sub(lambda match: values[next(name for name in match.groups() if name)], text)


def panel_queries(board: dict) -> dict:
    """{"<dashboard> / <panel title> / <refId>": expr} for every Prometheus target."""
    return {f"{board['title']} / {panel['title']} / {target['refId']}": target["expr"]
            for panel in panels(board) for target in panel.get("targets", []) if "expr" in target}


def parse_errors(board: dict) -> dict:
    """Every panel query and every label_values() selector, variables replaced by sample values, through promtool."""
    values = dict(BUILTINS, **{variable["name"]: "sample" for variable in variables(board)})
    expressions = {name: substitute(expr, values) for name, expr in panel_queries(board).items()}
    for variable in variables(board):
        match = LABEL_VALUES.match(variable_query(variable).strip())
        if variable["type"] == "query" and match and match["selector"]:
            expressions[f"{board['title']} / variable {variable['name']}"] = substitute(match["selector"], values)
    return expression_errors(expressions)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_panel_query_parses(path):
    board = load(path)
    assert panel_queries(board), "a dashboard without queries"
    assert parse_errors(board) == {}


def unresolved(board: dict) -> list:
    """Problems with variables: used before (or without) being defined, not a label_values() query, no datasource."""
    problems, defined = [], set(BUILTINS)
    for variable in variables(board):
        query = variable_query(variable)
        if not references(query) <= defined:
            problems.append(f"variable {variable['name']} uses {sorted(references(query) - defined)}")
        if variable["type"] == "query" and not LABEL_VALUES.match(query.strip()):
            problems.append(f"variable {variable['name']}: not a label_values() query: {query}")
        defined.add(variable["name"])
    datasources = {variable["name"] for variable in variables(board) if variable["type"] == "datasource"}
    for panel in panels(board):
        used = references(json.dumps(panel.get("datasource", {})) + json.dumps(panel.get("targets", [])))
        if not used <= defined:
            problems.append(f"panel {panel['title']!r} uses {sorted(used - defined)}")
        if panel["type"] != "row" and not references(json.dumps(panel.get("datasource"))) & datasources:
            problems.append(f"panel {panel['title']!r} does not use a datasource variable")
    return problems


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_variable_resolves(path):
    assert unresolved(load(path)) == []


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_shape(path):
    board = load(path)
    assert board["uid"] == path.stem
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert all(panel.get("description") for panel in panels(board) if panel["type"] != "row")


def test_a_bad_panel_query_fails_naming_the_panel():
    board = load(DASHBOARDS[0])
    broken = next(panel for panel in board["panels"] if panel["type"] != "row")
    broken["targets"][0]["expr"] = "sum(rate(squid_client_http_requests_total[$__rate_interval])"
    errors = parse_errors(board)
    assert list(errors) == [f"{board['title']} / {broken['title']} / A"]


def test_an_undefined_variable_is_caught():
    board = load(DASHBOARDS[0])
    broken = next(panel for panel in board["panels"] if panel["type"] != "row")
    broken["targets"][0]["expr"] += ' or up{tier="$nosuchvariable"}'
    assert unresolved(board) == [f"panel {broken['title']!r} uses ['nosuchvariable']"]
