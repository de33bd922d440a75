# -*- coding: utf-8 -*-
"""Issue 12: the gates run from inside the cluster, and a failed gate rolls its stage back (faults on the lab).

The playbooks run against inventories/local with Ansible's JSON callback, so a test reads each task's result (a
message is never cut across output lines). A fault is a temporary inventory: the local one plus one file of bad values
in group_vars/control, read after the others there (those win over playbooks/group_vars/all, as an environment's own
values do). The fault tests
share one deployed chain (module scope) and run in file order; the killed deploy leaves tier 1 at three replicas (the
next egress deploy puts the inventory's two back). The tests of the apps share the Cloud SQL stand-in (MariaDB
at the PSC endpoint) and deploy their own app namespaces.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils import release_store
from tests.testbed import cloudsql_lab, cluster, node

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ALIAS = "microsoft.intra.aibang.local"
GCP_FAKE = "http://127.0.0.1:18443"  # the testbed's GCP fake, as inventories/local reaches it
POD_RANGE = ipaddress.ip_network("10.244.128.0/24")  # the real nodes' pods (inventories/local)
TIER1 = ("intra-proxy", "app.kubernetes.io/name=squid-proxy")


@dataclass
class Run:
    """A finished ansible-playbook run: its return code and every task result, in order."""

    returncode: int
    results: list  # (task name, task file:line, host, result)
    stderr: str
    output: str  # the JSON report as printed

    def task(self, name: str, path: str = "") -> list:
        """The results of the task called ``name`` (in a role: "<role> : name"), from a file whose path has ``path``."""
        return [result for task, where, _host, result in self.results
                if (task == name or task.endswith(f" : {name}")) and path in where]

    def failure_message(self) -> str:
        """The msg of the last failed task: the one that failed the play (rescued failures come before it)."""
        failed = [result for _task, _where, _host, result in self.results if result.get("failed")]
        assert failed, self.summary()
        return str(failed[-1].get("msg"))

    def messages(self) -> list:
        """Every msg the run printed, loop items included."""
        found = []
        for _task, _where, _host, result in self.results:
            found += [str(item.get("msg")) for item in [result, *result.get("results", [])] if isinstance(item, dict) and "msg" in item]
        return found

    def summary(self) -> str:
        """One line per task (what failed or was shown, with its message), for a failing test's report."""
        lines = [f"rc={self.returncode}"]
        for task, _where, host, result in self.results:
            state = "FAILED" if result.get("failed") else "changed" if result.get("changed") else "skipped" if result.get("skipped") else "ok"
            said = [str(item.get("msg")) for item in result.get("results", []) if isinstance(item, dict) and "msg" in item] or [str(result.get("msg", ""))]
            lines.append(f"{state:8} {host} | {task}" + (f": {' | '.join(said)[:900]}" if state == "FAILED" or "Show " in task else ""))
        return "\n".join(lines[-80:]) + "\n" + self.stderr[-2000:]


def playbook_command(name: str, *extra: str, inventory: str | None = None) -> tuple:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
               inventory or os.path.join(REPO, "inventories", "local"), os.path.join(REPO, "playbooks", name), *extra]
    return command, env


def playbook(name: str, *extra: str, inventory: str | None = None) -> Run:
    command, env = playbook_command(name, *extra, inventory=inventory)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {"plays": []}
    results = [(task["task"]["name"], task["task"].get("path", ""), host, result) for play in report["plays"]
               for task in play["tasks"] for host, result in task["hosts"].items()]
    run = Run(done.returncode, results, done.stderr if report["plays"] else done.stdout + done.stderr, done.stdout)
    print(f"ansible-playbook {name} {' '.join(extra)}\n{run.summary()}")
    return run


def faulty_inventory(tmp_path, values: dict, name: str = "inventory") -> str:
    inventory = tmp_path / name
    shutil.copytree(os.path.join(REPO, "inventories", "local"), inventory)
    (inventory / "group_vars" / "control" / "zz-fault.yml").write_text(yaml.safe_dump(values), encoding="utf-8")
    return str(inventory)


