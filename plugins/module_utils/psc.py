# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Service Connect: consumer endpoints and producer service attachments. No Ansible imports.

Each ``ensure_*`` takes the client, the module parameters and check mode, and returns the module result.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    DESCRIPTION_MARK,
    described_marked,
    differences,
    left_unmarked,
    link,
    link_path,
    marked,
    project_of,
    regional,
    same_link,
    with_description_mark,
    with_mark,
    without_none,
)

STATUS_HELP = {
    "REJECTED": "the producer rejected consumer project {consumer}: it is in the consumer reject list of {attachment} "
                "(producer project {producer}); the producer must remove it from the reject list",
    "NEEDS_ATTENTION": "the producer accepted the connection but cannot serve it (usually its NAT subnet for "
                       "{attachment} has no free addresses); the producer project {producer} must add NAT subnet space",
    "PENDING": "consumer project {consumer} is not in the accept list of {attachment} (producer project {producer}), "
               "or its connection limit is reached; the producer must add {consumer} to its accepted consumers "
               "(for Cloud SQL: allowed_consumer_projects)",
    "CLOSED": "the service attachment {attachment} no longer exists (producer project {producer})",
}


def explain(status: str, consumer: str, attachment: str) -> str:
    template = STATUS_HELP.get(status, "unexpected status {status}")
    return template.format(status=status, consumer=consumer, attachment=link_path(attachment),
                           producer=project_of(attachment) or "?")


# ---------------------------------------------------------------- consumer: the endpoint
def _endpoint_urls(params: dict) -> tuple[str, str]:
    project, region = params["project"], params["region"]
    return (regional(project, region, "addresses", params["address_name"] or params["name"]),
            regional(project, region, "forwardingRules", params["name"]))


def _desired_address(params: dict) -> dict:
    return without_none({
        "name": params["address_name"] or params["name"],
        "addressType": "INTERNAL",
        "purpose": "GCE_ENDPOINT",
        "subnetwork": link(params["subnetwork"], params["project"], "subnetworks", params["region"]),
        "address": params.get("ip_address"),
    })


def _desired_rule(params: dict, address_url: str) -> dict:
    return without_none({
        "name": params["name"],
        "network": link(params["network"], params["project"], "networks"),
        "IPAddress": address_url,
        "target": link(params["service_attachment"], params["project"], "serviceAttachments", params["region"]),
        "allowPscGlobalAccess": params["global_access"],
        "description": params.get("description"),
    })


def endpoint_view(rule: dict | None, address: dict | None) -> dict:
    if rule is None and address is None:
        return {}
    rule = rule or {}
    return without_none({
        "name": rule.get("name"),
        "ip_address": rule.get("IPAddress") or (address or {}).get("address"),
        "service_attachment": link_path(rule["target"]) if rule.get("target") else None,
        "network": link_path(rule["network"]) if rule.get("network") else None,
        "global_access": rule.get("allowPscGlobalAccess", False) if rule else None,
        "psc_connection_status": rule.get("pscConnectionStatus"),
        "psc_connection_id": rule.get("pscConnectionId"),
        "forwarding_rule": rule.get("selfLink"),
        "address": (address or {}).get("selfLink"),
    })


