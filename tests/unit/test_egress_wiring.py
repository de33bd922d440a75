# -*- coding: utf-8 -*-
"""Issue 16, item 1 on the product's path: every inventory gives the egress VM a subnet of its own, outside the
cluster's ranges (the preflight's rule), and the playbooks call the network guard where the chain is built, removed,
verified and diagnosed. Item 5: no inventory puts a credential in a task environment."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.filter.credential_keys import credential_keys
from ansible_collections.aibang.gke_platform.plugins.module_utils.egress_network import layout_errors, probe_image_errors

ROOT = pathlib.Path(__file__).parents[2]
ENVIRONMENTS = ["dev", "staging", "prod", "local"]
MASTER_CIDR = "172.16.0.0/28"  # psc_consumer's and egress_network's default; no inventory overrides it


def _vars(env: str, group: str, name: str) -> dict:
    path = ROOT / "inventories" / env / "group_vars" / group / name
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def _playbook(name: str) -> list:
    return yaml.safe_load((ROOT / "playbooks" / name).read_text(encoding="utf-8"))


def _role_calls(plays: list) -> list:
    """(role, tasks_from) of every include_role in the playbook, in order."""
    calls = []
    for play in plays:
        for task in play.get("pre_tasks", []) + play.get("tasks", []):
            include = task.get("ansible.builtin.include_role")
            if include:
                calls.append((include["name"].rsplit(".", 1)[-1], include.get("tasks_from", "main")))
    return calls


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_vm_has_its_own_subnet_outside_the_cluster(env):
    platform, egress = _vars(env, "all", "platform.yml"), _vars(env, "all", "egress.yml")
    layout = {"vm_subnet": platform["network_vm_subnet"], "vm_subnet_cidr": platform["network_vm_subnet_cidr"],
              "vm_address": egress["egress_policy"]["vm"]["address"], "node_subnet": "gke-nodes",
              "node_cidr": platform["network_node_cidr"], "pod_cidr": platform["network_pod_cidr"],
              "service_cidr": platform["network_service_cidr"], "master_cidr": MASTER_CIDR}
    assert layout_errors(layout) == []


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_vm_host_is_the_policys_tier2_address(env):
    hosts = yaml.safe_load((ROOT / "inventories" / env / "hosts.yml").read_text(encoding="utf-8"))
    addresses = [host["ansible_host"] for host in hosts["all"]["children"]["squid_vm"]["hosts"].values()]
    assert addresses == [_vars(env, "all", "egress.yml")["egress_policy"]["vm"]["address"]]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_bypass_probe_runs_a_digest_pinned_image(env):
    """verify and diagnose skip the bypass layer without an image; outside the lab the preflight wants a digest. The
    gates' probe (egress_probe_image) and the bypass check run one image."""
    egress, platform = _vars(env, "all", "egress.yml"), _vars(env, "all", "platform.yml")
    assert egress["egress_network_bypass_image"] == "{{ egress_probe_image }}"
    image = egress["egress_probe_image"].replace("{{ gcp_consumer_project }}", platform["gcp_consumer_project"])
    assert "{{" not in image and egress.get("egress_network_bypass_require_digest", True) is True
    assert egress.get("egress_probe_require_digest", True) is True
    assert probe_image_errors(image, require_digest=True) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_inventory_puts_a_credential_in_the_api_environment(env):
    assert credential_keys(_vars(env, "control", "gcp.yml").get("gcp_api_environment", {})) == []


def test_the_wiring_puts_the_vm_in_the_guards_subnet_and_grants_cloudsql_where_the_instance_lives():
    wiring = yaml.safe_load((ROOT / "playbooks" / "group_vars" / "all" / "wiring.yml").read_text(encoding="utf-8"))
    assert wiring["squid_vm_cloud_subnet"] == wiring["egress_network_vm_subnet"] == "{{ network_vm_subnet }}"
    assert "gcp_producer_project" in wiring["psc_consumer_cloudsql_project"]
    for role in ("psc_producer", "psc_consumer", "egress_network", "squid_vm_cloud", "cluster_dns_cloud"):
        assert wiring[f"{role}_gcp_auth"] == "{{ gcp_auth | default({}) }}"


def test_deploy_builds_the_guard_before_the_vm():
    calls = _role_calls(_playbook("deploy.yml"))
    assert calls.index(("psc_consumer", "main")) < calls.index(("egress_network", "main")) < calls.index(("squid_vm_cloud", "main"))


def test_cleanup_removes_the_vm_then_the_guard_then_the_vpc():
    calls = _role_calls(_playbook("cleanup.yml"))
    assert (calls.index(("squid_vm_cloud", "cleanup")) < calls.index(("egress_network", "cleanup"))
            < calls.index(("psc_consumer", "cleanup")))


@pytest.mark.parametrize("playbook", ["verify.yml", "diagnose.yml"])
def test_verify_and_diagnose_run_the_bypass_probe(playbook):
    assert ("egress_network", "bypass") in _role_calls(_playbook(playbook))
