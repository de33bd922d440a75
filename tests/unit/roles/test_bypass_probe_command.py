# -*- coding: utf-8 -*-
"""The bypass probe's pod command, as the role writes it, run by the real sh with curl stand-ins: its three requests
run at once (the direct one, whose connection a dropped SYN never answers, no longer makes the others wait), each one's
lines are printed in order, and the verdict read from them still fails when a request says so."""

from __future__ import annotations

import pathlib
import subprocess
import time

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils.egress_network import bypass_verdict
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_job import LOG_ENDS_WITH

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "egress_network"
TARGET, PROXY, DENIED = "https://login.microsoftonline.com/", "http://alias.local:3128", "https://example.org/"

# curl as the pod runs it: the direct request (--noproxy '*') sleeps its connect timeout away and times out (a dropped
# SYN) unless DIRECT says it is answered; through the proxy, the target gets 200 and the denied name 403, after a second.
FAKE_CURL = """#!/bin/sh
for url; do :; done
case " $* " in
  *" --noproxy * "*)
    connect=$(printf ' %s ' "$*" | sed 's/.*--connect-timeout \\([0-9]*\\).*/\\1/')
    echo "direct connect-timeout $connect $(date +%s.%N)" >> "$CALLS"
    case "${DIRECT:-dropped}" in
      open) echo "direct_connects=1"; exit 0 ;;
      tls) echo "direct_connects=1"; echo "curl: (35) OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number"; exit 35 ;;
      refused) echo "direct_connects=0"; echo "curl: (7) Failed to connect to $url: Connection refused"; exit 7 ;;
      *) sleep "$connect"; echo "direct_connects=0"; echo "curl: (28) Connection timed out after ${connect}000 milliseconds"; exit 28 ;;
    esac ;;
esac
echo "proxied $url $(date +%s.%N)" >> "$CALLS"
sleep 1
case "$url" in
  https://example.org/) printf 'denied_connect=403\\ndenied_code=000\\n'; echo 'curl: (56) CONNECT tunnel failed, response 403'; exit 56 ;;
  *) printf 'proxied_connect=200\\nproxied_code=200\\n' ;;
esac
"""


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _run_task() -> dict:
    tasks = yaml.safe_load((ROLE / "tasks" / "bypass.yml").read_text(encoding="utf-8"))
    return next(task for task in _tasks(tasks) if "aibang.gke_platform.k8s_job_run" in task)


def _container() -> dict:
    return _run_task()["vars"]["_egress_network_probe_spec"]["containers"][0]


@pytest.fixture(name="run_pod")
def fixture_run_pod(tmp_path):
    (tmp_path / "bin").mkdir()
    curl = tmp_path / "bin" / "curl"
    curl.write_text(FAKE_CURL, encoding="utf-8")
    curl.chmod(0o755)
    command = _container()["command"]
    assert command[:2] == ["sh", "-c"]
    # the pod's /tmp (an emptyDir) is this test's own directory
    script = command[2].replace("/tmp/", f"{tmp_path}/")

    def run(denied=DENIED, direct="dropped", connect_timeout=2):
        env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "TARGET": TARGET, "PROXY": PROXY, "DENIED": denied,
               "TIMEOUT": "10", "CONNECT_TIMEOUT": str(connect_timeout), "CALLS": str(tmp_path / "calls"), "DIRECT": direct}
        started = time.monotonic()
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, check=False, timeout=30)
        return done, time.monotonic() - started, (tmp_path / "calls").read_text(encoding="utf-8")
    return run


def test_the_pod_mounts_a_scratch_tmp_and_keeps_its_root_filesystem_read_only():
    container = _container()
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_three_requests_run_at_once_and_print_in_order(run_pod):
    done, seconds, calls = run_pod()
    assert done.returncode == 0, done.stderr
    assert seconds < 3, seconds  # one after another: 2 s of direct timeout and two 1 s requests
    assert "direct connect-timeout 2 " in calls  # the direct request is bounded by CONNECT_TIMEOUT
    lines = done.stdout.splitlines()
    assert [line.split("=")[0] for line in lines if "=" in line and not line.startswith("curl")] == [
        "direct_connects", "direct", "proxied_connect", "proxied_code", "proxied", "denied_connect", "denied_code", "denied"]
    verdict = bypass_verdict(lines, TARGET, PROXY, denied_target=DENIED)
    assert verdict["ok"] is True and verdict["direct_exit"] == 28, verdict
    # the last line, which the Job's annotation names: the run reads the log up to it and does not wait for the kubelet
    job = _run_task()["aibang.gke_platform.k8s_job_run"]["objects"][0]
    assert lines[-1] == job["metadata"]["annotations"][LOG_ENDS_WITH] == "bypass-probe-done"


def test_without_a_denied_target_two_requests_run(run_pod):
    done, _seconds, calls = run_pod(denied="")
    assert done.returncode == 0, done.stderr
    assert "example.org" not in calls and "denied" not in done.stdout
    assert bypass_verdict(done.stdout.splitlines(), TARGET, PROXY)["ok"] is True


@pytest.mark.parametrize("direct, ok, detail", [
    ("open", False, "a pod reached https://login.microsoftonline.com/ directly"),
    # the TCP connection was accepted, TLS failed after it: that is a way around the proxy all the same
    ("tls", False, "its TCP connection was accepted; curl exit 35 came after"),
    ("refused", True, "could not reach https://login.microsoftonline.com/ directly (curl exit 7)"),
])
def test_a_direct_request_that_gets_through_still_fails_the_check(run_pod, direct, ok, detail):
    done, _seconds, _calls = run_pod(direct=direct)
    verdict = bypass_verdict(done.stdout.splitlines(), TARGET, PROXY, denied_target=DENIED)
    assert verdict["ok"] is ok and detail in verdict["detail"], verdict
