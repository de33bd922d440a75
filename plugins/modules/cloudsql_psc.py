#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudsql_psc
short_description: Cloud SQL for MySQL reachable only through Private Service Connect, with databases and users
version_added: 0.1.0
description:
  - Creates or updates a Cloud SQL instance with PSC enabled, no public IP and the allowed consumer projects,
    then its databases and users.
  - After an update it re-reads the instance and fails if C(allowedConsumerProjects) is not what was asked
    (Cloud SQL has been seen to accept such a patch and change nothing; other tools then report success).
  - Returns the instance's service attachment link (what M(aibang.gke_platform.psc_endpoint) targets) and its
    C(dns_name) (what the consumer's private DNS record is named).
  - Databases and users listed are made present; others on the instance are left alone. User passwords are set
    on create, or on every run with O(update_password=always). Passwords are never returned or logged.
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
    description: Instance name.
    type: str
    required: true
  region:
    description: Region of the instance.
    type: str
  database_version:
    description: Database engine and version.
    type: str
    default: MYSQL_8_0
  tier:
    description: Machine tier.
    type: str
    default: db-custom-2-7680
  edition:
    description: Cloud SQL edition.
    type: str
    choices: [ENTERPRISE, ENTERPRISE_PLUS]
    default: ENTERPRISE
  availability_type:
    description: V(REGIONAL) for a standby in another zone (prod), V(ZONAL) otherwise.
    type: str
    choices: [ZONAL, REGIONAL]
    default: ZONAL
  disk_size_gb:
    description: Data disk size; left as Google chose when unset.
    type: int
  backups:
    description: Automated backups and binary logging.
    type: bool
    default: true
  deletion_protection:
    description: Refuse deletion (Cloud SQL's own guard). O(state=absent) fails while it is on.
    type: bool
    default: true
  ssl_mode:
    description:
      - How TLS is enforced (C(settings.ipConfiguration.sslMode)). Unencrypted connections are never allowed.
      - V(TRUSTED_CLIENT_CERTIFICATE_REQUIRED) also demands client certificates.
    type: str
    choices: [ENCRYPTED_ONLY, TRUSTED_CLIENT_CERTIFICATE_REQUIRED]
    default: ENCRYPTED_ONLY
  allowed_consumer_projects:
    description: Projects (IDs or numbers) whose PSC endpoints the instance accepts.
    type: list
    elements: str
    default: []
  labels:
    description: User labels.
    type: dict
    default: {}
  databases:
    description: Databases to create when missing.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Database name., type: str, required: true}
      charset: {description: Character set (Cloud SQL's default is utf8mb4)., type: str}
      collation: {description: Collation., type: str}
  users:
    description: Users to create when missing.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: User name., type: str, required: true}
      password: {description: Password; never logged or returned., type: str, required: true}
      host:
        description:
          - MySQL host part, for example C(10.128.%) for clients in 10.128.0.0/16. No default; V(%) (any address) must be
            written out.
        type: str
        required: true
  update_password:
    description: V(on_create) sets a user's password only when it creates the user; V(always) sets it on every run.
    type: str
    choices: [on_create, always]
    default: on_create
  wait_timeout:
    description: Seconds to wait for each instance operation (creation takes minutes on Google Cloud).
    type: int
    default: 1800
  poll_interval:
    description: Seconds between operation polls.
    type: int
    default: 10
  delete_unmarked:
    description:
      - With O(state=absent), also delete a Cloud SQL instance this collection did not create. It marks what it creates with
        the label C(managed-by=aibang-gke-platform) (at creation only, never on a resource found existing); without
        this option an unmarked Cloud SQL instance is left in place with a warning, and C(left) is returned true.
    type: bool
    default: false
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Orders database, reachable from the consumer project through PSC
  aibang.gke_platform.cloudsql_psc:
    project: producer-prod
    region: europe-west2
    name: orders-db
    availability_type: REGIONAL
    allowed_consumer_projects: [consumer-prod]
    databases: [{name: orders}]
    users: [{name: orders, host: "10.128.%", password: "{{ vault_orders_db_password }}"}]
  register: sql
"""

RETURN = r"""
left:
  description: True when O(state=absent) left an existing instance in place because this collection did not create it.
  returned: when an unmarked instance was left
  type: bool
instance:
  description: The instance after the run (empty when absent); never holds passwords.
  returned: always
  type: dict
service_attachment:
  description: The instance's PSC service attachment (C(pscServiceAttachmentLink)).
  returned: when present
  type: str
  sample: projects/sqlt-1a2b/regions/europe-west2/serviceAttachments/a-1234-psc-service-attachment-abcd
dns_name:
  description: The instance's DNS name for PSC clients (C(dnsName)), with its trailing dot.
  returned: when present
  type: str
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloudsql import ensure_instance
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "region": {"type": "str"},
    "database_version": {"type": "str", "default": "MYSQL_8_0"},
    "tier": {"type": "str", "default": "db-custom-2-7680"},
    "edition": {"type": "str", "choices": ["ENTERPRISE", "ENTERPRISE_PLUS"], "default": "ENTERPRISE"},
    "availability_type": {"type": "str", "choices": ["ZONAL", "REGIONAL"], "default": "ZONAL"},
    "disk_size_gb": {"type": "int"},
    "backups": {"type": "bool", "default": True},
    "deletion_protection": {"type": "bool", "default": True},
    "ssl_mode": {"type": "str", "choices": ["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"], "default": "ENCRYPTED_ONLY"},
    "allowed_consumer_projects": {"type": "list", "elements": "str", "default": []},
    "labels": {"type": "dict", "default": {}},
    "databases": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "charset": {"type": "str"},
        "collation": {"type": "str"},
    }},
    "users": {"type": "list", "elements": "dict", "default": [], "no_log": False, "options": {
        "name": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True},
        "host": {"type": "str", "required": True},
    }},
    "update_password": {"type": "str", "choices": ["on_create", "always"], "default": "on_create", "no_log": False},
    "wait_timeout": {"type": "int", "default": 1800},
    "poll_interval": {"type": "int", "default": 10},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {"required_if": [("state", "present", ("region",))]}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_instance)


if __name__ == "__main__":
    main()
