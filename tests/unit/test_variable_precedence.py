# -*- coding: utf-8 -*-
"""An environment's own values win over the playbooks' wiring (playbooks/group_vars/all) in AWX as by hand.

By hand the inventory is a directory whose group_vars/<group> rank above a playbook's group_vars/all. AWX imports
the inventory (`ansible-inventory --list --export`) and hands it to the job as an inventory script, whose group
variables Ansible's default order ranks below every group_vars file: the playbooks' value would win. The repository's
ansible.cfg ranks the playbooks' group_vars lowest (`precedence`). Both shapes of inventories/local are run here
with real ansible-playbook, with that ansible.cfg and with Ansible's default order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The lab inventory's values for variables the wiring also sets, differently (inventories/local/group_vars/control).
SHADOWED = ("egress_verify_requests", "app_workload_preset")
DEFAULT_ORDER = ("all_inventory,groups_inventory,all_plugins_inventory,all_plugins_play,groups_plugins_inventory,"
                 "groups_plugins_play")
PLAYBOOK = """---
- name: Show what the control host sees
  hosts: control
  gather_facts: false
  tasks:
    - name: The variables
      ansible.builtin.debug:
        msg: "{{ {'app_workload_preset': app_workload_preset,
                  'egress_verify_requests': egress_verify_requests | default('derived from a policy not compiled here')}
                 | to_json }}"
"""


def run(args, env=None):
    done = subprocess.run(args, cwd=ROOT, env={**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
                                               "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", **(env or {})},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def inventories(tmp_path_factory):
    """inventories/local as a directory (by hand) and as the script AWX runs the job with."""
    tmp = tmp_path_factory.mktemp("precedence")
    exported = run([sys.executable, "-m", "ansible.cli.inventory", "-i", "inventories/local", "--list", "--export"])
    script = tmp / "awx_inventory.py"
    script.write_text("#!{0}\nimport sys\nsys.stdout.write({1!r})\n".format(sys.executable, exported))
    script.chmod(0o755)
    return {"by hand": os.path.join(ROOT, "inventories", "local"), "from AWX": str(script)}


@pytest.fixture(scope="module")
def playbook(tmp_path_factory):
    """A playbook next to the repository's playbooks/group_vars, as playbooks/*.yml are."""
    tmp = tmp_path_factory.mktemp("playbooks")
    os.symlink(os.path.join(ROOT, "playbooks", "group_vars"), tmp / "group_vars")
    (tmp / "show.yml").write_text(PLAYBOOK)
    return str(tmp / "show.yml")


def seen(inventory, playbook, env=None):
    output = json.loads(run([sys.executable, "-m", "ansible.cli.playbook", "-i", inventory, playbook], env))
    return json.loads(output["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"])


@pytest.mark.parametrize("shape", ["by hand", "from AWX"])
def test_the_environments_values_win_over_the_playbooks_wiring(inventories, playbook, shape):
    values = seen(inventories[shape], playbook)
    assert {"host": "loopback.microsoft.com", "port": 443} in values["egress_verify_requests"]
    assert values["app_workload_preset"] == "dev"


def test_with_ansibles_default_order_awx_would_use_the_playbooks_value(inventories, playbook):
    by_hand = seen(inventories["by hand"], playbook, {"ANSIBLE_PRECEDENCE": DEFAULT_ORDER})
    from_awx = seen(inventories["from AWX"], playbook, {"ANSIBLE_PRECEDENCE": DEFAULT_ORDER})
    assert by_hand["app_workload_preset"] == "dev"
    assert from_awx == {"app_workload_preset": "local",
                        "egress_verify_requests": "derived from a policy not compiled here"}
