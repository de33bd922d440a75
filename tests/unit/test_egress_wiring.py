# -*- coding: utf-8 -*-
"""Issue 16, item 1 on the product's path: every inventory gives the egress VM a subnet of its own, outside the
cluster's ranges (the preflight's rule), and the playbooks call the network guard where the chain is built, removed,
verified and diagnosed, the lab included. Item 5: no inventory puts a credential in a task environment."""

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
    """(role, tasks_from) of every include_role in the playbook, in order (in blocks too)."""

    def of(tasks: list) -> list:
        calls = []
        for task in tasks:
            include = task.get("ansible.builtin.include_role")
            if include:
                calls.append((include["name"].rsplit(".", 1)[-1], include.get("tasks_from", "main")))
            calls += of(task.get("block", []) + task.get("rescue", []) + task.get("always", []))
        return calls

    return [call for play in plays for call in of(play.get("pre_tasks", []) + play.get("tasks", []))]


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


def test_the_lab_runs_the_bypass_layer_with_its_own_probe_image_on_the_real_nodes():
    """inventories/local runs the same layer as dev/staging/prod: the image the lab builds (tests/testbed/images.sh,
    a tag), scheduled like the in-cluster probe on the real nodes; it alone may skip the digest."""
    control = _vars("local", "control", "main.yml")
    images = (ROOT / "tests" / "testbed" / "images.sh").read_text(encoding="utf-8")
    name, tag = control["egress_probe_image"].rsplit("/", 1)[-1].split(":")
    assert f"{name}) debian_image {name} {tag} " in images
    assert control["egress_network_bypass_image"] == "{{ egress_probe_image }}"
    assert control["egress_network_bypass_require_digest"] is False
    assert probe_image_errors(control["egress_probe_image"], require_digest=False) == []
    assert control["egress_network_bypass_pod_overrides"] == "{{ egress_probe_scheduling }}"
    assert control["egress_probe_scheduling"]["nodeSelector"] == {"aibang.testbed/real-node": "true"}
    for env in ("dev", "staging", "prod"):
        assert "egress_network_bypass_require_digest" not in {**_vars(env, "all", "egress.yml"), **_vars(env, "control", "main.yml")}


def _allowed_by_name(host: str, allowed_domains: list) -> bool:
    return any(host == entry or (entry.startswith(".") and (host == entry[1:] or host.endswith(entry))) for entry in allowed_domains)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_bypass_probe_asks_for_a_name_the_policy_denies(env):
    """The probe's third request must get the proxy's 403: its host is outside the policy's allowed names, and the
    allowed request's host inside them."""
    values = {**_vars(env, "all", "egress.yml"), **_vars(env, "control", "main.yml")}
    allowed = values["egress_policy"]["allowed_domains"]
    denied_host = values["egress_network_bypass_denied_target"].split("/")[2]
    target_host = values.get("egress_network_bypass_target", "https://login.microsoftonline.com/").split("/")[2]
    assert not _allowed_by_name(denied_host, allowed) and _allowed_by_name(target_host, allowed)


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
