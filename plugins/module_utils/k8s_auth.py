# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes connection options of this collection's Kubernetes modules (without importing the kubernetes package,
so the action plugins can validate them in the controller)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

# The connection options of the modules that use this client, with kubernetes.core's environment variables (AWX's
# Kubernetes bearer token credential injects K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL, K8S_AUTH_SSL_CA_CERT).
# The rest are kubernetes.core's other connection options (kubernetes.core's module_utils/args_common.py AUTH_ARG_SPEC,
# with its aliases): group/aibang.gke_platform.k8s extends kubernetes.core.k8s, so one module_defaults entry reaches
# both collections' modules, and an option only kubernetes.core accepted failed these modules with "Unsupported
# parameters". module_utils.k8s_http leaves a call with any of them to the kubernetes client (app_workload_client).
AUTH_ARGUMENT_SPEC = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"])},
    "validate_certs": {"type": "bool", "default": True, "aliases": ["verify_ssl"],
                       "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"])},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "proxy_headers": {"type": "dict", "options": {
        "proxy_basic_auth": {"type": "str", "no_log": True},
        "basic_auth": {"type": "str", "no_log": True},
        "user_agent": {"type": "str"},
    }},
    "persist_config": {"type": "bool"},
    "impersonate_user": {"type": "str"},
    "impersonate_groups": {"type": "list", "elements": "str"},
}
