# -*- coding: utf-8 -*-
"""The action plugin (run in the controller, over the standard library's HTTP) returns what the module returns, and
leaves to the module what it does not cover: another host, a task environment, a kubeconfig it cannot read."""
from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from ansible_collections.aibang.gke_platform.plugins.action import app_workload_apply as action
from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_apply as module
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import render
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload_apply import FakeApiServer
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_http import ApiServer, kubeconfig

PASSWORD = "pa55-word-from-vault"
KEYS = ("failed", "msg", "changed", "results", "pruned", "jobs", "diff", "unmet")
APPS = [{"name": "web", "image": "web:1"}, {"name": "api", "image": "api:1", "cronjob": {"schedule": "@daily"}}]


def stage_args(apps, **extra):
    rendered = render(apps, {"name": "staging", "namespace": "s"}, CONTEXT)
    return {"objects": rendered["namespace_objects"], "apps": rendered["apps"], "secrets": {"DB_PASSWORD": PASSWORD},
            "prune_selector": "app.kubernetes.io/managed-by=aibang.gke_platform", "prune_namespaces": ["s"],
            "kubeconfig": "/nonexistent/kubeconfig", **extra}


@pytest.fixture
def servers(monkeypatch):
    """Two in-memory API servers: the action plugin's and the module's."""
    by_action, by_module = FakeApiServer(), FakeApiServer()
    by_action.close = lambda: None  # k8s_http's requester closes its connections at the end
    monkeypatch.setattr(action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})
    monkeypatch.setattr(action.k8s_http, "requester", lambda found: by_action)
    monkeypatch.setattr(module, "api_client", lambda params: None)
    monkeypatch.setattr(module, "requester", lambda client: by_module)
    return by_action, by_module


def by_action(action_of, args, check_mode=False):
    plugin = action_of(action, args, check_mode=check_mode)
    plugin._task.diff = True
    return plugin.run(task_vars={})


@pytest.mark.parametrize("steps", [
    [(APPS, True), (APPS, False), (APPS, False), (APPS[:1], True), (APPS[:1], False)],
], ids=["check-apply-again-drop"])
def test_same_results_as_the_module(action_of, run_module, servers, steps):
    for apps, check in steps:
        args = stage_args(apps)
        got = by_action(action_of, args, check)
        want = run_module(module, dict(args, _ansible_check_mode=check, _ansible_diff=True))
        assert {key: got.get(key) for key in KEYS} == {key: want.get(key) for key in KEYS}
        assert servers[0].store == servers[1].store
        assert PASSWORD not in json.dumps(got) and got["invocation"]["module_args"]["secrets"] == {
            "DB_PASSWORD": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}


def test_a_failed_gate_fails_as_the_module_does(action_of, run_module, servers):
    args = stage_args(APPS[:1], wait=True, wait_timeout=0)
    got, want = by_action(action_of, args), run_module(module, dict(args, _ansible_diff=True))
    assert got["failed"] and {key: got.get(key) for key in KEYS} == {key: want.get(key) for key in KEYS}


@pytest.mark.parametrize("transport, become, environment, found", [
    ("ssh", False, [], {"server": "https://127.0.0.1:1"}),
    ("local", True, [], {"server": "https://127.0.0.1:1"}),
    ("local", False, [{"K8S_AUTH_HOST": "https://127.0.0.1:1"}], {"server": "https://127.0.0.1:1"}),
    ("local", False, [], None),
    ("local", False, [], ValueError("kubeconfig: no context named 'x'")),
], ids=["another-host", "become", "task-environment", "auth-not-covered", "kubeconfig-not-read"])
def test_the_module_runs_where_the_controller_should_not(action_of, monkeypatch, transport, become, environment, found):
    def settings(params):
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(action.k8s_http, "settings", settings)
    plugin = action_of(action, stage_args(APPS), transport=transport)
    plugin._play_context.become = become
    plugin._task.environment = environment
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars: ran.append(True) or {"changed": False})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={})["changed"] is False and ran == [True]


def test_bad_arguments_fail_naming_the_option(action_of):
    result = action_of(action, {"objects": [], "wait_timeout": "soon"}).run(task_vars={})
    assert result["failed"] and "wait_timeout" in result["msg"]


def test_an_unreachable_api_server_fails_with_the_reason(action_of, monkeypatch):
    monkeypatch.setattr(action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})

    def refused(found):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(action.k8s_http, "requester", refused)
    result = action_of(action, stage_args(APPS)).run(task_vars={})
    assert result["failed"] and "Connection refused" in result["msg"]


def test_a_refused_token_fails_with_the_server_s_reason_and_without_the_token(action_of, tmp_path):
    """Through the real client: a kubeconfig with a token the loopback API server refuses (HTTP 401)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    ApiServer.seen, ApiServer.refused = [], {"Bearer s3cret-token"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = kubeconfig(tmp_path, {"token": "s3cret-token"}, {"server": f"http://127.0.0.1:{server.server_address[1]}"})
        result = action_of(action, dict(stage_args(APPS), kubeconfig=config)).run(task_vars={})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert result["failed"] and "HTTP 401: Unauthorized" in result["msg"]
    assert "s3cret-token" not in json.dumps(result) and ApiServer.seen
