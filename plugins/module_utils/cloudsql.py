# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud SQL for MySQL with Private Service Connect: instance, databases, users. No Ansible imports."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    differences,
    left_unmarked,
    marked,
    with_mark,
    without_none,
)

SQLADMIN = "https://sqladmin.googleapis.com/v1/"


def _instance_url(params: dict, name: str = "") -> str:
    return f"{SQLADMIN}projects/{params['project']}/instances/{params['name']}" + (f"/{name}" if name else "")


def desired_instance(params: dict) -> dict:
    return without_none({
        "name": params["name"],
        "region": params["region"],
        "databaseVersion": params["database_version"],
        "settings": {
            "tier": params["tier"],
            "edition": params["edition"],
            "availabilityType": params["availability_type"],
            "dataDiskSizeGb": str(params["disk_size_gb"]) if params["disk_size_gb"] else None,
            "deletionProtectionEnabled": params["deletion_protection"],
            "userLabels": params["labels"] or None,
            "backupConfiguration": {"enabled": params["backups"], "binaryLogEnabled": params["backups"]},
            "ipConfiguration": {
                "ipv4Enabled": False,
                "sslMode": params["ssl_mode"],
                "pscConfig": {"pscEnabled": True, "allowedConsumerProjects": list(params["allowed_consumer_projects"])},
            },
        },
    })


def instance_view(instance: dict | None) -> dict:
    if not instance:
        return {}
    settings = instance.get("settings", {})
    psc = (settings.get("ipConfiguration") or {}).get("pscConfig") or {}
    return {
        "name": instance.get("name"),
        "state": instance.get("state"),
        "database_version": instance.get("databaseVersion"),
        "connection_name": instance.get("connectionName"),
        "tier": settings.get("tier"),
        "deletion_protection": settings.get("deletionProtectionEnabled", False),
        "public_ip": (settings.get("ipConfiguration") or {}).get("ipv4Enabled", False),
        "ssl_mode": (settings.get("ipConfiguration") or {}).get("sslMode", ""),
        "allowed_consumer_projects": sorted(psc.get("allowedConsumerProjects", [])),
        "service_attachment": instance.get("pscServiceAttachmentLink"),
        "dns_name": instance.get("dnsName"),
    }


def ensure_instance(client, params: dict, check_mode: bool) -> dict:
    if params["state"] == "present":
        check_users(params)
    url = _instance_url(params)
    current = client.request("GET", url, f"read Cloud SQL instance {params['name']}", not_found_ok=True)
    before = instance_view(current)
    if params["state"] == "absent":
        return _remove(client, params, current, before, check_mode)
    desired = desired_instance(params)
    if current is None:
        if check_mode:
            after = instance_view(desired)
            return {"changed": True, "instance": after, "diff": {"before": before, "after": after}}
        current = _create(client, params, desired)
        changed = True
    else:
        current, changed = _update(client, params, current, desired, check_mode)
    children_changed = _ensure_databases(client, params, check_mode) | _ensure_users(client, params, check_mode)
    after = instance_view(current)
    return {"changed": changed or children_changed, "instance": after, "service_attachment": after["service_attachment"],
            "dns_name": after["dns_name"], "diff": {"before": before, "after": after}}


def check_users(params: dict) -> None:
    """Each user names its host: a user reachable from any address ('%') is a choice to write down, not a default."""
    for index, user in enumerate(params["users"]):
        host = user.get("host")
        if not isinstance(host, str) or not host or any(char.isspace() or ord(char) < 32 for char in host):
            raise GcpError(f"Failed to plan users of Cloud SQL instance {params['name']}: users[{index}] "
                           f"({user.get('name')}) has host {host!r}; give the clients' address pattern (for example "
                           "10.128.%), or '%' to accept any address")


def _create(client, params: dict, desired: dict) -> dict:
    what = f"create Cloud SQL instance {params['name']}"
    body = dict(desired, settings=dict(desired["settings"], userLabels=with_mark(desired["settings"].get("userLabels"))))
    client.operate("POST", f"{SQLADMIN}projects/{params['project']}/instances", what, body=body,
                   timeout=params["wait_timeout"], poll=params["poll_interval"])
    return client.request("GET", _instance_url(params), what)


