# -*- coding: utf-8 -*-
"""Every Google Cloud delete in a role's cleanup goes only to what carries the collection's mark (issue 16, item 7):
a google.cloud delete is guarded by a ``when`` that tests the mark or loops over marked items only; this collection's
own modules check the mark themselves (each listed here with the test that proves it), and an IAM revocation runs
only for an account the collection created. What is still deleted by name is listed, with the reason."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = pathlib.Path(__file__).parents[3] / "roles"

# This collection's modules whose state=absent deletes only what carries the mark, and the unit test proving it.
MARK_AWARE = {
    "aibang.gke_platform.gke_cluster": "test_gke.py::test_an_adopted_cluster_is_left_in_place_saying_why",
    "aibang.gke_platform.cloudsql_psc": "test_cloudsql.py::test_cleanup_deletes_only_an_instance_this_collection_created",
    "aibang.gke_platform.psc_endpoint": "test_psc.py::test_an_adopted_endpoint_is_left_in_place_saying_why",
    "aibang.gke_platform.gcp_dns_zones": "test_dns_zone.py::test_an_adopted_zone_is_left_in_place_saying_why",
    "aibang.gke_platform.gcp_dns_record": "test_dns_record.py::test_a_record_in_a_zone_the_collection_did_not_create_is_left_saying_why",
    "aibang.gke_platform.cloud_nat": "test_cloud_nat.py (the router: delete_empty_router deletes only a marked, empty router)",
    "aibang.gke_platform.psc_service_attachment": "test_psc.py::test_an_adopted_attachment_is_left_in_place_saying_why",
}
# Still deleted by name, and why.
BY_NAME = {
    ("egress_network", "aibang.gke_platform.cloud_nat"): "the NAT config named egress_network_nat: a NAT config is a "
    "part of its router with no labels or description of its own; the router itself goes only when marked and empty",
}


def _tasks(items: list):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _deletes():
    for path in sorted(ROLES.glob("*/tasks/cleanup.yml")):
        role = path.parts[-3]
        for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
            module = next((key for key in task if key.startswith(("google.cloud.", "aibang.gke_platform."))), None)
            if module and isinstance(task[module], dict) and task[module].get("state") == "absent":
                yield role, module, task


DELETES = list(_deletes())


def test_there_are_google_cloud_deletes_to_check():
    assert {role for role, _module, _task in DELETES} >= {"egress_network", "psc_consumer", "squid_vm_cloud", "psc_producer"}


@pytest.mark.parametrize("role, module, task", DELETES, ids=[f"{role}:{task['name']}" for role, _module, task in DELETES])
def test_each_delete_goes_only_to_what_carries_the_mark(role, module, task):
    guard = f"{task.get('when', '')} {task.get('loop', '')}"
    if module.startswith("google.cloud."):
        assert "mark" in guard, f"{role}: '{task['name']}' deletes by name"
    elif module == "aibang.gke_platform.gcp_iam_member":
        assert "_mark in" in guard and "displayName" in guard, f"{role}: '{task['name']}' revokes an adopted account's roles"
    elif (role, module) in BY_NAME:
        pass
    else:
        assert module in MARK_AWARE, f"{role}: '{task['name']}' uses {module}, which does not check the mark"
        assert "delete_unmarked" not in task[module], f"{role}: '{task['name']}' deletes unmarked resources"
