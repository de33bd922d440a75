# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.filter.rollout import deployment_rolled_out, workload_rolled_out, workloads_not_ready

STATEFULSET = {"kind": "StatefulSet", "metadata": {"name": "redis", "namespace": "apps"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "redis"}}}}


def result(resources):
    """One item of the gate's k8s_info loop: the workload asked for, and what the read found."""
    return {"item": STATEFULSET, "resources": resources}


def test_a_workload_the_gate_did_not_find_is_named_from_its_item():
    assert workloads_not_ready([result([])], [], [], 300).startswith(
        "StatefulSet apps/redis did not roll out within 300 s: 0 of 1 replicas updated, 0 ready (1 pods in all)")


def test_a_workload_read_ready_is_left_out():
    found = {**STATEFULSET, "metadata": {**STATEFULSET["metadata"], "generation": 1},
             "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1}}
    found.pop("kind")  # the kind comes from the item asked for
    assert workload_rolled_out(found | {"kind": "StatefulSet"})
    assert workloads_not_ready([result([found])], None, None) == ""


def test_the_tier1_gate_reads_a_deployment_rolled_out_only_when_available_with_every_replica_ready():
    status = {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "conditions": [{"type": "Available", "status": "True"}]}
    assert deployment_rolled_out({"kind": "Deployment", "status": status}, 2) is True
    assert deployment_rolled_out({"kind": "Deployment", "status": {**status, "readyReplicas": 1}}, 2) is False
    assert deployment_rolled_out(None, 2) is False  # nothing read
