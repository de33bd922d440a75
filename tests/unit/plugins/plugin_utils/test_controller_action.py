# -*- coding: utf-8 -*-
"""The Kubernetes and Google Cloud modules' action plugins return what their modules return (check mode, diff,
changed, warnings, failures, invocation, no_log values masked) without a module process, and leave to the module what
the controller cannot stand for: another host, become, async, arguments the module refuses, a task environment (for
Kubernetes), no google-auth in the controller (for Google Cloud)."""
from __future__ import annotations

import ast
import importlib
import json
import os
import pathlib

import pytest
import yaml

from ansible.template import trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client, gcp_client
from ansible_collections.aibang.gke_platform.plugins.plugin_utils import controller_action
from ansible_collections.aibang.gke_platform.tests.unit.fake_gcp import FakeGcp, FakeResponse
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload_apply import (
    FakeApiServer, deploy, rendered)
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_job import JOB_PATH, JobServer, spec
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_objects import (
    BY_LABEL, STORE, ApiServer)

ROOT = pathlib.Path(__file__).parents[4]
GROUPS = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"]
TOKEN = "t0k3n-unit"
AUTH = {"project": "consumer", "auth_kind": "accesstoken", "access_token": TOKEN}
MEMBER = "serviceAccount:gke-nodes@consumer.iam.gserviceaccount.com"
RULE = {"name": "squid-from-pods", "network": "vpc", "allowed": [{"ip_protocol": "tcp", "ports": ["3128"]}],
        "source_ranges": ["10.0.0.0/8"]}
MASKED = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def as_shown(result: dict) -> dict:
    """A module's result with its warnings as the task shows them (a module process sends each as a summary of an
    event, an action plugin as the text: both are displayed as the text)."""
    warnings = [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]
    return dict(result, **({"warnings": warnings} if warnings else {}))


def plugin_of(name: str):
    return importlib.import_module(f"ansible_collections.aibang.gke_platform.plugins.action.{name}")


def module_of(name: str):
    return importlib.import_module(f"ansible_collections.aibang.gke_platform.plugins.modules.{name}")


def group(name: str) -> list:
    return sorted(entry for entry in GROUPS[name] if isinstance(entry, str))


@pytest.mark.parametrize("name", group("gcp"))
def test_every_google_cloud_module_has_an_action_plugin_calling_what_its_main_calls(name):
    """main() is ``run(gcp_module(ARGUMENT_SPEC[, **CONSTRAINTS]), ACTION)``; the plugin has the same three."""
    module, plugin = module_of(name), plugin_of(name).ActionModule
    main = next(node for node in ast.parse(pathlib.Path(module.__file__).read_text(encoding="utf-8")).body
                if isinstance(node, ast.FunctionDef) and node.name == "main")
    call = main.body[0].value
    assert ast.unparse(call.args[0]) in ("gcp_module(ARGUMENT_SPEC)", "gcp_module(ARGUMENT_SPEC, **CONSTRAINTS)")
    assert issubclass(plugin, controller_action.GcpAction) and plugin.MODULE is module
    assert plugin.ACTION is getattr(module, call.args[1].id)


@pytest.mark.parametrize("name", group("k8s"))
def test_every_kubernetes_module_has_an_action_plugin_running_its_run_module(name):
    module, plugin = module_of(name), plugin_of(name).ActionModule
    assert issubclass(plugin, controller_action.KubernetesAction) and plugin.MODULE is module
    assert "k8s_module.main(ARGUMENT_SPEC, run_module)" in pathlib.Path(module.__file__).read_text(encoding="utf-8")


# --- Google Cloud: the same fake Google twice, one for the module, one for the action plugin

def seed(fake: FakeGcp) -> None:
    fake.network("consumer")
    fake.service_account("consumer", "gke-nodes")
    fake.forget_calls()


