#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_service_accounts
short_description: IAM service accounts, a list of them in one task
version_added: 0.4.0
description:
  - Creates, updates in place (display name, description) or deletes each listed user-managed service account, in
    one module run (an Ansible loop would start one module process per account).
  - A display name or description left unset is not managed, so an account found existing keeps its own; set one to
    have it written on create and kept in line after.
  - Every account is checked before anything changes; an error names the account by its index and name.
  - It never creates a key. Workloads act as the account through Workload Identity, nodes through the metadata
    server.
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
  accounts:
    description: The accounts, applied in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The account ID (6 to 30 lowercase letters, digits or hyphens) in O(project), or the account's email
            (C(ACCOUNT_ID@PROJECT.iam.gserviceaccount.com)), which names its own project.
        type: str
        required: true
      display_name:
        description: The account's display name; unset leaves an existing account's own.
        type: str
      description:
        description: The account's description; unset leaves an existing account's own.
        type: str
      state:
        description: V(present) or V(absent). Defaults to O(state).
        type: str
        choices: [present, absent]
  state:
    description: V(present) or V(absent), for the accounts that do not set their own.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The nodes' account and the app's Workload Identity account
  aibang.gke_platform.gcp_service_accounts:
    project: consumer-prod
    accounts:
      - {name: gke-nodes, display_name: platform GKE nodes}
      - {name: app-runtime@consumer-prod.iam.gserviceaccount.com, display_name: app-runtime Workload Identity}

- name: Delete an account (its IAM bindings elsewhere are not removed by Google)
  aibang.gke_platform.gcp_service_accounts:
    project: consumer-prod
    accounts: [{name: old-batch}]
    state: absent
"""

RETURN = r"""
accounts:
  description: >-
    Each listed account after the run, in the order given (empty when absent) - C(email), C(display_name),
    C(description).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.service_account import ensure_accounts


ARGUMENT_SPEC = {
    "accounts": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "display_name": {"type": "str"},
        "description": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"]},
    }},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC), ensure_accounts)


if __name__ == "__main__":
    main()
