# -*- coding: utf-8 -*-
"""Pods that really run: the testbed's real node (containerd + runc, CNI bridge, kubelet, kube-proxy) and its images.

Every pod here opts into the real node (its label and taint); kwok's nodes run nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.conftest import REPO
from tests.integration.test_testbed import get, wait_until
from tests.testbed import cloudsql_lab, cluster, node

ON_REAL_NODE = {
    "nodeSelector": {node.REAL_NODE_LABEL: "true"},
    "tolerations": [{"key": node.REAL_NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
    "terminationGracePeriodSeconds": 2,
    "enableServiceLinks": False,
}


def container(name: str, image: str, **extra) -> dict:
    return {"name": name, "image": cluster.image(image), "imagePullPolicy": "Never", **extra}


def pod(name: str, *containers: dict, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {**ON_REAL_NODE, "containers": list(containers), **spec}}


def apply(testbed, namespace: str, *objects: dict) -> None:
    testbed.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def wait_ready(testbed, namespace: str, name: str, timeout: float = 90.0) -> dict:
    def ready():
        found = testbed.kubectl("get", "pod", "-n", namespace, name, "-o", "json", check=False)
        if found.returncode != 0:
            return None
        status = json.loads(found.stdout)["status"]
        waiting = [c["state"]["waiting"] for c in status.get("containerStatuses", []) if "waiting" in c.get("state", {})]
        assert not [w for w in waiting if w.get("reason") in ("ErrImageNeverPull", "CreateContainerError", "RunContainerError")], waiting
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        return status if conditions.get("Ready") == "True" else None
    ready.__doc__ = f"pod {namespace}/{name} Ready"
    return wait_until(ready, timeout=timeout)


def exec_in(testbed, namespace: str, name: str, *command: str) -> str:
    return testbed.kubectl("exec", "-n", namespace, name, "--", *command).stdout


def test_the_real_node_is_ready_and_runs_the_control_planes_release(testbed):
    found = json.loads(testbed.kubectl("get", "node", node.NODE_NAME, "-o", "json").stdout)
    assert found["status"]["nodeInfo"]["kubeletVersion"] == f"v{cluster.versions()['K8S_VERSION']}"
    assert found["status"]["nodeInfo"]["kubeProxyVersion"] in ("", f"v{cluster.versions()['K8S_VERSION']}")
    assert {a["type"]: a["address"] for a in found["status"]["addresses"]}["InternalIP"] == node.NODE_IP
    assert {t["key"] for t in found["spec"].get("taints", [])} == {node.REAL_NODE_LABEL}
    assert found["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_squid_runs_in_a_pod_exec_and_logs(testbed, namespace):
    apply(testbed, namespace, pod("squid", container("squid", "squid", command=["squid", "-N", "-d", "1"])))
    wait_ready(testbed, namespace, "squid")
    assert "Squid Cache: Version 5.7" in exec_in(testbed, namespace, "squid", "squid", "-v")
    wait_until(lambda: "Accepting HTTP Socket connections" in testbed.kubectl("logs", "-n", namespace, "squid").stdout, timeout=30)


def test_a_pod_reaches_a_service_through_kube_proxy_and_cluster_dns(testbed, namespace):
    web = pod("web", container("web", "app", ports=[{"containerPort": 8080, "name": "http"}],
                               readinessProbe={"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 1}))
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}
    probe = pod("probe", container("probe", "probe"))
    apply(testbed, namespace, web, service, probe)
    web_status = wait_ready(testbed, namespace, "web")
    wait_ready(testbed, namespace, "probe")
    cluster_ip = get(testbed, namespace, "service", "web")["spec"]["clusterIP"]
    assert cluster_ip.startswith("10.96.") and web_status["podIP"].startswith("10.244.128.")
    # kube-proxy programs the Service's endpoint after the pod turns Ready (it syncs asynchronously); until then the
    # ClusterIP refuses connections, so wait on the condition, bounded.

    def served():
        done = testbed.kubectl("exec", "-n", namespace, "probe", "--", "curl", "-sS", "--max-time", "5",
                               f"http://{cluster_ip}/health", check=False)
        return done.stdout if done.returncode == 0 else None
    served.__doc__ = f"the ClusterIP {cluster_ip} serves /health through kube-proxy"
    by_ip = wait_until(served, timeout=30)
    assert json.loads(by_ip) == {"status": "ok"}
    answer = exec_in(testbed, namespace, "probe", "dig", "+short", f"web.{namespace}.svc.cluster.local")
    assert answer.strip() == cluster_ip
    by_name = exec_in(testbed, namespace, "probe", "curl", "-sS", "--max-time", "5", "http://web/metrics")
    assert 'app_requests_total{path="/health",code="200"}' in by_name


def test_a_pod_reaches_the_api_server_by_the_kubernetes_services_name_through_cluster_dns(testbed, namespace):
    """The path the cluster's CoreDNS pods read the API by, from an ordinary pod: kube-dns answers the `kubernetes`
    Service's name, kube-proxy sends 10.96.0.1:443 to the API server on the lab's bridge, its certificate names the
    Service, and the pod's own ServiceAccount token is who it is there."""
    apply(testbed, namespace, pod("probe", container("probe", "probe")))
    wait_ready(testbed, namespace, "probe")
    assert exec_in(testbed, namespace, "probe", "dig", "+short", "kubernetes.default.svc.cluster.local").strip() == "10.96.0.1"
    assert exec_in(testbed, namespace, "probe", "sh", "-c", "grep ^nameserver /etc/resolv.conf").split() == ["nameserver", cluster.DNS_SERVICE_IP]
    account = "/var/run/secrets/kubernetes.io/serviceaccount"
    review = exec_in(testbed, namespace, "probe", "sh", "-c",
                     f"curl -sS --max-time 10 --cacert {account}/ca.crt -H \"Authorization: Bearer $(cat {account}/token)\" "
                     "-H 'Content-Type: application/json' -X POST "
                     "-d '{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}' "
                     "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews")
    assert json.loads(review)["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:default", review


def test_statefulset_data_survives_deleting_the_pod(testbed, namespace):
    statefulset = {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "redis"},
        "spec": {"serviceName": "redis", "replicas": 1, "selector": {"matchLabels": {"app": "redis"}},
                 "template": {"metadata": {"labels": {"app": "redis"}},
                              "spec": {**ON_REAL_NODE, "containers": [container(
                                  "redis", "redis", args=["--dir", "/data", "--appendonly", "yes", "--appendfsync", "always"],
                                  volumeMounts=[{"name": "data", "mountPath": "/data"}],
                                  readinessProbe={"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 1})]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]},
    }
    apply(testbed, namespace, statefulset)
    first = wait_ready(testbed, namespace, "redis-0")
    assert exec_in(testbed, namespace, "redis-0", "redis-cli", "set", "seed-002", "persisted").strip() == "OK"
    testbed.kubectl("delete", "pod", "-n", namespace, "redis-0", "--wait=true")
    second = wait_ready(testbed, namespace, "redis-0")
    assert second["startTime"] != first["startTime"] or second["containerStatuses"][0]["containerID"] != first["containerStatuses"][0]["containerID"]
    assert exec_in(testbed, namespace, "redis-0", "redis-cli", "get", "seed-002").strip() == "persisted"


def test_a_cronjobs_job_runs_its_command_and_completes(testbed, namespace):
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
               "spec": {"schedule": "0 3 * * *", "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                        "jobTemplate": {"spec": {"backoffLimit": 3, "activeDeadlineSeconds": 300, "template": {"spec": {
                            **ON_REAL_NODE, "restartPolicy": "Never",
                            "containers": [container("report", "probe", command=["sh", "-c", "echo nightly report from $(hostname)"])]}}}}}}
    apply(testbed, namespace, cronjob)
    testbed.kubectl("create", "job", "-n", namespace, "nightly-now", "--from=cronjob/nightly")

    def complete():
        conditions = get(testbed, namespace, "job", "nightly-now")["status"].get("conditions", [])
        return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)

    wait_until(complete, timeout=90)
    assert "nightly report from nightly-now-" in testbed.kubectl("logs", "-n", namespace, "job/nightly-now").stdout


