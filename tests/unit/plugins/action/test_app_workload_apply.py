# -*- coding: utf-8 -*-
"""The action plugin (run in the controller, over the standard library's HTTP) returns what the module returns, and
leaves to the module what it does not cover: another host, a task environment, a kubeconfig it cannot read."""
from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from ansible_collections.aibang.gke_platform.plugins.action import app_workload_apply as action
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client
from ansible_collections.aibang.gke_platform.plugins.plugin_utils import controller_action
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
    monkeypatch.setattr(controller_action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})
    monkeypatch.setattr(controller_action.k8s_http, "requester", lambda found: by_action)
    monkeypatch.setattr(app_workload_client, "api_client", lambda params: None)
    monkeypatch.setattr(app_workload_client, "requester", lambda client: by_module)
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

    monkeypatch.setattr(controller_action.k8s_http, "settings", settings)
    plugin = action_of(action, stage_args(APPS), transport=transport)
    plugin._play_context.become = become
    plugin._task.environment = environment
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: ran.append(True) or {"changed": False})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={})["changed"] is False and ran == [True]


def test_bad_arguments_run_the_module_which_fails_naming_the_option(action_of, monkeypatch):
    plugin = action_of(action, {"objects": [], "wait_timeout": "soon"})
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: ran.append(True) or {"failed": True})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={})["failed"] and ran == [True]


def test_an_unreachable_api_server_fails_with_the_reason(action_of, monkeypatch):
    monkeypatch.setattr(controller_action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})

    def refused(found):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(controller_action.k8s_http, "requester", refused)
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


class EchoingApiServer(ApiServer):
    """Refuses every token, and says which in its answer (as some proxies and webhooks do): only the masking keeps it
    out of the result."""

    def answer(self):
        auth = self.headers.get("Authorization") or ""
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.append((self.command, self.path, auth))
        data = json.dumps({"kind": "Status", "code": 401, "message": f"Unauthorized: {auth!r} is not valid"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_DELETE = answer


@pytest.fixture
def echoing_server():
    EchoingApiServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def exec_plugin(folder, token: str) -> str:
    path = folder / "credential-plugin"
    answer = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                         "status": {"token": token}})
    path.write_text(f"#!/bin/sh\nprintf '%s' '{answer}'\n", encoding="utf-8")
    path.chmod(0o700)
    return str(path)


@pytest.mark.parametrize("source, token", [
    ("api_key", "eyJhbGciOiJSUzI1NiJ9.api-key-token\n"),
    ("token-file", "eyJhbGciOiJSUzI1NiJ9.file-token\n"),
    ("exec-plugin", "eyJhbGciOiJSUzI1NiJ9.plugin-token\n"),
    ("api_key", "eyJhbGciOiJSUzI1NiJ9.api-key\nline-break-inside"),
    ("token-file", "eyJhbGciOiJSUzI1NiJ9.file\nline-break-inside"),
    ("exec-plugin", "eyJhbGciOiJSUzI1NiJ9.plugin\nline-break-inside"),
], ids=["api_key-newline", "token-file", "exec-plugin", "api_key-line-break", "token-file-line-break",
        "exec-plugin-line-break"])
def test_no_failure_message_or_result_holds_the_token(action_of, echoing_server, tmp_path, monkeypatch, source, token):
    """Review 10, finding 2: a token ending in a newline reached the message as http.client's repr of the header, and a
    token from a file or a plugin was never masked. Through the real client and a loopback API server."""
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    if source == "api_key":
        args = dict(stage_args(APPS), kubeconfig=None, host=echoing_server, api_key=token)
    else:
        user = {"tokenFile": "token"} if source == "token-file" else {
            "exec": {"command": exec_plugin(tmp_path, token), "apiVersion": "client.authentication.k8s.io/v1"}}
        (tmp_path / "token").write_text(token, encoding="utf-8")
        args = dict(stage_args(APPS), kubeconfig=kubeconfig(tmp_path, user, {"server": echoing_server}))
    result = action_of(action, args).run(task_vars={})
    shown = json.dumps(result)
    assert result["failed"], result
    for part in token.split("\n"):
        if part:
            assert part not in shown and part.replace("\n", "\\n") not in shown
    assert repr(token)[1:-1] not in shown
    if "line-break-inside" in token:
        assert "the bearer token contains a line break" in result["msg"] and not EchoingApiServer.seen
    else:
        assert "HTTP 401" in result["msg"] and EchoingApiServer.seen[0][2] == f"Bearer {token.strip()}"


@pytest.mark.parametrize("option, value", [("proxy", "http://bastion:8888"), ("client_cert", "/pki/admin.pem"),
                                           ("impersonate_user", "deployer")])
def test_a_kubernetes_core_option_k8s_http_does_not_implement_runs_the_module(action_of, monkeypatch, tmp_path, option,
                                                                              value):
    """Review 10, finding 6: the module's kubernetes client honours it; the controller's client would ignore it."""
    config = kubeconfig(tmp_path, {"token": "t"}, {"server": "http://127.0.0.1:1"})
    plugin = action_of(action, dict(stage_args(APPS), kubeconfig=config, **{option: value}))
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: ran.append(True) or {"changed": False})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={})["changed"] is False and ran == [True]
