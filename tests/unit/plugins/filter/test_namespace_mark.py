# -*- coding: utf-8 -*-
"""namespace_others: what keeps a namespace the caller created from being deleted."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aibang.gke_platform.plugins.filter.namespace_mark import namespace_others

OWN = {"app.kubernetes.io/name": "alias-dns", "app.kubernetes.io/instance": "egress"}


def read(kind: str, *objects: tuple) -> dict:
    """One looped k8s_info result: the loop item is the kind; list items carry no kind of their own."""
    return {"item": kind, "resources": [{"metadata": {"name": name, "labels": labels}} for name, labels in objects]}


def test_an_empty_namespace_or_one_with_only_the_callers_objects_holds_no_others():
    found = [read("Deployment", ("alias-dns-egress", dict(OWN, extra="x"))), read("Pod", ("alias-dns-egress-1", OWN)),
             read("ConfigMap", ("kube-root-ca.crt", None), ("alias-dns-egress", OWN)), read("Secret")]
    assert namespace_others(found, OWN) == []


def test_anything_else_is_named_by_kind_and_name():
    found = [read("Deployment", ("squid-proxy", {"app.kubernetes.io/name": "squid-proxy"})),
             read("Pod", ("alias-dns-other-1", {"app.kubernetes.io/name": "alias-dns", "app.kubernetes.io/instance": "other"})),
             read("ConfigMap", ("squid-proxy-policy-0123", None)), read("PersistentVolumeClaim", ("data", {}))]
    assert namespace_others(found, OWN) == ["Deployment/squid-proxy", "Pod/alias-dns-other-1",
                                            "ConfigMap/squid-proxy-policy-0123", "PersistentVolumeClaim/data"]


@pytest.mark.parametrize("found, own", [({"results": []}, OWN), ([], {}), ([], None)])
def test_it_refuses_anything_but_looped_results_and_labels(found, own):
    with pytest.raises(AnsibleFilterError, match="namespace_others expects"):
        namespace_others(found, own)


def test_the_default_service_account_is_what_every_namespace_holds_but_other_accounts_and_rbac_keep_it():
    found = [read("ServiceAccount", ("default", None), ("ci-deployer", {})), read("RoleBinding", ("ci-deployer", {})),
             read("NetworkPolicy", ("default-deny", {}))]
    assert namespace_others(found, OWN) == ["ServiceAccount/ci-deployer", "RoleBinding/ci-deployer", "NetworkPolicy/default-deny"]


def test_the_stub_namespace_cleanup_reads_every_kind_someone_else_may_keep_there():
    """A namespace goes with everything in it: cluster_dns reads the kinds an operator or another team puts in a
    namespace (workloads, their config, access rules, traffic rules), not only the workload kinds."""
    tasks = yaml.safe_load((pathlib.Path(__file__).parents[4] / "roles/cluster_dns/tasks/kube_dns_stub.yml").read_text(encoding="utf-8"))
    block = next(task for task in tasks if "namespace (absent)" in task.get("name", ""))["block"]
    kinds = next(task for task in block if task.get("register") == "__cluster_dns_stub_namespace_held")["loop"]
    assert {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "Ingress", "Secret", "PersistentVolumeClaim"} <= set(kinds)