GCP_CASES = {
    "gcp_iam_member": {"roles": ["roles/logging.logWriter", "roles/monitoring.viewer"], "members": [MEMBER]},
    "gcp_firewall_rules": {"rules": [RULE]},
    "gcp_dns_zones": {"zones": [{"name": "intra", "dns_name": "intra.example.", "networks": ["vpc"]}]},
    "gcp_resources_info": {"networks": ["vpc", "missing"], "service_accounts": ["gke-nodes"]},
    "psc_endpoint_info": {"name": "psc-orders", "region": "europe-west2"},
    "gcp_networks": {"region": "europe-west2", "networks": [{"name": "vpc"}],
                     "subnetworks": [{"name": "nodes", "network": "vpc", "ip_cidr_range": "10.10.0.0/22",
                                      "private_ip_google_access": True}]},
    "gcp_service_accounts": {"accounts": [{"name": "gke-nodes", "display_name": "GKE nodes"}, {"name": "app-runtime"}]},
    "cloudsql_psc": {"name": "orders", "region": "europe-west2"},  # check mode only below (a create waits for Cloud SQL)
}


@pytest.fixture
def by_action(monkeypatch):
    """A second fake Google for the action plugins: gcp_client's session and client there."""
    fake = FakeGcp()
    seed(fake)
    monkeypatch.setattr(gcp_client, "GcpClient", lambda session: fake.client)
    monkeypatch.setattr(gcp_client, "authorized_session", lambda settings: fake.session)
    return fake


def action_run(action_of, name: str, args: dict, check_mode: bool, **task) -> dict:
    plugin = action_of(plugin_of(name), args, check_mode=check_mode, **task)
    plugin._task.diff = True
    return plugin.run(task_vars={})


@pytest.mark.parametrize("name", sorted(GCP_CASES))
def test_a_google_cloud_action_returns_what_its_module_returns_check_mode_then_twice(
        action_of, run_module, gcp_modules, by_action, name):
    seed(gcp_modules)
    args = dict(AUTH, **GCP_CASES[name])
    for check_mode in ([True] if name == "cloudsql_psc" else [True, False, False]):
        want = as_shown(run_module(module_of(name), dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)))
        got = action_run(action_of, name, args, check_mode)
        assert got == want
        assert by_action.mutations() == gcp_modules.mutations()
        assert TOKEN not in json.dumps(got) and got["invocation"]["module_args"]["access_token"] == MASKED
    assert "warnings" not in got
    if name in ("gcp_iam_member", "gcp_firewall_rules", "gcp_dns_zones", "gcp_service_accounts", "gcp_networks"):
        assert by_action.mutations() and by_action.mutations() == gcp_modules.mutations()


def test_an_option_named_like_a_password_without_no_log_warns_as_the_module_does(
        action_of, run_module, gcp_modules, by_action, monkeypatch):
    spec = module_of("cloudsql_psc").ARGUMENT_SPEC
    monkeypatch.setitem(spec, "update_password", {key: value for key, value in spec["update_password"].items()
                                                  if key != "no_log"})
    args = dict(AUTH, **GCP_CASES["cloudsql_psc"])
    want = as_shown(run_module(module_of("cloudsql_psc"), dict(args, _ansible_check_mode=True, _ansible_diff=True)))
    got = action_run(action_of, "cloudsql_psc", args, True)
    assert got == want and got["warnings"] == ["Module did not set no_log for update_password"]


def test_check_mode_changes_nothing(action_of, by_action):
    planned = action_run(action_of, "gcp_firewall_rules", dict(AUTH, rules=[RULE]), check_mode=True)
    assert planned["changed"] is True and "squid-from-pods" in planned["diff"]["after"]
    assert by_action.mutations() == []


def test_a_failure_is_the_module_s_and_never_shows_the_token(action_of, run_module, gcp_modules, by_action):
    """Google (or a proxy) quoting the token back: the message is masked as the module masks it, status and reason
    kept."""
    answer = {"error": {"code": 403, "message": f"token {TOKEN} may not read networks", "status": "PERMISSION_DENIED"}}
    for fake in (gcp_modules, by_action):
        fake.session.scripted.append(FakeResponse(403, answer))
    args = dict(AUTH, networks=["vpc"])
    got, want = action_run(action_of, "gcp_resources_info", args, False), run_module(module_of("gcp_resources_info"), args)
    assert got == want and got["failed"] is True and got["status"] == 403
    assert TOKEN not in json.dumps(got) and "token ******** may not read networks" in got["msg"]


