# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.rollout import rollout_failure as failure_message
from ansible_collections.aibang.gke_platform.plugins.module_utils.rollout import rolled_out, rollout_complete, workloads_failure


def rollout_failure(deployment, replicasets, pods, waited=None):
    """Why the Deployment's rollout did not complete: replica counts and what its new pods wait for."""
    return failure_message(dict(deployment or {}), list(replicasets or []), list(pods or []), waited)


def deployment_rolled_out(deployment, replicas):
    """Tier 1's gate: the Deployment is Available and its replicas, updated and ready ones are each ``replicas``."""
    return rollout_complete(dict(deployment or {}), replicas)


def as_read(result) -> dict:
    """The workload a k8s_info loop result read (its item, the object asked for, when the read found nothing)."""
    item = dict(result.get("item") or {})
    found = (result.get("resources") or [item])[0]
    return {**found, "kind": item.get("kind", found.get("kind"))}


def workload_rolled_out(workload):
    """Every replica of the Deployment, StatefulSet or DaemonSet is updated and ready, no older pod left."""
    return rolled_out(dict(workload or {}))


def workloads_not_ready(results, replicasets, pods, waited=None):
    """For each workload of a k8s_info loop (one item per workload) not rolled out: its counts and what its pods wait for."""
    return workloads_failure([as_read(result) for result in results or []], list(replicasets or []), list(pods or []), waited)


class FilterModule:
    def filters(self):
        return {"deployment_rolled_out": deployment_rolled_out, "rollout_failure": rollout_failure,
                "workload_rolled_out": workload_rolled_out, "workloads_not_ready": workloads_not_ready}
