# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.network import ensure_networks, planned_subnetworks

PROJECT, REGION = "consumer", "europe-west2"


def subnet(name="nodes", **fields):
    return dict({"name": name, "region": None, "network": "vpc", "ip_cidr_range": "10.10.0.0/22",
                 "private_ip_google_access": None, "secondary_ip_ranges": None, "description": None, "state": None},
                **fields)


def params(*subnetworks, networks=(), **task):
    return dict({"project": PROJECT, "region": REGION, "state": "present", "wait_timeout": 300,
                 "networks": list(networks), "subnetworks": list(subnetworks)}, **task)


@pytest.mark.parametrize("subnetworks, task, message", [
    ([subnet(), subnet()], {}, r"subnetworks\[1\] \(nodes\): listed twice \(also at subnetworks\[0\]\)"),
    ([subnet()], {"region": None}, r"subnetworks\[0\] \(nodes\): region is required"),
    ([subnet(ip_cidr_range=None)], {}, r"subnetworks\[0\] \(nodes\): ip_cidr_range is required when the subnetwork is present"),
    ([subnet(ip_cidr_range="10.10.0.1/22")], {}, r"subnetworks\[0\] \(nodes\): ip_cidr_range '10.10.0.1/22' is not an IPv4 range"),
    ([subnet(secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": "pods"}])], {},
     r"subnetworks\[0\] \(nodes\): secondary_ip_ranges\[0\].ip_cidr_range 'pods' is not an IPv4 range"),
])
def test_bad_subnetworks_are_refused_naming_the_item(subnetworks, task, message):
    with pytest.raises(GcpError, match=message):
        planned_subnetworks(params(*subnetworks, **task))


def test_the_same_name_in_two_regions_is_two_subnetworks():
    assert len(planned_subnetworks(params(subnet(), subnet(region="us-central1")))) == 2


def test_absent_needs_nothing_but_the_name():
    assert planned_subnetworks(params(subnet(network=None, ip_cidr_range=None), state="absent"))[0][1:] == (
        "absent", REGION, {"name": "nodes"})


@pytest.mark.parametrize("changed, message", [
    ({"ip_cidr_range": "10.10.0.0/24"}, r"ip_cidr_range can only grow in place, to a range that holds 10.10.0.0/22 \(asked 10.10.0.0/24\)"),
    ({"ip_cidr_range": "10.30.0.0/20"}, r"ip_cidr_range can only grow in place"),
    ({"network": "other"}, r"network cannot change in place \(is projects/consumer/global/networks/vpc\)"),
])
def test_a_change_google_cannot_make_in_place_fails_before_any_call(gcp, changed, message):
    gcp.network(PROJECT)
    gcp.network(PROJECT, "other")
    gcp.run(ensure_networks, params(subnet(secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": "10.20.0.0/14"}])))
    gcp.forget_calls()
    with pytest.raises(GcpError, match=r"subnetworks\[0\] \(nodes\): " + message):
        gcp.run(ensure_networks, params(subnet(secondary_ip_ranges=[], **changed)))
    assert gcp.mutations() == []


def test_a_description_is_written_at_creation_only(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_networks, params(subnet(description="the network team's subnet")))
    gcp.forget_calls()
    kept = gcp.run(ensure_networks, params(subnet(description="GKE nodes (managed-by: aibang-gke-platform)")))
    assert kept["changed"] is False and gcp.mutations() == []
    assert kept["subnetworks"][0]["description"] == "the network team's subnet"


def test_an_auto_mode_network_is_refused_naming_it(gcp):
    gcp.seed(f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}/global/networks",
             {"name": "default", "autoCreateSubnetworks": True})
    with pytest.raises(GcpError, match=r"networks\[0\] \(default\): is an auto mode network"):
        gcp.run(ensure_networks, params(networks=[{"name": "default", "description": None, "state": None}]))


def test_absent_deletes_the_subnetworks_before_their_network(gcp):
    made = params(subnet(), networks=[{"name": "vpc", "description": None, "state": None}])
    gcp.run(ensure_networks, made)
    gcp.forget_calls()
    gone = gcp.run(ensure_networks, dict(made, state="absent"))
    assert gone["changed"] is True and gone["networks"] == [{}] and gone["subnetworks"] == [{}]
    assert gcp.mutations() == ["compute.subnetworks.delete", "compute.networks.delete"]


def test_an_in_place_change_patches_first_then_expands_then_sets_private_access(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_networks, params(subnet(secondary_ip_ranges=[])))
    gcp.forget_calls()
    planned = params(subnet(ip_cidr_range="10.10.0.0/20", private_ip_google_access=True,
                            secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": "10.20.0.0/14"}]))
    assert gcp.run(ensure_networks, planned, check_mode=True)["changed"] is True and gcp.mutations() == []
    changed = gcp.run(ensure_networks, planned)
    assert gcp.mutations() == ["compute.subnetworks.patch", "compute.subnetworks.expandIpCidrRange",
                               "compute.subnetworks.setPrivateIpGoogleAccess"]
    assert changed["subnetworks"][0]["ip_cidr_range"] == "10.10.0.0/20"
    assert changed["subnetworks"][0]["private_ip_google_access"] is True
