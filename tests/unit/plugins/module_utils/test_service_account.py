# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.service_account import ensure_accounts, planned_accounts

PROJECT = "consumer"
NODES = f"gke-nodes@{PROJECT}.iam.gserviceaccount.com"


def account(name, **fields):
    return dict({"name": name, "display_name": None, "description": None, "state": None}, **fields)


def params(*accounts, **task):
    return dict({"project": PROJECT, "state": "present", "accounts": list(accounts)}, **task)


@pytest.mark.parametrize("accounts, message", [
    ([account("gke-nodes"), account(NODES)], r"accounts\[1\] \(gke-nodes@consumer\S+\): listed twice \(also at accounts\[0\]\)"),
    ([account("nodes")], r"accounts\[0\] \(nodes\): account ID 'nodes' must be 6 to 30"),
    ([account("gke-nodes"), account("Nodes_1")], r"accounts\[1\] \(Nodes_1\): account ID 'Nodes_1'"),
    ([account("gke-nodes-")], r"not ending with a hyphen"),
    ([account("a" * 31)], r"must be 6 to 30"),
    ([account("123-compute@developer.gserviceaccount.com")],
     r"accounts\[0\] \(123-compute@developer.gserviceaccount.com\): .* is not a user-managed service account"),
])
def test_bad_accounts_are_refused_naming_the_item(accounts, message):
    with pytest.raises(GcpError, match=message):
        planned_accounts(params(*accounts))


def test_an_email_names_its_own_project():
    assert planned_accounts(params(account("runner@tools-prod.iam.gserviceaccount.com"))) == [
        ("runner@tools-prod.iam.gserviceaccount.com", "tools-prod", "present", {})]


def test_a_bad_item_anywhere_stops_the_run_before_any_call(gcp):
    with pytest.raises(GcpError, match=r"accounts\[1\]"):
        gcp.run(ensure_accounts, params(account("gke-nodes", display_name="nodes"), account("x")))
    assert gcp.mutations() == []


def test_an_unset_display_name_keeps_the_existing_account_s_own(gcp):
    gcp.run(ensure_accounts, params(account("gke-nodes", display_name="the network team's nodes")))
    gcp.forget_calls()
    kept = gcp.run(ensure_accounts, params(account("gke-nodes", description="")))
    assert kept["changed"] is False and gcp.mutations() == []
    assert kept["accounts"] == [{"email": NODES, "display_name": "the network team's nodes", "description": ""}]


def test_an_update_patches_only_the_fields_that_differ(gcp):
    gcp.run(ensure_accounts, params(account("gke-nodes", display_name="nodes", description="GKE nodes")))
    gcp.forget_calls()
    updated = gcp.run(ensure_accounts, params(account("gke-nodes", display_name="platform nodes", description="GKE nodes")))
    assert updated["diff"] == {"before": {NODES: {"email": NODES, "display_name": "nodes", "description": "GKE nodes"}},
                               "after": {NODES: {"email": NODES, "display_name": "platform nodes", "description": "GKE nodes"}}}
    assert gcp.mutations() == ["iam.projects.serviceAccounts.patch"]
