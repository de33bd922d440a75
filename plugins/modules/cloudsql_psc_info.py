#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudsql_psc_info
short_description: Read a Cloud SQL instance's state and Private Service Connect settings
version_added: 0.1.0
description:
  - Returns the instance's state, its PSC service attachment, C(dns_name) and allowed consumer projects, as
    M(aibang.gke_platform.cloudsql_psc) returns them (for diagnose and cleanup).
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - aibang.gke_platform.gcp
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  name:
    description: Instance name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Where does the database answer?
  aibang.gke_platform.cloudsql_psc_info:
    project: producer-prod
    name: orders-db
  register: sql
"""

RETURN = r"""
exists:
  description: Whether the instance exists.
  returned: always
  type: bool
instance:
  description: C(state), C(service_attachment), C(dns_name), C(allowed_consumer_projects) and more; empty when missing.
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloudsql import read_instance
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


ARGUMENT_SPEC = {"name": {"type": "str", "required": True}}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), read_instance)


if __name__ == "__main__":
    main()
