# -*- coding: utf-8 -*-
"""gcp_resources_info: named resources read in one run, those that exist returned by name, nothing changed."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_lookup import read_resources
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import global_

EMPTY = {"networks": [], "subnetworks": [], "region": None, "firewall_rules": [], "service_accounts": []}


def test_what_exists_by_name_and_what_is_missing_left_out(gcp):
    gcp.network("p", "vpc")
    gcp.subnetwork("p", "europe-west2", "nodes", "10.10.0.0/24")
    gcp.seed(global_("p", "firewalls"), {"name": "vpc-allow-internal", "network": global_("p", "networks", "vpc"),
                                         "description": "mine", "sourceRanges": ["10.0.0.0/8"], "allowed": [{"IPProtocol": "all"}]})
    email = gcp.service_account("p", "gke-nodes")
    gcp.forget_calls()
    params = {"project": "p", "networks": ["vpc", "other-vpc"], "region": "europe-west2", "subnetworks": ["nodes", "pods"],
              "firewall_rules": ["vpc-allow-internal", "vpc-gone"],
              "service_accounts": [email, "app-runtime@p.iam.gserviceaccount.com"]}
    for check_mode in (False, True):
        found = gcp.run(read_resources, params, check_mode=check_mode)
        assert found["changed"] is False
        assert list(found["networks"]) == ["vpc"] and list(found["subnetworks"]) == ["nodes"]
        assert found["firewall_rules"]["vpc-allow-internal"]["description"] == "mine" and len(found["firewall_rules"]) == 1
        assert list(found["service_accounts"]) == [email] and found["service_accounts"][email]["email"] == email
    assert gcp.mutations() == []


def test_nothing_asked_nothing_read(gcp):
    nothing = {"changed": False, "networks": {}, "subnetworks": {}, "firewall_rules": {}, "service_accounts": {}}
    assert gcp.run(read_resources, dict(EMPTY, project="p")) == nothing


def test_subnetworks_need_the_region(gcp):
    with pytest.raises(GcpError, match="region is required with subnetworks"):
        gcp.run(read_resources, dict(EMPTY, project="p", subnetworks=["nodes"]))
