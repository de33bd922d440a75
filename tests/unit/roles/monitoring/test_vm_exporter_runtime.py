# -*- coding: utf-8 -*-
"""With several VM hosts, each host's Squid exporter reads the Squid of its own host: the wiring hands the monitoring
role that host's squid_vm_runtime, vm_policy.yml compiles the policy with it, and the exporter's command line carries
that host's address and pid file. Rendered per host from the wiring, the role's task, vars and defaults, and the
policy compiler the task calls."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy_facts import compile_policy

from .promql import REPO

ROLE = REPO / "roles" / "monitoring"
POLICY = {"name": "two-vms", "allowed_domains": ["login.microsoftonline.com"], "proxy_port": 3128,
          "gke": {"client_cidrs": ["10.128.0.0/14"]}, "vm": {"address": "10.0.16.2", "client_cidrs": ["10.128.0.0/14"]}}
HOSTS = {
    "squid-vm-a": {"listen_address": "10.0.16.2", "pid_filename": "/run/squid-a.pid"},
    "squid-vm-b": {"listen_address": "10.0.16.3", "pid_filename": "/run/squid-b.pid"},
    "squid-vm-c": {},
}


def load(path) -> dict:
    return DataLoader().load_from_file(str(path), trusted_as_template=True)  # as Ansible loads it: strings are templates


def exporter_command(host_vars: dict) -> list:
    """The exporter's command line on one host, as deploy's monitoring stage renders it there."""
    variables = {**load(ROLE / "defaults" / "main.yml"), **load(ROLE / "vars" / "main.yml"),
                 **load(REPO / "playbooks" / "group_vars" / "all" / "wiring.yml"),
                 "egress_policy": POLICY, "egress_policy_compiled": compile_policy(POLICY),  # compiled once per run
                 "monitoring_vm_service_manager": "process", **host_vars}
    templar = Templar(loader=DataLoader(), variables=variables)
    task = next(task for task in load(ROLE / "tasks" / "vm_policy.yml") if "aibang.gke_platform.squid_policy_info" in task)
    arguments = templar.template(task["aibang.gke_platform.squid_policy_info"])
    variables[task["register"]] = compile_policy(arguments["policy"], arguments["runtime"])
    return list(Templar(loader=DataLoader(), variables=variables).template(trust_as_template("{{ _monitoring_vm_exporter_command }}")))


def option(command: list, name: str):
    return command[command.index(name) + 1] if name in command else None


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_each_vm_hosts_exporter_reads_its_own_squid(host):
    runtime = HOSTS[host]
    command = exporter_command({"squid_vm_runtime": runtime} if runtime else {})
    assert option(command, "-squid-hostname") == runtime.get("listen_address", "127.0.0.1")
    assert option(command, "-squid-pidfile") == runtime.get("pid_filename", "/run/squid.pid")
    assert option(command, "-squid-port") == "3128"
    assert option(command, "-listen") == "0.0.0.0:9301"


def test_the_hosts_differ():
    commands = {host: exporter_command({"squid_vm_runtime": runtime}) for host, runtime in HOSTS.items()}
    assert len({tuple(command) for command in commands.values()}) == len(HOSTS), commands


def test_a_bad_runtime_fails_naming_the_field():
    with pytest.raises(Exception, match=r"runtime\.vm\.listen_address"):
        exporter_command({"squid_vm_runtime": {"listen_address": "not-an-address"}})
