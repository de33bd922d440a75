#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: squid_policy_check
short_description: Decide requests against one tier of the egress policy, exactly as Squid would
version_added: 0.1.0
description:
  - Evaluates each request with the rules that M(aibang.gke_platform.squid_policy) renders for the same tier and
    says whether Squid allows it, and why. The collection's tests hold it to agree with real Squid.
  - Changes nothing. Use it as a verification gate before a policy reaches Squid, or to explain a denial.
  - Runs in the controller (an action plugin of the same name); it only computes, so no module process is started.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - aibang.gke_platform.squid_policy
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  requests:
    description:
      - The requests to decide. Each takes C(client) (the address this tier sees), C(host), C(port)
        (default V(443) for CONNECT, V(80) otherwise), C(method) (default V(CONNECT)), C(at)
        (ISO 8601 time for business hours, default now; a time without offset is the proxy's local time) and
        C(resolves_to) (the IP addresses C(host) resolves to).
      - The policy's destination guard denies a request when any address of C(resolves_to) is in
        C(denied_destinations), as Squid does with the addresses it resolves. Without C(resolves_to) the guard is not
        evaluated; the result says so in C(destination_check) and C(reason), it is not assumed to pass.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: The pods may reach Entra ID, and nothing else
  aibang.gke_platform.squid_policy_check:
    policy: "{{ egress_policy }}"
    tier: gke
    requests:
      - {client: 10.128.0.10, host: login.microsoftonline.com}
      - {client: 10.128.0.10, host: example.org}
      - {client: 10.128.0.10, host: login.microsoftonline.com, resolves_to: [169.254.169.254]}
  register: decisions

- name: Stop before deploying a policy that denies what the apps need
  ansible.builtin.assert:
    that: decisions.results[0].allowed and not decisions.results[1].allowed and not decisions.results[2].allowed
"""

RETURN = r"""
results:
  description: One decision per request, in order.
  returned: success
  type: list
  elements: dict
  contains:
    allowed:
      description: Whether Squid lets the request through.
      type: bool
    reason:
      description: Why, in words.
      type: str
      sample: host example.org is not in the gke tier's allowed_domains
    rule:
      description: The C(http_access) line of the rendered config that decided (without its annotation ACL), or
        V(check_hostnames) when Squid refuses the host while parsing the request, before any C(http_access) line.
      type: str
      sample: deny !aibang_domains
    destination_check:
      description: What the destination guard said, V(denied) (an address of C(resolves_to) is in a denied range),
        V(passed), V(not evaluated) (the request reached the guard without C(resolves_to)), V(not reached) (an
        earlier rule decided) or V(off) (C(denied_destinations) is empty).
      type: str
      sample: passed
    request:
      description: The request as Squid compares it (host lowercased and IDNA-encoded).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import address_text, decide, parse_request
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy


ARGUMENT_SPEC = {
    "policy": {"type": "dict", "required": True},
    "tier": {"type": "str", "required": True, "choices": ["gke", "vm"]},
    "requests": {"type": "list", "elements": "dict", "required": True},
}
ERROR_PREFIX = "Invalid input"


def run_module(params: dict) -> dict:
    """One decision per request; also what the action plugin returns, run in the controller."""
    policy = parse_policy(params["policy"])
    results = []
    for index, raw in enumerate(params["requests"]):
        request = parse_request(raw, f"requests[{index}]")
        decision = decide(policy, params["tier"], request).as_dict()
        decision["request"] = {
            "client": str(request.client),
            "host": request.host,
            "port": request.port,
            "method": request.method,
            "at": request.at.isoformat() if request.at else None,
            "resolves_to": None if request.resolves_to is None else [address_text(address) for address in request.resolves_to],
        }
        results.append(decision)
    return {"changed": False, "results": results}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        module.exit_json(**run_module(module.params))
    except PolicyError as exc:
        module.fail_json(msg=f"{ERROR_PREFIX}: {exc}", field=exc.field)


if __name__ == "__main__":
    main()
