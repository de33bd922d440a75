# -*- coding: utf-8 -*-
"""namespace_others: what keeps a namespace the caller created from being deleted."""

from __future__ import annotations

import pytest
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
