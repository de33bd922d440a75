# -*- coding: utf-8 -*-
"""The module end to end against the Job server: the Job it creates is a change (check mode: it would be) and check
mode sends nothing, a bad input fails naming the field."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client
from ansible_collections.aibang.gke_platform.plugins.modules import k8s_job_run
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_job import JOB_PATH, JobServer, spec


@pytest.fixture
def server(monkeypatch):
    fake = JobServer({"succeeded": 1}, polls=1)
    monkeypatch.setattr(app_workload_client, "api_client", lambda params: None)
    monkeypatch.setattr(app_workload_client, "requester", lambda client: fake)
    return fake


def test_runs_the_job_once_and_reports_the_job_it_created(run_module, server):
    result = run_module(k8s_job_run, {"objects": spec(), "timeout": 30})
    assert result["changed"] and result["outcome"] == "succeeded" and result["log"].startswith("dns a.example")
    assert JOB_PATH not in server.store


def test_check_mode_sends_nothing_and_reports_the_job_it_would_create(run_module, server):
    result = run_module(k8s_job_run, {"objects": spec(), "_ansible_check_mode": True})
    assert result["changed"] and result["outcome"] == "not run" and server.calls == []


@pytest.mark.parametrize("args, message", [
    ({"objects": []}, "objects: 0 Jobs among 0 objects"),
    ({"timeout": 0}, "timeout: 0 is not a number of seconds >= 1"),
])
def test_bad_input_fails_naming_the_field(run_module, server, args, message):
    result = run_module(k8s_job_run, {"objects": spec(), **args})
    assert result["failed"] and result["msg"].startswith(message) and server.calls == []
