# -*- coding: utf-8 -*-
"""Credentials never reach a process's command line or the -vvv output (issue 16, item 5).

A task's ``environment:`` is put on the module's command line (``/bin/sh -c 'NAME=value python ...'``): anyone who
can list processes reads it, and ``-vvv`` prints it. The roles take credentials as module options (``*_gcp_auth``,
``no_log``) and refuse credential-like names in ``*_api_environment``. These tests run a role against the GCP fake
while sampling the process list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

TOKEN = "ya29.security-test-token-never-shown"

GUARD = """
- name: The network guard with {how}
  hosts: localhost
  gather_facts: false
  tasks:
    - name: VPC
      google.cloud.gcp_compute_network:
        name: platform-vpc
        project: consumer-test
        auto_create_subnetworks: false
        auth_kind: accesstoken
        access_token: "{{{{ token }}}}"
      environment: "{{{{ fake_environment }}}}"

    - name: The role
      ansible.builtin.include_role:
        name: aibang.gke_platform.egress_network
      vars:
        egress_network_project: consumer-test
        egress_network_vm_address: 10.10.0.2
        egress_network_node_service_account: gke-nodes@consumer-test.iam.gserviceaccount.com
        egress_network_api_environment: {environment}
        egress_network_gcp_auth: {auth}
"""

ENVIRONMENT_ONLY = '"{{ fake_environment }}"'


class ProcessSampler:
    """Every command line seen while running, read from /proc every few milliseconds."""

    def __init__(self) -> None:
        self.seen: set = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as handle:
                            self.seen.add(handle.read().replace(b"\0", b" ").decode(errors="replace"))
                    except OSError:
                        continue
            self.samples += 1
            self._stop.wait(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _module_runs(seen: set) -> list:
    """Command lines of module runs: the AnsiballZ wrapper, or with pipelining (ansible.cfg) the remote shell starting
    the interpreter that reads the module on its stdin."""
    return [line for line in seen
            if "AnsiballZ" in line or (line.startswith("/bin/sh -c ") and sys.executable in line)]


def _run(gcp_fake, tmp_path, environment: str, auth: str) -> tuple:
    playbook = tmp_path / "guard.yml"
    playbook.write_text(GUARD.format(how="credentials as module options", environment=environment, auth=auth), encoding="utf-8")
    env = {key: value for key, value in gcp_fake.env.items() if not key.startswith("GCP_")}  # no token from the controller
    fake_environment = {"HTTPS_PROXY": gcp_fake.url, "NO_PROXY": "127.0.0.1,localhost",
                        "REQUESTS_CA_BUNDLE": gcp_fake.env["REQUESTS_CA_BUNDLE"]}
    extra = tmp_path / "extra.json"  # a file, so the test itself puts no token on a command line
    extra.write_text(json.dumps({"token": TOKEN, "fake_environment": fake_environment}), encoding="utf-8")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"@{extra}", str(playbook)]
    with ProcessSampler() as sampler:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    return done, sampler


def test_credentials_as_module_options_stay_off_command_lines_and_logs(gcp_fake, tmp_path):
    auth = "{auth_kind: accesstoken, access_token: '{{ token }}'}"
    done, sampler = _run(gcp_fake, tmp_path, ENVIRONMENT_ONLY, auth)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert sampler.samples > 10
    assert _module_runs(sampler.seen), "the sampler saw no module run: it proves nothing"
    assert not [line for line in sampler.seen if TOKEN in line]
    assert TOKEN not in done.stdout + done.stderr
    assert gcp_fake.google.resources.get("compute:projects/consumer-test/global/firewalls/platform-vpc-gke-egress-deny-all")


def test_a_token_in_the_api_environment_is_refused_before_any_call(gcp_fake, tmp_path):
    environment = '"{{ fake_environment | combine({\'GCP_AUTH_KIND\': \'accesstoken\', \'GCP_ACCESS_TOKEN\': token}) }}"'
    done, _sampler = _run(gcp_fake, tmp_path, environment, "{}")
    assert done.returncode != 0
    assert "egress_network_api_environment carries GCP_ACCESS_TOKEN" in done.stdout, done.stdout[-3000:]
    assert not [item["method"] for item in gcp_fake.google.requests if not item["method"].startswith(("compute.networks.", "compute.globalOperations."))]


@pytest.mark.parametrize("where", ["ps", "-vvv"])
def test_why_task_environment_is_refused(tmp_path, where):
    """The mechanism the refusal guards against: ansible puts a task's environment on the module's command line."""
    playbook = tmp_path / "env.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: sleep 1\n"
                        f"      environment: {{GCP_ACCESS_TOKEN: {TOKEN}}}\n", encoding="utf-8")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)]
    with ProcessSampler() as sampler:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    if where == "ps":
        assert [line for line in sampler.seen if TOKEN in line]
    else:
        assert TOKEN in done.stdout


# Every role that calls Google refuses a token in its task environment before any call (issue 16, item 5).
ROLE_REFUSAL = """
- name: A token in {prefix}_api_environment
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The role
      ansible.builtin.include_role:
        name: aibang.gke_platform.{role}
      vars:
        {prefix}_api_environment: {{GCP_AUTH_KIND: accesstoken, GCP_ACCESS_TOKEN: "{{{{ token }}}}"}}
{extra}
"""
ROLES = {
    "psc_producer": ("psc_producer", {"psc_producer_project": "producer-test", "psc_producer_sql_users": []}),
    "psc_consumer": ("psc_consumer", {"psc_consumer_project": "consumer-test"}),
    "squid_vm_cloud": ("squid_vm_cloud", {"squid_vm_cloud_project": "consumer-test",
                                          "squid_vm_cloud_policy": {"name": "p", "allowed_domains": ["example.com"],
                                                                    "gke": {"client_cidrs": ["10.128.0.0/14"]},
                                                                    "vm": {"address": "10.10.0.2", "client_cidrs": ["10.128.0.0/14"]}}}),
    "cluster_dns": ("cluster_dns_cloud", {"cluster_dns_mode": "cloud_dns", "cluster_dns_cloud_project": "consumer-test",
                                          "cluster_dns_aliases": {"proxy.intra.example": "squid.intra-proxy.svc.cluster.local"}}),
}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_google_role_refuses_a_token_in_its_api_environment(gcp_fake, tmp_path, role):
    prefix, role_vars = ROLES[role]
    extra = "\n".join(f"        {name}: {json.dumps(value)}" for name, value in role_vars.items())
    playbook = tmp_path / "refusal.yml"
    playbook.write_text(ROLE_REFUSAL.format(prefix=prefix, role=role, extra=extra), encoding="utf-8")
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"token": TOKEN}), encoding="utf-8")
    env = {key: value for key, value in gcp_fake.env.items() if not key.startswith("GCP_")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"@{extra_file}", str(playbook)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert f"{prefix}_api_environment carries GCP_ACCESS_TOKEN" in done.stdout, done.stdout[-3000:]
    assert TOKEN not in done.stdout + done.stderr
    assert gcp_fake.google.requests == []
