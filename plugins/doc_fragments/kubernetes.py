# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file, or E(K8S_AUTH_KUBECONFIG).
      - Without O(kubeconfig), O(context) or O(host), E(KUBECONFIG) or C(~/.kube/config), else the in-cluster service
        account.
    type: path
  context:
    description: Context in the kubeconfig, or E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - Address of the API server, or E(K8S_AUTH_HOST), used with O(api_key) when no kubeconfig is given (AWX's
        Kubernetes bearer token credential sets the E(K8S_AUTH_*) variables).
    type: str
  api_key:
    description: Bearer token for O(host), or E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description: CA certificate file that signs O(host)'s certificate, or E(K8S_AUTH_SSL_CA_CERT); else the system's CAs.
    type: path
  validate_certs:
    description: Verify O(host)'s certificate, or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    default: true
requirements:
  - kubernetes (Python)
"""
