# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of a list of objects with one field manager, a dry run for check mode, the changed fields, and
pruning of what this collection owns (a label selector).

The HTTP call is injected: `request(method, path, query, body, content_type) -> (status, body or None)`, so the unit
tests pass a fake API server in and the module passes the kubernetes client's. The kinds are the ones app_workload
renders, mapped to their REST paths here, so no discovery round-trips are needed.
"""

from __future__ import annotations

import copy

from ansible_collections.aibang.gke_platform.plugins.module_utils.rollout import is_ready, pod_state

RESOURCES = {
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("v1", "ServiceAccount"): ("/api/v1", "serviceaccounts", True),
    ("v1", "ConfigMap"): ("/api/v1", "configmaps", True),
    ("v1", "Secret"): ("/api/v1", "secrets", True),
    ("v1", "Service"): ("/api/v1", "services", True),
    ("v1", "PersistentVolumeClaim"): ("/api/v1", "persistentvolumeclaims", True),
    ("apps/v1", "Deployment"): ("/apis/apps/v1", "deployments", True),
    ("apps/v1", "StatefulSet"): ("/apis/apps/v1", "statefulsets", True),
    ("apps/v1", "DaemonSet"): ("/apis/apps/v1", "daemonsets", True),
    ("batch/v1", "CronJob"): ("/apis/batch/v1", "cronjobs", True),
    ("batch/v1", "Job"): ("/apis/batch/v1", "jobs", True),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): ("/apis/autoscaling/v2", "horizontalpodautoscalers", True),
    ("policy/v1", "PodDisruptionBudget"): ("/apis/policy/v1", "poddisruptionbudgets", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("/apis/networking.k8s.io/v1", "networkpolicies", True),
}
# Kinds pruning looks at: what app_workload renders per app (never Namespaces: cleanup removes those).
PRUNABLE = [key for key in RESOURCES if key[1] not in ("Namespace", "PersistentVolumeClaim", "Job")]
VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MASK = "********"


class ApplyError(RuntimeError):
    """The API server refused a request: the message names the object and the server's reason."""


def path_of(api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
    try:
        prefix, plural, namespaced = RESOURCES[(api_version, kind)]
    except KeyError:
        raise ApplyError(f"{api_version} {kind}: not a kind app_workload applies") from None
    parts = [prefix]
    if namespaced and namespace:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name:
        parts.append(name)
    return "/".join(parts)


def object_path(obj: dict) -> str:
    metadata = obj.get("metadata", {})
    return path_of(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])


def identity(obj: dict) -> str:
    metadata = obj.get("metadata", {})
    where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{obj['kind']} {where}{metadata.get('name')}"


def comparable(obj: dict | None) -> dict | None:
    """The object without what changes on every write or belongs to controllers (status)."""
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    result.pop("status", None)
    for key in VOLATILE_METADATA:
        result.get("metadata", {}).pop(key, None)
    return result


