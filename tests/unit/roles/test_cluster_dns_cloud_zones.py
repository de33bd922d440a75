# -*- coding: utf-8 -*-
"""cluster_dns's cloud_dns mode makes and removes its alias zones with gcp_dns_zones (issue 16, item 7): the role's
zone list, rendered from its own vars and defaults, goes through ensure_zones against the in-process GCP fake, so a
zone the role creates carries the collection's mark and cleanup leaves a zone it found."""

from __future__ import annotations

import pathlib

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_zone import ensure_zones

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "cluster_dns"
ZONE = "dns:projects/consumer/managedZones/egress-alias-proxy-intra-example"


def _zone_list() -> list:
    loader = DataLoader()
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "cluster_dns_block": "intra", "cluster_dns_cloud_project": "consumer",
                 "cluster_dns_aliases": {"proxy.intra.example": "squid.intra-proxy.svc.cluster.local"}}
    return Templar(loader=loader, variables=variables).template(trust_as_template("{{ _cluster_dns_cloud_zone_list }}"))


def _params(state: str) -> dict:
    return {"project": "consumer", "state": state,
            "zones": [dict({"visibility": "private", "state": None}, **zone) for zone in _zone_list()]}


def test_the_role_passes_its_zones_to_gcp_dns_zones_for_both_states():
    tasks = yaml.safe_load((ROLE / "tasks" / "cloud_dns.yml").read_text(encoding="utf-8"))
    block = next(task for task in tasks if "block" in task)["block"]
    zone_tasks = [task["aibang.gke_platform.gcp_dns_zones"] for task in block if "aibang.gke_platform.gcp_dns_zones" in task]
    assert [task["zones"] for task in zone_tasks] == ["{{ _cluster_dns_cloud_zone_list }}"] * 2
    assert [task.get("state", "present") for task in zone_tasks] == ["present", "absent"]
    assert not [task for task in block if "google.cloud.gcp_dns_managed_zone" in task]


def test_a_zone_the_role_creates_is_marked_and_removed(gcp):
    gcp.network("consumer", "platform-vpc")
    assert _zone_list() == [{"name": "egress-alias-proxy-intra-example", "dns_name": "proxy.intra.example",
                             "description": "Egress proxy alias (aibang.gke_platform cluster_dns, block intra)",
                             "networks": ["https://www.googleapis.com/compute/v1/projects/consumer/global/networks/platform-vpc"]}]
    gcp.run(ensure_zones, _params("present"))
    assert gcp.google.resources[ZONE]["labels"] == {"managed-by": "aibang-gke-platform"}
    assert gcp.run(ensure_zones, _params("present"))["changed"] is False
    assert gcp.run(ensure_zones, _params("absent"))["changed"] is True and not gcp.exists(ZONE)


def test_a_zone_the_role_found_is_left(gcp):
    gcp.network("consumer", "platform-vpc")
    gcp.managed_zone("consumer", "egress-alias-proxy-intra-example", "proxy.intra.example.")
    left = gcp.run(ensure_zones, _params("absent"))
    assert left["changed"] is False and left["left"] == ["egress-alias-proxy-intra-example"] and gcp.exists(ZONE)
