# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud NAT: one NAT config on a Cloud Router (created when missing), so private VMs reach the internet.

Only the listed subnets' primary ranges are translated: never a whole region, never a secondary range. A GKE
subnet's secondary ranges hold the pods; NAT on them would let every pod reach the internet around the proxy.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    DESCRIPTION_MARK, differences, link, regional, without_none)


PRIMARY_ONLY = ["PRIMARY_IP_RANGE"]
# Routers carry no labels: a router this module creates says so in its description, and only such a router, left
# without NAT configs, interfaces or BGP peers, is deleted with O(delete_empty_router).
ROUTER_MARK = DESCRIPTION_MARK


def router_leftover(router: dict | None, nats_left: list) -> str:
    """Why a router must stay after its NAT config went; empty when it may be deleted."""
    if router is None:
        return ""
    if ROUTER_MARK not in (router.get("description") or ""):
        return (f"Cloud Router {router['name']} left in place: its description lacks '{ROUTER_MARK}', so this "
                "collection did not create it")
    holdings = (("NAT configs " + ", ".join(item["name"] for item in nats_left), nats_left),
                ("interfaces", router.get("interfaces")), ("BGP peers", router.get("bgpPeers")))
    used = [what for what, present in holdings if present]
    if used:
        return f"Cloud Router {router['name']} left in place: it still holds {' and '.join(used)}"
    return ""


def desired_nat(params: dict) -> dict:
    subnetworks = params["subnetworks"]
    if not subnetworks:
        raise GcpError(f"Failed to plan Cloud NAT {params['name']}: subnetworks is empty; list the subnets to NAT "
                       "(a NAT for every subnet of the region would cover the GKE nodes and pods)")
    return without_none({
        "name": params["name"],
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
        "subnetworks": [{"name": link(subnet, params["project"], "subnetworks", params["region"]),
                         "sourceIpRangesToNat": PRIMARY_ONLY} for subnet in subnetworks],
        "minPortsPerVm": params["min_ports_per_vm"],
        "logConfig": {"enable": params["log"] != "none", "filter": {"errors": "ERRORS_ONLY", "all": "ALL"}.get(params["log"], "ALL")},
    })


def nat_view(router: dict | None, name: str) -> dict:
    nat = next((item for item in (router or {}).get("nats", []) if item["name"] == name), None)
    if nat is None:
        return {}
    return {"name": nat["name"], "router": router["name"], "source": nat.get("sourceSubnetworkIpRangesToNat"),
            "subnetworks": [item["name"].rsplit("/", 1)[-1] for item in nat.get("subnetworks", [])],
            "ip_ranges": sorted({kind for item in nat.get("subnetworks", []) for kind in item.get("sourceIpRangesToNat", [])}),
            "log": (nat.get("logConfig") or {}).get("filter", "") if (nat.get("logConfig") or {}).get("enable") else "none"}


def ensure_nat(client, params: dict, check_mode: bool) -> dict:
    project, region = params["project"], params["region"]
    desired = desired_nat(params) if params["state"] == "present" else None
    url = regional(project, region, "routers", params["router"])
    router = client.request("GET", url, f"read Cloud Router {params['router']}", not_found_ok=True)
    before = nat_view(router, params["name"])
    others = [item for item in (router or {}).get("nats", []) if item["name"] != params["name"]]
    if params["state"] == "absent":
        changed = bool(before)
        if changed and not check_mode:
            _patch(client, url, router, others, f"remove Cloud NAT {params['name']} from router {params['router']}")
        result = {"changed": changed, "nat": {}, "diff": {"before": before, "after": {}}}
        if params.get("delete_empty_router") and router is not None:
            left = router_leftover(router, others)
            result["router_left"] = left
            if not left:
                result["changed"] = True
                if not check_mode:
                    client.operate("DELETE", url, f"delete Cloud Router {params['router']}")
        return result
    current = next((item for item in (router or {}).get("nats", []) if item["name"] == params["name"]), None)
    if current is not None and not differences(desired, current):
        return {"changed": False, "nat": before, "diff": {"before": before, "after": before}}
    planned = nat_view({"name": params["router"], "nats": [desired]}, params["name"])
    if check_mode:
        return {"changed": True, "nat": planned, "diff": {"before": before, "after": planned}}
    if router is None:
        if not params["network"]:
            raise GcpError(f"Failed to create Cloud Router {params['router']}: it does not exist and network is not set")
        what = f"create Cloud Router {params['router']} for Cloud NAT {params['name']}"
        body = {"name": params["router"], "network": link(params["network"], project, "networks"), "nats": [desired],
                "description": f"Cloud NAT for the egress VM ({ROUTER_MARK})"}
        client.operate("POST", regional(project, region, "routers"), what, body=body)
    else:
        _patch(client, url, router, others + [desired], f"set Cloud NAT {params['name']} on router {params['router']}")
    after = nat_view(client.request("GET", url, f"read Cloud Router {params['router']}"), params["name"])
    return {"changed": True, "nat": after, "diff": {"before": before, "after": after}}


def _patch(client, url: str, router: dict, nats: list, what: str) -> None:
    client.operate("PATCH", url, what, body={"nats": nats})
