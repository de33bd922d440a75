# -*- coding: utf-8 -*-
"""psc_endpoint's main() against the in-process GCP fake: options, result, warnings, failures."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import psc_endpoint

CONSUMER, PRODUCER, REGION = "consumer", "producer", "europe-west2"
ARGS = {"project": CONSUMER, "auth_kind": "accesstoken", "access_token": "t0k3n-unit", "region": REGION, "name": "psc-orders",
        "network": "vpc", "subnetwork": "nodes", "poll_interval": 1,
        "service_attachment": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders"}
PAYMENTS = f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/payments"


def connected(gcp, run_module) -> dict:
    gcp.network(CONSUMER)
    gcp.subnetwork(CONSUMER, REGION, "nodes", "10.10.0.0/24")
    gcp.service_attachment(PRODUCER, REGION, [CONSUMER])
    gcp.service_attachment(PRODUCER, REGION, [CONSUMER], name="payments")
    created = run_module(psc_endpoint, ARGS)
    gcp.forget_calls()
    return created


def test_creates_and_reports_no_recreation(gcp_modules, run_module):
    created = connected(gcp_modules, run_module)
    assert created["changed"] is True and created["recreated"] == []
    assert created["endpoint"]["psc_connection_status"] == "ACCEPTED"
    assert "t0k3n-unit" not in repr(created)
    assert run_module(psc_endpoint, ARGS)["changed"] is False


def test_a_new_target_fails_unless_recreate_is_set(gcp_modules, run_module):
    connected(gcp_modules, run_module)
    refused = run_module(psc_endpoint, dict(ARGS, service_attachment=PAYMENTS))
    assert refused["failed"] is True
    assert "has target 'projects/producer/regions/europe-west2/serviceAttachments/orders', asked " \
           "'projects/producer/regions/europe-west2/serviceAttachments/payments'" in refused["msg"]
    assert gcp_modules.mutations() == []
    replaced = run_module(psc_endpoint, dict(ARGS, service_attachment=PAYMENTS, recreate=True))
    assert replaced["changed"] is True and replaced["recreated"] == ["forwarding rule"]
    assert replaced["endpoint"]["service_attachment"] == PAYMENTS
    warnings = repr(replaced["warnings"])  # ansible-core 2.19 returns them as structured events
    assert "recreated the forwarding rule" in warnings and "connections through the old one were dropped" in warnings
