# -*- coding: utf-8 -*-
"""The tier-1 namespace carries the collection's mark only when squid_gke creates it (issue 16, item 7): a namespace
it finds (shared with the DNS stub, made by hand) is adopted unmarked, and cleanup deletes only a marked namespace.
Rendered from the role's own template, vars and defaults."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy_facts import compile_policy

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "squid_gke"
MARK = {"aibang.io/created-by": "aibang.gke_platform"}
POLICY = {"name": "p", "allowed_domains": ["login.microsoftonline.com"], "gke": {"client_cidrs": ["10.128.0.0/14"]},
          "vm": {"address": "10.10.0.2", "client_cidrs": ["10.128.0.0/14"]}}


def _templar(found: list) -> Templar:
    loader = DataLoader()
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "squid_gke_policy": compile_policy(POLICY), "ansible_managed": "Ansible managed",
                 "__squid_gke_found": {"resources": [{"apiVersion": "v1", "kind": "Namespace", **obj} for obj in found]}}
    return Templar(loader=loader, variables=variables)


def _namespace(found: list) -> dict:
    text = _templar(found).template(trust_as_template((ROLE / "templates" / "squid-proxy.yaml.j2").read_text(encoding="utf-8")))
    return next(item for item in yaml.safe_load_all(text) if item and item["kind"] == "Namespace")


def _existing(annotations) -> list:
    return [{"metadata": {"name": "intra-proxy", "annotations": annotations}}]


@pytest.mark.parametrize(
    "found, marked",
    [
        ([], True),  # the role creates it: marked
        (_existing(MARK), True),  # created by the role earlier: keeps its mark
        (_existing({"aibang.io/created-by": "aibang.gke_platform", "other": "x"}), True),
        (_existing(None), False),  # found without annotations: adopted, never marked
        (_existing({}), False),
        (_existing({"aibang.io/created-by": "someone-else"}), False),
        (_existing({"aibang.io/created-by": "aibang.gke_platform\n"}), False),  # the value matched whole
    ],
    ids=["created", "marked", "marked-with-others", "no-annotations", "empty", "other-creator", "trailing-newline"],
)
def test_the_namespace_is_marked_only_when_the_role_creates_it(found, marked):
    namespace = _namespace(found)
    assert (namespace["metadata"].get("annotations") == MARK) is marked, namespace
    assert _templar(found).template(trust_as_template("{{ _squid_gke_namespace_marked | bool }}")) is marked
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_cleanup_deletes_the_namespace_only_when_marked_and_otherwise_only_tier_1s_objects():
    tasks = yaml.safe_load((ROLE / "tasks" / "cleanup.yml").read_text(encoding="utf-8"))
    delete_namespace = next(task for task in tasks if task.get("kubernetes.core.k8s", {}).get("kind") == "Namespace")
    assert "_squid_gke_namespace_marked | bool" in delete_namespace["when"]
    adopted = next(task for task in tasks if "block" in task)
    assert "not _squid_gke_namespace_marked | bool" in adopted["when"]
    deletes = [task["kubernetes.core.k8s"] for task in adopted["block"] if "kubernetes.core.k8s" in task]
    assert deletes and all(delete["label_selectors"] == "{{ item.label_selectors }}" and delete["delete_all"] for delete in deletes)
    assert any("Left in place" in str(task.get("ansible.builtin.debug", {})) for task in adopted["block"])
