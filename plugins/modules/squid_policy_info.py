#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: squid_policy_info
short_description: Compile the egress policy once, for both tiers
version_added: 0.2.0
description:
  - Validates and normalises the egress policy, renders the C(squid.conf) of both tiers, and returns every fact the
    roles and templates need - the proxy port, each tier's client ranges, config, checksum and runtime paths, the
    tier-2 address and whether it is an IP, the time zone business hours are read in.
  - A playbook compiles the policy once and passes the result on; the roles C(squid_vm), C(squid_vm_cloud) and
    C(squid_gke) take it in place of the raw policy and then compile nothing again.
  - Read-only; never writes a file. M(aibang.gke_platform.squid_policy) writes one tier's config.
  - Runs in the controller (an action plugin of the same name); it only computes, so no module process is started.
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
    platforms: posix
options:
  policy:
    description:
      - The egress policy, one source for both Squid tiers, as M(aibang.gke_platform.squid_policy) takes it (every key
        in C(docs/egress-policy.md)). Invalid input fails naming the field and the entry.
    type: dict
    required: true
  runtime:
    description:
      - Runtime settings per tier (keys V(gke), V(vm)), as the O(aibang.gke_platform.squid_policy#module:runtime)
        option of M(aibang.gke_platform.squid_policy) takes them; a tier without them gets that tier's defaults.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Compile the egress policy once per run
  aibang.gke_platform.squid_policy_info:
    policy: "{{ egress_policy }}"
  register: egress_policy_compiled

- name: The NetworkPolicy's egress rule to tier 2, only when the address is an IP
  ansible.builtin.debug:
    msg: "{{ egress_policy_compiled.vm.address_cidr }} port {{ egress_policy_compiled.proxy_port }}"
  when: egress_policy_compiled.vm.address_is_ip
"""

RETURN = r"""
name:
  description: The policy's name.
  returned: success
  type: str
  sample: microsoft
proxy_port:
  description: The port both tiers listen on and tier 1 forwards to.
  returned: success
  type: int
  sample: 3128
policy:
  description:
    - The policy as the model reads it (domains normalised, defaults written out); the modules accept it as their
      C(policy) and warn about nothing again.
  returned: success
  type: dict
gke:
  description: Tier 1, the Squid pods in GKE.
  returned: success
  type: dict
  contains:
    client_cidrs:
      description: The pod ranges allowed to use tier 1.
      type: list
      elements: str
    allowed_domains:
      description: The tier's allow-list as Squid reads it.
      type: list
      elements: str
    config:
      description: The complete squid.conf of the tier.
      type: str
    checksum:
      description: SHA-256 of RV(gke.config).
      type: str
    runtime:
      description: Where the instance listens and writes (pid_filename, access_log, cache_log, coredump_dir, ...).
      type: dict
    run_dir:
      description: The directory of the pid file (a writable volume in the pod).
      type: str
      sample: /var/run/squid
vm:
  description: Tier 2, Squid on the GCE VM; the same keys as RV(gke), and these.
  returned: success
  type: dict
  contains:
    address:
      description: Where tier 1 forwards (an IP, or a host name).
      type: str
    address_is_ip:
      description: Whether RV(vm.address) is an IP literal.
      type: bool
    address_cidr:
      description: The one-address range of RV(vm.address) (V(/32) or V(/128)); null for a host name.
      type: str
    business_hours:
      description: The normalised business hours (C(days), C(start), C(end), C(timezone)), or null.
      type: dict
    timezone:
      description: The time zone Squid must run in (business hours are read in local time); V(UTC) without hours.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy_facts import compile_policy


ARGUMENT_SPEC = {
    "policy": {"type": "dict", "required": True},
    "runtime": {"type": "dict", "default": {}},
}
ERROR_PREFIX = "Invalid egress policy"


def run_module(params: dict) -> dict:
    """The compiled policy (``warnings`` listed); also what the action plugin returns, run in the controller."""
    return dict(compile_policy(params["policy"], params["runtime"]), changed=False)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        compiled = run_module(module.params)
    except PolicyError as exc:
        module.fail_json(msg=f"{ERROR_PREFIX}: {exc}", field=exc.field)
    for warning in compiled.pop("warnings"):
        module.warn(warning)
    module.exit_json(**compiled)


if __name__ == "__main__":
    main()
