# -*- coding: utf-8 -*-
"""The apps' metrics on the lab: an app as app_workload renders it (the lab's sample app, /metrics on its port) runs on
the testbed's real node, and a real Prometheus runs the monitoring role's own `aibang-apps` scrape job (read from the
ConfigMap the role applies where the Prometheus Operator is absent): it discovers the pod through the testbed's API
server by its prometheus.io annotations and scrapes it. Only the lab's differences are patched in: the real node,
the local image, the job limited to this test's namespace, and the API server's kubeconfig."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload
from tests.integration.test_monitoring_role import run
from tests.integration.test_real_pods import ON_REAL_NODE, apply
from tests.integration.test_testbed import wait_until
from tests.testbed import cluster
from tests.testbed.prometheus_lab import Prometheus

pytestmark = pytest.mark.skipif(not shutil.which("prometheus"), reason="prometheus is installed by make setup (bindep.txt)")

PROMETHEUS_LISTEN = "127.0.0.1:19092"  # 19090: the testbed's, 19091: test_monitoring_lab's
CONTEXT = {"egress_alias": "proxy.lab.aibang.local", "egress_port": 3128, "proxy_namespace": "intra-proxy",
           "proxy_pod_labels": {"app.kubernetes.io/name": "squid-proxy"}, "metrics_namespace": "monitoring"}


def app_objects(namespace: str) -> list:
    rendered = app_workload.render([{"name": "sample", "image": cluster.image("app"), "port": 8080, "hpa": {"enabled": False}}],
                                   {"name": "dev", "namespace": namespace}, CONTEXT)
    wanted = [obj for obj in app_workload.all_objects(rendered) if obj["kind"] in ("ServiceAccount", "ConfigMap", "Secret", "Deployment")]
    for obj in wanted:
        if obj["kind"] == "Deployment":
            pod = obj["spec"]["template"]["spec"]
            pod.update(ON_REAL_NODE)
            for container in pod["containers"]:
                container["imagePullPolicy"] = "Never"
    return wanted


def apps_job(testbed, namespace: str) -> dict:
    """The role's scrape job for the apps, as its ConfigMap holds it, pointed at the testbed's API server."""
    data = json.loads(testbed.kubectl("get", "configmap", "aibang-prometheus-scrape", "-n", namespace, "-o", "json").stdout)["data"]
    job = next(job for job in yaml.safe_load(data["scrape-configs.yml"]) if job["job_name"] == "aibang-apps")
    for discovery in job["kubernetes_sd_configs"]:
        discovery.update(kubeconfig_file=cluster.KUBECONFIG, namespaces={"names": [namespace]})
    return job


def test_prometheus_scrapes_the_app_where_its_annotations_say(testbed, namespace, tmp_path):
    run(namespace)  # the monitoring role, configmap mode (the testbed has no Prometheus Operator)
    job = apps_job(testbed, namespace)
    apply(testbed, namespace, *app_objects(namespace))
    run_dir = str(tmp_path / "prometheus")
    os.makedirs(run_dir)
    prometheus = Prometheus(run_dir, {}, listen=PROMETHEUS_LISTEN, extra_jobs=[job]).start()
    try:
        def scraped():
            query = urllib.parse.quote('app_requests_total{job="aibang-apps",namespace="%s",path="/health"}' % namespace)
            return prometheus.api(f"query?query={query}")["result"]
        scraped.__doc__ = "Prometheus scraping the app's /metrics (its /health requests counted)"
        result = wait_until(scraped, timeout=120, every=1)
        assert result[0]["metric"]["pod"].startswith("sample-")
        targets = prometheus.api("targets?state=active")["activeTargets"]
        app_targets = [t for t in targets if t["labels"]["job"] == "aibang-apps"]
        assert [t["health"] for t in app_targets] == ["up"], app_targets
        assert app_targets[0]["scrapeUrl"].endswith(":8080/metrics")
    finally:
        prometheus.stop()
