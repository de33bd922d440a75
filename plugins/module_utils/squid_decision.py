# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide a request the way Squid does with the config ``squid_config.render`` writes for the same tier.

Each check below is one ``http_access`` line of that config, in the same order; the first that decides wins.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from dataclasses import dataclass

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import (
    DAY_LETTERS,
    PLAIN_HTTP_PORTS,
    BusinessHours,
    Policy,
    PolicyError,
    ZoneInfo,
    is_ip_literal,
    normalize_host,
    parse_ip,
    parse_port,
)

_REQUEST_KEYS = {"client", "host", "port", "method", "at", "resolves_to"}

# Decision.destination_check: what the destination guard (policy.denied_destinations) said about a request.
GUARD_DENIED = "denied"  # an address of resolves_to is in a denied range
GUARD_PASSED = "passed"  # resolves_to was given and none of it is denied
GUARD_NOT_EVALUATED = "not evaluated"  # the request reached the guard without resolves_to: unknown
GUARD_NOT_REACHED = "not reached"  # an earlier rule decided
GUARD_OFF = "off"  # denied_destinations is empty


# Decision.rule of a request Squid refuses while parsing it (check_hostnames on), before any http_access line.
REFUSED_AS_PARSED = "check_hostnames"
# What Squid's check_hostnames accepts in a (lowercased) host, with its default allow_underscore on; ':' for IPv6.
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._:")


@dataclass(frozen=True)
class Request:
    client: object  # ipaddress.IPv4Address | IPv6Address
    host: str
    port: int
    method: str
    at: datetime.datetime | None = None
    resolves_to: tuple | None = None  # the addresses the host resolves to; None: not known


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: str
    destination_check: str = GUARD_NOT_REACHED

    def as_dict(self) -> dict:
        return {"allowed": self.allowed, "reason": self.reason, "rule": self.rule, "destination_check": self.destination_check}


def parse_request(raw: object, field: str) -> Request:
    if not isinstance(raw, dict):
        raise PolicyError(field, raw, "must be a mapping with client, host, port, method and at")
    unknown = sorted(str(key) for key in raw if key not in _REQUEST_KEYS)
    if unknown:
        raise PolicyError(f"{field}.{unknown[0]}", raw[unknown[0]], f"is not a known key; known keys: {', '.join(sorted(_REQUEST_KEYS))}")
    try:
        client = ipaddress.ip_address(str(raw.get("client")))
    except ValueError:
        raise PolicyError(f"{field}.client", raw.get("client"), "must be an IP address") from None
    host = raw.get("host")
    if not isinstance(host, str) or not host.strip():
        raise PolicyError(f"{field}.host", host, "must be a host name or IP address")
    method = str(raw.get("method") or "CONNECT").upper()
    port = raw.get("port")
    port = parse_port(port if port is not None else (443 if method == "CONNECT" else 80), f"{field}.port")
    resolves_to = _parse_addresses(raw.get("resolves_to"), f"{field}.resolves_to")
    return Request(client, normalize_host(host), port, method, _parse_time(raw.get("at"), f"{field}.at"), resolves_to)


def _parse_addresses(raw: object, field: str):
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyError(field, raw, "must be a list of the IP addresses the host resolves to")
    return tuple(parse_ip(address, f"{field}[{index}]") for index, address in enumerate(raw))


def decide(policy: Policy, tier_name: str, request: Request, now: datetime.datetime | None = None) -> Decision:
    tier = policy.tier(tier_name)
    malformed = malformed_host(request.host)
    if malformed:
        return _deny(f"host {request.host!r} {malformed}: Squid refuses it with 400 before the access rules", REFUSED_AS_PARSED)
    if not any(request.client in cidr for cidr in tier.client_cidrs):
        cidrs = ", ".join(str(cidr) for cidr in tier.client_cidrs)
        return _deny(f"client {request.client} is not in {tier_name}.client_cidrs ({cidrs})", "deny !aibang_clients")
    if is_ip_literal(request.host):
        return _deny(f"destination {request.host} is an IP address; only allowed domain names pass", "deny !aibang_domains")
    matched = tier.domains.match(request.host)
    if matched is None:
        return _deny(f"host {request.host} is not in the {tier_name} tier's allowed_domains", "deny !aibang_domains")
    guard, denied_because = _destination_guard(policy, request)
    if denied_because:
        return _deny(denied_because, "deny aibang_denied_dst", guard)
    decision = _after_the_guard(policy, tier, request, matched, now)
    reason = decision.reason
    if guard == GUARD_NOT_EVALUATED and decision.allowed:
        reason += "; destination check not evaluated (no resolves_to): denied if the host resolves into denied_destinations"
    return Decision(decision.allowed, reason, decision.rule, guard)


