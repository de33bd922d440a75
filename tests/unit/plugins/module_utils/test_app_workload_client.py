# -*- coding: utf-8 -*-
"""Which connection the app_workload modules' client takes: kubeconfig first, then an API server address and a bearer
token (AWX's Kubernetes credential, through the K8S_AUTH_* variables), then KUBECONFIG, then in-cluster."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client as client

HOST = "https://10.0.0.2:443"


def params(**given) -> dict:
    """The module's parameters as AnsibleModule would fill them from the environment."""
    filled = {}
    for name, spec in client.AUTH_ARGUMENT_SPEC.items():
        value = given.get(name)
        if value is None and "fallback" in spec:
            try:
                value = spec["fallback"][0](*spec["fallback"][1])
            except AnsibleFallbackNotFound:
                value = None
        filled[name] = value if value is not None else spec.get("default")
    return filled


def test_the_fallbacks_are_kubernetes_cores_variables():
    names = {name: spec["fallback"][1] for name, spec in client.AUTH_ARGUMENT_SPEC.items()}
    assert names == {"kubeconfig": ["K8S_AUTH_KUBECONFIG"], "context": ["K8S_AUTH_CONTEXT"], "host": ["K8S_AUTH_HOST"],
                     "api_key": ["K8S_AUTH_API_KEY"], "ca_cert": ["K8S_AUTH_SSL_CA_CERT"],
                     "validate_certs": ["K8S_AUTH_VERIFY_SSL"]}
    assert all(spec["fallback"][0] is env_fallback for spec in client.AUTH_ARGUMENT_SPEC.values())
    assert client.AUTH_ARGUMENT_SPEC["api_key"]["no_log"] is True


def test_a_bearer_token_credential_from_the_environment_reaches_the_client(monkeypatch, tmp_path):
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("K8S_AUTH_HOST", HOST)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "token-from-awx")
    monkeypatch.setenv("K8S_AUTH_SSL_CA_CERT", "/runner/env/ca.crt")
    configuration = client.api_client(params()).configuration
    assert configuration.host == HOST
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer token-from-awx"
    assert configuration.ssl_ca_cert == "/runner/env/ca.crt" and configuration.verify_ssl is True


def test_certificates_are_checked_unless_told_not_to():
    assert client.token_configuration({"host": HOST, "api_key": "t"}).verify_ssl is True
    assert client.token_configuration({"host": HOST, "api_key": "t", "validate_certs": False}).verify_ssl is False


def test_a_kubeconfig_wins_over_a_host(monkeypatch, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters: [{name: lab, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
        "users: [{name: lab, user: {token: from-kubeconfig}}]\n"
        "contexts: [{name: lab, context: {cluster: lab, user: lab}}]\n", encoding="utf-8")
    monkeypatch.setenv("K8S_AUTH_HOST", HOST)
    configuration = client.api_client(params(kubeconfig=str(kubeconfig))).configuration
    assert configuration.host == "https://127.0.0.1:6443"
