# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.modules import cluster_probe_check

POLICY = {"name": "microsoft", "allowed_domains": ["login.microsoftonline.com"],
          "gke": {"client_cidrs": ["10.244.128.0/24"]}, "vm": {"address": "10.0.2.100", "client_cidrs": ["10.244.0.0/16"]}}
ALIASES = {"proxy.intra.local": "squid-proxy-service.intra-proxy.svc.cluster.local"}


def log(alias_answer, allowed_status, denied_status):
    lines = [{"check": "pod", "ip": "10.244.128.12"},
             {"check": "dns", "name": "proxy.intra.local", "addresses": alias_answer},
             {"check": "dns", "name": "squid-proxy-service.intra-proxy.svc.cluster.local", "addresses": ["10.96.0.7"]},
             {"check": "request", "method": "CONNECT", "host": "login.microsoftonline.com", "port": 443,
              "proxy_status": allowed_status, "http_status": 0, "exit": 0, "error": ""},
             {"check": "request", "method": "CONNECT", "host": "example.org", "port": 443,
              "proxy_status": denied_status, "http_status": 0, "exit": 56, "error": "CONNECT tunnel failed, response 403"}]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def args(text, **overrides):
    return {"log": text, "aliases": ALIASES, "requests": [{"host": "login.microsoftonline.com"}, {"host": "example.org"}],
            "policy": POLICY, "tier2_client": "10.244.0.5", "_ansible_check_mode": True, **overrides}


def test_agreement_passes_and_reports_each_request(run_module):
    result = run_module(cluster_probe_check, args(log(["10.96.0.7"], 200, 403)))
    assert not result.get("failed") and not result["changed"]
    assert result["pod_ip"] == "10.244.128.12" and result["dns"][0]["ok"]
    assert [(r["request"]["host"], r["allowed"], r["expected"]) for r in result["results"]] == [
        ("login.microsoftonline.com", True, True), ("example.org", False, False)]


@pytest.mark.parametrize("text, message", [
    (log([], 200, 403), "the alias proxy.intra.local resolves to nothing from the probe pod"),
    (log(["10.96.0.7"], 403, 403), "CONNECT login.microsoftonline.com:443 from pod 10.244.128.12 got 403, but the policy allows it"),
    (log(["10.96.0.7"], 200, 200), "CONNECT example.org:443 from pod 10.244.128.12 got 200, but the policy denies it"),
    ("garbage", "probe log line 1 is not JSON"),
])
def test_a_disagreement_fails_naming_it(run_module, text, message):
    result = run_module(cluster_probe_check, args(text))
    assert result["failed"] and message in result["msg"], result["msg"]


def test_requests_need_the_policy(run_module):
    result = run_module(cluster_probe_check, args(log(["10.96.0.7"], 200, 403), policy=None))
    assert result["failed"] and result["msg"] == "requests needs policy and tier2_client"


@pytest.mark.parametrize("text, walked, hint", [
    (log(["10.96.0.7"], 200, 403), [("pod-dns", True), ("pod-proxy", True), ("chain", True)], ""),
    (log([], 200, 403), [("pod-dns", False)], "Hint: the cluster's DNS does not serve the alias"),
    (log(["10.96.0.7"], 0, 0), [("pod-dns", True), ("pod-proxy", False)], "curl exit 0"),
    (log(["10.96.0.7"], 200, 200), [("pod-dns", True), ("pod-proxy", True), ("chain", False)],
     "example.org:443 from pod 10.244.128.12 got 200, but the policy denies it"),
])
def test_diagnose_walks_the_path_to_the_first_broken_layer_and_never_fails(run_module, text, walked, hint):
    result = run_module(cluster_probe_check, args(text, diagnose=True, proxy_url="http://proxy.intra.local:3128"))
    assert not result.get("failed")
    assert [(layer["layer"], layer["ok"]) for layer in result["layers"]] == walked
    assert hint in result["layers"][-1]["detail"], result["layers"][-1]["detail"]