def objects(testbed, kind: str, namespace: str, *selector: str) -> dict:
    """name -> what a release restores (spec or data, labels, annotations but the controller's revision), as JSON."""
    found = json.loads(testbed.kubectl("get", kind, "-n", namespace, *selector, "-o", "json").stdout)
    result = {}
    for item in found.get("items", [found]):
        annotations = dict(item["metadata"].get("annotations") or {})
        annotations.pop("deployment.kubernetes.io/revision", None)
        result[item["metadata"]["name"]] = json.dumps({"spec": item.get("spec"), "data": item.get("data"),
                                                       "labels": item["metadata"].get("labels"), "annotations": annotations},
                                                      sort_keys=True)
    return result


def tier1(testbed) -> dict:
    """Every object of tier 1 (by kind), as objects() reads them."""
    namespace, selector = TIER1
    return {kind: objects(testbed, kind, namespace, "-l", selector)
            for kind in ("deployment", "configmap", "service", "networkpolicy", "poddisruptionbudget")}


def deployment(testbed) -> dict:
    return json.loads(testbed.kubectl("get", "deployment", "squid-proxy", "-n", "intra-proxy", "-o", "json").stdout)


def corefile(testbed) -> str:
    return json.loads(testbed.kubectl("get", "configmap", "coredns", "-n", "kube-system", "-o", "json").stdout)["data"]["Corefile"]


def releases(testbed) -> dict:
    """number -> the release Secret as the API returns it, from kube-system."""
    found = json.loads(testbed.kubectl("get", "secrets", "-n", "kube-system", "-l", "aibang.io/owner=aibang-gke-platform",
                                       "-o", "json").stdout)["items"]
    return {int(item["metadata"]["labels"]["aibang.io/release"]): item for item in found}


def release_record(testbed) -> dict:
    data = json.loads(testbed.kubectl("get", "configmap", "aibang-gke-platform-release", "-n", "kube-system", "-o", "json").stdout)["data"]
    return {name: json.loads(data[name]) for name in ("changed", "failed", "restored")}


def chain_results(run: Run) -> list:
    """Per request the probe pod sent through the alias: what the chain did and what the policy says."""
    checked = run.task("Compare each answer with the policy's decision for the whole chain")
    assert checked and not checked[-1].get("failed"), run.summary()
    return checked[-1]["results"]


def assert_chain_works(run: Run):
    """The end-to-end check ran from a pod in the pod range and agreed with the policy on every request."""
    answers = {(item["request"]["host"], item["request"]["port"]): item for item in chain_results(run)}
    assert all(ipaddress.ip_address(item["client"]) in POD_RANGE for item in answers.values()), answers
    assert answers[("login.microsoftonline.com", 443)]["allowed"] and answers[("login.microsoftonline.com", 443)]["proxy_status"] == 200
    assert not answers[("example.org", 443)]["allowed"] and answers[("example.org", 443)]["proxy_status"] == 403
    assert not answers[("loopback.microsoft.com", 443)]["allowed"]  # an allowed name resolving to loopback: the guard
    assert all(item["allowed"] == item["expected"] for item in answers.values()), answers


def test_prod_refuses_to_skip_the_in_cluster_gates():
    done = playbook("deploy.yml", "--check", "-e", "platform_environment=prod", "-e", "egress_verify=false")
    assert done.returncode != 0
    message = done.failure_message()
    assert "egress_verify is false, but prod is prod" in message and "Nothing was changed" in message, message


@pytest.fixture(name="egress", scope="module")
def fixture_egress(testbed):
    """The egress stages deployed on the lab (tier 2, tier 1, the alias), each through its gate."""
    done = playbook("deploy.yml", "--tags", "egress")
    assert done.returncode == 0, done.summary()
    return done


def test_verify_checks_the_chain_from_a_pod_through_the_alias(testbed, egress):
    """deploy --tags egress ends with verify's end-to-end play (tagged egress too), run from a probe Job."""
    gate = egress.task("Gate: each alias answers like its target", "cluster_dns/tasks/gate.yml")
    assert gate and not gate[-1].get("failed") and not gate[-1].get("skipped"), egress.summary()  # the DNS gate ran, passed
    assert_chain_works(egress)
    assert not testbed.kubectl("get", "jobs", "-n", "egress-verify", "-o", "name").stdout.strip()  # the probe is gone


