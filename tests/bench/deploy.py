# -*- coding: utf-8 -*-
"""A full deploy.yml against inventories/local that finds everything converged: seconds, tasks, module processes
(per stage) and how often the egress policy was parsed, beside as many do-nothing module tasks as the deploy started
module processes, measured in the same run (Ansible's own per-process floor on this machine).

Module processes are counted, not guessed from task names: the timed run's Python interpreter is a small wrapper that
writes a timestamp to a log each time it starts, and each start is given to the task that was running then (tasks
run one after another; the JSON callback records when each started). The count does not depend on the load.

Starts the testbed when it is not running (and stops it again); converges once untimed, then times the no-op run,
which must report no change. The timed run's report and the module starts are kept in tests/output/bench/.
"""

from __future__ import annotations

import bisect
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output" / "bench"
TESTBED = ROOT / "tests" / "testbed" / "testbed.sh"
BUDGET_S = 20.0
TIMEOUT_S = 900
FLOOR_PLAY = """- name: The per-task floor - {count} do-nothing module tasks on the control host
  hosts: localhost
  gather_facts: false
  tasks:
{tasks}"""
FLOOR_TASK = "    - name: Do nothing {index}\n      ansible.builtin.ping:\n"
# The interpreter of the timed run: one line per module process, then the real Python.
COUNTING_INTERPRETER = """#!/bin/sh
date -u +%Y-%m-%dT%H:%M:%S.%6N >> {log}
exec {python} "$@"
"""
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


def when(stamp: str) -> datetime.datetime:
    """A timestamp of the JSON callback (``...Z``) or of the counting interpreter, as a naive UTC datetime."""
    return datetime.datetime.fromisoformat(stamp.rstrip("Z"))


def module_processes(report: dict, starts: list) -> list:
    """Per task of the report, in the order they ran: (play index, task name, module processes started while it was
    the running task). Tasks run one at a time (the linear strategy), so a process belongs to the last task started
    before it."""
    tasks = sorted((when(task["task"]["duration"]["start"]), index, task["task"]["name"])
                   for index, play in enumerate(report["plays"]) for task in play["tasks"])
    task_starts = [task[0] for task in tasks]
    counts = [0] * len(tasks)
    for start in starts:
        running = bisect.bisect_right(task_starts, when(start)) - 1
        if running >= 0:
            counts[running] += 1
    return [(play, name, count) for (_started, play, name), count in zip(tasks, counts)]


def per_stage(report: dict, processes: list) -> list:
    """(play name, seconds, tasks, module processes) per play, in the order they ran."""
    stages = []
    for play in report["plays"]:
        duration = play["play"]["duration"]
        seconds = (when(duration.get("end", duration["start"])) - when(duration["start"])).total_seconds()
        stages.append([play["play"]["name"], seconds, len(play["tasks"]), 0])
    for play, _name, count in processes:
        stages[play][3] += count
    return [tuple(stage) for stage in stages]


def counted_playbook(*args: str) -> tuple:
    """Run ansible-playbook with the JSON callback and the counting interpreter: (seconds, report, module starts)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT / "deploy-module-starts.log"
    log.write_text("")
    interpreter = OUTPUT / "counting-python"
    interpreter.write_text(COUNTING_INTERPRETER.format(log=log, python=sys.executable))
    interpreter.chmod(0o755)
    seconds, output = playbook(*args, "-e", f"ansible_python_interpreter={interpreter}", callback="ansible.posix.json")
    (OUTPUT / "deploy-report.json").write_text(output)
    return seconds, json.loads(output), log.read_text().split()


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
        load_before = os.getloadavg()[0]
        seconds, report, starts = counted_playbook("-i", "inventories/local", "playbooks/deploy.yml")
        load_after = os.getloadavg()[0]
        ok = report_deploy(seconds, report, starts, load_before, load_after)
        floor = floor_seconds(len(starts))
        load_floor = os.getloadavg()[0]
    finally:
        if started_here:
            subprocess.run([str(TESTBED), "down"], check=False, capture_output=True, timeout=TIMEOUT_S)
    print(f"baseline, same run: {len(starts)} do-nothing module tasks (one process each) {floor:.1f} s "
          f"({floor / max(len(starts), 1):.2f} s each; load average {load_floor:.1f} after); the deploy is "
          f"{seconds / floor:.2f}x that")
    return ok


def report_deploy(seconds: float, report: dict, starts: list, load_before: float, load_after: float) -> bool:
    """Print the timed run's figures (before the floor is measured: they stand on their own); whether it is OK."""
    tasks, parses, changed = summarise(report)
    processes = module_processes(report, starts)
    ok = seconds <= BUDGET_S and not changed
    print(f"no-op deploy.yml (inventories/local, converged): {seconds:.1f} s, {tasks} tasks, {len(starts)} module "
          f"processes, {parses} policy parses, {'no change' if not changed else 'CHANGED on ' + ', '.join(changed)}; "
          f"{seconds / BUDGET_S:.2f}x of the {BUDGET_S:.0f} s budget {'OK' if ok else 'OVER'}; "
          f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after", flush=True)
    for name, stage_seconds, stage_tasks, stage_processes in per_stage(report, processes):
        print(f"  {stage_processes:3d} module processes {stage_tasks:3d} tasks {stage_seconds:5.1f} s  {name[:70]}")
    print("tasks that started module processes (count, play, task):")
    plays = [play["play"]["name"] for play in report["plays"]]
    for play, task, count in processes:
        if count:
            print(f"  {count:2d}  {plays[play][:30]} | {task[:90]}")
    sys.stdout.flush()
    return ok
