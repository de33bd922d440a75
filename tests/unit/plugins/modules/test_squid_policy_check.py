# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy_check

POLICY = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14"]},
}


def test_one_result_per_request_in_order(run_module):
    requests = [
        {"client": "10.128.0.1", "host": "Login.MicrosoftOnline.com"},
        {"client": "10.128.0.1", "host": "example.org"},
        {"client": "10.128.0.1", "host": "login.microsoftonline.com", "port": 80, "method": "get"},
    ]
    result = run_module(squid_policy_check, {"policy": POLICY, "tier": "gke", "requests": requests, "_ansible_check_mode": True})
    assert result["changed"] is False
    assert [item["allowed"] for item in result["results"]] == [True, False, False]
    assert result["results"][0]["request"] == {
        "client": "10.128.0.1", "host": "login.microsoftonline.com", "port": 443, "method": "CONNECT", "at": None,
        "resolves_to": None,
    }
    assert result["results"][0]["destination_check"] == "not evaluated"
    assert result["results"][2]["request"]["method"] == "GET"


def test_bad_request_names_its_index(run_module):
    result = run_module(squid_policy_check, {"policy": POLICY, "tier": "gke", "requests": [{"client": "10.0.0.1", "host": "a.com"}, {"host": "a.com"}]})
    assert result["failed"] and result["field"] == "requests[1].client"


def test_resolves_to_feeds_the_destination_guard(run_module):
    requests = [
        {"client": "10.128.0.1", "host": "login.microsoftonline.com", "resolves_to": ["20.190.160.1"]},
        {"client": "10.128.0.1", "host": "login.microsoftonline.com", "resolves_to": ["20.190.160.1", "::ffff:169.254.169.254"]},
    ]
    result = run_module(squid_policy_check, {"policy": POLICY, "tier": "vm", "requests": requests})
    passed, denied = result["results"]
    assert (passed["allowed"], passed["destination_check"]) == (True, "passed")
    assert (denied["allowed"], denied["destination_check"], denied["rule"]) == (False, "denied", "deny aibang_denied_dst")
    assert "169.254.169.254" in denied["reason"] and "(169.254.0.0/16)" in denied["reason"]
    assert denied["request"]["resolves_to"] == ["20.190.160.1", "::ffff:169.254.169.254"]
