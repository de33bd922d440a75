# -*- coding: utf-8 -*-
"""Policy engine benchmark: normalise and render 10,000 domains, decide 100,000 requests, Squid parses the result."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import decide, parse_request
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import parse_policy

RENDER_BUDGET_S = 0.5
DECIDE_BUDGET_S = 1.0


def big_policy(count: int) -> dict:
    """``count`` entries: exact hosts and wildcards, with covered, duplicate, upper-case and unicode entries among them."""
    domains = []
    for index in range(count):
        kind = index % 10
        if kind == 0:
            domains.append(f".zone{index}.example.com")
        elif kind == 1:
            domains.append(f"host.zone{index - 1}.example.com")  # covered by the wildcard before it
        elif kind == 2:
            domains.append(f"Service{index}.Example.NET.")
        elif kind == 3:
            domains.append(f"bücher{index}.de")
        else:
            domains.append(f"api{index}.svc{index % 97}.example.org")
    return {
        "name": "bench",
        "allowed_domains": domains,
        "gke": {"client_cidrs": ["10.128.0.0/14"]},
        "vm": {"address": "10.0.2.100", "client_cidrs": ["10.128.0.0/14"],
               "business_hours": {"days": "MTWHF", "start": "08:00", "end": "18:00"}},
    }


def best_of(runs: int, action) -> float:
    timings = []
    for _run in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def run() -> list:
    raw = big_policy(10_000)
    render_s = best_of(3, lambda: [render(parse_policy(raw), tier) for tier in ("gke", "vm")])
    policy = parse_policy(raw)
    requests = [
        parse_request({"client": f"10.128.{index % 200}.{index % 250}", "host": host, "port": 443 if index % 7 else 8443,
                       "at": "2026-11-23T10:00:00"}, "r")
        for index, host in enumerate(
            f"api{n}.svc{n % 97}.example.org" if n % 3 else f"x.zone{n - n % 10}.example.com" for n in range(100_000)
        )
    ]
    decide_s = best_of(3, lambda: [decide(policy, "vm", request) for request in requests])
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as handle:
        handle.write(render(policy, "vm"))
    started = time.perf_counter()
    parsed = subprocess.run(["squid", "-k", "parse", "-f", handle.name], capture_output=True, text=True, check=False)
    parse_s = time.perf_counter() - started
    os.unlink(handle.name)
    entries = len(policy.vm.domains.entries())
    return [
        ("engine: normalise + render 10,000 domains (both tiers)", render_s, RENDER_BUDGET_S),
        ("engine: 100,000 decisions", decide_s, DECIDE_BUDGET_S),
        (f"squid -k parse of the {entries}-entry config: rc={parsed.returncode}", parse_s, None),
    ], parsed.returncode == 0
