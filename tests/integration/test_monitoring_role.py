# -*- coding: utf-8 -*-
"""The monitoring role against the testbed's API server: ConfigMaps without the Prometheus Operator's CRDs,
operator objects once the CRDs exist (detected, not assumed), idempotent, and cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "monitoring_role.yml")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULE_FILES = sorted(name for name in os.listdir(os.path.join(REPO, "roles", "monitoring", "files", "rules")))
CRDS = {"prometheusrules": "PrometheusRule", "podmonitors": "PodMonitor", "servicemonitors": "ServiceMonitor"}


def run(namespace: str, entry: str = "main") -> str:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"ns={namespace}", "-e", f"entry={entry}",
                           PLAYBOOK], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    return done.stdout.split("PLAY RECAP")[-1]


def names(testbed, kind: str, namespace: str) -> set:
    done = testbed.kubectl("get", kind, "-n", namespace, "-o", "json", check=False)
    return {item["metadata"]["name"] for item in json.loads(done.stdout)["items"]} if done.returncode == 0 else set()


def crd(plural: str, kind: str) -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.monitoring.coreos.com"},
            "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture
def operator_crds(testbed):
    """Stand-in CRDs of the Prometheus Operator (same group, kinds and names; schema left open)."""
    manifest = yaml.safe_dump_all([crd(plural, kind) for plural, kind in CRDS.items()])
    testbed.kubectl("apply", "-f", "-", stdin=manifest)
    for plural in CRDS:
        testbed.kubectl("wait", "--for=condition=Established", f"crd/{plural}.monitoring.coreos.com", "--timeout=60s")
    yield
    testbed.kubectl("delete", "crd", *(f"{plural}.monitoring.coreos.com" for plural in CRDS), "--wait=false", check=False)


def test_configmaps_without_the_operator(testbed, namespace):
    if testbed.kubectl("get", "crd", "prometheusrules.monitoring.coreos.com", check=False).returncode == 0:
        pytest.fail("the testbed has the Prometheus Operator's CRDs: this test needs a cluster without them")
    assert "changed=0" not in run(namespace)
    assert {"aibang-prometheus-rules", "aibang-prometheus-scrape", "aibang-dashboards"} <= names(testbed, "configmap", namespace)
    rules = json.loads(testbed.kubectl("get", "configmap", "aibang-prometheus-rules", "-n", namespace, "-o", "json").stdout)
    assert sorted(rules["data"]) == RULE_FILES
    dashboards = json.loads(testbed.kubectl("get", "configmap", "aibang-dashboards", "-n", namespace, "-o", "json").stdout)
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "changed=0" in run(namespace)
    run(namespace, "cleanup")
    assert not {"aibang-prometheus-rules", "aibang-prometheus-scrape", "aibang-dashboards"} & names(testbed, "configmap", namespace)


def test_operator_objects_where_the_crds_exist(testbed, namespace, operator_crds):
    run(namespace)
    rule = json.loads(testbed.kubectl("get", "prometheusrule", "aibang-alerts", "-n", namespace, "-o", "json").stdout)
    alerts = {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r}
    assert {"AibangSquidDown", "AibangEgressTier2Unreachable", "AibangCronJobFailing"} <= alerts
    assert names(testbed, "podmonitor", namespace) == {"aibang-squid-gke", "aibang-apps"}
    apps = json.loads(testbed.kubectl("get", "podmonitor", "aibang-apps", "-n", namespace, "-o", "json").stdout)["spec"]
    assert apps["selector"] == {"matchExpressions": [{"key": "aibang.io/app", "operator": "Exists"}]}
    assert apps["podMetricsEndpoints"][0]["relabelings"][0]["sourceLabels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    assert names(testbed, "servicemonitor", namespace) == {"aibang-squid-vm"}
    endpoints = json.loads(testbed.kubectl("get", "endpoints", "aibang-squid-vm", "-n", namespace, "-o", "json").stdout)
    assert endpoints["subsets"][0]["addresses"] == [{"ip": "192.0.2.12"}]
    assert not {"aibang-prometheus-rules", "aibang-prometheus-scrape"} & names(testbed, "configmap", namespace)
    assert "changed=0" in run(namespace)
    run(namespace, "cleanup")
    assert not names(testbed, "prometheusrule", namespace) | names(testbed, "podmonitor", namespace)
