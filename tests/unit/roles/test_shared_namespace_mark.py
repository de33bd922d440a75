# -*- coding: utf-8 -*-
"""The tier-1 namespace carries the same creation mark whichever role creates it first (issue 16, item 7): squid_gke
and cluster_dns's kube_dns_stub mode both write it through the one filter, aibang.gke_platform.namespace_mark. Before,
the stub server's namespace was created without it when cluster_dns ran alone first, squid_gke then adopted it, and
cleanup left it."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.filter.namespace_mark import namespace_mark, namespace_marked
from ansible_collections.aibang.gke_platform.tests.unit.roles.test_squid_gke_namespace_mark import _namespace as squid_gke_namespace

ROLES = pathlib.Path(__file__).parents[3] / "roles"
MARK = {"aibang.io/created-by": "aibang.gke_platform"}


def _existing(annotations) -> list:
    return [{"metadata": {"name": "intra-proxy", "annotations": annotations}}]


FOUND = [
    ([], True),  # missing: this run creates it
    (_existing(MARK), True),  # created by either role earlier
    (_existing(dict(MARK, other="x")), True),
    (_existing(None), False),  # found without the mark: adopted, never marked
    (_existing({"aibang.io/created-by": "someone-else"}), False),
    (_existing({"aibang.io/created-by": "aibang.gke_platform\n"}), False),
]
IDS = ["missing", "marked", "marked-with-others", "no-annotations", "other-creator", "trailing-newline"]


@pytest.mark.parametrize("found, marked", FOUND, ids=IDS)
def test_the_filter_marks_only_a_namespace_this_run_creates_or_that_has_the_mark(found, marked):
    assert namespace_marked(found) is marked
    assert namespace_mark(found) == (MARK if marked else {})


def test_the_filter_refuses_anything_but_k8s_infos_resources():
    with pytest.raises(AnsibleFilterError, match="expects k8s_info's resources"):
        namespace_marked({"resources": []})


def _stub_namespace(found: list) -> dict:
    """The Namespace definition cluster_dns's kube_dns_stub mode applies, rendered from the role's task."""
    tasks = yaml.safe_load((ROLES / "cluster_dns" / "tasks" / "kube_dns_stub.yml").read_text(encoding="utf-8"))
    present = next(task for task in tasks if "block" in task and task.get("when") == "cluster_dns_state == 'present'")
    task = next(task for task in present["block"]
                if task.get("kubernetes.core.k8s", {}).get("definition", {}).get("kind") == "Namespace")
    variables = {"cluster_dns_stub_namespace": "intra-proxy", "__cluster_dns_stub_namespace_found": {"resources": found}}
    metadata = task["kubernetes.core.k8s"]["definition"]["metadata"]
    templar = Templar(loader=DataLoader(), variables=variables)
    return {"metadata": {key: templar.template(trust_as_template(value)) for key, value in metadata.items()}}


@pytest.mark.parametrize("found, marked", FOUND, ids=IDS)
def test_cluster_dns_and_squid_gke_write_the_same_mark_whoever_creates_the_namespace(found, marked):
    stub = _stub_namespace(found)
    assert stub["metadata"]["name"] == "intra-proxy"
    assert stub["metadata"]["annotations"] == (MARK if marked else {})
    assert (squid_gke_namespace(found)["metadata"].get("annotations") or {}) == stub["metadata"]["annotations"]


def test_the_mark_is_written_in_one_place():
    writers = [path.relative_to(ROLES).as_posix() for path in sorted(ROLES.rglob("*")) if path.is_file()
               and "aibang.io/created-by" in path.read_text(encoding="utf-8", errors="replace")]
    assert writers == []
