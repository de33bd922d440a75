# -*- coding: utf-8 -*-
"""Issue 12: the gates run from inside the cluster, and a failed gate rolls its stage back (faults on the lab).
The fault tests that need the egress chain deployed (tier-1 rollout, DNS alias, releases and rollback.yml, a killed
deploy) are on branch gates until they have passed on the lab with real tier-1 pods.
The playbooks run against inventories/local.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request


REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
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


def failure_message(done: subprocess.CompletedProcess) -> str:
    """The msg of the task that failed the play (the last 'fatal:' line's JSON)."""
    fatal = [line for line in done.stdout.splitlines() if line.startswith("fatal:")]
    assert fatal, done.stdout[-3000:]
    return json.loads(fatal[-1].split("=> ", 1)[1])["msg"]


def test_prod_refuses_to_skip_the_in_cluster_gates():
    done = playbook("deploy.yml", "--check", "-e", "platform_environment=prod", "-e", "egress_verify=false")
    assert done.returncode != 0
    assert "egress_verify is false, but prod is prod" in done.stdout and "Nothing was changed" in done.stdout


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
