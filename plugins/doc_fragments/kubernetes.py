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
    description:
      - Bearer token for O(host), or E(K8S_AUTH_API_KEY).
      - Sent without the white space around it (a vault block scalar keeps a trailing newline); a token with a line
        break inside fails the task without being shown. Tokens from a kubeconfig, its token file or its exec plugin
        are read the same way.
    type: str
  ca_cert:
    description: >-
      CA certificate file that signs O(host)'s certificate, or E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT); else the
      system's CAs.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Verify O(host)'s certificate, or E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    default: true
    aliases: [verify_ssl]
  client_cert:
    description:
      - Client certificate file, over the kubeconfig's, as kubernetes.core takes it (it and the following options
        are kubernetes.core's, so one C(module_defaults) entry for C(group/aibang.gke_platform.k8s) reaches both
        collections' modules).
      - With any of O(client_cert), O(client_key), O(username), O(password), O(proxy), O(no_proxy),
        O(proxy_headers), O(impersonate_user) or O(impersonate_groups), the task goes through the kubernetes client.
      - Each of these but O(proxy_headers), when unset, is read from the variable kubernetes.core reads for it, namely
        E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE), E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE),
        E(K8S_AUTH_USERNAME), E(K8S_AUTH_PASSWORD), E(K8S_AUTH_PROXY), E(K8S_AUTH_NO_PROXY), E(K8S_AUTH_PERSIST_CONFIG),
        E(K8S_AUTH_IMPERSONATE_USER), E(K8S_AUTH_IMPERSONATE_GROUPS) (comma-separated).
    type: path
    aliases: [cert_file]
  client_key:
    description: Key file of O(client_cert).
    type: path
    aliases: [key_file]
  username:
    description: Basic authentication user, with O(password) (one without the other fails the task naming it).
    type: str
  password:
    description: Basic authentication password, with O(username).
    type: str
  proxy:
    description: HTTP proxy to reach the API server through (for example a bastion in front of a private endpoint).
    type: str
  no_proxy:
    description: Comma-separated hosts and networks reached without O(proxy).
    type: str
  proxy_headers:
    description: Headers for O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: C(user:password) for the proxy.
        type: str
      basic_auth:
        description: C(user:password) sent as basic authentication.
        type: str
      user_agent:
        description: User-Agent header.
        type: str
  persist_config:
    description: Write an auth-provider's refreshed token back to the kubeconfig (the kubernetes client's default when unset).
    type: bool
  impersonate_user:
    description: User to impersonate (the Impersonate-User header).
    type: str
  impersonate_groups:
    description: Group to impersonate (the Impersonate-Group header); one at most, more fails the task naming the option.
    type: list
    elements: str
requirements:
  - kubernetes (Python)
"""
