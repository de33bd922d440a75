#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_objects_info
short_description: Read several groups of Kubernetes objects (by kind, namespaces, name or labels) in one run
version_added: 0.3.0
description:
  - Reads every query's objects in one module run (one GET per query and namespace) and returns them in query order,
    as M(kubernetes.core.k8s_info) returns them for each query. Read-only.
  - A named object that does not exist, or a kind the API server does not serve, adds nothing.
  - A Secret's C(data) and C(stringData) values are masked.
  - Used by the deploy to snapshot a stage's objects before and after it, one run per snapshot instead of one
    M(kubernetes.core.k8s_info) run per object.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - aibang.gke_platform.kubernetes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  queries:
    description:
      - What to read. Each query has C(api_version) and C(kind), C(namespaces) (a list; empty for cluster-scoped kinds
        or every namespace), and either C(name) or C(label_selectors) (a list, joined with commas), or neither (all).
      - The roles' C(release_objects) entry points write their objects in this form.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Read tier 1's objects in one run
  aibang.gke_platform.k8s_objects_info:
    queries:
      - {api_version: apps/v1, kind: Deployment, namespaces: [egress], label_selectors: [app.kubernetes.io/name=squid]}
      - {api_version: v1, kind: ConfigMap, namespaces: [kube-system], name: coredns}
    kubeconfig: "{{ k8s_kubeconfig | default(omit) }}"
  register: stage_objects
"""

RETURN = r"""
resources:
  description: Every object found, in query order, as the API server returns it (Secrets' values masked).
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_module
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_auth import AUTH_ARGUMENT_SPEC
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_objects import QueryError, check_queries, read_all

ARGUMENT_SPEC = {"queries": {"type": "list", "elements": "dict", "required": True}, **AUTH_ARGUMENT_SPEC}


def run_module(params: dict, check_mode: bool, diff: bool, connect) -> dict:
    try:
        check_queries(params["queries"])
        return {"changed": False, "resources": read_all(connect(), params["queries"])}
    except QueryError as exc:
        return {"failed": True, "msg": str(exc)}


def main() -> None:
    k8s_module.main(ARGUMENT_SPEC, run_module)


if __name__ == "__main__":
    main()
