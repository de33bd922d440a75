# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  policy:
    description:
      - The egress policy, one source for both Squid tiers. See C(docs/egress-policy.md) for every key.
      - C(name) (required, V([a-z0-9-]+)), C(proxy_port) (default V(3128)), C(allowed_domains) (required),
        C(allowed_ports) (default V([443])), C(allow_plain_http) (default V(false)), C(denied_destinations).
      - C(allowed_domains) entries use Squid C(dstdomain) semantics, V(host.example.com) is exactly that host,
        V(.example.com) is C(example.com) and all its subdomains. Names are lowercased, IDNA-encoded and stripped
        of a trailing dot; entries covered by a wildcard are dropped. Each normalisation is reported as a warning.
      - C(denied_destinations) (CIDR ranges, IPv4 and IPv6) are denied by resolved address at both tiers, before any
        allow rule, for CONNECT and plain HTTP; a request passes only if no address its host resolves to is in one.
        Default loopback V(127.0.0.0/8) and V(::1/128), unspecified V(0.0.0.0/8) and V(::/128), link-local
        V(169.254.0.0/16) (the metadata server) and V(fe80::/10), private V(10.0.0.0/8), V(172.16.0.0/12),
        V(192.168.0.0/16) and V(fc00::/7), shared V(100.64.0.0/10), NAT64 V(64:ff9b::/96) and V(64:ff9b:1::/48),
        6to4 V(2002::/16) and Teredo V(2001::/32).
        An empty list turns the guard off (with a warning).
      - C(gke.client_cidrs) (required) are the pod ranges allowed to use tier 1; C(gke.allowed_domains) overrides
        the shared list for tier 1.
      - C(vm.address) (required) is where tier 1 forwards; C(vm.client_cidrs) (required) are the ranges tier 2
        accepts; C(vm.allowed_domains) overrides the shared list for tier 2; C(vm.business_hours) (optional) takes
        C(days) (letters from V(SMTWHFA), H is Thursday, A is Saturday), C(start), C(end) (V(HH:MM)) and
        C(timezone) (default V(UTC)).
      - Invalid input fails naming the field and the entry, before anything is written.
    type: dict
    required: true
  tier:
    description:
      - Which tier, V(gke) for the Squid pods in GKE (tier 1), V(vm) for Squid on the GCE VM (tier 2).
    type: str
    required: true
    choices: [gke, vm]
"""
