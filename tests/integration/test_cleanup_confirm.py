# -*- coding: utf-8 -*-
"""The prod cleanup confirmation cannot be skipped (issue 16, item 6).

Each destructive play of playbooks/cleanup.yml checks it itself, so ``--limit squid_vm``, ``--tags`` or ``--check``
reach no task that removes anything. Runs against the local inventory posing as prod, in check mode: every case
fails at the confirmation, before any other task, so no lab is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _cleanup(*extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"), "ANSIBLE_NOCOLOR": "1"}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", os.path.join(REPO, "inventories", "local"),
               os.path.join(REPO, "playbooks", "cleanup.yml"), "--check", "-e", "platform_environment=prod", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=REPO, check=False)


@pytest.mark.parametrize("selection", [[], ["--limit", "squid_vm"], ["--limit", "control"], ["--tags", "squid_vm"],
                                       ["--tags", "gcp"], ["--tags", "cluster_dns"]],
                         ids=["all", "limit-squid_vm", "limit-control", "tags-squid_vm", "tags-gcp", "tags-cluster_dns"])
def test_prod_cleanup_stops_at_the_confirmation_whatever_the_selection(selection):
    done = _cleanup(*selection)
    assert done.returncode != 0, done.stdout[-3000:]
    assert "re-run with -e cleanup_confirm=prod" in done.stdout, done.stdout[-3000:]
    tasks = re.findall(r"^TASK \[(.*?)\]", done.stdout, re.MULTILINE)
    assert tasks and all(task == "Refuse to clean up prod without an explicit confirmation" for task in tasks), tasks
