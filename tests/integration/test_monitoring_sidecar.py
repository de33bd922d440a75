# -*- coding: utf-8 -*-
"""Tier 1's Squid exporter sidecar, as roles/squid_gke renders it, in a real pod on the testbed's real node.

The images are the lab's (tests/testbed/images.sh: Debian's squid and prometheus-squid-exporter, built locally);
everything else is the rendered Deployment, on the real node through squid_gke_node_selector and squid_gke_tolerations:
shared process namespace, read-only root filesystems, the pid file on the shared volume, the cache manager read over
the pod's loopback. Only what the lab needs changes: one replica, images never pulled. The cache manager answers the
sidecar and refuses a client outside the pod.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request

import yaml

from tests.integration.test_real_pods import ON_REAL_NODE, apply
from tests.integration.test_testbed import wait_until
from tests.testbed import cluster

SQUID_UP = re.compile(r"^squid_up(\{[^}]*\})? 1$", re.MULTILINE)
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "monitoring_sidecar.yml")


def rendered(out: str) -> list:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"squid_image={cluster.image('squid')}",
                           "-e", f"exporter_image={cluster.image('squid-exporter')}", "-e", f"out={out}",
                           "-e", json.dumps({"node_selector": ON_REAL_NODE["nodeSelector"], "tolerations": ON_REAL_NODE["tolerations"]}),
                           PLAYBOOK],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    with open(out, encoding="utf-8") as handle:
        return [document for document in yaml.safe_load_all(handle) if document]


def on_the_lab(deployment: dict, namespace: str) -> dict:
    """One replica (the lab has one real node; the pods' anti-affinity wants a node each), images never pulled."""
    deployment["metadata"]["namespace"] = namespace
    deployment["spec"]["replicas"] = 1
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        container["imagePullPolicy"] = "Never"
    return deployment


def cache_manager_status(address: str, port: int) -> str:
    """The status line Squid gives a client outside the pod that asks for the cache manager's counters."""
    with socket.create_connection((address, port), timeout=5) as connection:
        connection.sendall(f"GET cache_object://{address}/counters HTTP/1.0\r\n\r\n".encode())
        return connection.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def test_the_sidecar_reads_squid_over_the_pods_loopback(testbed, namespace, tmp_path):
    objects = rendered(str(tmp_path / "squid-proxy.yaml"))
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    exporter = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "squid-exporter")
    assert exporter["image"] == cluster.image("squid-exporter")
    metrics_port = next(p["containerPort"] for p in exporter["ports"] if p["name"] == "metrics")
    config_map["metadata"]["namespace"] = namespace
    apply(testbed, namespace, config_map, on_the_lab(deployment, namespace))

    def ready_pod():
        pods = json.loads(testbed.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
        statuses = [p for p in pods if all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))]
        return statuses[0] if statuses else None
    ready_pod.__doc__ = "the tier-1 pod with its exporter sidecar Ready"
    try:
        pod = wait_until(ready_pod, timeout=120)
    except AssertionError as exc:
        found = testbed.kubectl("get", "pods", "-n", namespace, "-o", "json", check=False).stdout
        logs = testbed.kubectl("logs", "-n", namespace, "--all-containers", "-l", "app.kubernetes.io/name=squid-proxy",
                               "--tail", "40", check=False)
        raise AssertionError(f"{exc}\n{found[-3000:]}\n{logs.stdout}{logs.stderr}") from exc
    pod_ip = pod["status"]["podIP"]

    def metrics():
        try:
            with urllib.request.urlopen(f"http://{pod_ip}:{metrics_port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            return None
        return text if SQUID_UP.search(text) else None
    metrics.__doc__ = "the sidecar reading Squid (squid_up 1)"
    text = wait_until(metrics, timeout=60)
    assert any(line.startswith("squid_process_open_fds") for line in text.splitlines()), "no process metrics (pid file)"
    assert any(line.startswith("squid_client_http_requests_total") for line in text.splitlines())
    proxy_port = next(p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
                      for p in c.get("ports", []) if p["name"] == "proxy")
    assert " 403 " in cache_manager_status(pod_ip, proxy_port) + " "
