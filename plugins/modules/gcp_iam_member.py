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
  - With O(bindings), several resources' bindings in one module run (one read-modify-write per resource); every item
    is checked before anything changes, and a bad one fails naming it (V(bindings[2].members)).
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
    description: The role, for example V(roles/cloudsql.client). Set one of O(role), O(roles) or O(bindings).
    type: str
  roles:
    description:
      - Several roles for the same members, in one read-modify-write of the policy (one module run; an Ansible
        loop over roles starts one module process and one policy write per role).
    type: list
    elements: str
  members:
    description: Members with their type prefix (V(serviceAccount:app@p.iam.gserviceaccount.com)); required with O(role)
      or O(roles).
    type: list
    elements: str
  bindings:
    description:
      - Bindings on several resources in one module run, instead of O(role) or O(roles) with O(members) on one.
      - Each item has C(resource_type) (V(project), the default, or V(service_account)), C(resource) (default
        O(project) for a project; the email for a service account), C(role) or C(roles), C(members), and optionally
        C(state) (default O(state)).
      - Items on the same resource share one read-modify-write of its policy. RV(bindings) and the diff are keyed
        C(<resource type> <resource> <role>).
    type: list
    elements: dict
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

- name: The app's project roles, Cloud SQL in the producer project, and Workload Identity, in one module run
  aibang.gke_platform.gcp_iam_member:
    project: consumer-prod
    bindings:
      - {roles: [roles/logging.logWriter], members: ["serviceAccount:orders@consumer-prod.iam.gserviceaccount.com"]}
      - {resource: producer-prod, role: roles/cloudsql.client,
         members: ["serviceAccount:orders@consumer-prod.iam.gserviceaccount.com"]}
      - resource_type: service_account
        resource: orders@consumer-prod.iam.gserviceaccount.com
        role: roles/iam.workloadIdentityUser
        members: ["serviceAccount:consumer-prod.svc.id.goog[orders/orders]"]
"""

RETURN = r"""
members:
  description: The members after the run of O(role) (with O(roles), of its first role; with O(bindings), of the first
    binding's first role); unconditional binding.
  returned: always
  type: list
  elements: str
bindings:
  description: Each role of O(role) or O(roles) and its members after the run (unconditional bindings); with
    O(bindings), keyed C(<resource type> <resource> <role>).
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.iam_policy import ensure_member


ARGUMENT_SPEC = {
    "resource_type": {"type": "str", "choices": ["project", "service_account"], "default": "project"},
    "resource": {"type": "str"},
    "role": {"type": "str"},
    "roles": {"type": "list", "elements": "str"},
    "members": {"type": "list", "elements": "str"},
    "bindings": {"type": "list", "elements": "dict"},
    "conflict_retries": {"type": "int", "default": 5},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {
    "mutually_exclusive": [("role", "roles", "bindings"), ("bindings", "members"), ("bindings", "resource")],
    "required_one_of": [("role", "roles", "bindings")],
    "required_by": {"role": "members", "roles": "members"},
}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_member)


if __name__ == "__main__":
    main()
