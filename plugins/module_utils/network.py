# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPC networks and their subnetworks in one module run: created, changed in place where Google allows, or deleted.

A network is made in custom mode (no subnetwork of its own in every region). In place, a subnetwork's primary range
can only grow to a range that holds it (expandIpCidrRange); Private Google Access and the secondary ranges change;
its network cannot. A description is written at creation only (Google keeps it fixed after), so a resource found
existing keeps its own. Present makes the networks before the subnetworks; the subnetworks go before the networks.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    global_,
    link,
    link_path,
    list_result,
    name_of,
    regional,
    same_link,
    without_none,
)


def network_view(network: dict | None) -> dict:
    if not network:
        return {}
    return {"name": network["name"], "description": network.get("description", ""),
            "auto_create_subnetworks": bool(network.get("autoCreateSubnetworks"))}


def _ranges(items: list | None) -> list:
    return sorted(({"range_name": item["rangeName"], "ip_cidr_range": item["ipCidrRange"]} for item in items or []),
                  key=lambda item: item["range_name"])


def subnetwork_view(subnetwork: dict | None) -> dict:
    if not subnetwork:
        return {}
    return {"name": subnetwork["name"], "region": name_of(subnetwork.get("region", "")),
            "network": link_path(subnetwork.get("network", "")), "ip_cidr_range": subnetwork.get("ipCidrRange", ""),
            "private_ip_google_access": bool(subnetwork.get("privateIpGoogleAccess")),
            "secondary_ip_ranges": _ranges(subnetwork.get("secondaryIpRanges")),
            "description": subnetwork.get("description", "")}