def ensure_endpoint(client, params: dict, check_mode: bool) -> dict:
    """Reserve the address, create the forwarding rule, set global access in place, wait for ACCEPTED.

    What cannot change in place (the address's subnetwork or IP, the rule's network, target or address, a CLOSED
    connection) fails naming each field, unless ``recreate`` allows deleting and recreating what must be replaced.
    """
    address_url, rule_url = _endpoint_urls(params)
    what = f"read PSC endpoint {params['name']}"
    address = client.request("GET", address_url, what, not_found_ok=True)
    rule = client.request("GET", rule_url, what, not_found_ok=True)
    before = endpoint_view(rule, address)
    if params["state"] == "absent":
        return _remove_marked(client, params, rule, address, check_mode)
    desired_address = _desired_address(params)
    drift, recreated = _drift(params, desired_address, address, rule)
    if drift and not params["recreate"]:
        raise GcpError(f"Failed to reconcile PSC endpoint {params['name']}: {'; '.join(drift)}. These cannot change in "
                       f"place: set recreate: true to delete and recreate the {' and '.join(recreated)} (connections "
                       "through the endpoint drop and the producer sees a new connection), or remove the endpoint "
                       "(state=absent) and create it again")
    if check_mode and (recreated or address is None or rule is None):
        return _planned(params, before, recreated)
    if recreated:
        _remove_endpoint(client, params, rule, address if "address" in recreated else None, check_mode, "to recreate it")
        rule, address = None, (None if "address" in recreated else address)
    changed = bool(recreated)
    if address is None:
        what = f"reserve address {desired_address['name']} for PSC endpoint {params['name']}"
        address = _mark(client, _insert(client, regional(params["project"], params["region"], "addresses"), desired_address, what), what)
        changed = True
    try:
        rule, rule_changed = _reconcile_rule(client, params, rule, _desired_rule(params, address["selfLink"]), check_mode)
    except GcpError as exc:
        raise GcpError(f"{exc} (address {address['name']} = {address.get('address')} is reserved and kept: run again to "
                       "finish the endpoint, or with state=absent to remove it)", exc.status, exc.reason, exc.permission) from None
    if check_mode and rule_changed:
        return _planned(params, before, recreated)
    if params["wait"]:
        rule = wait_accepted(client, rule_url, params)
    result_view = endpoint_view(rule, address)
    result = {"changed": changed or rule_changed, "endpoint": result_view, "recreated": recreated,
              "diff": {"before": before, "after": result_view}}
    if recreated:
        result["warnings"] = [f"PSC endpoint {params['name']}: recreated the {' and '.join(recreated)} ({'; '.join(drift)}); "
                              "connections through the old one were dropped"]
    return result


def _drift(params: dict, desired_address: dict, address: dict | None, rule: dict | None) -> tuple[list, list]:
    """(what differs and cannot change in place, which of 'forwarding rule' / 'address' must be recreated for it)."""
    address_drift = [] if address is None else [
        f"address {address['name']} has {field} {_shown(address.get(field))}, asked {_shown(desired_address[field])}"
        for field in differences({key: value for key, value in desired_address.items() if key != "name"}, address)]
    rule_drift = [] if rule is None else _rule_drift(params, rule, address, desired_address["name"], not address_drift)
    recreated = ["forwarding rule"] if rule is not None and (rule_drift or address_drift) else []
    return address_drift + rule_drift, recreated + (["address"] if address_drift else [])


def _rule_drift(params: dict, rule: dict, address: dict | None, address_name: str, check_ip: bool) -> list:
    """What of an existing forwarding rule cannot change in place (its IP only if the address is kept)."""
    desired = _desired_rule(params, "")
    drift = [f"forwarding rule {rule['name']} has {field} {_shown(rule.get(field))}, asked {_shown(desired[field])}"
             for field in ("network", "target") if not same_link(desired[field], rule.get(field))]
    if check_ip and (address is None or not _uses_address(rule, address)):
        reserved = "which does not exist" if address is None else f"= {address.get('address')}"
        drift.append(f"forwarding rule {rule['name']} has IPAddress {rule.get('IPAddress')!r}, not address {address_name} ({reserved})")
    if rule.get("pscConnectionStatus") == "CLOSED":
        drift.append(f"forwarding rule {rule['name']} has pscConnectionStatus CLOSED: "
                     + explain("CLOSED", params["project"], rule.get("target", "")))
    return drift


def _shown(value) -> str:
    return repr(link_path(value) if isinstance(value, str) and value.startswith("https://") else value)