def test_a_daemonset_runs_on_every_real_node(testbed, namespace):
    daemonset = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "logs"},
                 "spec": {"selector": {"matchLabels": {"app": "logs"}}, "template": {"metadata": {"labels": {"app": "logs"}}, "spec": {
                     **ON_REAL_NODE, "containers": [container("collector", "probe", volumeMounts=[
                         {"name": "varlog", "mountPath": "/host/var/log", "readOnly": True}])],
                     "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}]}}}}
    apply(testbed, namespace, daemonset)
    real_nodes = testbed.kubectl("get", "nodes", "-l", f"{node.REAL_NODE_LABEL}=true", "-o", "name").stdout.split()
    assert real_nodes

    def on_every_real_node():
        status = get(testbed, namespace, "daemonset", "logs")["status"]
        return status.get("numberReady") == len(real_nodes) == status.get("desiredNumberScheduled")

    wait_until(on_every_real_node, timeout=90)
    pod_name = testbed.kubectl("get", "pods", "-n", namespace, "-l", "app=logs", "-o", "name").stdout.split()[0]
    assert exec_in(testbed, namespace, pod_name.split("/")[1], "ls", "/host/var/log")


def test_a_failing_liveness_probe_restarts_the_container(testbed, namespace):
    apply(testbed, namespace, pod("unhealthy", container("c", "probe", livenessProbe={
        "exec": {"command": ["test", "-e", "/nonexistent"]}, "periodSeconds": 1, "failureThreshold": 1})))

    def restarted():
        statuses = get(testbed, namespace, "pod", "unhealthy")["status"].get("containerStatuses", [])
        return statuses and statuses[0]["restartCount"] >= 1

    wait_until(restarted, timeout=90)
    events = testbed.kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=unhealthy").stdout
    assert "Liveness probe failed" in events


@pytest.mark.parametrize("policy, reason", [("Never", "ErrImageNeverPull"), ("IfNotPresent", "ErrImagePull|ImagePullBackOff")])
def test_an_image_that_is_not_built_fails_naming_it(testbed, namespace, policy, reason):
    missing = "aibang-testbed.local/not-built:1"
    apply(testbed, namespace, pod("missing", {"name": "c", "image": missing, "imagePullPolicy": policy}))

    def failed():
        statuses = get(testbed, namespace, "pod", "missing")["status"].get("containerStatuses", [])
        waiting = statuses[0]["state"].get("waiting", {}) if statuses else {}
        return waiting if waiting.get("reason") in reason.split("|") else None

    waiting = wait_until(failed, timeout=60)
    assert missing in waiting.get("message", "") or missing in testbed.kubectl(
        "get", "events", "-n", namespace, "--field-selector", "involvedObject.name=missing").stdout


def run_playbook(playbook: str, *args: str) -> subprocess.CompletedProcess:
    """A playbook of the collection against inventories/local (the testbed), as `make demo` runs it."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", os.path.join(REPO, "inventories", "local"),
               os.path.join(REPO, "playbooks", playbook), *args]
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=REPO)


def through_the_alias(testbed, namespace: str, pod_name: str, url: str) -> subprocess.CompletedProcess:
    """curl in a pod, through HTTPS_PROXY at the egress alias, trusting the lab's CA (mounted at /lab/ca.pem)."""
    return testbed.kubectl("exec", "-n", namespace, pod_name, "--", "curl", "-sS", "--max-time", "10", "--cacert", "/lab/ca.pem",
                           "-o", "/dev/null", "-w", "%{http_code} %{http_connect}", url, check=False)


def test_the_egress_chain_runs_in_real_pods(testbed, namespace):
    """pod -> alias (cluster DNS) -> tier-1 Squid pods as squid_gke rendered them -> tier 2 on the VM -> the lab internet."""
    deployed = run_playbook("deploy.yml", "--tags", "egress")
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-2000:]
    squids = json.loads(testbed.kubectl("get", "pods", "-n", "intra-proxy", "-l", "app.kubernetes.io/component=egress-proxy",
                                        "-o", "json").stdout)["items"]
    real_nodes = {real.name for real in node.NODES}
    assert len(squids) == 2 and {squid["spec"]["nodeName"] for squid in squids} <= real_nodes
    assert len({squid["spec"]["nodeName"] for squid in squids}) == 2  # the required anti-affinity, on real nodes
    tier1 = squids[0]["metadata"]["name"]
    assert "Squid Cache: Version 5.7" in exec_in(testbed, "intra-proxy", tier1, "squid", "-v")

    lab_ca_pod(testbed, namespace, "client", HTTPS_PROXY="http://microsoft.intra.aibang.local:3128")
    allowed = through_the_alias(testbed, namespace, "client", "https://login.microsoftonline.com/")
    assert allowed.stdout.split() == ["200", "200"], allowed.stdout + allowed.stderr  # the target's answer, TLS verified
    denied = through_the_alias(testbed, namespace, "client", "https://example.org/")
    assert denied.stdout.split()[-1] == "403", denied.stdout + denied.stderr

    # Squid's own audit lines: tier 1 on its pods' stdout, tier 2 in the VM's log with a tier-1 pod as the client.
    tier1_log = "".join(testbed.kubectl("logs", "-n", "intra-proxy", squid["metadata"]["name"], "-c", "squid").stdout for squid in squids)
    assert '"tier":"gke"' in tier1_log and '"host":"login.microsoftonline.com"' in tier1_log
    with open(os.path.join(cluster.RUN, "squid-vm-log", "access.log"), encoding="utf-8") as handle:
        tier2_clients = {json.loads(line)["client"] for line in handle if '"login.microsoftonline.com"' in line}
    assert tier2_clients & {squid["status"]["podIP"] for squid in squids}, tier2_clients


def lab_ca_pod(testbed, namespace: str, name: str, **env: str) -> str:
    """A probe pod with the lab's CA at /lab/ca.pem; returns its name once Ready."""
    if testbed.kubectl("get", "configmap", "lab-ca", "-n", namespace, check=False).returncode != 0:
        with open(os.path.join(cluster.RUN, "ca.pem"), encoding="utf-8") as handle:
            testbed.kubectl("create", "configmap", "lab-ca", "-n", namespace, f"--from-literal=ca.pem={handle.read()}")
    probe = container(name, "probe", env=[{"name": key, "value": value} for key, value in env.items()],
                      volumeMounts=[{"name": "ca", "mountPath": "/lab"}])
    apply(testbed, namespace, pod(name, probe, volumes=[{"name": "ca", "configMap": {"name": "lab-ca"}}]))
    wait_ready(testbed, namespace, name)
    return name


def test_cloud_sql_stand_in_answers_at_the_psc_endpoint_with_tls(testbed, namespace):
    """MariaDB at the address the GCP fake gave the PSC endpoint, with the users the deploy created: a pod connects."""
    deployed = run_playbook("deploy.yml", "--tags", "gcp")
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-2000:]
    started = subprocess.run([sys.executable, "-m", "tests.testbed.cloudsql_lab", "up"], cwd=REPO, capture_output=True, text=True,
                             timeout=180, check=False)
    assert started.returncode == 0, started.stdout + started.stderr
    endpoint = cloudsql_lab.endpoints(cloudsql_lab.fake_resources())[0]
    user, _host, password = endpoint["users"][0]
    client = lab_ca_pod(testbed, namespace, "db-client", MYSQL_PWD=password)
    mariadb = ["mariadb", "--connect-timeout=5", "-h", endpoint["address"], "-u", user, endpoint["databases"][0], "--batch", "--skip-column-names"]
    over_tls = testbed.kubectl("exec", "-n", namespace, client, "--", *mariadb, "--ssl-ca=/lab/ca.pem", "--ssl-verify-server-cert",
                               "-e", "SELECT CURRENT_USER(), DATABASE(); SHOW SESSION STATUS LIKE 'Ssl_version';", check=False)
    assert over_tls.returncode == 0, over_tls.stderr
    lines = [line.split("\t") for line in over_tls.stdout.splitlines()]
    assert lines[0] == [f"{user}@%", endpoint["databases"][0]] and lines[1][1].startswith("TLSv1.")
    in_clear = testbed.kubectl("exec", "-n", namespace, client, "--", *mariadb, "--skip-ssl", "-e", "SELECT 1;", check=False)
    assert in_clear.returncode != 0 and ("insecure transport" in in_clear.stderr or "Access denied" in in_clear.stderr), in_clear.stderr
