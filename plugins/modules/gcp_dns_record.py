#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_dns_record
short_description: One record set in a Cloud DNS managed zone
version_added: 0.1.0
description:
  - Creates, updates (TTL, data) or deletes the record set with this name and type, for example the A record of a
    Cloud SQL instance's C(dns_name) pointing at its PSC endpoint in a private zone.
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
    description: Name of the managed zone (not its DNS name).
    type: str
    required: true
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
    description: The record data, for example IP addresses.
    type: list
    elements: str
    default: []
  state:
    description: V(present) or V(absent).
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
"""

RETURN = r"""
record:
  description: C(name), C(type), C(ttl) and C(rrdatas) after the run (empty when absent).
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import ensure_record
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


def main() -> None:
    module = gcp_module(
        {
            "zone": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "type": {"type": "str", "default": "A", "choices": ["A", "AAAA", "CNAME", "TXT", "SRV", "PTR", "MX"]},
            "ttl": {"type": "int", "default": 300},
            "rrdatas": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("rrdatas",))],
    )
    run(module, ensure_record)


if __name__ == "__main__":
    main()
