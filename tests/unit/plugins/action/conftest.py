# -*- coding: utf-8 -*-
"""Action plugins run in the controller: these fixtures (controller code) stay out of the modules' unit test group."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.tests.unit.action_task import make_action


@pytest.fixture
def run_action():
    """Run an action plugin's ActionModule in this process with the given task arguments; return its result."""

    def run(plugin, args: dict, check_mode: bool = False) -> dict:
        return make_action(plugin, args, check_mode).run(task_vars={})

    return run


@pytest.fixture
def action_of():
    return make_action
