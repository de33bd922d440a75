# -*- coding: utf-8 -*-
"""Tier 1's NetworkPolicy (issue 16, item 8): the Squid pods send DNS only to the cluster DNS and the proxy port only
to tier 2, also when the policy names tier 2 by host name. Rendered from the role's own template and defaults."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy_facts import compile_policy

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "squid_gke"


def _network_policy(address: str, **overrides) -> dict:
    policy = {"name": "p", "allowed_domains": ["login.microsoftonline.com"], "gke": {"client_cidrs": ["10.128.0.0/14"]},
              "vm": {"address": address, "client_cidrs": ["10.128.0.0/14"]}}
    loader = DataLoader()  # loads the role's files as Ansible does: their strings are templates
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "squid_gke_policy": compile_policy(policy), "ansible_managed": "Ansible managed",
                 "__squid_gke_found": {"resources": []}, **overrides}
    text = Templar(loader=loader, variables=variables).template(
        trust_as_template((ROLE / "templates" / "squid-proxy.yaml.j2").read_text(encoding="utf-8")))
    return next(item for item in yaml.safe_load_all(text) if item and item["kind"] == "NetworkPolicy")


@pytest.mark.parametrize(
    "address, overrides, tier2",
    [
        ("10.10.0.2", {}, ["10.10.0.2/32"]),
        ("squid.egress.internal", {"squid_gke_tier2_cidrs": ["10.10.0.0/28"]}, ["10.10.0.0/28"]),
    ],
    ids=["ip", "host-name"],
)
def test_egress_goes_only_to_tier_2_and_the_cluster_dns(address, overrides, tier2):
    egress = _network_policy(address, **overrides)["spec"]["egress"]
    proxy, dns = egress
    assert [peer["ipBlock"]["cidr"] for peer in proxy["to"]] == tier2
    assert {port["port"] for port in dns["ports"]} == {53}
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    assert all(rule.get("to") for rule in egress), "an egress rule without 'to' allows every address"
