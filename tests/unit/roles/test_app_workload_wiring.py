# -*- coding: utf-8 -*-
"""Where the apps stage sits in the playbooks (issue 11, items 2 and 7): deploy runs it after the egress stages (the
alias and the PSC endpoint exist when the pods start), cleanup removes the app namespaces before anything they use,
diagnose reports the app layers in the environment's report, and every inventory's preset reaches the role."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).parents[3]
ENVIRONMENTS = ("dev", "staging", "prod")


def role_calls(name: str) -> list:
    """(role, tasks_from) of every include_role of a playbook, in order."""
    plays = yaml.safe_load((ROOT / "playbooks" / name).read_text(encoding="utf-8"))
    return [(task["ansible.builtin.include_role"]["name"].rsplit(".", 1)[-1], task["ansible.builtin.include_role"].get("tasks_from", "main"))
            for play in plays for task in _tasks(play.get("pre_tasks", []) + play.get("tasks", []))
            if "ansible.builtin.include_role" in task]


def _tasks(tasks: list) -> list:
    """The tasks with those of blocks, rescues and always sections, in order."""
    found = []
    for task in tasks:
        found.append(task)
        for section in ("block", "rescue", "always"):
            found += _tasks(task.get(section, []))
    return found


def test_deploy_runs_the_apps_after_the_egress_and_database_stages():
    calls = role_calls("deploy.yml")
    apps = calls.index(("app_workload", "main"))
    assert all(calls.index(stage) < apps for stage in
               [("psc_consumer", "main"), ("squid_vm", "main"), ("squid_gke", "main"), ("cluster_dns", "main")]), calls


def test_cleanup_removes_the_app_namespaces_before_what_they_use():
    calls = role_calls("cleanup.yml")
    apps = calls.index(("app_workload", "cleanup"))
    later = [call for call in calls[apps + 1:] if call[0] in ("squid_gke", "cluster_dns", "squid_vm", "psc_consumer", "psc_producer")]
    earlier = [call for call in calls[:apps] if call[0] not in ("monitoring",)]
    assert later and not earlier, calls


def test_diagnose_reports_the_app_layers():
    calls = role_calls("diagnose.yml")
    assert ("app_workload", "diagnose") in calls
    report = (ROOT / "playbooks" / "diagnose.yml").read_text(encoding="utf-8")
    assert "app_workload_diagnosis" in report


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_inventory_names_its_preset(env):
    platform = yaml.safe_load((ROOT / "inventories" / env / "group_vars" / "all" / "platform.yml").read_text(encoding="utf-8"))
    wiring = yaml.safe_load((ROOT / "playbooks" / "group_vars" / "all" / "wiring.yml").read_text(encoding="utf-8"))
    assert platform["platform_environment"] == env
    assert wiring["app_workload_preset"] == "{{ platform_environment }}"
