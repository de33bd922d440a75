# -*- coding: utf-8 -*-
"""Reading several queries' objects in one run, against a small API server that answers as Kubernetes does: list items
without apiVersion and kind, 404 for a missing object or an API it does not serve, discovery lists per group."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_objects
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_apply import MASK

DISCOVERY = {"/apis/example.com/v1": {"kind": "APIResourceList", "resources": [
    {"name": "widgets", "kind": "Widget", "namespaced": True},
    {"name": "widgets/status", "kind": "Widget", "namespaced": True},
    {"name": "gadgets", "kind": "Gadget", "namespaced": False}]}}
PLURALS = {"configmaps": "ConfigMap", "deployments": "Deployment", "secrets": "Secret", "widgets": "Widget", "gadgets": "Gadget"}


def obj(api_version, kind, namespace, name, **labels):
    metadata = {"name": name, "labels": labels, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "status": {"x": 1}}


class ApiServer:
    """Objects by REST path; GETs of a collection filter on equality label selectors."""

    def __init__(self, objects, fail=None):
        self.objects = objects
        self.fail = fail or {}
        self.calls = []

    def __call__(self, method, path, query, body, content_type):
        assert method == "GET" and body is None
        self.calls.append((path, dict(query)))
        if path in self.fail:
            return self.fail[path], {"message": "forbidden by the test"}
        if path in DISCOVERY:
            return 200, DISCOVERY[path]
        if path in self.objects:
            return 200, self.objects[path]
        collection = path.rsplit("/", 1)[1]
        if collection not in PLURALS:
            return 404, {"message": "the server could not find the requested resource"}
        items = [item for key, item in self.objects.items()
                 if key.rsplit("/", 1)[0] == path and self.matches(item, query.get("labelSelector", ""))]
        return 200, {"apiVersion": items[0]["apiVersion"] if items else "v1", "kind": f"{PLURALS[collection]}List",
                     "items": [{name: value for name, value in item.items() if name not in ("apiVersion", "kind")}
                               for item in items]}

    @staticmethod
    def matches(item, selector):
        labels = item["metadata"].get("labels", {})
        return all(labels.get(term.split("=")[0]) == (term.split("=") + [None])[1] if "=" in term else term in labels
                   for term in selector.split(",") if term)


SQUID = obj("apps/v1", "Deployment", "egress", "squid", **{"app.kubernetes.io/name": "squid"})
OTHER = obj("apps/v1", "Deployment", "egress", "other", **{"app.kubernetes.io/name": "other"})
COREDNS = obj("v1", "ConfigMap", "kube-system", "coredns")
WIDGET = obj("example.com/v1", "Widget", "egress", "w1", **{"app.kubernetes.io/name": "squid"})
GADGET = obj("example.com/v1", "Gadget", None, "g1")
SECRET = {**obj("v1", "Secret", "egress", "creds"), "data": {"password": "c2VjcmV0"}}
STORE = {"/apis/apps/v1/namespaces/egress/deployments/squid": SQUID,
         "/apis/apps/v1/namespaces/egress/deployments/other": OTHER,
         "/api/v1/namespaces/kube-system/configmaps/coredns": COREDNS,
         "/apis/example.com/v1/namespaces/egress/widgets/w1": WIDGET,
         "/apis/example.com/v1/gadgets/g1": GADGET,
         "/api/v1/namespaces/egress/secrets/creds": SECRET}
BY_LABEL = ["app.kubernetes.io/name=squid"]


@pytest.mark.parametrize("queries, expected", [
    ([{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress"], "label_selectors": BY_LABEL}], [SQUID]),
    ([{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress"]}], [SQUID, OTHER]),
    ([{"api_version": "v1", "kind": "ConfigMap", "namespaces": ["kube-system"], "name": "coredns"},
      {"api_version": "v1", "kind": "ConfigMap", "namespaces": ["kube-system"], "name": "coredns-previous"}], [COREDNS]),
    ([{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress", "empty"], "label_selectors": BY_LABEL},
      {"api_version": "v1", "kind": "ConfigMap", "namespaces": ["kube-system"], "name": "coredns"}], [SQUID, COREDNS]),
    ([{"api_version": "example.com/v1", "kind": "Widget", "namespaces": ["egress"], "label_selectors": BY_LABEL}], [WIDGET]),
    ([{"api_version": "missing.example.com/v1", "kind": "Thing", "namespaces": ["egress"]},
      {"api_version": "example.com/v1", "kind": "Sprocket", "namespaces": ["egress"]}], []),
    ([{"api_version": "example.com/v1", "kind": "Gadget", "namespaces": ["egress"], "name": "g1"}], [GADGET]),
    ([], []),
], ids=["selector", "all of a kind", "names, one missing", "two queries, an empty namespace", "discovered kind",
        "kinds not served",
        "cluster-scoped, the namespace ignored", "nothing asked"])
def test_reads_as_k8s_info_returns_them(queries, expected):
    assert k8s_objects.read_all(ApiServer(STORE), queries) == expected


def test_one_request_per_query_and_namespace_and_one_discovery_per_group():
    server = ApiServer(STORE)
    widgets = {"api_version": "example.com/v1", "kind": "Widget", "label_selectors": BY_LABEL}
    k8s_objects.read_all(server, [{**widgets, "namespaces": ["egress"]}, {**widgets, "namespaces": ["a", "b"]}])
    assert server.calls == [("/apis/example.com/v1", {}),
                            ("/apis/example.com/v1/namespaces/egress/widgets", {"labelSelector": BY_LABEL[0]}),
                            ("/apis/example.com/v1/namespaces/a/widgets", {"labelSelector": BY_LABEL[0]}),
                            ("/apis/example.com/v1/namespaces/b/widgets", {"labelSelector": BY_LABEL[0]})]


def test_a_secret_read_has_its_values_masked():
    found = k8s_objects.read_all(ApiServer(STORE), [{"api_version": "v1", "kind": "Secret", "namespaces": ["egress"], "name": "creds"}])
    assert found[0]["data"] == {"password": MASK} and "c2VjcmV0" not in str(found)


@pytest.mark.parametrize("fail, message", [
    ({"/apis/apps/v1/namespaces/egress/deployments": 403}, r"Failed to read Deployment egress/app.kubernetes.io/name=squid: HTTP 403: forbidden by the test"),
    ({"/apis/example.com/v1": 500}, r"Failed to list the resources of example.com/v1: HTTP 500"),
])
def test_an_api_error_names_what_was_read(fail, message):
    queries = [{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress"], "label_selectors": BY_LABEL},
               {"api_version": "example.com/v1", "kind": "Widget", "namespaces": ["egress"]}]
    with pytest.raises(k8s_objects.QueryError, match=message):
        k8s_objects.read_all(ApiServer(STORE, fail), queries)


@pytest.mark.parametrize("query, message", [
    ("Deployment", r"queries\[0\]: 'Deployment' is not a mapping"),
    ({"kind": "Deployment"}, r"queries\[0\]\.api_version: None is not a non-empty string"),
    ({"api_version": "v1", "kind": ""}, r"queries\[0\]\.kind: '' is not a non-empty string"),
    ({"api_version": "v1", "kind": "ConfigMap", "namespace": "x"}, r"queries\[0\]\.namespace: not a query field"),
    ({"api_version": "v1", "kind": "ConfigMap", "namespaces": "kube-system"}, r"queries\[0\]\.namespaces: 'kube-system' is not a list"),
    ({"api_version": "v1", "kind": "ConfigMap", "label_selectors": "a=b"}, r"queries\[0\]\.label_selectors: 'a=b' is not a list"),
    ({"api_version": "v1", "kind": "ConfigMap", "name": "c", "label_selectors": ["a=b"]}, r"queries\[0\]: name 'c' and label_selectors"),
])
def test_bad_queries_fail_naming_the_field_before_anything_is_read(query, message):
    server = ApiServer(STORE)
    with pytest.raises(k8s_objects.QueryError, match=message):
        k8s_objects.read_all(server, [query])
    assert server.calls == []
