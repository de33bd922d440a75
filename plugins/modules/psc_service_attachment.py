#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: psc_service_attachment
short_description: Publish an internal load balancer through Private Service Connect (producer side)
version_added: 0.1.0
description:
  - Creates the NAT subnets (purpose C(PRIVATE_SERVICE_CONNECT)) when missing and the service attachment in front
    of an internal load balancer's forwarding rule.
  - Connection preference, accept and reject lists (with connection limits), NAT subnets and reconcile are
    updated in place (with the attachment's fingerprint); the target service and proxy protocol cannot change in
    place and fail naming the field.
  - Returns the connected endpoints with their status, so a producer sees who is PENDING.
  - An attachment this module creates carries the collection's mark in its description, the words C(managed-by)
    and C(aibang-gke-platform) joined by a colon (service attachments have no labels), written at creation only,
    never on an attachment found existing. V(absent) deletes only an attachment carrying it (any, with
    O(delete_unmarked)); another is left in place with a warning and RV(left).
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
    description: Name of the service attachment.
    type: str
    required: true
  region:
    description: Region of the attachment and of the load balancer.
    type: str
    required: true
  target_service:
    description: The internal load balancer's forwarding rule, a name in O(region) or a link.
    type: str
  nat_subnets:
    description:
      - Subnets Google translates consumer traffic from. Created with purpose C(PRIVATE_SERVICE_CONNECT) when
        missing (then C(network) and C(ip_cidr_range) are needed); an existing subnet must have that purpose.
      - With O(state=absent), each one this collection created (its description carries the mark; every one of purpose
        C(PRIVATE_SERVICE_CONNECT) with O(delete_unmarked)) is deleted after the attachment, unless a service
        attachment, of this project or another, still uses it (RV(nat_subnets_deleted)). Google may report a subnet
        in use for a moment after its attachment went, so the delete is asked again for up to 60 seconds before the
        subnet is left with a warning quoting Google.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Subnet name., type: str, required: true}
      network: {description: VPC of the subnet (to create it)., type: str}
      ip_cidr_range: {description: Range of the subnet (to create it)., type: str}
  connection_preference:
    description: V(ACCEPT_MANUAL) accepts only the projects in O(consumer_accept_lists); V(ACCEPT_AUTOMATIC) accepts all.
    type: str
    choices: [ACCEPT_AUTOMATIC, ACCEPT_MANUAL]
    default: ACCEPT_MANUAL
  consumer_accept_lists:
    description: Consumer projects (ID or number) accepted, each with a connection limit.
    type: list
    elements: dict
    default: []
    suboptions:
      project: {description: Project ID or number., type: str, required: true}
      connection_limit: {description: Endpoints this project may connect., type: int, default: 10}
  consumer_reject_lists:
    description: Consumer projects (ID or number) always rejected.
    type: list
    elements: str
    default: []
  enable_proxy_protocol:
    description: Send the PROXY protocol header to the backends. Cannot change in place.
    type: bool
    default: false
  reconcile_connections:
    description: Apply accept and reject list changes to existing connections too.
    type: bool
    default: true
  domain_names:
    description: DNS domains consumers may use for automatic DNS.
    type: list
    elements: str
  description:
    description: Description of the attachment (the collection's mark is added to it when the module creates it).
    type: str
  delete_unmarked:
    description: With O(state=absent), also delete an attachment this collection did not create.
    type: bool
    default: false
  state:
    description: V(present) or V(absent). Absent deletes the attachment, then the NAT subnets O(nat_subnets) says.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Publish the orders API to two consumer projects
  aibang.gke_platform.psc_service_attachment:
    project: producer-prod
    region: europe-west2
    name: orders-api
    target_service: orders-api-ilb
    nat_subnets:
      - {name: psc-nat, network: producer-vpc, ip_cidr_range: 10.200.0.0/28}
    consumer_accept_lists:
      - {project: consumer-prod, connection_limit: 2}
      - {project: consumer-staging}
  register: attachment
"""

RETURN = r"""
nat_subnets_deleted:
  description:
    - The O(nat_subnets) that O(state=absent) deleted (would delete, in check mode). One it leaves in place comes with
      a warning saying why - another service attachment uses it, its purpose is not C(PRIVATE_SERVICE_CONNECT), or
      this collection did not create it.
  returned: when O(state=absent) deleted the attachment
  type: list
  elements: str
left:
  description: True when O(state=absent) left an attachment in place because this collection did not create it.
  returned: when an unmarked attachment was left
  type: bool
service_attachment:
  description: The attachment after the run (empty when absent, or the one O(state=absent) left in place).
  returned: always
  type: dict
  contains:
    self_link: {description: Link consumers target., type: str}
    connected_endpoints:
      description: Each consumer endpoint with C(endpoint), C(status), C(psc_connection_id), C(consumer_network).
      type: list
      elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import ensure_service_attachment


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "region": {"type": "str", "required": True},
    "target_service": {"type": "str"},
    "nat_subnets": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "network": {"type": "str"},
        "ip_cidr_range": {"type": "str"},
    }},
    "connection_preference": {"type": "str", "choices": ["ACCEPT_AUTOMATIC", "ACCEPT_MANUAL"], "default": "ACCEPT_MANUAL"},
    "consumer_accept_lists": {"type": "list", "elements": "dict", "default": [], "options": {
        "project": {"type": "str", "required": True},
        "connection_limit": {"type": "int", "default": 10},
    }},
    "consumer_reject_lists": {"type": "list", "elements": "str", "default": []},
    "enable_proxy_protocol": {"type": "bool", "default": False},
    "reconcile_connections": {"type": "bool", "default": True},
    "domain_names": {"type": "list", "elements": "str"},
    "description": {"type": "str"},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {"required_if": [("state", "present", ("target_service", "nat_subnets"))]}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_service_attachment)


if __name__ == "__main__":
    main()
