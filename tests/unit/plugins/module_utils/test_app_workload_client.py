# -*- coding: utf-8 -*-
"""Which connection the app_workload modules' client takes: kubeconfig first, then an API server address and a bearer
token (AWX's Kubernetes credential, through the K8S_AUTH_* variables), then KUBECONFIG, then in-cluster."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client as client
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_http import (  # noqa: F401 pylint: disable=unused-import
    ApiServer, api_server)

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
    names = {name: spec["fallback"][1] for name, spec in client.AUTH_ARGUMENT_SPEC.items() if "fallback" in spec}
    # kubernetes.core (module_utils/k8s/client.py _create_auth_spec): K8S_AUTH_<option>, then K8S_AUTH_<client name>
    client_names = {"validate_certs": "verify_ssl", "ca_cert": "ssl_ca_cert", "client_cert": "cert_file",
                    "client_key": "key_file"}
    assert names == {name: [f"K8S_AUTH_{item.upper()}" for item in dict.fromkeys([name, client_names.get(name, name)])]
                     for name in client.AUTH_ARGUMENT_SPEC if name != "proxy_headers"}
    assert all(spec["fallback"][0] is env_fallback for spec in client.AUTH_ARGUMENT_SPEC.values() if "fallback" in spec)
    assert client.AUTH_ARGUMENT_SPEC["api_key"]["no_log"] is True


def test_kubernetes_cores_variables_fill_the_options_as_ansible_validates_them(monkeypatch):
    for name, value in {"K8S_AUTH_CERT_FILE": "/runner/client.crt", "K8S_AUTH_KEY_FILE": "/runner/client.key",
                        "K8S_AUTH_CA_CERT": "/runner/ca.crt", "K8S_AUTH_SSL_CA_CERT": "/elsewhere/ca.crt",
                        "K8S_AUTH_VALIDATE_CERTS": "false", "K8S_AUTH_IMPERSONATE_GROUPS": "ops,audit",
                        "K8S_AUTH_PROXY": "http://127.0.0.1:3128"}.items():
        monkeypatch.setenv(name, value)
    validated = ArgumentSpecValidator(client.AUTH_ARGUMENT_SPEC).validate({}).validated_parameters
    names = ("client_cert", "client_key", "ca_cert", "validate_certs", "impersonate_groups", "proxy")
    assert {name: validated[name] for name in names} == {
        "client_cert": "/runner/client.crt", "client_key": "/runner/client.key", "ca_cert": "/runner/ca.crt",
        "validate_certs": False, "impersonate_groups": ["ops", "audit"], "proxy": "http://127.0.0.1:3128"}


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


def kubeconfig_file(tmp_path, user: dict, server: str = "https://127.0.0.1:6443") -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": server}}], "users": [{"name": "lab", "user": user}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab"}}]}), encoding="utf-8")
    return str(path)


def exec_plugin(folder, token: str) -> dict:
    path = folder / "credential-plugin"
    answer = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                         "status": {"token": token}})
    path.write_text(f"#!/bin/sh\nprintf '%s' '{answer}'\n", encoding="utf-8")
    path.chmod(0o700)
    return {"command": str(path), "apiVersion": "client.authentication.k8s.io/v1"}


@pytest.mark.parametrize("source", ["api_key", "kubeconfig-token", "token-file", "exec-plugin"])
def test_the_module_sends_every_token_stripped(monkeypatch, tmp_path, source):
    """Review 10, finding 2 on the module's path: a token ending in a newline is sent without it (the kubernetes
    client would put it in the header, and http.client's refusal shows the header)."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    token = f"{source}-token\n"
    (tmp_path / "token").write_text(token, encoding="utf-8")
    user = {"kubeconfig-token": {"token": token}, "token-file": {"tokenFile": str(tmp_path / "token")},
            "exec-plugin": {"exec": exec_plugin(tmp_path, token) if source == "exec-plugin" else None}}.get(source)
    given = {"host": HOST, "api_key": token} if source == "api_key" else {"kubeconfig": kubeconfig_file(tmp_path, user)}
    configuration = client.api_client(params(**given)).configuration
    assert configuration.get_api_key_with_prefix("BearerToken") == f"Bearer {source}-token"
    assert configuration.get_api_key_with_prefix("BearerToken") == f"Bearer {source}-token"  # after the refresh hook


