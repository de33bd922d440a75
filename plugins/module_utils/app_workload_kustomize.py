# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitOps output: the same objects as apply mode, as a kustomize tree (base/ + overlays/<env>/) and the Flux
GitRepository/Kustomization that would sync it.

base/ holds the apps rendered with the dev preset (the smallest); overlays/<env>/ holds JSON 6902 patches taking each
object to what apply mode sends for <env>. Secrets are not written (a Git repository is no place for them): the
overlay lists them under `secrets_out_of_band` for SOPS or the apply mode.
"""

from __future__ import annotations

import json

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload

GITOPS_KINDS_SKIPPED = ("Secret",)


def escape(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def json_patch(before, after, path: str = "") -> list:
    """RFC 6902 operations taking `before` to `after` (lists of different length are replaced whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        operations = []
        for key in before:
            if key not in after:
                operations.append({"op": "remove", "path": f"{path}/{escape(key)}"})
        for key, value in after.items():
            if key not in before:
                operations.append({"op": "add", "path": f"{path}/{escape(key)}", "value": value})
            else:
                operations += json_patch(before[key], value, f"{path}/{escape(key)}")
        return operations
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [op for index, (old, new) in enumerate(zip(before, after))
                for op in json_patch(old, new, f"{path}/{index}")]
    return [] if before == after else [{"op": "replace", "path": path or "/", "value": after}]


def file_name(obj: dict) -> str:
    namespace = obj["metadata"].get("namespace")
    return "-".join(part for part in (obj["kind"].lower(), namespace, obj["metadata"]["name"]) if part) + ".yaml"


def key_of(obj: dict) -> tuple:
    return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]


def gitops_objects(rendered: dict) -> list:
    return [obj for obj in app_workload.all_objects(rendered) if obj["kind"] not in GITOPS_KINDS_SKIPPED]


def render_tree(apps: list, environment: dict, context: dict, repository: dict) -> dict:
    """{relative path: file text}: base/, overlays/<env>/ and flux/<env>.yaml, plus the Secrets left out."""
    env_name = environment["name"]
    target = app_workload.render(apps, environment, context)
    base_environment = {key: value for key, value in environment.items()
                        if key not in ("name", "replicas", "size", "approval")}
    try:
        base = app_workload.render(apps, {**base_environment, "name": "dev"}, context)
    except app_workload.AppWorkloadError:
        base = target  # an override valid only above dev (a PDB for 3 replicas): the base is the overlay itself
    base_objects = {key_of(obj): obj for obj in gitops_objects(base)}
    target_objects = gitops_objects(target)
    files = {}
    for obj in target_objects:
        files[f"base/{file_name(obj)}"] = json.dumps(base_objects.get(key_of(obj), obj), indent=2) + "\n"
    patches = []
    for obj in target_objects:
        operations = json_patch(base_objects.get(key_of(obj), obj), obj)
        if operations:
            patches.append({"target": {"kind": obj["kind"], "name": obj["metadata"]["name"],
                                       **({"namespace": obj["metadata"]["namespace"]}
                                          if obj["metadata"].get("namespace") else {})},
                            "patch": json.dumps(operations)})
    files["base/kustomization.yaml"] = json.dumps(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
         "resources": [file_name(obj) for obj in target_objects]}, indent=2) + "\n"
    files[f"overlays/{env_name}/kustomization.yaml"] = json.dumps(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
         "resources": ["../../base"], **({"patches": patches} if patches else {})}, indent=2) + "\n"
    files[f"flux/{env_name}.yaml"] = flux_objects(env_name, repository)
    return {"files": files, "objects": target_objects,
            "secrets_out_of_band": [f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"
                                    for obj in app_workload.all_objects(target) if obj["kind"] == "Secret"]}


def flux_objects(env_name: str, repository: dict) -> str:
    name = repository.get("name", "aibang-apps")
    source = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
              "metadata": {"name": name, "namespace": "flux-system"},
              "spec": {"interval": repository.get("interval", "1m"), "url": repository.get("url", ""),
                       "ref": {"branch": repository.get("branch", "main")}}}
    sync = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": f"{name}-{env_name}", "namespace": "flux-system"},
            "spec": {"interval": repository.get("interval", "1m"), "path": f"./overlays/{env_name}", "prune": True,
                     "wait": True, "timeout": "5m",
                     "sourceRef": {"kind": "GitRepository", "name": name}}}
    return "---\n".join(json.dumps(obj, indent=2) + "\n" for obj in (source, sync))
