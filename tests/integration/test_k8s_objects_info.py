# -*- coding: utf-8 -*-
"""k8s_objects_info on the lab's API server reads what kubernetes.core.k8s_info reads, query by query (the deploy's
release snapshots moved from one k8s_info run per object to one k8s_objects_info run per snapshot, issue 9): names,
label selectors, several namespaces, a missing name, a kind the server does not serve; a Secret's values masked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.integration.conftest import REPO
from tests.testbed import cluster

PLAYBOOK = """
- name: The same queries through both readers
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/aibang.gke_platform.k8s: {kubeconfig: "{{ kubeconfig }}"}
  tasks:
    - name: One k8s_info run per query and namespace
      kubernetes.core.k8s_info:
        api_version: "{{ item.0.api_version }}"
        kind: "{{ item.0.kind }}"
        namespace: "{{ item.1 }}"
        name: "{{ item.0.name | default(omit) }}"
        label_selectors: "{{ item.0.label_selectors | default(omit) }}"
      loop: "{{ queries | subelements('namespaces') }}"
      register: one_by_one

    - name: One k8s_objects_info run
      aibang.gke_platform.k8s_objects_info:
        queries: "{{ queries }}"
        kubeconfig: "{{ kubeconfig }}"
      register: together

    - name: Both, for the test
      ansible.builtin.copy:
        content: "{{ {'k8s_info': one_by_one.results | map(attribute='resources') | flatten, 'together': together} | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


def _read(namespaces: list, tmp_path) -> dict:
    selected = ["app.kubernetes.io/name=probe-read"]
    queries = [
        {"api_version": "apps/v1", "kind": "Deployment", "namespaces": namespaces, "label_selectors": selected},
        {"api_version": "v1", "kind": "ConfigMap", "namespaces": namespaces, "label_selectors": selected},
        {"api_version": "v1", "kind": "Service", "namespaces": namespaces[:1], "name": "read-me"},
        {"api_version": "v1", "kind": "ConfigMap", "namespaces": namespaces[:1], "name": "not-there"},
        {"api_version": "policy/v1", "kind": "PodDisruptionBudget", "namespaces": namespaces, "label_selectors": selected},
        {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy", "namespaces": namespaces, "label_selectors": selected},
        {"api_version": "coordination.k8s.io/v1", "kind": "Lease", "namespaces": namespaces[:1], "name": "read-me"},
        {"api_version": "nothing.example.com/v1", "kind": "Thing", "namespaces": namespaces[:1]},
    ]
    playbook, out, variables = tmp_path / "read.yml", tmp_path / "read.json", tmp_path / "vars.json"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    variables.write_text(json.dumps({"queries": queries, "kubeconfig": cluster.KUBECONFIG, "out": str(out)}), encoding="utf-8")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"@{variables}", str(playbook)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def _objects(namespace: str, index: int) -> dict:
    labels = {"app.kubernetes.io/name": "probe-read"}
    pod = {"metadata": {"labels": {"app": "read-me"}},
           "spec": {"containers": [{"name": "c", "image": "registry.invalid/none:1"}]}}
    items = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"read-me-{index}", "labels": labels},
         "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "read-me"}}, "template": pod}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"read-me-{index}", "labels": labels}, "data": {"k": "v"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-selected"}, "data": {"k": "v"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "read-me", "labels": labels},
         "spec": {"selector": {"app": "read-me"}, "ports": [{"port": 80}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "read-me", "labels": labels},
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "read-me"}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "read-me", "labels": labels},
         "spec": {"podSelector": {}, "policyTypes": ["Egress"]}},
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "read-me"}, "spec": {"holderIdentity": "x"}},
    ]
    return {"apiVersion": "v1", "kind": "List", "items": [{**item, "metadata": {**item["metadata"], "namespace": namespace}} for item in items]}


def _without_status(obj: dict) -> dict:
    """What a controller may still write between two reads (a PodDisruptionBudget's status) left out."""
    metadata = {key: value for key, value in obj["metadata"].items() if key not in ("resourceVersion", "managedFields")}
    return {**{key: value for key, value in obj.items() if key != "status"}, "metadata": metadata}


def test_reads_what_k8s_info_reads(testbed, tmp_path):
    namespaces = [f"it-read-{index}-{os.getpid()}" for index in (1, 2)]
    try:
        for index, namespace in enumerate(namespaces):
            testbed.kubectl("create", "namespace", namespace)
            testbed.kubectl("apply", "-f", "-", stdin=json.dumps(_objects(namespace, index)))
            # the controller writes its revision annotation once: read after it did
            testbed.kubectl("rollout", "status", "-n", namespace, f"deployment/read-me-{index}", "--timeout=60s")
        read = _read(namespaces, tmp_path)
    finally:
        for namespace in namespaces:
            testbed.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    together = read["together"]
    assert not together["changed"]
    assert [_without_status(item) for item in together["resources"]] == [_without_status(item) for item in read["k8s_info"]]
    found = sorted((item["kind"], item["metadata"]["namespace"], item["metadata"]["name"]) for item in together["resources"])
    assert found == sorted([("Deployment", ns, f"read-me-{i}") for i, ns in enumerate(namespaces)]
                           + [("ConfigMap", ns, f"read-me-{i}") for i, ns in enumerate(namespaces)]
                           + [("Service", namespaces[0], "read-me"), ("Lease", namespaces[0], "read-me")]
                           + [(kind, ns, "read-me") for kind in ("PodDisruptionBudget", "NetworkPolicy") for ns in namespaces])
