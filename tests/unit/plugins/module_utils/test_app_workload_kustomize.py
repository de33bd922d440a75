# -*- coding: utf-8 -*-
"""GitOps output: `kubectl kustomize overlays/<env>` gives exactly the objects apply mode sends (Secrets aside)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_kustomize as kustomize
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import all_objects, render
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT, FULL

APPS = [FULL, {"name": "web", "image": "web:1", "namespace": "team-web", "hpa": {"enabled": False}},
        {"name": "pinned", "image": "p:1", "replicas": 3, "pdb_min_available": 2}]


@pytest.mark.parametrize("before, after, operations", [
    ({"a": 1}, {"a": 2}, [{"op": "replace", "path": "/a", "value": 2}]),
    ({"a": 1}, {}, [{"op": "remove", "path": "/a"}]),
    ({}, {"a/b": 1}, [{"op": "add", "path": "/a~1b", "value": 1}]),
    ({"l": [1, 2]}, {"l": [1, 3]}, [{"op": "replace", "path": "/l/1", "value": 3}]),
    ({"l": [1]}, {"l": [1, 2]}, [{"op": "replace", "path": "/l", "value": [1, 2]}]),
    ({"a": 1}, {"a": 1}, []),
])
def test_json_patch(before, after, operations):
    assert kustomize.json_patch(before, after) == operations


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) is not on PATH")
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_kubectl_kustomize_of_the_overlay_equals_what_apply_mode_sends(env, tmp_path):
    environment = {"name": env, "namespace": f"aibang-{env}"}
    tree = kustomize.render_tree(APPS, environment, CONTEXT, {"url": "https://git.example/apps.git"})
    for path, text in tree["files"].items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "overlays" / env)], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    applied = [obj for obj in all_objects(render(APPS, environment, CONTEXT)) if obj["kind"] != "Secret"]

    def keyed(objects):
        return {(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]): obj for obj in objects}
    assert keyed(yaml.safe_load_all(built)) == keyed(applied)
    assert sorted(tree["secrets_out_of_band"]) == sorted(
        f"{obj['metadata']['namespace']}/{obj['metadata']['name']}" for obj in all_objects(render(APPS, environment, CONTEXT))
        if obj["kind"] == "Secret")
    if env != "dev":
        assert "patches" in yaml.safe_load(tree["files"][f"overlays/{env}/kustomization.yaml"])


def test_flux_objects_sync_the_overlay():
    tree = kustomize.render_tree(APPS, {"name": "prod", "namespace": "p"}, CONTEXT,
                                 {"name": "apps", "url": "https://git.example/apps.git", "branch": "release"})
    source, sync = [json.loads(doc) for doc in tree["files"]["flux/prod.yaml"].split("---\n")]
    assert (source["kind"], source["spec"]["ref"]["branch"]) == ("GitRepository", "release")
    assert sync["spec"]["path"] == "./overlays/prod" and sync["spec"]["prune"] is True
    assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "apps"}
