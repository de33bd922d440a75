#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_probe_check
short_description: Judge what an in-cluster probe pod saw against the DNS aliases and the egress policy
version_added: 0.3.0
description:
  - Reads the JSON-lines log of the probe Job (role C(aibang.gke_platform.egress_probe), filter
    C(aibang.gke_platform.cluster_probe_objects)) and compares it with what should be - each alias resolves to exactly the addresses of its target, and each
    request is answered as M(aibang.gke_platform.squid_policy_check) decides it for the whole chain (tier 1 sees the
    probe pod's address, tier 2 sees O(tier2_client)).
  - Fails on any disagreement, naming the alias or the request. Changes nothing.
  - Runs in the controller (an action plugin of the same name); it only computes, so no module process is started.
    With O(hosts_file) on a host other than the controller (not the local connection), the module runs on that host,
    where the file is.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
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
  log:
    description: The probe pod's log.
    type: str
    required: true
  aliases:
    description: Alias -> target name; each must have been resolved by the probe.
    type: dict
    default: {}
  requests:
    description: The requests the probe sent (C(host), C(port), C(method)); each must have an answer in the log.
    type: list
    elements: dict
    default: []
  policy:
    description: The egress policy (raw or as M(aibang.gke_platform.squid_policy_info) compiled it); required with O(requests).
    type: dict
  tier2_client:
    description: The address tier 2 sees for tier 1; required with O(requests).
    type: str
  hosts_file:
    description: Resolve request hosts in this file first, as Squid's C(hosts_file) does, for the destination check.
    type: path
  diagnose:
    description:
      - Never fail; return RV(layers), the egress path as the pod walked it (C(pod-dns), C(pod-proxy), C(chain)) up to the
        first broken layer, with a hint there. For C(playbooks/diagnose.yml).
    type: bool
    default: false
  proxy_url:
    description: The proxy the pod used (C(HTTPS_PROXY)), named in RV(layers).
    type: str
    default: ""
  app:
    description:
      - With O(diagnose), the app whose database path the probe walked (the probe ran as the app, checks C(db) and
        C(identity)); RV(layers) are then C(db-dns), C(db-tcp), C(db-auth), C(workload-identity).
    type: str
    default: ""
  service_account:
    description: The app's Kubernetes service account, named in RV(layers).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The probe pod saw what the policy says
  aibang.gke_platform.cluster_probe_check:
    log: "{{ probe_log.log }}"
    aliases: {microsoft.intra.aibang.local: squid-proxy-service.intra-proxy.svc.cluster.local}
    requests: [{host: login.microsoftonline.com, port: 443}, {host: example.org, port: 443}]
    policy: "{{ egress_policy_compiled.policy }}"
    tier2_client: 10.128.0.7
"""

RETURN = r"""
pod_ip:
  description: The probe pod's address (the client tier 1 saw).
  returned: success
  type: str
dns:
  description: Per alias, its addresses and its target's, as the pod resolved them, and whether they agree.
  returned: success
  type: list
  elements: dict
results:
  description: Per request, what the proxy answered (C(allowed), C(proxy_status)), what the policy says (C(expected), C(reason)).
  returned: success
  type: list
  elements: dict
layers:
  description:
    - With O(diagnose), the layers C(pod-dns), C(pod-proxy), C(chain) (C(layer), C(ok), C(detail)) up to the first broken one.
    - With O(app), the layers C(db-dns), C(db-tcp), C(db-auth), C(workload-identity) (and C(app)).
  returned: when O(diagnose) is true
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.cluster_probe import (
    ProbeError, db_layers, diagnose_layers, judge_chain, judge_dns, parse_log)
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy


ARGUMENT_SPEC = {
    "log": {"type": "str", "required": True},
    "aliases": {"type": "dict", "default": {}},
    "requests": {"type": "list", "elements": "dict", "default": []},
    "policy": {"type": "dict"},
    "tier2_client": {"type": "str"},
    "hosts_file": {"type": "path"},
    "diagnose": {"type": "bool", "default": False},
    "proxy_url": {"type": "str", "default": ""},
    "app": {"type": "str", "default": ""},
    "service_account": {"type": "str", "default": ""},
}


def run_module(params: dict) -> dict:
    """The judgement, a failure included (C(failed), C(msg)); also what the action plugin returns, run in the controller."""
    if params["requests"] and not (params["policy"] and params["tier2_client"]):
        return {"failed": True, "msg": "requests needs policy and tier2_client"}
    try:
        return judge(params)
    except ProbeError as exc:
        return {"failed": True, "msg": str(exc)}
    except PolicyError as exc:
        return {"failed": True, "msg": f"Invalid egress policy: {exc}", "field": exc.field}


def judge(params: dict) -> dict:
    observed = parse_log(params["log"])
    if params.get("diagnose") and params.get("app"):
        return {"changed": False, "pod_ip": observed["pod_ip"],
                "layers": db_layers(observed, params["app"], params.get("service_account") or "")}
    dns, dns_disagreements = judge_dns(params["aliases"], observed)
    results, chain_disagreements = [], []
    if params["requests"]:
        policy = params["policy"] or {}
        results, chain_disagreements = judge_chain(parse_policy(policy.get("policy", policy)), params["requests"], observed,
                                                   params["tier2_client"], params["hosts_file"])
    result = {"changed": False, "pod_ip": observed["pod_ip"], "dns": dns, "results": results}
    if params.get("diagnose"):
        return {**result, "layers": diagnose_layers(params["aliases"], params.get("proxy_url") or "", observed,
                                                    dns_disagreements, chain_disagreements)}
    if dns_disagreements or chain_disagreements:
        result.update(failed=True, msg="In-cluster check failed: " + "; ".join(dns_disagreements + chain_disagreements))
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run_module(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
