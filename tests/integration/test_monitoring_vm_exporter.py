# -*- coding: utf-8 -*-
"""The monitoring role's `vm_exporter` entry point beside a real tier-2 Squid (process manager, no systemd here):
check mode changes nothing, the exporter reads the Squid the policy and this host's runtime describe (port; address,
pid file), a second run changes nothing, `vm_exporter_cleanup` stops it by its pid and removes its run directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest

from tests.testbed.squid_lab import SquidLab

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("squid", "prometheus-squid-exporter", "start-stop-daemon")),
    reason="squid and prometheus-squid-exporter are installed by make setup (bindep.txt)",
)

SQUID_UP = re.compile(r"^squid_up(\{[^}]*\})? 1$", re.MULTILINE)
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "monitoring_vm_exporter.yml")
PORT = 19303  # not 9301: the testbed's own exporter may be there
POLICY = {"name": "vm-exporter", "allowed_domains": ["login.microsoftonline.com"],
          "gke": {"client_cidrs": ["127.0.0.16/28"]}, "vm": {"address": "127.0.0.12", "client_cidrs": ["127.0.0.13/32"]}}


def run(entry: str, runtime: dict, run_dir: str, *extra: str) -> str:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"), ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"entry={entry}", "-e", f"run_dir={run_dir}",
               "-e", f"port={PORT}", "-e", json.dumps({"policy": POLICY, "runtime": runtime}), *extra, PLAYBOOK]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    return done.stdout.split("PLAY RECAP")[-1]


def metrics() -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5) as answer:
        return answer.read().decode()


def exporter_pid(run_dir: str) -> int:
    with open(os.path.join(run_dir, "exporter.pid"), encoding="utf-8") as handle:
        return int(handle.read())


@pytest.fixture
def tier2():
    """The lab's chain, tier 2 with a pid file for the exporter's process metrics; yields tier 2's runtime."""
    with SquidLab(["login.microsoftonline.com"]) as lab:
        lab.tuning["vm"] = {"pid_filename": os.path.join(lab.workdir, "vm.pid")}
        with lab.chain(POLICY):
            yield lab.runtime("vm")


def test_vm_exporter_reads_the_squid_of_its_host(tier2, tmp_path):
    run_dir = str(tmp_path / "exporter")
    run("vm_exporter", tier2, run_dir, "--check")
    assert not os.path.exists(run_dir)

    assert "changed=0" not in run("vm_exporter", tier2, run_dir)
    pid = exporter_pid(run_dir)
    with open(f"/proc/{pid}/cmdline", encoding="utf-8") as handle:
        command = handle.read().split("\0")
    assert command[command.index("-squid-hostname") + 1] == tier2["listen_address"]
    assert command[command.index("-squid-pidfile") + 1] == tier2["pid_filename"]
    text = metrics()
    assert SQUID_UP.search(text)
    assert any(line.startswith("squid_process_open_fds") for line in text.splitlines()), text[:2000]

    assert "changed=0" in run("vm_exporter", tier2, run_dir)
    assert exporter_pid(run_dir) == pid

    assert "changed=0" not in run("vm_exporter_cleanup", tier2, run_dir)
    assert not os.path.exists(f"/proc/{pid}")
    assert not os.path.exists(run_dir)
    assert "changed=0" in run("vm_exporter_cleanup", tier2, run_dir)


def test_deploy_and_cleanup_skip_the_monitoring_stage_unless_enabled():
    """inventories/local does not set monitoring_enabled: `--tags monitoring` runs the stage's plays and skips them."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    for playbook, task in (("deploy.yml", "Run the exporter on the VM"), ("cleanup.yml", "Stop the exporter and remove its unit")):
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                               os.path.join(REPO, "playbooks", playbook), "--tags", "monitoring"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
        stage = done.stdout.split(f"TASK [{task}]")[1].split("TASK [")[0]
        assert "skipping:" in stage and "ok:" not in stage and "changed:" not in stage, stage
        recap = [line for line in done.stdout.split("PLAY RECAP")[-1].splitlines() if "ok=" in line]
        assert recap and all("changed=0" in line and "failed=0" in line for line in recap), recap


def test_deploy_refuses_to_scrape_a_vm_whose_exporter_port_is_closed():
    """On Google Cloud (inventories/local plays it through the GCP fake) the VM's exporter port opens only to
    squid_vm_cloud_exporter_sources: with monitoring on and no source, deploy's preflight fails naming it."""
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(REPO, "playbooks", "deploy.yml"),
                           "--tags", "monitoring", "-e", "monitoring_enabled=true"],
                          cwd=REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0, done.stdout[-3000:]
    assert "set squid_vm_cloud_exporter_sources" in done.stdout, done.stdout[-3000:]
    assert "TASK [Run the exporter on the VM]" not in done.stdout
    recap = [line for line in done.stdout.split("PLAY RECAP")[-1].splitlines() if "ok=" in line]
    assert recap and all("changed=0" in line for line in recap), recap
