#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_workload_info
short_description: Diagnose apps layer by layer - pod, config, endpoint, database, Workload Identity
version_added: 0.2.0
description:
  - For each app M(aibang.gke_platform.app_workload_render) returned, reads the cluster and reports the layers of
    the troubleshooting tree in order, each with C(ok) and a C(detail) naming what is wrong.
  - Read-only.
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
  apps:
    description: The RV(aibang.gke_platform.app_workload_render#module:apps) of the render module.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Diagnose every app
  aibang.gke_platform.app_workload_info:
    apps: "{{ rendered.apps }}"
  register: diagnosis
"""

RETURN = r"""
layers:
  description: One entry per app and layer - app, layer (pod, config, endpoint, database, workload-identity), ok, detail.
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_apply as apply
from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_module
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_auth import AUTH_ARGUMENT_SPEC

ARGUMENT_SPEC = {"apps": {"type": "list", "elements": "dict", "required": True}, **AUTH_ARGUMENT_SPEC}


def run_module(params: dict, check_mode: bool, diff: bool, connect) -> dict:
    request = connect()
    try:
        return {"changed": False, "layers": [layer for app in params["apps"] for layer in apply.diagnose(request, app)]}
    except apply.ApplyError as exc:
        return {"failed": True, "msg": str(exc)}


def main() -> None:
    k8s_module.main(ARGUMENT_SPEC, run_module)


if __name__ == "__main__":
    main()
