#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: squid_policy
short_description: Render one tier of the egress policy as a complete squid.conf
version_added: 0.1.0
description:
  - Validates and normalises the egress policy and renders the full C(squid.conf) of one tier of the chain, tier 1
    (Squid pods in GKE, forwarding everything to tier 2) or tier 2 (Squid on the GCE VM).
  - Access rules deny first (cache manager except from this host, client range, destination domain, destination
    address, business hours)
    and end in C(deny all); C(dstdomain -n) so that a CONNECT to a raw IP never matches an allowed name; C(dst) so
    that an allowed name resolving into C(denied_destinations) is refused; CONNECT only to C(allowed_ports).
  - Both tiers write a JSON audit log line per request, naming the ACL that decided.
  - With O(dest), writes the file when its content changes, after O(validate) passed on a temporary copy.
    A config that fails validation never replaces the one in place.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - aibang.gke_platform.squid_policy
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  runtime:
    description:
      - Where this instance listens and writes; never changes a decision.
      - Keys C(listen_address), C(visible_hostname), C(pid_filename), C(access_log), C(cache_log), C(coredump_dir),
        C(hosts_file), C(dns_nameservers) (list of resolver addresses), C(tcp_outgoing_address),
        C(shutdown_lifetime) (seconds), C(workers).
      - Each value is one word, without whitespace, C(%) or control characters.
      - Defaults for O(tier=gke) suit a container (logs to stdout and stderr, pid under C(/var/run/squid)); for
        O(tier=vm) they are Debian's (C(/var/log/squid/), C(/run/squid.pid)).
    type: dict
    default: {}
  dest:
    description:
      - Write the rendered config to this path. Without it the module only returns the config.
    type: path
  validate:
    description:
      - Command that checks the new file before it replaces O(dest); C(%s) stands for the temporary file,
        for example V(squid -k parse -f %s).
    type: str
  keep_previous:
    description:
      - When O(dest) changes, keep the config it replaces at C(<dest>.previous), the release a rollback restores.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Render tier 2 on the VM, checked by Squid before it is put in place
  aibang.gke_platform.squid_policy:
    policy: "{{ egress_policy }}"
    tier: vm
    dest: /etc/squid/squid.conf
    validate: squid -k parse -f %s
    mode: "0644"
  notify: Reconfigure squid

- name: Render tier 1 for the ConfigMap of the Squid pods
  aibang.gke_platform.squid_policy:
    policy:
      name: microsoft
      allowed_domains: [login.microsoftonline.com, .microsoft.com]
      gke: {client_cidrs: [10.128.0.0/14]}
      vm: {address: 10.128.2.100, client_cidrs: [10.128.0.0/14]}
    tier: gke
  register: tier1
"""

RETURN = r"""
config:
  description: The complete squid.conf of the tier.
  returned: success
  type: str
checksum:
  description: SHA-256 of RV(config), for a pod template annotation that rolls the pods when the policy changes.
  returned: success
  type: str
  sample: 3f1c0ab5a4d7c1f1f0b9e0b43e0e5f0d5ad8f7d1fcbf1e92f1b9f2b4d3c2a1b0
dest:
  description: Where the config was written.
  returned: when O(dest) is set
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.config_file import ConfigFileError, write_config
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import checksum, parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy


def run_module(module: AnsibleModule) -> dict:
    params = module.params
    policy = parse_policy(params["policy"])
    config = render(policy, params["tier"], parse_runtime(params["runtime"], params["tier"]))
    for warning in policy.warnings:
        module.warn(warning)
    result = {"changed": False, "config": config, "checksum": checksum(config)}
    if params["dest"]:
        result.update(write_config(module, params["dest"], config, params["validate"], params["keep_previous"]))
        result["dest"] = params["dest"]
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "policy": {"type": "dict", "required": True},
            "tier": {"type": "str", "required": True, "choices": ["gke", "vm"]},
            "runtime": {"type": "dict", "default": {}},
            "dest": {"type": "path"},
            "validate": {"type": "str"},
            "keep_previous": {"type": "bool", "default": False},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_module(module))
    except PolicyError as exc:
        module.fail_json(msg=f"Invalid egress policy: {exc}", field=exc.field)
    except ConfigFileError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
