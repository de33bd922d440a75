# -*- coding: utf-8 -*-
"""The action plugin (run in the controller) returns what the module returns, without a module process."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.aibang.gke_platform.plugins.action import cluster_probe_check as action
from ansible_collections.aibang.gke_platform.plugins.modules import cluster_probe_check as module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.modules.test_cluster_probe_check import args, log

KEYS = ("failed", "msg", "field", "changed", "pod_ip", "dns", "results", "layers")


def task_args(text: str, **overrides) -> dict:
    return {key: value for key, value in args(text, **overrides).items() if not key.startswith("_ansible")}


@pytest.mark.parametrize("overrides", [
    {"log": log(["10.96.0.7"], 200, 403)},
    {"log": log([], 200, 403)},
    {"log": log(["10.96.0.7"], 200, 200)},
    {"log": "garbage"},
    {"log": log(["10.96.0.7"], 200, 403), "policy": None},
    {"log": log(["10.96.0.7"], 200, 403), "policy": {"name": "x", "allowed_domains": ["a b"]}},
    {"log": log(["10.96.0.7"], 0, 0), "diagnose": True, "proxy_url": "http://proxy.intra.local:3128"},
], ids=["agrees", "alias-unresolved", "denied-got-200", "bad-log", "no-policy", "bad-policy", "diagnose"])
def test_same_result_as_the_module(run_action, run_module, overrides):
    text = overrides.pop("log")
    by_action = run_action(action, task_args(text, **overrides))
    by_module = run_module(module, args(text, **overrides))
    assert {key: by_action.get(key) for key in KEYS} == {key: by_module.get(key) for key in KEYS}


def test_arguments_are_checked_against_the_modules_spec(run_action):
    with pytest.raises(AnsibleActionFail, match="diagnose"):
        run_action(action, task_args(log([], 200, 403), diagnose="perhaps"))


@pytest.mark.parametrize("transport, hosts_file, here", [
    ("local", None, True), ("local", "/run/hosts", True), ("ssh", None, True), ("ssh", "/run/hosts", False),
])
def test_a_hosts_file_on_another_host_is_read_there_by_the_module(action_of, transport, hosts_file, here):
    plugin = action_of(action, task_args(log([], 200, 403), hosts_file=hosts_file), transport=transport)
    assert plugin.runs_here({"hosts_file": hosts_file}) is here


def test_a_bad_policy_fails_naming_the_field(run_action):
    result = run_action(action, task_args(log(["10.96.0.7"], 200, 403), policy={"name": "x", "allowed_domains": ["a b"]}))
    assert result["failed"] and result["msg"].startswith("Invalid egress policy:") and result["field"].startswith("policy")
