# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `request` function app_workload_apply's functions take, over the kubernetes client's REST layer (no discovery:
the paths are known)."""

from __future__ import annotations

import json
import os

# AUTH_ARGUMENT_SPEC lives in k8s_auth (no kubernetes import); still importable from here for the modules that do
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_auth import AUTH_ARGUMENT_SPEC  # noqa: F401 pylint: disable=unused-import
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_http import body_of, clean_token

try:
    import urllib3
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False


class ConnectionOptionError(Exception):
    """A connection option this client cannot honour, or a bearer token it cannot send; the message names it and never
    shows a token."""


def api_client(params: dict):
    """kubeconfig and context; else host and api_key; else KUBECONFIG or ~/.kube/config; else in-cluster. Then
    kubernetes.core's other connection options (k8s_auth): client certificate, proxy, basic auth, impersonation."""
    groups = params.get("impersonate_groups") or []
    if len(groups) > 1:
        raise ConnectionOptionError("impersonate_groups: this collection's modules impersonate one group at most "
                                    f"(the kubernetes client sends one Impersonate-Group header), not {len(groups)}")
    persist = {} if params.get("persist_config") is None else {"persist_config": params["persist_config"]}
    configuration = k8s_client.Configuration()
    if params.get("kubeconfig") or params.get("context"):
        k8s_config.load_kube_config(config_file=params.get("kubeconfig"), context=params.get("context"),
                                    client_configuration=configuration, **persist)
    elif params.get("host"):
        configuration = token_configuration(params)
    elif os.path.exists(os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))):
        k8s_config.load_kube_config(client_configuration=configuration, **persist)
    else:
        k8s_config.load_incluster_config(client_configuration=configuration)
    settle(configuration, params)
    client = k8s_client.ApiClient(configuration)
    for header, value in (("Impersonate-User", params.get("impersonate_user")), ("Impersonate-Group", groups[:1])):
        if value:
            client.set_default_header(header, value[0] if isinstance(value, list) else value)
    return client


def connection_options(configuration, params: dict) -> None:
    """client_cert, client_key, proxy, no_proxy, proxy_headers, username and password onto the configuration, as
    kubernetes.core's client sets them (over what the kubeconfig says)."""
    for option, attribute in (("client_cert", "cert_file"), ("client_key", "key_file"), ("proxy", "proxy"),
                              ("no_proxy", "no_proxy")):
        if params.get(option):
            setattr(configuration, attribute, params[option])
    if params.get("proxy_headers"):
        configuration.proxy_headers = urllib3.util.make_headers(
            **{key: value for key, value in params["proxy_headers"].items() if value is not None})
    if bool(params.get("username")) != bool(params.get("password")):
        raise ConnectionOptionError(f"{'password' if params.get('username') else 'username'}: basic authentication "
                                    "needs both username and password")
    if params.get("username"):
        configuration.api_key = {"BearerToken": urllib3.util.make_headers(
            basic_auth=f"{params['username']}:{params['password']}")["authorization"]}
        configuration.api_key_prefix = {}


def settle(configuration, params: dict) -> None:
    """The connection options over what the kubeconfig says, and every bearer token stripped (k8s_http.clean_token),
    a token with a line break inside refused; again after the kubeconfig loader's refresh hook, which sets its token,
    certificate and proxy again before each request (an exec plugin's or a token file's new token)."""
    hook = configuration.refresh_api_key_hook

    def again(config):
        if hook is not None:
            hook(config)
            config.refresh_api_key_hook = again  # the loader's hook puts itself back each time
        connection_options(config, params)
        try:
            cleaned = {key: clean_token(value) for key, value in config.api_key.items()}
        except RuntimeError as exc:
            raise ConnectionOptionError(str(exc)) from None
        config.api_key = {key: value for key, value in cleaned.items() if value}

    again(configuration)
    if hook is not None:
        configuration.refresh_api_key_hook = again


def token_configuration(params: dict):
    """A client configuration for an API server address and a bearer token (the system's CAs unless ca_cert)."""
    configuration = k8s_client.Configuration()
    configuration.host = params["host"]
    configuration.verify_ssl = params.get("validate_certs", True)
    configuration.ssl_ca_cert = params.get("ca_cert")
    if params.get("api_key"):
        configuration.api_key = {"BearerToken": params["api_key"]}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return configuration


def requester(client):
    def request(method, path, query, body, content_type):
        headers = {"Accept": "application/json", "Content-Type": content_type or "application/json"}
        method, url, headers, body, _post = client.param_serialize(
            method, path, query_params=list(query.items()), header_params=headers, body=body,
            auth_settings=["BearerToken"])
        try:
            response = client.call_api(method, url, header_params=headers, body=body)
        except ApiException as exc:  # the body decoded as k8s_http's requester decodes it, for the same messages
            try:
                return exc.status, json.loads(exc.body) if exc.body else None
            except ValueError:
                return exc.status, exc.body
        return response.status, body_of(response.read(), response.getheader("Content-Type"))
    return request
