# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API enablement through Service Usage."""

from __future__ import annotations

SERVICEUSAGE = "https://serviceusage.googleapis.com/v1/"
BATCH_LIMIT = 20  # batchEnable takes at most 20 services per call


def ensure_services(client, params: dict, check_mode: bool) -> dict:
    project = params["project"]
    enabled = []
    for service in params["services"]:
        found = client.request("GET", f"{SERVICEUSAGE}projects/{project}/services/{service}", f"read API {service} of {project}")
        if found.get("state") == "ENABLED":
            enabled.append(service)
    if params["state"] == "present":
        todo = [service for service in params["services"] if service not in enabled]
        after = sorted(params["services"])
    else:
        todo = list(enabled)
        after = []
    # Ansible's callbacks show a diff side that is a dict or text, never a list
    result = {"changed": bool(todo), "services": after,
              "diff": {"before": {"enabled": sorted(enabled)}, "after": {"enabled": after}}}
    if check_mode or not todo:
        return result
    if params["state"] == "present":
        for start in range(0, len(todo), BATCH_LIMIT):
            batch = todo[start:start + BATCH_LIMIT]
            what = f"enable {', '.join(batch)} on {project}"
            client.operate("POST", f"{SERVICEUSAGE}projects/{project}/services:batchEnable", what,
                           body={"serviceIds": batch}, timeout=params["wait_timeout"])
    else:
        for service in todo:
            what = f"disable {service} on {project}"
            client.operate("POST", f"{SERVICEUSAGE}projects/{project}/services/{service}:disable", what,
                           body={"disableDependentServices": False, "checkIfServiceHasUsage": "CHECK"},
                           timeout=params["wait_timeout"])
    return result
