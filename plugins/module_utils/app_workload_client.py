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
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_http import body_of

try:
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False


def api_client(params: dict):
    """kubeconfig and context; else host and api_key; else KUBECONFIG or ~/.kube/config; else in-cluster."""
    if params.get("kubeconfig") or params.get("context"):
        return k8s_config.new_client_from_config(config_file=params.get("kubeconfig"), context=params.get("context"))
    if params.get("host"):
        return k8s_client.ApiClient(token_configuration(params))
    if os.path.exists(os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))):
        return k8s_config.new_client_from_config()
    k8s_config.load_incluster_config()
    return k8s_client.ApiClient()


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
