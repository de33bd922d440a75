#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_dns_record
short_description: Record sets in Cloud DNS managed zones, one or a list
version_added: 0.1.0
description:
  - Creates, updates (TTL, data) or deletes the record set with this name and type, for example the A record of a
    Cloud SQL instance's C(dns_name) pointing at its PSC endpoint in a private zone.
  - A record set has no labels or description, so nothing marks one as made by this collection. Deleting
    (V(absent)) removes a record set only inside a zone that carries the collection's label
    C(managed-by=aibang-gke-platform) (a zone M(aibang.gke_platform.gcp_dns_zones) created); in any other zone it is
    left in place with a warning and named in RV(left), unless O(delete_unmarked) is set.
  - Written because google.cloud's C(gcp_dns_resource_record_set) fails with C(auth_kind=accesstoken)
    (it drops the token when it reads the zone's SOA record).
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
  zone:
    description:
      - Name of the managed zone (not its DNS name).
      - With O(records), the zone of the records that do not name their own.
    type: str
  name:
    description:
      - Fully qualified record name; a trailing dot is added when missing.
      - Set O(name) for one record set or O(records) for several, not both.
    type: str
  type:
    description: Record type.
    type: str
    default: A
    choices: [A, AAAA, CNAME, TXT, SRV, PTR, MX]
  ttl:
    description: Time to live in seconds.
    type: int
    default: 300
  rrdatas:
    description: The record data, for example IP addresses; required when O(state=present).
    type: list
    elements: str
    default: []
  records:
    description:
      - Several record sets in one task (one module run; an Ansible loop starts one module process per item).
      - Every item is checked before anything changes; an error names the item by its index, name and type.
    type: list
    elements: dict
    suboptions:
      zone:
        description: Name of the managed zone. Defaults to O(zone).
        type: str
      name:
        description: Fully qualified record name; a trailing dot is added when missing.
        type: str
        required: true
      type:
        description: Record type.
        type: str
        default: A
        choices: [A, AAAA, CNAME, TXT, SRV, PTR, MX]
      ttl:
        description: Time to live in seconds.
        type: int
        default: 300
      rrdatas:
        description: The record data; required when the item is present.
        type: list
        elements: str
        default: []
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  delete_unmarked:
    description: With V(absent), also delete record sets in a zone this collection did not create.
    type: bool
    default: false
  state:
    description: V(present) or V(absent) (with O(records), for the items that do not set their own).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The Cloud SQL instance's name resolves to the PSC endpoint
  aibang.gke_platform.gcp_dns_record:
    project: consumer-prod
    zone: cloudsql-psc
    name: "{{ sql.dns_name }}"
    rrdatas: ["{{ endpoint.endpoint.ip_address }}"]

- name: Google API names answer with the Private Google Access VIP, in one task
  aibang.gke_platform.gcp_dns_record:
    project: consumer-prod
    zone: googleapis
    records:
      - {name: private.googleapis.com., rrdatas: [199.36.153.8, 199.36.153.9, 199.36.153.10, 199.36.153.11]}
      - {name: "*.googleapis.com.", type: CNAME, rrdatas: [private.googleapis.com.]}
"""

RETURN = r"""
left:
  description: The record sets (C(zone/name type)) V(absent) left in place because their zone lacks the mark.
  returned: when one was left
  type: list
  elements: str
record:
  description: C(name), C(type), C(ttl) and C(rrdatas) after the run (empty when absent).
  returned: with O(name)
  type: dict
records:
  description: Each item of O(records) after the run, in the order given, like RV(record).
  returned: with O(records)
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import ensure_records
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


# A record set's own options, the same for the task's single record and for each item of O(records).
_RECORD = {
    "type": {"type": "str", "default": "A", "choices": ["A", "AAAA", "CNAME", "TXT", "SRV", "PTR", "MX"]},
    "ttl": {"type": "int", "default": 300},
    "rrdatas": {"type": "list", "elements": "str", "default": []},
}


ARGUMENT_SPEC = {
    "zone": {"type": "str"},
    "name": {"type": "str"},
    **_RECORD,
    "records": {"type": "list", "elements": "dict", "options": {
        "zone": {"type": "str"},
        "name": {"type": "str", "required": True},
        **_RECORD,
        "state": {"type": "str", "choices": ["present", "absent"]},
    }},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {
    "mutually_exclusive": [("name", "records")],
    "required_one_of": [("name", "records")],
    "required_by": {"name": ("zone",)},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_records)


if __name__ == "__main__":
    main()
