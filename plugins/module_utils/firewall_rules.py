# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPC firewall rules, a list of them in one module run: each created, patched in place or deleted by name.

Only the fields a rule sets are compared and sent, so Google's defaults (priority 1000, direction INGRESS) and
fields left to others stay as they are.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import differences, global_, link, list_result, without_none

# Option name -> the API's field name, for the fields taken as they are.
_FIELDS = {"description": "description", "direction": "direction", "priority": "priority", "disabled": "disabled",
           "source_ranges": "sourceRanges", "destination_ranges": "destinationRanges", "source_tags": "sourceTags",
           "target_tags": "targetTags", "source_service_accounts": "sourceServiceAccounts",
           "target_service_accounts": "targetServiceAccounts"}
_ACTIONS = ("allowed", "denied")
VIEW_FIELDS = ("name", "network", *_FIELDS.values(), *_ACTIONS)


def rule_view(rule: dict | None) -> dict:
    """The fields this module manages, as the API names them ({} for a missing rule)."""
    if not rule:
        return {}
    return {key: rule[key] for key in VIEW_FIELDS if rule.get(key) not in (None, [])}


def _label(index: int, rule: dict) -> str:
    return f"rules[{index}] ({rule.get('name') or '?'})"


def planned_rules(params: dict) -> list:
    """(rule, state, desired body or None) per listed rule, each checked before anything changes."""
    planned, seen = [], {}
    for index, rule in enumerate(params["rules"]):
        label = _label(index, rule)
        if rule["name"] in seen:
            raise GcpError(f"{label}: name {rule['name']!r} is listed twice (also at rules[{seen[rule['name']]}])")
        seen[rule["name"]] = index
        state = rule.get("state") or params["state"]
        if state == "absent":
            planned.append((rule, state, None))
            continue
        network = rule.get("network") or params.get("network")
        if not network:
            raise GcpError(f"{label}: network is required to create or update a rule (set it on the rule or the task)")
        if bool(rule.get("allowed")) == bool(rule.get("denied")):
            raise GcpError(f"{label}: set exactly one of allowed or denied (got "
                           f"{'both' if rule.get('allowed') else 'neither'})")
        body = {"name": rule["name"], "network": link(network, params["project"], "networks")}
        body.update({api: rule.get(option) for option, api in _FIELDS.items()})
        for action in _ACTIONS:
            if rule.get(action):
                body[action] = [without_none({"IPProtocol": item["ip_protocol"], "ports": item.get("ports") or None})
                                for item in rule[action]]
        planned.append((rule, state, without_none(body)))
    return planned


def _ensure_rule(client, params: dict, planned: tuple, check_mode: bool) -> tuple:
    """(name, changed, before, after) for one planned rule."""
    rule, state, desired = planned
    name, project, timeout = rule["name"], params["project"], params["wait_timeout"]
    url = global_(project, "firewalls", name)
    current = client.request("GET", url, f"read firewall rule {name}", not_found_ok=True)
    before = rule_view(current)
    if state == "absent":
        if current is not None and not check_mode:
            client.operate("DELETE", url, f"delete firewall rule {name}", timeout=timeout)
        return name, current is not None, before, {}
    if current is None:
        if not check_mode:
            client.operate("POST", global_(project, "firewalls"), f"create firewall rule {name}", body=desired, timeout=timeout)
        return name, True, before, rule_view(desired)
    keep_description = params.get("keep_existing_description")
    wanted = {key: value for key, value in desired.items() if not (keep_description and key == "description")}
    drift = differences(wanted, current)
    if drift and not check_mode:
        # A rule holds allowed or denied, never both: switching one for the other clears the other
        patch = dict(wanted, **{action: [] for action in _ACTIONS if action not in wanted and current.get(action)})
        client.operate("PATCH", url, f"update firewall rule {name} ({', '.join(drift)})", body=patch, timeout=timeout)
    return name, bool(drift), before, rule_view(dict(current, **wanted)) if drift else before


def ensure_rules(client, params: dict, check_mode: bool) -> dict:
    return list_result([_ensure_rule(client, params, planned, check_mode) for planned in planned_rules(params)], "rules")