def malformed_host(host: str):
    """Why Squid refuses ``host`` (as normalize_host returns it) while parsing the request, or None."""
    if not _HOST_CHARACTERS.issuperset(host):
        return "has characters a host name cannot have"
    if host.startswith(".") or ".." in host:
        return "has an empty label"
    return None


def _destination_guard(policy: Policy, request: Request) -> tuple:
    """(destination_check, reason for a denial or None), as Squid's `http_access deny aibang_denied_dst` decides."""
    if not policy.denied_destinations:
        return GUARD_OFF, None
    if request.resolves_to is None:
        return GUARD_NOT_EVALUATED, None
    for address in request.resolves_to:
        network = policy.denied_range(address)
        if network is not None:
            return GUARD_DENIED, f"host {request.host} resolves to {address_text(address)}, which is in denied_destinations ({network})"
    return GUARD_PASSED, None


def _after_the_guard(policy: Policy, tier, request: Request, matched: str, now) -> Decision:
    if tier.business_hours:
        when = _local_time(request.at or now or _utc_now(), tier.business_hours)
        if not _within(when, tier.business_hours):
            return _deny(
                f"{when:%a %H:%M} {tier.business_hours.timezone} is outside business hours ({tier.business_hours.squid_spec()})",
                "deny !aibang_hours",
            )
    target = f"{request.host}:{request.port}"
    if request.method == "CONNECT":
        if request.port in policy.allowed_ports:
            return Decision(True, f"CONNECT {target} matches {matched!r}, port in allowed_ports", "allow aibang_connect aibang_tls_ports")
        return _deny(f"CONNECT to port {request.port} is not allowed; allowed_ports: {list(policy.allowed_ports)}", "deny all")
    if not policy.allow_plain_http:
        return _deny(f"plain HTTP ({request.method}) is not allowed: allow_plain_http is false", "deny all")
    if request.port in PLAIN_HTTP_PORTS:
        return Decision(True, f"{request.method} http://{target} matches {matched!r}, plain HTTP allowed", "allow !aibang_connect aibang_http_ports")
    return _deny(f"plain HTTP only goes to port {PLAIN_HTTP_PORTS[0]}, not {request.port}", "deny all")


def decide_chain(policy: Policy, request: Request, tier2_client) -> Decision:
    """Both tiers must allow: tier 1 sees the pod (``request.client``), tier 2 sees tier 1 as ``tier2_client``."""
    tier1 = decide(policy, "gke", request)
    if not tier1.allowed:
        return Decision(False, f"tier 1: {tier1.reason}", f"gke: {tier1.rule}", tier1.destination_check)
    seen_by_tier2 = dataclasses.replace(request, client=ipaddress.ip_address(str(tier2_client)))
    tier2 = decide(policy, "vm", seen_by_tier2)
    return Decision(tier2.allowed, f"tier 2: {tier2.reason}", f"vm: {tier2.rule}", tier2.destination_check)


def address_text(address) -> str:
    """An address as people write it: an IPv4-mapped IPv6 address with its IPv4 part dotted."""
    mapped = getattr(address, "ipv4_mapped", None)
    return f"::ffff:{mapped}" if mapped else str(address)


def _deny(reason: str, rule: str, destination_check: str = GUARD_NOT_REACHED) -> Decision:
    return Decision(False, reason, rule, destination_check)


def _within(when: datetime.datetime, hours: BusinessHours) -> bool:
    # Squid compares whole minutes and includes the end minute: 08:00-18:00 still matches at 18:00:59.
    day = DAY_LETTERS[(when.weekday() + 1) % 7]
    minute = when.hour * 60 + when.minute
    return day in hours.days and hours.start <= minute <= hours.end


def _local_time(when: datetime.datetime, hours: BusinessHours) -> datetime.datetime:
    if when.tzinfo is None or ZoneInfo is None:
        return when  # a naive time is already the proxy's local time
    return when.astimezone(ZoneInfo(hours.timezone))


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _parse_time(raw: object, field: str):
    if raw is None or isinstance(raw, datetime.datetime):
        return raw
    try:
        return datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise PolicyError(field, raw, "must be an ISO 8601 time such as '2026-11-23T09:30:00+00:00'") from None
