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
