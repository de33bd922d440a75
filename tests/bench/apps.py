# -*- coding: utf-8 -*-
"""The apps stage for one environment (the app_workload role: one controller-side step applies every app, prunes and
waits for the gates) beside `kubectl apply --server-side` of the same objects with the same field manager, measured in
the same run on the lab.

Both are timed on a converged namespace (a no-op apply, as most deploys are), best of ROUNDS. The stage is timed two
ways: the whole ansible-playbook process, and the role's own tasks (the json callback's task durations, without
Ansible's start-up). The target (<= 3x) is judged on the role's tasks. kubectl applies exactly what the role applied:
the first, untimed run writes the objects the role rendered, and their Secrets get the values the apply module fills
in. The pods run on the testbed's kwok nodes: the bench measures the apply and its gates, not the app.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_apply
from tests.testbed import cluster

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTBED = ROOT / "tests" / "testbed" / "testbed.sh"
KUBECONFIG = "/run/aibang-testbed/kubeconfig"
NAMESPACE = "bench-apps"
RATIO_TARGET = 3.0
ROUNDS = 3
TIMEOUT_S = 600
ROLE_VARS = {
    "app_workload_kubeconfig": KUBECONFIG, "app_workload_preset": "staging", "app_workload_namespace": NAMESPACE,
    "app_workload_egress_alias": "proxy.bench.aibang.local", "app_workload_egress_port": 3128,
    "app_workload_db_host": "db.bench.aibang.local", "app_workload_db_ip": "127.0.0.50",
    "app_workload_gsa_email": "app@bench.iam.gserviceaccount.com", "app_workload_db_password": "bench-not-a-secret",
    "app_workload_redis_password": "bench-not-a-secret", "app_workload_wait_timeout": 120,
    "app_workload_apps": [{"name": "web", "image": "app:latest", "hpa": {"enabled": False}},
                          {"name": "api", "image": "app:latest", "hpa": {"enabled": False}, "cronjob": {"schedule": "@daily"}}],
}
WRITE_TASK = "Write the objects the role rendered"
PLAY = f"""- name: The apps stage
  hosts: localhost
  gather_facts: false
  roles:
    - role: aibang.gke_platform.app_workload
  post_tasks:
    - name: {WRITE_TASK}
      ansible.builtin.copy:
        content: "{{{{ (__app_workload_rendered.namespace_objects
                       + (__app_workload_rendered.apps | map(attribute='objects') | flatten)) | to_json }}}}"
        dest: "{{{{ bench_objects }}}}"
        mode: "0600"
      when: bench_objects is defined
"""


def playbook(work: pathlib.Path, *extra: str) -> tuple:
    """(wall seconds, seconds inside the role's tasks, changed hosts, [(seconds, task name)])."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"@{work / 'vars.json'}", "-e", f"ansible_python_interpreter={sys.executable}", *extra,
               str(work / "play.yml")]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    wall = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"the apps stage failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    split = [(_seconds(task["task"]["duration"]), task["task"]["name"]) for play in report["plays"]
             for task in play["tasks"] if WRITE_TASK not in task["task"]["name"]]
    changed = [host for host, stats in report["stats"].items() if stats.get("changed")]
    return wall, sum(seconds for seconds, _name in split), changed, split


def _seconds(duration: dict) -> float:
    start, end = (datetime.fromisoformat(duration[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()


def applied_objects(rendered: pathlib.Path) -> list:
    """The role's rendered objects with the Secrets' values the apply module fills in from its no_log option."""
    secrets = {"DB_PASSWORD": ROLE_VARS["app_workload_db_password"], "REDIS_PASSWORD": ROLE_VARS["app_workload_redis_password"]}
    return app_workload_apply.fill_secrets(json.loads(rendered.read_text(encoding="utf-8")), secrets)


def kubectl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cluster.binary("kubectl"), f"--kubeconfig={KUBECONFIG}", *args], check=False, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def kubectl_apply(path: pathlib.Path) -> float:
    started = time.monotonic()
    done = kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=aibang.gke_platform", "-f", str(path))
    seconds = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"kubectl apply failed: {done.stderr[-2000:]}")
    return seconds


def run() -> bool:
    started_here = subprocess.run([str(TESTBED), "running"], check=False).returncode != 0
    try:
        if started_here:
            subprocess.run([str(TESTBED), "up"], check=True, capture_output=True, timeout=900)
        with tempfile.TemporaryDirectory(prefix="aibang-bench-apps-") as folder:
            work = pathlib.Path(folder)
            (work / "vars.json").write_text(json.dumps(ROLE_VARS), encoding="utf-8")
            (work / "play.yml").write_text(PLAY, encoding="utf-8")
            playbook(work, "-e", f"bench_objects={work / 'rendered.json'}")  # converge, untimed
            objects = applied_objects(work / "rendered.json")
            (work / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
            stage = [playbook(work) for _round in range(ROUNDS)]
            kubectl_apply(work / "objects.json")  # warms kubectl's discovery cache
            by_kubectl = min(kubectl_apply(work / "objects.json") for _round in range(ROUNDS))
            after_kubectl = playbook(work)  # kubectl changed nothing the role owns: the role still changes nothing
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--ignore-not-found")
        if started_here:
            subprocess.run([str(TESTBED), "down"], check=False, capture_output=True, timeout=900)
    wall, tasks = min(round_[0] for round_ in stage), min(round_[1] for round_ in stage)
    best = min(stage, key=lambda round_: round_[1])
    changed = sorted({host for round_ in stage + [after_kubectl] for host in round_[2]})
    ratio = tasks / by_kubectl
    ok = ratio <= RATIO_TARGET and not changed
    print(f"apps stage (staging preset, 2 apps, {len(objects)} objects, converged; best of {ROUNDS}): role tasks {tasks:.2f} s, "
          f"whole ansible-playbook {wall:.2f} s; {'no change' if not changed else 'CHANGED on ' + ', '.join(changed)}")
    print("  split of that round: " + "; ".join(f"{name.split(' : ')[-1][:40]} {seconds:.2f} s" for seconds, name in best[3]))
    print(f"kubectl apply --server-side of the same {len(objects)} objects (best of {ROUNDS}, discovery cached): {by_kubectl:.2f} s")
    print(f"role tasks / kubectl: {ratio:.2f}x (target <= {RATIO_TARGET:.0f}x) {'OK' if ok else 'OVER'}; "
          f"whole ansible-playbook / kubectl: {wall / by_kubectl:.2f}x")
    return ok
