# -*- coding: utf-8 -*-
"""The `bypass` layer on real pods (issue 16, item 1): egress_network's probe pod runs on the lab's real node and
must not reach the lab's "internet" (203.0.113.50 in its own network namespace) directly, while the same request
through the proxy alias (the product's tier-1 Squid pods, then tier 2) gets 200 and a denied name gets 403.

The lab stands for the VPC like this: a pod's packets leave the node's bridge only back into the bridge
(tests/testbed/node.py, chain AIBANG-TESTBED-FORWARD), as the deny-all egress rule keeps GKE nodes and pods in.
The tests first prove the target answers from this machine, so the pod's failure is the network's doing, not a
target that is down.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.integration.test_real_pods import run_playbook
from tests.testbed import cluster, node

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = "203.0.113.50"  # the testbed's target (testbed.sh), TLS on 443, in the internet namespace

PLAYBOOK = """
- name: The bypass probe on the real node
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/aibang.gke_platform.k8s: {kubeconfig: "{{ kubeconfig }}"}
  tasks:
    - name: The product's probe
      ansible.builtin.include_role:
        name: aibang.gke_platform.egress_network
        tasks_from: bypass
      vars:
        egress_network_bypass_namespace: "{{ namespace }}"
        egress_network_bypass_image: "{{ image }}"
        egress_network_bypass_require_digest: "{{ require_digest }}"
        egress_network_bypass_target: "https://{{ target }}/"
        egress_network_bypass_proxy: http://microsoft.intra.aibang.local:3128
        egress_network_bypass_denied_target: "{{ denied_target | default('') }}"
        egress_network_bypass_timeout: 5
        egress_network_bypass_start_timeout: "{{ start_timeout | default(60) }}"
        egress_network_bypass_report_only: "{{ report_only }}"
        egress_network_bypass_pod_overrides: "{{ on_real_node }}"

    - name: Hand the verdict to the test
      ansible.builtin.copy:
        content: "{{ egress_network_bypass | to_json }}"
        dest: "{{ verdict_file }}"
        mode: "0600"