def test_a_token_from_the_environment_is_masked_too(action_of, by_action, monkeypatch):
    """GCP_ACCESS_TOKEN is no option (the module never masks it); the controller masks every credential it used."""
    monkeypatch.setenv("GCP_ACCESS_TOKEN", "env-t0k3n")
    answer = {"error": {"code": 403, "message": "token env-t0k3n refused", "status": "PERMISSION_DENIED"}}
    by_action.session.scripted.append(FakeResponse(403, answer))
    got = action_run(action_of, "gcp_resources_info", {"project": "consumer", "auth_kind": "accesstoken",
                                                       "networks": ["vpc"]}, False)
    assert got["failed"] and "env-t0k3n" not in json.dumps(got)


def test_no_project_fails_as_the_module_does(action_of, run_module, gcp_modules, by_action, monkeypatch):
    monkeypatch.delenv("GCP_PROJECT", raising=False)
    args = {"auth_kind": "accesstoken", "access_token": TOKEN, "networks": ["vpc"]}
    got, want = action_run(action_of, "gcp_resources_info", args, False), run_module(module_of("gcp_resources_info"), args)
    assert got == want and got["msg"] == "project is required: set the project option or GCP_PROJECT"


def test_the_task_environment_reaches_the_client_in_the_worker(action_of, by_action, monkeypatch):
    """The lab's gcp_api_environment (proxy, CA bundle) and GCP_* credentials, as a module process would have them."""
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the worker's own environ: restored after the test
    seen = {}
    monkeypatch.setattr(gcp_client, "authorized_session",
                        lambda settings: seen.update(settings, proxy=os.environ.get("HTTPS_PROXY")) or by_action.session)
    environment = [{"HTTPS_PROXY": "http://127.0.0.1:3129", "GCP_PROJECT": "consumer"},
                   {"GCP_ACCESS_TOKEN": trust_as_template("{{ 'tok' }}")}]  # templated, as a playbook's is
    got = action_run(action_of, "gcp_resources_info", {"auth_kind": "accesstoken", "networks": ["vpc"]}, False,
                     environment=environment)
    assert not got.get("failed") and list(got["networks"]) == ["vpc"]
    assert seen["proxy"] == "http://127.0.0.1:3129" and seen["project"] == "consumer" and seen["access_token"] == "tok"


@pytest.mark.parametrize("case", ["another-host", "become", "async", "bad-arguments", "no-google-auth"])
def test_the_module_runs_where_the_controller_should_not(action_of, by_action, monkeypatch, case):
    args = dict(AUTH, networks=["vpc"], **({"regions": "x"} if case == "bad-arguments" else {}))
    plugin = action_of(plugin_of("gcp_resources_info"), args, transport="ssh" if case == "another-host" else "local")
    plugin._play_context.become = case == "become"
    plugin._task.async_val = 30 if case == "async" else 0
    monkeypatch.setattr(gcp_client, "HAS_GOOGLE_AUTH", case != "no-google-auth")
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: ran.append(wrap_async) or {"changed": False})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={}) == {"changed": False} and ran == [case == "async"]
    assert by_action.session.calls == []


# --- Kubernetes: the module over the kubernetes client (patched to a fake), the plugin over k8s_http (the same fake)

@pytest.fixture
def api(monkeypatch):
    """Point both paths at one fake API server (``api.server = ...``); the plugin's requester records its closing."""
    state = {"server": None, "closed": 0}

    def requester(found):
        request = state["server"]
        request.close = lambda: state.update(closed=state["closed"] + 1)
        request.secrets = set()
        return request

    monkeypatch.setattr(controller_action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})
    monkeypatch.setattr(controller_action.k8s_http, "requester", requester)
    monkeypatch.setattr(app_workload_client, "api_client", lambda params: None)
    monkeypatch.setattr(app_workload_client, "requester", lambda client: state["server"])
    return state


