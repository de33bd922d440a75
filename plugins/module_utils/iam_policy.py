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
    """The members in (or out of) each role of O(role) or O(roles), in one read-modify-write of the policy."""
    check_members(params["members"])
    roles = params["roles"] if params.get("roles") is not None else [params["role"]]
    if not roles:
        return {"changed": False, "members": [], "bindings": {}, "diff": {"before": {}, "after": {}}}
    present = params["state"] == "present"
    resource = params["resource"] or params["project"]
    base = POLICY_URLS[params["resource_type"]].format(resource=resource)
    what = f"{'grant' if present else 'revoke'} {', '.join(roles)} on {params['resource_type']} {resource}"
    for attempt in range(params["conflict_retries"] + 1):
        try:
            policy = _read_policy(client, params["resource_type"], base, what)
        except GcpError as exc:
            if exc.status == 404 and check_mode:  # made earlier in this run, which check mode skipped
                return {"changed": present, "members": sorted(params["members"]),
                        "bindings": {role: sorted(params["members"]) if present else [] for role in roles},
                        "warnings": [f"{params['resource_type']} {resource} does not exist yet; it would get {', '.join(roles)}"]}
            raise
        wanted = policy
        for role in roles:
            wanted = with_members(wanted, role, params["members"], present)
        before = {role: role_members(policy, role) for role in roles}
        after = {role: role_members(wanted, role) for role in roles}
        result = {"changed": before != after, "members": after[roles[0]], "bindings": after,
                  "diff": {"before": before, "after": after}}
        if before == after or check_mode:
            return result
        try:
            client.request("POST", base + ":setIamPolicy", what, body={"policy": wanted})
            return result
        except GcpError as exc:
            if exc.status != 409 or attempt == params["conflict_retries"]:
                raise
            client.sleep(client.jitter() * min(8.0, 0.5 * 2 ** attempt))
    raise GcpError(f"Failed to {what}: the policy kept changing")  # not reached
