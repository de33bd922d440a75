# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud DNS managed zones, a list of them in one module run: created, patched (description, networks) or deleted.

A zone's DNS name and visibility cannot change in place: a difference there fails naming the zone. A zone this
module creates carries the collection's mark in its labels; absent deletes only a marked zone that holds nothing but
its own NS and SOA records, and says why it left any other.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import DNS, fqdn
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    differences,
    left_unmarked,
    link,
    link_path,
    list_result,
    marked,
    with_mark,
)


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


def _why_left(client, url: str, zone: dict, delete_unmarked: bool) -> str:
    """Why an existing zone must stay ("" when it may be deleted): not created by this collection, or not empty."""
    if not marked(zone.get("labels")) and not delete_unmarked:
        return left_unmarked(f"DNS zone {zone['name']}", "labels")
    rrsets = client.request("GET", f"{url}/rrsets", f"read the record sets of DNS zone {zone['name']}").get("rrsets", [])
    others = sorted(f"{item['name']} {item['type']}" for item in rrsets
                    if item["type"] not in ("NS", "SOA") or item["name"] != zone.get("dnsName"))
    if others:
        return (f"DNS zone {zone['name']} left in place: it still holds record sets this run did not remove "
                f"({', '.join(others)})")
    return ""


def _ensure_zone(client, zones_url: str, index: int, planned: tuple, check_mode: bool, delete_unmarked: bool = False) -> tuple:
    """(name, changed, before, after, why the zone was left or "") for one planned zone."""
    item, state, desired = planned
    name = item["name"]
    url = f"{zones_url}/{name}"
    current = client.request("GET", url, f"read DNS zone {name}", not_found_ok=True)
    before = zone_view(current)
    if state == "absent":
        why_left = _why_left(client, url, current, delete_unmarked) if current is not None else ""
        if why_left:
            return name, False, before, before, why_left
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete DNS zone {name}")
        return name, current is not None, before, {}, ""
    if current is None:
        if not check_mode:
            client.request("POST", zones_url, f"create DNS zone {name}", body=dict(desired, labels=with_mark(None)))
        return name, True, before, zone_view(desired), ""
    fixed = [field for field in ("dnsName", "visibility") if differences({field: desired[field]}, current)]
    if fixed:
        raise GcpError(f"zones[{index}] ({name}): {' and '.join(fixed)} cannot change in place (is "
                       f"{', '.join(str(current.get(field)) for field in fixed)}): delete the zone first")
    patch = {key: value for key, value in desired.items() if key in ("description", "privateVisibilityConfig")}
    drift = differences(patch, current)
    if drift and not check_mode:
        client.request("PATCH", url, f"update DNS zone {name} ({', '.join(drift)})", body=patch)
    return name, bool(drift), before, zone_view(dict(current, **patch)) if drift else before, ""


def ensure_zones(client, params: dict, check_mode: bool) -> dict:
    zones_url = f"{DNS}projects/{params['project']}/managedZones"
    outcomes = [_ensure_zone(client, zones_url, index, planned, check_mode, params.get("delete_unmarked", False))
                for index, planned in enumerate(planned_zones(params))]
    result = list_result([outcome[:4] for outcome in outcomes], "zones")
    left = [(name, why) for name, _changed, _before, _after, why in outcomes if why]
    if left:
        result.update(left=[name for name, _why in left], warnings=[why for _name, why in left])
    return result
