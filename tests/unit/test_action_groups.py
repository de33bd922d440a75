# -*- coding: utf-8 -*-
"""meta/runtime.yml's action groups hold every module of their kind, so one module_defaults entry reaches them all:
a module missing from the k8s group would run without the play's kubeconfig (and fall back to in-cluster config)."""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).parents[2]
GROUPS = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"]


def modules_whose_source_says(pattern: str) -> set:
    return {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")
            if re.search(pattern, path.read_text(encoding="utf-8"))}


def members(group: str) -> set:
    return {entry for entry in GROUPS[group] if isinstance(entry, str)}


def test_the_k8s_group_holds_every_module_that_talks_to_kubernetes_and_extends_kubernetes_cores():
    kubernetes = modules_whose_source_says(r"AUTH_ARGUMENT_SPEC|app_workload_stage import ARGUMENT_SPEC")
    assert kubernetes and members("k8s") == kubernetes
    assert {"metadata": {"extend_group": ["kubernetes.core.k8s"]}} in GROUPS["k8s"]


def test_the_gcp_group_holds_every_module_that_talks_to_google_cloud():
    google = modules_whose_source_says(r"extends_documentation_fragment:\n  - aibang\.gke_platform\.gcp\b")
    assert google and members("gcp") == google
