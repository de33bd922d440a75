# -*- coding: utf-8 -*-
"""Server-side apply, dry run, changed fields, pruning and gates against a small in-memory API server that keeps
objects as an API server does (resourceVersion bumped only on a real change, managedFields, dry runs not stored)."""
from __future__ import annotations

import copy
import itertools
import re

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_apply as apply
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import all_objects, render
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT, FULL


class FakeApiServer:
    def __init__(self):
        self.store = {}
        self.versions = itertools.count(1)
        self.calls = []

    def __call__(self, method, path, query, body, content_type):
        self.calls.append((method, path, dict(query)))
        dry = query.get("dryRun") == "All"
        if method == "GET" and path in self.store:
            return 200, copy.deepcopy(self.store[path])
        if method == "GET" and query.get("labelSelector") is not None:
            return 200, {"items": [copy.deepcopy(obj) for key, obj in self.store.items()
                                   if key.rsplit("/", 1)[0] == path and self.matches(obj, query["labelSelector"])]}
        if method == "GET":
            return 404, {"message": f"{path} not found"}
        if method == "PATCH":
            assert content_type == apply.APPLY_CONTENT_TYPE and query["fieldManager"]
            current = self.store.get(path)
            stored = copy.deepcopy(body)
            stored["metadata"]["managedFields"] = [{"manager": query["fieldManager"], "operation": "Apply"}]
            if current and apply.comparable(current) == apply.comparable(stored):
                return 200, copy.deepcopy(current)
            stored["metadata"]["resourceVersion"] = str(next(self.versions))
            if not dry:
                self.store[path] = stored
            return 200, copy.deepcopy(stored)
        if method == "DELETE":
            if path not in self.store:
                return 404, {"message": "not found"}
            if not dry:
                del self.store[path]
            return 200, {}
        if method == "POST":
            self.store[f"{path}/{body['metadata']['name']}"] = copy.deepcopy(body)
            return 201, body
        raise AssertionError(method)

    @staticmethod
    def matches(obj, selector):
        """As the API server reads a labelSelector: every term must hold; an empty one (no term) matches everything."""
        labels = obj["metadata"].get("labels", {})
        for term in filter(None, selector.split(",")):
            if "notin" in term:
                key, values = re.match(r"(\S+) notin \((.*)\)", term).groups()
                if labels.get(key) in values.split(","):  # as the API server: no key matches "notin"
                    return False
            elif "=" in term:
                key, value = term.split("=")
                if labels.get(key) != value:
                    return False
            elif term not in labels:
                return False
        return True


def rendered(apps=None, env="dev"):
    return render(apps or [FULL], {"name": env, "namespace": f"aibang-{env}"}, CONTEXT)


def deploy(server, result, dry_run=False):
    objects = apply.fill_secrets(all_objects(result), {"DB_PASSWORD": "s3cret", "REDIS_PASSWORD": "r3dis"})
    return apply.apply_all(server, objects, "aibang.gke_platform", dry_run=dry_run)


def test_first_apply_creates_and_second_changes_nothing():
    server = FakeApiServer()
    first = deploy(server, rendered())
    assert all(result["changed"] and result["fields"] == ["(created)"] for result in first)
    second = deploy(server, rendered())
    assert not any(result["changed"] for result in second)
    assert all(query.get("fieldManager") == "aibang.gke_platform" for method, _path, query in server.calls
               if method == "PATCH")


def test_the_secret_is_stored_base64_and_never_shown():
    server = FakeApiServer()
    results = deploy(server, rendered())
    assert server.store["/api/v1/namespaces/aibang-dev/secrets/orders-db"]["data"] == {"DB_PASSWORD": "czNjcmV0"}
    secret = next(result for result in results if result["kind"] == "Secret")
    assert secret["after"]["data"] == {"DB_PASSWORD": apply.MASK}
    assert "czNjcmV0" not in repr(apply.diff_of(results, [])) and "s3cret" not in repr(apply.diff_of(results, []))


