# -*- coding: utf-8 -*-
"""A full deploy.yml against inventories/local that finds everything converged: seconds, tasks and how often the
egress policy was parsed, beside the same number of do-nothing module tasks measured in the same run (Ansible's own
per-task floor on this machine).

Starts the testbed when it is not running (and stops it again); converges once untimed, then times the no-op run,
which must report no change.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTBED = ROOT / "tests" / "testbed" / "testbed.sh"
BUDGET_S = 20.0
TIMEOUT_S = 900
FLOOR_PLAY = """- name: The per-task floor - {count} do-nothing module tasks on the control host
  hosts: localhost
  gather_facts: false
  tasks:
{tasks}"""
FLOOR_TASK = "    - name: Do nothing {index}\n      ansible.builtin.ping:\n"
# Modules that parse the egress policy given in their `policy` option.
POLICY_MODULES = {f"aibang.gke_platform.{name}" for name in ("squid_policy", "squid_policy_info", "squid_policy_check", "squid_probe")}


def playbook(*args: str, callback: str = "ansible.builtin.default") -> tuple:
    """Run ansible-playbook from the repository root; return (seconds, output); raise when it fails."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK=callback)
    started = time.monotonic()
    done = subprocess.run(["ansible-playbook", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    seconds = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"ansible-playbook {' '.join(args)} failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout


def policy_parses(result: dict) -> int:
    """Module runs behind one task result that were given the policy: loop items and retries count one each."""
    if result.get("skipped"):
        return 0
    items = result.get("results")
    if items and isinstance(items[0], dict) and "ansible_loop_var" in items[0]:
        return sum(policy_parses(item) for item in items)
    return result.get("attempts", 1) if "policy" in result.get("invocation", {}).get("module_args", {}) else 0


def summarise(report: dict) -> tuple:
    """(tasks run, policy parses, hosts that changed) from the ansible.posix.json callback's report."""
    tasks = parses = 0
    for play in report["plays"]:
        for task in play["tasks"]:
            tasks += 1
            parses += sum(policy_parses(result) for result in task["hosts"].values()
                          if result.get("action") in POLICY_MODULES)
    changed = sorted(host for host, stats in report["stats"].items() if stats.get("changed"))
    return tasks, parses, changed


def floor_seconds(count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="aibang-bench-") as work:
        path = pathlib.Path(work) / "floor.yml"
        path.write_text(FLOOR_PLAY.format(count=count, tasks="".join(FLOOR_TASK.format(index=i) for i in range(count))))
        return playbook("-i", "inventories/local", str(path))[0]


def run() -> bool:
    started_here = subprocess.run([str(TESTBED), "running"], check=False).returncode != 0
    try:
        if started_here:
            subprocess.run([str(TESTBED), "up"], check=True, capture_output=True, timeout=TIMEOUT_S)
        playbook("-i", "inventories/local", "playbooks/deploy.yml")  # converge, untimed
        seconds, output = playbook("-i", "inventories/local", "playbooks/deploy.yml", callback="ansible.posix.json")
        tasks, parses, changed = summarise(json.loads(output))
        floor = floor_seconds(tasks)
    finally:
        if started_here:
            subprocess.run([str(TESTBED), "down"], check=False, capture_output=True, timeout=TIMEOUT_S)
    ok = seconds <= BUDGET_S and not changed
    print(f"no-op deploy.yml (inventories/local, converged): {seconds:.1f} s, {tasks} tasks, {parses} policy parses, "
          f"{'no change' if not changed else 'CHANGED on ' + ', '.join(changed)}; "
          f"{seconds / BUDGET_S:.2f}x of the {BUDGET_S:.0f} s budget {'OK' if ok else 'OVER'}")
    print(f"baseline, same run: {tasks} do-nothing module tasks {floor:.1f} s; the deploy is {seconds / floor:.2f}x that")
    return ok
