# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.rollout import (
    new_replicaset, pod_state, rolled_out, rollout_complete, rollout_failure, workload_counts, workloads_failure)

OWNER = ({"apiVersion": "apps/v1", "kind": "Deployment", "name": "squid-proxy", "uid": "uid-deploy", "controller": True},)
SCHEDULER = ("0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 3 Insufficient cpu. "
             "preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found.")


def deployment(updated=0, ready=2, available=2, total=3, wanted=2, conditions=(), generation=4, observed=4):
    return {"metadata": {"name": "squid-proxy", "namespace": "intra-proxy", "uid": "uid-deploy", "generation": generation,
                         "annotations": {"deployment.kubernetes.io/revision": "5"}},
            "spec": {"replicas": wanted},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "readyReplicas": ready,
                       "availableReplicas": available, "replicas": total, "conditions": list(conditions)}}


def replicaset(name, revision, template_hash, owner=OWNER, conditions=()):
    return {"metadata": {"name": name, "labels": {"pod-template-hash": template_hash}, "ownerReferences": list(owner),
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)}},
            "status": {"conditions": list(conditions)}}


OLD, NEW = replicaset("squid-proxy-old", 4, "old"), replicaset("squid-proxy-new", 5, "new")


def pod(name, template_hash="new", ready=False, scheduled=True, containers=(), **metadata):
    conditions = [{"type": "PodScheduled", "status": "True"} if scheduled else
                  {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": SCHEDULER},
                  {"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": {"name": name, "labels": {"pod-template-hash": template_hash}, **metadata},
            "status": {"phase": "Running" if ready else "Pending", "conditions": conditions, "containerStatuses": list(containers)}}


def waiting(reason, message="", **extra):
    return {"name": "squid", "ready": False, "restartCount": extra.pop("restarts", 0),
            "state": {"waiting": {"reason": reason, **({"message": message} if message else {})}}, **extra}


@pytest.mark.parametrize("state, expected", [
    (pod("p", scheduled=False), "p Pending (Unschedulable: 0/4 nodes are available: 1 node(s) had untolerated taint"),
    (pod("p", containers=[waiting("ImagePullBackOff", 'Back-off pulling image "aibang-testbed.local/squid:nope"')]),
     'p Pending: container squid waiting (ImagePullBackOff: Back-off pulling image "aibang-testbed.local/squid:nope")'),
    (pod("p", containers=[waiting("CrashLoopBackOff", "back-off 20s restarting failed container",
                                  lastState={"terminated": {"exitCode": 1, "reason": "Error"}})]),
     "p Pending: container squid waiting (CrashLoopBackOff: back-off 20s restarting failed container, last exit code 1)"),
    (pod("p", containers=[{"name": "squid", "ready": False, "restartCount": 3, "state": {"running": {}}}]),
     "p Pending: container squid running, not ready (restarts 3)"),
    (pod("p", containers=[{"name": "squid", "ready": True, "state": {"running": {}}}]), "p Pending, not ready"),
    (pod("p", ready=True, containers=[{"name": "squid", "ready": True, "state": {"running": {}}}]), "p ready"),
])
def test_pod_state_names_what_the_pod_waits_for(state, expected):
    assert pod_state(state).startswith(expected)


def test_a_long_scheduler_message_is_cut():
    described = pod_state(pod("p", scheduled=False))
    assert described.endswith("...)") and len(described) < len(SCHEDULER) + 30


def test_the_new_replicaset_is_the_owned_one_of_the_newest_revision():
    stranger = replicaset("other-app", 9, "x", owner=({"uid": "uid-other", "controller": True},))
    assert new_replicaset(deployment(), [NEW, OLD, stranger]) is NEW
    assert new_replicaset(deployment(), [stranger]) is None


def test_the_message_names_the_counts_and_the_new_pods_reason():
    pods = [pod("squid-proxy-old-a", "old", ready=True), pod("squid-proxy-old-b", "old", ready=True),
            pod("squid-proxy-new-c", scheduled=False)]
    message = rollout_failure(deployment(), [OLD, NEW], pods, 20)
    assert message.startswith("Deployment intra-proxy/squid-proxy did not roll out within 20 s: 0 of 2 replicas updated, "
                              "2 ready, 2 available (3 pods in all); new pods not ready: squid-proxy-new-c Pending "
                              "(Unschedulable: 0/4 nodes are available"), message
    assert "squid-proxy-old" not in message


@pytest.mark.parametrize("replicasets, pods, deployment_state, expected", [
    ([OLD], [], deployment(), "; the controller has not created the new ReplicaSet"),
    ([OLD, NEW], [], deployment(), "; the new ReplicaSet squid-proxy-new has no pod yet"),
    ([OLD, replicaset("squid-proxy-new", 5, "new", conditions=[
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": 'pods "x" is forbidden: exceeded quota'}])],
     [], deployment(), '; ReplicaSet squid-proxy-new cannot create pods (FailedCreate: pods "x" is forbidden: exceeded quota)'),
    ([OLD, NEW], [pod(f"squid-proxy-new-{index}", containers=[waiting("ErrImageNeverPull")]) for index in range(5)], deployment(),
     "squid-proxy-new-2 Pending: container squid waiting (ErrImageNeverPull); and 2 more not ready"),
    ([NEW], [pod("squid-proxy-new-a", ready=True), pod("squid-proxy-new-b", deletionTimestamp="2026-11-23T22:00:00Z")],
     deployment(updated=2, ready=1, available=1), "; the 1 new pod(s) are ready"),
    ([NEW], [], deployment(conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                        "message": 'ReplicaSet "squid-proxy-new" has timed out progressing.'}]),
     '(3 pods in all); ReplicaSet "squid-proxy-new" has timed out progressing.; the new ReplicaSet'),
    ([NEW], [], deployment(generation=5, observed=4), "(3 pods in all); the controller has not seen the latest spec;"),
])
def test_the_message_for_each_way_a_rollout_stalls(replicasets, pods, deployment_state, expected):
    assert expected in rollout_failure(deployment_state, replicasets, pods)


def test_without_a_wait_the_message_names_no_duration():
    assert rollout_failure(deployment(), [NEW], []).startswith("Deployment intra-proxy/squid-proxy did not roll out: ")


def workload(kind, wanted, updated, ready, total=None, generation=2, observed=2, name="w", namespace="apps"):
    """A workload as k8s_info reads it (a DaemonSet's counts in its own status fields)."""
    meta = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": "5"}}
    selector = {"matchLabels": {"app.kubernetes.io/name": name}}
    if kind == "DaemonSet":
        status = {"desiredNumberScheduled": wanted, "updatedNumberScheduled": updated, "numberReady": ready,
                  "currentNumberScheduled": wanted if total is None else total}
        return {"kind": kind, "metadata": meta, "spec": {"selector": selector}, "status": {"observedGeneration": observed, **status}}
    status = {"updatedReplicas": updated, "readyReplicas": ready, "replicas": wanted if total is None else total}
    return {"kind": kind, "metadata": meta, "spec": {"replicas": wanted, "selector": selector},
            "status": {"observedGeneration": observed, **status}}


@pytest.mark.parametrize("state, expected", [
    (workload("Deployment", 3, 3, 3), True),
    (workload("Deployment", 3, 3, 3, total=4), False),  # a pod of the older revision still runs
    (workload("Deployment", 3, 1, 2, total=3), False),
    (workload("Deployment", 3, 3, 3, generation=3), False),  # the controller has not seen the latest spec
    (workload("StatefulSet", 1, 1, 1), True),
    (workload("StatefulSet", 1, 0, 0), False),
    (workload("DaemonSet", 3, 3, 3), True),
    (workload("DaemonSet", 3, 3, 2), False),
    ({"kind": "Deployment", "metadata": {"name": "gone"}, "spec": {"replicas": 2}}, False),  # nothing read: no status
])
def test_rolled_out_wants_every_replica_updated_and_ready_and_no_older_pod(state, expected):
    assert rolled_out(state) is expected


AVAILABLE = {"type": "Available", "status": "True"}


@pytest.mark.parametrize("state, wanted, expected", [
    (deployment(updated=2, ready=2, total=2, conditions=[AVAILABLE]), 2, True),
    (deployment(updated=2, ready=2, total=2, conditions=[AVAILABLE]), "2", True),  # squid_gke_replicas from a template
    (deployment(updated=2, ready=2, total=2, conditions=[{**AVAILABLE, "status": "False"}]), 2, False),
    (deployment(updated=2, ready=2, total=2), 2, False),  # no Available condition yet
    (deployment(updated=1, ready=2, total=3, conditions=[AVAILABLE]), 2, False),  # a pod of the old template runs
    (deployment(updated=2, ready=1, total=2, conditions=[AVAILABLE]), 2, False),
    (deployment(updated=2, ready=2, total=2, conditions=[AVAILABLE]), 3, False),  # scaled up, not there yet
    ({}, 2, False),  # the gate's read found nothing
])
def test_rollout_complete_wants_available_and_every_replica_updated_and_ready(state, wanted, expected):
    assert rollout_complete(state, wanted) is expected


def test_a_daemonset_counts_its_scheduled_pods():
    assert workload_counts(workload("DaemonSet", 3, 2, 1)) == {"wanted": 3, "updated": 2, "ready": 1, "total": 3}


def owned_pod(name, workload_name="w", namespace="apps", **state):
    found = pod(name, **state)
    found["metadata"].update({"namespace": namespace, "labels": {**found["metadata"]["labels"], "app.kubernetes.io/name": workload_name}})
    return found


def test_only_the_workloads_not_rolled_out_are_named_each_with_its_counts_and_pods():
    ready = workload("Deployment", 2, 2, 2, name="web")
    redis = workload("StatefulSet", 1, 0, 0, name="redis")
    pods = [owned_pod("redis-0", "redis", containers=[waiting("ImagePullBackOff", 'Back-off pulling image "redis:nope"')]),
            owned_pod("web-a", "web", ready=True), owned_pod("redis-0", "redis", namespace="other", scheduled=False)]
    message = workloads_failure([ready, redis], [], pods, 300)
    assert message == ("StatefulSet apps/redis did not roll out within 300 s: 0 of 1 replicas updated, 0 ready (1 pods in all); "
                       'pods not ready: redis-0 Pending: container squid waiting (ImagePullBackOff: Back-off pulling image "redis:nope")')
    assert workloads_failure([ready], [], pods, 300) == ""


def test_a_deployment_is_said_as_its_rollout_gate_says_it():
    """Tier 1 restored at three replicas over three nodes, maxUnavailable 0: the surge pod finds no node the required
    anti-affinity allows (the cause of the tier-1 restore failure after rollback -e release=N)."""
    tier1 = {**deployment(updated=1, ready=3, available=3, total=4, wanted=3), "kind": "Deployment",
             "spec": {"replicas": 3, "selector": {"matchLabels": {"app.kubernetes.io/name": "squid-proxy"}}}}
    new = dict(NEW, metadata={**NEW["metadata"], "namespace": "intra-proxy"})
    stranger = dict(OLD, metadata={**OLD["metadata"], "namespace": "elsewhere", "name": "elsewhere-rs"})
    pods = [owned_pod(f"squid-proxy-old-{index}", "squid-proxy", "intra-proxy", template_hash="old", ready=True) for index in range(3)]
    pods.append(owned_pod("squid-proxy-new-a", "squid-proxy", "intra-proxy", scheduled=False))
    message = workloads_failure([tier1], [new, stranger], pods, 300)
    assert message == rollout_failure(tier1, [new], pods, 300)
    assert message.startswith("Deployment intra-proxy/squid-proxy did not roll out within 300 s: 1 of 3 replicas updated, "
                              "3 ready, 3 available (4 pods in all); new pods not ready: squid-proxy-new-a Pending (Unschedulable"), message


def test_each_workload_not_ready_is_its_own_sentence_and_pods_beyond_three_are_counted():
    first = workload("StatefulSet", 5, 0, 0, name="a")
    second = workload("DaemonSet", 2, 2, 1, name="b")
    pods = [owned_pod(f"a-{index}", "a", scheduled=False) for index in range(5)] + [owned_pod("b-x", "b", ready=True)]
    message = workloads_failure([first, second], [], pods)
    assert message.count(" did not roll out: ") == 2 and "; and 2 more not ready. DaemonSet apps/b" in message, message
    assert message.endswith("1 ready (2 pods in all); no pod of it is waiting"), message
