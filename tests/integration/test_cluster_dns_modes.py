# -*- coding: utf-8 -*-
"""cluster_dns's kube_dns_stub mode with real CoreDNS at both hops (the stub server's pods run on the testbed's real
nodes, from the CoreDNS image it builds), and its cloud_dns mode through the GCP fake."""

from __future__ import annotations

import json
import os
import time

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "playbooks")
OTHER_STUB = {"corp.example": ["10.1.1.1"]}


def stub_domains(testbed) -> dict:
    done = testbed.kubectl("get", "configmap", "kube-dns", "-n", "kube-system", "-o", "json", check=False)
    if done.returncode != 0:
        return {}
    return json.loads(json.loads(done.stdout).get("data", {}).get("stubDomains") or "{}")


def ask(testbed, name: str, server: str, tries: int = 3) -> str:
    """What one CoreDNS pod answers for ``name``. A query that got no answer at all is asked again, as every resolver
    does: one UDP datagram may be lost (CoreDNS drops the queries in flight when it reloads its Corefile). Any
    answer, right or wrong, is final."""
    for _attempt in range(tries):
        found = testbed.dig(name, server=server)
        if "no servers could be reached" not in found:  # dig: ";; communications error to ...: timed out" and this
            return found
    return found


def answer(testbed, name: str, settle: float = 30.0) -> str:
    """What cluster DNS answers for ``name``, once every CoreDNS pod answers the same. Each applies a changed
    ConfigMap when its own kubelet updates the volume, seconds apart, and cluster_dns's gate passes on the first pod
    that answers right; so a pod still answering as before is waited for (bounded), then asked again."""
    deadline = time.monotonic() + settle
    while True:
        pods = json.loads(testbed.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "json").stdout)["items"]
        answers = {pod["status"]["podIP"]: ask(testbed, name, pod["status"]["podIP"]) for pod in pods if pod["status"].get("podIP")}
        if len(set(answers.values())) == 1:
            return answers.popitem()[1]
        if time.monotonic() > deadline:
            return f"the CoreDNS pods disagree: {answers}"
        time.sleep(1)


def run(gcp_fake, name: str, namespace: str, alias: str, state: str, *extra: str):
    done = gcp_fake.playbook(os.path.join(PLAYBOOKS, name), "-e", f"ns={namespace}", "-e", f"alias={alias}",
                             "-e", f"state={state}", *extra)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    return done


def test_kube_dns_stub_serves_the_alias_and_keeps_other_stub_domains(testbed, namespace, gcp_fake):
    testbed.kubectl("create", "service", "clusterip", "target", "--tcp=3128:3128", "-n", namespace)
    address = testbed.kubectl("get", "service", "target", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
    testbed.kubectl("apply", "-f", "-", stdin=testbed.kubectl(
        "create", "configmap", "kube-dns", "-n", "kube-system", f"--from-literal=stubDomains={json.dumps(OTHER_STUB)}",
        "--dry-run=client", "-o", "yaml").stdout)
    alias = f"proxy.{namespace}.aibang.local"
    try:
        first = run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "present")
        assert "changed=" in first.stdout
        again = run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "present")
        assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]
        domains = stub_domains(testbed)
        assert domains["corp.example"] == OTHER_STUB["corp.example"]
        stub_ip = testbed.kubectl("get", "service", f"alias-dns-{namespace}", "-n", namespace, "-o",
                                  "jsonpath={.spec.clusterIP}").stdout
        assert domains[alias] == [stub_ip]
        assert answer(testbed, alias) == address          # cluster DNS -> stub domain -> the stub CoreDNS -> ClusterIP
        stubs = json.loads(testbed.kubectl("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/component=cluster-dns-stub",
                                           "-o", "json").stdout)["items"]
        assert len(stubs) == 2 and all(stub["spec"]["nodeName"].startswith("gke-testbed-real-pool-") for stub in stubs), stubs
        assert "CoreDNS-" in testbed.kubectl("logs", "-n", namespace, stubs[0]["metadata"]["name"]).stdout  # its own banner

        testbed.kubectl("create", "service", "clusterip", "other", "--tcp=3128:3128", "-n", namespace)
        other = testbed.kubectl("get", "service", "other", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
        run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "present", "-e", "target=other")
        assert answer(testbed, alias) == other
        run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "present", "-e", "entry=rollback")
        assert answer(testbed, alias) == address          # rolled back to the first target

        run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "absent")
        assert stub_domains(testbed) == OTHER_STUB
        assert answer(testbed, alias) == ""
    finally:
        testbed.kubectl("delete", "configmap", "kube-dns", "-n", "kube-system", check=False)


def test_kube_dns_stub_deletes_the_namespace_it_created_once_nothing_else_is_in_it(testbed, namespace, gcp_fake):
    testbed.kubectl("create", "service", "clusterip", "target", "--tcp=3128:3128", "-n", namespace)
    testbed.kubectl("create", "configmap", "kube-dns", "-n", "kube-system")
    alias, stub_namespace = f"proxy.{namespace}.aibang.local", f"{namespace}-stub"
    where = ("-e", f"stub_ns={stub_namespace}")
    try:
        run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "present", *where)
        created = json.loads(testbed.kubectl("get", "namespace", stub_namespace, "-o", "json").stdout)
        assert created["metadata"]["annotations"]["aibang.io/created-by"] == "aibang.gke_platform"
        testbed.kubectl("run", "other", "-n", stub_namespace, "--image=aibang-testbed.local/probe:1", "--restart=Never",
                        "--command", "--", "sleep", "600")

        kept = run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "absent", *where)
        words = " ".join(kept.stdout.split())  # the default callback wraps messages as YAML
        assert f"Left in place: namespace {stub_namespace}, which still holds Pod/other." in words, kept.stdout[-3000:]
        assert testbed.kubectl("get", "namespace", stub_namespace, check=False).returncode == 0
        assert testbed.kubectl("get", "deployment", f"alias-dns-{namespace}", "-n", stub_namespace, check=False).returncode != 0

        testbed.kubectl("delete", "pod", "other", "-n", stub_namespace, "--grace-period=0", "--force", "--wait=true")
        run(gcp_fake, "cluster_dns_kube_dns_stub.yml", namespace, alias, "absent", *where)
        assert testbed.kubectl("get", "namespace", stub_namespace, check=False).returncode != 0
    finally:
        testbed.kubectl("delete", "namespace", stub_namespace, "--wait=false", check=False)
        testbed.kubectl("delete", "configmap", "kube-dns", "-n", "kube-system", check=False)


def test_cloud_dns_puts_the_service_address_in_a_private_zone(testbed, namespace, gcp_fake):
    testbed.kubectl("create", "service", "clusterip", "target", "--tcp=3128:3128", "-n", namespace)
    address = testbed.kubectl("get", "service", "target", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
    alias = f"proxy.{namespace}.aibang.local"
    run(gcp_fake, "cluster_dns_cloud_dns.yml", namespace, alias, "present")
    zone = f"egress-alias-proxy-{namespace}-aibang-local"
    record = gcp_fake.google.resources[f"dns:projects/consumer-test/managedZones/{zone}/rrsets/{alias}./A"]
    assert record["rrdatas"] == [address]
    assert gcp_fake.google.resources[f"dns:projects/consumer-test/managedZones/{zone}"]["visibility"] == "private"
    again = run(gcp_fake, "cluster_dns_cloud_dns.yml", namespace, alias, "present")
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]
    run(gcp_fake, "cluster_dns_cloud_dns.yml", namespace, alias, "absent")
    assert not [key for key in gcp_fake.google.resources if f"managedZones/{zone}" in key]
