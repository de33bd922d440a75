# -*- coding: utf-8 -*-
"""A tier-2 VM that does not finish its check in verify.yml is a failed check naming it, with real ansible-playbook:
the VM is reached over SSH at a closed port of 127.0.0.1 (unreachable at once), the in-cluster checks are skipped
(egress_verify false, no bypass image), so nothing but the controller runs. An unreachable host never runs its
rescue: before, verify on its own ended at the tier-2 play without naming the check (a play whose every host is
unreachable ends the run), and within deploy nothing was kept, so the release would have been marked success."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERIFY = os.path.join(ROOT, "playbooks", "verify.yml")
UNFINISHED = ("tier 2 (Squid on the VM answers as the policy says) at Check that every VM finished tier 2's check: "
              "vm-down did not finish it (unreachable")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the with ends: nothing listens there


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """inventories/local's variables, its control host, and one VM nothing answers for."""
    tmp = tmp_path_factory.mktemp("unreachable")
    os.symlink(os.path.join(ROOT, "inventories", "local", "group_vars"), tmp / "group_vars")
    (tmp / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "control": {"hosts": {"localhost": {"ansible_connection": "local",
                                            "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
        "squid_vm": {"hosts": {"vm-down": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                                           "ansible_port": closed_port(), "ansible_ssh_timeout": 5}}}}}}))
    return str(tmp)


def play(inventory: str, playbook: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ansible.cli.playbook", "-i", inventory, playbook, "-e", "egress_verify=false",
         "-e", "egress_network_bypass_image="],
        cwd=ROOT, env={**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
                       "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"},
        capture_output=True, text=True, timeout=180, check=False)


def within_deploy(tmp_path, unreachable_before: bool) -> str:
    """verify.yml as deploy imports it, then what deploy's last play hands to the release (its own expression)."""
    deploy = yaml.safe_load(open(os.path.join(ROOT, "playbooks", "deploy.yml"), encoding="utf-8"))
    gathered = deploy[-1]["tasks"][-1]["vars"]["release_verify_failures"]
    plays = [{"name": "An earlier stage reaches for every host", "hosts": "control:squid_vm", "gather_facts": False,
              "tasks": [{"name": "Ping", "ansible.builtin.ping": None}]}] if unreachable_before else []
    plays += [{"name": "Verify", "ansible.builtin.import_playbook": VERIFY, "vars": {"verify_within_deploy": True}},
              {"name": "What deploy's last play hands to the release", "hosts": "control", "gather_facts": False,
               "tasks": [{"name": "Show it", "ansible.builtin.debug": {"msg": "{{ release_verify_failures | to_json }}"},
                          "vars": {"release_verify_failures": gathered}}]}]
    os.symlink(os.path.join(ROOT, "playbooks", "group_vars"), tmp_path / "group_vars")
    (tmp_path / "deploy_end.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    return str(tmp_path / "deploy_end.yml")


def last_task(done: subprocess.CompletedProcess) -> dict:
    output = json.loads(done.stdout)
    return output["plays"][-1]["tasks"][-1]


def test_verify_on_its_own_fails_naming_the_vm_that_did_not_finish(inventory):
    done = play(inventory, VERIFY)
    assert done.returncode != 0
    failed = last_task(done)
    assert failed["task"]["name"] == "Fail naming the check (verify run on its own)", done.stdout[-3000:]
    assert failed["hosts"]["localhost"]["msg"].startswith(f"Verify failed: {UNFINISHED}")
    assert json.loads(done.stdout)["stats"]["vm-down"]["unreachable"] == 1


@pytest.mark.parametrize("unreachable_before", [False, True], ids=["unreachable in verify", "unreachable before"])
def test_within_deploy_a_vm_that_did_not_finish_is_a_failed_check_for_the_release(inventory, tmp_path, unreachable_before):
    done = play(inventory, within_deploy(tmp_path, unreachable_before))
    shown = last_task(done)
    assert shown["task"]["name"] == "Show it", done.stdout[-3000:]
    failures = json.loads(shown["hosts"]["localhost"]["msg"])
    assert len(failures) == 1 and failures[0].startswith(UNFINISHED), failures
