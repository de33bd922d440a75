# -*- coding: utf-8 -*-
"""The module end to end against the small API server: read-only (no change, in check mode too), a bad query fails
naming the field, and a Secret's value appears nowhere in the output."""
from __future__ import annotations

import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client
from ansible_collections.aibang.gke_platform.plugins.modules import k8s_objects_info
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_k8s_objects import (
    BY_LABEL, COREDNS, SQUID, STORE, ApiServer)

QUERIES = [{"api_version": "apps/v1", "kind": "Deployment", "namespaces": ["egress"], "label_selectors": BY_LABEL},
           {"api_version": "v1", "kind": "ConfigMap", "namespaces": ["kube-system"], "name": "coredns"},
           {"api_version": "v1", "kind": "Secret", "namespaces": ["egress"], "name": "creds"}]


@pytest.fixture
def server(monkeypatch):
    fake = ApiServer(STORE)
    monkeypatch.setattr(app_workload_client, "api_client", lambda params: None)
    monkeypatch.setattr(app_workload_client, "requester", lambda client: fake)
    return fake


@pytest.mark.parametrize("check_mode", [False, True])
def test_reads_every_query_in_one_run_and_changes_nothing(run_module, server, check_mode):
    result = run_module(k8s_objects_info, {"queries": QUERIES, "_ansible_check_mode": check_mode})
    assert not result["changed"] and result["resources"][:2] == [SQUID, COREDNS]
    assert len(server.calls) == 3 and "c2VjcmV0" not in json.dumps(result)


def test_a_bad_query_fails_naming_the_field(run_module, server):
    result = run_module(k8s_objects_info, {"queries": [{"api_version": "v1", "kind": "ConfigMap", "namespaces": "kube-system"}]})
    assert result["failed"] and result["msg"].startswith("queries[0].namespaces: 'kube-system'") and server.calls == []