def changed_fields(before, after, path: str = "") -> list:
    """Paths (a.b[0].c) whose value differs, down to the first level where they do."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found += changed_fields(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after)):
            found += changed_fields(old, new, f"{path}[{index}]")
        return found
    return [] if before == after else [path]


def pick(obj, path: str):
    """The value at a path changed_fields returned (None where absent)."""
    current = obj
    for part in path.replace("[", ".[").split("."):
        if current is None:
            return None
        if part.startswith("["):
            index = int(part[1:-1])
            current = current[index] if isinstance(current, list) and index < len(current) else None
        else:
            current = current.get(part) if isinstance(current, dict) else None
    return current


def masked(obj: dict | None) -> dict | None:
    """A Secret with its values hidden (what the diff may show)."""
    if obj is None or obj.get("kind") != "Secret":
        return obj
    result = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(result.get(key), dict):
            result[key] = {name: MASK for name in result[key]}
    result.get("metadata", {}).get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return result


def call(request, method: str, path: str, what: str, query: dict | None = None, body=None, content_type=None,
         missing_ok: bool = False):
    status, answer = request(method, path, query or {}, body, content_type)
    if status == 404 and missing_ok:
        return None
    if status >= 400:
        reason = (answer or {}).get("message") if isinstance(answer, dict) else answer
        raise ApplyError(f"Failed to {what}: HTTP {status}: {reason}")
    return answer


def apply_one(request, obj: dict, field_manager: str, dry_run: bool, force: bool) -> dict:
    before = call(request, "GET", object_path(obj), f"read {identity(obj)}", missing_ok=True)
    namespace = obj.get("metadata", {}).get("namespace")
    if dry_run and before is None and namespace and obj["kind"] != "Namespace":
        # A dry run cannot create into a namespace the same dry run only pretended to create.
        if call(request, "GET", path_of("v1", "Namespace", name=namespace), f"read namespace {namespace}",
                missing_ok=True) is None:
            return result_of(obj, None, obj)
    return result_of(obj, before, server_side_apply(request, obj, field_manager, dry_run, force))


def server_side_apply(request, obj: dict, field_manager: str, dry_run: bool, force: bool) -> dict:
    """The object as the API server answers one server-side apply (a dry run when asked)."""
    query = {"fieldManager": field_manager, "force": "true" if force else "false", **({"dryRun": "All"} if dry_run else {})}
    return call(request, "PATCH", object_path(obj), f"apply {identity(obj)}", query, obj, APPLY_CONTENT_TYPE)


def delete_owned(request, api_version: str, kind: str, namespace: str, name: str, dry_run: bool) -> None:
    query = {"propagationPolicy": "Background", **({"dryRun": "All"} if dry_run else {})}
    call(request, "DELETE", path_of(api_version, kind, namespace, name), f"delete {kind} {namespace}/{name}", query,
         missing_ok=True)


def result_of(obj: dict, before: dict | None, after: dict | None) -> dict:
    old, new = comparable(before), comparable(after)
    fields = ["(created)"] if before is None else changed_fields(old, new)
    return {"kind": obj["kind"], "namespace": obj.get("metadata", {}).get("namespace"),
            "name": obj["metadata"]["name"], "changed": bool(fields), "fields": fields,
            "before": masked(old), "after": masked(new)}


def apply_all(request, objects: list, field_manager: str, dry_run: bool = False, force: bool = True) -> list:
    return [apply_one(request, obj, field_manager, dry_run, force) for obj in objects]


def key_of(obj: dict) -> tuple:
    metadata = obj.get("metadata", {})
    return obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata.get("name")


# Whatever the selector says, pruning deletes only objects carrying both of these labels (what app_workload renders
# per app): a selector such as "key notin (a)" also matches objects without the key.
OWNED_LABELS = ("app.kubernetes.io/managed-by", "aibang.io/app")


def prune(request, keep: list, namespaces: list, selector: str, dry_run: bool = False) -> list:
    """Delete the objects in `namespaces` that match `selector`, carry OWNED_LABELS and are not in `keep`; return what
    was (or would be) deleted."""
    wanted = {key_of(obj) for obj in keep}
    removed = []
    for namespace in namespaces:
        if call(request, "GET", path_of("v1", "Namespace", name=namespace), f"read namespace {namespace}",
                missing_ok=True) is None:
            continue
        for api_version, kind in PRUNABLE:
            listing = call(request, "GET", path_of(api_version, kind, namespace), f"list {kind} in {namespace}",
                           {"labelSelector": selector}) or {}
            for item in listing.get("items", []):
                name = item["metadata"]["name"]
                labels = item["metadata"].get("labels") or {}
                if (api_version, kind, namespace, name) in wanted or not all(key in labels for key in OWNED_LABELS):
                    continue
                delete_owned(request, api_version, kind, namespace, name, dry_run)
                removed.append({"kind": kind, "namespace": namespace, "name": name})
    return removed


def diff_of(results: list, removed: list) -> dict:
    """Ansible's diff: only the changed fields of each changed object, before and after (Secrets masked)."""
    before, after = {}, {}
    for result in results:
        if not result["changed"]:
            continue
        key = f"{result['kind']} {result['namespace'] or ''}/{result['name']}".replace(" /", " ")
        if result["before"] is None:
            before[key], after[key] = None, result["after"]
            continue
        before[key] = {field: pick(result["before"], field) for field in result["fields"]}
        after[key] = {field: pick(result["after"], field) for field in result["fields"]}
    for item in removed:
        key = f"{item['kind']} {item['namespace']}/{item['name']}"
        before[key], after[key] = "present", None
    return {"before": before, "after": after}


def fill_secrets(objects: list, values: dict) -> list:
    """Copies of the objects with every Secret key named in `values` set to that value, base64 (the vault's values
    never pass through a template or a registered variable)."""
    import base64  # pylint: disable=import-outside-toplevel

    filled = []
    for obj in objects:
        if obj.get("kind") == "Secret" and any(key in values for key in obj.get("data", {})):
            obj = copy.deepcopy(obj)
            for key in obj["data"]:
                if key in values:
                    obj["data"][key] = base64.b64encode(str(values[key]).encode("utf-8")).decode("ascii")
        filled.append(obj)
    return filled


