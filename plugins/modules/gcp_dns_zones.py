#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_dns_zones
short_description: Cloud DNS managed zones, a list of them in one task
version_added: 0.3.0
description:
  - Creates, updates in place (description, the networks a private zone is visible to) or deletes each listed
    managed zone by name, in one module run (an Ansible loop would start one module process per zone).
  - A zone's DNS name and visibility cannot change in place; a difference there fails naming the zone.
  - Every zone is checked before anything changes; an error names the zone by its index and name.
  - A zone this module creates carries the label C(managed-by=aibang-gke-platform) (at creation only, never on a zone
    found existing). V(absent) deletes only a zone carrying it (any zone with O(delete_unmarked)) that holds nothing
    but its own NS and SOA records; any other zone is left in place with a warning saying why, and named in
    RV(left).
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
  zones:
    description: The zones, applied in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The zone's name (not its DNS name).
        type: str
        required: true
      dns_name:
        description: The DNS name it serves (a trailing dot is added when missing); required when present.
        type: str
      description:
        description: The zone's description.
        type: str
        default: ""
      visibility:
        description: V(private) (seen only from O(zones[].networks)) or V(public).
        type: str
        choices: [private, public]
        default: private
      networks:
        description: The VPCs a private zone is visible to, names, paths or URLs.
        type: list
        elements: str
        default: []
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  delete_unmarked:
    description: With V(absent), also delete zones this collection did not create (still only empty ones).
    type: bool
    default: false
  state:
    description: V(present) or V(absent), for the zones that do not set their own.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Private zones sending Google API names to the Private Google Access VIP
  aibang.gke_platform.gcp_dns_zones:
    project: consumer-prod
    zones:
      - {name: googleapis, dns_name: googleapis.com., networks: [platform-vpc]}
      - {name: gcr-io, dns_name: gcr.io., networks: [platform-vpc]}
"""

RETURN = r"""
left:
  description: The zones V(absent) left in place (the warnings say why).
  returned: when one was left
  type: list
  elements: str
zones:
  description: >-
    Each listed zone after the run, in the order given (empty when absent) - C(name), C(dns_name), C(description),
    C(visibility), C(networks) (as paths).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_zone import ensure_zones
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


ARGUMENT_SPEC = {
    "zones": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "dns_name": {"type": "str"},
        "description": {"type": "str", "default": ""},
        "visibility": {"type": "str", "choices": ["private", "public"], "default": "private"},
        "networks": {"type": "list", "elements": "str", "default": []},
        "state": {"type": "str", "choices": ["present", "absent"]},
    }},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), ensure_zones)


if __name__ == "__main__":
    main()