def _planned(params: dict, before: dict, recreated: list) -> dict:
    kept_ip = None if "address" in recreated else before.get("ip_address")
    after = {"name": params["name"], "ip_address": params.get("ip_address") or kept_ip or "(assigned on create)",
             "service_attachment": link_path(link(params["service_attachment"], params["project"], "serviceAttachments", params["region"])),
             "network": link_path(link(params["network"], params["project"], "networks")), "global_access": params["global_access"]}
    return {"changed": True, "endpoint": after, "recreated": recreated, "diff": {"before": before, "after": after}}


def _reconcile_rule(client, params: dict, rule: dict | None, desired: dict, check_mode: bool):
    """Create the forwarding rule, or set its global access in place (the only field that can change)."""
    if rule is None:
        if check_mode:
            return None, True
        what = f"create forwarding rule of PSC endpoint {params['name']}"
        return _mark(client, _insert(client, regional(params["project"], params["region"], "forwardingRules"), desired, what), what), True
    if bool(rule.get("allowPscGlobalAccess", False)) != bool(desired.get("allowPscGlobalAccess", False)):
        if check_mode:
            return rule, True
        client.operate("PATCH", rule["selfLink"], f"set global access of PSC endpoint {params['name']}",
                       body={"allowPscGlobalAccess": desired["allowPscGlobalAccess"]})
        return client.request("GET", rule["selfLink"], f"read PSC endpoint {params['name']}"), True
    return rule, False


def _uses_address(rule: dict, address: dict) -> bool:
    """Google reports the rule's IPAddress as the IP; the request named the address resource."""
    return rule.get("IPAddress") == address.get("address") or same_link(rule.get("IPAddress"), address["selfLink"])


def _insert(client, collection_url: str, body: dict, what: str) -> dict:
    client.operate("POST", collection_url, what, body=body)
    return client.request("GET", f"{collection_url}/{body['name']}", what)


def _mark(client, resource: dict, what: str) -> dict:
    """Label what this run created with the collection's mark. Google takes a PSC forwarding rule's labels only
    through setLabels, never in the insert (the documented way for an address too), so it comes right after."""
    body = without_none({"labels": with_mark(resource.get("labels")), "labelFingerprint": resource.get("labelFingerprint")})
    client.operate("POST", resource["selfLink"] + "/setLabels", f"{what}: label it", body=body)
    return client.request("GET", resource["selfLink"], what)


def wait_accepted(client, rule_url: str, params: dict) -> dict:
    deadline = client.clock() + params["wait_timeout"]
    consumer = params["project"]
    while True:
        rule = client.request("GET", rule_url, f"read PSC endpoint {params['name']}")
        status = rule.get("pscConnectionStatus", "STATUS_UNSPECIFIED")
        if status == "ACCEPTED":
            return rule
        if status in ("REJECTED", "NEEDS_ATTENTION", "CLOSED"):
            raise GcpError(f"Failed to connect PSC endpoint {params['name']}: status {status}: "
                           + explain(status, consumer, rule.get("target", "")))
        if client.clock() >= deadline:
            raise GcpError(f"Failed to connect PSC endpoint {params['name']}: still {status} after "
                           f"{params['wait_timeout']}s: " + explain("PENDING", consumer, rule.get("target", "")))
        client.sleep(params["poll_interval"])


def _remove_marked(client, params: dict, rule: dict | None, address: dict | None, check_mode: bool) -> dict:
    """Delete the forwarding rule and the address that carry the collection's mark (every one, with
    delete_unmarked); the result says what was left and why."""
    before = endpoint_view(rule, address)
    spared = not params.get("delete_unmarked")
    endpoint = f"of PSC endpoint {params['name']}"
    warnings = []
    kept_rule = rule if rule is not None and spared and not marked(rule.get("labels")) else None
    if kept_rule is not None:
        warnings.append(left_unmarked(f"Forwarding rule {rule['name']} {endpoint}", "labels"))
    kept_address = None
    if address is not None and spared and not marked(address.get("labels")):
        kept_address = address
        warnings.append(left_unmarked(f"Address {address['name']} {endpoint}", "labels"))
    elif address is not None and kept_rule is not None and _uses_address(kept_rule, address):
        kept_address = address
        warnings.append(f"Address {address['name']} {endpoint} left in place: forwarding rule {kept_rule['name']}, "
                        "which stays, still uses it")
    changed = _remove_endpoint(client, params, None if kept_rule else rule, None if kept_address else address, check_mode)
    after = endpoint_view(kept_rule, kept_address)
    result = {"changed": changed, "endpoint": after, "recreated": [], "diff": {"before": before, "after": after}}
    return dict(result, left=True, warnings=warnings) if warnings else result