def test_diagnose_walks_the_egress_path_from_a_pod(testbed, egress):
    """diagnose.yml reports the layers a probe pod walks (pod-dns, pod-proxy, chain) among the others, all OK here."""
    done = playbook("diagnose.yml", "--tags", "egress")
    assert done.returncode == 0, done.summary()
    shown = done.task("Show the layers")
    layers = {item["item"]["layer"]: item["item"] for item in shown[-1]["results"]}
    assert {"pod-dns", "pod-proxy", "chain"} <= set(layers), sorted(layers)
    assert all(layer["ok"] for layer in layers.values()), layers
    assert "answered 6 of 6 requests" in layers["pod-proxy"]["detail"], layers["pod-proxy"]


def test_a_tier1_rollout_that_never_becomes_ready_is_rolled_back(testbed, egress, tmp_path):
    before = tier1(testbed)
    # every new pod asks for more CPU than any node has: it stays Pending, the rollout never completes (a fault that
    # needs no registry: an image nobody built would make the lab's containerd try to pull it)
    inventory = faulty_inventory(tmp_path, {"squid_gke_resources": {"requests": {"cpu": "500", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                                            "squid_gke_rollout_timeout": 20})
    done = playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    assert done.returncode != 0
    message = done.failure_message()
    assert message.startswith("Stage squid_gke failed its gate (every replica of the tier-1 Deployment rolled out and ready)"), message
    assert "Rolled back automatically: restored Deployment intra-proxy/squid-proxy" in message, message
    assert "the gate passes again" in message, message
    assert tier1(testbed) == before  # Deployment, ConfigMaps, Service, NetworkPolicy, PDB byte-identical
    status = deployment(testbed)["status"]
    assert status.get("readyReplicas") == status.get("updatedReplicas") == status.get("replicas") == 2, status
    record = release_record(testbed)
    assert "squid_gke" in record["failed"] and "squid_gke" in record["restored"], record
    newest = release_store.read(releases(testbed)[max(releases(testbed))])
    assert newest["state"] == "rolled_back" and "squid_gke" in newest["stages"], newest["state"]
    verified = playbook("verify.yml")
    assert verified.returncode == 0, verified.summary()
    assert_chain_works(verified)


def test_a_dns_alias_change_that_breaks_resolution_is_rolled_back(testbed, egress, tmp_path):
    before_corefile = corefile(testbed)
    before = objects(testbed, "configmap", "kube-system", "coredns")
    inventory = faulty_inventory(tmp_path, {"cluster_dns_aliases": {ALIAS: "nothing-here.intra-proxy.svc.cluster.local"},
                                            "cluster_dns_verify_timeout": 15})
    done = playbook("deploy.yml", "--tags", "cluster_dns", inventory=inventory)
    assert done.returncode != 0
    message = done.failure_message()
    assert message.startswith("Stage cluster_dns failed its gate (from a pod in the cluster, each alias answers like its target)"), message
    assert "nothing-here.intra-proxy.svc.cluster.local" in message, message
    assert "Rolled back automatically: restored ConfigMap kube-system/coredns" in message, message
    assert "the gate passes again" in message, message
    assert corefile(testbed) == before_corefile  # byte for byte
    assert objects(testbed, "configmap", "kube-system", "coredns") == before
    # the gate ran again on the restored Corefile from a pod, and passed: the alias answers like its Service
    regate = [result for result in done.task("Gate: each alias answers like its target", "cluster_dns/tasks/gate.yml")
              if not result.get("skipped")]
    assert len(regate) == 2 and regate[0].get("failed") and not regate[1].get("failed"), regate


def wait_for(condition, timeout: float, what: str):
    """Poll ``condition`` (a callable) every second until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _descendants(pid: int) -> list:
    """Every process below ``pid``: ansible-playbook's workers call setsid(), so killing its process group misses them."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _kill_play(pid: int) -> None:
    """kill -9 the play and everything it started, as when the controller dies."""
    for each in [pid, *_descendants(pid)]:
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_deploy_killed_halfway_then_run_again_converges_and_keeps_the_history_readable(testbed, egress, tmp_path):
    """kill -9 the play while tier 1 rolls out a change (a third replica); the re-run finishes the change; every release
    still reads against its sha256; a third run changes nothing and keeps no release."""
    history_before = releases(testbed)
    inventory = faulty_inventory(tmp_path, {"squid_gke_replicas": 3})
    command, env = playbook_command("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    with subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True) as running:
        try:
            wait_for(lambda: deployment(testbed)["spec"]["replicas"] == 3, 180, "the play to apply three replicas")
        finally:
            _kill_play(running.pid)
            running.wait(timeout=30)
    assert running.returncode == -signal.SIGKILL

    again = playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    assert again.returncode == 0, again.summary()
    status = deployment(testbed)["status"]
    assert status.get("readyReplicas") == status.get("updatedReplicas") == 3, status
    history_after = releases(testbed)
    assert set(history_before) <= set(history_after)
    for number, stored in history_after.items():  # every release decodes against its sha256, numbers are unique
        assert release_store.read(stored)["number"] == number
    third = playbook("deploy.yml", "--tags", "squid_gke", inventory=inventory)
    assert third.returncode == 0, third.summary()
    assert not [task for task, _where, _host, result in third.results if result.get("changed")], third.summary()
    assert releases(testbed).keys() == history_after.keys()  # converged: nothing changed, no release kept


def test_a_release_a_killed_run_left_running_is_marked_interrupted_by_the_next_run(testbed, egress):
    """What a run killed after writing its release leaves (the killed-deploy test above kills before its run wrote
    one): a release of its own, valid against its sha256, still running. The next run marks it interrupted and says so."""
    history = releases(testbed)
    newest = release_store.read(history[max(history)])
    left = {**newest, "number": newest["number"] + 1, "run": f"{newest['run']}-killed", "state": "running"}
    testbed.kubectl("apply", "-f", "-", stdin=json.dumps(release_store.secret(left, "kube-system")))
    done = playbook("deploy.yml", "--tags", "squid_gke")
    assert done.returncode == 0, done.summary()
    said = " ".join(done.messages())
    assert f"Release {left['number']} (deploy run {left['run']}) was still running" in said and "marked interrupted" in said, said
    assert release_store.read(releases(testbed)[left["number"]]) == {**left, "state": "interrupted"}
    assert not [number for number, stored in releases(testbed).items() if stored["metadata"]["labels"]["aibang.io/state"] == "running"]


def test_a_changing_deploy_keeps_a_release_and_rollback_restores_a_chosen_one(testbed, egress, tmp_path):
    """Tier 1 at two replicas (the local inventory); three -> release N, a change of replicas alone that the release
    record names; rollback.yml puts the two replicas' objects back; rollback.yml -e release=N puts N's back."""
    two = playbook("deploy.yml", "--tags", "squid_gke")
    assert two.returncode == 0, two.summary()
    assert any("RELEASE  STATE" in message for message in two.messages()), two.summary()  # the history, as a table
    before_three = max(releases(testbed))
    as_two_left_it = tier1(testbed)

    three = playbook("deploy.yml", "--tags", "squid_gke", inventory=faulty_inventory(tmp_path, {"squid_gke_replicas": 3}))
    assert three.returncode == 0, three.summary()
    kept = releases(testbed)
    chosen = max(kept)
    assert chosen == before_three + 1
    assert kept[chosen]["metadata"]["labels"]["aibang.io/state"] == "success"
    assert len(kept[chosen]["metadata"]["annotations"]["aibang.io/sha256"]) == 64
    assert release_record(testbed)["changed"] == ["squid_gke"]  # replicas alone are a change rollback.yml must know
    as_three_left_it = tier1(testbed)
    assert as_three_left_it != as_two_left_it

    undone = playbook("rollback.yml")
    assert undone.returncode == 0, undone.summary()
    said = " ".join(undone.messages())
    assert "Rolling back squid_gke (changed by deploy run" in said, said
    assert "squid_gke: restored Deployment intra-proxy/squid-proxy" in said, said
    assert tier1(testbed) == as_two_left_it
    assert "Nothing to roll back" in " ".join(playbook("rollback.yml").messages())  # a second one in a row

    rolled = playbook("rollback.yml", "-e", f"release={chosen}")
    assert rolled.returncode == 0, rolled.summary()
    said = " ".join(rolled.messages())
    assert f"Restoring release {chosen} (success" in said, said
    assert "squid_gke: restored Deployment intra-proxy/squid-proxy" in said, said
    assert tier1(testbed) == as_three_left_it
    status = deployment(testbed)["status"]
    assert status.get("readyReplicas") == status.get("updatedReplicas") == status.get("replicas") == 3, status


def test_rollback_to_a_tampered_snapshot_is_refused(testbed, egress):
    """Release content changed in the Secret (its sha256 annotation kept): rollback.yml refuses it, nothing changes."""
    kept = releases(testbed)
    number = min(kept)
    name, payload = kept[number]["metadata"]["name"], kept[number]["data"]["release"]
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(payload))))
    release["run"] += "-tampered"
    forged = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(release).encode(), mtime=0))).decode()
    before = tier1(testbed)
    testbed.kubectl("patch", "secret", "-n", "kube-system", name, "--type", "merge", "-p", json.dumps({"data": {"release": forged}}))
    try:
        done = playbook("rollback.yml", "-e", f"release={number}")
        assert done.returncode != 0
        message = done.failure_message()
        assert f"release Secret {name} was modified: its content's sha256 is" in message and "refusing it" in message, message
        assert tier1(testbed) == before
    finally:
        testbed.kubectl("patch", "secret", "-n", "kube-system", name, "--type", "merge", "-p", json.dumps({"data": {"release": payload}}))


