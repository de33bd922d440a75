# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud DNS record sets (name + type in a managed zone): one, or a list of them in one module run."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import list_result

DNS = "https://dns.googleapis.com/dns/v1/"
RECORD_FIELDS = ("zone", "name", "type", "ttl", "rrdatas", "state")


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def record_view(record: dict | None) -> dict:
    if not record:
        return {}
    return {"name": record["name"], "type": record["type"], "ttl": int(record.get("ttl", 0)), "rrdatas": list(record.get("rrdatas", []))}


def planned_records(params: dict) -> list:
    """Each record set the task names (O(records), or the task's own name), the task's zone and state filled in
    where an item leaves them out, each checked before anything changes."""
    listed = params.get("records")
    items = listed if listed is not None else [{field: params.get(field) for field in RECORD_FIELDS}]
    planned, seen = [], {}
    for index, item in enumerate(items):
        record = dict(item, zone=item.get("zone") or params.get("zone"), state=item.get("state") or params["state"])
        label = f"records[{index}] ({item.get('name')} {item.get('type')})" if listed is not None else f"{item.get('name')} {item.get('type')}"
        if not record["zone"]:
            raise GcpError(f"{label}: zone is required (set it on the record or the task)")
        if record["state"] == "present" and not record.get("rrdatas"):
            raise GcpError(f"{label}: rrdatas is required when state is present")
        key = (record["zone"], fqdn(record["name"]), record["type"])
        if key in seen:
            raise GcpError(f"{label}: listed twice (also at records[{seen[key]}])")
        seen[key] = index
        planned.append(record)
    return planned


def _ensure_one(client, project: str, record: dict, check_mode: bool) -> tuple:
    """(changed, before, after) for one record set."""
    name, kind, zone = fqdn(record["name"]), record["type"], record["zone"]
    rrsets = f"{DNS}projects/{project}/managedZones/{zone}/rrsets"
    url = f"{rrsets}/{name}/{kind}"
    current = client.request("GET", url, f"read DNS record {name} {kind}", not_found_ok=True)
    before = record_view(current)
    if record["state"] == "absent":
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete DNS record {name} {kind}")
        return current is not None, before, {}
    desired = {"name": name, "type": kind, "ttl": record["ttl"], "rrdatas": list(record["rrdatas"])}
    after = record_view(desired)
    if before and before["ttl"] == after["ttl"] and sorted(before["rrdatas"]) == sorted(after["rrdatas"]):
        return False, before, before
    if not check_mode:
        what = f"{'update' if current else 'create'} DNS record {name} {kind}"
        if current is None:
            client.request("POST", rrsets, what, body=desired)
        else:
            client.request("PATCH", url, what, body=desired)
    return True, before, after


def ensure_records(client, params: dict, check_mode: bool) -> dict:
    """The record sets as planned; the single form returns ``record`` and its own diff, the list form ``records``
    and a diff keyed by ``zone/name type``."""
    outcomes = [(f"{record['zone']}/{fqdn(record['name'])} {record['type']}",
                 *_ensure_one(client, params["project"], record, check_mode)) for record in planned_records(params)]
    if params.get("records") is not None:
        return list_result(outcomes, "records")
    _key, changed, before, after = outcomes[0]
    return {"changed": changed, "record": after, "diff": {"before": before, "after": after}}
