#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: squid_probe
short_description: Send real requests through a Squid proxy and report the answers
version_added: 0.1.0
description:
  - Opens a connection to the proxy (optionally from a given source address), sends CONNECT or a plain HTTP request
    and reports the status. With O(tls), an allowed CONNECT must also complete a verified TLS handshake with the
    target through the tunnel.
  - Changes nothing. Used by the health checks of the Squid roles, the deploy verification gates and diagnose.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  proxy_host:
    description: Address or name of the proxy.
    type: str
    required: true
  proxy_port:
    description: Port of the proxy.
    type: int
    default: 3128
  requests:
    description:
      - Requests to send, each with C(host), C(port) (default V(443) for CONNECT, V(80) otherwise), C(method)
        (default V(CONNECT)), C(source) (local address to send from) and C(resolves_to) (the addresses C(host)
        resolves to, for the policy's destination check; by default the module resolves the name itself).
    type: list
    elements: dict
    required: true
  hosts_file:
    description:
      - With O(policy), resolve request hosts in this file first (the C(hosts_file) Squid reads, same format as
        C(/etc/hosts)), then with the system's resolver, as Squid does.
      - The addresses found go to the policy's destination check (C(denied_destinations)); a host that does not
        resolve is compared with the destination check not evaluated.
    type: path
  tls:
    description: For an allowed CONNECT, also complete a TLS handshake with the target and verify its certificate.
    type: bool
    default: false
  ca_file:
    description: CA bundle for O(tls); the system's by default.
    type: path
  timeout:
    description: Seconds to wait for each connection and answer.
    type: float
    default: 10
  policy:
    description:
      - The egress policy. When set, each answer is compared with what M(aibang.gke_platform.squid_policy_check)
        predicts for O(tier) from the address the probe sent from, and the module fails on any disagreement.
    type: dict
  tier:
    description:
      - The tier O(policy) is compared against; the proxy probed is that tier.
      - V(chain) probes tier 1 and expects what both tiers together allow; it needs O(tier2_client).
    type: str
    choices: [gke, vm, chain]
    default: vm
  tier2_client:
    description: With O(tier=chain), the address tier 2 sees for tier 1 (its pods' or nodes' address).
    type: str
"""

EXAMPLES = r"""
- name: The VM tier answers, and a CONNECT from the pod range reaches Entra ID
  aibang.gke_platform.squid_probe:
    proxy_host: 10.128.2.100
    requests:
      - {host: login.microsoftonline.com}
    tls: true
  register: probe
"""

RETURN = r"""
results:
  description: One answer per request, in order.
  returned: success
  type: list
  elements: dict
  contains:
    status:
      description: HTTP status the proxy answered (200 opens a tunnel, 403 is a policy denial).
      type: int
    allowed:
      description: Whether the proxy let the request through.
      type: bool
    tls:
      description: TLS version negotiated through the tunnel when O(tls) is set, else null.
      type: str
    elapsed_ms:
      description: Time for the request, in milliseconds.
      type: float
    client:
      description: The local address the request was sent from, as the proxy sees it.
      type: str
    expected:
      description: Whether O(policy) allows the request at O(tier); only with O(policy).
      type: bool
    reason:
      description: Why O(policy) allows or denies the request; only with O(policy).
      type: str
    resolves_to:
      description: The addresses the host resolved to for the destination check, null when it was not needed or not
        found; only with O(policy).
      type: list
      elements: str
    destination_check:
      description: What the destination check said, V(denied), V(passed), V(not evaluated), V(not reached) (an earlier
        rule decided) or V(off); only with O(policy).
      type: str
    request:
      description: The request as sent.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import (
    GUARD_NOT_EVALUATED,
    decide,
    decide_chain,
    parse_request,
)
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_probe import ProbeError, probe, resolve


def predict(policy, tier: str, request: dict, client: str, tier2_client: str | None = None, hosts_file: str | None = None):
    """The policy's decision for ``request`` sent from ``client``; the host is resolved only when the guard needs it."""
    as_seen_by_squid = {"client": client, "host": request["host"], "port": request["port"], "method": request["method"],
                        "resolves_to": request.get("resolves_to")}
    predicted = _decide(policy, tier, parse_request(as_seen_by_squid, "request"), tier2_client)
    if predicted.destination_check == GUARD_NOT_EVALUATED and request.get("resolves_to") is None:
        as_seen_by_squid["resolves_to"] = resolve(request["host"], hosts_file)
        if as_seen_by_squid["resolves_to"] is not None:
            predicted = _decide(policy, tier, parse_request(as_seen_by_squid, "request"), tier2_client)
    return predicted, as_seen_by_squid["resolves_to"]


def _decide(policy, tier: str, request, tier2_client):
    return decide_chain(policy, request, tier2_client) if tier == "chain" else decide(policy, tier, request)


def compare_with_policy(policy, tier: str, answer: dict, tier2_client: str | None = None, hosts_file: str | None = None) -> str | None:
    """Record the policy's prediction in ``answer``; return a message when the proxy disagrees with it."""
    request = answer["request"]
    predicted, answer["resolves_to"] = predict(policy, tier, request, answer["client"], tier2_client, hosts_file)
    answer["expected"] = predicted.allowed
    answer["reason"] = predicted.reason
    answer["destination_check"] = predicted.destination_check
    if predicted.allowed == answer["allowed"]:
        return None
    verdict = "allows" if predicted.allowed else "denies"
    return (f"{request['method']} {request['host']}:{request['port']} from {answer['client']} got {answer['status']}, "
            f"but the policy {verdict} it at tier {tier}: {predicted.reason}")


def run_module(params: dict) -> dict:
    policy = parse_policy(params["policy"]) if params["policy"] else None
    disagreements = []
    results = []
    for raw in params["requests"]:
        method = str(raw.get("method") or "CONNECT").upper()
        request = {
            "host": raw["host"],
            "port": int(raw.get("port") or (443 if method == "CONNECT" else 80)),
            "method": method,
            "source": raw.get("source"),
            "resolves_to": raw.get("resolves_to"),
        }
        answer = probe((params["proxy_host"], params["proxy_port"]), request["host"], request["port"], method,
                       request["source"], params["timeout"], params["tls"], params["ca_file"])
        answer["request"] = request
        if policy:
            disagreement = compare_with_policy(policy, params["tier"], answer, params["tier2_client"], params["hosts_file"])
            if disagreement:
                disagreements.append(disagreement)
        results.append(answer)
    result = {"changed": False, "results": results}
    if disagreements:
        result.update(failed=True, msg="Squid disagrees with the policy: " + "; ".join(disagreements))
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "proxy_host": {"type": "str", "required": True},
            "proxy_port": {"type": "int", "default": 3128},
            "requests": {"type": "list", "elements": "dict", "required": True},
            "tls": {"type": "bool", "default": False},
            "ca_file": {"type": "path"},
            "timeout": {"type": "float", "default": 10},
            "policy": {"type": "dict"},
            "tier": {"type": "str", "default": "vm", "choices": ["gke", "vm", "chain"]},
            "tier2_client": {"type": "str"},
            "hosts_file": {"type": "path"},
        },
        required_if=[("tier", "chain", ["tier2_client"])],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_module(module.params))
    except ProbeError as exc:
        module.fail_json(msg=str(exc))
    except PolicyError as exc:
        module.fail_json(msg=f"Invalid egress policy: {exc}", field=exc.field)
    except KeyError as exc:
        module.fail_json(msg=f"Each entry of requests needs {exc.args[0]!r}")


if __name__ == "__main__":
    main()
