# -*- coding: utf-8 -*-
"""The one main() of the Kubernetes modules: the kubernetes package is needed only when the module connects, a
connection option it cannot honour fails naming it, and run_module's failures and warnings are the module's."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client, k8s_module
from ansible_collections.aibang.gke_platform.plugins.modules import k8s_job_run, k8s_objects_info
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_job import spec


def as_module(run_module):
    """A module file whose main() is k8s_module.main with this run_module."""
    return SimpleNamespace(main=lambda: k8s_module.main({"name": {"type": "str"}}, run_module))


def test_without_the_kubernetes_package_a_module_that_connects_fails_naming_it(run_module, monkeypatch):
    monkeypatch.setattr(app_workload_client, "HAS_KUBERNETES", False)
    result = run_module(k8s_objects_info, {"queries": []})
    assert result["failed"] and "kubernetes" in result["msg"] and "invocation" in result


def test_check_mode_of_k8s_job_run_needs_no_kubernetes_package(run_module, monkeypatch):
    monkeypatch.setattr(app_workload_client, "HAS_KUBERNETES", False)
    result = run_module(k8s_job_run, {"objects": spec(), "_ansible_check_mode": True})
    assert result["changed"] and result["outcome"] == "not run"


@pytest.mark.parametrize("outcome, failed", [({"changed": True, "warnings": ["w1"]}, False),
                                             ({"failed": True, "msg": "it broke", "warnings": ["w1"]}, True)])
def test_the_outcome_is_the_result_its_warnings_warned(run_module, outcome, failed):
    result = run_module(as_module(lambda params, check_mode, diff, connect: dict(outcome)), {"name": "x"})
    assert bool(result.get("failed")) is failed and result["invocation"]["module_args"] == {"name": "x"}
    assert [item["event"]["msg"] for item in result["warnings"]] == ["w1"]
    assert result.get("msg") == outcome.get("msg") and result.get("changed") == outcome.get("changed")


def test_a_connection_option_it_cannot_honour_fails_naming_it(run_module, monkeypatch):
    def refused(params):
        raise app_workload_client.ConnectionOptionError("impersonate_groups: one group at most")

    monkeypatch.setattr(app_workload_client, "api_client", refused)
    result = run_module(as_module(lambda params, check_mode, diff, connect: connect() and {}), {"name": "x"})
    assert result["failed"] and result["msg"] == "impersonate_groups: one group at most"
