# -*- coding: utf-8 -*-
"""Crafted names never reach a configuration file: the roles refuse them before anything is read or written.

No lab needed: each case fails in the role's input checks, before the first call to a cluster or an API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PLAY = """
- name: cluster_dns with crafted aliases
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The role
      ansible.builtin.include_role:
        name: aibang.gke_platform.cluster_dns
"""

CRAFTED = [
    # kube_dns_stub renders aliases as server-block keys: this one opens a second block forwarding elsewhere
    "x.intra.aibang.local:5353 {\n    forward . 203.0.113.53\n}\nmicrosoft.intra.aibang.local",
    "microsoft.intra.aibang.local\n",
    "microsoft.intra.aibang.local extra",
]


def _run(tmp_path, mode: str, aliases: dict) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY, encoding="utf-8")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"), "ANSIBLE_NOCOLOR": "1"}
    extra = {"cluster_dns_mode": mode, "cluster_dns_aliases": aliases}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", json.dumps(extra), str(playbook)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("mode", ["kube_dns_stub", "coredns"])
@pytest.mark.parametrize("crafted", CRAFTED, ids=["server-block", "trailing-newline", "space"])
def test_cluster_dns_refuses_a_crafted_alias_before_anything(tmp_path, mode, crafted):
    done = _run(tmp_path, mode, {crafted: "squid-proxy-service.intra-proxy.svc.cluster.local"})
    assert done.returncode != 0, done.stdout[-3000:]
    assert "is not a valid DNS name" in done.stdout, done.stdout[-3000:]
    assert "Check the role's inputs" in done.stdout and "k8s_info" not in done.stdout


def test_cluster_dns_refuses_a_crafted_target(tmp_path):
    done = _run(tmp_path, "kube_dns_stub", {"microsoft.intra.aibang.local": "squid-proxy-service.intra-proxy.svc.cluster.local\n"})
    assert done.returncode != 0 and "is not a valid DNS name" in done.stdout, done.stdout[-3000:]
