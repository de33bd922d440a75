# -*- coding: utf-8 -*-
"""Every Google Cloud delete in a role's cleanup goes only to what carries the collection's mark (issue 16, item 7):
a google.cloud delete is guarded by a ``when`` that tests the mark or loops over marked items only; this collection's
own modules check the mark themselves (each listed here with the test that proves it) or are guarded like
google.cloud's, and an IAM revocation runs only for an account the collection created. What is still deleted by
name is listed, with the reason."""

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
# This collection's modules that delete by name, so the role's ``when`` must test the mark as for google.cloud's.
GUARDED_BY_THE_ROLE = {
    "aibang.gke_platform.gcp_service_accounts",  # an account has no labels: psc_consumer's mark is in its display name
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
    if module.startswith("google.cloud.") or module in GUARDED_BY_THE_ROLE:
        assert "mark" in guard, f"{role}: '{task['name']}' deletes by name"
    elif module == "aibang.gke_platform.gcp_iam_member":
        assert "_mark in" in guard and "displayName" in guard, f"{role}: '{task['name']}' revokes an adopted account's roles"
    elif (role, module) in BY_NAME:
        pass
    else:
        assert module in MARK_AWARE, f"{role}: '{task['name']}' uses {module}, which does not check the mark"
        assert "delete_unmarked" not in task[module], f"{role}: '{task['name']}' deletes unmarked resources"


# Each cleanup condition is a boolean whether the resource exists (marked or not) or is already gone: ansible-core
# 2.19 fails a task whose condition is a dict or a list ("Conditionals must have a boolean result").
def _conditions(role: str) -> list:
    tasks = yaml.safe_load((ROLES / role / "tasks" / "cleanup.yml").read_text(encoding="utf-8"))
    found = []
    for task in _tasks(tasks):
        for condition in ([task["when"]] if isinstance(task.get("when"), str) else task.get("when") or []):
            found.append((task, condition))
    return found


def _block_vars(role: str) -> dict:
    tasks = yaml.safe_load((ROLES / role / "tasks" / "cleanup.yml").read_text(encoding="utf-8"))
    return _trusted(next(task for task in tasks if "block" in task).get("vars", {}))


def _trusted(variables: dict) -> dict:
    """The role's own vars, templated as Ansible templates them."""
    from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel

    return {key: trust_as_template(value) if isinstance(value, str) else value for key, value in variables.items()}


STATES = {
    "egress_network": ("__egress_network_found_subnets", "egress-vm", "description",
                       {"egress_network_vm_subnet": "egress-vm", "_egress_network_mark": "managed-by: aibang.gke_platform egress_network",
                        "__egress_network_found_rules": {"resources": []}, "egress_network_rule_prefix": "vpc-gke-egress",
                        "__egress_network_nat_removed": {"router_left": ""}},
                       "The egress VM's subnet (managed-by: aibang.gke_platform egress_network)"),
    "squid_vm_cloud": ("__squid_vm_cloud_found", "egress-squid", "labels",
                       {"squid_vm_cloud_instance": "egress-squid", "_squid_vm_cloud_mark": "managed-by: aibang-gke-platform",
                        "_squid_vm_cloud_rule_names": [], "__squid_vm_cloud_found_rules": {"resources": []}},
                       {"managed-by": "aibang-gke-platform"}),
}


@pytest.mark.parametrize("role", sorted(STATES))
@pytest.mark.parametrize("state", ["missing", "marked", "adopted"])
def test_cleanup_conditions_are_booleans_whatever_exists(role, state):
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.template import Templar, trust_as_template  # pylint: disable=import-outside-toplevel

    register, name, field, variables, mark = STATES[role]
    resource = {"name": name, field: mark if state == "marked" else ({} if field == "labels" else "")}
    variables = {**variables, **_block_vars(role), register: {"resources": [] if state == "missing" else [resource]}}
    for task, condition in _conditions(role):
        if "_" + role in condition:
            templar = Templar(loader=DataLoader(), variables={**variables, **_trusted(task.get("vars", {}))})
            assert isinstance(templar.evaluate_conditional(trust_as_template(condition)), bool), condition
