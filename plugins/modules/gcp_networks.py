#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_networks
short_description: VPC networks and their subnetworks in one task
version_added: 0.4.0
description:
  - Creates custom mode VPC networks and their subnetworks (primary range, secondary ranges, Private Google Access),
    changes a subnetwork in place where Google allows it, or deletes them, in one module run.
  - In place, a subnetwork's primary range can only grow to a range that holds it (C(expandIpCidrRange)); Private
    Google Access and the secondary ranges change; its network cannot, and a difference there fails naming the
    subnetwork. An auto mode or legacy network fails naming the network.
  - A description is written at creation only (Google keeps it fixed after), so a network or subnetwork found
    existing keeps its own; a role writes its mark this way on what it creates and on nothing it adopts.
  - Present makes the networks before the subnetworks; absent deletes the subnetworks before the networks, by name
    (guard it with the mark, as psc_consumer's cleanup does).
  - Every item is checked before anything changes; an error names the item by its list, index and name.
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
  networks:
    description: The VPC networks (custom mode).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The network's name.
        type: str
        required: true
      description:
        description: The network's description, written at creation only.
        type: str
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  subnetworks:
    description: The subnetworks.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The subnetwork's name.
        type: str
        required: true
      region:
        description: Its region. Defaults to O(region).
        type: str
      network:
        description: Its VPC network, a name, path or URL; required when present.
        type: str
      ip_cidr_range:
        description: Its primary IPv4 range; required when present. In place it can only grow to a range holding it.
        type: str
      private_ip_google_access:
        description: Whether VMs without an external IP reach Google APIs from it; unset leaves it as it is.
        type: bool
      secondary_ip_ranges:
        description: Its secondary ranges (GKE's pod and Service ranges); unset leaves them as they are.
        type: list
        elements: dict
        suboptions:
          range_name:
            description: The range's name.
            type: str
            required: true
          ip_cidr_range:
            description: The range, IPv4 CIDR.
            type: str
            required: true
      description:
        description: The subnetwork's description, written at creation only.
        type: str
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  region:
    description: The region of the subnetworks that do not set their own.
    type: str
  wait_timeout:
    description: Seconds to wait for each Compute operation.
    type: int
    default: 300
  state:
    description: V(present) or V(absent), for the items that do not set their own.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The platform VPC and its GKE subnet with pod and Service ranges
  aibang.gke_platform.gcp_networks:
    project: consumer-prod
    region: europe-west2
    networks:
      - {name: platform-vpc, description: Platform VPC}
    subnetworks:
      - name: gke-nodes
        network: platform-vpc
        ip_cidr_range: 10.10.0.0/20
        private_ip_google_access: true
        secondary_ip_ranges:
          - {range_name: pods, ip_cidr_range: 10.20.0.0/14}
          - {range_name: services, ip_cidr_range: 10.24.0.0/20}
"""

RETURN = r"""
networks:
  description: Each listed network after the run, in the order given (empty when absent) - C(name), C(description),
    C(auto_create_subnetworks).
  returned: always
  type: list
  elements: dict
subnetworks:
  description: >-
    Each listed subnetwork after the run, in the order given (empty when absent) - C(name), C(region), C(network)
    (as a path), C(ip_cidr_range), C(private_ip_google_access), C(secondary_ip_ranges), C(description).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.network import ensure_networks

_STATE = {"type": "str", "choices": ["present", "absent"]}

ARGUMENT_SPEC = {
    "networks": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "description": {"type": "str"},
        "state": _STATE,
    }},
    "subnetworks": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "region": {"type": "str"},
        "network": {"type": "str"},
        "ip_cidr_range": {"type": "str"},
        "private_ip_google_access": {"type": "bool"},
        "secondary_ip_ranges": {"type": "list", "elements": "dict", "options": {
            "range_name": {"type": "str", "required": True},
            "ip_cidr_range": {"type": "str", "required": True},
        }},
        "description": {"type": "str"},
        "state": _STATE,
    }},
    "region": {"type": "str"},
    "wait_timeout": {"type": "int", "default": 300},
    "state": dict(_STATE, default="present"),
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), ensure_networks)


if __name__ == "__main__":
    main()
