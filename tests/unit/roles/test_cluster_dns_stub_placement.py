# -*- coding: utf-8 -*-
"""Where cluster_dns's stub server (kube_dns_stub mode) runs: cluster_dns_stub_node_selector and
cluster_dns_stub_tolerations place its pods, e.g. on a dedicated node pool and its taint; by default any node.
Rendered from the role's own template and defaults."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "cluster_dns"
POOL = {"cloud.google.com/gke-nodepool": "egress"}
TAINT = [{"key": "dedicated", "operator": "Equal", "value": "egress", "effect": "NoSchedule"}]


def _pod_spec(**overrides) -> dict:
    loader = DataLoader()  # loads the role's files as Ansible does: their strings are templates
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "cluster_dns_aliases": {"proxy.intra.example": "squid.intra-proxy.svc.cluster.local"},
                 "_cluster_dns_addresses": {"proxy.intra.example": "10.96.0.20"},
                 "ansible_managed": "Ansible managed", "ansible_search_path": [str(ROLE)], **overrides}
    text = Templar(loader=loader, variables=variables).template(
        trust_as_template((ROLE / "templates" / "alias-dns.yaml.j2").read_text(encoding="utf-8")))
    deployment = next(item for item in yaml.safe_load_all(text) if item and item["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    "overrides, node_selector, tolerations",
    [
        ({}, None, None),
        ({"cluster_dns_stub_node_selector": POOL}, POOL, None),
        ({"cluster_dns_stub_node_selector": POOL, "cluster_dns_stub_tolerations": TAINT}, POOL, TAINT),
    ],
    ids=["any-node", "node-pool", "node-pool-and-taint"],
)
def test_the_stub_pods_land_where_the_placement_variables_say(overrides, node_selector, tolerations):
    spec = _pod_spec(**overrides)
    assert spec.get("nodeSelector") == node_selector
    assert spec.get("tolerations") == tolerations
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True  # the rest renders as before
