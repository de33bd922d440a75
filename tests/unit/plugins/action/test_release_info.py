# -*- coding: utf-8 -*-
"""release_info in the controller returns what the module returns: history, the chosen release, a tampered one's
failure, the key masked; on any host (it reads nothing there)."""
from __future__ import annotations

import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.action import release_info as action
from ansible_collections.aibang.gke_platform.plugins.modules import release_info as module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.modules.test_release_info import KEY, stored

TAMPERED = stored(2)
TAMPERED["metadata"]["annotations"]["aibang.io/sha256"] = "0" * 64


@pytest.mark.parametrize("args", [
    {"releases": [stored(1), stored(2)], "previous": True, "key": KEY},
    {"releases": [stored(1), TAMPERED], "release": 2},
    {"releases": [stored(1)], "run": "run-1", "verify_failures": ["chain"]},
], ids=["previous", "tampered", "run"])
@pytest.mark.parametrize("transport", ["local", "ssh"])
def test_same_result_as_the_module(action_of, run_module, args, transport):
    got = action_of(action, args, transport=transport).run(task_vars={})
    assert got == run_module(module, args) and KEY not in json.dumps(got)


def test_options_the_module_refuses_run_the_module(action_of, monkeypatch):
    plugin = action_of(action, {"releases": [], "release": 1, "previous": True})
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: {"failed": True, "msg": "mutually"})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={}) == {"failed": True, "msg": "mutually"}
