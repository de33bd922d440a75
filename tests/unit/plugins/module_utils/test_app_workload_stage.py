# -*- coding: utf-8 -*-
"""The apps stage in one call (run_module with apps) against the in-memory API server: the prune of apps no longer
listed comes after every gate passed, so a failed gate leaves them (Secrets included) for the automatic rollback;
an empty prune_selector prunes none."""
from __future__ import annotations

import copy
import itertools

from ansible_collections.aibang.gke_platform.plugins.module_utils import release
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_stage import run_module
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload_apply import (
    SECRETS, SELECTOR, FakeApiServer, ready_deployment, rendered)

WEB, API = {"name": "web", "image": "web:1"}, {"name": "api", "image": "api:1", "cronjob": {"schedule": "@daily"}}
BROKEN = "web:never-ready"


class Cluster(FakeApiServer):
    """The fake API server with the Deployment controller's verdict: a Deployment is read back rolled out and ready,
    unless its image is BROKEN (then it has no status, as when its pods never become ready)."""

    def __call__(self, method, path, query, body, content_type):
        status, answer = super().__call__(method, path, query, body, content_type)
        if "/deployments/" in path and status == 200 and answer.get("spec") and BROKEN not in repr(answer["spec"]):
            answer = ready_deployment(answer)
        return status, answer


def params(apps, **extra):
    result = rendered(apps, "staging")
    return {"objects": result["namespace_objects"], "apps": result["apps"], "secrets": SECRETS,
            "field_manager": "aibang.gke_platform", "force_conflicts": True, "prune_selector": SELECTOR,
            "prune_namespaces": result["namespaces"], "gates": {}, "namespace": "default", "wait": True,
            "wait_timeout": 3, "run_cronjobs": False, **extra}


def run(server, apps, check=False, **extra):
    ticks = itertools.count()
    return run_module(params(apps, **extra), check, True, server, clock=lambda: next(ticks), sleep=lambda seconds: None)


def of_app(server, app):
    return {path for path, obj in server.store.items() if obj["metadata"].get("labels", {}).get("aibang.io/app") == app}


def test_a_removed_app_outlives_a_failed_gate_secret_included():
    """web changes to an image that never gets ready while api is removed: the gate fails, nothing was pruned, and
    api's Secret (which no snapshot holds) is still there, so the rollback of the snapshot has nothing to re-create."""
    server = Cluster()
    assert not run(server, [WEB, API]).get("failed")
    api = of_app(server, "api")
    assert "/api/v1/namespaces/aibang-staging/secrets/api-db" in api
    snapshot = release.snapshot([server.store[path] for path in sorted(server.store)])

    failed = run(server, [dict(WEB, image=BROKEN)])
    assert failed["failed"] and failed["msg"].startswith("Gates not passed after 3 s: Deployment aibang-staging/web")
    assert failed["pruned"] == [] and list(failed["diff"]["after"]) == ["Deployment aibang-staging/web"]
    assert of_app(server, "api") == api
    now = [obj for obj in server.store.values() if obj["kind"] not in release.NEVER_SNAPSHOT]
    assert release.restore_plan(snapshot, now)["create"] == []  # nothing went away


def test_gates_that_pass_prune_the_removed_app_as_check_mode_reported():
    server = Cluster()
    run(server, [WEB, API])
    api = of_app(server, "api")
    checked = run(server, [WEB], check=True)
    assert {item["app"] for item in checked["pruned"]} == {"api"} and checked["changed"] and of_app(server, "api") == api
    passed = run(server, [WEB])
    assert not passed.get("failed") and passed["changed"]
    assert sorted(f"{item['kind']}/{item['name']}" for item in passed["pruned"]) == sorted(
        f"{item['kind']}/{item['name']}" for item in checked["pruned"])
    assert of_app(server, "api") == set() and set(passed["diff"]["before"]) >= {"Secret aibang-staging/api-db"}


def test_an_empty_prune_selector_prunes_none():
    """The module's documentation: "Empty prunes none". An API server reads labelSelector= as everything: no listing
    with it may go out, and nothing of the app no longer listed is deleted, in check mode or for real."""
    server = Cluster()
    run(server, [WEB, API])
    kept = copy.deepcopy(server.store)
    for check in (True, False):
        outcome = run(server, [WEB], check=check, prune_selector="")
        assert not outcome.get("failed") and outcome["pruned"] == [] and not outcome["changed"]
    assert server.store.keys() == kept.keys()
    assert not any(query.get("labelSelector") == "" for _method, _path, query in server.calls)
