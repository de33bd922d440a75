# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Additive IAM bindings: read-modify-write with the policy's etag, retried when someone else wrote first."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError

POLICY_URLS = {
    "project": "https://cloudresourcemanager.googleapis.com/v1/projects/{resource}",
    "service_account": "https://iam.googleapis.com/v1/projects/-/serviceAccounts/{resource}",
}
MEMBER_PREFIXES = ("user:", "serviceAccount:", "group:", "domain:", "principal:", "principalSet:")


def check_members(members: list) -> None:
    for member in members:
        if not member.startswith(MEMBER_PREFIXES) or member.endswith(":"):
            raise GcpError(f"Failed to plan IAM binding: member {member!r} must start with one of "
                           f"{', '.join(MEMBER_PREFIXES)} (for a Kubernetes service account: "
                           "serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>])")


def with_members(policy: dict, role: str, members: list, present: bool) -> dict:
    """A copy of ``policy`` with ``members`` added to (or removed from) ``role``; conditional bindings untouched."""
    bindings = [dict(binding, members=list(binding.get("members", []))) for binding in policy.get("bindings", [])]
    target = next((binding for binding in bindings if binding["role"] == role and "condition" not in binding), None)
    if present:
        if target is None:
            target = {"role": role, "members": []}
            bindings.append(target)
        target["members"] = sorted(set(target["members"]) | set(members))
    elif target is not None:
        target["members"] = [member for member in target["members"] if member not in members]
    return dict(policy, bindings=[binding for binding in bindings if binding["members"]])


def role_members(policy: dict, role: str) -> list:
    return sorted(member for binding in policy.get("bindings", []) if binding["role"] == role and "condition" not in binding
                  for member in binding.get("members", []))


def _read_policy(client, resource_type: str, base: str, what: str) -> dict:
    # Resource Manager takes the policy version in the body, IAM in the query string (their discovery documents)
    if resource_type == "project":
        return client.request("POST", base + ":getIamPolicy", what, body={"options": {"requestedPolicyVersion": 3}})
    return client.request("POST", base + ":getIamPolicy", what, params={"options.requestedPolicyVersion": 3})


def ensure_member(client, params: dict, check_mode: bool) -> dict:
    """The members in (or out of) each role of O(role) or O(roles) on one resource, or of each item of O(bindings):
    every item is checked before anything changes, then one read-modify-write of the policy per resource."""
    if params.get("bindings") is not None:
        return apply_bindings(client, params, check_mode)
    check_members(params["members"])
    roles = params["roles"] if params.get("roles") is not None else [params["role"]]
    if not roles:
        return {"changed": False, "members": [], "bindings": {}, "diff": {"before": {}, "after": {}}}
    present = params["state"] == "present"
    resource = params["resource"] or params["project"]
    changes = [(role, params["members"], present) for role in roles]
    result = apply_to_policy(client, params["resource_type"], resource, changes, params["conflict_retries"], check_mode)
    return dict(result, members=result["bindings"][roles[0]])


def apply_bindings(client, params: dict, check_mode: bool) -> dict:
    """O(bindings): one policy write per resource; diff and RV(bindings) keyed C(<resource type> <resource> <role>)."""
    by_resource = {}
    for index, item in enumerate(params["bindings"]):
        resource_type, resource, changes = planned_binding(item, f"bindings[{index}]", params)
        by_resource.setdefault((resource_type, resource), []).extend(changes)
    result = {"changed": False, "members": [], "bindings": {}, "diff": {"before": {}, "after": {}}, "warnings": []}
    for (resource_type, resource), changes in by_resource.items():
        done = apply_to_policy(client, resource_type, resource, changes, params["conflict_retries"], check_mode)
        result["changed"] |= done["changed"]
        result["warnings"] += done.get("warnings", [])
        for side in ("before", "after"):
            result["diff"][side].update({f"{resource_type} {resource} {role}": members
                                         for role, members in done["diff"][side].items()})
    result["bindings"] = dict(result["diff"]["after"])
    result["members"] = next(iter(result["bindings"].values()), [])
    return result


BINDING_KEYS = {"resource_type", "resource", "role", "roles", "members", "state"}


def planned_binding(item, label: str, params: dict) -> tuple:
    """(resource type, resource, [(role, members, present)]) of one O(bindings) item; a bad item fails naming it."""
    if not isinstance(item, dict):
        raise GcpError(f"{label}: must be a mapping, got {item!r}")
    unknown = sorted(set(item) - BINDING_KEYS)
    if unknown:
        raise GcpError(f"{label}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(BINDING_KEYS))})")
    resource_type = item.get("resource_type") or "project"
    if resource_type not in POLICY_URLS:
        raise GcpError(f"{label}.resource_type: must be one of {', '.join(POLICY_URLS)}, got {resource_type!r}")
    resource = item.get("resource") or (params["project"] if resource_type == "project" else None)
    if not resource:
        raise GcpError(f"{label}.resource: the service account's email is required with resource_type service_account")
    if (item.get("role") is None) == (item.get("roles") is None):
        raise GcpError(f"{label}: set exactly one of role or roles")
    roles = [item["role"]] if item.get("role") is not None else item["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) and role for role in roles):
        raise GcpError(f"{label}.roles: must be a list of role names, got {roles!r}")
    members = item.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(member, str) for member in members):
        raise GcpError(f"{label}.members: must be a non-empty list of members, got {members!r}")
    try:
        check_members(members)
    except GcpError as exc:
        raise GcpError(f"{label}.members: {exc}") from None
    state = item.get("state") or params["state"]
    if state not in ("present", "absent"):
        raise GcpError(f"{label}.state: must be present or absent, got {state!r}")
    return resource_type, resource, [(role, members, state == "present") for role in roles]


def apply_to_policy(client, resource_type: str, resource: str, changes: list, conflict_retries: int, check_mode: bool) -> dict:
    """Apply ``changes`` ((role, members, present), in order) to one resource's policy in one read-modify-write."""
    base = POLICY_URLS[resource_type].format(resource=resource)
    roles = list(dict.fromkeys(role for role, _members, _present in changes))
    verbs = " and ".join(dict.fromkeys("grant" if present else "revoke" for _role, _members, present in changes))
    what = f"{verbs} {', '.join(roles)} on {resource_type} {resource}"
    for attempt in range(conflict_retries + 1):
        try:
            policy = _read_policy(client, resource_type, base, what)
        except GcpError as exc:
            if exc.status == 404 and check_mode:  # made earlier in this run, which check mode skipped
                wanted = {"bindings": []}
                for role, members, present in changes:
                    wanted = with_members(wanted, role, members, present)
                after = {role: role_members(wanted, role) for role in roles}
                return {"changed": any(after.values()), "bindings": after,
                        "diff": {"before": {role: [] for role in roles}, "after": after},
                        "warnings": [f"{resource_type} {resource} does not exist yet; it would get {', '.join(roles)}"]}
            raise
        wanted = policy
        for role, members, present in changes:
            wanted = with_members(wanted, role, members, present)
        before = {role: role_members(policy, role) for role in roles}
        after = {role: role_members(wanted, role) for role in roles}
        result = {"changed": before != after, "bindings": after, "diff": {"before": before, "after": after}}
        if before == after or check_mode:
            return result
        try:
            client.request("POST", base + ":setIamPolicy", what, body={"policy": wanted})
            return result
        except GcpError as exc:
            if exc.status != 409 or attempt == conflict_retries:
                raise
            client.sleep(client.jitter() * min(8.0, 0.5 * 2 ** attempt))
    raise GcpError(f"Failed to {what}: the policy kept changing")  # not reached
