#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_iam_member
short_description: Additive IAM role bindings on a project or a service account
version_added: 0.1.0
description:
  - Adds (or removes) members of one role in the IAM policy of a project or a service account, leaving every
    other binding as it is (unlike setting the whole policy).
  - Read-modify-write with the policy's etag; when someone else changed the policy in between (HTTP 409), it reads
    again and retries, up to O(conflict_retries) times.
  - Used for C(roles/cloudsql.client) on the consumer project and C(roles/iam.workloadIdentityUser) on the app's
    Google service account (member C(serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>])).
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
  resource_type:
    description: Whose policy, a V(project) or a V(service_account).
    type: str
    choices: [project, service_account]
    default: project
  resource:
    description: The project ID, or the service account's email. Defaults to O(project).
    type: str
  role:
    description: The role, for example V(roles/cloudsql.client). Set O(role) or O(roles), not both.
    type: str
  roles:
    description:
      - Several roles for the same members, in one read-modify-write of the policy (one module run; an Ansible
        loop over roles starts one module process and one policy write per role).
    type: list
    elements: str
  members:
    description: Members with their type prefix (V(serviceAccount:app@p.iam.gserviceaccount.com)).
    type: list
    elements: str
    required: true
  conflict_retries:
    description: How often to retry after a concurrent policy change (HTTP 409).
    type: int
    default: 5
  state:
    description: V(present) adds the members to the role, V(absent) removes them from it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Let the app's Kubernetes service account act as its Google service account
  aibang.gke_platform.gcp_iam_member:
    project: consumer-prod
    resource_type: service_account
    resource: orders@consumer-prod.iam.gserviceaccount.com
    role: roles/iam.workloadIdentityUser
    members: ["serviceAccount:consumer-prod.svc.id.goog[orders/orders]"]

- name: The GKE nodes' least-privilege project roles, in one policy write
  aibang.gke_platform.gcp_iam_member:
    project: consumer-prod
    roles: [roles/logging.logWriter, roles/monitoring.metricWriter, roles/artifactregistry.reader]
    members: ["serviceAccount:gke-nodes@consumer-prod.iam.gserviceaccount.com"]
"""

RETURN = r"""
members:
  description: The members after the run of O(role) (with O(roles), of its first role); unconditional binding.
  returned: always
  type: list
  elements: str
bindings:
  description: Each role of O(role) or O(roles) and its members after the run (unconditional bindings).
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.iam_policy import ensure_member


def main() -> None:
    module = gcp_module({
        "resource_type": {"type": "str", "choices": ["project", "service_account"], "default": "project"},
        "resource": {"type": "str"},
        "role": {"type": "str"},
        "roles": {"type": "list", "elements": "str"},
        "members": {"type": "list", "elements": "str", "required": True},
        "conflict_retries": {"type": "int", "default": 5},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }, mutually_exclusive=[("role", "roles")], required_one_of=[("role", "roles")])
    run(module, ensure_member)


if __name__ == "__main__":
    main()
