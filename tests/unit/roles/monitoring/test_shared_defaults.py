# -*- coding: utf-8 -*-
"""The values the monitoring role shares with the roles that open the way to it, written once for the platform
(playbooks/group_vars/all/wiring.yml): the Squid exporter's port (tier 1's sidecar, tier 2's firewall rule, the scrape
targets) and the namespace Prometheus runs in (the tier-1 and app NetworkPolicies admit scrapes from it). The wiring
hands the one value to every role; each role keeps a default of its own for running alone, equal to the platform's."""

from __future__ import annotations

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from .promql import REPO

WIRING = REPO / "playbooks" / "group_vars" / "all" / "wiring.yml"
ROLES = ("app_workload", "squid_gke", "squid_vm_cloud", "monitoring")
# The platform's variable, and every role variable that must hold its value.
SHARED = {
    "metrics_exporter_port": ("monitoring_exporter_port", "squid_gke_exporter_port", "squid_vm_cloud_exporter_port"),
    "metrics_namespace": ("monitoring_namespace", "squid_gke_metrics_namespace", "app_workload_metrics_namespace"),
}
CHANGED = {"metrics_exporter_port": 9401, "metrics_namespace": "observability"}


def role_of(name: str) -> str:
    return next(role for role in ROLES if name.startswith(role + "_"))


def load(path) -> dict:
    return DataLoader().load_from_file(str(path), trusted_as_template=True)  # as Ansible loads it: strings are templates


def wiring() -> dict:
    return yaml.safe_load(WIRING.read_text(encoding="utf-8"))


@pytest.mark.parametrize("platform", sorted(SHARED))
def test_the_wiring_hands_the_one_value_to_every_role(platform):
    wired = wiring()
    assert platform in wired, f"{platform} is not set in {WIRING.relative_to(REPO)}"
    assert {name: wired.get(name) for name in SHARED[platform]} == {name: f"{{{{ {platform} }}}}" for name in SHARED[platform]}


@pytest.mark.parametrize("platform", sorted(SHARED))
def test_each_roles_own_default_is_the_platforms(platform):
    value = wiring()[platform]
    defaults = {name: yaml.safe_load((REPO / "roles" / role_of(name) / "defaults" / "main.yml").read_text(encoding="utf-8"))[name]
                for name in SHARED[platform]}
    assert defaults == dict.fromkeys(SHARED[platform], value), f"a role's standalone default differs from {platform}"


@pytest.mark.parametrize("platform", sorted(SHARED))
def test_one_setting_reaches_every_role(platform):
    """An inventory's group_vars/<group>/ sets the platform value (it takes precedence over wiring.yml, which takes
    precedence over the role defaults): every role reads the new value."""
    variables = {}
    for role in ROLES:
        variables.update(load(REPO / "roles" / role / "defaults" / "main.yml"))
    variables.update(load(WIRING))
    variables[platform] = CHANGED[platform]
    templar = Templar(loader=DataLoader(), variables=variables)
    seen = {name: templar.template(trust_as_template(f"{{{{ {name} }}}}")) for name in SHARED[platform]}
    assert seen == dict.fromkeys(SHARED[platform], CHANGED[platform])


def test_no_inventory_sets_a_roles_copy():
    """An inventory that set one role's copy would split the value; it sets the platform variable instead."""
    copies = {name for names in SHARED.values() for name in names}
    found = [f"{path.relative_to(REPO)}: {name}" for path in sorted((REPO / "inventories").rglob("*.yml"))
             for name in copies & set(yaml.safe_load(path.read_text(encoding="utf-8")) or {})]
    assert not found, found
