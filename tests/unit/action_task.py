# -*- coding: utf-8 -*-
"""An action plugin's ActionModule for a task, as the worker builds it (controller code: for the tests of action
plugins and plugin_utils, not the modules' unit test group)."""
from __future__ import annotations

from types import SimpleNamespace

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar


def make_action(plugin, args: dict, check_mode: bool = False, transport: str = "local", environment=None):
    """An action plugin's ActionModule for a task with the given arguments (and task ``environment``, a list of
    dicts as the task carries it), on a host reached by ``transport``."""
    task = Task()
    task.args = dict(args)
    task.check_mode = check_mode
    task.environment = list(environment or [])
    shell = SimpleNamespace(tmpdir=None, env_prefix=lambda **kwargs: "")
    connection = SimpleNamespace(_shell=shell, transport=transport, has_native_async=False)
    loader = DataLoader()
    return plugin.ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=loader,
                               templar=Templar(loader=loader), shared_loader_obj=None)
