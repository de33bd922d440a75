# -*- coding: utf-8 -*-
"""gcp_resources_info's main() against the in-process GCP fake: region is needed only with subnetworks."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import gcp_resources_info

ARGS = {"project": "consumer", "auth_kind": "accesstoken", "access_token": "t0k3n-unit"}


def test_networks_alone_need_no_region(gcp_modules, run_module):
    gcp_modules.network("consumer")
    found = run_module(gcp_resources_info, dict(ARGS, networks=["vpc", "missing"]))
    assert found["changed"] is False and list(found["networks"]) == ["vpc"], found
    assert found["subnetworks"] == {}


def test_subnetworks_without_a_region_fail_naming_the_option(gcp_modules, run_module):
    refused = run_module(gcp_resources_info, dict(ARGS, subnetworks=["nodes"]))
    assert refused["failed"] is True and "region is required with subnetworks" in refused["msg"], refused
