# -*- coding: utf-8 -*-
"""The action plugin (run in the controller) returns what the module returns, without a module process."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.aibang.gke_platform.plugins.action import app_workload_render as action
from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_render as module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT
from ansible_collections.aibang.gke_platform.tests.unit.plugins.modules.test_app_workload_render import ENVIRONMENT

KEYS = ("failed", "msg", "changed", "namespaces", "namespace_objects", "apps", "readiness", "files", "secrets_out_of_band")
WEB = {"name": "web", "image": "web:1", "redis": True}


@pytest.mark.parametrize("args", [
    {"apps": [WEB], "environment": ENVIRONMENT, "context": CONTEXT},
    {"apps": [WEB], "environment": {"name": "dev", "namespace": "aibang-dev"}, "context": CONTEXT, "secrets_from_vault": False},
    {"apps": [WEB], "environment": ENVIRONMENT, "context": CONTEXT, "output": "kustomize",
     "repository": {"name": "apps", "url": "https://git.example/apps.git"}},
    {"apps": [{"name": "web", "image": "w:1", "size": "XXL"}], "environment": ENVIRONMENT, "context": CONTEXT},
    {"apps": [], "environment": ENVIRONMENT, "context": CONTEXT},
], ids=["prod", "dev-no-vault", "kustomize", "bad-size", "no-apps"])
def test_same_result_as_the_module(run_action, run_module, args):
    by_action = run_action(action, args)
    by_module = run_module(module, args)
    assert {key: by_action.get(key) for key in KEYS} == {key: by_module.get(key) for key in KEYS}


def test_bad_input_fails_naming_the_app_and_the_field(run_action):
    result = run_action(action, {"apps": [{"name": "Web", "image": "w:1"}], "environment": ENVIRONMENT, "context": CONTEXT})
    assert result["failed"] and result["msg"].startswith("Invalid apps:") and "app name" in result["msg"]


def test_arguments_are_checked_against_the_modules_spec(run_action):
    with pytest.raises(AnsibleActionFail, match="output"):
        run_action(action, {"apps": [WEB], "environment": ENVIRONMENT, "context": CONTEXT, "output": "helm"})