@pytest.mark.parametrize("source", ["api_key", "kubeconfig-token", "exec-plugin"])
def test_the_module_refuses_a_token_with_a_line_break_inside_without_showing_it(monkeypatch, tmp_path, source):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    token = "first-half\nsecond-half"
    user = {"token": token} if source == "kubeconfig-token" else {"exec": exec_plugin(tmp_path, token)}
    given = {"host": HOST, "api_key": token} if source == "api_key" else {"kubeconfig": kubeconfig_file(tmp_path, user)}
    with pytest.raises(client.ConnectionOptionError, match="the bearer token contains a line break") as raised:
        client.api_client(params(**given))
    assert "half" not in str(raised.value)


@pytest.mark.parametrize("given", [{"host": HOST, "api_key": "t"}, {"kubeconfig": "kubeconfig"}], ids=["host", "kubeconfig"])
def test_kubernetes_cores_connection_options_reach_the_configuration(tmp_path, given):
    """Review 10, finding 6: what k8s_http leaves to this client, it honours as kubernetes.core's client does."""
    if given.get("kubeconfig"):
        given = {"kubeconfig": kubeconfig_file(tmp_path, {"token": "t"})}
    made = client.api_client(params(**given, proxy="http://bastion:8888", no_proxy="10.1.0.0/16",
                                    proxy_headers={"proxy_basic_auth": "u:p", "user_agent": "aibang"},
                                    client_cert="/pki/admin.pem", client_key="/pki/admin-key.pem",
                                    impersonate_user="deployer", impersonate_groups=["deployers"]))
    configuration = made.configuration
    assert (configuration.proxy, configuration.no_proxy) == ("http://bastion:8888", "10.1.0.0/16")
    assert configuration.proxy_headers == {"proxy-authorization": "Basic dTpw", "user-agent": "aibang"}
    assert (configuration.cert_file, configuration.key_file) == ("/pki/admin.pem", "/pki/admin-key.pem")
    assert type(made.rest_client.pool_manager).__name__ == "ProxyManager"
    assert made.default_headers["Impersonate-User"] == "deployer"
    assert made.default_headers["Impersonate-Group"] == "deployers"
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer t"


def test_basic_authentication_replaces_the_token():
    configuration = client.api_client(params(host=HOST, username="admin", password="pw")).configuration
    assert configuration.get_api_key_with_prefix("BearerToken") == "Basic YWRtaW46cHc="


@pytest.mark.parametrize("given, named", [
    ({"username": "admin"}, "password"), ({"password": "pw"}, "username"),
    ({"impersonate_groups": ["a", "b"]}, "impersonate_groups"),
], ids=["username-alone", "password-alone", "two-groups"])
def test_what_the_client_cannot_honour_is_refused_naming_the_option(given, named):
    with pytest.raises(client.ConnectionOptionError, match=f"^{named}: "):
        client.api_client(params(host=HOST, **given))


def test_requests_go_through_the_proxy(api_server):
    """Through a loopback HTTP server acting as the proxy: the API server's address is never dialled."""
    made = client.api_client(params(host="http://10.255.255.1:6443", api_key="t\n", proxy=api_server))
    request = client.requester(made)
    assert request("GET", "/version", {}, None, None)[0] == 200
    assert ApiServer.seen[0][1] == "http://10.255.255.1:6443/version" and ApiServer.seen[0][2] == "Bearer t"


def test_the_in_cluster_token_is_sent_stripped(monkeypatch, tmp_path):
    from kubernetes.config import incluster_config  # pylint: disable=import-outside-toplevel

    (tmp_path / "token").write_text("service-account-token\n", encoding="utf-8")
    (tmp_path / "ca.crt").write_text("CA", encoding="utf-8")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tmp_path / "ca.crt"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    configuration = client.api_client(params()).configuration
    assert configuration.host == "https://10.0.0.1:443"
    assert configuration.get_api_key_with_prefix("BearerToken") == "bearer service-account-token"  # the loader writes it so
