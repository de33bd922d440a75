# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_zone import ensure_zones, planned_zones
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError

PROJECT = "consumer"


def zone(name, dns_name="x.", **fields):
    return dict({"name": name, "dns_name": dns_name, "description": "", "visibility": "private", "networks": ["vpc"],
                 "state": None}, **fields)


def params(*zones, **task):
    return dict({"project": PROJECT, "state": "present", "zones": list(zones)}, **task)


@pytest.mark.parametrize("zones, message", [
    ([zone("a"), zone("a")], r"zones\[1\] \(a\): listed twice \(also at zones\[0\]\)"),
    ([zone("a", dns_name=None)], r"zones\[0\] \(a\): dns_name is required"),
    ([zone("a"), zone("b", networks=[])], r"zones\[1\] \(b\): a private zone needs networks"),
])
def test_bad_zones_are_refused_naming_the_item(zones, message):
    with pytest.raises(GcpError, match=message):
        planned_zones(params(*zones))


def test_absent_needs_nothing_but_the_name():
    assert planned_zones(params(zone("a", dns_name=None, networks=[]), state="absent"))[0][1:] == ("absent", None)


def test_a_new_dns_name_is_refused_naming_the_zone_and_nothing_changes(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_zones, params(zone("a", "a.example.")))
    gcp.forget_calls()
    with pytest.raises(GcpError, match=r"zones\[0\] \(a\): dnsName cannot change in place \(is a.example.\)"):
        gcp.run(ensure_zones, params(zone("a", "b.example.")))
    assert gcp.mutations() == []


def test_a_network_url_on_the_other_host_is_the_same_network(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_zones, params(zone("a", "a.example.")))
    url = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/vpc"
    again = gcp.run(ensure_zones, params(zone("a", "a.example.", networks=[url])))
    assert again["changed"] is False
    assert again["zones"][0]["networks"] == [f"projects/{PROJECT}/global/networks/vpc"]
