# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import regional
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import (
    _check_accept_lists,
    _desired_attachment,
    _desired_rule,
    ensure_endpoint,
    ensure_service_attachment,
    explain,
)
from ansible_collections.aibang.gke_platform.tests.testbed.gcp_fake.google import GoogleError

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


CONSUMER, PRODUCER, REGION = "consumer", "producer", "europe-west2"
ATTACHMENT_KEY = f"compute:projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders"
RULE_KEY = f"compute:projects/{CONSUMER}/regions/{REGION}/forwardingRules/psc-orders"


def endpoint_params(**changes) -> dict:
    params = {"project": CONSUMER, "region": REGION, "name": "psc-orders", "network": "vpc", "subnetwork": "nodes",
              "service_attachment": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders", "address_name": None,
              "ip_address": None, "global_access": False, "description": None, "recreate": False, "wait": True,
              "wait_timeout": 300, "poll_interval": 5, "state": "present"}
    params.update(changes)
    return params


@pytest.fixture
def consumer(gcp):
    """The consumer's network and subnet; a producer attachment ('orders') that accepts nobody yet."""
    gcp.network(CONSUMER)
    gcp.subnetwork(CONSUMER, REGION, "nodes", "10.10.0.0/24")
    gcp.service_attachment(PRODUCER, REGION, [])
    gcp.forget_calls()
    return gcp


def accept(gcp, consumer: str = CONSUMER) -> None:
    gcp.google.resources[ATTACHMENT_KEY]["consumerAcceptLists"].append({"projectIdOrNum": consumer, "connectionLimit": 10})


def test_waits_while_pending_until_the_producer_accepts(consumer):
    consumer.at(10, lambda: accept(consumer))
    result = consumer.run(ensure_endpoint, endpoint_params())
    assert result["endpoint"]["psc_connection_status"] == "ACCEPTED"
    assert 10 <= consumer.now < 15  # polled every poll_interval (5 s) after the operations' quick polls


def test_still_pending_at_the_timeout_names_the_accept_list_and_both_projects(consumer):
    with pytest.raises(GcpError, match=r"still PENDING after 30s: consumer project consumer is not in the accept list of "
                                       r"projects/producer/regions/europe-west2/serviceAttachments/orders \(producer project producer\)"):
        consumer.run(ensure_endpoint, endpoint_params(wait_timeout=30))


@pytest.fixture
def connected(consumer):
    accept(consumer)
    first = consumer.run(ensure_endpoint, endpoint_params())
    consumer.service_attachment(PRODUCER, REGION, [CONSUMER], name="payments")
    consumer.forget_calls()
    return first["endpoint"]