def _remove_endpoint(client, params: dict, rule: dict | None, address: dict | None, check_mode: bool, why: str = "") -> bool:
    if rule is None and address is None:
        return False
    if check_mode:
        return True
    for resource, kind in ((rule, "forwarding rule"), (address, "address")):
        if resource is not None:
            what = f"delete {kind} {resource['name']} of PSC endpoint {params['name']}" + (f" {why}" if why else "")
            client.operate("DELETE", resource["selfLink"], what, timeout=params["wait_timeout"], not_found_ok=True)
    return True


def read_endpoint(client, params: dict) -> dict:
    address_url, rule_url = _endpoint_urls(params)
    what = f"read PSC endpoint {params['name']}"
    rule = client.request("GET", rule_url, what, not_found_ok=True)
    address = client.request("GET", address_url, what, not_found_ok=True)
    view = endpoint_view(rule, address)
    if view.get("psc_connection_status") and view["psc_connection_status"] != "ACCEPTED":
        view["explanation"] = explain(view["psc_connection_status"], params["project"], rule.get("target", ""))
    return view


# ---------------------------------------------------------------- producer: the service attachment
def _desired_attachment(params: dict) -> dict:
    project, region = params["project"], params["region"]
    return without_none({
        "name": params["name"],
        "description": params.get("description"),
        "targetService": link(params["target_service"], project, "forwardingRules", region),
        "connectionPreference": params["connection_preference"],
        "natSubnets": [regional(project, region, "subnetworks", subnet["name"]) for subnet in params["nat_subnets"]],
        "consumerAcceptLists": [{"projectIdOrNum": str(entry["project"]), "connectionLimit": entry["connection_limit"]}
                                for entry in params["consumer_accept_lists"]],
        "consumerRejectLists": [str(project_id) for project_id in params["consumer_reject_lists"]],
        "enableProxyProtocol": params["enable_proxy_protocol"],
        "reconcileConnections": params["reconcile_connections"],
        "domainNames": params.get("domain_names") or None,
    })


def attachment_view(attachment: dict | None) -> dict:
    if not attachment:
        return {}
    return {
        "name": attachment["name"],
        "self_link": attachment.get("selfLink"),
        "target_service": link_path(attachment.get("targetService", "")),
        "connection_preference": attachment.get("connectionPreference"),
        "nat_subnets": [link_path(item) for item in attachment.get("natSubnets", [])],
        "consumer_accept_lists": [{"project": entry.get("projectIdOrNum"), "connection_limit": int(entry.get("connectionLimit", 0))}
                                  for entry in attachment.get("consumerAcceptLists", [])],
        "consumer_reject_lists": list(attachment.get("consumerRejectLists", [])),
        "connected_endpoints": [{"endpoint": link_path(item.get("endpoint", "")), "status": item.get("status"),
                                 "psc_connection_id": item.get("pscConnectionId"),
                                 "consumer_network": link_path(item.get("consumerNetwork", ""))}
                                for item in attachment.get("connectedEndpoints", [])],
    }


def _check_accept_lists(params: dict) -> None:
    if params["connection_preference"] == "ACCEPT_AUTOMATIC" and params["consumer_accept_lists"]:
        raise GcpError("Failed to plan service attachment: consumer_accept_lists need connection_preference ACCEPT_MANUAL "
                       "(ACCEPT_AUTOMATIC accepts every project)")
    seen = set()
    for entry in params["consumer_accept_lists"]:
        if entry["project"] in seen:
            raise GcpError(f"Failed to plan service attachment: consumer_accept_lists names project {entry['project']!r} twice")
        seen.add(entry["project"])
        if entry["project"] in params["consumer_reject_lists"]:
            raise GcpError(f"Failed to plan service attachment: project {entry['project']!r} is in both consumer_accept_lists "
                           "and consumer_reject_lists")


