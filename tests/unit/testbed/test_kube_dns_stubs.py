# -*- coding: utf-8 -*-
"""The lab's stand-in for kube-dns's stubDomains (tests/testbed/kube_dns_stubs.py) and the cluster DNS Deployment it
runs in (tests/testbed/cluster.py): test infrastructure, checked without a testbed."""

from __future__ import annotations

import json

from tests.testbed import cluster, kube_dns_stubs


def test_stub_domains_become_forwarding_server_blocks(tmp_path):
    source, out = tmp_path / "stubDomains", tmp_path / "stub-domains.server"
    served = kube_dns_stubs.sync_once(str(source), str(out), "", 53, None)
    assert served == "" and out.read_text() == ""  # no ConfigMap: an empty file, so the import matches a file
    source.write_text(json.dumps({"corp.example": ["10.1.1.1"], "a.aibang.local": ["10.96.3.4", "10.96.3.5"]}))
    served = kube_dns_stubs.sync_once(str(source), str(out), "", 53, served)
    # in a pod: on every address of the pod, as the Corefile's other blocks
    assert out.read_text() == served == (
        "a.aibang.local:53 {\n    forward . 10.96.3.4 10.96.3.5\n}\n"
        "corp.example:53 {\n    forward . 10.1.1.1\n}\n")


def test_a_bind_limits_the_blocks_to_those_addresses():
    assert kube_dns_stubs.stub_blocks({"corp.example": ["10.1.1.1"]}, "127.0.0.10 10.244.128.1") == (
        "corp.example:53 {\n    bind 127.0.0.10 10.244.128.1\n    forward . 10.1.1.1\n}\n")


def test_a_stub_domains_value_that_is_not_a_mapping_of_lists_keeps_what_is_served(tmp_path):
    source, out = tmp_path / "stubDomains", tmp_path / "stub-domains.server"
    source.write_text(json.dumps({"corp.example": ["10.1.1.1"]}))
    served = kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10", 53, None)
    for bad in ("not json", json.dumps(["corp.example"]), json.dumps({"corp.example": "10.1.1.1"})):
        source.write_text(bad)
        assert kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10", 53, served) == served
        assert out.read_text() == served


HOSTS = "203.0.113.50 login.microsoftonline.com graph.microsoft.com example.org\n127.0.0.1 loopback.microsoft.com\n"


def objects(monkeypatch) -> dict:
    monkeypatch.setattr(cluster, "image", lambda name: f"aibang-testbed.local/{name}:test")
    return {(item["kind"], item["metadata"]["name"]): item for item in json.loads(cluster.coredns_objects(HOSTS))["items"]}


def test_the_cluster_dns_runs_as_the_coredns_deployment_on_the_pod_network(monkeypatch):
    found = objects(monkeypatch)
    deployment = found["Deployment", "coredns"]
    assert deployment["metadata"]["namespace"] == "kube-system" and deployment["spec"]["replicas"] == cluster.COREDNS_REPLICAS
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["template"]["metadata"]["labels"] == json.loads(cluster.kube_dns_service())["spec"]["selector"]
    # GKE's way: the pod network, the API through its own ServiceAccount token (in-cluster config), no host files
    assert "hostNetwork" not in pod and pod.get("automountServiceAccountToken", True) and pod["serviceAccountName"] == "coredns"
    assert not [volume for volume in pod["volumes"] if "hostPath" in volume]
    # spread: one pod per real node (kwok's nodes run nothing)
    assert pod["nodeSelector"] == {"aibang.testbed/real-node": "true"}
    assert pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {"labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}}, "topologyKey": "kubernetes.io/hostname"}]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["config-volume"]["configMap"]["name"] == "coredns"  # the product's object, as the kubelet mounts it
    assert volumes["kube-dns-config"]["configMap"] == {"name": "kube-dns", "optional": True}
    coredns, stubs = pod["containers"]
    assert coredns["args"] == ["-conf", "/etc/coredns/Corefile"]
    assert {mount["mountPath"] for mount in coredns["volumeMounts"]} == {"/etc/coredns", cluster.LAB_DIR, cluster.STUBS_DIR}
    assert coredns["readinessProbe"]["httpGet"]["port"] == 8181 and coredns["livenessProbe"]["httpGet"]["port"] == 8080
    assert f"{cluster.STUBS_DIR}/stub-domains.server" in stubs["command"] and "--bind" not in stubs["command"]
    lab = found["ConfigMap", cluster.LAB_CONFIGMAP]["data"]
    assert lab["kube_dns_stubs.py"].startswith("# -*- coding: utf-8 -*-") and lab["hosts"] == HOSTS and lab["root.db"] == cluster.ROOT_ZONE


def test_coredns_may_read_what_its_kubernetes_plugin_watches(monkeypatch):
    found = objects(monkeypatch)
    assert found["ServiceAccount", "coredns"]["metadata"]["namespace"] == "kube-system"
    granted = {(group, resource): set(rule["verbs"]) for rule in found["ClusterRole", "system:coredns"]["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted == {("", "endpoints"): {"list", "watch"}, ("", "services"): {"list", "watch"}, ("", "pods"): {"list", "watch"},
                       ("", "namespaces"): {"list", "watch"}, ("discovery.k8s.io", "endpointslices"): {"list", "watch"}}
    binding = found["ClusterRoleBinding", "system:coredns"]
    assert binding["roleRef"]["name"] == "system:coredns"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]


def test_the_corefile_reads_the_api_in_cluster_and_the_lab_files_from_its_configmap():
    corefile = cluster.corefile(HOSTS)
    assert corefile.startswith(".:53 {\n")  # the root server block cluster_dns edits
    assert "kubeconfig" not in corefile and "bind" not in corefile  # in-cluster config; every address of the pod
    assert "\n    ready\n" in corefile and "\n    health\n" in corefile
    assert f"file {cluster.LAB_DIR}/root.db ." in corefile and f"hosts {cluster.LAB_DIR}/hosts" in corefile
    assert "import /etc/kube-dns-stubs/*.server" in corefile
    assert "microsoft.com:53 microsoftonline.com:53 example.org:53 {" not in corefile  # sorted zones
    assert "example.org:53 microsoft.com:53 microsoftonline.com:53 {" in corefile