def _update(client, params: dict, current: dict, desired: dict, check_mode: bool):
    stale = differences(desired, current)
    if "databaseVersion" in stale:
        raise GcpError(f"Failed to update Cloud SQL instance {params['name']}: database_version is "
                       f"{current.get('databaseVersion')}, asked {desired['databaseVersion']}; a major version upgrade is "
                       "not done in place by this module")
    if "region" in stale:
        raise GcpError(f"Failed to update Cloud SQL instance {params['name']}: region is {current.get('region')}, "
                       f"asked {desired['region']}; an instance cannot move")
    if not stale:
        return current, False
    if check_mode:
        merged = dict(current, settings=dict(current.get("settings", {}), **desired["settings"]))
        return dict(merged, state=None), True
    what = f"update Cloud SQL instance {params['name']} ({', '.join(stale)})"
    patch = {"settings": _settings_patch(desired["settings"], stale)}
    if "userLabels" in patch["settings"] and marked(current.get("settings", {}).get("userLabels")):
        patch["settings"]["userLabels"] = with_mark(patch["settings"]["userLabels"])  # a label change keeps the mark
    client.operate("PATCH", _instance_url(params), what, body=patch,
                   timeout=params["wait_timeout"], poll=params["poll_interval"])
    updated = client.request("GET", _instance_url(params), f"re-read Cloud SQL instance {params['name']}")
    _verify_allowed_projects(params, updated)
    return updated, True


def _settings_patch(settings: dict, stale: list) -> dict:
    """The settings blocks holding the stale fields, whole (Cloud SQL replaces nested lists as given)."""
    blocks = sorted({field.split(".")[1] for field in stale if field.startswith("settings.")})
    return {block: settings[block] for block in blocks}


def _verify_allowed_projects(params: dict, instance: dict) -> None:
    """Cloud SQL may accept a patch and leave the PSC allow-list as it was; say so instead of reporting success."""
    psc = ((instance.get("settings") or {}).get("ipConfiguration") or {}).get("pscConfig") or {}
    have = sorted(psc.get("allowedConsumerProjects", []))
    want = sorted(params["allowed_consumer_projects"])
    if have != want:
        raise GcpError(f"Failed to update Cloud SQL instance {params['name']}: the update finished but "
                       f"allowedConsumerProjects is {have}, not {want}; Cloud SQL ignored the change. "
                       "Re-run, or set it with: gcloud sql instances patch "
                       f"{params['name']} --allowed-psc-projects={','.join(want)}")


def _remove(client, params: dict, current: dict | None, before: dict, check_mode: bool) -> dict:
    if current is None:
        return {"changed": False, "instance": {}, "diff": {"before": before, "after": {}}}
    if not marked(current.get("settings", {}).get("userLabels")) and not params.get("delete_unmarked"):
        return {"changed": False, "instance": before, "left": True, "diff": {"before": before, "after": before},
                "warnings": [left_unmarked(f"Cloud SQL instance {params['name']}", "settings.userLabels")]}
    if current.get("settings", {}).get("deletionProtectionEnabled"):
        raise GcpError(f"Failed to delete Cloud SQL instance {params['name']}: deletion protection is on; set "
                       "deletion_protection: false and apply first (prod keeps it on deliberately)")
    if not check_mode:
        what = f"delete Cloud SQL instance {params['name']}"
        client.operate("DELETE", _instance_url(params), what, timeout=params["wait_timeout"], poll=params["poll_interval"])
    return {"changed": True, "instance": {}, "diff": {"before": before, "after": {}}}


def _ensure_databases(client, params: dict, check_mode: bool) -> bool:
    changed = False
    for database in params["databases"]:
        what = f"create database {database['name']} on {params['name']}"
        if client.request("GET", _instance_url(params, f"databases/{database['name']}"), what, not_found_ok=True):
            continue
        changed = True
        if not check_mode:
            body = without_none({"name": database["name"], "charset": database.get("charset"), "collation": database.get("collation")})
            client.operate("POST", _instance_url(params, "databases"), what, body=body)
    return changed


def _ensure_users(client, params: dict, check_mode: bool) -> bool:
    changed = False
    existing = {(user.get("name"), user.get("host", "%")) for user in
                client.list_all(_instance_url(params, "users"), "items", f"list users of {params['name']}")}
    for user in params["users"]:
        host = user["host"]
        body = {"name": user["name"], "host": host, "password": user["password"]}
        if (user["name"], host) not in existing:
            what = f"create user {user['name']} on {params['name']}"
            method, url, query = "POST", _instance_url(params, "users"), None
        elif params["update_password"] == "always":
            what = f"set the password of user {user['name']} on {params['name']}"
            method, url, query = "PUT", _instance_url(params, "users"), {"name": user["name"], "host": host}
        else:
            continue
        changed = True
        if not check_mode:
            client.operate(method, url, what, body=body, params=query)
    return changed


def read_instance(client, params: dict, check_mode: bool = False) -> dict:
    found = client.request("GET", _instance_url(params), f"read Cloud SQL instance {params['name']}", not_found_ok=True)
    return {"changed": False, "exists": found is not None, "instance": instance_view(found)}
