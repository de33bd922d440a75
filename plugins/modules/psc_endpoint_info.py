#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: psc_endpoint_info
short_description: Read a Private Service Connect endpoint and explain its connection status
version_added: 0.1.0
description:
  - Returns the endpoint's IP, connection status and target, and for any status other than C(ACCEPTED) what is
    wrong and who must act (the diagnose playbook's PSC layer).
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
    description: Name of the endpoint's forwarding rule.
    type: str
    required: true
  region:
    description: Region of the endpoint.
    type: str
    required: true
  address_name:
    description: Name of the reserved address. Defaults to O(name).
    type: str
"""

EXAMPLES = r"""
- name: Is the database endpoint connected?
  aibang.gke_platform.psc_endpoint_info:
    project: consumer-prod
    region: europe-west2
    name: psc-orders-db
  register: endpoint
"""

RETURN = r"""
exists:
  description: Whether the forwarding rule or the address exists.
  returned: always
  type: bool
endpoint:
  description: As returned by M(aibang.gke_platform.psc_endpoint), plus C(explanation) when not ACCEPTED.
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import read_endpoint


def describe(client, params: dict, check_mode: bool) -> dict:
    endpoint = read_endpoint(client, params)
    return {"changed": False, "exists": bool(endpoint), "endpoint": endpoint}


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "region": {"type": "str", "required": True},
    "address_name": {"type": "str"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), describe)


if __name__ == "__main__":
    main()