def test_dry_run_reports_exactly_the_changed_fields_and_stores_nothing():
    server = FakeApiServer()
    deploy(server, rendered())
    before = copy.deepcopy(server.store)
    results = deploy(server, rendered(apps=[dict(FULL, size="M")]), dry_run=True)
    assert server.store == before
    changed = {f"{r['kind']}/{r['name']}": r["fields"] for r in results if r["changed"]}
    container = "spec.template.spec.containers[0].resources"
    assert changed == {"Deployment/orders": [f"{container}.limits.cpu", f"{container}.limits.memory",
                                             f"{container}.requests.cpu", f"{container}.requests.memory"],
                       "CronJob/orders-job": [f"spec.jobTemplate.{container}.{field}" for field in
                                              ("limits.cpu", "limits.memory", "requests.cpu", "requests.memory")]}
    diff = apply.diff_of(results, [])
    assert diff["after"]["Deployment aibang-dev/orders"][f"{container}.requests.cpu"] == "250m"
    assert diff["before"]["Deployment aibang-dev/orders"][f"{container}.requests.cpu"] == "100m"


def test_dry_run_into_a_namespace_that_does_not_exist_yet():
    server = FakeApiServer()
    results = deploy(server, rendered(), dry_run=True)
    assert all(result["changed"] for result in results) and server.store == {}


def test_prune_removes_only_owned_objects_that_are_gone():
    server = FakeApiServer()
    deploy(server, rendered())
    foreign = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "hand-made", "namespace": "aibang-dev", "labels": {"team": "x"}}}
    server.store[apply.object_path(foreign)] = foreign
    slim = rendered(apps=[{"name": "orders", "image": "registry.example/orders:1.4"}])
    objects = slim["apps"][0]["objects"]
    selector = "app.kubernetes.io/managed-by=aibang.gke_platform,aibang.io/app=orders"
    assert apply.prune(server, objects, ["aibang-dev"], selector, dry_run=True)
    removed = apply.prune(server, objects, ["aibang-dev"], selector)
    assert sorted(f"{item['kind']}/{item['name']}" for item in removed) == [
        "ConfigMap/orders-redis", "CronJob/orders-job", "DaemonSet/orders-logs", "NetworkPolicy/orders-redis",
        "Secret/orders-redis", "Service/orders-redis", "StatefulSet/orders-redis"]
    assert apply.object_path(foreign) in server.store
    assert apply.prune(server, objects, ["aibang-dev"], selector) == []
    assert apply.prune(server, [], ["gone-namespace"], selector) == []


