# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM service accounts, a list of them in one module run: created, patched (display name, description) or deleted.

A display name or description left unset (None) is not managed: an existing account keeps its own. No key is ever
created; workloads reach Google as the account through Workload Identity or the metadata server.
"""

from __future__ import annotations

import re

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import list_result

IAM = "https://iam.googleapis.com/v1/"
_ACCOUNT_ID = re.compile(r"[a-z][-a-z0-9]{4,28}[a-z0-9]")
_MANAGED = {"display_name": "displayName", "description": "description"}


def account_view(account: dict | None) -> dict:
    """email, display_name and description of an account ({} for a missing one)."""
    if not account:
        return {}
    return {"email": account["email"], "display_name": account.get("displayName", ""),
            "description": account.get("description", "")}


def _email_and_project(label: str, name: str, project: str) -> tuple:
    """(email, the project that holds it) for an account ID in ``project`` or an email of a user-managed account."""
    account_id, _at, domain = name.partition("@")
    if domain:
        if not domain.endswith(".iam.gserviceaccount.com"):
            raise GcpError(f"{label}: {name!r} is not a user-managed service account "
                           "(ACCOUNT_ID@PROJECT.iam.gserviceaccount.com); this module does not manage Google's own accounts")
        project = domain[:-len(".iam.gserviceaccount.com")]
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise GcpError(f"{label}: account ID {account_id!r} must be 6 to 30 lowercase letters, digits or hyphens, "
                       "starting with a letter and not ending with a hyphen")
    return f"{account_id}@{project}.iam.gserviceaccount.com", project


def planned_accounts(params: dict) -> list:
    """(email, project, state, managed fields) per listed account, each checked before anything changes."""
    planned, seen = [], {}
    for index, item in enumerate(params["accounts"]):
        label = f"accounts[{index}] ({item['name']})"
        email, project = _email_and_project(label, item["name"], params["project"])
        if email in seen:
            raise GcpError(f"{label}: listed twice (also at accounts[{seen[email]}])")
        seen[email] = index
        fields = {api: item[option] for option, api in _MANAGED.items() if item.get(option) is not None}
        planned.append((email, project, item.get("state") or params["state"], fields))
    return planned


def _ensure_account(client, planned: tuple, check_mode: bool) -> tuple:
    """(email, changed, before, after) for one planned account."""
    email, project, state, fields = planned
    url = f"{IAM}projects/-/serviceAccounts/{email}"
    current = client.request("GET", url, f"read service account {email}", not_found_ok=True)
    before = account_view(current)
    if state == "absent":
        if current is not None and not check_mode:
            client.request("DELETE", url, f"delete service account {email}")
        return email, current is not None, before, {}
    if current is None:
        created = {"email": email, **fields}
        if not check_mode:
            created = client.request("POST", f"{IAM}projects/{project}/serviceAccounts", f"create service account {email}",
                                     body={"accountId": email.split("@", 1)[0], "serviceAccount": fields})
        return email, True, before, account_view(created)
    drift = sorted(field for field, value in fields.items() if current.get(field, "") != value)
    if not drift:
        return email, False, before, before
    if not check_mode:
        client.request("PATCH", url, f"update service account {email} ({', '.join(drift)})",
                       body={"serviceAccount": {field: fields[field] for field in drift}, "updateMask": ",".join(drift)})
    return email, True, before, account_view(dict(current, **fields))


def ensure_accounts(client, params: dict, check_mode: bool) -> dict:
    return list_result([_ensure_account(client, planned, check_mode) for planned in planned_accounts(params)], "accounts")
