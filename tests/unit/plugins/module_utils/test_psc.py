# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpClient, GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import (
    _check_accept_lists,
    _desired_attachment,
    _desired_rule,
    explain,
    wait_accepted,
)

ATTACHMENT = "https://www.googleapis.com/compute/v1/projects/producer/regions/r/serviceAttachments/orders"


@pytest.mark.parametrize("status, words", [
    ("PENDING", ["consumer project consumer is not in the accept list", "producer project producer"]),
    ("REJECTED", ["rejected consumer project consumer", "reject list"]),
    ("NEEDS_ATTENTION", ["NAT subnet", "producer project producer"]),
    ("CLOSED", ["no longer exists"]),
])
def test_explain_names_both_projects_and_who_acts(status, words):
    text = explain(status, "consumer", ATTACHMENT)
    for word in words:
        assert word in text
    assert "projects/producer/regions/r/serviceAttachments/orders" in text


def test_forwarding_rule_for_psc_has_no_load_balancing_scheme():
    params = {"name": "ep", "project": "c", "region": "r", "network": "vpc", "service_attachment": ATTACHMENT,
              "global_access": False, "description": None}
    rule = _desired_rule(params, "https://compute.googleapis.com/compute/v1/projects/c/regions/r/addresses/ep")
    assert "loadBalancingScheme" not in rule
    assert rule["target"] == "https://compute.googleapis.com/compute/v1/projects/producer/regions/r/serviceAttachments/orders"


def attachment_params(**changes):
    params = {"name": "a", "project": "p", "region": "r", "description": None, "target_service": "ilb",
              "connection_preference": "ACCEPT_MANUAL", "nat_subnets": [{"name": "nat"}],
              "consumer_accept_lists": [{"project": "c1", "connection_limit": 2}], "consumer_reject_lists": [],
              "enable_proxy_protocol": False, "reconcile_connections": True, "domain_names": None}
    params.update(changes)
    return params


def test_attachment_body_uses_google_field_names():
    body = _desired_attachment(attachment_params())
    assert body["consumerAcceptLists"] == [{"projectIdOrNum": "c1", "connectionLimit": 2}]
    assert body["natSubnets"] == ["https://compute.googleapis.com/compute/v1/projects/p/regions/r/subnetworks/nat"]
    assert "domainNames" not in body


@pytest.mark.parametrize("changes, message", [
    ({"connection_preference": "ACCEPT_AUTOMATIC"}, "need connection_preference ACCEPT_MANUAL"),
    ({"consumer_accept_lists": [{"project": "c1", "connection_limit": 1}] * 2}, "names project 'c1' twice"),
    ({"consumer_reject_lists": ["c1"]}, "'c1' is in both"),
])
def test_contradictory_accept_lists_fail_before_any_call(changes, message):
    with pytest.raises(GcpError, match=message):
        _check_accept_lists(attachment_params(**changes))


class StatusSession:
    def __init__(self, statuses):
        self.statuses = list(statuses)

    def request(self, method, url, json=None, params=None, timeout=None):  # pylint: disable=redefined-outer-name
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return type("R", (), {"status_code": 200, "headers": {}, "content": b"x",
                              "json": staticmethod(lambda: {"pscConnectionStatus": status, "target": ATTACHMENT})})()


def test_wait_accepted_polls_until_accepted():
    now = [0.0]
    client = GcpClient(StatusSession(["PENDING", "PENDING", "ACCEPTED"]), sleep=lambda s: now.__setitem__(0, now[0] + s),
                       clock=lambda: now[0])
    rule = wait_accepted(client, "u", {"name": "ep", "project": "consumer", "wait_timeout": 60, "poll_interval": 5})
    assert rule["pscConnectionStatus"] == "ACCEPTED" and now[0] == 10


def test_wait_accepted_times_out_on_pending_naming_the_accept_list():
    now = [0.0]
    client = GcpClient(StatusSession(["PENDING"]), sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    with pytest.raises(GcpError, match=r"still PENDING after 30s: consumer project consumer is not in the accept list"):
        wait_accepted(client, "u", {"name": "ep", "project": "consumer", "wait_timeout": 30, "poll_interval": 5})
