#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_resources_info
short_description: Read named VPC networks, subnetworks, firewall rules and service accounts that may not exist
version_added: 0.3.0
description:
  - Reads each named resource (one GET each, in one module run) and returns those that exist, by name, as Google
    returns them; a missing one is left out. Read-only.
  - Used by roles to decide, before they create something, whether to write the collection's mark (only on what they
    create), and, before they delete something, whether it carries the mark.
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
  networks:
    description: VPC network names.
    type: list
    elements: str
    default: []
  subnetworks:
    description: Subnetwork names in O(region).
    type: list
    elements: str
    default: []
  region:
    description: The region of O(subnetworks); required with them.
    type: str
  firewall_rules:
    description: VPC firewall rule names.
    type: list
    elements: str
    default: []
  service_accounts:
    description: Service account emails.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: What exists already
  aibang.gke_platform.gcp_resources_info:
    project: consumer-prod
    networks: [platform-vpc]
    region: europe-west2
    subnetworks: [gke-nodes]
    service_accounts: [gke-nodes@consumer-prod.iam.gserviceaccount.com]
  register: found
"""

RETURN = r"""
networks:
  description: Name -> network, for the listed networks that exist.
  returned: always
  type: dict
subnetworks:
  description: Name -> subnetwork, for the listed subnetworks of O(region) that exist.
  returned: always
  type: dict
firewall_rules:
  description: Name -> firewall rule, for the listed rules that exist.
  returned: always
  type: dict
service_accounts:
  description: Email -> service account, for the listed accounts that exist.
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_lookup import read_resources
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run


ARGUMENT_SPEC = {
    "networks": {"type": "list", "elements": "str", "default": []},
    "subnetworks": {"type": "list", "elements": "str", "default": []},
    "region": {"type": "str"},
    "firewall_rules": {"type": "list", "elements": "str", "default": []},
    "service_accounts": {"type": "list", "elements": "str", "default": []},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), read_resources)


if __name__ == "__main__":
    main()
