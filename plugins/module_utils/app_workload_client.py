# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `request` function app_workload_apply's functions take, over the kubernetes client's REST layer (no discovery:
the paths are known)."""

from __future__ import annotations

import json
import os

try:
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False


def api_client(kubeconfig: str | None, context: str | None):
    """kubeconfig and context, else K8S_AUTH_KUBECONFIG, KUBECONFIG or ~/.kube/config, else in-cluster."""
    kubeconfig = kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG")
    default = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))
    if kubeconfig or context or os.path.exists(default):
        return k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
    k8s_config.load_incluster_config()
    return k8s_client.ApiClient()


def requester(client):
    def request(method, path, query, body, content_type):
        headers = {"Accept": "application/json", "Content-Type": content_type or "application/json"}
        method, url, headers, body, _post = client.param_serialize(
            method, path, query_params=list(query.items()), header_params=headers, body=body,
            auth_settings=["BearerToken"])
        try:
            response = client.call_api(method, url, header_params=headers, body=body)
        except ApiException as exc:
            return exc.status, exc.body
        text = response.read()
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text.decode("utf-8", "replace")
    return request
