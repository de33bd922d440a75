# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.iam_policy import check_members, ensure_member, role_members, with_members

POLICY = {"etag": "e1", "bindings": [
    {"role": "roles/viewer", "members": ["user:a@x.com"]},
    {"role": "roles/cloudsql.client", "members": ["user:b@x.com"], "condition": {"expression": "true"}},
]}


def test_adding_keeps_other_bindings_and_the_etag():
    changed = with_members(POLICY, "roles/cloudsql.client", ["serviceAccount:s@p.iam.gserviceaccount.com"], True)
    assert changed["etag"] == "e1"
    assert {"role": "roles/viewer", "members": ["user:a@x.com"]} in changed["bindings"]
    assert role_members(changed, "roles/cloudsql.client") == ["serviceAccount:s@p.iam.gserviceaccount.com"]
    assert any("condition" in binding for binding in changed["bindings"])  # conditional binding untouched


def test_adding_twice_is_a_no_op_and_removing_drops_empty_bindings():
    once = with_members(POLICY, "roles/viewer", ["user:a@x.com"], True)
    assert role_members(once, "roles/viewer") == role_members(POLICY, "roles/viewer")
    removed = with_members(POLICY, "roles/viewer", ["user:a@x.com"], False)
    assert all(binding["role"] != "roles/viewer" for binding in removed["bindings"])


@pytest.mark.parametrize("member", ["s@p.iam.gserviceaccount.com", "serviceAccount:", "sa:x"])
def test_members_need_a_type_prefix(member):
    with pytest.raises(GcpError, match="must start with one of"):
        check_members([member])


def test_several_roles_are_one_policy_write_and_name_every_role_in_the_diff(gcp):
    gcp.service_account("p", "gke-nodes")
    gcp.forget_calls()
    member = "serviceAccount:gke-nodes@p.iam.gserviceaccount.com"
    task = {"project": "p", "resource_type": "project", "resource": None, "role": None, "members": [member],
            "roles": ["roles/logging.logWriter", "roles/monitoring.viewer"], "conflict_retries": 5, "state": "present"}
    result = gcp.run(ensure_member, task)
    assert result["changed"] is True and gcp.mutations() == ["cloudresourcemanager.projects.setIamPolicy"]
    assert result["diff"] == {"before": {"roles/logging.logWriter": [], "roles/monitoring.viewer": []},
                              "after": {"roles/logging.logWriter": [member], "roles/monitoring.viewer": [member]}}
    assert result["bindings"] == result["diff"]["after"]
    gcp.forget_calls()
    assert gcp.run(ensure_member, task)["changed"] is False and gcp.mutations() == []
    assert gcp.run(ensure_member, dict(task, roles=[]))["changed"] is False


APP = "serviceAccount:orders-app@p.iam.gserviceaccount.com"


def bindings_task(bindings: list, **overrides) -> dict:
    return dict({"project": "p", "resource_type": "project", "resource": None, "role": None, "roles": None,
                 "members": None, "conflict_retries": 5, "state": "present", "bindings": bindings}, **overrides)


def test_bindings_on_three_resources_are_one_policy_write_each_and_then_a_no_op(gcp):
    gcp.service_account("p", "orders-app")
    gcp.forget_calls()
    task = bindings_task([
        {"roles": ["roles/logging.logWriter"], "members": [APP]},
        {"resource": "sql-project", "role": "roles/cloudsql.client", "members": [APP]},
        {"resource_type": "service_account", "resource": "orders-app@p.iam.gserviceaccount.com",
         "role": "roles/iam.serviceAccountUser", "members": ["group:ops@example.com"]},
        {"role": "roles/monitoring.viewer", "members": [APP]},  # the same project as the first: the same write
    ])
    result = gcp.run(ensure_member, task)
    assert result["changed"] is True
    assert gcp.mutations() == ["cloudresourcemanager.projects.setIamPolicy", "cloudresourcemanager.projects.setIamPolicy",
                               "iam.projects.serviceAccounts.setIamPolicy"]
    assert result["bindings"] == {"project p roles/logging.logWriter": [APP], "project p roles/monitoring.viewer": [APP],
                                  "project sql-project roles/cloudsql.client": [APP],
                                  "service_account orders-app@p.iam.gserviceaccount.com roles/iam.serviceAccountUser": ["group:ops@example.com"]}
    assert result["diff"]["before"] == {key: [] for key in result["bindings"]}
    gcp.forget_calls()
    again = gcp.run(ensure_member, task)
    assert again["changed"] is False and gcp.mutations() == [] and again["bindings"] == result["bindings"]


def test_an_item_state_overrides_the_tasks(gcp):
    gcp.service_account("p", "orders-app")
    gcp.run(ensure_member, bindings_task([{"roles": ["roles/viewer", "roles/editor"], "members": [APP]}]))
    result = gcp.run(ensure_member, bindings_task([{"role": "roles/editor", "members": [APP], "state": "absent"},
                                                   {"role": "roles/viewer", "members": [APP]}]))
    assert result["changed"] is True
    assert result["bindings"] == {"project p roles/editor": [], "project p roles/viewer": [APP]}


@pytest.mark.parametrize("item, message", [
    ("roles/viewer", "bindings[1]: must be a mapping"),
    ({"role": "roles/viewer", "members": [APP], "project": "q"}, "bindings[1]: unknown key(s) project"),
    ({"resource_type": "folder", "role": "roles/viewer", "members": [APP]}, "bindings[1].resource_type: must be one of"),
    ({"resource_type": "service_account", "role": "roles/viewer", "members": [APP]}, "bindings[1].resource: the service account's email"),
    ({"members": [APP]}, "bindings[1]: set exactly one of role or roles"),
    ({"role": "roles/viewer", "roles": ["roles/editor"], "members": [APP]}, "bindings[1]: set exactly one of role or roles"),
    ({"roles": "roles/viewer", "members": [APP]}, "bindings[1].roles: must be a list of role names"),
    ({"role": "roles/viewer", "members": []}, "bindings[1].members: must be a non-empty list"),
    ({"role": "roles/viewer", "members": ["orders-app@p.iam.gserviceaccount.com"]}, "bindings[1].members: Failed to plan IAM binding"),
    ({"role": "roles/viewer", "members": [APP], "state": "gone"}, "bindings[1].state: must be present or absent, got 'gone'"),
])
def test_a_bad_item_fails_naming_it_before_anything_changes(gcp, item, message):
    gcp.service_account("p", "orders-app")
    gcp.forget_calls()
    with pytest.raises(GcpError) as caught:
        gcp.run(ensure_member, bindings_task([{"role": "roles/viewer", "members": [APP]}, item]))
    assert str(caught.value).startswith(message), str(caught.value)
    assert gcp.mutations() == []


def test_check_mode_plans_bindings_on_a_service_account_made_earlier_in_the_run(gcp):
    result = gcp.run(ensure_member, bindings_task([
        {"resource_type": "service_account", "resource": "later@p.iam.gserviceaccount.com", "role": "roles/iam.workloadIdentityUser",
         "members": ["serviceAccount:p.svc.id.goog[ns/ksa]"]}]), check_mode=True)
    assert result["changed"] is True and gcp.mutations() == []
    assert result["diff"]["after"] == {"service_account later@p.iam.gserviceaccount.com roles/iam.workloadIdentityUser":
                                       ["serviceAccount:p.svc.id.goog[ns/ksa]"]}
    assert "does not exist yet" in result["warnings"][0]
