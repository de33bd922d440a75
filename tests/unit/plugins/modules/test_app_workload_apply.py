# -*- coding: utf-8 -*-
"""The apply module end to end against the in-memory API server: check mode stores nothing, the second run reports no
change, the diff holds only changed fields, and the password appears nowhere in the output."""
from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import all_objects, render
from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_apply
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload_apply import FakeApiServer

PASSWORD = "pa55-word-from-vault"


@pytest.fixture
def server(monkeypatch):
    fake = FakeApiServer()
    monkeypatch.setattr(app_workload_client, "api_client", lambda params: None)
    monkeypatch.setattr(app_workload_client, "requester", lambda client: fake)
    return fake


def args(size="S", **extra):
    rendered = render([{"name": "web", "image": "web:1", "size": size}], {"name": "dev", "namespace": "d"}, CONTEXT)
    return {"objects": all_objects(rendered), "secrets": {"DB_PASSWORD": PASSWORD}, "_ansible_diff": True,
            "prune_selector": "app.kubernetes.io/managed-by=aibang.gke_platform,aibang.io/app=web",
            "prune_namespaces": ["d"], **extra}


def test_check_then_apply_then_nothing_to_do(run_module, server):
    checked = run_module(app_workload_apply, args(_ansible_check_mode=True))
    assert checked["changed"] and server.store == {}
    applied = run_module(app_workload_apply, args())
    assert applied["changed"] and len(server.store) == len(args()["objects"])
    again = run_module(app_workload_apply, args())
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    resized = run_module(app_workload_apply, args(size="M", _ansible_check_mode=True))
    assert list(resized["diff"]["after"]) == ["Deployment d/web"]
    for output in (checked, applied, again, resized):
        assert PASSWORD not in json.dumps(output)
        assert base64.b64encode(PASSWORD.encode()).decode() not in json.dumps(output)


def stage_args(apps, **extra):
    rendered = render(apps, {"name": "staging", "namespace": "s"}, CONTEXT)
    return {"objects": rendered["namespace_objects"], "apps": rendered["apps"], "secrets": {"DB_PASSWORD": PASSWORD},
            "prune_selector": "app.kubernetes.io/managed-by=aibang.gke_platform", "prune_namespaces": ["s"],
            "_ansible_diff": True, **extra}


def test_the_whole_stage_in_one_call(run_module, server):
    apps = [{"name": "web", "image": "web:1"}, {"name": "api", "image": "api:1"}]
    checked = run_module(app_workload_apply, stage_args(apps, _ansible_check_mode=True))
    assert checked["changed"] and server.store == {}
    applied = run_module(app_workload_apply, stage_args(apps))
    assert applied["changed"] and len(server.store) == len(applied["results"])
    again = run_module(app_workload_apply, stage_args(apps))
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}} and again["pruned"] == []
    dropped = run_module(app_workload_apply, stage_args(apps[:1], _ansible_check_mode=True))
    assert {item["app"] for item in dropped["pruned"]} == {"api"} and dropped["changed"]
    for output in (checked, applied, again, dropped):
        assert PASSWORD not in json.dumps(output)
        assert base64.b64encode(PASSWORD.encode()).decode() not in json.dumps(output)


def test_the_stage_waits_for_every_apps_gates_and_names_them(run_module, server):
    apps = [{"name": "web", "image": "web:1"}]
    failed = run_module(app_workload_apply, stage_args(apps, wait=True, wait_timeout=0))
    assert failed["failed"] and failed["unmet"] == [failed["unmet"][0]]
    assert failed["msg"].startswith("Gates not passed after 0 s: Deployment s/web: ")
