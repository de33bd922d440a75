# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a short-lived Job once: apply it with the objects it needs (server-side apply), wait until it succeeds or fails,
read its first pod's log, and delete it - in one module run, where the play took five (apply, two or more polls,
the log, the delete).

The HTTP call and the clock are injected (`request(method, path, query, body, content_type) -> (status, body)`, the
one app_workload_client.requester builds; ``clock``/``sleep``), so the unit tests pass a fake API server and a virtual
clock in.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_apply as apply

# Seconds between two looks at the Job's pod. A look is two small GETs; the pod's end is seen at most this late.
POLL_SECONDS = 0.25

# Why a container that has not started never will, without someone changing the pod or the image: the run ends at
# once instead of waiting for the Job's deadline (the kubelet keeps retrying a pull, but an image that is not there
# does not appear by itself).
START_FAILURES = {
    "ErrImagePull": "the image could not be pulled",
    "ImagePullBackOff": "the image could not be pulled",
    "InvalidImageName": "the image name is invalid",
    "ErrImageNeverPull": "the image is not on the node and the pod may not pull it",
    "CreateContainerConfigError": "the container could not be configured",
    "CreateContainerError": "the container could not be created",
}


# A Job annotated with this names the last line its pod's log ends with once the pod's work is done: the run reads
# the log while the pod runs and ends at that line, without waiting for the kubelet to notice the container's exit
# and report the pod's phase (one to two seconds: it looks for exited containers every second).
LOG_ENDS_WITH = "aibang.io/log-ends-with"


class JobError(RuntimeError):
    """Bad input or an API server error: the message names the field or the object."""


def the_job(objects: list) -> dict:
    """The one Job among the objects (the others are what it needs: a namespace, a NetworkPolicy)."""
    jobs = [obj for obj in objects if isinstance(obj, dict) and obj.get("kind") == "Job"]
    if len(jobs) != 1:
        raise JobError(f"objects: {len(jobs)} Jobs among {len(objects)} objects; give exactly one")
    if not (jobs[0].get("metadata") or {}).get("name") or not jobs[0]["metadata"].get("namespace"):
        raise JobError("objects: the Job needs metadata.name and metadata.namespace")
    return jobs[0]


def outcome(job: dict | None) -> str | None:
    """succeeded, failed, or None while it runs (the Job controller's word)."""
    status = (job or {}).get("status") or {}
    if status.get("succeeded"):
        return "succeeded"
    failed = [c for c in status.get("conditions") or [] if c.get("type") == "Failed" and c.get("status") == "True"]
    return "failed" if status.get("failed") or failed else None


def pod_outcome(pod: dict | None) -> str | None:
    """succeeded or failed once the pod's containers ended (the kubelet's word, which the Job controller records a second
    or two later: it batches pod updates by one second), "not started" when a container never will (START_FAILURES),
    None while it runs or waits to."""
    status = (pod or {}).get("status") or {}
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        return phase.lower()
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if ((container.get("state") or {}).get("waiting") or {}).get("reason") in START_FAILURES:
            return "not started"
    return None


def ran(pod: dict | None) -> bool:
    """Whether the pod's containers started and ended (a failed pod may have been refused before any started)."""
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all("terminated" in (status.get("state") or {}) for status in statuses)


def started(pod: dict | None) -> bool:
    """Whether a container of the pod runs or ran (so it has a log)."""
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    return any({"running", "terminated"} & set(status.get("state") or {}) for status in statuses)


def wait(request, namespace: str, name: str, timeout: float, clock, sleep, ends_with: str = "") -> tuple:
    """(the Job, its pods, the log when it ended with ``ends_with``) as they last were: the pod's log ended with that
    line, the pod ended or cannot start, the Job ended (also without a pod: a deadline, a refused pod), or ``timeout``
    passed. The pod is looked at first: it ends before the Job says so."""
    path = apply.path_of("batch/v1", "Job", namespace, name)
    deadline = clock() + timeout
    while True:
        found = pods(request, namespace, name)
        if found and pod_outcome(found[0]):
            return None, found, None
        if ends_with and found and started(found[0]):
            try:
                text = log_of(request, namespace, found[0]["metadata"]["name"])
            except apply.ApplyError:
                text = ""  # the container may not have a log yet: looked at again at the next poll
            if ends_with in str(text).splitlines():
                return None, found, text
        job = apply.call(request, "GET", path, f"read Job {namespace}/{name}", missing_ok=True)
        if outcome(job) or clock() >= deadline:
            return job, found, None
        sleep(POLL_SECONDS)


def pods(request, namespace: str, name: str) -> list:
    found = apply.call(request, "GET", f"/api/v1/namespaces/{namespace}/pods", f"list the pods of Job {namespace}/{name}",
                       query={"labelSelector": f"job-name={name}"})
    return (found or {}).get("items") or []


def log_of(request, namespace: str, pod: str) -> str:
    """The pod's log as the API server sent it (text/plain, decoded once by the requester: k8s_http.body_of)."""
    return apply.call(request, "GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
                      f"read the log of pod {namespace}/{pod}") or ""


def delete(request, namespace: str, name: str) -> None:
    apply.call(request, "DELETE", apply.path_of("batch/v1", "Job", namespace, name), f"delete Job {namespace}/{name}",
               body={"propagationPolicy": "Background"}, missing_ok=True)


def run(request, objects: list, field_manager: str, timeout: float, clock, sleep) -> dict:
    """Apply, wait, read, delete (the delete also when something in between fails). Returns changed (the apply created
    or changed an object: the Job, which a run deletes, so every run creates it), outcome (succeeded, failed, not started,
    timed out), log (of the first pod, when its containers ran to their end or its log ended with the line the Job's
    LOG_ENDS_WITH annotation names: succeeded, its pod maybe still running), waiting (each container's state, when it
    did not succeed), conditions (the Job's) and pod (the first pod's name and status, None without one)."""
    job = the_job(objects)
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    try:
        applied = apply.apply_all(request, objects, field_manager)
        ends_with = str(((job.get("metadata") or {}).get("annotations") or {}).get(LOG_ENDS_WITH) or "")
        last, found, ended = wait(request, namespace, name, timeout, clock, sleep, ends_with)
        first = found[0] if found else None
        result = {"changed": any(each["changed"] for each in applied),
                  "outcome": "succeeded" if ended is not None else pod_outcome(first) or outcome(last) or "timed out",
                  "log": ended or "", "waiting": [],
                  "conditions": [c.get("message", "") for c in ((last or {}).get("status") or {}).get("conditions") or []],
                  "pod": {"name": first["metadata"]["name"], "status": first.get("status") or {}} if first else None}
        if ended is None and first and (result["outcome"] == "succeeded" or (result["outcome"] == "failed" and ran(first))):
            result["log"] = log_of(request, namespace, first["metadata"]["name"])
        if result["outcome"] != "succeeded":
            result["waiting"] = [status.get("state") for pod in found
                                 for status in (pod.get("status") or {}).get("containerStatuses") or []]
        return result
    finally:
        delete(request, namespace, name)
