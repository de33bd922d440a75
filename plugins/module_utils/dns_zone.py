# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud DNS managed zones, a list of them in one module run: created, patched (description, networks) or deleted.

A zone's DNS name and visibility cannot change in place: a difference there fails naming the zone.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import DNS, fqdn
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import differences, link, link_path, list_result


def zone_view(zone: dict | None) -> dict:
    """name, dns_name, description, visibility and networks (as paths) of a zone ({} for a missing one)."""
    if not zone:
        return {}
    networks = ((zone.get("privateVisibilityConfig") or {}).get("networks")) or []
    return {"name": zone["name"], "dns_name": zone.get("dnsName", ""), "description": zone.get("description", ""),
            "visibility": zone.get("visibility", "public"), "networks": sorted(link_path(item["networkUrl"]) for item in networks)}


def planned_zones(params: dict) -> list:
    """(item, state, desired body or None) per listed zone, each checked before anything changes."""
    planned, seen = [], {}
    for index, item in enumerate(params["zones"]):
        label = f"zones[{index}] ({item['name']})"
        if item["name"] in seen:
            raise GcpError(f"{label}: listed twice (also at zones[{seen[item['name']]}])")
        seen[item["name"]] = index
        state = item.get("state") or params["state"]
        if state == "absent":
            planned.append((item, state, None))
            continue
        if not item.get("dns_name"):
            raise GcpError(f"{label}: dns_name is required when the zone is present")
        body = {"name": item["name"], "dnsName": fqdn(item["dns_name"]), "description": item.get("description") or "",
                "visibility": item["visibility"]}
        if item["visibility"] == "private":
            if not item.get("networks"):
                raise GcpError(f"{label}: a private zone needs networks (the VPCs that see it)")
            body["privateVisibilityConfig"] = {"networks": [{"networkUrl": link(network, params["project"], "networks")}
                                                            for network in item["networks"]]}
        planned.append((item, state, body))
    return planned


def _ensure_zone(client, zones_url: str, index: int, planned: tuple, check_mode: bool) -> tuple:
    """(name, changed, before, after) for one planned zone."""
    item, state, desired = planned
    name = item["name"]
    url = f"{zones_url}/{name}"
    current = client.request("GET", url, f"read DNS zone {name}", not_found_ok=True)
    before = zone_view(current)
    if state == "absent":
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete DNS zone {name}")
        return name, current is not None, before, {}
    if current is None:
        if not check_mode:
            client.request("POST", zones_url, f"create DNS zone {name}", body=desired)
        return name, True, before, zone_view(desired)
    fixed = [field for field in ("dnsName", "visibility") if differences({field: desired[field]}, current)]
    if fixed:
        raise GcpError(f"zones[{index}] ({name}): {' and '.join(fixed)} cannot change in place (is "
                       f"{', '.join(str(current.get(field)) for field in fixed)}): delete the zone first")
    patch = {key: value for key, value in desired.items() if key in ("description", "privateVisibilityConfig")}
    drift = differences(patch, current)
    if drift and not check_mode:
        client.request("PATCH", url, f"update DNS zone {name} ({', '.join(drift)})", body=patch)
    return name, bool(drift), before, zone_view(dict(current, **patch)) if drift else before


def ensure_zones(client, params: dict, check_mode: bool) -> dict:
    zones_url = f"{DNS}projects/{params['project']}/managedZones"
    return list_result([_ensure_zone(client, zones_url, index, planned, check_mode)
                        for index, planned in enumerate(planned_zones(params))], "zones")
