# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render one tier of an egress :class:`Policy` as a complete squid.conf.

The access rules are the contract that ``squid_decision`` evaluates; keep the two in step.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, fields

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import (
    PLAIN_HTTP_PORTS,
    Policy,
    PolicyError,
    config_word,
    parse_ip,
)

PEER_NAME = "tier2"
AUDIT_FORMAT = "aibang_audit"
MANAGER_CLIENTS = "aibang_manager_clients"
# Each http_access line ends in an annotate_transaction ACL that records, under this key, the ACL that decided;
# the audit log writes it as "acl".
DECIDED_BY_NOTE = "aibang_acl"


@dataclass(frozen=True)
class Runtime:
    """Where an instance listens and writes. Deployment settings, not policy: they never change a decision."""

    listen_address: str | None = None
    visible_hostname: str | None = None
    pid_filename: str = "/run/squid.pid"
    access_log: str = "/var/log/squid/access.log"
    cache_log: str = "/var/log/squid/cache.log"
    coredump_dir: str = "/var/spool/squid"
    hosts_file: str | None = None
    dns_nameservers: tuple = ()  # resolvers instead of /etc/resolv.conf's (names not in hosts_file)
    tcp_outgoing_address: str | None = None
    shutdown_lifetime: int = 30
    workers: int = 1


# Runtime strings written into squid.conf as they are: each must stay one word on its line.
_RUNTIME_WORDS = {
    "visible_hostname": "a host name",
    "pid_filename": "a path or 'none'",
    "access_log": "a path",
    "cache_log": "a path",
    "coredump_dir": "a path",
    "hosts_file": "a path",
}

# A GKE pod logs to its own stdout/stderr and writes only to emptyDir volumes.
TIER_RUNTIME_DEFAULTS = {
    "gke": {
        "pid_filename": "/var/run/squid/squid.pid",
        "access_log": "/dev/stdout",
        "cache_log": "/dev/stderr",
        "coredump_dir": "/var/spool/squid",
        "shutdown_lifetime": 5,
    },
    "vm": {},
}


def parse_runtime(raw: object, tier: str, field: str = "runtime") -> Runtime:
    values = dict(TIER_RUNTIME_DEFAULTS[tier])
    if raw:
        if not isinstance(raw, dict):
            raise PolicyError(field, raw, "must be a mapping")
        known = {item.name for item in fields(Runtime)}
        for key, value in raw.items():
            if key not in known:
                raise PolicyError(f"{field}.{key}", value, f"is not a known key; known keys: {', '.join(sorted(known))}")
            if value is not None:
                values[key] = value
    runtime = Runtime(**values)
    for key in ("listen_address", "tcp_outgoing_address"):
        if getattr(runtime, key) is not None:
            parse_ip(getattr(runtime, key), f"{field}.{key}")
    for key, what in _RUNTIME_WORDS.items():
        if getattr(runtime, key) is not None:
            config_word(getattr(runtime, key), f"{field}.{key}", what)
    if not isinstance(runtime.dns_nameservers, (list, tuple)):
        raise PolicyError(f"{field}.dns_nameservers", runtime.dns_nameservers, "must be a list of IP addresses")
    nameservers = tuple(str(parse_ip(entry, f"{field}.dns_nameservers[{index}]")) for index, entry in enumerate(runtime.dns_nameservers))
    runtime = dataclasses.replace(runtime, dns_nameservers=nameservers)
    for key in ("workers", "shutdown_lifetime"):
        number = getattr(runtime, key)
        if isinstance(number, bool) or not isinstance(number, int) or number < (1 if key == "workers" else 0):
            raise PolicyError(f"{field}.{key}", number, "must be a whole number" + (" >= 1" if key == "workers" else " >= 0"))
    return runtime


def render(policy: Policy, tier_name: str, runtime: Runtime | None = None) -> str:
    runtime = runtime or parse_runtime(None, tier_name)
    tier = policy.tier(tier_name)
    sections = [
        _header(policy, tier_name),
        _instance(policy, tier_name, runtime),
        _acls(policy, tier, runtime),
        _access_rules(policy, tier),
        _forwarding(policy) if tier_name == "gke" else [],
        _hardening(),
        _audit_log(policy, tier_name, runtime),
    ]
    return "\n".join("\n".join(section) + "\n" for section in sections if section)


def checksum(config: str) -> str:
    return hashlib.sha256(config.encode("utf-8")).hexdigest()


def _header(policy: Policy, tier_name: str) -> list:
    role = "tier 1, Squid pods in GKE" if tier_name == "gke" else "tier 2, Squid on the GCE VM"
    lines = [
        f"# squid.conf for egress policy {policy.name!r}, {role}.",
        "# Rendered by aibang.gke_platform.squid_policy: change the policy, not this file.",
    ]
    hours = policy.vm.business_hours
    if tier_name == "vm" and hours:
        lines.append(f"# Business hours are read in the Squid process's local time; run it with TZ={hours.timezone}.")
    return lines


