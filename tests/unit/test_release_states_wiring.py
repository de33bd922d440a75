# -*- coding: utf-8 -*-
"""Issue 12: a deploy whose end-to-end check (verify.yml, imported at its end) fails marks its release failed. Each
check of verify runs in a block whose rescue keeps the failure within deploy (on its own, verify fails at once);
deploy's last play hands every kept failure to release_finish.yml, which marks the release and fails naming them."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = pathlib.Path(__file__).parents[2]
CHECKS = ["aibang.gke_platform.squid_vm:verify", "aibang.gke_platform.egress_probe:main",
          "aibang.gke_platform.egress_network:bypass"]


def _yaml(*parts: str):
    return yaml.safe_load(ROOT.joinpath(*parts).read_text(encoding="utf-8"))


def _role(task: dict) -> str:
    include = task.get("ansible.builtin.include_role") or {}
    return f"{include['name']}:{include.get('tasks_from', 'main')}" if include else ""


def _check_blocks() -> dict:
    """The role a check of verify.yml runs -> the block that runs it."""
    found = {}
    for play in _yaml("playbooks", "verify.yml"):
        for task in play.get("tasks", []):
            for inner in task.get("block", []):
                if _role(inner):
                    found[_role(inner)] = task
    return found


def _render(template, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(template))


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_of_verify_keeps_its_failure_for_deploy(check):
    block = _check_blocks()[check]
    assert [task.get("ansible.builtin.include_tasks") for task in block["rescue"]] == ["tasks/verify_rescue.yml"]
    assert block["rescue"][0]["vars"]["verify_check"], "the failure names the check"


def test_no_check_of_verify_runs_outside_a_block():
    roles = [_role(task) for play in _yaml("playbooks", "verify.yml") for task in play.get("tasks", []) if _role(task)]
    assert not set(roles) & set(CHECKS), roles


def test_deploy_runs_verify_within_deploy_and_hands_its_failures_to_the_release():
    plays = _yaml("playbooks", "deploy.yml")
    position = next(index for index, play in enumerate(plays) if play.get("ansible.builtin.import_playbook") == "verify.yml")
    assert plays[position]["vars"] == {"verify_within_deploy": True}
    assert _yaml("playbooks", "group_vars", "all", "wiring.yml")["verify_within_deploy"] is False  # verify on its own
    finish = plays[position + 1]
    assert finish["tags"] == ["always"]
    task = finish["tasks"][-1]
    assert task["ansible.builtin.include_tasks"] == "tasks/release_finish.yml"
    hostvars = {"localhost": {"verify_failures": ["end to end at Compare: x"]}, "vm": {"verify_failures": ["tier 2 at Check: y"]},
                "other": {}}
    rendered = _render(task["vars"]["release_verify_failures"], hostvars=hostvars,
                       groups={"control": ["localhost"], "squid_vm": ["vm", "other"]})
    assert rendered == ["end to end at Compare: x", "tier 2 at Check: y"]


def test_the_rescue_keeps_the_failure_and_fails_only_when_verify_runs_on_its_own():
    keep, fail = _yaml("playbooks", "tasks", "verify_rescue.yml")
    failed_loop = {"results": [{"failed": False, "msg": "ok"}, {"failed": True, "msg": "CONNECT a:443 got 200, but the policy denies it"}],
                   "msg": "One or more items failed"}
    kept = _render(keep["ansible.builtin.set_fact"]["verify_failures"], verify_failures=["earlier"], verify_check="end to end",
                   ansible_failed_task={"name": "Compare"}, ansible_failed_result=failed_loop)
    assert kept == ["earlier", "end to end at Compare: CONNECT a:443 got 200, but the policy denies it"]
    assert fail["when"] == "not verify_within_deploy | bool" and "verify_failures | last" in fail["ansible.builtin.fail"]["msg"]


def test_release_finish_marks_the_outcome_and_fails_last_when_verify_failed():
    tasks = _yaml("playbooks", "tasks", "release_finish.yml")
    info = next(task["aibang.gke_platform.release_info"] for task in tasks if "aibang.gke_platform.release_info" in task)
    assert info["verify_failures"] == "{{ release_verify_failures }}"
    assert tasks[-1]["ansible.builtin.fail"]["msg"] == "{{ __release_history.outcome.message }}"
    assert tasks[-1]["when"] == "__release_history.outcome.state == 'failed'"


def _tier2_play() -> dict:
    return next(play for play in _yaml("playbooks", "verify.yml") if any(
        _role(inner) == "aibang.gke_platform.squid_vm:verify" for task in play.get("tasks", []) for inner in task.get("block", [])))


def test_every_vm_of_tier_2s_play_reports_that_its_check_finished_and_the_control_host_takes_part():
    """An unreachable host leaves the play without its rescue or always; the control host, in the same play (so that
    a play whose every VM is unreachable does not end the run), is the one that can say so."""
    play = _tier2_play()
    assert play["hosts"] == "{{ control_hosts | default('control') }}:{{ squid_vm_hosts | default('squid_vm') }}"
    check = _check_blocks()["aibang.gke_platform.squid_vm:verify"]
    assert check["when"] == "inventory_hostname in groups[squid_vm_hosts | default('squid_vm')] | default([])"
    assert [task["ansible.builtin.set_fact"] for task in check["always"]] == [{"verify_tier2_finished": "{{ inventory_hostname }}"}]
    assert play["tasks"].index(check) < len(play["tasks"]) - 1  # the control host's check comes after


@pytest.mark.parametrize("finished, unfinished", [
    (["vm-a", "vm-b"], []),
    (["vm-a"], ["vm-b"]),  # unreachable during the check
    ([], ["vm-a", "vm-b"]),  # unreachable before it: the play ran nothing on either
])
def test_the_control_host_counts_a_vm_that_did_not_finish_as_a_failed_check_naming_it(finished, unfinished):
    block = _tier2_play()["tasks"][-1]
    assert block["when"] == "inventory_hostname in groups[control_hosts | default('control')]"
    assert [task.get("ansible.builtin.include_tasks") for task in block["rescue"]] == ["tasks/verify_rescue.yml"]
    assert block["rescue"][0]["vars"]["verify_check"].startswith("tier 2")
    check = block["block"][0]
    hostvars = {"localhost": {}, **{vm: {"verify_tier2_finished": vm} if vm in finished else {} for vm in ("vm-a", "vm-b")}}
    variables = {"ansible_play_hosts_all": ["localhost", "vm-a", "vm-b"], "hostvars": hostvars,
                 "groups": {"control": ["localhost"], "squid_vm": ["vm-a", "vm-b", "vm-other-limit"]},
                 **{name: trust_as_template(value) for name, value in check["vars"].items()}}
    assert _render("{{ " + check["ansible.builtin.assert"]["that"] + " }}", **variables) is (not unfinished)
    if unfinished:
        message = _render(check["ansible.builtin.assert"]["fail_msg"], **variables)
        assert message.startswith(f"{', '.join(unfinished)} did not finish it (unreachable"), message


def test_an_inventory_without_vms_has_nothing_unfinished():
    check = _tier2_play()["tasks"][-1]["block"][0]
    variables = {"ansible_play_hosts_all": ["localhost"], "hostvars": {"localhost": {}}, "groups": {"control": ["localhost"]},
                 **{name: trust_as_template(value) for name, value in check["vars"].items()}}
    assert _render("{{ " + check["ansible.builtin.assert"]["that"] + " }}", **variables) is True
    assert _render("{{ " + _check_blocks()["aibang.gke_platform.squid_vm:verify"]["when"] + " }}", inventory_hostname="localhost",
                   groups={"control": ["localhost"]}) is False
