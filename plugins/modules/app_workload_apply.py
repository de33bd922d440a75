#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_workload_apply
short_description: Server-side apply one app's objects in one call, prune what the collection owns, wait for the gates
version_added: 0.2.0
description:
  - Applies every object with server-side apply under one field manager; reports C(changed) only when an object's
    stored content changed, and a diff with exactly the changed fields (Secret values masked).
  - In check mode the apply is a server-side dry run (C(dryRun=All)), so the diff is what the API server would store.
  - Prunes objects matching O(prune_selector) in O(prune_namespaces) that are not in O(objects).
  - With O(wait), waits until the gates pass - Deployments Available with every replica updated and ready,
    StatefulSets ready with their PersistentVolumeClaims Bound, DaemonSets ready on every eligible node, and Jobs
    created from CronJobs (O(run_cronjobs)) complete.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - aibang.gke_platform.kubernetes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  objects:
    description:
      - The objects, as M(aibang.gke_platform.app_workload_render) returns them; applied in order.
      - With O(apps), the namespaces' objects (its RV(aibang.gke_platform.app_workload_render#module:namespace_objects)).
    type: list
    elements: dict
    required: true
  apps:
    description:
      - The apps as M(aibang.gke_platform.app_workload_render) returns them (each with C(name), C(namespace),
        C(objects) and C(gates)), all applied in this one call after O(objects).
      - One listing per kind per namespace of O(prune_namespaces) with O(prune_selector) gives the objects' previous
        state and what to prune - every object carrying C(app.kubernetes.io/managed-by) and C(aibang.io/app) that the
        app this label names does not have (all the objects of an app no longer listed). An empty O(prune_selector)
        lists nothing and prunes none.
      - The prune comes after the gates, only once every one passed; when a gate fails, nothing is pruned
        (RV(pruned) is empty), so what an automatic rollback needs (Secrets included) is still there.
      - The gates of every app are waited for together (O(gates) and O(namespace) are then not used).
    type: list
    elements: dict
    default: []
  secrets:
    description: Values for the Secrets' keys of these names (for example V(DB_PASSWORD)), written base64 into C(data).
    type: dict
    default: {}
  field_manager:
    description: The server-side apply field manager.
    type: str
    default: aibang.gke_platform
  force_conflicts:
    description: Take ownership of fields another manager set (a hand edit); without it such a field fails the apply.
    type: bool
    default: true
  prune_selector:
    description: Label selector of the objects this call owns; those not in O(objects) are deleted. Empty prunes none.
    type: str
    default: ""
  prune_namespaces:
    description: Namespaces pruned with O(prune_selector).
    type: list
    elements: str
    default: []
  gates:
    description: What to wait for in O(namespace) - V(deployments), V(min_ready), V(statefulsets), V(daemonsets), V(cronjobs).
    type: dict
    default: {}
  namespace:
    description: Namespace of the O(gates).
    type: str
    default: default
  wait:
    description: Wait for the O(gates) after the apply (never in check mode).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait before the gates fail.
    type: int
    default: 300
  run_cronjobs:
    description: Create a Job from each CronJob in O(gates) and wait for it to complete (never in check mode).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Apply one app in one call and wait for its gates
  aibang.gke_platform.app_workload_apply:
    objects: "{{ item.objects }}"
    secrets: {DB_PASSWORD: "{{ vault_db_password }}"}
    prune_selector: app.kubernetes.io/managed-by=aibang.gke_platform,aibang.io/app={{ item.name }}
    prune_namespaces: ["{{ item.namespace }}"]
    gates: "{{ item.gates }}"
    namespace: "{{ item.namespace }}"
    wait: true
  loop: "{{ rendered.apps }}"
"""

RETURN = r"""
results:
  description: One entry per object - kind, namespace, name, changed, and the changed fields' paths.
  returned: success
  type: list
  elements: dict
pruned:
  description: The objects deleted (or, in check mode, that would be).
  returned: success
  type: list
  elements: dict
jobs:
  description: The Jobs created from CronJobs.
  returned: success
  type: list
  elements: str
unmet:
  description: The gates that did not pass in time (the module fails then).
  returned: failure
  type: list
  elements: str
pods_not_ready:
  description: What each pod of an unmet workload that is not ready waits for (e.g. an image that does not pull).
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_stage, k8s_module
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_stage import ARGUMENT_SPEC


def run_module(params: dict, check_mode: bool, diff: bool, connect) -> dict:
    return app_workload_stage.run_module(params, check_mode, diff, connect())


def main() -> None:
    k8s_module.main(ARGUMENT_SPEC, run_module)


if __name__ == "__main__":
    main()