def _instance(policy: Policy, tier_name: str, runtime: Runtime) -> list:
    listen = f"{_bracketed(runtime.listen_address)}:{policy.proxy_port}" if runtime.listen_address else str(policy.proxy_port)
    lines = [
        f"http_port {listen}",
        f"visible_hostname {runtime.visible_hostname or f'{policy.name}-{tier_name}'}",
        f"pid_filename {runtime.pid_filename}",
        f"cache_log {runtime.cache_log}",
        f"coredump_dir {runtime.coredump_dir}",
        f"shutdown_lifetime {runtime.shutdown_lifetime} seconds",
        "pinger_enable off",
        "logfile_rotate 0",  # logrotate (VM) or the container runtime (GKE) rotates; `squid -k rotate` only reopens
    ]
    if runtime.workers > 1:
        lines.append(f"workers {runtime.workers}")
    if runtime.hosts_file:
        lines.append(f"hosts_file {runtime.hosts_file}")
    if runtime.dns_nameservers:
        lines.append("dns_nameservers " + " ".join(str(address) for address in runtime.dns_nameservers))
    if runtime.tcp_outgoing_address:
        lines.append(f"tcp_outgoing_address {runtime.tcp_outgoing_address}")
    return lines


def _acls(policy: Policy, tier, runtime: Runtime) -> list:
    # The cache manager (prometheus-squid-exporter's counters) answers this host only: loopback, and the instance's
    # own address, which a local client connecting to it comes from.
    lines = [f"acl {MANAGER_CLIENTS} src {' '.join(['127.0.0.1', '::1'] + ([runtime.listen_address] if runtime.listen_address else []))}"]
    lines += [f"acl aibang_clients src {cidr}" for cidr in tier.client_cidrs]
    # -n: never reverse-resolve an IP destination, or a CONNECT to a raw IP could match an allowed name.
    lines += [f"acl aibang_domains dstdomain -n {entry}" for entry in tier.domains.entries()]
    # dst resolves the requested name (hosts_file, then DNS) and matches when any of its addresses is in a range.
    lines += [f"acl aibang_denied_dst dst {network}" for network in policy.denied_destinations]
    lines.append("acl aibang_connect method CONNECT")
    lines.append("acl aibang_tls_ports port " + " ".join(str(port) for port in policy.allowed_ports))
    if policy.allow_plain_http:
        lines.append("acl aibang_http_ports port " + " ".join(str(port) for port in PLAIN_HTTP_PORTS))
    if tier.business_hours:
        lines.append(f"acl aibang_hours time {tier.business_hours.squid_spec()}")
    return lines


def access_rules(policy: Policy, tier) -> list:
    """(action, ACLs) of each http_access line, in order; the last ACL of a line is the one that decides it.

    The cache manager first: from this host it answers (a metrics exporter), from anywhere else it is refused, even
    through an allowed name; every other request is decided by the policy's lines, as squid_decision does."""
    rules = [("allow", f"manager {MANAGER_CLIENTS}"), ("deny", "manager"), ("deny", "!aibang_clients"), ("deny", "!aibang_domains")]
    if policy.denied_destinations:
        rules.append(("deny", "aibang_denied_dst"))
    if tier.business_hours:
        rules.append(("deny", "!aibang_hours"))
    rules.append(("allow", "aibang_connect aibang_tls_ports"))
    if policy.allow_plain_http:
        rules.append(("allow", "!aibang_connect aibang_http_ports"))
    rules.append(("deny", "all"))
    return rules


def _access_rules(policy: Policy, tier) -> list:
    notes, lines = [], []
    for action, acls in access_rules(policy, tier):
        deciding = acls.split()[-1]
        note_acl = "aibang_by_" + deciding.lstrip("!").replace("aibang_", "", 1)
        notes.append(f"acl {note_acl} annotate_transaction {DECIDED_BY_NOTE}={deciding}")
        lines.append(f"http_access {action} {acls} {note_acl}")
    return notes + lines


def _forwarding(policy: Policy) -> list:
    return [
        f"cache_peer {policy.vm.address} parent {policy.proxy_port} 0 no-query no-digest default name={PEER_NAME}",
        "never_direct allow all",
    ]


def _hardening() -> list:
    return [
        # A host with characters no DNS name has (quote, backslash, control or raw non-ASCII bytes), a leading dot or an
        # empty label is refused with 400 as the URL is parsed, before the access rules and before any DNS lookup.
        "check_hostnames on",
        "cache deny all",
        "forwarded_for delete",
        "via off",
        "httpd_suppress_version_string on",
    ]


def _audit_log(policy: Policy, tier_name: str, runtime: Runtime) -> list:
    """One JSON object per line. Values a client chooses (method, host) are %-encoded by Squid (`%#`), so a quote,
    backslash, control or non-ASCII byte can never break the JSON; numbers are always numbers."""
    fields_ = (
        '"time":"%{%Y-%m-%dT%H:%M:%SZ}tg"',
        f'"policy":"{policy.name}"',
        f'"tier":"{tier_name}"',
        '"client":"%>a"',
        '"method":"%#rm"',
        '"host":"%#>rd"',
        '"port":"%>rP"',
        '"status":"%>Hs"',
        '"result":"%Ss"',
        f'"acl":"%#{{{DECIDED_BY_NOTE}}}note"',
        '"peer":"%Sh/%<a"',
        '"bytes":%st',
        '"duration_ms":%tr',
    )
    return [
        f"logformat {AUDIT_FORMAT} {{{','.join(fields_)}}}",
        f"access_log stdio:{runtime.access_log} {AUDIT_FORMAT}",
    ]


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address
