# -*- coding: utf-8 -*-
"""The action plugin (run in the controller) returns what the module returns, without a module process."""
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.action import squid_policy_info as action
from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy_info as module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.modules.test_squid_policy_info import POLICY


def test_same_result_as_the_module(run_action, run_module):
    by_action = run_action(action, {"policy": POLICY})
    by_module = run_module(module, {"policy": POLICY})
    for key in ("changed", "name", "proxy_port", "policy", "gke", "vm"):
        assert by_action[key] == by_module[key], key
    assert len(by_action["warnings"]) == len(by_module["warnings"])
    assert by_action["invocation"]["module_args"]["policy"] == POLICY  # what the bench counts as a policy parse


def test_check_mode_returns_the_same(run_action):
    assert run_action(action, {"policy": POLICY}, check_mode=True)["vm"]["checksum"] == run_action(action, {"policy": POLICY})["vm"]["checksum"]


def test_invalid_policy_fails_naming_the_field(run_action):
    result = run_action(action, {"policy": dict(POLICY, proxy_port=70000)})
    assert result["failed"] and result["field"] == "policy.proxy_port"
    assert result["msg"].startswith("Invalid egress policy:") and "70000" in result["msg"]
