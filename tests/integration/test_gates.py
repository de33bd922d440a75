# -*- coding: utf-8 -*-
"""Issue 12: the gates run from inside the cluster, and a failed gate rolls its stage back (faults on the lab).

The playbooks run against inventories/local; a fault is a temporary inventory that is the local one plus one file of
bad values in group_vars/control (those win over playbooks/group_vars/all, as an environment's own values do).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils import release_store

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ALIAS = "microsoft.intra.aibang.local"
GCP_FAKE = "http://127.0.0.1:18443"  # the testbed's GCP fake, as inventories/local reaches it


def playbook_command(name: str, *extra: str, inventory: str | None = None) -> tuple:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0"}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
               inventory or os.path.join(REPO, "inventories", "local"), os.path.join(REPO, "playbooks", name), *extra]
    return command, env


def playbook(name: str, *extra: str, inventory: str | None = None) -> subprocess.CompletedProcess:
    command, env = playbook_command(name, *extra, inventory=inventory)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    print(done.stdout[-6000:], done.stderr[-2000:])
    return done


def faulty_inventory(tmp_path, values: dict) -> str:
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.join(REPO, "inventories", "local"), inventory)
    (inventory / "group_vars" / "control" / "fault.yml").write_text(yaml.safe_dump(values), encoding="utf-8")
    return str(inventory)


def failure_message(done: subprocess.CompletedProcess) -> str:
    """The msg of the task that failed the play (the last 'fatal:' line's JSON)."""
    fatal = [line for line in done.stdout.splitlines() if line.startswith("fatal:")]
    assert fatal, done.stdout[-3000:]
    return json.loads(fatal[-1].split("=> ", 1)[1])["msg"]


def objects(testbed, kind: str, namespace: str, *selector: str) -> dict:
    """name -> what a release restores (spec or data, labels, annotations but the controller's revision)."""
    found = json.loads(testbed.kubectl("get", kind, "-n", namespace, *selector, "-o", "json").stdout)["items"]
    result = {}
    for item in found:
        annotations = dict(item["metadata"].get("annotations") or {})
        annotations.pop("deployment.kubernetes.io/revision", None)
        result[item["metadata"]["name"]] = json.dumps({"spec": item.get("spec"), "data": item.get("data"),
                                                       "labels": item["metadata"].get("labels"), "annotations": annotations},
                                                      sort_keys=True)
    return result


def corefile(testbed) -> str:
    return json.loads(testbed.kubectl("get", "configmap", "coredns", "-n", "kube-system", "-o", "json").stdout)["data"]["Corefile"]


def test_prod_refuses_to_skip_the_in_cluster_gates():
    done = playbook("deploy.yml", "--check", "-e", "platform_environment=prod", "-e", "egress_verify=false")
    assert done.returncode != 0
    assert "egress_verify is false, but prod is prod" in done.stdout and "Nothing was changed" in done.stdout


@pytest.fixture(name="egress", scope="module")
def fixture_egress(testbed):
    """The egress stages deployed on the lab (tier 2, tier 1, the alias), each through its gate."""
    done = playbook("deploy.yml", "--tags", "egress")
    assert done.returncode == 0, done.stdout[-5000:]
    return done


def test_verify_checks_the_chain_from_a_pod_through_the_alias(testbed, egress):
    """deploy --tags egress ends with verify's end-to-end play (tagged egress too)."""
    assert "Gate: each alias answers like its target" in egress.stdout
    pod_lines = [line for line in egress.stdout.splitlines() if " from pod 10.244.128." in line]
    assert any("ALLOWED CONNECT login.microsoftonline.com:443" in line and "proxy 200" in line for line in pod_lines), pod_lines
    assert any("DENIED  CONNECT example.org:443" in line and "proxy 403" in line for line in pod_lines), pod_lines
    assert any("DENIED  CONNECT loopback.microsoft.com:443" in line for line in pod_lines), pod_lines
    assert not testbed.kubectl("get", "jobs", "-n", "egress-verify", "-o", "name").stdout.strip()  # the probe is gone


def test_a_tier1_rollout_that_never_becomes_ready_is_rolled_back(testbed, egress, tmp_path):
    before = {kind: objects(testbed, kind, "intra-proxy", "-l", "app.kubernetes.io/name=squid-proxy")
              for kind in ("deployment", "configmap", "service", "networkpolicy")}
    # every new pod asks for more CPU than any node has: the rollout never completes
    inventory = faulty_inventory(tmp_path, {"squid_gke_resources": {"requests": {"cpu": "500", "memory": "128Mi"}},
                                            "squid_gke_rollout_timeout": 20})
    done = playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    assert done.returncode != 0
    message = failure_message(done)
    assert message.startswith("Stage squid_gke failed its gate (every replica of the tier-1 Deployment rolled out and ready)"), message
    assert "Rolled back automatically: restored Deployment intra-proxy/squid-proxy" in message, message
    assert "the gate passes again" in message
    after = {kind: objects(testbed, kind, "intra-proxy", "-l", "app.kubernetes.io/name=squid-proxy") for kind in before}
    assert after == before
    record = json.loads(testbed.kubectl("get", "configmap", "aibang-gke-platform-release", "-n", "kube-system", "-o", "json").stdout)
    assert "squid_gke" in json.loads(record["data"]["failed"]) and "squid_gke" in json.loads(record["data"]["restored"])
    verified = playbook("verify.yml")
    assert verified.returncode == 0, verified.stdout[-4000:]


def test_a_dns_alias_change_that_breaks_resolution_is_rolled_back(testbed, egress, tmp_path):
    before = corefile(testbed)
    inventory = faulty_inventory(tmp_path, {"cluster_dns_aliases": {ALIAS: "nothing-here.intra-proxy.svc.cluster.local"},
                                            "cluster_dns_verify_timeout": 10})
    done = playbook("deploy.yml", "--tags", "cluster_dns", inventory=inventory)
    assert done.returncode != 0
    message = failure_message(done)
    assert message.startswith("Stage cluster_dns failed its gate (from a pod in the cluster, each alias answers like its target)"), message
    assert "the target nothing-here.intra-proxy.svc.cluster.local does not resolve from the probe pod" in message, message
    assert "Rolled back automatically: restored ConfigMap kube-system/coredns" in message, message
    assert corefile(testbed) == before  # and the DNS gate passed again on it (the message says so)


def releases(testbed) -> dict:
    """number -> the release Secret (its labels and annotations), from kube-system."""
    found = json.loads(testbed.kubectl("get", "secrets", "-n", "kube-system", "-l", "aibang.io/owner=aibang-gke-platform",
                                       "-o", "json").stdout)["items"]
    return {int(item["metadata"]["labels"]["aibang.io/release"]): item for item in found}


def test_a_changing_deploy_keeps_a_release_and_rollback_restores_a_chosen_one(testbed, egress, tmp_path):
    three = playbook("deploy.yml", "--tags", "squid_gke", inventory=faulty_inventory(tmp_path, {"squid_gke_replicas": 3}))
    assert three.returncode == 0, three.stdout[-4000:]
    assert "RELEASE  STATE" in three.stdout
    kept = releases(testbed)
    chosen = max(kept)
    assert kept[chosen]["metadata"]["labels"]["aibang.io/state"] == "success"
    assert len(kept[chosen]["metadata"]["annotations"]["aibang.io/sha256"]) == 64
    as_chosen_left_it = objects(testbed, "deployment", "intra-proxy", "squid-proxy")

    two = playbook("deploy.yml", "--tags", "squid_gke")
    assert two.returncode == 0, two.stdout[-4000:]
    assert max(releases(testbed)) == chosen + 1
    assert objects(testbed, "deployment", "intra-proxy", "squid-proxy") != as_chosen_left_it

    rolled = playbook("rollback.yml", "-e", f"release={chosen}")
    assert rolled.returncode == 0, rolled.stdout[-4000:]
    assert f"Restoring release {chosen} (success" in rolled.stdout
    assert "squid_gke: restored Deployment intra-proxy/squid-proxy" in rolled.stdout
    assert objects(testbed, "deployment", "intra-proxy", "squid-proxy") == as_chosen_left_it


def test_rollback_to_a_tampered_snapshot_is_refused(testbed, egress):
    kept = releases(testbed)
    number = max(kept)
    name, sha256 = kept[number]["metadata"]["name"], kept[number]["metadata"]["annotations"]["aibang.io/sha256"]
    before = objects(testbed, "deployment", "intra-proxy", "squid-proxy")
    testbed.kubectl("annotate", "secret", "-n", "kube-system", name, "--overwrite", f"aibang.io/sha256={'0' * 64}")
    try:
        done = playbook("rollback.yml", "-e", f"release={number}")
        assert done.returncode != 0
        assert f"release Secret aibang-release.v{number} was modified: its content's sha256 is" in failure_message(done)
        assert objects(testbed, "deployment", "intra-proxy", "squid-proxy") == before
    finally:
        testbed.kubectl("annotate", "secret", "-n", "kube-system", name, "--overwrite", f"aibang.io/sha256={sha256}")


def wait_for(condition, timeout: float, what: str):
    """Poll ``condition`` (a callable) every second until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_deploy_killed_halfway_then_run_again_converges_and_keeps_the_history_readable(testbed, egress, tmp_path):
    """Kill -9 the play while tier 1 rolls out a change; the re-run finishes the change; every release still reads."""
    history_before = releases(testbed)
    inventory = faulty_inventory(tmp_path, {"squid_gke_replicas": 3})
    command, env = playbook_command("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    with subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True) as running:
        try:
            wait_for(lambda: json.loads(testbed.kubectl("get", "deployment", "squid-proxy", "-n", "intra-proxy", "-o", "json")
                                        .stdout)["spec"]["replicas"] == 3, 180, "the play to apply three replicas")
        finally:
            os.killpg(running.pid, signal.SIGKILL)
            running.wait(timeout=30)
    assert running.returncode == -signal.SIGKILL

    again = playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    assert again.returncode == 0, again.stdout[-4000:]
    deployment = json.loads(testbed.kubectl("get", "deployment", "squid-proxy", "-n", "intra-proxy", "-o", "json").stdout)
    assert deployment["status"].get("readyReplicas") == 3 and deployment["status"].get("updatedReplicas") == 3
    history_after = releases(testbed)
    assert set(history_before) <= set(history_after)
    for number, stored in history_after.items():  # every release decodes against its sha256, numbers are unique
        assert release_store.read(stored)["number"] == number
    assert playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory).returncode == 0
    assert releases(testbed).keys() == history_after.keys()  # converged: a third run changes nothing, keeps no release


def fake(path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{GCP_FAKE}{path}", data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def test_a_google_api_500_mid_deploy_then_a_rerun_converges(testbed):
    """Every attempt (the client's retries included) of the first forwarding-rule call (the PSC endpoint: read, or
    created on a fresh lab) answers 500: the play fails naming it; run again, it converges; a third run sends Google no
    change."""
    fake("/_fake/faults", {"method": "*", "path_contains": "/forwardingRules", "status": 500, "times": 7,
                           "message": "injected backend error"})
    failed = playbook("deploy.yml", "--tags", "gcp")
    assert failed.returncode != 0
    assert "injected backend error" in failed.stdout or "500" in failure_message(failed), failure_message(failed)
    again = playbook("deploy.yml", "--tags", "gcp")
    assert again.returncode == 0, again.stdout[-4000:]
    mutations = len([call for call in fake("/_fake/requests") if call["mutating"] and call["status"] == 200])
    third = playbook("deploy.yml", "--tags", "gcp")
    assert third.returncode == 0, third.stdout[-4000:]
    assert len([call for call in fake("/_fake/requests") if call["mutating"] and call["status"] == 200]) == mutations