def fake(path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{GCP_FAKE}{path}", data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def test_rollback_puts_the_previous_tier2_config_back(testbed, egress, tmp_path):
    """A deploy of a policy that also allows example.org (its verify skipped, as an unreviewed release reaching deploy)
    changes both tiers; rollback.yml, naming no release, puts tier 2's previous squid.conf back and tier 1's objects,
    rolled out. AWX's rollback node found this path failing: squid_vm's rollback waited for a port from a policy it
    never compiled. In file order tier 1 comes here at three replicas (rollback -e release=N above), one per real node:
    its restore is a rollout at as many replicas as nodes, which never completed while the strategy wanted a surge pod
    before taking one down (the required anti-affinity left that pod no node)."""
    conf = os.path.join(os.environ.get("TESTBED_RUN_DIR", "/run/aibang-testbed"), "squid-vm.conf")
    with open(conf, encoding="utf-8") as running:
        before = running.read()
    tier1_before = tier1(testbed)
    replicas_before = deployment(testbed)["spec"]["replicas"]
    with open(os.path.join(REPO, "inventories", "local", "group_vars", "all", "egress.yml"), encoding="utf-8") as local:
        policy = yaml.safe_load(local)["egress_policy"]
    extra = tmp_path / "policy.json"
    extra.write_text(json.dumps({"egress_policy": {**policy, "allowed_domains": [*policy["allowed_domains"], "example.org"]}}),
                     encoding="utf-8")
    changed = playbook("deploy.yml", "--tags", "egress", "--skip-tags", "verify", "-e", f"@{extra}")
    assert changed.returncode == 0, changed.summary()
    with open(conf, encoding="utf-8") as running:
        assert "example.org" in running.read()

    rolled = playbook("rollback.yml")
    assert rolled.returncode == 0, rolled.summary()
    with open(conf, encoding="utf-8") as running:
        assert running.read() == before
    status = deployment(testbed)["status"]
    assert status.get("readyReplicas") == status.get("updatedReplicas") == status.get("replicas") == replicas_before, status
    assert tier1(testbed) == tier1_before


def test_a_google_api_500_mid_deploy_then_a_rerun_converges(testbed):
    """Every attempt (the client's retries included) of the first forwarding-rule call (the PSC endpoint: read, or
    created on a fresh lab) answers 500: the play fails naming it; run again, it converges; a third run sends Google no
    change."""
    fake("/_fake/faults", {"method": "*", "path_contains": "/forwardingRules", "status": 500, "times": 7,
                           "message": "injected backend error"})
    failed = playbook("deploy.yml", "--tags", "gcp")
    assert failed.returncode != 0
    message = failed.failure_message()
    assert "injected backend error" in failed.output or "500" in message, message
    again = playbook("deploy.yml", "--tags", "gcp")
    assert again.returncode == 0, again.summary()
    mutations = len([call for call in fake("/_fake/requests") if call["mutating"] and call["status"] == 200])
    third = playbook("deploy.yml", "--tags", "gcp")
    assert third.returncode == 0, third.summary()
    assert len([call for call in fake("/_fake/requests") if call["mutating"] and call["status"] == 200]) == mutations


# The Google service account app_workload binds the apps' KSAs to (iam.gke.io/gcp-service-account), and the lab's
# Workload Identity pool, which the metadata server stand-in names for a KSA bound to none (tests/testbed/cluster.py).
APP_GSA = "app-db-client@aibang-local-consumer.iam.gserviceaccount.com"


def app_as_deployed(name: str, namespace: str, endpoint: dict, password: str, gsa: str | None = APP_GSA) -> list:
    """What diagnose reads of an app: a Deployment (no replica needed) whose container takes its database settings
    from a ConfigMap and a Secret, as app_workload renders them, and the app's Kubernetes service account, bound to
    ``gsa`` by its annotation (None: not annotated)."""
    user, _host, _password = endpoint["users"][0]
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "app", "aibang.io/app": name,
              "app.kubernetes.io/managed-by": "aibang.gke_platform"}
    annotations = {"iam.gke.io/gcp-service-account": gsa} if gsa is not None else {}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": namespace, "annotations": annotations}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-db", "namespace": namespace},
         "data": {"DB_HOST": endpoint["address"], "DB_PORT": "3306", "DB_NAME": endpoint["databases"][0], "DB_USER": user}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-db", "namespace": namespace},
         "stringData": {"DB_PASSWORD": password}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace, "labels": labels},
         "spec": {"replicas": 0, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": "app", "containers": [{
                                   "name": "app", "image": "aibang-testbed.local/app:1",
                                   "envFrom": [{"configMapRef": {"name": f"{name}-db"}}, {"secretRef": {"name": f"{name}-db"}}]}]}}}},
    ]


