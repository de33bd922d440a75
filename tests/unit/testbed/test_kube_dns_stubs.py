# -*- coding: utf-8 -*-
"""The lab's stand-in for kube-dns's stubDomains (tests/testbed/kube_dns_stubs.py) and the cluster DNS Deployment it
runs in (tests/testbed/cluster.py): test infrastructure, checked without a testbed."""

from __future__ import annotations

import json

from tests.testbed import cluster, kube_dns_stubs


def test_stub_domains_become_forwarding_server_blocks(tmp_path):
    source, out = tmp_path / "stubDomains", tmp_path / "stub-domains.server"
    served = kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10 10.244.128.1", 53, None)
    assert served == "" and out.read_text() == ""  # no ConfigMap: an empty file, so the import matches a file
    source.write_text(json.dumps({"corp.example": ["10.1.1.1"], "a.aibang.local": ["10.96.3.4", "10.96.3.5"]}))
    served = kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10 10.244.128.1", 53, served)
    assert out.read_text() == served == (
        "a.aibang.local:53 {\n    bind 127.0.0.10 10.244.128.1\n    forward . 10.96.3.4 10.96.3.5\n}\n"
        "corp.example:53 {\n    bind 127.0.0.10 10.244.128.1\n    forward . 10.1.1.1\n}\n")


def test_a_stub_domains_value_that_is_not_a_mapping_of_lists_keeps_what_is_served(tmp_path):
    source, out = tmp_path / "stubDomains", tmp_path / "stub-domains.server"
    source.write_text(json.dumps({"corp.example": ["10.1.1.1"]}))
    served = kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10", 53, None)
    for bad in ("not json", json.dumps(["corp.example"]), json.dumps({"corp.example": "10.1.1.1"})):
        source.write_text(bad)
        assert kube_dns_stubs.sync_once(str(source), str(out), "127.0.0.10", 53, served) == served
        assert out.read_text() == served


def test_the_cluster_dns_runs_as_the_coredns_deployment_reading_the_configmap(monkeypatch):
    monkeypatch.setattr(cluster, "image", lambda name: f"aibang-testbed.local/{name}:test")
    configmap, deployment = json.loads(cluster.coredns_objects())["items"]
    assert configmap["data"]["kube_dns_stubs.py"].startswith("# -*- coding: utf-8 -*-")
    assert (deployment["metadata"]["namespace"], deployment["metadata"]["name"]) == ("kube-system", "coredns")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["template"]["metadata"]["labels"] == json.loads(cluster.kube_dns_service())["spec"]["selector"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["config-volume"]["configMap"]["name"] == "coredns"  # the product's object, as the kubelet mounts it
    assert volumes["kube-dns-config"]["configMap"] == {"name": "kube-dns", "optional": True}
    coredns, stubs = pod["containers"]
    assert coredns["args"] == ["-conf", "/etc/coredns/Corefile"]
    assert {mount["mountPath"] for mount in coredns["volumeMounts"]} >= {"/etc/coredns", cluster.STUBS_DIR}
    assert f"{cluster.STUBS_DIR}/stub-domains.server" in stubs["command"]
    assert pod["hostNetwork"] and pod["nodeSelector"] == {"kubernetes.io/hostname": "gke-testbed-real-pool-1"}
    assert "import /etc/kube-dns-stubs/*.server" in cluster.COREFILE.format(
        dns_port=53, dns_address="a", node_address="b", kubeconfig="k", root_zone="r", hosts="h", stubs=cluster.STUBS_DIR,
        lab_zones="z:53")