def test_apps_no_longer_listed_are_pruned_by_a_notin_selector():
    server = FakeApiServer()
    deploy(server, rendered(apps=[{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]))
    selector = "app.kubernetes.io/managed-by=aibang.gke_platform,aibang.io/app,aibang.io/app notin (a)"
    removed = apply.prune(server, [], ["aibang-dev"], selector)
    assert {item["name"] for item in removed} == {"b", "b-db"}


def test_prune_never_deletes_shared_objects_whatever_the_selector():
    server = FakeApiServer()
    result = rendered(apps=[{"name": "a", "image": "a:1"}])
    deploy(server, result)
    removed = apply.prune(server, [], ["aibang-dev"], "app.kubernetes.io/managed-by=aibang.gke_platform,aibang.io/app notin (a)")
    assert removed == []
    assert "/api/v1/namespaces/aibang-dev/serviceaccounts/app" in server.store
    assert "/api/v1/namespaces/aibang-dev/configmaps/a-db" in server.store


@pytest.mark.parametrize("status, spec_replicas, min_ready, generation, unmet", [
    ({"conditions": [{"type": "Available", "status": "True"}], "observedGeneration": 2, "replicas": 3,
      "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}, 3, 3, 2, False),
    ({"conditions": [{"type": "Available", "status": "True"}], "observedGeneration": 2, "replicas": 3,
      "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}, 3, 3, 2, True),
    ({"conditions": [{"type": "Available", "status": "True"}], "observedGeneration": 1, "replicas": 3,
      "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}, 3, 3, 2, True),
    ({"conditions": [{"type": "Available", "status": "True"}], "observedGeneration": 2, "replicas": 1,
      "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}, 1, 3, 2, True),
    ({"conditions": [{"type": "Available", "status": "False"}], "observedGeneration": 2, "replicas": 1,
      "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}, 1, 1, 2, True),
], ids=["ready", "one-not-ready", "old-generation", "below-hpa-minimum", "not-available"])
def test_deployment_gate(status, spec_replicas, min_ready, generation, unmet):
    obj = {"metadata": {"generation": generation}, "spec": {"replicas": spec_replicas}, "status": status}
    assert (apply.deployment_unmet(obj, min_ready) is not None) is unmet


@pytest.mark.parametrize("claims, unmet", [([("data-r-0", "Bound")], False), ([("data-r-0", "Pending")], True)])
def test_statefulset_gate_needs_bound_claims(claims, unmet):
    obj = {"metadata": {"generation": 1}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1, "currentReplicas": 1}}
    assert (apply.statefulset_unmet(obj, claims) is not None) is unmet


@pytest.mark.parametrize("status, unmet", [
    ({"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberReady": 2,
      "numberAvailable": 2, "observedGeneration": 1}, False),
    ({"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberReady": 1,
      "numberAvailable": 1, "observedGeneration": 1}, True)])
def test_daemonset_gate_covers_every_eligible_node(status, unmet):
    assert (apply.daemonset_unmet({"metadata": {"generation": 1}, "status": status}) is not None) is unmet


def test_a_cronjob_run_on_request_completes_or_fails_loudly():
    server = FakeApiServer()
    deploy(server, rendered())
    path = "/apis/batch/v1/namespaces/aibang-dev/cronjobs/orders-job"
    server.store[path]["metadata"]["uid"] = "u-1"
    jobs = apply.run_cronjobs(server, "aibang-dev", ["orders-job"], "manual-1")
    job_path = f"/apis/batch/v1/namespaces/aibang-dev/jobs/{jobs[0]}"
    job = server.store[job_path]
    assert job["spec"]["backoffLimit"] == 3 and job["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    ticks = itertools.count()
    assert apply.wait_for_gates(server, "aibang-dev", {}, jobs, 4, lambda: next(ticks), lambda _s: None)
    job["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    assert apply.wait_for_gates(server, "aibang-dev", {}, jobs, 4, lambda: next(ticks), lambda _s: None) == []
    job["status"] = {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}
    with pytest.raises(apply.ApplyError, match="BackoffLimitExceeded"):
        apply.gate_unmet(server, "aibang-dev", {}, jobs)


def test_a_refused_apply_names_the_object():
    def refusing(method, path, query, body, content_type):
        return (404, None) if method == "GET" else (422, {"message": "spec.replicas: Invalid value"})
    with pytest.raises(apply.ApplyError, match="Failed to apply Namespace aibang-dev: HTTP 422: spec.replicas"):
        apply.apply_all(refusing, all_objects(rendered())[:1], "m")


def test_diagnose_names_each_layer():
    server = FakeApiServer()
    result = rendered()
    deploy(server, result)
    layers = {layer["layer"]: layer for layer in apply.diagnose(server, result["apps"][0])}
    assert list(layers) == ["pod", "config", "endpoint", "database", "workload-identity"]
    assert not layers["pod"]["ok"] and "Available=False" in layers["pod"]["detail"]
    assert layers["config"]["ok"] and layers["database"]["ok"]
    assert not layers["endpoint"]["ok"]
    assert layers["workload-identity"]["ok"]


def test_a_failed_gate_names_what_the_pods_of_the_unmet_workloads_wait_for():
    server = FakeApiServer()
    deploy(server, rendered())
    namespace = "aibang-dev"
    redis = next(name for name in server.store if name.endswith("/statefulsets/orders-redis"))
    selector = server.store[redis]["spec"]["selector"]["matchLabels"]
    waiting = {"name": "redis", "ready": False, "state": {"waiting": {
        "reason": "ImagePullBackOff", "message": 'Back-off pulling image "redis:not-built"'}}}
    for name, labels, statuses in (("orders-redis-0", selector, [waiting]), ("someone-else", {"app": "x"}, [waiting])):
        server.store[f"/api/v1/namespaces/{namespace}/pods/{name}"] = {
            "metadata": {"name": name, "labels": labels},
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": statuses}}
    unmet = [f"StatefulSet {namespace}/orders-redis: ready/updated/current 0/1/0 of 1"]
    assert apply.pods_not_ready(server, namespace, {"deployments": ["orders"], "statefulsets": ["orders-redis"]}, unmet) == [
        'orders-redis-0 Pending: container redis waiting (ImagePullBackOff: Back-off pulling image "redis:not-built")']
    assert apply.pods_not_ready(server, namespace, {"statefulsets": ["orders-redis"]}, []) == []  # gates that passed


def test_pods_that_cannot_be_read_leave_the_gates_message_standing():
    def forbidding(method, path, query, body, content_type):
        return 403, {"message": "pods is forbidden"}
    assert apply.pods_not_ready(forbidding, "ns", {"statefulsets": ["r"]}, ["StatefulSet ns/r: ready/updated/current 0/1/0 of 1"]) == [
        "the pods of StatefulSet ns/r were not read (Failed to read StatefulSet r: HTTP 403: pods is forbidden)"]


# The whole stage in one call (the role's single apply task).
SELECTOR = "app.kubernetes.io/managed-by=aibang.gke_platform"
SECRETS = {"DB_PASSWORD": "s3cret", "REDIS_PASSWORD": "r3dis"}
WEB, API = {"name": "web", "image": "web:1"}, {"name": "api", "image": "api:1", "cronjob": {"schedule": "@daily"}}


def stage(server, apps, dry_run=False, selector=SELECTOR):
    """apply_stage, then prune_owned (the module prunes once the gates passed): (results, pruned, reads)."""
    result = rendered(apps, "staging")
    listed = [dict(app, objects=apply.fill_secrets(app["objects"], SECRETS)) for app in result["apps"]]
    results, reads = apply.apply_stage(server, result["namespace_objects"], listed, result["namespaces"], selector,
                                       "aibang.gke_platform", dry_run=dry_run)
    applied = result["namespace_objects"] + [obj for app in listed for obj in app["objects"]]
    return results, apply.prune_owned(server, applied, reads, dry_run), reads


def test_the_fake_reads_an_empty_selector_as_the_api_server_does_everything():
    server = FakeApiServer()
    deploy(server, rendered())
    _status, listing = server("GET", "/api/v1/namespaces/aibang-dev/configmaps", {"labelSelector": ""}, None, None)
    assert len(listing["items"]) == sum(1 for path in server.store if "/configmaps/" in path) > 1


def test_the_stage_applies_and_prunes_nothing_and_lists_nothing_without_a_selector():
    """An empty prune_selector prunes none (the module's documentation): no listing goes out, every object is read by
    itself, and the objects of an app no longer listed stay."""
    server = FakeApiServer()
    stage(server, [WEB, API])
    before = set(server.store)
    server.calls.clear()
    for dry_run in (True, False):
        results, pruned, reads = stage(server, [WEB], dry_run=dry_run, selector="")
        assert pruned == [] and reads.listed == {} and not any(result["changed"] for result in results)
    assert set(server.store) == before
    assert not any("labelSelector" in query for _method, _path, query in server.calls)


def test_a_converged_stage_changes_nothing_and_reads_one_listing_per_kind():
    server = FakeApiServer()
    results, pruned, _reads = stage(server, [WEB, API])
    assert all(result["changed"] for result in results) and not pruned
    server.calls.clear()
    results, pruned, reads = stage(server, [WEB, API])
    assert not any(result["changed"] for result in results) and not pruned
    reads_done = [call for call in server.calls if call[0] == "GET"]
    patches = [call for call in server.calls if call[0] == "PATCH"]
    assert len(patches) == len(results) == len(server.store)
    assert len(reads_done) == 1 + len(apply.PRUNABLE)  # the Namespace, then one listing per kind
    assert set(reads.applied) == set(server.store)


def test_the_stage_prunes_removed_objects_and_unlisted_apps_only():
    server = FakeApiServer()
    stage(server, [dict(WEB, redis=True), API])
    foreign = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "hand-made", "namespace": "aibang-staging", "labels": {"app.kubernetes.io/managed-by": "aibang.gke_platform"}}}
    server.store[apply.object_path(foreign)] = foreign
    kept = {path for path, obj in server.store.items() if "aibang.io/app" not in obj["metadata"]["labels"]}
    _results, pruned, _reads = stage(server, [WEB], dry_run=True)
    gone_of_api = (("ConfigMap", "api-db"), ("CronJob", "api-job"), ("Deployment", "api"), ("HorizontalPodAutoscaler", "api"),
                   ("NetworkPolicy", "api"), ("PodDisruptionBudget", "api"), ("Secret", "api-db"), ("Service", "api"))
    assert sorted(f"{item['app']} {item['kind']}/{item['name']}" for item in pruned) == sorted(
        [f"web {kind}/web-redis" for kind in ("ConfigMap", "NetworkPolicy", "Secret", "Service", "StatefulSet")]
        + [f"api {kind}/{name}" for kind, name in gone_of_api])
    assert any("/api-db" in path for path in server.store)  # a dry run deletes nothing
    _results, pruned_for_real, _reads = stage(server, [WEB])
    assert pruned_for_real == pruned and kept <= set(server.store)
    assert {obj["metadata"]["labels"].get("aibang.io/app") for obj in server.store.values()} == {"web", None}


def test_a_dry_run_of_the_stage_into_a_new_namespace_stores_nothing():
    server = FakeApiServer()
    results, pruned, _reads = stage(server, [WEB], dry_run=True)
    assert server.store == {} and not pruned and all(result["fields"] == ["(created)"] for result in results)


def test_a_refused_apply_in_the_stage_names_the_app_and_the_object():
    server = FakeApiServer()

    def refusing(method, path, query, body, content_type):
        if method == "PATCH" and "/deployments/" in path:
            return 422, {"message": "spec.replicas: Invalid value: -1"}
        return server(method, path, query, body, content_type)

    with pytest.raises(apply.ApplyError, match=r"^App web: Failed to apply Deployment aibang-staging/web: HTTP 422: spec.replicas"):
        stage(refusing, [WEB])


def ready_deployment(obj):
    obj = copy.deepcopy(obj)
    replicas = obj["spec"].setdefault("replicas", 3)  # the API server defaults it (the HPA scales it)
    obj["metadata"]["generation"] = 1
    obj["status"] = {"observedGeneration": 1, "conditions": [{"type": "Available", "status": "True"}],
                     **{key: replicas for key in ("updatedReplicas", "readyReplicas", "availableReplicas", "replicas")}}
    return obj


def test_the_gates_are_judged_first_on_the_applys_answers():
    server = FakeApiServer()
    _results, _pruned, reads = stage(server, [WEB, API])
    answers = {path: ready_deployment(obj) if "/deployments/" in path else obj for path, obj in reads.applied.items()}
    apps = rendered([WEB, API], "staging")["apps"]
    server.calls.clear()
    assert apply.wait_for_apps(server, apps, {}, answers, 10, lambda: 0, None) == []
    assert server.calls == []
    ticks = iter(range(100))
    unmet = apply.wait_for_apps(server, apps, {}, reads.applied, 3, lambda: next(ticks), lambda seconds: None)
    assert [line.split(":")[0] for line in unmet] == ["Deployment aibang-staging/web", "Deployment aibang-staging/api"]
    assert any(call[0] == "GET" and call[1].endswith("/deployments/web") for call in server.calls)  # polled afresh


def test_an_object_that_moved_to_another_app_is_kept_by_the_prune_of_the_app_it_left():
    """Service and NetworkPolicy web-redis belong to app web (its Redis) in one deploy and to a new app web-redis in the
    next: the listing, read before the apply, says app web; web no longer renders them, web-redis applies them now."""
    server = FakeApiServer()
    stage(server, [dict(WEB, redis=True)])
    moved = {path for path, obj in server.store.items() if obj["metadata"]["name"] == "web-redis"
             and obj["kind"] in ("Service", "NetworkPolicy")}
    assert len(moved) == 2
    for dry_run in (True, False):
        _results, pruned, _reads = stage(server, [WEB, {"name": "web-redis", "image": "redis-app:1"}], dry_run=dry_run)
        assert sorted(f"{item['app']} {item['kind']}/{item['name']}" for item in pruned) == [
            f"web {kind}/web-redis" for kind in ("ConfigMap", "Secret", "StatefulSet")]
    assert moved <= set(server.store)
    assert {server.store[path]["metadata"]["labels"]["aibang.io/app"] for path in moved} == {"web-redis"}