# What cannot change in place, and what recreate: true then deletes and makes again.
DRIFT = [
    ({"service_attachment": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/payments"},
     "forwarding rule psc-orders has target 'projects/producer/regions/europe-west2/serviceAttachments/orders', "
     "asked 'projects/producer/regions/europe-west2/serviceAttachments/payments'", ["forwarding rule"]),
    ({"ip_address": "10.10.0.99"}, "address psc-orders has address '10.0.0.2', asked '10.10.0.99'", ["forwarding rule", "address"]),
    ({"subnetwork": "other"}, "address psc-orders has subnetwork 'projects/consumer/regions/europe-west2/subnetworks/nodes', "
                              "asked 'projects/consumer/regions/europe-west2/subnetworks/other'", ["forwarding rule", "address"]),
]


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize("changes, words, _recreated", DRIFT)
def test_drift_fails_naming_the_field_before_anything_changes(consumer, connected, changes, words, _recreated, check_mode):
    with pytest.raises(GcpError, match="set recreate: true to delete and recreate") as caught:
        consumer.run(ensure_endpoint, endpoint_params(**changes), check_mode=check_mode)
    assert words in str(caught.value)
    assert consumer.mutations() == []


@pytest.mark.parametrize("changes, _words, recreated", DRIFT)
def test_recreate_true_replaces_what_differs_says_so_and_then_is_stable(consumer, connected, changes, _words, recreated):
    if "subnetwork" in changes:
        consumer.subnetwork(CONSUMER, REGION, "other", "10.20.0.0/24")
        consumer.forget_calls()
    planned = consumer.run(ensure_endpoint, endpoint_params(recreate=True, **changes), check_mode=True)
    assert planned["changed"] and planned["recreated"] == recreated and consumer.mutations() == []
    done = consumer.run(ensure_endpoint, endpoint_params(recreate=True, **changes))
    assert done["changed"] and done["recreated"] == recreated
    assert done["warnings"] == [AnyText("recreated the " + " and ".join(recreated), "connections through the old one were dropped")]
    assert done["endpoint"]["psc_connection_status"] == "ACCEPTED"
    assert done["endpoint"]["psc_connection_id"] != connected["psc_connection_id"]
    assert done["endpoint"]["ip_address"] == changes.get("ip_address", connected["ip_address"])  # the fake reuses a freed IP
    assert done["diff"]["before"] == connected and done["diff"]["after"] == done["endpoint"]
    deletes = [method for method in consumer.mutations() if method.endswith(".delete")]
    assert deletes == [f"compute.{'forwardingRules' if kind == 'forwarding rule' else 'addresses'}.delete" for kind in recreated]
    consumer.forget_calls()
    again = consumer.run(ensure_endpoint, endpoint_params(recreate=True, **changes))
    assert not again["changed"] and again["recreated"] == [] and consumer.mutations() == []


def test_a_closed_connection_is_reconnected_only_when_asked(consumer, connected):
    consumer.set_psc_status(RULE_KEY, "CLOSED")
    with pytest.raises(GcpError, match="pscConnectionStatus CLOSED: the service attachment .* no longer exists"):
        consumer.run(ensure_endpoint, endpoint_params())
    assert consumer.mutations() == []
    reconnected = consumer.run(ensure_endpoint, endpoint_params(recreate=True))
    assert reconnected["recreated"] == ["forwarding rule"] and reconnected["endpoint"]["psc_connection_status"] == "ACCEPTED"
    assert reconnected["endpoint"]["ip_address"] == connected["ip_address"]


def test_global_access_changes_in_place_without_recreate(consumer, connected):
    result = consumer.run(ensure_endpoint, endpoint_params(global_access=True))
    assert result["changed"] and result["recreated"] == [] and result["endpoint"]["global_access"] is True
    assert consumer.mutations() == ["compute.forwardingRules.patch"]


# Cleanup deletes only what carries the collection's mark (issue 16, item 7).
ADDRESS_KEY = f"compute:projects/{CONSUMER}/regions/{REGION}/addresses/psc-orders"
MARK = {"managed-by": "aibang-gke-platform"}


def test_what_the_module_creates_carries_the_mark_and_absent_deletes_it(consumer, connected):
    for key in (RULE_KEY, ADDRESS_KEY):
        assert consumer.google.resources[key]["labels"] == MARK
    assert consumer.run(ensure_endpoint, endpoint_params(), check_mode=True)["changed"] is False
    removed = consumer.run(ensure_endpoint, endpoint_params(state="absent"))
    assert removed["changed"] is True and "left" not in removed and removed["endpoint"] == {}
    assert not consumer.exists(RULE_KEY) and not consumer.exists(ADDRESS_KEY)


def test_the_mark_comes_through_set_labels_because_a_psc_rule_refuses_labels_in_its_insert(consumer):
    accept(consumer)
    consumer.run(ensure_endpoint, endpoint_params())
    assert consumer.mutations() == ["compute.addresses.insert", "compute.addresses.setLabels",
                                    "compute.forwardingRules.insert", "compute.forwardingRules.setLabels"]
    with pytest.raises(GcpError, match="Invalid field set in Private Service Connect Forwarding Rule"):
        consumer.seed(f"https://compute.googleapis.com/compute/v1/projects/{CONSUMER}/regions/{REGION}/forwardingRules",
                      {"name": "labelled", "network": "projects/consumer/global/networks/vpc", "labels": MARK,
                       "target": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders"})


def _adopted_endpoint(gcp) -> None:
    """An endpoint someone else made (same names, no labels): the address, then the rule on it."""
    accept(gcp)
    base = f"https://compute.googleapis.com/compute/v1/projects/{CONSUMER}/regions/{REGION}"
    gcp.seed(f"{base}/addresses", {"name": "psc-orders", "addressType": "INTERNAL", "purpose": "GCE_ENDPOINT",
                                   "subnetwork": f"{base}/subnetworks/nodes"})
    gcp.seed(f"{base}/forwardingRules", {"name": "psc-orders", "network": "projects/consumer/global/networks/vpc",
                                         "IPAddress": f"{base}/addresses/psc-orders",
                                         "target": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders"})
    gcp.forget_calls()


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_adopted_endpoint_is_left_in_place_saying_why(consumer, check_mode):
    _adopted_endpoint(consumer)
    adopted = consumer.run(ensure_endpoint, endpoint_params())
    assert adopted["changed"] is False and consumer.mutations() == []  # found existing: never marked
    left = consumer.run(ensure_endpoint, endpoint_params(state="absent"), check_mode=check_mode)
    assert left["changed"] is False and left["left"] is True and consumer.mutations() == []
    assert left["warnings"] == [AnyText("Forwarding rule psc-orders of PSC endpoint psc-orders left in place",
                                        "does not carry the label managed-by=aibang-gke-platform"),
                                AnyText("Address psc-orders of PSC endpoint psc-orders left in place", "does not carry the label")]
    assert left["endpoint"]["forwarding_rule"] and left["endpoint"]["address"]
    assert consumer.exists(RULE_KEY) and consumer.exists(ADDRESS_KEY)


def test_delete_unmarked_deletes_an_adopted_endpoint(consumer):
    _adopted_endpoint(consumer)
    removed = consumer.run(ensure_endpoint, endpoint_params(state="absent", delete_unmarked=True))
    assert removed["changed"] is True and "left" not in removed
    assert not consumer.exists(RULE_KEY) and not consumer.exists(ADDRESS_KEY)


def test_a_rule_made_on_an_adopted_address_goes_and_the_address_stays(consumer):
    accept(consumer)
    base = f"https://compute.googleapis.com/compute/v1/projects/{CONSUMER}/regions/{REGION}"
    consumer.seed(f"{base}/addresses", {"name": "psc-orders", "addressType": "INTERNAL", "purpose": "GCE_ENDPOINT",
                                        "subnetwork": f"{base}/subnetworks/nodes"})
    consumer.run(ensure_endpoint, endpoint_params())
    assert consumer.google.resources[RULE_KEY]["labels"] == MARK and not consumer.google.resources[ADDRESS_KEY].get("labels")
    removed = consumer.run(ensure_endpoint, endpoint_params(state="absent"))
    assert removed["changed"] is True and removed["left"] is True
    assert removed["warnings"] == [AnyText("Address psc-orders of PSC endpoint psc-orders left in place", "does not carry the label")]
    assert not consumer.exists(RULE_KEY) and consumer.exists(ADDRESS_KEY)


def test_a_marked_address_under_an_adopted_rule_stays_while_the_rule_uses_it(consumer):
    accept(consumer)
    consumer.run(ensure_endpoint, endpoint_params())
    consumer.google.resources[RULE_KEY].pop("labels")  # as if someone else had made the rule on our address
    removed = consumer.run(ensure_endpoint, endpoint_params(state="absent"))
    assert removed["changed"] is False and removed["left"] is True
    assert removed["warnings"][1] == AnyText("Address psc-orders", "forwarding rule psc-orders, which stays, still uses it")
    assert consumer.exists(RULE_KEY) and consumer.exists(ADDRESS_KEY)


PUBLISHED_KEY = f"compute:projects/{PRODUCER}/regions/{REGION}/serviceAttachments/published"


def _published(gcp, **changes):
    gcp.service_attachment(PRODUCER, REGION, [])  # the producer's network, load balancer and NAT subnet (and 'orders')
    gcp.forget_calls()
    params = dict(attachment_params(project=PRODUCER, region=REGION, name="published", nat_subnets=[{"name": "psc-nat"}],
                                    target_service="ilb", consumer_accept_lists=[{"project": CONSUMER, "connection_limit": 5}]),
                  state="present", delete_unmarked=False)
    params.update(changes)
    return params


@pytest.mark.parametrize("description, stored", [(None, "managed-by: aibang-gke-platform"),
                                                 ("orders API", "orders API (managed-by: aibang-gke-platform)")])
def test_an_attachment_the_module_creates_carries_the_mark_and_absent_deletes_it(gcp, description, stored):
    params = _published(gcp, description=description)
    gcp.run(ensure_service_attachment, params)
    assert gcp.google.resources[PUBLISHED_KEY]["description"] == stored
    gcp.forget_calls()
    assert gcp.run(ensure_service_attachment, params)["changed"] is False and gcp.mutations() == []
    removed = gcp.run(ensure_service_attachment, dict(params, state="absent"))
    assert removed["changed"] is True and "left" not in removed and not gcp.exists(PUBLISHED_KEY)


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_adopted_attachment_is_left_in_place_saying_why(gcp, check_mode):
    params = _published(gcp)
    left = gcp.run(ensure_service_attachment, dict(params, name="orders", state="absent"), check_mode=check_mode)
    assert left["changed"] is False and left["left"] is True and gcp.mutations() == []
    assert left["warnings"] == [AnyText("Service attachment orders left in place", "lacks 'managed-by: aibang-gke-platform'")]
    assert left["service_attachment"]["name"] == "orders"
    forced = gcp.run(ensure_service_attachment, dict(params, name="orders", state="absent", delete_unmarked=True))
    assert forced["changed"] is True and not gcp.exists(f"compute:projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders")


class AnyText(str):
    """Equal to any text holding all of ``parts``."""

    def __new__(cls, *parts):
        made = super().__new__(cls, " ... ".join(parts))
        made.parts = parts
        return made

    def __eq__(self, other):
        return isinstance(other, str) and all(part in other for part in self.parts)

    __hash__ = str.__hash__


NAT_KEY = f"compute:projects/{PRODUCER}/regions/{REGION}/subnetworks/published-nat"
NEW_NAT = {"name": "published-nat", "network": "vpc", "ip_cidr_range": "10.98.0.0/28"}


@pytest.mark.parametrize("check_mode", [True, False])
def test_absent_deletes_the_nat_subnet_the_module_created_after_the_attachment(gcp, check_mode):
    params = _published(gcp, nat_subnets=[NEW_NAT])
    gcp.run(ensure_service_attachment, params)
    assert gcp.google.resources[NAT_KEY]["description"] == "managed-by: aibang-gke-platform"
    gcp.forget_calls()
    removed = gcp.run(ensure_service_attachment, dict(params, state="absent", nat_subnets=[{"name": "published-nat"}]),
                      check_mode=check_mode)
    assert removed["changed"] is True and "warnings" not in removed and removed["nat_subnets_deleted"] == ["published-nat"]
    assert gcp.exists(NAT_KEY) is check_mode and gcp.exists(PUBLISHED_KEY) is check_mode
    again = gcp.run(ensure_service_attachment, dict(params, state="absent", nat_subnets=[{"name": "published-nat"}]),
                    check_mode=check_mode)
    assert again["changed"] is check_mode


def test_absent_leaves_a_nat_subnet_it_did_not_create_or_another_attachment_uses(gcp):
    params = _published(gcp)  # psc-nat: found existing, and 'orders' publishes through it too
    gcp.run(ensure_service_attachment, params)
    removed = gcp.run(ensure_service_attachment, dict(params, state="absent"))
    assert removed["changed"] is True and not gcp.exists(PUBLISHED_KEY)
    assert removed["warnings"] == [AnyText("NAT subnet psc-nat left in place", "service attachment orders still uses it")]
    gcp.run(ensure_service_attachment, dict(params, name="orders", state="absent", delete_unmarked=True, nat_subnets=[]))
    left = gcp.run(ensure_service_attachment, dict(params, state="absent"))
    assert left["changed"] is False
    assert left["warnings"] == [AnyText("NAT subnet psc-nat left in place", "lacks 'managed-by: aibang-gke-platform'")]
    forced = gcp.run(ensure_service_attachment, dict(params, state="absent", delete_unmarked=True))
    assert forced["changed"] is True and not gcp.exists(f"compute:projects/{PRODUCER}/regions/{REGION}/subnetworks/psc-nat")


def test_absent_leaves_a_subnet_of_another_purpose_and_one_another_projects_attachment_uses(gcp):
    params = _published(gcp, nat_subnets=[NEW_NAT])
    gcp.run(ensure_service_attachment, params)
    gcp.subnetwork(PRODUCER, REGION, "plain", "10.97.0.0/24")
    plain = gcp.run(ensure_service_attachment, dict(params, name="gone", state="absent", delete_unmarked=True,
                                                    nat_subnets=[{"name": "plain"}]))
    assert plain["changed"] is False and plain["nat_subnets_deleted"] == []
    assert plain["warnings"] == [AnyText("NAT subnet plain left in place", "purpose is 'PRIVATE'")]
    gcp.service_attachment("elsewhere", REGION, [], name="theirs")  # then as if it had taken our NAT subnet
    theirs = gcp.google.resources[f"compute:projects/elsewhere/regions/{REGION}/serviceAttachments/theirs"]
    theirs["natSubnets"] = [regional(PRODUCER, REGION, "subnetworks", "published-nat")]
    used = gcp.run(ensure_service_attachment, dict(params, state="absent", nat_subnets=[{"name": "published-nat"}]))
    assert used["changed"] is True and not gcp.exists(PUBLISHED_KEY) and gcp.exists(NAT_KEY)
    assert used["warnings"] == [AnyText("NAT subnet published-nat left in place", "Google still reports it in use",
                                        "already being used by 'projects/elsewhere/regions/")]


def test_a_nat_subnet_google_still_reports_in_use_right_after_the_attachment_went_is_deleted_once_it_is_free(gcp, monkeypatch):
    """Compute may answer resourceInUseByAnotherResource for a moment after the attachment's delete completed."""
    params = _published(gcp, nat_subnets=[NEW_NAT])
    gcp.run(ensure_service_attachment, params)
    asked = []

    def still_in_use(path):
        asked.append(path)
        if len(asked) <= 2:
            raise GoogleError(400, "The subnetwork resource is already being used by 'projects/p/regions/r/serviceAttachments/published'",
                              "resourceInUseByAnotherResource")
    monkeypatch.setattr(gcp.google, "_before_delete_subnetworks", still_in_use)
    removed = gcp.run(ensure_service_attachment, dict(params, state="absent", nat_subnets=[{"name": "published-nat"}]))
    assert len(asked) == 3 and removed["nat_subnets_deleted"] == ["published-nat"] and "warnings" not in removed
    assert not gcp.exists(NAT_KEY)