# ---------------------------------------------------------------------------------------------------------------------
# Gates: what "ready" means for each kind, read from the objects' status (the same on kwok and real nodes; on a real
# node it is reached only when the containers' probes pass).

def deployment_unmet(obj: dict | None, min_ready: int) -> str | None:
    if obj is None:
        return "missing"
    status, spec = obj.get("status", {}), obj.get("spec", {})
    wanted = spec.get("replicas", 1)
    available = any(c.get("type") == "Available" and c.get("status") == "True" for c in status.get("conditions", []))
    counts = [status.get(key, 0) for key in ("updatedReplicas", "readyReplicas", "availableReplicas", "replicas")]
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "the controller has not seen the latest spec"
    if not available or counts != [wanted] * 4 or wanted < min_ready:
        return (f"Available={available}, updated/ready/available/total {'/'.join(map(str, counts))} of {wanted} "
                f"(at least {min_ready})")
    return None


def statefulset_unmet(obj: dict | None, claims: list) -> str | None:
    if obj is None:
        return "missing"
    status, wanted = obj.get("status", {}), obj.get("spec", {}).get("replicas", 1)
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "the controller has not seen the latest spec"
    counts = [status.get(key, 0) for key in ("readyReplicas", "updatedReplicas", "currentReplicas")]
    if counts != [wanted] * 3:
        return f"ready/updated/current {'/'.join(map(str, counts))} of {wanted}"
    unbound = [name for name, phase in claims if phase != "Bound"]
    if unbound:
        return f"PersistentVolumeClaims not Bound: {', '.join(unbound)}"
    return None


def daemonset_unmet(obj: dict | None) -> str | None:
    if obj is None:
        return "missing"
    status = obj.get("status", {})
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "the controller has not seen the latest spec"
    wanted = status.get("desiredNumberScheduled", 0)
    keys = ("currentNumberScheduled", "updatedNumberScheduled", "numberReady", "numberAvailable")
    counts = [status.get(key, 0) for key in keys]
    if counts != [wanted] * 4 or status.get("numberMisscheduled", 0):
        return f"scheduled/updated/ready/available {'/'.join(map(str, counts))} of {wanted} eligible nodes"
    return None


def job_unmet(obj: dict | None) -> str | None:
    if obj is None:
        return "missing"
    conditions = {c.get("type"): c for c in obj.get("status", {}).get("conditions", []) if c.get("status") == "True"}
    if "Failed" in conditions:
        raise ApplyError(f"Job {obj['metadata']['name']} failed: {conditions['Failed'].get('message', '')}")
    return None if "Complete" in conditions else "not complete"


def claims_of(request, namespace: str, statefulset: dict) -> list:
    replicas = statefulset.get("spec", {}).get("replicas", 1)
    names = [f"{template['metadata']['name']}-{statefulset['metadata']['name']}-{index}"
             for template in statefulset.get("spec", {}).get("volumeClaimTemplates", []) for index in range(replicas)]
    result = []
    for name in names:
        claim = call(request, "GET", path_of("v1", "PersistentVolumeClaim", namespace, name), f"read PVC {name}",
                     missing_ok=True)
        result.append((name, (claim or {}).get("status", {}).get("phase", "missing")))
    return result


def gate_unmet(request, namespace: str, gates: dict, jobs: list) -> list:
    """What is not ready yet, one line per object; empty when every gate passes."""
    unmet = []

    def read(api_version, kind, name):
        return call(request, "GET", path_of(api_version, kind, namespace, name), f"read {kind} {name}",
                    missing_ok=True)

    for name in gates.get("deployments", []):
        why = deployment_unmet(read("apps/v1", "Deployment", name), gates.get("min_ready", 1))
        if why:
            unmet.append(f"Deployment {namespace}/{name}: {why}")
    for name in gates.get("statefulsets", []):
        statefulset = read("apps/v1", "StatefulSet", name)
        why = statefulset_unmet(statefulset, claims_of(request, namespace, statefulset) if statefulset else [])
        if why:
            unmet.append(f"StatefulSet {namespace}/{name}: {why}")
    for name in gates.get("daemonsets", []):
        why = daemonset_unmet(read("apps/v1", "DaemonSet", name))
        if why:
            unmet.append(f"DaemonSet {namespace}/{name}: {why}")
    for name in jobs:
        why = job_unmet(read("batch/v1", "Job", name))
        if why:
            unmet.append(f"Job {namespace}/{name}: {why}")
    return unmet


