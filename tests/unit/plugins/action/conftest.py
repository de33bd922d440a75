# -*- coding: utf-8 -*-
"""Action plugins run in the controller: these fixtures (controller code) stay out of the modules' unit test group."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task


def make_action(plugin, args: dict, check_mode: bool = False, transport: str = "local"):
    """An action plugin's ActionModule for a task with the given arguments, on a host reached by ``transport``."""
    task = Task()
    task.args = dict(args)
    task.check_mode = check_mode
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir=None), transport=transport)
    return plugin.ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(),
                               templar=None, shared_loader_obj=None)


@pytest.fixture
def run_action():
    """Run an action plugin's ActionModule in this process with the given task arguments; return its result."""

    def run(plugin, args: dict, check_mode: bool = False) -> dict:
        return make_action(plugin, args, check_mode).run(task_vars={})

    return run


@pytest.fixture
def action_of():
    return make_action
