#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_nat
short_description: Cloud NAT on a Cloud Router, so VMs without external IPs reach the internet
version_added: 0.1.0
description:
  - Keeps one NAT config (by name) on a Cloud Router, creating the router when it does not exist. Other NAT configs
    on the router are left alone.
  - Only the primary ranges of the listed subnets are translated (C(PRIMARY_IP_RANGE)), never every subnet of the
    region, never a secondary range. A GKE subnet's secondary ranges hold the pods, so NAT there would let pods reach
    the internet without the egress proxy. A NAT config found with other ranges is corrected.
  - The google.cloud collection's router module cannot configure NAT.
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
  name:
    description: Name of the NAT config.
    type: str
    required: true
  router:
    description: Name of the Cloud Router.
    type: str
    required: true
  region:
    description: Region of the router.
    type: str
    required: true
  network:
    description: VPC network, needed only to create the router.
    type: str
  subnetworks:
    description:
      - Subnets whose primary range is translated; required with O(state=present).
      - Give the egress VM's own subnet, never the GKE nodes' subnet.
    type: list
    elements: str
    default: []
  min_ports_per_vm:
    description: Minimum NAT ports per VM.
    type: int
  log:
    description: What NAT logs, V(errors), V(all) or V(none).
    type: str
    choices: [errors, all, none]
    default: errors
  state:
    description: V(present) or V(absent) (absent removes the NAT config; the router only with O(delete_empty_router)).
    type: str
    choices: [present, absent]
    default: present
  delete_empty_router:
    description:
      - >-
        With O(state=absent), delete the router too when this collection created it (its description carries
        C(managed-by: aibang-gke-platform), which the module writes when it creates a router) and it holds no other
        NAT config, interface or BGP peer. Otherwise the router stays and RV(router_left) says why.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Internet for the egress VM's subnet only
  aibang.gke_platform.cloud_nat:
    project: consumer-prod
    region: europe-west2
    router: egress-router
    network: platform-vpc
    name: egress-nat
    subnetworks: [egress-vm]
"""

RETURN = r"""
nat:
  description: The NAT config after the run (C(name), C(router), C(source), C(subnetworks), C(ip_ranges), C(log)).
  returned: always
  type: dict
router_left:
  description: With O(delete_empty_router), why the router was left in place; empty when it was deleted.
  returned: when O(state=absent), O(delete_empty_router) is set and the router exists
  type: str
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloud_nat import ensure_nat
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "router": {"type": "str", "required": True},
    "region": {"type": "str", "required": True},
    "network": {"type": "str"},
    "subnetworks": {"type": "list", "elements": "str", "default": []},
    "min_ports_per_vm": {"type": "int"},
    "log": {"type": "str", "choices": ["errors", "all", "none"], "default": "errors"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "delete_empty_router": {"type": "bool", "default": False},
}
CONSTRAINTS = {"required_if": [("state", "present", ("subnetworks",))]}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_nat)


if __name__ == "__main__":
    main()