"""


def _target_answers_from_this_machine() -> bool:
    try:
        with socket.create_connection((TARGET, 443), timeout=5):
            return True
    except OSError:
        return False


def _play(namespace: str, tmp_path, **overrides) -> subprocess.CompletedProcess:
    playbook = tmp_path / "bypass.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({
        "kubeconfig": cluster.KUBECONFIG, "verdict_file": str(tmp_path / "verdict.json"), "namespace": namespace,
        "image": cluster.image("probe"), "target": TARGET,
        "require_digest": False,  # the lab's locally built image has a tag only
        "report_only": True,
        "on_real_node": {"nodeSelector": {node.REAL_NODE_LABEL: "true"}, "enableServiceLinks": False,
                         "terminationGracePeriodSeconds": 2,
                         "tolerations": [{"key": node.REAL_NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}]},
        **overrides,
    }), encoding="utf-8")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"@{extra}", str(playbook)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def _run_probe(namespace: str, tmp_path, **overrides) -> dict:
    done = _play(namespace, tmp_path, **overrides)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads((tmp_path / "verdict.json").read_text(encoding="utf-8"))


def test_a_probe_pod_on_the_real_node_cannot_reach_the_internet_directly(testbed, namespace, tmp_path):
    assert _target_answers_from_this_machine(), f"the lab's target {TARGET}:443 does not answer from the host"
    verdict = _run_probe(namespace, tmp_path)
    assert verdict["direct_exit"] is not None and verdict["proxied_exit"] is not None, verdict  # the pod ran both requests
    assert verdict["direct_reached"] is False, verdict
    assert verdict["direct_exit"] in (7, 28), verdict  # refused or timed out: no route out, not a name or TLS error
    if verdict["proxied_reached"]:
        assert verdict["ok"] is True, verdict


def test_through_the_alias_the_same_probe_pod_gets_200_for_an_allowed_name_and_403_for_a_denied_one(testbed, namespace, tmp_path):
    """Item 2 of the bypass check, on the chain deploy.yml builds against inventories/local: one probe pod, three
    requests - directly to the allowed name (fails), through the alias to it (the proxy's 200) and to example.org
    (the proxy's 403). The deploy's verify and diagnose run the same layer from the inventory and report it passing."""
    assert _target_answers_from_this_machine(), f"the lab's target {TARGET}:443 does not answer from the host"
    deployed = run_playbook("deploy.yml", "--tags", "egress")
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-2000:]
    assert "Gate: no way out around the proxy" in deployed.stdout and "bypass: not checked" not in deployed.stdout

    verdict = _run_probe(namespace, tmp_path, target="login.microsoftonline.com", denied_target="https://example.org/",
                         report_only=False)
    assert verdict["direct_reached"] is False and verdict["direct_exit"] in (7, 28), verdict  # no route out
    assert (verdict["proxied_exit"], verdict["proxied_status"]) == (0, 200), verdict
    assert verdict["denied_status"] == 403 and verdict["denied_exit"] != 0, verdict
    assert verdict["ok"] is True and "refused https://example.org/ with 403" in verdict["detail"], verdict

    diagnosed = run_playbook("diagnose.yml", "--tags", "egress")
    assert diagnosed.returncode == 0, diagnosed.stdout[-4000:] + diagnosed.stderr[-2000:]
    words = " ".join(diagnosed.stdout.split())  # the default callback wraps long messages
    assert "OK bypass: a probe pod could not reach https://login.microsoftonline.com/ directly" in words, \
        diagnosed.stdout[-4000:]


def test_diagnose_reports_a_probe_whose_image_cannot_be_pulled_as_a_broken_layer(testbed, namespace, tmp_path):
    """The lab's containerd pulls from nowhere: an image it does not hold fails to pull, as a missing mirror would."""
    verdict = _run_probe(namespace, tmp_path, image="aibang-testbed.local/no-such-probe:1")
    assert verdict["ok"] is False and verdict["direct_exit"] is None, verdict
    assert "did not run, so nothing was proven: the image could not be pulled" in verdict["detail"], verdict
    assert "aibang-testbed.local/no-such-probe:1" in verdict["detail"], verdict


def test_verify_fails_on_a_probe_whose_image_cannot_be_pulled(testbed, namespace, tmp_path):
    done = _play(namespace, tmp_path, image="aibang-testbed.local/no-such-probe:1", report_only=False)
    assert done.returncode != 0, done.stdout[-3000:]
    assert "bypass: the probe pod did not run, so nothing was proven: the image could not be pulled" in done.stdout, done.stdout[-3000:]
    assert "Run the probe pod once" in done.stdout
    # the probe's Job (and with it its pod) does not outlive the check
    assert cluster.kubectl("get", "jobs", "-n", namespace, "-l", "app.kubernetes.io/name=egress-bypass-probe", "-o", "name") == ""


def test_diagnose_reports_an_unschedulable_probe_with_the_schedulers_reason(testbed, namespace, tmp_path):
    nowhere = {"nodeSelector": {"aibang.testbed/no-such-pool": "true"}, "terminationGracePeriodSeconds": 2}
    verdict = _run_probe(namespace, tmp_path, on_real_node=nowhere, start_timeout=2)
    assert verdict["ok"] is False, verdict
    assert "could not be scheduled (Unschedulable: 0/" in verdict["detail"], verdict


def test_outside_the_lab_an_image_without_a_digest_is_refused_before_any_pod(tmp_path):
    """Needs no lab: the preflight refuses the tag before the play talks to a cluster."""
    done = _play("unused", tmp_path, require_digest=True)
    assert done.returncode != 0 and "is not pinned by digest" in done.stdout, done.stdout[-3000:]
    assert "Run the probe pod once" not in done.stdout


def test_no_route_out_of_the_pod_bridge_but_back_into_it(testbed):
    """The claim the probe rests on: pods' packets leave the bridge only back into the bridge."""
    rules = subprocess.run(["iptables", "-w", "-S", node.FORWARD_CHAIN], capture_output=True, text=True, check=True).stdout
    assert f"-A {node.FORWARD_CHAIN} -i {node.BRIDGE} -o {node.BRIDGE} -j ACCEPT" in rules
    assert f"-A {node.FORWARD_CHAIN} -i {node.BRIDGE} -j DROP" in rules


@pytest.fixture(autouse=True)
def _probe_image_built():
    try:
        cluster.image("probe")
    except Exception as exc:  # pylint: disable=broad-exception-caught
        pytest.fail(f"the probe image is not built (tests/testbed/images.sh probe): {exc}")
