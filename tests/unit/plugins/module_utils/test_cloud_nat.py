# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloud_nat import desired_nat, nat_view

PARAMS = {"project": "p", "region": "r", "name": "nat", "subnetworks": [], "min_ports_per_vm": None, "log": "errors"}


def test_all_subnets_by_default():
    nat = desired_nat(PARAMS)
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert "subnetworks" not in nat and "minPortsPerVm" not in nat
    assert nat["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}


def test_listed_subnets_only():
    nat = desired_nat(dict(PARAMS, subnetworks=["egress"]))
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": "https://compute.googleapis.com/compute/v1/projects/p/regions/r/subnetworks/egress",
                                   "sourceIpRangesToNat": ["ALL_IP_RANGES"]}]


@pytest.mark.parametrize("log, expected", [("none", "none"), ("all", "ALL"), ("errors", "ERRORS_ONLY")])
def test_view_reads_back_the_log_setting(log, expected):
    router = {"name": "rt", "nats": [desired_nat(dict(PARAMS, log=log))]}
    assert nat_view(router, "nat")["log"] == expected
    assert nat_view(router, "other") == {}
