# -*- coding: utf-8 -*-
"""The action plugin (run in the controller) returns what the module returns, without a module process."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.aibang.gke_platform.plugins.action import squid_policy_check as action
from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy_check as module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.modules.test_squid_policy_check import POLICY

REQUESTS = [{"client": "10.128.0.1", "host": "login.microsoftonline.com"}, {"client": "10.128.0.1", "host": "example.org"}]


def test_same_decisions_as_the_module(run_action, run_module):
    args = {"policy": POLICY, "tier": "gke", "requests": REQUESTS}
    assert run_action(action, args)["results"] == run_module(module, args)["results"]


def test_a_bad_request_fails_naming_it(run_action):
    result = run_action(action, {"policy": POLICY, "tier": "vm", "requests": [{"client": "not-an-ip", "host": "a.b"}]})
    assert result["failed"] and result["field"].startswith("requests[0]")


def test_arguments_are_checked_against_the_modules_spec(run_action):
    with pytest.raises(AnsibleActionFail, match="tier"):
        run_action(action, {"policy": POLICY, "tier": "edge", "requests": []})
