# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress policy compiled once: its normalised form and every fact the roles and templates need.

``compile_policy(raw, runtimes)`` parses the policy once, renders both tiers, and returns plain data (JSON-safe):
the port, each tier's client ranges, rendered squid.conf, checksum and runtime paths, the tier-2 address and whether
it is an IP, the time zone. Playbooks pass the result on, so no template re-derives what Python knows.
Pure Python on top of the policy model and the renderer.
"""

from __future__ import annotations

import ipaddress
import posixpath
from dataclasses import asdict

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import checksum, parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import (
    TIERS,
    BusinessHours,
    Policy,
    PolicyError,
    Tier,
    is_ip_literal,
    parse_policy,
)

DEFAULT_TIME_ZONE = "UTC"


def compile_policy(raw: object, runtimes: dict | None = None) -> dict:
    """Parse ``raw`` once; return the normalised policy and the facts of both tiers.

    ``runtimes`` maps a tier to its runtime settings (see ``squid_config.parse_runtime``); a tier without one gets
    that tier's defaults.
    """
    runtimes = runtimes or {}
    unknown = sorted(str(tier) for tier in runtimes if tier not in TIERS)
    if unknown:
        raise PolicyError(f"runtime.{unknown[0]}", runtimes[unknown[0]], f"is not a tier; tiers: {', '.join(TIERS)}")
    policy = parse_policy(raw)
    compiled = {
        "name": policy.name,
        "proxy_port": policy.proxy_port,
        "policy": normalised_policy(raw, policy),
        "warnings": list(policy.warnings),
    }
    for tier_name in TIERS:
        runtime = parse_runtime(runtimes.get(tier_name), tier_name, f"runtime.{tier_name}")
        config = render(policy, tier_name, runtime)
        compiled[tier_name] = dict(
            _tier_facts(policy.tier(tier_name)),
            config=config,
            checksum=checksum(config),
            runtime={key: list(value) if isinstance(value, tuple) else value for key, value in asdict(runtime).items()},
            run_dir=posixpath.dirname(runtime.pid_filename),
        )
    return compiled


def normalised_policy(raw: dict, policy: Policy) -> dict:
    """``raw`` with every value the model normalises written as the model reads it; ``parse_policy`` of the result
    gives the same policy without warnings. Keys this function does not know pass through as given (parse_policy
    accepted them)."""
    shared_domains = policy.gke.domains == policy.vm.domains
    normalised = dict(
        raw,
        name=policy.name,
        proxy_port=policy.proxy_port,
        allowed_ports=list(policy.allowed_ports),
        allow_plain_http=policy.allow_plain_http,
        allowed_domains=policy.gke.domains.entries(),
    )
    if raw.get("denied_destinations") is not None:
        normalised["denied_destinations"] = [str(network) for network in policy.denied_destinations]
    for tier_name in TIERS:
        tier = policy.tier(tier_name)
        section = {key: value for key, value in raw[tier_name].items() if key != "allowed_domains"}
        section["client_cidrs"] = [str(cidr) for cidr in tier.client_cidrs]
        if not shared_domains:
            section["allowed_domains"] = tier.domains.entries()
        if tier.address is not None:
            section["address"] = tier.address
        if tier.business_hours is not None:
            section["business_hours"] = _hours(tier.business_hours)
        normalised[tier_name] = section
    return normalised


def _tier_facts(tier: Tier) -> dict:
    facts = {"client_cidrs": [str(cidr) for cidr in tier.client_cidrs], "allowed_domains": tier.domains.entries()}
    if tier.name == "vm":
        facts.update(
            address=tier.address,
            address_is_ip=is_ip_literal(tier.address),
            address_cidr=_host_cidr(tier.address),
            business_hours=None if tier.business_hours is None else _hours(tier.business_hours),
            timezone=tier.business_hours.timezone if tier.business_hours else DEFAULT_TIME_ZONE,
        )
    return facts


def _host_cidr(address: str):
    """The one-address range of an IP (for a NetworkPolicy ipBlock or a firewall rule); None for a host name."""
    if not is_ip_literal(address):
        return None
    return str(ipaddress.ip_network(address))


def _hours(hours: BusinessHours) -> dict:
    return {
        "days": hours.days,
        "start": _clock(hours.start),
        "end": _clock(hours.end),
        "timezone": hours.timezone,
    }


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