def app_layers(run: Run, app: str) -> list:
    shown = run.task("Show the layers")
    return [item["item"] for item in shown[-1]["results"] if item["item"].get("app") == app]


@pytest.fixture(name="database", scope="module")
def fixture_database(testbed):
    """MariaDB stands for Cloud SQL at the PSC endpoint (tests/testbed/cloudsql_lab.py), with the users the deploy
    created through the API; returns the endpoint (address, databases, users)."""
    if not cloudsql_lab.endpoints(cloudsql_lab.fake_resources()):  # the Google API test before made the endpoint
        deployed = playbook("deploy.yml", "--tags", "gcp")
        assert deployed.returncode == 0, deployed.summary()
    started = subprocess.run([sys.executable, "-m", "tests.testbed.cloudsql_lab", "up"], cwd=REPO, capture_output=True,
                             text=True, timeout=180, check=False)
    assert started.returncode == 0, started.stdout + started.stderr
    return cloudsql_lab.endpoints(cloudsql_lab.fake_resources())[0]


def test_diagnose_walks_an_apps_database_path_from_a_pod_that_runs_as_the_app(testbed, egress, database, namespace):
    """With the app's Secret right, diagnose logs in over TLS as the app and gets the Google service account its KSA
    is bound to from the metadata server (the lab's stand-in); with the Secret wrong, it stops at db-auth and says
    what to fix."""
    endpoint = database
    right = endpoint["users"][0][2]
    testbed.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                          "items": app_as_deployed("it-db", namespace, endpoint, right)}))
    healthy = playbook("diagnose.yml", "--tags", "apps")
    layers = app_layers(healthy, "it-db")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [
        ("db-dns", True), ("db-tcp", True), ("db-auth", True), ("workload-identity", True)], layers
    assert layers[1]["detail"] == f"connected to {endpoint['address']}:3306 (the PSC endpoint)"
    assert layers[2]["detail"] == f"user {endpoint['users'][0][0]} logged in to {endpoint['databases'][0]} over TLS with the app's Secret"
    assert layers[3]["detail"] == f"the pod of service account {namespace}/app gets tokens as {APP_GSA}"
    assert not testbed.kubectl("get", "jobs,networkpolicies", "-n", namespace, "-o", "name").stdout.strip()  # the probe is gone

    testbed.kubectl("apply", "-f", "-", stdin=json.dumps(app_as_deployed("it-db", namespace, endpoint, "not-the-password")[2]))
    broken = playbook("diagnose.yml", "--tags", "apps")
    assert broken.returncode != 0
    layers = app_layers(broken, "it-db")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [("db-dns", True), ("db-tcp", True), ("db-auth", False)], layers
    assert "Access denied for user" in layers[2]["detail"], layers[2]
    assert "does not match the Cloud SQL user's password" in layers[2]["detail"], layers[2]
    assert "db-auth" in broken.failure_message()