def ensure_service_attachment(client, params: dict, check_mode: bool) -> dict:
    _check_accept_lists(params)
    project, region = params["project"], params["region"]
    url = regional(project, region, "serviceAttachments", params["name"])
    current = client.request("GET", url, f"read service attachment {params['name']}", not_found_ok=True)
    before = attachment_view(current)
    if params["state"] == "absent":
        return _remove_attachment(client, params, current, check_mode)
    changed = _ensure_nat_subnets(client, params, check_mode)
    desired = _desired_attachment(params)
    if current is None:
        if check_mode:
            return {"changed": True, "service_attachment": attachment_view(desired), "diff": {"before": before, "after": attachment_view(desired)}}
        body = dict(desired, description=with_description_mark(desired.get("description")))
        current = _insert(client, regional(project, region, "serviceAttachments"), body, f"create service attachment {params['name']}")
        changed = True
    else:
        if described_marked(current.get("description")) and desired.get("description") is not None:
            desired["description"] = with_description_mark(desired["description"])  # a description change keeps the mark
        stale = differences(desired, current)
        for field in ("targetService", "enableProxyProtocol"):
            if field in stale:
                raise GcpError(f"Failed to update service attachment {params['name']}: {field} cannot change in place "
                               f"(is {current.get(field)!r}, asked {desired[field]!r}); remove the attachment and create it again")
        if not desired.get("consumerAcceptLists") and current.get("consumerAcceptLists"):
            stale.append("consumerAcceptLists")
        if not desired.get("consumerRejectLists") and current.get("consumerRejectLists"):
            stale.append("consumerRejectLists")
        if stale:
            changed = True
            if check_mode:
                after = attachment_view(dict(current, **desired))
                return {"changed": True, "service_attachment": after, "diff": {"before": before, "after": after}}
            fields = sorted(set(item.split(".")[0] for item in stale))
            patch = {field: desired.get(field, []) for field in fields}
            patch["fingerprint"] = current.get("fingerprint")
            what = f"update service attachment {params['name']} ({', '.join(fields)})"
            client.operate("PATCH", url, what, body=patch)
            current = client.request("GET", url, f"read service attachment {params['name']}")
    after = attachment_view(current)
    return {"changed": changed, "service_attachment": after, "diff": {"before": before, "after": after}}


def _left_undescribed(what: str) -> str:
    return (f"{what} left in place: its description lacks '{DESCRIPTION_MARK}', so this collection did not create it "
            "(set delete_unmarked: true to delete it anyway)")


def _remove_attachment(client, params: dict, current: dict | None, check_mode: bool) -> dict:
    """Delete the attachment, then the NAT subnets this collection created for it that no other attachment uses."""
    before = attachment_view(current)
    if current is not None and not described_marked(current.get("description")) and not params.get("delete_unmarked"):
        return {"changed": False, "service_attachment": before, "left": True, "diff": {"before": before, "after": before},
                "warnings": [_left_undescribed(f"Service attachment {params['name']}")]}
    changed = current is not None
    if changed and not check_mode:
        url = regional(params["project"], params["region"], "serviceAttachments", params["name"])
        client.operate("DELETE", url, f"delete service attachment {params['name']}")
    deleted, warnings = _remove_nat_subnets(client, params, check_mode)
    result = {"changed": changed or bool(deleted), "service_attachment": {}, "nat_subnets_deleted": deleted,
              "diff": {"before": dict(before, nat_subnets_deleted=deleted) if deleted else before, "after": {}}}
    return dict(result, warnings=warnings) if warnings else result