def _cidr(label: str, field: str, value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise GcpError(f"{label}: {field} {value!r} is not an IPv4 range in CIDR form ({exc})") from None


def _unique(label: str, key, seen: dict, index: int, listed: str) -> None:
    if key in seen:
        raise GcpError(f"{label}: listed twice (also at {listed}[{seen[key]}])")
    seen[key] = index


def planned_networks(params: dict) -> list:
    """(label, state, desired body) per listed network, each checked before anything changes."""
    planned, seen = [], {}
    for index, item in enumerate(params.get("networks") or []):
        label = f"networks[{index}] ({item['name']})"
        _unique(label, item["name"], seen, index, "networks")
        body = without_none({"name": item["name"], "autoCreateSubnetworks": False, "description": item.get("description")})
        planned.append((label, item.get("state") or params["state"], body))
    return planned


def planned_subnetworks(params: dict) -> list:
    """(label, state, region, desired body) per listed subnetwork, each checked before anything changes."""
    planned, seen = [], {}
    for index, item in enumerate(params.get("subnetworks") or []):
        label = f"subnetworks[{index}] ({item['name']})"
        region = item.get("region") or params.get("region")
        if not region:
            raise GcpError(f"{label}: region is required (set it on the subnetwork or the task)")
        _unique(label, (region, item["name"]), seen, index, "subnetworks")
        state = item.get("state") or params["state"]
        body = {"name": item["name"]}
        if state == "present":
            for field in ("network", "ip_cidr_range"):
                if not item.get(field):
                    raise GcpError(f"{label}: {field} is required when the subnetwork is present")
            body.update(network=link(item["network"], params["project"], "networks"),
                        ipCidrRange=str(_cidr(label, "ip_cidr_range", item["ip_cidr_range"])),
                        privateIpGoogleAccess=item.get("private_ip_google_access"), description=item.get("description"))
            if item.get("secondary_ip_ranges") is not None:
                body["secondaryIpRanges"] = [
                    {"rangeName": entry["range_name"],
                     "ipCidrRange": str(_cidr(label, f"secondary_ip_ranges[{number}].ip_cidr_range", entry["ip_cidr_range"]))}
                    for number, entry in enumerate(item["secondary_ip_ranges"])]
        planned.append((label, state, region, without_none(body)))
    return planned


def _ensure_network(client, params: dict, planned: tuple, check_mode: bool) -> tuple:
    """(name, changed, before, after) for one planned network."""
    label, state, desired = planned
    name, timeout = desired["name"], params["wait_timeout"]
    url = global_(params["project"], "networks", name)
    current = client.request("GET", url, f"read VPC network {name}", not_found_ok=True)
    before = network_view(current)
    if state == "absent":
        if current is not None and not check_mode:
            client.operate("DELETE", url, f"delete VPC network {name}", timeout=timeout)
        return name, current is not None, before, {}
    if current is None:
        if not check_mode:
            client.operate("POST", global_(params["project"], "networks"), f"create VPC network {name}", body=desired,
                           timeout=timeout)
        return name, True, before, network_view(desired)
    if current.get("autoCreateSubnetworks") or "IPv4Range" in current:
        raise GcpError(f"{label}: is {'an auto mode' if current.get('autoCreateSubnetworks') else 'a legacy'} network; "
                       "this module keeps custom mode networks (switch it to custom mode first)")
    return name, False, before, before


def _subnetwork_calls(label: str, desired: dict, current: dict, url: str) -> list:
    """(method, url, what, body) per in-place change, in the order Google needs; an impossible change fails."""
    if not same_link(desired["network"], current.get("network")):
        raise GcpError(f"{label}: network cannot change in place (is {link_path(current.get('network', ''))}): "
                       "delete the subnetwork first")
    calls = []
    ranges = desired.get("secondaryIpRanges")
    if ranges is not None and _ranges(ranges) != _ranges(current.get("secondaryIpRanges")):
        # first: the patch carries the fingerprint read above, which each other call changes
        calls.append(("PATCH", url, "set the secondary ranges of",
                      {"secondaryIpRanges": ranges, "fingerprint": current.get("fingerprint")}))
    if desired["ipCidrRange"] != current.get("ipCidrRange"):
        asked, now = ipaddress.IPv4Network(desired["ipCidrRange"]), ipaddress.IPv4Network(current["ipCidrRange"])
        if asked == now or not now.subnet_of(asked):
            raise GcpError(f"{label}: ip_cidr_range can only grow in place, to a range that holds {now} (asked {asked}): "
                           "delete the subnetwork first")
        calls.append(("POST", f"{url}/expandIpCidrRange", "expand", {"ipCidrRange": desired["ipCidrRange"]}))
    access = desired.get("privateIpGoogleAccess")
    if access is not None and access != bool(current.get("privateIpGoogleAccess")):
        calls.append(("POST", f"{url}/setPrivateIpGoogleAccess", "set Private Google Access on",
                      {"privateIpGoogleAccess": access}))
    return calls


def _ensure_subnetwork(client, params: dict, planned: tuple, check_mode: bool) -> tuple:
    """(region/name, changed, before, after) for one planned subnetwork."""
    label, state, region, desired = planned
    name, project, timeout = desired["name"], params["project"], params["wait_timeout"]
    key = f"{region}/{name}"
    url = regional(project, region, "subnetworks", name)
    current = client.request("GET", url, f"read subnetwork {name}", not_found_ok=True)
    before = subnetwork_view(current)
    if state == "absent":
        if current is not None and not check_mode:
            client.operate("DELETE", url, f"delete subnetwork {name}", timeout=timeout)
        return key, current is not None, before, {}
    if current is None:
        if not check_mode:
            client.operate("POST", regional(project, region, "subnetworks"), f"create subnetwork {name}", body=desired,
                           timeout=timeout)
        return key, True, before, subnetwork_view(dict(desired, region=region))
    calls = _subnetwork_calls(label, desired, current, url)
    if not check_mode:
        for method, call_url, what, body in calls:
            client.operate(method, call_url, f"{what} subnetwork {name}", body=body, timeout=timeout)
    changed = {field: value for field, value in desired.items() if field not in ("description", "network")}
    return key, bool(calls), before, subnetwork_view(dict(current, **changed)) if calls else before


def ensure_networks(client, params: dict, check_mode: bool) -> dict:
    networks, subnetworks = planned_networks(params), planned_subnetworks(params)
    made = [_ensure_network(client, params, item, check_mode) for item in networks if item[1] == "present"]
    subnets = [_ensure_subnetwork(client, params, item, check_mode) for item in subnetworks]
    gone = [_ensure_network(client, params, item, check_mode) for item in networks if item[1] == "absent"]
    by_name = {outcome[0]: outcome for outcome in made + gone}
    network_result = list_result([by_name[item[2]["name"]] for item in networks], "networks")
    subnet_result = list_result(subnets, "subnetworks")
    diff = {side: {key: views for key, views in (("networks", network_result["diff"][side]),
                                                 ("subnetworks", subnet_result["diff"][side])) if views}
            for side in ("before", "after")}
    return {"changed": network_result["changed"] or subnet_result["changed"], "networks": network_result["networks"],
            "subnetworks": subnet_result["subnetworks"], "diff": diff}
