# -*- coding: utf-8 -*-
"""A role variable computed from a registered result (vars/main.yml) is read only by entry points that run the task
registering it. AWX's rollback node found squid_vm's rollback waiting on `_squid_vm_port` with the compiled policy
never registered: "'__squid_vm_policy_compiled' is undefined"."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROLES = pathlib.Path(__file__).parents[3] / "roles"
NAME = re.compile(r"\b_{1,2}[a-z][a-z0-9_]*\b")


def _registers(tasks_dir: pathlib.Path) -> dict:
    """register name -> the tasks files that register it."""
    found = {}
    for path in tasks_dir.glob("*.yml"):
        for name in re.findall(r"^\s*register:\s*(\S+)", path.read_text(encoding="utf-8"), re.M):
            found.setdefault(name, set()).add(path.name)
    return found


def _read_without_default(value) -> set:
    """The names a variable's value reads, leaving out those it reads through `| default(...)`."""
    text = str(value)
    return {name for name in NAME.findall(text) if not re.search(rf"\b{name}\s*\|\s*default\(", text)}


def _dependents(role_vars: dict, registered: dict) -> dict:
    """role variable -> the registered names it is computed from, directly or through other role variables."""
    direct = {key: _read_without_default(value) for key, value in role_vars.items()}
    deps = {}
    for key in role_vars:
        seen, todo, sources = set(), [key], set()
        while todo:
            for name in direct.get(todo.pop(), ()):
                if name in registered:
                    sources.add(name)
                elif name in direct and name not in seen:
                    seen.add(name)
                    todo.append(name)
        if sources:
            deps[key] = sources
    return deps


def _reachable(tasks_dir: pathlib.Path, entry: str) -> set:
    """The tasks files an entry point runs (import_tasks / include_tasks with a literal file name)."""
    seen, todo = set(), [f"{entry}.yml"]
    while todo:
        name = todo.pop()
        if name in seen or not (tasks_dir / name).is_file():
            continue
        seen.add(name)
        todo += re.findall(r"(?:import|include)_tasks:\s*(\S+\.yml)", (tasks_dir / name).read_text(encoding="utf-8"))
    return seen


def _cases():
    for role in sorted(ROLES.iterdir()):
        vars_file, specs = role / "vars" / "main.yml", role / "meta" / "argument_specs.yml"
        if not vars_file.is_file() or not specs.is_file():
            continue
        registered = _registers(role / "tasks")
        dependents = _dependents(yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}, registered)
        if dependents:
            for entry in yaml.safe_load(specs.read_text(encoding="utf-8"))["argument_specs"]:
                yield pytest.param(role, entry, registered, dependents, id=f"{role.name}:{entry}")


@pytest.mark.parametrize("role, entry, registered, dependents", _cases())
def test_an_entry_point_runs_the_task_registering_what_its_variables_read(role, entry, registered, dependents):
    tasks_dir = role / "tasks"
    files = _reachable(tasks_dir, entry)
    handlers = role / "handlers" / "main.yml"
    texts = [(tasks_dir / name).read_text(encoding="utf-8") for name in files]
    texts += [handlers.read_text(encoding="utf-8")] if handlers.is_file() else []
    read = {name for text in texts for name in NAME.findall(text)}
    missing = {
        variable: sorted(source for source in sources if not registered[source] & files)
        for variable, sources in dependents.items() if variable in read
    }
    assert not {variable: files for variable, files in missing.items() if files}, (
        f"{role.name}'s {entry} entry point reads variables computed from results it never registers: {missing}")