def _remove_nat_subnets(client, params: dict, check_mode: bool) -> tuple[list, list]:
    """The NAT subnets deleted (or to delete, in check mode) and a warning for each one left, saying why."""
    if not params["nat_subnets"]:
        return [], []
    project, region, name = params["project"], params["region"], params["name"]
    others = [attachment for attachment in client.list_all(regional(project, region, "serviceAttachments"), "items",
                                                           "list service attachments") if attachment["name"] != name]
    deleted, warnings = [], []
    for subnet in params["nat_subnets"]:
        url = regional(project, region, "subnetworks", subnet["name"])
        current = client.request("GET", url, f"read NAT subnet {subnet['name']}", not_found_ok=True)
        if current is None:
            continue
        users = [other["name"] for other in others if any(same_link(used, url) for used in other.get("natSubnets", []))]
        left = f"NAT subnet {subnet['name']} left in place: "
        if users:
            warnings.append(left + f"service attachment {', '.join(users)} still uses it")
        elif current.get("purpose") != "PRIVATE_SERVICE_CONNECT":
            warnings.append(left + f"its purpose is {current.get('purpose', 'PRIVATE')!r}, so it is no NAT subnet")
        elif not described_marked(current.get("description")) and not params.get("delete_unmarked"):
            warnings.append(_left_undescribed(f"NAT subnet {subnet['name']}"))
        elif check_mode:
            deleted.append(subnet["name"])
        else:
            in_use = _delete_unless_used(client, url, f"delete NAT subnet {subnet['name']}")
            if in_use is None:
                deleted.append(subnet["name"])
            else:
                warnings.append(left + f"Google still reports it in use ({in_use})")
    return deleted, warnings


# Seconds Google may still report a NAT subnet in use by the attachment whose delete just completed.
IN_USE_GRACE = 60.0


def _delete_unless_used(client, url: str, what: str, grace: float = IN_USE_GRACE) -> str | None:
    """Delete; None when gone, else Google's in-use message once ``grace`` seconds of asking again did not free it."""
    deadline = client.clock() + grace
    delay = 2.0
    while True:
        try:
            client.operate("DELETE", url, what, not_found_ok=True)
            return None
        except GcpError as exc:
            if exc.reason != "resourceInUseByAnotherResource":
                raise
            if client.clock() + delay > deadline:
                return str(exc)
        client.sleep(delay)
        delay = min(delay * 2, 15.0)


def _ensure_nat_subnets(client, params: dict, check_mode: bool) -> bool:
    changed = False
    project, region = params["project"], params["region"]
    for subnet in params["nat_subnets"]:
        url = regional(project, region, "subnetworks", subnet["name"])
        current = client.request("GET", url, f"read NAT subnet {subnet['name']}", not_found_ok=True)
        if current is not None:
            if current.get("purpose") != "PRIVATE_SERVICE_CONNECT":
                raise GcpError(f"Failed to use NAT subnet {subnet['name']}: its purpose is {current.get('purpose', 'PRIVATE')!r}, "
                               "a service attachment needs purpose PRIVATE_SERVICE_CONNECT")
            if subnet.get("ip_cidr_range") and current.get("ipCidrRange") != subnet["ip_cidr_range"]:
                raise GcpError(f"Failed to use NAT subnet {subnet['name']}: it has range {current.get('ipCidrRange')}, "
                               f"not {subnet['ip_cidr_range']}")
            continue
        for field in ("network", "ip_cidr_range"):
            if not subnet.get(field):
                raise GcpError(f"Failed to create NAT subnet {subnet['name']}: nat_subnets[].{field} is required to create it")
        changed = True
        if not check_mode:
            body = {"name": subnet["name"], "network": link(subnet["network"], project, "networks"),
                    "ipCidrRange": subnet["ip_cidr_range"], "purpose": "PRIVATE_SERVICE_CONNECT",
                    "description": with_description_mark(None)}
            _insert(client, regional(project, region, "subnetworks"), body, f"create NAT subnet {subnet['name']}")
    return changed