GATED_WORKLOADS = (("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet"))
PODS_NAMED = 5


def workload_pods(request, namespace: str, kind: str, name: str) -> list:
    """The pods a Deployment, StatefulSet or DaemonSet selects (its matchLabels)."""
    workload = call(request, "GET", path_of("apps/v1", kind, namespace, name), f"read {kind} {name}", missing_ok=True) or {}
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        return []
    selector = ",".join(f"{label}={value}" for label, value in sorted(labels.items()))
    return (call(request, "GET", f"/api/v1/namespaces/{namespace}/pods", "list pods", {"labelSelector": selector},
                 missing_ok=True) or {}).get("items", [])


def pods_not_ready(request, namespace: str, gates: dict, unmet: list) -> list:
    """What the pods of each workload still unmet wait for (an image that does not pull, unschedulable, a crash), one
    phrase per pod that is not ready, for the gate's failure message."""
    found = []
    for key, kind in GATED_WORKLOADS:
        for name in gates.get(key, []):
            if not any(line.startswith(f"{kind} {namespace}/{name}:") for line in unmet):
                continue
            try:
                pods = workload_pods(request, namespace, kind, name)
            except ApplyError as exc:  # the gate's own message still stands
                found.append(f"the pods of {kind} {namespace}/{name} were not read ({exc})")
                continue
            found += [pod_state(pod) for pod in sorted(pods, key=lambda pod: pod["metadata"]["name"]) if not is_ready(pod)]
    return found[:PODS_NAMED] + ([f"and {len(found) - PODS_NAMED} more"] if len(found) > PODS_NAMED else [])


def job_from_cronjob(cronjob: dict, suffix: str) -> dict:
    """The Job `kubectl create job --from=cronjob/NAME` would create."""
    metadata = cronjob["metadata"]
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": f"{metadata['name']}-{suffix}"[:63], "namespace": metadata["namespace"],
                         "labels": dict(template.get("metadata", {}).get("labels") or metadata.get("labels", {})),
                         "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": metadata["name"],
                                              "uid": metadata["uid"], "controller": True}]},
            "spec": template["spec"]}


def run_cronjobs(request, namespace: str, names: list, suffix: str) -> list:
    jobs = []
    for name in names:
        cronjob = call(request, "GET", path_of("batch/v1", "CronJob", namespace, name), f"read CronJob {name}")
        job = job_from_cronjob(cronjob, suffix)
        call(request, "POST", path_of("batch/v1", "Job", namespace), f"create a Job from CronJob {name}", body=job,
             content_type="application/json")
        jobs.append(job["metadata"]["name"])
    return jobs


def wait_for_gates(request, namespace: str, gates: dict, jobs: list, timeout: float, clock, sleep,
                   interval: float = 2.0) -> list:
    """Poll until every gate passes or `timeout` seconds pass; return what is still unmet (empty: passed)."""
    deadline = clock() + timeout
    while True:
        unmet = gate_unmet(request, namespace, gates, jobs)
        if not unmet or clock() >= deadline:
            return unmet
        sleep(min(interval, max(deadline - clock(), 0)))


# ---------------------------------------------------------------------------------------------------------------------
# Diagnosis: seed 000's troubleshooting tree for one app, layer by layer ({layer, ok, detail}); changes nothing.

def find(objects: list, kind: str, name: str | None = None) -> dict | None:
    return next((obj for obj in objects if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)),
                None)


def pod_problems(pods: list) -> list:
    problems = []
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses", []):
            waiting = status.get("state", {}).get("waiting")
            if waiting:
                problems.append(f"{pod['metadata']['name']}/{status['name']}: {waiting.get('reason')}")
            elif not status.get("ready"):
                problems.append(f"{pod['metadata']['name']}/{status['name']}: not ready "
                                f"(restarts {status.get('restartCount', 0)})")
        if not pod.get("status", {}).get("containerStatuses"):
            problems.append(f"{pod['metadata']['name']}: {pod.get('status', {}).get('phase', 'Pending')}")
    return problems


