# -*- coding: utf-8 -*-
"""Action plugins run in the controller: this fixture (controller code) stays out of the modules' unit test group."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task


@pytest.fixture
def run_action():
    """Run an action plugin's ActionModule in this process with the given task arguments; return its result."""

    def run(plugin, args: dict, check_mode: bool = False) -> dict:
        task = Task()
        task.args = dict(args)
        task.check_mode = check_mode
        connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir=None))
        action = plugin.ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(),
                                     templar=None, shared_loader_obj=None)
        return action.run(task_vars={})

    return run
