# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy_info

POLICY = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com", "www.microsoft.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14"]},
}


def test_returns_the_facts_of_both_tiers_and_warns_once(run_module):
    result = run_module(squid_policy_info, {"policy": POLICY})
    assert result["changed"] is False
    assert result["proxy_port"] == 3128
    assert "cache_peer 10.128.2.100 parent 3128" in result["gke"]["config"]
    assert result["vm"]["address_cidr"] == "10.128.2.100/32"
    assert any("www.microsoft.com" in str(warning) for warning in result["warnings"])
    assert "www.microsoft.com" not in result["policy"]["allowed_domains"]


def test_the_normalised_policy_compiles_to_the_same_configs(run_module):
    first = run_module(squid_policy_info, {"policy": POLICY})
    second = run_module(squid_policy_info, {"policy": first["policy"]})
    assert (second["gke"]["checksum"], second["vm"]["checksum"]) == (first["gke"]["checksum"], first["vm"]["checksum"])


def test_check_mode_returns_the_same(run_module):
    assert run_module(squid_policy_info, {"policy": POLICY, "_ansible_check_mode": True})["vm"]["timezone"] == "UTC"


def test_invalid_policy_fails_naming_the_field(run_module):
    result = run_module(squid_policy_info, {"policy": dict(POLICY, proxy_port=70000)})
    assert result["failed"]
    assert result["field"] == "policy.proxy_port"
    assert "70000" in result["msg"]
