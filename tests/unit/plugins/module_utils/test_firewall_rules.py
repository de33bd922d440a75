# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.firewall_rules import ensure_rules, planned_rules
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import global_

PROJECT = "consumer"
FIELDS = ("network", "description", "direction", "priority", "disabled", "source_ranges", "destination_ranges",
          "source_tags", "target_tags", "source_service_accounts", "target_service_accounts", "allowed", "denied", "state")
TCP_3128 = [{"ip_protocol": "tcp", "ports": ["3128"]}]


def rule(name: str, **fields) -> dict:
    return dict(dict.fromkeys(FIELDS), name=name, **fields)


def params(*rules, **task) -> dict:
    return dict({"project": PROJECT, "network": "vpc", "keep_existing_description": False, "wait_timeout": 300,
                 "state": "present", "rules": list(rules)}, **task)


@pytest.mark.parametrize("rules, task, message", [
    ([rule("a", allowed=TCP_3128), rule("a", allowed=TCP_3128)], {}, r"rules\[1\] \(a\): name 'a' is listed twice \(also at rules\[0\]\)"),
    ([rule("a", allowed=TCP_3128), rule("b")], {}, r"rules\[1\] \(b\): set exactly one of allowed or denied \(got neither\)"),
    ([rule("a", allowed=TCP_3128, denied=TCP_3128)], {}, r"rules\[0\] \(a\): set exactly one of allowed or denied \(got both\)"),
    ([rule("a", allowed=TCP_3128)], {"network": None}, r"rules\[0\] \(a\): network is required"),
])
def test_bad_rules_are_refused_naming_the_item_before_any_call(gcp, rules, task, message):
    with pytest.raises(GcpError, match=message):
        gcp.run(ensure_rules, params(*rules, **task))
    assert gcp.session.calls == []


def test_absent_needs_no_network_nor_action():
    assert planned_rules(params(rule("a"), network=None, state="absent")) == [(rule("a"), "absent", None)]


def test_one_run_creates_updates_and_deletes_by_item(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_rules, params(rule("keep", allowed=TCP_3128, source_ranges=["10.0.0.0/8"]),
                                 rule("gone", allowed=TCP_3128, source_ranges=["10.0.0.0/8"])))
    gcp.forget_calls()
    result = gcp.run(ensure_rules, params(rule("keep", allowed=TCP_3128, source_ranges=["10.0.0.0/8"]),
                                          rule("gone", state="absent"),
                                          rule("new", denied=[{"ip_protocol": "all", "ports": None}], direction="EGRESS",
                                               destination_ranges=["0.0.0.0/0"])))
    assert result["changed"] is True
    assert gcp.mutations() == ["compute.firewalls.delete", "compute.firewalls.insert"]
    assert set(result["diff"]["before"]) == {"keep", "gone"} and set(result["diff"]["after"]) == {"keep", "new"}
    assert [view.get("name") for view in result["rules"]] == ["keep", None, "new"]


def test_an_existing_description_is_kept_when_asked_so_a_mark_never_lands_on_an_adopted_rule(gcp):
    gcp.network(PROJECT)
    gcp.seed(global_(PROJECT, "firewalls"), {"name": "adopted", "network": global_(PROJECT, "networks", "vpc"),
                                             "description": "theirs", "sourceRanges": ["10.0.0.0/8"],
                                             "allowed": [{"IPProtocol": "tcp", "ports": ["3128"]}]})
    gcp.forget_calls()
    marked = rule("adopted", allowed=TCP_3128, source_ranges=["10.0.0.0/8"], description="ours (mark)")
    result = gcp.run(ensure_rules, params(marked, keep_existing_description=True))
    assert result["changed"] is False and gcp.mutations() == []
    assert result["rules"][0]["description"] == "theirs"
    assert gcp.run(ensure_rules, params(marked), check_mode=True)["changed"] is True


def test_switching_allowed_for_denied_clears_allowed(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_rules, params(rule("r", allowed=TCP_3128, source_ranges=["10.0.0.0/8"])))
    result = gcp.run(ensure_rules, params(rule("r", denied=TCP_3128, source_ranges=["10.0.0.0/8"])))
    assert result["changed"] is True
    stored = gcp.client.request("GET", global_(PROJECT, "firewalls", "r"), "read")
    assert stored["denied"] == [{"IPProtocol": "tcp", "ports": ["3128"]}] and not stored.get("allowed")
    assert gcp.run(ensure_rules, params(rule("r", denied=TCP_3128, source_ranges=["10.0.0.0/8"])))["changed"] is False


def test_a_network_given_as_a_url_on_the_other_host_is_the_same_network(gcp):
    gcp.network(PROJECT)
    gcp.run(ensure_rules, params(rule("r", allowed=TCP_3128, source_ranges=["10.0.0.0/8"])))
    url = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/vpc"
    assert gcp.run(ensure_rules, params(rule("r", allowed=TCP_3128, source_ranges=["10.0.0.0/8"], network=url)))["changed"] is False
