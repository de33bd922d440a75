# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloud_nat import desired_nat, nat_view
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError

PARAMS = {"project": "p", "region": "r", "name": "nat", "subnetworks": ["egress"], "min_ports_per_vm": None, "log": "errors"}
SUBNET = "https://compute.googleapis.com/compute/v1/projects/p/regions/r/subnetworks/egress"


def test_listed_subnets_primary_range_only():
    nat = desired_nat(PARAMS)
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": SUBNET, "sourceIpRangesToNat": ["PRIMARY_IP_RANGE"]}]
    assert "minPortsPerVm" not in nat
    assert nat["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}


def test_no_secondary_range_is_ever_translated():
    """The pods live in a GKE subnet's secondary range: NAT there is the egress bypass (issue 16, item 1)."""
    nat = desired_nat(dict(PARAMS, subnetworks=["egress", "projects/p/regions/r/subnetworks/other"]))
    assert all(entry["sourceIpRangesToNat"] == ["PRIMARY_IP_RANGE"] and "secondaryIpRangeNames" not in entry
               for entry in nat["subnetworks"])
    assert "ALL_IP_RANGES" not in repr(nat)


def test_a_nat_for_every_subnet_of_the_region_is_refused():
    with pytest.raises(GcpError, match="subnetworks is empty"):
        desired_nat(dict(PARAMS, subnetworks=[]))


@pytest.mark.parametrize("log, expected", [("none", "none"), ("all", "ALL"), ("errors", "ERRORS_ONLY")])
def test_view_reads_back_the_log_setting(log, expected):
    router = {"name": "rt", "nats": [desired_nat(dict(PARAMS, log=log))]}
    assert nat_view(router, "nat")["log"] == expected
    assert nat_view(router, "nat")["ip_ranges"] == ["PRIMARY_IP_RANGE"]
    assert nat_view(router, "other") == {}
