# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What app_workload_apply does, given the API server's `request`: the module runs it over the kubernetes client, the
action plugin in the controller over the standard library (neither imports the other's client)."""

from __future__ import annotations

import time

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_apply as apply
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_auth import AUTH_ARGUMENT_SPEC

ARGUMENT_SPEC = {
    "objects": {"type": "list", "elements": "dict", "required": True},
    "apps": {"type": "list", "elements": "dict", "default": []},
    "secrets": {"type": "dict", "default": {}, "no_log": True},
    "field_manager": {"type": "str", "default": "aibang.gke_platform"},
    "force_conflicts": {"type": "bool", "default": True},
    "prune_selector": {"type": "str", "default": ""},
    "prune_namespaces": {"type": "list", "elements": "str", "default": []},
    "gates": {"type": "dict", "default": {}},
    "namespace": {"type": "str", "default": "default"},
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 300},
    "run_cronjobs": {"type": "bool", "default": False},
    **AUTH_ARGUMENT_SPEC,
}


def outcome_of(results: list, pruned: list, diff: bool) -> dict:
    outcome = {"changed": any(result["changed"] for result in results) or bool(pruned), "pruned": pruned, "jobs": [],
               "results": [{key: result[key] for key in ("kind", "namespace", "name", "changed", "fields")}
                           for result in results]}
    if diff:
        outcome["diff"] = apply.diff_of(results, pruned)
    return outcome


def gates_failed(outcome: dict, unmet: list, waiting: list, timeout: int) -> dict:
    return dict(outcome, failed=True, unmet=unmet, pods_not_ready=waiting,
                msg=f"Gates not passed after {timeout} s: {'; '.join(unmet)}"
                + (f"; pods not ready: {'; '.join(waiting)}" if waiting else ""))


def run_objects(params: dict, check: bool, diff: bool, request, clock, sleep) -> dict:
    """One list of objects, its prune and the gates of O(namespace)."""
    objects = apply.fill_secrets(params["objects"], params["secrets"])
    results = apply.apply_all(request, objects, params["field_manager"], dry_run=check, force=params["force_conflicts"])
    pruned = apply.prune(request, objects, params["prune_namespaces"], params["prune_selector"], dry_run=check) \
        if params["prune_selector"] else []
    outcome = outcome_of(results, pruned, diff)
    if check:
        return outcome
    if params["run_cronjobs"] and params["gates"].get("cronjobs"):
        outcome["jobs"] = apply.run_cronjobs(request, params["namespace"], params["gates"]["cronjobs"],
                                             f"manual-{int(time.time())}")
        outcome["changed"] = True
    if params["wait"] or outcome["jobs"]:
        unmet = apply.wait_for_gates(request, params["namespace"], params["gates"] if params["wait"] else {},
                                     outcome["jobs"], params["wait_timeout"], clock, sleep)
        if unmet:
            waiting = apply.pods_not_ready(request, params["namespace"], params["gates"], unmet)
            return gates_failed(outcome, unmet, waiting, params["wait_timeout"])
    return outcome


def run_apps(params: dict, check: bool, diff: bool, request, clock, sleep) -> dict:
    """The whole stage: the namespaces' objects and every app in one call, every app's gates, then one prune.

    The prune comes last, once every gate passed: a failed gate leaves the objects of the apps no longer listed in
    place (``pruned: []``), Secrets included, which the stage's snapshot never holds, so the automatic rollback can
    bring those apps back. Check mode reports the prune it would do (a dry run); it waits for no gate."""
    apps = [dict(app, objects=apply.fill_secrets(app["objects"], params["secrets"])) for app in params["apps"]]
    results, reads = apply.apply_stage(
        request, params["objects"], apps, params["prune_namespaces"], params["prune_selector"],
        params["field_manager"], dry_run=check, force=params["force_conflicts"])
    applied = params["objects"] + [obj for app in apps for obj in app["objects"]]
    if check:
        return outcome_of(results, apply.prune_owned(request, applied, reads, dry_run=True), diff)
    outcome = outcome_of(results, [], diff)
    jobs = {}
    if params["run_cronjobs"]:
        for app in apps:
            if app["gates"].get("cronjobs"):
                jobs[app["name"]] = apply.run_cronjobs(request, app["namespace"], app["gates"]["cronjobs"],
                                                       f"manual-{int(time.time())}")
        outcome["jobs"] = [job for names in jobs.values() for job in names]
        outcome["changed"] = outcome["changed"] or bool(outcome["jobs"])
    gated = apps if params["wait"] else [dict(app, gates={}) for app in apps]
    if params["wait"] or outcome["jobs"]:
        unmet = apply.wait_for_apps(request, gated, jobs, reads.applied, params["wait_timeout"], clock, sleep)
        if unmet:
            waiting = [line for app in gated for line in apply.pods_not_ready(request, app["namespace"], app["gates"], unmet)]
            return gates_failed(outcome, unmet, waiting, params["wait_timeout"])
    pruned = apply.prune_owned(request, applied, reads, dry_run=False)
    return dict(outcome_of(results, pruned, diff), jobs=outcome["jobs"], changed=outcome["changed"] or bool(pruned))


def run_module(params: dict, check: bool, diff: bool, request, clock=time.monotonic, sleep=time.sleep) -> dict:
    """What the module returns (``failed`` and ``msg`` on a failure), given the API server's ``request``."""
    try:
        return (run_apps if params["apps"] else run_objects)(params, check, diff, request, clock, sleep)
    except apply.ApplyError as exc:
        return {"failed": True, "msg": str(exc)}