QUERIES = [{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress"], "label_selectors": BY_LABEL},
           {"api_version": "v1", "kind": "Secret", "namespaces": ["egress"], "name": "creds"}]


@pytest.mark.parametrize("check_mode", [False, True])
def test_k8s_objects_info_reads_as_the_module_does(action_of, run_module, api, check_mode):
    api["server"] = ApiServer(STORE)
    want = run_module(module_of("k8s_objects_info"), {"queries": QUERIES, "_ansible_check_mode": check_mode})
    got = action_run(action_of, "k8s_objects_info", {"queries": QUERIES}, check_mode)
    assert got == want and got["changed"] is False and api["closed"] == 1


def test_a_bad_query_fails_as_the_module_does_before_connecting(action_of, run_module, api):
    api["server"] = ApiServer(STORE)
    args = {"queries": [{"api_version": "v1", "kind": "ConfigMap", "namespaces": "kube-system"}]}
    want, got = run_module(module_of("k8s_objects_info"), args), action_run(action_of, "k8s_objects_info", args, False)
    assert got == want and got["failed"] and api["server"].calls == [] and api["closed"] == 0


def test_app_workload_info_names_the_layers_as_the_module_does(action_of, run_module, api):
    api["server"] = FakeApiServer()
    result = rendered()
    deploy(api["server"], result)
    args = {"apps": result["apps"][:1], "api_key": "s3cret"}
    want, got = run_module(module_of("app_workload_info"), args), action_run(action_of, "app_workload_info", args, False)
    assert got == want and [layer["layer"] for layer in got["layers"]][0] == "pod"
    assert got["invocation"]["module_args"]["api_key"] == MASKED


def test_k8s_job_run_in_check_mode_connects_to_nothing(action_of, run_module, monkeypatch):
    def no_connection(*_args):
        raise AssertionError("check mode connected")

    monkeypatch.setattr(controller_action.k8s_http, "settings", lambda params: {"server": "https://127.0.0.1:1"})
    monkeypatch.setattr(controller_action.k8s_http, "requester", no_connection)
    monkeypatch.setattr(app_workload_client, "HAS_KUBERNETES", False)  # the module needs no kubernetes package then
    args = {"objects": spec()}
    want = run_module(module_of("k8s_job_run"), dict(args, _ansible_check_mode=True))
    got = action_run(action_of, "k8s_job_run", args, True)
    assert got == want and got["changed"] is True and got["outcome"] == "not run"


def test_k8s_job_run_runs_the_job_as_the_module_does(action_of, run_module, api):
    outcomes = []
    for runner in ("module", "action"):
        api["server"] = JobServer({"succeeded": 1}, polls=1)
        outcomes.append(run_module(module_of("k8s_job_run"), {"objects": spec(), "timeout": 30}) if runner == "module"
                        else action_run(action_of, "k8s_job_run", {"objects": spec(), "timeout": 30}, False))
        assert JOB_PATH not in api["server"].store
    assert outcomes[0] == outcomes[1] and outcomes[1]["outcome"] == "succeeded"


def test_an_unreachable_api_server_fails_naming_it_without_the_token(action_of, monkeypatch):
    monkeypatch.setattr(controller_action.k8s_http, "settings",
                        lambda params: {"server": "https://10.0.0.1:6443", "token": "s3cret-t0ken"})

    def refused(found):
        raise ConnectionRefusedError(111, f"Connection refused (Bearer {found['token']})")

    monkeypatch.setattr(controller_action.k8s_http, "requester", refused)
    got = action_run(action_of, "k8s_objects_info", {"queries": QUERIES}, False)
    assert got["failed"] and got["msg"].startswith("Failed to reach the API server https://10.0.0.1:6443: ")
    assert "s3cret-t0ken" not in json.dumps(got) and "invocation" in got


@pytest.mark.parametrize("case", ["task-environment", "become", "alias-and-option", "kubeconfig-not-covered"])
def test_a_kubernetes_task_the_controller_should_not_run_runs_the_module(action_of, monkeypatch, case):
    args = {"queries": QUERIES, **({"ca_cert": "/a.pem", "ssl_ca_cert": "/b.pem"} if case == "alias-and-option" else {})}
    monkeypatch.setattr(controller_action.k8s_http, "settings",
                        lambda params: None if case == "kubeconfig-not-covered" else {"server": "https://127.0.0.1:1"})
    plugin = action_of(plugin_of("k8s_objects_info"), args,
                       environment=[{"KUBECONFIG": "/elsewhere"}] if case == "task-environment" else None)
    plugin._play_context.become = case == "become"
    ran = []
    monkeypatch.setattr(plugin, "_execute_module", lambda task_vars, wrap_async: ran.append(True) or {"changed": False})
    monkeypatch.setattr(plugin, "_remove_tmp_path", lambda path: None)
    assert plugin.run(task_vars={}) == {"changed": False} and ran == [True]
