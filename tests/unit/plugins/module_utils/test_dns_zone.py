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


# Absent deletes only a zone the collection created, and only once it holds nothing else (issue 16, item 7).
MARK = {"managed-by": "aibang-gke-platform"}
ZONE_KEY = f"dns:projects/{PROJECT}/managedZones/a"


def test_a_zone_the_module_creates_carries_the_mark_and_absent_deletes_it(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_zones, params(zone("a", "a.example.")))
    assert gcp.google.resources[ZONE_KEY]["labels"] == MARK
    gcp.run(ensure_zones, params(zone("a", "a.example.", description="changed")))
    assert gcp.google.resources[ZONE_KEY]["labels"] == MARK  # a patch keeps it
    removed = gcp.run(ensure_zones, params(zone("a"), state="absent"))
    assert removed["changed"] is True and "left" not in removed and not gcp.exists(ZONE_KEY)


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_adopted_zone_is_left_in_place_saying_why(gcp, check_mode):
    gcp.network(PROJECT)
    gcp.managed_zone(PROJECT, "a", "a.example.")
    adopted = gcp.run(ensure_zones, params(zone("a", "a.example.")))
    assert "labels" not in gcp.google.resources[ZONE_KEY]  # found existing: never marked
    gcp.forget_calls()
    left = gcp.run(ensure_zones, params(zone("a"), state="absent"), check_mode=check_mode)
    assert left["changed"] is False and left["left"] == ["a"] and gcp.mutations() == []
    assert "DNS zone a left in place: it does not carry the label managed-by=aibang-gke-platform" in left["warnings"][0]
    assert left["zones"] == adopted["zones"] and gcp.exists(ZONE_KEY)
    forced = gcp.run(ensure_zones, params(zone("a"), state="absent", delete_unmarked=True))
    assert forced["changed"] is True and not gcp.exists(ZONE_KEY)


def test_a_marked_zone_holding_other_record_sets_is_left_naming_them(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_zones, params(zone("a", "a.example.")))
    gcp.seed(f"https://dns.googleapis.com/dns/v1/projects/{PROJECT}/managedZones/a/rrsets",
             {"name": "team.a.example.", "type": "A", "ttl": 300, "rrdatas": ["10.1.1.1"]})
    gcp.forget_calls()
    left = gcp.run(ensure_zones, params(zone("a"), state="absent"))
    assert left["changed"] is False and left["left"] == ["a"] and gcp.mutations() == []
    assert left["warnings"] == ["DNS zone a left in place: it still holds record sets this run did not remove (team.a.example. A)"]
