# -*- coding: utf-8 -*-
"""The apps stage for one environment (the app_workload role: one server-side apply per app, then its gates) beside
`kubectl apply --server-side` of the same objects with the same field manager, measured in the same run on the lab.

Both are timed on a converged namespace (a no-op apply, as most deploys are). The stage is timed two ways: the whole
ansible-playbook process, and the role's own tasks (the json callback's task durations, without Ansible's start-up).
The target (<= 3x) is judged on the role's tasks.
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

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload, app_workload_apply

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTBED = ROOT / "tests" / "testbed" / "testbed.sh"
KUBECONFIG = "/run/aibang-testbed/kubeconfig"
NAMESPACE = "bench-apps"
RATIO_TARGET = 3.0
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
PLAY = """- name: The apps stage
  hosts: localhost
  gather_facts: false
  roles:
    - role: aibang.gke_platform.app_workload
"""


def objects() -> list:
    context = {"egress_alias": ROLE_VARS["app_workload_egress_alias"], "egress_port": 3128, "proxy_namespace": "intra-proxy",
               "proxy_pod_labels": {"app.kubernetes.io/name": "squid-proxy"}, "db_host": ROLE_VARS["app_workload_db_host"],
               "db_ip": ROLE_VARS["app_workload_db_ip"], "db_port": 3306, "gsa_email": ROLE_VARS["app_workload_gsa_email"],
               "no_proxy_cidrs": [], "redis_image": "redis:7.2", "log_collector_image": "fluent/fluent-bit:3.1"}
    rendered = app_workload.render(ROLE_VARS["app_workload_apps"], {"name": "staging", "namespace": NAMESPACE}, context)
    secrets = {"DB_PASSWORD": ROLE_VARS["app_workload_db_password"], "REDIS_PASSWORD": ROLE_VARS["app_workload_redis_password"]}
    return app_workload_apply.fill_secrets(app_workload.all_objects(rendered), secrets)


def playbook(work: pathlib.Path) -> tuple:
    """(wall seconds, seconds inside the role's tasks, changed hosts)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    started = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"@{work / 'vars.json'}",
                           "-e", f"ansible_python_interpreter={sys.executable}",
                           str(work / "play.yml")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                          check=False)
    wall = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"the apps stage failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    tasks = sum(_seconds(task["task"]["duration"]) for play in report["plays"] for task in play["tasks"])
    changed = [host for host, stats in report["stats"].items() if stats.get("changed")]
    return wall, tasks, changed


def _seconds(duration: dict) -> float:
    start, end = (datetime.fromisoformat(duration[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()


def kubectl_apply(path: pathlib.Path) -> float:
    started = time.monotonic()
    subprocess.run(["kubectl", f"--kubeconfig={KUBECONFIG}", "apply", "--server-side", "--force-conflicts",
                    "--field-manager=aibang.gke_platform", "-f", str(path)], check=True, capture_output=True, timeout=TIMEOUT_S)
    return time.monotonic() - started


def run() -> bool:
    started_here = subprocess.run([str(TESTBED), "running"], check=False).returncode != 0
    try:
        if started_here:
            subprocess.run([str(TESTBED), "up"], check=True, capture_output=True, timeout=900)
        with tempfile.TemporaryDirectory(prefix="aibang-bench-apps-") as folder:
            work = pathlib.Path(folder)
            (work / "vars.json").write_text(json.dumps(ROLE_VARS))
            (work / "play.yml").write_text(PLAY)
            (work / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects()}))
            playbook(work)  # converge, untimed
            wall, tasks, changed = playbook(work)
            kubectl_apply(work / "objects.json")  # warm kubectl's discovery cache
            kubectl = min(kubectl_apply(work / "objects.json") for _attempt in range(3))
    finally:
        subprocess.run(["kubectl", f"--kubeconfig={KUBECONFIG}", "delete", "namespace", NAMESPACE, "--wait=true",
                        "--ignore-not-found"], check=False, capture_output=True, timeout=TIMEOUT_S)
        if started_here:
            subprocess.run([str(TESTBED), "down"], check=False, capture_output=True, timeout=900)
    ratio = tasks / kubectl
    ok = ratio <= RATIO_TARGET and not changed
    count = len(objects())
    print(f"apps stage (2 apps, {count} objects, staging preset, converged): role tasks {tasks:.2f} s, whole "
          f"ansible-playbook {wall:.2f} s, {'no change' if not changed else 'CHANGED'}")
    print(f"kubectl apply --server-side of the same {count} objects: {kubectl:.2f} s (best of 3, discovery cached); "
          f"role tasks are {ratio:.2f}x that (target <= {RATIO_TARGET:.0f}x) {'OK' if ok else 'OVER'}; "
          f"whole playbook {wall / kubectl:.2f}x")
    return ok
