# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read named resources that may not exist, in one module run: what a role needs to know before it creates (whether
to write the collection's mark) and before it deletes (whether the resource carries the mark)."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import global_, regional

# option -> (what it is, the resource's URL from (project, region, name))
KINDS = {
    "networks": ("VPC network", lambda project, region, name: global_(project, "networks", name)),
    "subnetworks": ("subnetwork", lambda project, region, name: regional(project, region, "subnetworks", name)),
    "firewall_rules": ("firewall rule", lambda project, region, name: global_(project, "firewalls", name)),
    "service_accounts": ("service account",
                         lambda project, region, name: f"https://iam.googleapis.com/v1/projects/-/serviceAccounts/{name}"),
}


def read_resources(client, params: dict, check_mode: bool) -> dict:
    """Per option, name -> the resource as Google returns it, for the names that exist (a missing one is left out)."""
    if params.get("subnetworks") and not params.get("region"):
        raise GcpError("region is required with subnetworks")
    result = {"changed": False}
    for option, (what, url) in KINDS.items():
        found = {}
        for name in params.get(option) or []:
            resource = client.request("GET", url(params["project"], params.get("region"), name), f"read {what} {name}",
                                      not_found_ok=True)
            if resource is not None:
                found[name] = resource
        result[option] = found
    return result
