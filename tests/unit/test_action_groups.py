# -*- coding: utf-8 -*-
"""meta/runtime.yml's action groups hold every module of their kind, so one module_defaults entry reaches them all:
a module missing from the k8s group would run without the play's kubeconfig (and fall back to in-cluster config)."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = pathlib.Path(__file__).parents[2]
GROUPS = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"]


def modules_whose_source_says(pattern: str) -> set:
    return {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")
            if re.search(pattern, path.read_text(encoding="utf-8"))}


def members(group: str) -> set:
    return {entry for entry in GROUPS[group] if isinstance(entry, str)}


def test_the_k8s_group_holds_every_module_that_talks_to_kubernetes_and_extends_kubernetes_cores():
    kubernetes = modules_whose_source_says(r"AUTH_ARGUMENT_SPEC|app_workload_stage import ARGUMENT_SPEC")
    assert kubernetes and members("k8s") == kubernetes
    assert {"metadata": {"extend_group": ["kubernetes.core.k8s"]}} in GROUPS["k8s"]


def test_the_gcp_group_holds_every_module_that_talks_to_google_cloud():
    google = modules_whose_source_says(r"extends_documentation_fragment:\n  - aibang\.gke_platform\.gcp\b")
    assert google and members("gcp") == google


# kubernetes.core's connection options (its module_utils/args_common.py AUTH_ARG_SPEC) that this collection's modules
# did not accept, and its aliases: group/aibang.gke_platform.k8s extends kubernetes.core.k8s, so a k8s_auth carrying
# any of them reaches this collection's modules too
KUBERNETES_CORE_OPTIONS = {
    "proxy": "http://bastion:8888", "no_proxy": "10.0.0.1", "proxy_headers": {"proxy_basic_auth": "u:p"},
    "client_cert": "/pki/admin.pem", "client_key": "/pki/admin-key.pem", "username": "admin", "password": "pw",
    "impersonate_user": "deployer", "impersonate_groups": ["deployers"], "persist_config": False,
    "verify_ssl": False, "ssl_ca_cert": "/pki/ca.pem", "cert_file": "/pki/admin.pem", "key_file": "/pki/admin-key.pem",
}


def argument_spec_of(name: str) -> dict:
    """The argument_spec a module's main() gives AnsibleModule: its module-level ARGUMENT_SPEC."""
    return importlib.import_module(f"ansible_collections.aibang.gke_platform.plugins.modules.{name}").ARGUMENT_SPEC


@pytest.mark.parametrize("option", sorted(KUBERNETES_CORE_OPTIONS))
def test_every_module_of_the_k8s_group_accepts_kubernetes_cores_connection_options(option):
    """Review 10, finding 6: a kubernetes.core-only option in module_defaults made these modules fail with
    "Unsupported parameters"."""
    for name in sorted(members("k8s")):
        validated = ArgumentSpecValidator(argument_spec_of(name)).validate(
            {option: KUBERNETES_CORE_OPTIONS[option]})
        assert not [error for error in validated.error_messages if "required" not in error], (name, option)


def test_the_secret_options_are_no_log_as_kubernetes_core_has_them():
    for name in sorted(members("k8s")):
        spec = argument_spec_of(name)
        assert spec["password"]["no_log"] and spec["api_key"]["no_log"]
        assert all(spec["proxy_headers"]["options"][key]["no_log"] for key in ("proxy_basic_auth", "basic_auth"))
        validated = ArgumentSpecValidator(spec).validate({"password": "pw-value", "proxy_headers": {
            "proxy_basic_auth": "user:proxy-pw"}})
        assert {"pw-value", "user:proxy-pw"} <= validated._no_log_values


REQUIRED = {"app_workload_apply": {"objects": []}, "app_workload_info": {"apps": []}, "k8s_objects_info": {"queries": []},
            "k8s_job_run": {"objects": [{"kind": "Job", "metadata": {"name": "j", "namespace": "n"}}]}}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_an_option_the_modules_cannot_honour_fails_naming_it(run_module, name):
    module = importlib.import_module(f"ansible_collections.aibang.gke_platform.plugins.modules.{name}")
    result = run_module(module, {**REQUIRED[name], "host": "https://127.0.0.1:1", "username": "admin"})
    assert result["failed"] and result["msg"] == "password: basic authentication needs both username and password"
