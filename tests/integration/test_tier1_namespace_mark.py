# -*- coding: utf-8 -*-
"""Cleanup deletes only what the collection created (issue 16, item 7), for the tier-1 namespace on the lab's API
server: squid_gke's cleanup deletes a namespace carrying the collection's mark (written when the role creates it)
and, in one it did not create (shared with the DNS stub, made by hand), deletes only tier 1's own objects and says
what it left and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.integration.conftest import REPO
from tests.integration.test_testbed import wait_until
from tests.testbed import cluster

MARK = {"aibang.io/created-by": "aibang.gke_platform"}

PLAYBOOK = """
- name: Tier 1's cleanup
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/aibang.gke_platform.k8s: {kubeconfig: "{{ kubeconfig }}"}
  tasks:
    - name: The role's cleanup entry point
      ansible.builtin.include_role:
        name: aibang.gke_platform.squid_gke
        tasks_from: cleanup
      vars:
        squid_gke_namespace: "{{ namespace }}"
"""


def _cleanup(namespace: str, tmp_path) -> subprocess.CompletedProcess:
    playbook = tmp_path / "cleanup.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"kubeconfig={cluster.KUBECONFIG}",
               "-e", f"namespace={namespace}", str(playbook)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done


def _config_maps(testbed, namespace: str, *names: str) -> None:
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"},
              "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "squid-proxy"} if name.startswith("squid-proxy") else {}}}
             for name in names]
    testbed.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def _names(testbed, namespace: str) -> set:
    found = json.loads(testbed.kubectl("get", "configmaps", "-n", namespace, "-o", "json").stdout)["items"]
    return {item["metadata"]["name"] for item in found} - {"kube-root-ca.crt"}


def test_a_namespace_the_collection_did_not_create_stays_with_only_tier_1s_objects_removed(testbed, namespace, tmp_path):
    _config_maps(testbed, namespace, "squid-proxy-release", "squid-proxy-policy-0123456789", "dns-stub-corefile")
    done = _cleanup(namespace, tmp_path)
    assert testbed.kubectl("get", "namespace", namespace, check=False).returncode == 0
    assert _names(testbed, namespace) == {"dns-stub-corefile"}
    words = " ".join(done.stdout.replace("''", "'").split())  # the default callback quotes and wraps messages as YAML
    said = f"Left in place: namespace {namespace}, without the collection's mark (aibang.io/created-by: aibang.gke_platform"
    assert said in words, done.stdout[-3000:]


def test_a_namespace_the_collection_created_is_deleted(testbed, namespace, tmp_path):
    testbed.kubectl("annotate", "namespace", namespace, *(f"{key}={value}" for key, value in MARK.items()))
    _config_maps(testbed, namespace, "squid-proxy-release")
    done = _cleanup(namespace, tmp_path)
    assert "Left in place" not in done.stdout

    def gone():
        return testbed.kubectl("get", "namespace", namespace, check=False).returncode != 0
    gone.__doc__ = f"namespace {namespace} deleted"
    wait_until(gone, timeout=30)
