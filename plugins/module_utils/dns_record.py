# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud DNS record sets (name + type in a managed zone): one, or a list of them in one module run.

A record set carries no labels or description, so nothing marks one as made by this collection: absent deletes a
record set only inside a zone that carries the collection's mark (a zone it created), and leaves, saying so, those in
a zone it found.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import MARK_KEY, MARK_VALUE, list_result, marked

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


def _left_in_zone(client, project: str, zone: str, name: str, kind: str) -> str:
    """Why record set ``name kind`` stays: its zone lacks the collection's mark ("" when the zone carries it)."""
    found = client.request("GET", f"{DNS}projects/{project}/managedZones/{zone}", f"read DNS zone {zone}", not_found_ok=True)
    if found is None or marked(found.get("labels")):
        return ""
    return (f"DNS record {name} {kind} left in place: its zone {zone} does not carry the label {MARK_KEY}={MARK_VALUE}, "
            "so this collection did not create the zone, and a record set carries no mark of its own to tell who made "
            "it (set delete_unmarked: true to delete it anyway)")


def _ensure_one(client, project: str, record: dict, check_mode: bool, delete_unmarked: bool = False) -> tuple:
    """(changed, before, after, why the record set was left or "") for one record set."""
    name, kind, zone = fqdn(record["name"]), record["type"], record["zone"]
    rrsets = f"{DNS}projects/{project}/managedZones/{zone}/rrsets"
    url = f"{rrsets}/{name}/{kind}"
    current = client.request("GET", url, f"read DNS record {name} {kind}", not_found_ok=True)
    before = record_view(current)
    if record["state"] == "absent":
        why_left = _left_in_zone(client, project, zone, name, kind) if current is not None and not delete_unmarked else ""
        if why_left:
            return False, before, before, why_left
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete DNS record {name} {kind}")
        return current is not None, before, {}, ""
    desired = {"name": name, "type": kind, "ttl": record["ttl"], "rrdatas": list(record["rrdatas"])}
    after = record_view(desired)
    if before and before["ttl"] == after["ttl"] and sorted(before["rrdatas"]) == sorted(after["rrdatas"]):
        return False, before, before, ""
    if not check_mode:
        what = f"{'update' if current else 'create'} DNS record {name} {kind}"
        if current is None:
            client.request("POST", rrsets, what, body=desired)
        else:
            client.request("PATCH", url, what, body=desired)
    return True, before, after, ""


def ensure_records(client, params: dict, check_mode: bool) -> dict:
    """The record sets as planned; the single form returns ``record`` and its own diff, the list form ``records``
    and a diff keyed by ``zone/name type``; ``left`` and the warnings name the record sets absent left in place."""
    outcomes = [(f"{record['zone']}/{fqdn(record['name'])} {record['type']}",
                 *_ensure_one(client, params["project"], record, check_mode, params.get("delete_unmarked", False)))
                for record in planned_records(params)]
    if params.get("records") is not None:
        result = list_result([outcome[:4] for outcome in outcomes], "records")
    else:
        _key, changed, before, after, _why = outcomes[0]
        result = {"changed": changed, "record": after, "diff": {"before": before, "after": after}}
    left = [(key, why) for key, _changed, _before, _after, why in outcomes if why]
    if left:
        result.update(left=[key for key, _why in left], warnings=[why for _key, why in left])
    return result
