# -*- coding: utf-8 -*-
"""psc_consumer grants the app's Google service account its project roles, Cloud SQL client in the instance's project
and Workload Identity in one gcp_iam_member run (issue 9): rendered from the role's own vars and defaults, each part
only when its input is set, and applied through the module's reconciler against the in-process GCP fake."""

from __future__ import annotations

import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.filter.workload_identity import FilterModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.iam_policy import ensure_member

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "psc_consumer"
GSA = "app-db-client@consumer.iam.gserviceaccount.com"
ROLES = {"psc_consumer_gsa_roles": ["roles/cloudtrace.agent"]}
SQL = {"psc_consumer_cloudsql_project": "producer"}
KSAS = {"psc_consumer_workload_identity_ksas": ["orders/orders"]}


def _bindings(inputs: dict) -> list:
    loader = DataLoader()
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "psc_consumer_project": "consumer", **inputs}
    templar = Templar(loader=loader, variables=variables)
    templar.environment.filters["aibang.gke_platform.workload_identity_members"] = FilterModule().filters()["workload_identity_members"]
    return templar.template(trust_as_template("{{ _psc_consumer_gsa_bindings }}"))


@pytest.mark.parametrize("inputs, resources", [
    ({}, []),
    (ROLES, ["project"]),
    (SQL, ["producer"]),
    (KSAS, [GSA]),
    ({**ROLES, **SQL, **KSAS}, ["project", "producer", GSA]),
], ids=["none", "roles", "cloudsql", "workload-identity", "all"])
def test_each_binding_only_when_its_input_is_set(inputs, resources):
    assert [item.get("resource", "project") for item in _bindings(inputs)] == resources


def test_all_three_in_one_run_then_a_no_op(gcp):
    gcp.service_account("consumer", "app-db-client")
    gcp.seed("https://container.googleapis.com/v1/projects/consumer/locations/europe-west2/clusters",
             {"cluster": {"name": "platform", "workloadIdentityConfig": {"workloadPool": "consumer.svc.id.goog"}}})
    gcp.forget_calls()
    task = {"project": "consumer", "resource_type": "project", "resource": None, "role": None, "roles": None,
            "members": None, "conflict_retries": 5, "state": "present", "bindings": _bindings({**ROLES, **SQL, **KSAS})}
    result = gcp.run(ensure_member, task)
    assert result["changed"] is True and len(gcp.mutations()) == 3
    assert result["bindings"] == {
        "project consumer roles/cloudtrace.agent": [f"serviceAccount:{GSA}"],
        "project producer roles/cloudsql.client": [f"serviceAccount:{GSA}"],
        f"service_account {GSA} roles/iam.workloadIdentityUser": ["serviceAccount:consumer.svc.id.goog[orders/orders]"]}
    gcp.forget_calls()
    assert gcp.run(ensure_member, task)["changed"] is False and gcp.mutations() == []
