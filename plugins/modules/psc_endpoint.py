#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: psc_endpoint
short_description: A Private Service Connect endpoint (consumer side) to a service attachment
version_added: 0.1.0
description:
  - Reserves an internal address in the consumer subnet and creates the forwarding rule that targets a producer's
    service attachment (for example a Cloud SQL instance's C(pscServiceAttachmentLink)).
  - The forwarding rule has no C(loadBalancingScheme), as Google requires for PSC. Global access changes in place.
  - What cannot change in place (the address's subnetwork or IP; the forwarding rule's network, target or address;
    a C(CLOSED) connection) fails naming each field, its current and its asked value, before anything changes.
    With O(recreate=true) the module deletes and recreates the forwarding rule (and the address, if it is the
    address that differs) instead, returns what it recreated in RV(recreated) and warns. Connections through the
    endpoint drop, and the producer sees a new connection that it must accept again.
  - The forwarding rule and the address it creates carry the label C(managed-by=aibang-gke-platform), set with
    C(setLabels) right after each insert (Google refuses labels in the insert of a PSC forwarding rule), never on a
    rule or address found existing. With O(state=absent) only what carries the label is deleted.
  - Waits until C(pscConnectionStatus) is C(ACCEPTED). Still C(PENDING) after O(wait_timeout) fails saying that the
    consumer project is not in the producer's accept list, naming both projects; C(REJECTED) and
    C(NEEDS_ATTENTION) fail at once with what the producer must do.
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
    description: Name of the forwarding rule (the endpoint).
    type: str
    required: true
  region:
    description: Region of the endpoint; the same region as the service attachment unless O(global_access) is used.
    type: str
    required: true
  network:
    description: Consumer VPC network, a name in O(project) or a link.
    type: str
  subnetwork:
    description: Subnet the endpoint address comes from, a name in O(region) or a link.
    type: str
  service_attachment:
    description: The producer's service attachment, a link (C(projects/<p>/regions/<r>/serviceAttachments/<n>)).
    type: str
  address_name:
    description: Name of the reserved address. Defaults to O(name).
    type: str
  ip_address:
    description: A fixed internal IP for the endpoint; without it Google picks one from O(subnetwork).
    type: str
  global_access:
    description: Let clients in any region of the network reach the endpoint (C(allowPscGlobalAccess)).
    type: bool
    default: false
  description:
    description: Description of the forwarding rule.
    type: str
  recreate:
    description:
      - Delete and recreate the forwarding rule (and the address) when they differ in what cannot change in place,
        or when the connection is C(CLOSED). Open connections through the endpoint drop.
      - Without it such a difference fails the task, naming the fields.
    type: bool
    default: false
  wait:
    description: Wait until the producer accepts the connection.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for C(ACCEPTED) (and for each operation).
    type: int
    default: 300
  poll_interval:
    description: Seconds between status reads while waiting.
    type: int
    default: 5
  delete_unmarked:
    description:
      - With O(state=absent), also delete a forwarding rule or address this collection did not create. Without it an
        unmarked one is left in place with a warning, and C(left) is returned true; so is an address still used by a
        forwarding rule that stays.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the endpoint, V(absent) deletes the forwarding rule and the address that carry
        the collection's mark (see O(delete_unmarked)).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Connect to the Cloud SQL instance of the producer project
  aibang.gke_platform.psc_endpoint:
    project: consumer-prod
    region: europe-west2
    name: psc-orders-db
    network: platform-vpc
    subnetwork: gke-nodes
    service_attachment: "{{ sql.service_attachment }}"
  register: endpoint

- name: Point the instance's DNS name at it
  aibang.gke_platform.gcp_dns_record:
    project: consumer-prod
    zone: cloudsql-psc
    name: "{{ sql.dns_name }}"
    type: A
    rrdatas: ["{{ endpoint.endpoint.ip_address }}"]
"""

RETURN = r"""
left:
  description: True when O(state=absent) left the forwarding rule or the address in place (the warnings say why).
  returned: when something was left
  type: bool
endpoint:
  description: The endpoint after the run (empty when absent, or what O(state=absent) left in place).
  returned: always
  type: dict
  contains:
    ip_address: {description: The endpoint's internal IP., type: str, sample: 10.10.0.5}
    psc_connection_status: {description: "One of ACCEPTED, PENDING, REJECTED, NEEDS_ATTENTION, CLOSED.", type: str}
    psc_connection_id: {description: Connection ID the producer sees., type: str}
    service_attachment: {description: Target attachment path., type: str}
    network: {description: Consumer network path., type: str}
    global_access: {description: Whether global access is on., type: bool}
    forwarding_rule: {description: Self link of the forwarding rule., type: str}
    address: {description: Self link of the reserved address., type: str}
recreated:
  description: What this run deleted and created again (only with O(recreate=true)), in the order deleted.
  returned: always
  type: list
  elements: str
  sample: [forwarding rule, address]
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import ensure_endpoint


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "region": {"type": "str", "required": True},
    "network": {"type": "str"},
    "subnetwork": {"type": "str"},
    "service_attachment": {"type": "str"},
    "address_name": {"type": "str"},
    "ip_address": {"type": "str"},
    "global_access": {"type": "bool", "default": False},
    "description": {"type": "str"},
    "recreate": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
    "poll_interval": {"type": "int", "default": 5},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {"required_if": [("state", "present", ("network", "subnetwork", "service_attachment"))]}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_endpoint)


if __name__ == "__main__":
    main()
