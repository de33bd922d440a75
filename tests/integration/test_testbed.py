# -*- coding: utf-8 -*-
"""The local control plane behaves like a small GKE cluster: real API server and controllers, kwok nodes, CoreDNS.

kwok's nodes run nothing; test_real_pods.py covers the real node."""

from __future__ import annotations

import json
import time

from tests.testbed import cluster, node

WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {labelSelector: {matchLabels: {app: web}}, topologyKey: topology.kubernetes.io/zone}
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  serviceName: redis
  replicas: 1
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec: {containers: [{name: redis, image: redis, volumeMounts: [{name: data, mountPath: /data}]}]}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec: {containers: [{name: c, image: fluent-bit}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate: {spec: {backoffLimit: 3, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
"""


def wait_until(check, timeout: float = 60.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")


def get(testbed, namespace: str, *what: str) -> dict:
    return json.loads(testbed.kubectl("get", "-n", namespace, *what, "-o", "json").stdout)


def test_three_ready_kwok_nodes_labelled_like_gke(testbed):
    nodes = json.loads(testbed.kubectl("get", "nodes", "-l", "type=kwok", "-o", "json").stdout)["items"]
    assert len(nodes) == 3
    for node in nodes:
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == "True"
        assert node["metadata"]["labels"]["cloud.google.com/gke-nodepool"] == "default-pool"
    assert {node["metadata"]["labels"]["topology.kubernetes.io/zone"] for node in nodes} == {
        "europe-west2-a", "europe-west2-b", "europe-west2-c"}


def test_workloads_become_ready(testbed, namespace):
    testbed.kubectl("apply", "-n", namespace, "-f", "-", stdin=WORKLOADS)

    def deployment_available():
        status = get(testbed, namespace, "deployment", "web")["status"]
        return status.get("availableReplicas") == 2

    def statefulset_ready():
        return get(testbed, namespace, "statefulset", "redis")["status"].get("readyReplicas") == 1

    def daemonset_ready():
        status = get(testbed, namespace, "daemonset", "logs")["status"]
        return status.get("numberReady") == 3 == status.get("desiredNumberScheduled")

    wait_until(deployment_available)
    wait_until(statefulset_ready)
    wait_until(daemonset_ready)
    assert get(testbed, namespace, "pvc", "data-redis-0")["status"]["phase"] == "Bound"
    zones = {pod["spec"]["nodeName"] for pod in get(testbed, namespace, "pods", "-l", "app=web")["items"]}
    assert len(zones) == 2, "zone anti-affinity spreads the replicas"
    assert get(testbed, namespace, "hpa", "web")["spec"]["maxReplicas"] == 4


def test_jobs_and_cronjobs_complete(testbed, namespace):
    testbed.kubectl("apply", "-n", namespace, "-f", "-", stdin=WORKLOADS)
    testbed.kubectl("create", "job", "-n", namespace, "nightly-now", "--from=cronjob/nightly")

    def job_complete():
        conditions = get(testbed, namespace, "job", "nightly-now")["status"].get("conditions", [])
        return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)

    wait_until(job_complete)


def test_namespace_deletion_finalizes(testbed):
    testbed.kubectl("create", "namespace", "it-finalize")
    testbed.kubectl("apply", "-n", "it-finalize", "-f", "-", stdin=WORKLOADS)
    testbed.kubectl("delete", "namespace", "it-finalize", "--wait=false")

    def gone():
        return testbed.kubectl("get", "namespace", "it-finalize", check=False).returncode != 0

    wait_until(gone, timeout=120)


def test_cluster_dns_resolves_services(testbed, namespace):
    assert testbed.dig("kubernetes.default.svc.cluster.local") == "10.96.0.1"
    testbed.kubectl("create", "service", "clusterip", "api", "-n", namespace, "--tcp=443:8443")
    cluster_ip = get(testbed, namespace, "service", "api")["spec"]["clusterIP"]
    assert wait_until(lambda: testbed.dig(f"api.{namespace}.svc.cluster.local") == cluster_ip, timeout=30)


def coredns_pods(testbed) -> list:
    """The cluster DNS's pods once each runs Ready and kube-dns's EndpointSlices hold exactly their addresses."""
    def ready() -> list:
        pods = json.loads(testbed.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "json").stdout)["items"]
        ready_pods = [pod for pod in pods if pod["status"]["phase"] == "Running" and pod.get("metadata", {}).get("deletionTimestamp") is None
                      and any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))]
        return ready_pods if len(ready_pods) == len(pods) == cluster.COREDNS_REPLICAS else []

    def kube_dns_endpoints() -> set:
        slices = json.loads(testbed.kubectl("get", "endpointslices", "-n", "kube-system", "-l",
                                            "kubernetes.io/service-name=kube-dns", "-o", "json").stdout)["items"]
        # the endpointslice controller writes a pod's address a moment after the kubelet reports it Ready (a slice
        # without endpoints has no "endpoints" key)
        return {address for piece in slices for endpoint in piece.get("endpoints") or []
                if (endpoint.get("conditions") or {}).get("ready", True) for address in endpoint["addresses"]}

    def settled() -> list:
        pods = ready()
        return pods if pods and kube_dns_endpoints() == {pod["status"]["podIP"] for pod in pods} else []
    settled.__doc__ = f"{cluster.COREDNS_REPLICAS} CoreDNS pods Ready behind kube-dns"
    return wait_until(settled, timeout=60)


def test_cluster_dns_is_coredns_on_the_pod_network_with_its_own_service_account(testbed):
    """The cluster's DNS as GKE runs it: the kube-system/coredns Deployment, its pods on real nodes (one each), on the pod
    network (not the host's), reading the API through their ServiceAccount token and the `kubernetes` Service (no
    hostPath, no kubeconfig), the Corefile the ConfigMap's, mounted by the kubelet; kube-dns's endpoints are those
    pods (tests/testbed/cluster.py: coredns_objects)."""
    pods = coredns_pods(testbed)
    nodes = {pod["spec"]["nodeName"] for pod in pods}
    assert len(nodes) == cluster.COREDNS_REPLICAS and all(name.startswith("gke-testbed-real-pool-") for name in nodes), nodes
    for pod in pods:
        spec, name = pod["spec"], pod["metadata"]["name"]
        assert not spec.get("hostNetwork") and pod["status"]["podIP"] != pod["status"]["hostIP"], pod["status"]
        assert pod["status"]["podIP"].startswith("10.244.128.") and pod["status"]["podIP"] not in {real.ip for real in node.NODES}
        assert spec["serviceAccountName"] == "coredns"
        assert not [volume for volume in spec["volumes"] if "hostPath" in volume], spec["volumes"]
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        assert volumes["config-volume"]["configMap"]["name"] == "coredns"
        coredns = next(c for c in spec["containers"] if c["name"] == "coredns")
        token = [mount for mount in coredns["volumeMounts"] if mount["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"]
        assert token and any(source.get("serviceAccountToken") for source in volumes[token[0]["name"]]["projected"]["sources"]), token
        # each pod answers the kubernetes Service's name itself, from the API it reads with its token
        assert testbed.dig("kubernetes.default.svc.cluster.local", server=pod["status"]["podIP"]) == "10.96.0.1", name
        logs = testbed.kubectl("logs", "-n", "kube-system", name, "-c", "coredns").stdout
        stubs = testbed.kubectl("logs", "-n", "kube-system", name, "-c", "kube-dns-stubs").stdout
        print(f"cluster DNS pod {name} on {spec['nodeName']} ({pod['status']['podIP']}):\n{logs}{stubs}")
        assert "CoreDNS-" in logs and "kube-dns-stubs: wrote" in stubs
        assert "Unauthorized" not in logs and "forbidden" not in logs, logs
    assert "kubeconfig" not in get(testbed, "kube-system", "configmap", "coredns")["data"]["Corefile"]
    can = testbed.kubectl("auth", "can-i", "watch", "endpointslices.discovery.k8s.io", "--all-namespaces",
                          "--as=system:serviceaccount:kube-system:coredns", check=False).stdout.strip()
    assert can == "yes"
    # the `kubernetes` Service, where those pods read the API: the API server's advertise address on the lab's bridge
    endpoints = get(testbed, "default", "endpoints", "kubernetes")["subsets"]
    assert [(a["ip"], p["port"]) for subset in endpoints for a in subset["addresses"] for p in subset["ports"]] == [(node.NODE_IP, cluster.API_PORT)]


def test_coredns_reloads_the_configmap(testbed):
    """Each replica applies a changed Corefile (its kubelet updates the volume, `reload` sees it)."""
    addresses = [pod["status"]["podIP"] for pod in coredns_pods(testbed)]
    original = get(testbed, "kube-system", "configmap", "coredns")["data"]["Corefile"]
    edited = original.replace("    cache 30", "    hosts {\n        10.9.8.7 reload-probe.example.test\n        fallthrough\n    }\n    cache 30", 1)
    assert edited != original

    def every_replica(expected: str):
        def check() -> bool:
            return all(testbed.dig("reload-probe.example.test", server=address) == expected for address in addresses)
        check.__doc__ = f"every CoreDNS pod ({', '.join(addresses)}) answers {expected!r}"
        return check

    try:
        testbed.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type", "merge",
                        "-p", json.dumps({"data": {"Corefile": edited}}))
        assert wait_until(every_replica("10.9.8.7"), timeout=45)
        assert testbed.dig("reload-probe.example.test") == "10.9.8.7"  # and kube-dns's ClusterIP, from this machine
    finally:
        testbed.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type", "merge",
                        "-p", json.dumps({"data": {"Corefile": original}}))
    wait_until(every_replica(""), timeout=45)