def diagnose(request, app: dict) -> list:
    """The pod, config, endpoint, database and workload-identity layers of one rendered app."""
    namespace, name, objects = app["namespace"], app["name"], app["objects"]

    def read(api_version, kind, object_name):
        return call(request, "GET", path_of(api_version, kind, namespace, object_name), f"read {kind} {object_name}",
                    missing_ok=True)

    pods = (call(request, "GET", f"/api/v1/namespaces/{namespace}/pods", "list pods",
                 {"labelSelector": f"app.kubernetes.io/name={name}"}, missing_ok=True) or {}).get("items", [])
    deployment = read("apps/v1", "Deployment", name)
    unmet = deployment_unmet(deployment, app["gates"]["min_ready"])
    problems = pod_problems(pods)
    summary = "; ".join(filter(None, [unmet, *problems])) or f"{len(pods)} pod(s) ready"
    layers = [{"layer": "pod", "ok": unmet is None and not problems, "detail": f"{namespace}/{name}: {summary}"}]

    wanted = find(objects, "ConfigMap", f"{name}-db")
    live = read("v1", "ConfigMap", f"{name}-db")
    secret = read("v1", "Secret", f"{name}-db")
    config_ok = live is not None and live.get("data") == wanted["data"] and bool(
        (secret or {}).get("data", {}).get("DB_PASSWORD"))
    layers.append({"layer": "config", "ok": config_ok, "detail": (
        f"ConfigMap {name}-db holds {wanted['data']} and Secret {name}-db a DB_PASSWORD" if config_ok else
        f"ConfigMap {name}-db is {(live or {}).get('data', 'missing')} (want {wanted['data']}); Secret {name}-db "
        f"{'has' if (secret or {}).get('data', {}).get('DB_PASSWORD') else 'lacks'} a DB_PASSWORD")})

    slices = (call(request, "GET", f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                   "list EndpointSlices", {"labelSelector": f"kubernetes.io/service-name={name}"},
                   missing_ok=True) or {}).get("items", [])
    ready = [endpoint for item in slices for endpoint in item.get("endpoints") or []
             if endpoint.get("conditions", {}).get("ready")]
    layers.append({"layer": "endpoint", "ok": bool(ready),
                   "detail": f"Service {namespace}/{name} has {len(ready)} ready endpoint(s)"})

    data = wanted["data"]
    layers.append({"layer": "database", "ok": bool(data.get("DB_HOST")), "detail": (
        f"pods reach {data['DB_NAME']} at {data['DB_HOST']}:{data['DB_PORT']} (the PSC endpoint); the NetworkPolicy "
        "allows that address and port" if data.get("DB_HOST") else
        "no PSC DNS name or endpoint IP: run the gcp stage (psc_consumer) first")})

    account_name, wanted_gsa = app["identity"]["service_account"], app["identity"]["gsa_email"]
    live_account = read("v1", "ServiceAccount", account_name)
    live_gsa = ((live_account or {}).get("metadata", {}).get("annotations") or {}).get("iam.gke.io/gcp-service-account")
    pod_accounts = {pod.get("spec", {}).get("serviceAccountName") for pod in pods}
    wi_ok = bool(wanted_gsa) and live_gsa == wanted_gsa and pod_accounts <= {account_name}
    layers.append({"layer": "workload-identity", "ok": wi_ok, "detail": (
        f"KSA {namespace}/{account_name} is annotated {live_gsa!r} (want {wanted_gsa!r}); pods run as "
        f"{sorted(filter(None, pod_accounts)) or 'none'}")})
    for layer in layers:
        layer["app"] = name
    return layers


# ---------------------------------------------------------------------------------------------------------------------
# The whole stage in one call: the namespaces' objects, then every app's, one listing per kind per namespace (the
# objects' previous state and what to prune at once), and every app's gates judged first on the apply's own answers.

class StageReads:
    """What the API server answered during the stage: the listings (an object's state before the apply) and the
    apply's responses (the state the gates read first)."""

    def __init__(self):
        self.listed = {}
        self.applied = {}

    def before(self, request, obj: dict):
        """The object as it is now: from the listing where it is there, else read (an object without the labels)."""
        found = self.listed.get(key_of(obj))
        if found is not None:
            return found
        return call(request, "GET", object_path(obj), f"read {identity(obj)}", missing_ok=True)


LISTING_WORKERS = 4


