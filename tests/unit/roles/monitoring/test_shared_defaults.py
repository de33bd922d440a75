# -*- coding: utf-8 -*-
"""The values the monitoring role shares with the roles that open the way to it: each role keeps its own default (a
role runs alone), and these defaults agree - the exporter port with tier 2's firewall rule and tier 1's sidecar, the
namespace of the monitoring objects with the one the tier-1 and app NetworkPolicies admit scrapes from."""

from __future__ import annotations

import pytest
import yaml

from .promql import REPO

SHARED = {
    "the Squid exporter's port": ("monitoring_exporter_port", "squid_gke_exporter_port", "squid_vm_cloud_exporter_port"),
    "the monitoring namespace": ("monitoring_namespace", "squid_gke_metrics_namespace", "app_workload_metrics_namespace"),
}


def role_default(name: str):
    role = next(role for role in ("app_workload", "squid_gke", "squid_vm_cloud", "monitoring") if name.startswith(role))
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))[name]


@pytest.mark.parametrize("what", sorted(SHARED))
def test_the_roles_agree(what):
    values = {name: role_default(name) for name in SHARED[what]}
    assert len(set(values.values())) == 1, f"{what} differs between the roles: {values}"
