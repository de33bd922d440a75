# -*- coding: utf-8 -*-
"""The lab's API server as pods reach it (tests/testbed/cluster.py): test infrastructure, checked without a testbed."""

from __future__ import annotations

import ipaddress

from cryptography import x509

from tests.testbed import cluster, node


def test_the_api_servers_certificate_covers_the_host_the_bridge_and_the_kubernetes_service(tmp_path):
    cluster.make_pki(str(tmp_path))
    certificate = x509.load_pem_x509_certificate((tmp_path / "apiserver.pem").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address(cluster.API_ADDRESS), ipaddress.ip_address(node.NODE_IP), ipaddress.ip_address("10.96.0.1")}
    assert "kubernetes.default.svc.cluster.local" in names.get_values_for_type(x509.DNSName)


def test_the_api_server_listens_and_advertises_on_the_bridge_with_the_lease_reconciler(monkeypatch):
    started = {}
    monkeypatch.setattr(cluster, "binary", lambda name: name)
    monkeypatch.setattr(cluster, "start", lambda name, command, env=None: started.setdefault(name, command))
    monkeypatch.setattr(cluster, "wait_for", lambda *args, **kwargs: None)
    cluster.start_apiserver("/pki")
    flags = started["kube-apiserver"]
    # the `kubernetes` Service's endpoint is the advertise address: where kube-proxy sends the pods' 10.96.0.1:443
    assert f"--bind-address={node.NODE_IP}" in flags and f"--advertise-address={node.NODE_IP}" in flags
    assert not [flag for flag in flags if flag.startswith("--endpoint-reconciler-type")]
    assert node.NODE_IP.startswith("10.244.128.")  # the lab's own bridge, never the machine's external interface
