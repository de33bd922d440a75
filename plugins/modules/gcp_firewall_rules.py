#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_firewall_rules
short_description: VPC firewall rules, a list of them in one task
version_added: 0.3.0
description:
  - Creates, updates in place (PATCH) or deletes each listed firewall rule by name, in one module run (an Ansible
    loop would start one module process per rule).
  - Only the fields a rule sets are compared and sent; Google's defaults (priority 1000, direction INGRESS) and
    fields a rule leaves out are not touched.
  - Every rule is checked before anything changes; an error names the rule by its index and name.
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
  rules:
    description: The rules, applied in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The rule's name (unique in the project).
        type: str
        required: true
      network:
        description: The VPC, a name, a path or a URL. Defaults to O(network).
        type: str
      description:
        description: The rule's description.
        type: str
      direction:
        description: V(INGRESS) or V(EGRESS); Google's default is V(INGRESS).
        type: str
        choices: [INGRESS, EGRESS]
      priority:
        description: 0 (first) to 65535; Google's default is 1000.
        type: int
      disabled:
        description: Whether the rule is off.
        type: bool
      source_ranges:
        description: Source CIDRs (ingress).
        type: list
        elements: str
      destination_ranges:
        description: Destination CIDRs (egress).
        type: list
        elements: str
      source_tags:
        description: Source network tags (ingress).
        type: list
        elements: str
      target_tags:
        description: The network tags of the VMs the rule applies to.
        type: list
        elements: str
      source_service_accounts:
        description: Source service accounts (ingress).
        type: list
        elements: str
      target_service_accounts:
        description: The service accounts of the VMs the rule applies to.
        type: list
        elements: str
      allowed:
        description: What the rule allows; set exactly one of O(rules[].allowed) and O(rules[].denied) when present.
        type: list
        elements: dict
        suboptions:
          ip_protocol:
            description: V(tcp), V(udp), V(icmp), V(all), ... or a protocol number.
            type: str
            required: true
          ports:
            description: Ports or port ranges (V(443), V(8000-8080)); all ports when left out.
            type: list
            elements: str
      denied:
        description: What the rule denies; same form as O(rules[].allowed).
        type: list
        elements: dict
        suboptions:
          ip_protocol:
            description: V(tcp), V(udp), V(icmp), V(all), ... or a protocol number.
            type: str
            required: true
          ports:
            description: Ports or port ranges; all ports when left out.
            type: list
            elements: str
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  network:
    description: The VPC of the rules that do not name one.
    type: str
  keep_existing_description:
    description:
      - When true, a rule's O(rules[].description) is written only when this module creates the rule; an existing
        rule keeps its own. A mark written at creation (what cleanup deletes by) is never put on a rule found existing.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for each create, update or delete operation.
    type: int
    default: 300
  state:
    description: V(present) or V(absent), for the rules that do not set their own.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The proxy port from the tier-1 ranges only, SSH through IAP, the exporter's port closed
  aibang.gke_platform.gcp_firewall_rules:
    project: consumer-prod
    network: platform-vpc
    rules:
      - name: squid-allow-proxy
        source_ranges: [10.128.0.0/14]
        target_tags: [squid]
        allowed: [{ip_protocol: tcp, ports: ["3128"]}]
      - name: squid-allow-iap-ssh
        source_ranges: [35.235.240.0/20]
        target_tags: [squid]
        allowed: [{ip_protocol: tcp, ports: ["22"]}]
      - name: squid-allow-exporter
        state: absent
"""

RETURN = r"""
rules:
  description: Each listed rule after the run, in the order given (empty when absent), with the API's field names.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.firewall_rules import ensure_rules
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run

_PROTOCOLS = {"type": "list", "elements": "dict", "options": {
    "ip_protocol": {"type": "str", "required": True},
    "ports": {"type": "list", "elements": "str"},
}}
_STRINGS = {"type": "list", "elements": "str"}


ARGUMENT_SPEC = {
    "rules": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "network": {"type": "str"},
        "description": {"type": "str"},
        "direction": {"type": "str", "choices": ["INGRESS", "EGRESS"]},
        "priority": {"type": "int"},
        "disabled": {"type": "bool"},
        "source_ranges": _STRINGS,
        "destination_ranges": _STRINGS,
        "source_tags": _STRINGS,
        "target_tags": _STRINGS,
        "source_service_accounts": _STRINGS,
        "target_service_accounts": _STRINGS,
        "allowed": _PROTOCOLS,
        "denied": _PROTOCOLS,
        "state": {"type": "str", "choices": ["present", "absent"]},
    }},
    "network": {"type": "str"},
    "keep_existing_description": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 300},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), ensure_rules)


if __name__ == "__main__":
    main()
