# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Production readiness of rendered app objects: seed 000's checklist as checks named after kube-score's
(zegl/kube-score) check IDs where kube-score has one, so a reader can look the rule and its reasoning up there.

kube-score is a Go binary (no registry here serves it); its rules for these fields are small, so they are re-stated
here on the objects app_workload renders, plus what kube-score cannot see (Workload Identity, no key files, Secrets
from vault, image digests in prod).
"""

from __future__ import annotations

import re

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")
KEY_FILE_HINTS = ("GOOGLE_APPLICATION_CREDENTIALS", "key.json", "credentials.json")
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
# The log collector reads every pod's files under /var/log as root; kube-score's user check skips it (documented).
ROOT_ALLOWED_COMPONENTS = ("logging",)


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def template_labels(obj: dict) -> dict:
    template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
    return template.get("metadata", {}).get("labels", {})


def check_containers(obj: dict, unmet: list, prod: bool) -> None:
    name = f"{obj['kind']} {obj['metadata']['name']}"
    spec = pod_spec(obj)
    component = obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")
    for container in spec.get("containers", []):
        where = f"{name} container {container['name']}"
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(kind, {}):
                    unmet.append(f"container-resources: {where} has no {resource} {kind[:-1]}")
        security = container.get("securityContext", {})
        if security.get("readOnlyRootFilesystem") is not True:
            unmet.append(f"container-security-context-readonlyrootfilesystem: {where}")
        if security.get("allowPrivilegeEscalation") is not False or security.get("privileged"):
            unmet.append(f"container-security-context-privileged: {where} may escalate privileges")
        if "ALL" not in security.get("capabilities", {}).get("drop", []):
            unmet.append(f"container-security-context-capabilities: {where} does not drop ALL capabilities")
        non_root = security.get("runAsNonRoot", spec.get("securityContext", {}).get("runAsNonRoot"))
        if non_root is not True and component not in ROOT_ALLOWED_COMPONENTS:
            unmet.append(f"container-security-context-user-group-id: {where} may run as root")
        if prod and not DIGEST.search(container.get("image", "")):
            unmet.append(f"container-image-digest: {where} image {container.get('image')} is not pinned by digest")
        elif ":" not in container.get("image", "").rsplit("/", 1)[-1] and "@" not in container.get("image", ""):
            unmet.append(f"container-image-tag: {where} image {container.get('image')} has no tag")
        names = {env.get("name") for env in container.get("env", [])}
        if names & set(KEY_FILE_HINTS):
            unmet.append(f"workload-identity-no-keys: {where} points at a service-account key file")
        if obj["kind"] in ("Deployment", "StatefulSet"):
            probes = [container.get(probe) for probe in ("readinessProbe", "livenessProbe")]
            if not all(probes):
                unmet.append(f"pod-probes: {where} lacks a readiness or liveness probe")
            elif probes[0] == probes[1]:
                unmet.append(f"pod-probes-identical: {where} has identical readiness and liveness probes")


def check(objects: list, prod: bool, secrets_from_vault: bool = True) -> list:
    """The unmet items, each 'check-id: what'; empty when the objects are production ready."""
    unmet = []
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    policies = by_kind.get("NetworkPolicy", [])
    for obj in objects:
        if obj["kind"] not in POD_KINDS:
            continue
        check_containers(obj, unmet, prod)
        labels = template_labels(obj)
        name = f"{obj['kind']} {obj['metadata']['name']}"
        if not any(policy["metadata"].get("namespace") == obj["metadata"].get("namespace")
                   and selects(policy["spec"]["podSelector"], labels) for policy in policies):
            unmet.append(f"pod-networkpolicy: no NetworkPolicy selects the pods of {name}")
        if obj["kind"] == "Deployment":
            check_deployment(obj, by_kind, unmet)
    for account in by_kind.get("ServiceAccount", []):
        if not account["metadata"].get("annotations", {}).get("iam.gke.io/gcp-service-account"):
            unmet.append(f"workload-identity: ServiceAccount {account['metadata']['name']} has no "
                         "iam.gke.io/gcp-service-account annotation")
    for secret in by_kind.get("Secret", []):
        if any(hint in key for key in secret.get("data", {}) for hint in KEY_FILE_HINTS[1:]):
            unmet.append(f"workload-identity-no-keys: Secret {secret['metadata']['name']} holds a key file")
    if by_kind.get("Secret") and not secrets_from_vault:
        unmet.append("secrets-from-vault: the DB password is not an Ansible Vault value")
    return unmet


def check_deployment(obj: dict, by_kind: dict, unmet: list) -> None:
    name, namespace = obj["metadata"]["name"], obj["metadata"].get("namespace")
    labels = template_labels(obj)
    spec = pod_spec(obj)
    keys = {constraint.get("topologyKey") for constraint in spec.get("topologySpreadConstraints", [])}
    if not {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys and not spec.get("affinity"):
        unmet.append(f"deployment-has-host-podantiaffinity: Deployment {name} is not spread over nodes and zones")
    if not any(pdb["metadata"].get("namespace") == namespace and selects(pdb["spec"]["selector"], labels)
               for pdb in by_kind.get("PodDisruptionBudget", [])):
        unmet.append(f"deployment-has-poddisruptionbudget: Deployment {name}")
    hpas = [hpa for hpa in by_kind.get("HorizontalPodAutoscaler", [])
            if hpa["metadata"].get("namespace") == namespace and hpa["spec"]["scaleTargetRef"]["name"] == name]
    if not hpas:
        unmet.append(f"horizontalpodautoscaler-has-target: no HPA scales Deployment {name}")
    elif hpas[0]["spec"].get("minReplicas", 1) < 2:
        unmet.append(f"deployment-replicas: Deployment {name} may scale down to one replica (HPA minReplicas < 2)")
