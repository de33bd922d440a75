# -*- coding: utf-8 -*-
from __future__ import annotations

import copy

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.release import ReleaseError, clean, restore_plan, snapshot, stuck_pods


def obj(kind, name, namespace="intra-proxy", api="v1", **body):
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace, "uid": "u-" + name,
                                                          "resourceVersion": "7", "managedFields": [{}],
                                                          "creationTimestamp": "2026-11-23T10:00:00Z"}, **body}


DEPLOYMENT = obj("Deployment", "squid-proxy", api="apps/v1", spec={"replicas": 2, "template": {"spec": {"image": "squid:5"}}},
                 status={"readyReplicas": 2})
DEPLOYMENT["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
CONFIGMAP = obj("ConfigMap", "squid-proxy-policy-abc", data={"squid.conf": "http_port 3128\n"})


def test_clean_keeps_what_is_written_and_nothing_the_server_sets():
    cleaned = clean(DEPLOYMENT)
    assert cleaned["metadata"] == {"name": "squid-proxy", "namespace": "intra-proxy",
                                   "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}
    assert "status" not in cleaned and cleaned["spec"] == DEPLOYMENT["spec"]
    assert DEPLOYMENT["status"] == {"readyReplicas": 2}  # the input is not modified


def test_secrets_never_enter_a_snapshot():
    secret = obj("Secret", "app-db", data={"DB_PASSWORD": "c2VjcmV0"})
    assert snapshot([CONFIGMAP, secret]) == [clean(CONFIGMAP)]
    with pytest.raises(ReleaseError, match="secrets are never kept"):
        clean(secret)


@pytest.mark.parametrize("bad", [{}, {"kind": "ConfigMap", "metadata": {}}, "text"])
def test_clean_refuses_what_is_not_an_object(bad):
    with pytest.raises(ReleaseError, match="is not a Kubernetes object"):
        clean(bad)


def changed(original, **spec):
    result = copy.deepcopy(original)
    result["spec"].update(spec)
    result["metadata"]["resourceVersion"] = "9"
    result["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
    return result


@pytest.mark.parametrize("now, replace, create, delete", [
    ([DEPLOYMENT, CONFIGMAP], [], [], []),
    ([changed(DEPLOYMENT, replicas=5), CONFIGMAP], ["squid-proxy"], [], []),
    ([changed(DEPLOYMENT, replicas=5), CONFIGMAP, obj("ConfigMap", "squid-proxy-policy-new", data={})], ["squid-proxy"], [],
     ["squid-proxy-policy-new"]),
    ([DEPLOYMENT], [], ["squid-proxy-policy-abc"], []),
])
def test_restore_plan(now, replace, create, delete):
    plan = restore_plan(snapshot([DEPLOYMENT, CONFIGMAP]), now)
    assert [o["metadata"]["name"] for o in plan["replace"]] == replace
    assert [o["metadata"]["name"] for o in plan["create"]] == create
    assert [o["name"] for o in plan["delete"]] == delete
    assert plan["workloads"] == [o for o in plan["replace"] + plan["create"] if o["kind"] == "Deployment"]
    assert plan["summary"] if (replace or create or delete) else plan["summary"] == ["nothing differed from the previous release"]


def test_the_plan_restores_the_object_as_it_was():
    plan = restore_plan(snapshot([DEPLOYMENT]), [changed(DEPLOYMENT, template={"spec": {"image": "squid:broken"}})])
    assert plan["replace"] == [clean(DEPLOYMENT)]
    assert plan["summary"] == ["restored Deployment intra-proxy/squid-proxy"]


def test_the_plan_puts_each_object_back_with_a_json_patch_that_needs_no_resource_version():
    """A replace at no version was refused for a PodDisruptionBudget (422 on the lab); one at the version read loses to
    the disruption controller's status updates. The patch sets labels, annotations and each field whole."""
    before = obj("PodDisruptionBudget", "squid-proxy", api="policy/v1", spec={"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}})
    before["metadata"]["labels"] = {"app.kubernetes.io/name": "squid-proxy"}
    now = copy.deepcopy(before)
    now["spec"] = {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}}  # minAvailable gone, another field set
    now["metadata"]["annotations"] = {"added": "by the failed stage"}
    now["extra"] = {"x": 1}
    plan = restore_plan(snapshot([before]), [now])
    assert plan["patches"] == [{"api_version": "policy/v1", "kind": "PodDisruptionBudget", "namespace": "intra-proxy", "name": "squid-proxy",
                                "patch": [{"op": "add", "path": "/metadata/labels", "value": {"app.kubernetes.io/name": "squid-proxy"}},
                                          {"op": "add", "path": "/metadata/annotations", "value": {}},
                                          {"op": "remove", "path": "/extra"},
                                          {"op": "add", "path": "/spec", "value": before["spec"]}]}]
    assert not any("resourceVersion" in str(op) for op in plan["patches"][0]["patch"])


def pod(name, ready, revision, owner="uid-redis"):
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": revision},
                         "ownerReferences": [{"kind": "StatefulSet", "name": "redis", "uid": owner, "controller": True}]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


@pytest.mark.parametrize("pods, expected", [
    ([pod("redis-0", False, "redis-bad")], ["redis-0"]),
    ([pod("redis-0", False, "redis-good")], []),  # of the reverted revision: it is on its way
    ([pod("redis-0", True, "redis-bad")], []),  # ready: the controller rolls it itself
    ([pod("redis-1", False, "redis-bad"), pod("redis-0", True, "redis-good")], ["redis-1"]),
    ([pod("other-0", False, "other-bad", owner="uid-other")], []),  # another StatefulSet's pod in the namespace
    ([{"metadata": {"name": "job-x"}, "status": {"phase": "Failed"}}], []),  # a pod no StatefulSet owns
])
def test_stuck_pods(pods, expected):
    statefulset = {"metadata": {"name": "redis", "uid": "uid-redis"},
                   "status": {"updateRevision": "redis-good", "currentRevision": "redis-bad"}}
    assert stuck_pods(statefulset, pods) == expected


def test_an_empty_snapshot_restores_to_nothing_deleting_what_the_run_added():
    """A release of the apps' first deploy keeps before: []: rollback.yml restores it, and the plan deletes every object
    the run added (Secrets are neither kept nor touched: they are not part of a release)."""
    now = [DEPLOYMENT, CONFIGMAP, obj("Secret", "app-db", data={"DB_PASSWORD": "c2VjcmV0"})]
    for before in ([], None):
        plan = restore_plan(before, now)
        assert plan["replace"] == plan["patches"] == plan["create"] == plan["workloads"] == []
        assert plan["delete"] == [{"api_version": "apps/v1", "kind": "Deployment", "namespace": "intra-proxy", "name": "squid-proxy"},
                                  {"api_version": "v1", "kind": "ConfigMap", "namespace": "intra-proxy", "name": "squid-proxy-policy-abc"}]
        assert plan["summary"] == ["deleted Deployment intra-proxy/squid-proxy", "deleted ConfigMap intra-proxy/squid-proxy-policy-abc"]
    assert restore_plan([], [])["summary"] == ["nothing differed from the previous release"]
