# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import parse_policy
from ansible_collections.aibang.gke_platform.plugins.modules.squid_probe import predict

POLICY = parse_policy({
    "name": "microsoft",
    "allowed_domains": [".microsoft.com", "login.microsoftonline.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.0.2.100", "client_cidrs": ["10.128.0.0/14"]},
})


def request(host, **extra):
    return dict({"host": host, "port": 443, "method": "CONNECT"}, **extra)


def test_the_probe_resolves_allowed_names_itself(tmp_path):
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("203.0.113.50 login.microsoftonline.com\n169.254.169.254 metadata.microsoft.com\n", encoding="utf-8")
    allowed, found = predict(POLICY, "vm", request("login.microsoftonline.com"), "10.128.0.7", hosts_file=str(hosts_file))
    assert (allowed.allowed, allowed.destination_check, found) == (True, "passed", ["203.0.113.50"])
    denied, found = predict(POLICY, "chain", request("metadata.microsoft.com"), "10.128.0.7", "10.128.0.9", str(hosts_file))
    assert (denied.allowed, denied.rule, found) == (False, "gke: deny aibang_denied_dst", ["169.254.169.254"])


def test_names_an_earlier_rule_denies_are_not_looked_up(tmp_path):
    decision, found = predict(POLICY, "vm", request("example.org"), "10.128.0.7", hosts_file=str(tmp_path / "never-read"))
    assert (decision.rule, decision.destination_check, found) == ("deny !aibang_domains", "not reached", None)


def test_given_addresses_win_over_resolution(tmp_path):
    decision, found = predict(POLICY, "vm", request("login.microsoftonline.com", resolves_to=["10.1.2.3"]), "10.128.0.7",
                              hosts_file=str(tmp_path / "never-read"))
    assert (decision.allowed, decision.destination_check, found) == (False, "denied", ["10.1.2.3"])
