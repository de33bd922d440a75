#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_api_services
short_description: Enable or disable Google Cloud APIs on a project (Service Usage)
version_added: 0.1.0
description:
  - Reads each service's state and enables only the missing ones, in batches of 20, waiting for the operation.
  - V(absent) disables the listed services without disabling services that depend on them (it fails instead,
    with Google's message naming the dependants).
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - aibang.gke_platform.gcp
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  services:
    description: Service names, for example V(sqladmin.googleapis.com).
    type: list
    elements: str
    required: true
  wait_timeout:
    description: Seconds to wait for each enable or disable operation.
    type: int
    default: 600
  state:
    description: V(present) enables, V(absent) disables.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: APIs the producer project needs
  aibang.gke_platform.gcp_api_services:
    project: producer-prod
    services: [compute.googleapis.com, sqladmin.googleapis.com, servicenetworking.googleapis.com]
"""

RETURN = r"""
services:
  description: The listed services that are enabled after the run.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_services import ensure_services


ARGUMENT_SPEC = {
    "services": {"type": "list", "elements": "str", "required": True},
    "wait_timeout": {"type": "int", "default": 600},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), ensure_services)


if __name__ == "__main__":
    main()
