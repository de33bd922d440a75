# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloud_nat import desired_nat, ensure_nat, nat_view
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


# ---------------------------------------------------------------- against the shared fake
REGION = "europe-west2"
ROUTERS = f"https://compute.googleapis.com/compute/v1/projects/consumer/regions/{REGION}/routers"
PRESENT = {"project": "consumer", "region": REGION, "name": "egress-nat", "router": "egress-router", "network": "vpc",
           "subnetworks": ["egress-vm"], "min_ports_per_vm": None, "log": "errors", "state": "present"}


def _platform(gcp):
    """The consumer VPC: the GKE subnet with pod and Service ranges, a cluster on it, and the egress VM's own subnet."""
    gcp.network("consumer")
    gcp.seed(f"https://compute.googleapis.com/compute/v1/projects/consumer/regions/{REGION}/subnetworks",
             {"name": "gke-nodes", "network": "https://compute.googleapis.com/compute/v1/projects/consumer/global/networks/vpc",
              "ipCidrRange": "10.0.0.0/20", "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.128.0.0/14"},
                                                                  {"rangeName": "services", "ipCidrRange": "10.4.0.0/20"}]})
    gcp.subnetwork("consumer", REGION, "egress-vm", "10.10.0.0/28")
    gcp.seed(f"https://container.googleapis.com/v1/projects/consumer/locations/{REGION}/clusters",
             {"cluster": {"name": "platform", "network": "vpc", "subnetwork": "gke-nodes",
                          "ipAllocationPolicy": {"useIpAliases": True, "clusterSecondaryRangeName": "pods",
                                                 "servicesSecondaryRangeName": "services"}}})


def _subnet_link(name: str) -> str:
    return f"https://compute.googleapis.com/compute/v1/projects/consumer/regions/{REGION}/subnetworks/{name}"


@pytest.mark.parametrize(
    "nat, exposed",
    [
        # what every inventory had: the VM (and so the NAT) in gke-nodes, all its ranges
        ({"sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
          "subnetworks": [{"name": _subnet_link("gke-nodes"), "sourceIpRangesToNat": ["ALL_IP_RANGES"]}]},
         ["nodes (primary)", "pods", "services"]),
        ({"sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES"}, ["nodes (primary)", "pods", "services"]),
        ({"sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
          "subnetworks": [{"name": _subnet_link("gke-nodes"), "sourceIpRangesToNat": ["LIST_OF_SECONDARY_IP_RANGES"],
                           "secondaryIpRangeNames": ["pods"]}]}, ["pods"]),
    ],
    ids=["node-subnet-all-ranges", "region-wide", "pod-range-only"],
)
def test_the_fake_reports_a_nat_covering_gke_ranges_and_the_module_corrects_it(gcp, nat, exposed):
    _platform(gcp)
    gcp.seed(ROUTERS, {"name": "egress-router", "network": "https://compute.googleapis.com/compute/v1/projects/consumer/global/networks/vpc",
                       "nats": [dict(nat, name="egress-nat", natIpAllocateOption="AUTO_ONLY")]})
    assert [(item["nat"], item["cluster"], item["ranges"]) for item in gcp.google.nat_exposure()] == [("egress-nat", "platform", exposed)]
    gcp.forget_calls()
    result = gcp.run(ensure_nat, PRESENT)
    assert result["changed"] is True and result["nat"]["subnetworks"] == ["egress-vm"]
    assert result["nat"]["ip_ranges"] == ["PRIMARY_IP_RANGE"]
    assert gcp.mutations() == ["compute.routers.patch"]
    assert gcp.google.nat_exposure() == []
    gcp.forget_calls()
    assert gcp.run(ensure_nat, PRESENT)["changed"] is False and gcp.mutations() == []


def test_the_modules_nat_on_the_vm_subnet_exposes_nothing(gcp):
    _platform(gcp)
    assert gcp.run(ensure_nat, PRESENT)["changed"] is True
    assert gcp.google.nat_exposure() == []


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": _subnet_link("missing"), "sourceIpRangesToNat": ["PRIMARY_IP_RANGE"]}, "cannot be found"),
        ({"name": _subnet_link("gke-nodes"), "sourceIpRangesToNat": ["LIST_OF_SECONDARY_IP_RANGES"],
          "secondaryIpRangeNames": ["nope"]}, "secondary range nope"),
        ({"name": _subnet_link("gke-nodes"), "sourceIpRangesToNat": ["PRIMARY_IP_RANGE"], "secondaryIpRangeNames": ["pods"]},
         "needs LIST_OF_SECONDARY_IP_RANGES"),
    ],
)
def test_the_fake_validates_nat_subnetworks_as_google_does(gcp, entry, message):
    _platform(gcp)
    nat = {"name": "n", "natIpAllocateOption": "AUTO_ONLY", "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS", "subnetworks": [entry]}
    with pytest.raises(GcpError, match=message):
        gcp.seed(ROUTERS, {"name": "r", "network": "https://compute.googleapis.com/compute/v1/projects/consumer/global/networks/vpc",
                           "nats": [nat]})


def test_a_nat_for_every_subnet_is_refused_before_any_call(gcp):
    with pytest.raises(GcpError, match="subnetworks is empty"):
        gcp.run(ensure_nat, dict(PRESENT, subnetworks=[]))
    assert gcp.google.requests == []


# ---------------------------------------------------------------- the router's mark (issue 16, item 7)
ABSENT = dict(PRESENT, state="absent", delete_empty_router=True)
VPC = "https://compute.googleapis.com/compute/v1/projects/consumer/global/networks/vpc"


def test_a_router_the_module_creates_carries_the_mark_and_goes_with_its_last_nat(gcp):
    _platform(gcp)
    gcp.run(ensure_nat, PRESENT)
    router = gcp.google.resources[f"compute:projects/consumer/regions/{REGION}/routers/egress-router"]
    assert "managed-by: aibang-gke-platform" in router["description"]
    assert gcp.run(ensure_nat, ABSENT, check_mode=True)["changed"] is True
    assert gcp.exists(f"compute:projects/consumer/regions/{REGION}/routers/egress-router")
    result = gcp.run(ensure_nat, ABSENT)
    assert result["changed"] is True and result["router_left"] == ""
    assert not gcp.exists(f"compute:projects/consumer/regions/{REGION}/routers/egress-router")
    gcp.forget_calls()
    assert gcp.run(ensure_nat, ABSENT)["changed"] is False and gcp.mutations() == []


@pytest.mark.parametrize(
    "router, why",
    [
        ({"name": "egress-router", "network": VPC}, "lacks 'managed-by: aibang-gke-platform'"),
        ({"name": "egress-router", "network": VPC, "description": "x (managed-by: aibang-gke-platform)",
          "nats": [{"name": "theirs", "natIpAllocateOption": "AUTO_ONLY", "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
                    "subnetworks": [{"name": _subnet_link("egress-vm"), "sourceIpRangesToNat": ["PRIMARY_IP_RANGE"]}]}]},
         "still holds NAT configs theirs"),
    ],
    ids=["adopted", "other-nat"],
)
def test_an_adopted_or_shared_router_is_left_and_the_reason_given(gcp, router, why):
    _platform(gcp)
    gcp.seed(ROUTERS, router)
    gcp.run(ensure_nat, PRESENT)
    result = gcp.run(ensure_nat, ABSENT)
    assert why in result["router_left"]
    assert gcp.exists(f"compute:projects/consumer/regions/{REGION}/routers/egress-router")
    assert "compute.routers.delete" not in gcp.mutations()
