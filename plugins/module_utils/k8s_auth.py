# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes connection options of this collection's Kubernetes modules (without importing the kubernetes package,
so the action plugins can validate them in the controller)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback


def _env(*names: str) -> tuple:
    """A fallback to the first of these K8S_AUTH_* variables that is set."""
    return (env_fallback, [f"K8S_AUTH_{name}" for name in names])


# The connection options of the modules that use this client: kubernetes.core's (its module_utils/args_common.py
# AUTH_ARG_SPEC, with its aliases), each falling back to the environment variables kubernetes.core reads for it
# (K8S_AUTH_<option>, then K8S_AUTH_<the kubernetes client's name>; AWX's Kubernetes bearer token credential injects
# K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL, K8S_AUTH_SSL_CA_CERT). group/aibang.gke_platform.k8s extends
# kubernetes.core.k8s, so one module_defaults entry reaches both collections' modules, and an option only
# kubernetes.core accepted failed these modules with "Unsupported parameters". module_utils.k8s_http leaves a call
# with any option beyond a kubeconfig or a bearer token to the kubernetes client (app_workload_client).
AUTH_ARGUMENT_SPEC = {
    "kubeconfig": {"type": "path", "fallback": _env("KUBECONFIG")},
    "context": {"type": "str", "fallback": _env("CONTEXT")},
    "host": {"type": "str", "fallback": _env("HOST")},
    "api_key": {"type": "str", "no_log": True, "fallback": _env("API_KEY")},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": _env("CA_CERT", "SSL_CA_CERT")},
    "validate_certs": {"type": "bool", "default": True, "aliases": ["verify_ssl"],
                       "fallback": _env("VALIDATE_CERTS", "VERIFY_SSL")},
    "client_cert": {"type": "path", "aliases": ["cert_file"], "fallback": _env("CLIENT_CERT", "CERT_FILE")},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False, "fallback": _env("CLIENT_KEY", "KEY_FILE")},
    "username": {"type": "str", "fallback": _env("USERNAME")},
    "password": {"type": "str", "no_log": True, "fallback": _env("PASSWORD")},
    "proxy": {"type": "str", "fallback": _env("PROXY")},
    "no_proxy": {"type": "str", "fallback": _env("NO_PROXY")},
    "proxy_headers": {"type": "dict", "options": {
        "proxy_basic_auth": {"type": "str", "no_log": True},
        "basic_auth": {"type": "str", "no_log": True},
        "user_agent": {"type": "str"},
    }},
    "persist_config": {"type": "bool", "fallback": _env("PERSIST_CONFIG")},
    "impersonate_user": {"type": "str", "fallback": _env("IMPERSONATE_USER")},
    "impersonate_groups": {"type": "list", "elements": "str", "fallback": _env("IMPERSONATE_GROUPS")},
}