def test_diagnose_names_workload_identity_for_an_app_whose_ksa_is_bound_to_no_google_service_account(
        testbed, egress, database, namespace):
    """The app's KSA without iam.gke.io/gcp-service-account: the metadata server (the lab's stand-in, answering as
    GKE's does) gives its pod the cluster's Workload Identity pool, not a Google service account; diagnose walks the
    database path to workload-identity and names it broken, with the annotation and the IAM binding to add."""
    endpoint = database
    deadline = time.monotonic() + 90  # the test before left it-db broken at db-auth: diagnose would name it first
    while testbed.kubectl("get", "deployments", "-A", "-l", "aibang.io/app=it-db", "-o", "name").stdout.strip():
        assert time.monotonic() < deadline, "it-db's namespace is still being deleted"
        time.sleep(2)
    testbed.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": app_as_deployed(
        "it-wi", namespace, endpoint, endpoint["users"][0][2], gsa=None)}))
    broken = playbook("diagnose.yml", "--tags", "apps")
    assert broken.returncode != 0
    layers = app_layers(broken, "it-wi")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [
        ("db-dns", True), ("db-tcp", True), ("db-auth", True), ("workload-identity", False)], layers
    detail = layers[3]["detail"]
    assert detail.startswith(f"the pod of service account {namespace}/app is {cluster.WORKLOAD_POOL} (token: HTTP 200). "), detail
    assert "Hint: annotate the Kubernetes service account with iam.gke.io/gcp-service-account" in detail, detail
    assert "roles/iam.workloadIdentityUser" in detail, detail
    assert f"First broken layer: it-wi workload-identity - the pod of service account {namespace}/app" in broken.failure_message()


