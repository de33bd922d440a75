# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a Deployment's rollout did not complete, in one sentence for a gate's failure message: its replica counts and
what each new pod waits for (unschedulable, an image that does not pull, a container that crashes or is not ready).

Pure data in, data out: the play reads the Deployment, its ReplicaSets and its pods (kubernetes.core.k8s_info).
"""

from __future__ import annotations

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
PODS_NAMED = 3  # the new pods a message names; the others are counted
MESSAGE_CHARS = 220  # of each Kubernetes message quoted (a scheduler's message lists every node)


def metadata(obj: dict) -> dict:
    return (obj or {}).get("metadata") or {}


def revision(obj: dict) -> int:
    value = (metadata(obj).get("annotations") or {}).get(REVISION_ANNOTATION, "0")
    return int(value) if str(value).isdigit() else 0


def quoted(message) -> str:
    text = " ".join(str(message or "").split())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 3] + "..."


def new_replicaset(deployment: dict, replicasets: list) -> dict | None:
    """The Deployment's ReplicaSet of its current template: the one it owns with the Deployment's revision (a rollback to
    an older template gives that ReplicaSet the newest revision); None while the controller has not made it."""
    uid = metadata(deployment).get("uid")
    owned = [rs for rs in replicasets or []
             if not uid or any(ref.get("uid") == uid for ref in metadata(rs).get("ownerReferences") or [])]
    wanted = revision(deployment)
    current = [rs for rs in owned if revision(rs) == wanted] if wanted else owned
    return max(current, key=revision) if current else None


def condition(obj: dict, kind: str) -> dict:
    return next((item for item in ((obj or {}).get("status") or {}).get("conditions") or [] if item.get("type") == kind), {})


def container_problems(pod: dict) -> list:
    """One phrase per container that is not running ready: waiting (with its reason), terminated, or not ready."""
    status = pod.get("status") or {}
    problems = []
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state, name = container.get("state") or {}, container.get("name", "?")
        last = (container.get("lastState") or {}).get("terminated")
        exited = f", last exit code {last.get('exitCode')}" if last else ""
        if "waiting" in state:
            waiting = state["waiting"] or {}
            detail = f": {quoted(waiting['message'])}" if waiting.get("message") else ""
            problems.append(f"container {name} waiting ({waiting.get('reason') or 'no reason given'}{detail}{exited})")
        elif "terminated" in state and (state["terminated"] or {}).get("exitCode", 0) != 0:
            ended = state["terminated"]
            problems.append(f"container {name} terminated ({ended.get('reason') or 'Error'}, exit code {ended.get('exitCode')})")
        elif "running" in state and not container.get("ready"):
            problems.append(f"container {name} running, not ready (restarts {container.get('restartCount', 0)})")
    return problems


def pod_state(pod: dict) -> str:
    """What one pod waits for: ``name Pending (Unschedulable: ...)``, ``name Pending: container c waiting (...)``."""
    name, status = metadata(pod).get("name", "?"), pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    scheduled = condition(pod, "PodScheduled")
    if scheduled.get("status") == "False":
        return f"{name} {phase} ({scheduled.get('reason') or 'not scheduled'}: {quoted(scheduled.get('message'))})"
    problems = container_problems(pod)
    if problems:
        return f"{name} {phase}: {'; '.join(problems)}"
    ready = condition(pod, "Ready")
    if ready.get("status") == "True":
        return f"{name} ready"
    why = f" ({ready.get('reason')}: {quoted(ready.get('message'))})" if ready.get("message") else ""
    return f"{name} {phase}, not ready{why}"


def is_ready(pod: dict) -> bool:
    return condition(pod, "Ready").get("status") == "True" and not metadata(pod).get("deletionTimestamp")


def new_pods_phrase(deployment: dict, replicasets: list, pods: list) -> str:
    new = new_replicaset(deployment, replicasets)
    if new is None:
        return "the controller has not created the new ReplicaSet"
    failure = condition(new, "ReplicaFailure")
    if failure.get("status") == "True":
        return f"ReplicaSet {metadata(new).get('name')} cannot create pods ({failure.get('reason')}: {quoted(failure.get('message'))})"
    template_hash = (metadata(new).get("labels") or {}).get(HASH_LABEL)
    current = sorted((pod for pod in pods or [] if (metadata(pod).get("labels") or {}).get(HASH_LABEL) == template_hash
                      and not metadata(pod).get("deletionTimestamp")), key=lambda pod: metadata(pod).get("name", ""))
    waiting = [pod for pod in current if not is_ready(pod)]
    if not current:
        return f"the new ReplicaSet {metadata(new).get('name')} has no pod yet"
    if not waiting:
        return f"the {len(current)} new pod(s) are ready"
    named = "; ".join(pod_state(pod) for pod in waiting[:PODS_NAMED])
    more = f"; and {len(waiting) - PODS_NAMED} more not ready" if len(waiting) > PODS_NAMED else ""
    return f"new pods not ready: {named}{more}"


def rollout_failure(deployment: dict, replicasets: list, pods: list, waited=None) -> str:
    """The gate's failure message for a Deployment whose rollout did not complete (``waited``: seconds the gate waited)."""
    meta, status = metadata(deployment), (deployment or {}).get("status") or {}
    wanted = ((deployment or {}).get("spec") or {}).get("replicas", 1)
    counts = {key: status.get(key, 0) for key in ("updatedReplicas", "readyReplicas", "availableReplicas", "replicas")}
    waited_phrase = f" within {waited} s" if waited not in (None, "") else ""
    parts = [f"Deployment {meta.get('namespace', '')}/{meta.get('name', '?')} did not roll out{waited_phrase}: "
             f"{counts['updatedReplicas']} of {wanted} replicas updated, {counts['readyReplicas']} ready, "
             f"{counts['availableReplicas']} available ({counts['replicas']} pods in all)"]
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        parts.append("the controller has not seen the latest spec")
    progressing = condition(deployment, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        parts.append(quoted(progressing.get("message")))
    parts.append(new_pods_phrase(deployment, replicasets, pods))
    return "; ".join(parts)


def workload_counts(workload: dict) -> dict:
    """A Deployment's, StatefulSet's or DaemonSet's replicas as wanted, updated, ready, and in all (pods of every
    revision), from its spec and status."""
    status = (workload or {}).get("status") or {}
    if (workload or {}).get("kind") == "DaemonSet":
        wanted = status.get("desiredNumberScheduled", 0)
        return {"wanted": wanted, "updated": status.get("updatedNumberScheduled", 0), "ready": status.get("numberReady", 0),
                "total": status.get("currentNumberScheduled", wanted)}
    wanted = ((workload or {}).get("spec") or {}).get("replicas", 1)
    return {"wanted": wanted, "updated": status.get("updatedReplicas", 0), "ready": status.get("readyReplicas", 0),
            "total": status.get("replicas", wanted)}


def rolled_out(workload: dict) -> bool:
    """The controller saw the latest spec, and every replica it wants is updated and ready, with no pod of an older
    revision left."""
    seen = ((workload or {}).get("status") or {}).get("observedGeneration", 0) >= metadata(workload).get("generation", 1)
    counts = workload_counts(workload)
    return seen and counts["updated"] == counts["ready"] == counts["total"] == counts["wanted"]


def rollout_complete(deployment: dict, wanted) -> bool:
    """Tier 1's rollout gate: the Deployment is Available, and the replicas it has, the updated ones and the ready ones
    are each the number wanted."""
    status = (deployment or {}).get("status") or {}
    counts = [status.get("updatedReplicas", 0), status.get("readyReplicas", 0), status.get("replicas", 0)]
    return condition(deployment, "Available").get("status") == "True" and counts == [int(wanted)] * 3


def selected_by(pod: dict, workload: dict) -> bool:
    wanted = (((workload or {}).get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels = metadata(pod).get("labels") or {}
    return metadata(pod).get("namespace", "") == metadata(workload).get("namespace", "") and bool(wanted) \
        and all(labels.get(name) == value for name, value in wanted.items())


def workload_failure(workload: dict, replicasets: list, pods: list, waited=None) -> str:
    """Why one workload is not rolled out: a Deployment as rollout_failure() says it, a StatefulSet or DaemonSet by its
    counts and what each of its pods that is not ready waits for."""
    mine = [pod for pod in pods or [] if selected_by(pod, workload)]
    if workload.get("kind", "Deployment") == "Deployment":
        namespace = metadata(workload).get("namespace", "")
        return rollout_failure(workload, [rs for rs in replicasets or [] if metadata(rs).get("namespace", namespace) == namespace],
                               mine, waited)
    counts, meta = workload_counts(workload), metadata(workload)
    waited_phrase = f" within {waited} s" if waited not in (None, "") else ""
    waiting = [pod for pod in sorted(mine, key=lambda pod: metadata(pod).get("name", "")) if not is_ready(pod)]
    named = "; ".join(pod_state(pod) for pod in waiting[:PODS_NAMED])
    more = f"; and {len(waiting) - PODS_NAMED} more not ready" if len(waiting) > PODS_NAMED else ""
    return (f"{workload.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '?')} did not roll out{waited_phrase}: "
            f"{counts['updated']} of {counts['wanted']} replicas updated, {counts['ready']} ready ({counts['total']} pods in all); "
            + (f"pods not ready: {named}{more}" if waiting else "no pod of it is waiting"))


def workloads_failure(workloads: list, replicasets: list, pods: list, waited=None) -> str:
    """One message for every workload that is not rolled out (``workloads`` as read last), each as workload_failure()
    says it; empty when every one is."""
    return ". ".join(workload_failure(workload, replicasets, pods, waited) for workload in workloads or []
                     if not rolled_out(workload))
