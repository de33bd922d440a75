# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Cloud DNS record set (name + type) in a managed zone."""

from __future__ import annotations

DNS = "https://dns.googleapis.com/dns/v1/"


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def record_view(record: dict | None) -> dict:
    if not record:
        return {}
    return {"name": record["name"], "type": record["type"], "ttl": int(record.get("ttl", 0)), "rrdatas": list(record.get("rrdatas", []))}


def ensure_record(client, params: dict, check_mode: bool) -> dict:
    name = fqdn(params["name"])
    url = f"{DNS}projects/{params['project']}/managedZones/{params['zone']}/rrsets/{name}/{params['type']}"
    current = client.request("GET", url, f"read DNS record {name} {params['type']}", not_found_ok=True)
    before = record_view(current)
    if params["state"] == "absent":
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete DNS record {name} {params['type']}")
        return {"changed": current is not None, "record": {}, "diff": {"before": before, "after": {}}}
    desired = {"name": name, "type": params["type"], "ttl": params["ttl"], "rrdatas": list(params["rrdatas"])}
    after = record_view(desired)
    if before == after or (before and before["ttl"] == after["ttl"] and sorted(before["rrdatas"]) == sorted(after["rrdatas"])):
        return {"changed": False, "record": before, "diff": {"before": before, "after": before}}
    if not check_mode:
        what = f"{'update' if current else 'create'} DNS record {name} {params['type']}"
        if current is None:
            client.request("POST", f"{DNS}projects/{params['project']}/managedZones/{params['zone']}/rrsets", what, body=desired)
        else:
            client.request("PATCH", url, what, body=desired)
    return {"changed": True, "record": after, "diff": {"before": before, "after": after}}