REDIS_PASSWORD = "lab-redis-not-a-secret"
ON_REAL_NODES = {"nodeSelector": {node.REAL_NODE_LABEL: "true"},
                 "tolerations": [{"key": node.REAL_NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}]}


def app_with_a_cache(tmp_path, name: str, namespace: str, endpoint: dict, redis_image: str, wait_timeout: int) -> str:
    """An inventory that deploys one app with Redis (app_workload's StatefulSet) on the real nodes, its database the
    Cloud SQL stand-in (a --tags apps run has no gcp stage to hand the apps the endpoint's address)."""
    return faulty_inventory(tmp_path, {
        "apps": [{"name": "it-cache", "namespace": namespace, "image": cluster.image("app"), "port": 8080,
                  "hpa": {"enabled": False}, "redis": {"image": redis_image}, "scheduling": ON_REAL_NODES}],
        "app_workload_db_ip": endpoint["address"], "vault_redis_password": REDIS_PASSWORD,
        "app_workload_wait_timeout": wait_timeout}, name)


def redis_volume(testbed, namespace: str, directory: str) -> str:
    """A volume Redis's user (999) can write, bound ahead to the claim its StatefulSet makes: on GKE a persistent disk
    takes the pod's fsGroup, a hostPath volume (the lab's) does not. Returns the PersistentVolume's name."""
    name, claim = f"{namespace}-redis", "data-it-cache-redis-0"
    os.makedirs(directory)
    os.chmod(directory, 0o777)
    testbed.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
         "spec": {"storageClassName": "standard-rwo", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                  "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": directory},
                  "claimRef": {"namespace": namespace, "name": claim}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim, "namespace": namespace},
         "spec": {"storageClassName": "standard-rwo", "volumeName": name, "accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "1Gi"}}}}]}))
    return name


def redis_cli(testbed, namespace: str, *command: str) -> str:
    """redis-cli in the Redis pod, authenticated with the pod's own REDIS_PASSWORD (never on a command line)."""
    script = 'REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli "$@"'
    return testbed.kubectl("exec", "-n", namespace, "it-cache-redis-0", "-c", "redis", "--", "sh", "-c", script, "redis-cli",
                           *command).stdout.strip()


def get_json(testbed, *what: str) -> dict:
    return json.loads(testbed.kubectl("get", *what, "-o", "json").stdout)


def test_a_statefulset_update_with_a_broken_image_is_rolled_back_its_pod_replaced_and_its_data_kept(
        testbed, egress, database, namespace, tmp_path):
    """An app's Redis (app_workload's StatefulSet) holds a key on its PVC; a deploy with a Redis image that does not
    exist fails the apps' gate; the automatic rollback restores the StatefulSet, deletes the pod stuck on the broken
    revision (OrderedReady never replaces it by itself), and the new pod reads the key from the same PVC."""
    good_image = cluster.image("redis")
    volume = redis_volume(testbed, namespace, str(tmp_path / "redis-data"))
    try:
        deployed = playbook("deploy.yml", "--tags", "apps",
                            inventory=app_with_a_cache(tmp_path, "good", namespace, database, good_image, 180))
        assert deployed.returncode == 0, deployed.summary()
        assert redis_cli(testbed, namespace, "SET", "seed-003", "kept across the rollback") == "OK"
        assert redis_cli(testbed, namespace, "SAVE") == "OK"
        before = objects(testbed, "statefulset", namespace, "it-cache-redis")
        first_pod = get_json(testbed, "pod", "-n", namespace, "it-cache-redis-0")
        claim_uid = get_json(testbed, "pvc", "-n", namespace, "data-it-cache-redis-0")["metadata"]["uid"]

        broken = playbook("deploy.yml", "--tags", "apps", inventory=app_with_a_cache(
            tmp_path, "broken", namespace, database, "aibang-testbed.local/redis:not-built", 25))
        assert broken.returncode != 0
        message = broken.failure_message()
        assert message.startswith("Stage app_workload failed its gate (every app workload rolled out and ready)"), message
        assert f"StatefulSet {namespace}/it-cache-redis: ready/updated/current 0/" in message, message
        # the app's own pod may be listed first: its readiness pings Redis, which the broken update took away
        assert re.search(r"pods not ready: (\S+ [^;]*; )*it-cache-redis-0 Pending: container redis waiting \(", message), message
        assert "ImagePullBackOff" in message or "ErrImagePull" in message, message
        assert f"Rolled back automatically: restored StatefulSet {namespace}/it-cache-redis" in message, message
        assert f"deleted Pod {namespace}/it-cache-redis-0, stuck on the broken revision" in message, message
        assert "the gate passes again" in message, message

        assert objects(testbed, "statefulset", namespace, "it-cache-redis") == before  # the template as it was
        statefulset = get_json(testbed, "statefulset", "-n", namespace, "it-cache-redis")
        assert statefulset["status"]["updateRevision"] == first_pod["metadata"]["labels"]["controller-revision-hash"]
        replaced = get_json(testbed, "pod", "-n", namespace, "it-cache-redis-0")
        assert replaced["metadata"]["uid"] != first_pod["metadata"]["uid"]
        assert replaced["metadata"]["labels"]["controller-revision-hash"] == statefulset["status"]["updateRevision"]
        assert [container["image"] for container in replaced["spec"]["containers"]] == [good_image]
        assert {c["type"]: c["status"] for c in replaced["status"]["conditions"]}["Ready"] == "True"
        assert get_json(testbed, "pvc", "-n", namespace, "data-it-cache-redis-0")["metadata"]["uid"] == claim_uid
        assert redis_cli(testbed, namespace, "GET", "seed-003") == "kept across the rollback"

        record = release_record(testbed)
        assert "app_workload" in record["failed"] and "app_workload" in record["restored"], record
        newest = release_store.read(releases(testbed)[max(releases(testbed))])
        assert newest["state"] == "rolled_back" and "app_workload" in newest["stages"], newest["state"]
    finally:
        testbed.kubectl("delete", "statefulset,deployment", "-n", namespace, "--all", "--wait=false", check=False)
        testbed.kubectl("delete", "pv", volume, "--wait=false", check=False)
