# -*- coding: utf-8 -*-
"""The apps' metrics on the lab: an app as app_workload renders it (the lab's sample app, /metrics on its port) runs on
the testbed's real node, and a real Prometheus runs the monitoring role's own `aibang-apps` scrape job (read from the
ConfigMap the role applies where the Prometheus Operator is absent): its relabelling keeps the pod by its
prometheus.io annotations and moves the scrape to their port and path. Debian's Prometheus has no Kubernetes discovery,
so the job's `kubernetes_sd_configs` is replaced by the targets that discovery gives, read from the testbed's API server
(prometheus_lab.kubernetes_pod_targets). Only the lab's differences are patched in: the real node, the local image."""

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
from tests.testbed.prometheus_lab import Prometheus, kubernetes_pod_targets

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


def apps_job(testbed, namespace: str, targets_file: str) -> dict:
    """The role's scrape job for the apps, as its ConfigMap holds it, its pod discovery read from ``targets_file``."""
    data = json.loads(testbed.kubectl("get", "configmap", "aibang-prometheus-scrape", "-n", namespace, "-o", "json").stdout)["data"]
    job = next(job for job in yaml.safe_load(data["scrape-configs.yml"]) if job["job_name"] == "aibang-apps")
    assert job.pop("kubernetes_sd_configs") == [{"role": "pod"}]
    return dict(job, file_sd_configs=[{"files": [targets_file]}])


def running_pods(testbed, namespace: str) -> list:
    pods = json.loads(testbed.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    return pods if pods and all(pod["status"].get("podIP") and pod["status"].get("phase") == "Running" for pod in pods) else []


def test_prometheus_scrapes_the_app_where_its_annotations_say(testbed, namespace, tmp_path):
    run(namespace)  # the monitoring role, configmap mode (the testbed has no Prometheus Operator)
    run_dir = str(tmp_path / "prometheus")
    os.makedirs(run_dir)
    targets_file = os.path.join(run_dir, "pods.json")
    job = apps_job(testbed, namespace, targets_file)
    apply(testbed, namespace, *app_objects(namespace))

    def pods():
        return running_pods(testbed, namespace)
    pods.__doc__ = "the app's pod Running with an IP"
    with open(targets_file, "w", encoding="utf-8") as handle:
        json.dump(kubernetes_pod_targets(wait_until(pods, timeout=120, every=1)), handle)
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
