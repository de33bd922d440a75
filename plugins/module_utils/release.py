# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stage's previous release: the Kubernetes objects it owns, as they were before the stage ran, and how to put them
back (replace what changed, create what went away, delete what the failed stage added).

Pure data in, data out: the play reads the objects (kubernetes.core.k8s_info) and applies the plan.
"""

from __future__ import annotations

# Written by the API server or a controller: never part of what a release restores.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences")
CONTROLLER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
# Never kept: a snapshot must not hold secrets in clear (they stay in vault and are applied again by the stage).
NEVER_SNAPSHOT = ("Secret",)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class ReleaseError(ValueError):
    """Bad input: the message names the field and the value."""


def key(obj: dict) -> tuple:
    metadata = obj.get("metadata") or {}
    return (obj.get("apiVersion"), obj.get("kind"), metadata.get("namespace") or "", metadata.get("name"))


def label(obj_key: tuple) -> str:
    _api, kind, namespace, name = obj_key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def clean(obj: dict) -> dict:
    """The object as it would be written: no status, no server-set metadata, no controller-set annotation."""
    if not isinstance(obj, dict) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
        raise ReleaseError(f"objects: {str(obj)[:120]!r} is not a Kubernetes object (kind, metadata.name)")
    if obj["kind"] in NEVER_SNAPSHOT:
        raise ReleaseError(f"objects: {label(key(obj))} is a {obj['kind']}; secrets are never kept in a snapshot")
    result = {name: value for name, value in obj.items() if name != "status"}
    metadata = {name: value for name, value in obj["metadata"].items() if name not in SERVER_METADATA}
    annotations = {name: value for name, value in (metadata.get("annotations") or {}).items() if name not in CONTROLLER_ANNOTATIONS}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    result["metadata"] = metadata
    return result


def snapshot(objects: list) -> list:
    """The objects as a release keeps them (cleaned, in a stable order); Secrets are left out."""
    kept = [clean(obj) for obj in objects or [] if obj.get("kind") not in NEVER_SNAPSHOT]
    return sorted(kept, key=lambda obj: tuple(str(part) for part in key(obj)))


def patch(previous: dict, current: dict) -> list:
    """The JSON patch (RFC 6902) that puts ``previous`` back over ``current`` (both cleaned): its labels, annotations
    and each top-level field set whole, the fields it did not have removed. A PATCH, unlike a replace, needs no
    resourceVersion (a PodDisruptionBudget refuses an update without one) and does not lose to a status update the
    controllers made since the read (a replace at the version read would)."""
    ops = [{"op": "add", "path": f"/metadata/{field}", "value": previous["metadata"].get(field) or {}}
           for field in ("labels", "annotations")]
    for field in sorted((set(previous) | set(current)) - {"apiVersion", "kind", "metadata"}):
        ops.append({"op": "add", "path": f"/{field}", "value": previous[field]} if field in previous else
                   {"op": "remove", "path": f"/{field}"})
    return ops


def restore_plan(before: list, now: list) -> dict:
    """What puts the objects back as they were: {replace (the objects that differ), patches (a JSON patch for each),
    create, delete (keys as labels), workloads, summary}.

    ``before`` is the snapshot; ``now`` the same queries read again. An object that is the same is left alone."""
    previous = {key(obj): obj for obj in snapshot(before)}
    current = {key(obj): clean(obj) for obj in now or [] if obj.get("kind") not in NEVER_SNAPSHOT}
    replace = [previous[k] for k in sorted(previous, key=str) if k in current and current[k] != previous[k]]
    patches = [{"api_version": k[0], "kind": k[1], "namespace": k[2], "name": k[3], "patch": patch(previous[k], current[k])}
               for k in sorted(previous, key=str) if k in current and current[k] != previous[k]]
    create = [previous[k] for k in sorted(previous, key=str) if k not in current]
    delete = [{"api_version": k[0], "kind": k[1], "namespace": k[2], "name": k[3]} for k in sorted(current, key=str) if k not in previous]
    workloads = [obj for obj in replace + create if obj["kind"] in WORKLOAD_KINDS]
    summary = ([f"restored {label(key(obj))}" for obj in replace] + [f"re-created {label(key(obj))}" for obj in create]
               + [f"deleted {item['kind']} {item['namespace']}/{item['name']}" for item in delete])
    return {"replace": replace, "patches": patches, "create": create, "delete": delete, "workloads": workloads,
            "summary": summary or ["nothing differed from the previous release"]}


def owned_by(obj: dict, owner: dict) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    return any(ref.get("uid") == uid and ref.get("controller") for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def stuck_pods(statefulset: dict, pods: list) -> list:
    """Pods of a reverted StatefulSet that will not come back by themselves: its own (by owner reference, among the
    namespace's pods), not Ready, and not of its update revision (the StatefulSet controller waits for a broken pod to
    become Ready before it replaces it)."""
    status = statefulset.get("status") or {}
    wanted = status.get("updateRevision") or status.get("currentRevision")
    stuck = []
    for pod in pods or []:
        conditions = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
        revision = ((pod.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash")
        if owned_by(pod, statefulset) and conditions.get("Ready") != "True" and revision != wanted:
            stuck.append(pod["metadata"]["name"])
    return sorted(stuck)