def list_owned(request, namespaces: list, selector: str, reads: StageReads) -> None:
    """One listing per prunable kind per namespace, LISTING_WORKERS at a time (reads only; `request` is thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel

    def listing(where: tuple) -> tuple:
        namespace, api_version, kind = where
        return where, call(request, "GET", path_of(api_version, kind, namespace), f"list {kind} in {namespace}",
                           {"labelSelector": selector}) or {}

    with ThreadPoolExecutor(max_workers=LISTING_WORKERS) as pool:
        found = list(pool.map(listing, [(namespace, *kind) for namespace in namespaces for kind in PRUNABLE]))
    for (_namespace, api_version, kind), answer in found:
        for item in answer.get("items", []):
            item = dict(item, apiVersion=api_version, kind=kind)  # a listing's items leave these out
            reads.listed[key_of(item)] = item


def apply_known(request, obj: dict, before, field_manager: str, dry_run: bool, force: bool, namespaces_there: set,
                reads: StageReads) -> dict:
    """apply_one with the object's previous state already known."""
    namespace = obj.get("metadata", {}).get("namespace")
    if dry_run and before is None and namespace and namespace not in namespaces_there:
        return result_of(obj, None, obj)  # a dry run cannot create into a namespace it only pretended to create
    after = server_side_apply(request, obj, field_manager, dry_run, force)
    reads.applied[object_path(obj)] = after
    return result_of(obj, before, after)


def prune_owned(request, applied: list, reads: StageReads, dry_run: bool) -> list:
    """Delete every listed object carrying OWNED_LABELS that the app its label names no longer has (every object of
    an app no longer listed). The labels are the listing's, read before the apply: an object that moved to another app
    (or to the namespaces' objects) in this stage still names the app it left, so whatever the stage applied
    (``applied``) is never deleted, whichever app it belonged to before."""
    kept = {key_of(obj) for obj in applied}
    removed = []
    for (api_version, kind, namespace, name), item in sorted(reads.listed.items(), key=str):
        labels = item["metadata"].get("labels") or {}
        if not all(key in labels for key in OWNED_LABELS) or (api_version, kind, namespace, name) in kept:
            continue
        delete_owned(request, api_version, kind, namespace, name, dry_run)
        removed.append({"kind": kind, "namespace": namespace, "name": name, "app": labels["aibang.io/app"]})
    return removed


def apply_stage(request, namespace_objects: list, apps: list, namespaces: list, selector: str, field_manager: str,
                dry_run: bool = False, force: bool = True) -> tuple:
    """Apply the namespaces' objects and every app's; return (results, reads). An error names the app.

    With a ``selector``, one listing per prunable kind per namespace gives the objects' previous state and, through
    ``reads.listed``, what prune_owned may delete afterwards; an empty one lists nothing (an API server reads an empty
    labelSelector as "everything"), so each object is read by itself and prune_owned finds nothing to delete. Nothing
    is pruned here: the caller prunes once the gates passed, so a failed gate still finds every removed app's objects
    (their Secrets too, which no snapshot holds)."""
    reads = StageReads()
    results, there = [], set()
    for obj in namespace_objects:
        if obj["kind"] != "Namespace":
            continue
        before = reads.before(request, obj)
        results.append(apply_known(request, obj, before, field_manager, dry_run, force, there, reads))
        if before is not None or not dry_run:
            there.add(obj["metadata"]["name"])
    if selector:
        list_owned(request, [name for name in namespaces if name in there], selector, reads)
    for obj in namespace_objects:
        if obj["kind"] != "Namespace":
            results.append(apply_known(request, obj, reads.before(request, obj), field_manager, dry_run, force, there,
                                       reads))
    for app in apps:
        try:
            results += [dict(apply_known(request, obj, reads.before(request, obj), field_manager, dry_run, force,
                                         there, reads), app=app["name"]) for obj in app["objects"]]
        except ApplyError as exc:
            raise ApplyError(f"App {app['name']}: {exc}") from None
    return results, reads


def answering_from(request, answers: dict):
    """A request that answers a read of an object in `answers` (path: object) without asking the API server."""
    def answer(method, path, query, body, content_type):
        if method == "GET" and answers.get(path) is not None:
            return 200, answers[path]
        return request(method, path, query, body, content_type)
    return answer


def wait_for_apps(request, apps: list, jobs: dict, answers: dict, timeout: float, clock, sleep,
                  interval: float = 2.0) -> list:
    """wait_for_gates for every app at once; the first round reads the apply's answers (no request when they pass)."""
    deadline = clock() + timeout
    first = answering_from(request, answers)
    while True:
        unmet = [line for app in apps
                 for line in gate_unmet(first, app["namespace"], app["gates"], jobs.get(app["name"], []))]
        first = request
        if not unmet or clock() >= deadline:
            return unmet
        sleep(min(interval, max(deadline - clock(), 0)))
