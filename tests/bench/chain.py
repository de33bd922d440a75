# -*- coding: utf-8 -*-
"""What the rendered config costs: the chain with the collection's configs vs the same two Squids with a bare config.

The bare config is the same rendered file with its access rules replaced by ``http_access allow all`` (logging
kept), so the two variants differ only in what the policy adds: client, domain and destination checks (the ``dst``
guard resolves each name), the annotations naming the deciding ACL. The target is nginx serving TLS in the lab's
internet namespace. Each round runs every variant once, in a rotating order, so that the noise of two shared cores
(+-20% between rounds of the same config) falls on all of them alike; the figures are medians over the rounds with
their spread (lowest-highest round). Run it under the lab lock.

- throughput: hey, new CONNECT per request (what the ACLs decide once per tunnel), ratio rendered / bare per round;
- latency: single CONNECTs at one connection, timed with perf_counter_ns from connect() to the 200 of tier 1 (both
  tiers decided and tier 2 reached the target), median per round, rendered minus bare;
- per tier: the same single CONNECTs sent to tier 2 alone, interleaved with those through the chain. Tier 2's
  overhead is tier 2 alone minus a direct TCP connect to the target, tier 1's is the chain minus tier 2 alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager

from tests.testbed import internet
from tests.testbed.squid_lab import PROXY_PORT, TARGET_ADDRESS, TIER1_ADDRESS, TIER2_ADDRESS, SquidLab

TARGET_NAME = "login.microsoftonline.com"
ROUNDS = 5
SECONDS = 3
CONNECTIONS = 10
LATENCY_SAMPLES = 300
WARM_UP = 50
RATIO_TARGET = 0.95
ADDED_LATENCY_TARGET_MS = 0.2
CONNECT_REQUEST = f"CONNECT {TARGET_NAME}:443 HTTP/1.1\r\nHost: {TARGET_NAME}:443\r\n\r\n".encode()
TIER1 = (TIER1_ADDRESS, PROXY_PORT)
TIER2 = (TIER2_ADDRESS, PROXY_PORT)
POLICY = {
    "name": "bench",
    "allowed_domains": [TARGET_NAME],
    "gke": {"client_cidrs": ["127.0.0.0/8"]},
    "vm": {"address": "placeholder", "client_cidrs": ["127.0.0.0/8"]},
}
NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen {address}:443 ssl;
        ssl_certificate {work}/target.pem;
        ssl_certificate_key {work}/target-key.pem;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def bare(config: str) -> str:
    """The rendered config with its access rules replaced by ``http_access allow all``; everything else kept."""
    lines = config.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("http_access "))
    kept = [line for line in lines if not line.startswith("http_access ")]
    return "\n".join(kept[:first] + ["http_access allow all"] + kept[first:]) + "\n"


class BareLab(SquidLab):
    """The lab, rendering the bare variant of each tier's config."""

    def render(self, parsed, tier: str) -> str:
        return bare(super().render(parsed, tier))


def hey(url: str, proxy: str | None = None) -> float:
    command = ["hey", "-z", f"{SECONDS}s", "-c", str(CONNECTIONS), "-disable-keepalive"] + (["-x", proxy] if proxy else [])
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True, timeout=SECONDS + 60).stdout
    errors = re.search(r"Error distribution:(.*)", output, re.S)
    if errors and errors.group(1).strip():
        raise RuntimeError(f"hey saw errors for {url}: {errors.group(1).strip()[:500]}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))


def connect_time_ms(proxy: tuple | None) -> float:
    """Milliseconds for one request: through ``proxy`` until its 200 to CONNECT, or a TCP connect to the target."""
    started = time.perf_counter_ns()
    with socket.create_connection(proxy or (TARGET_ADDRESS, 443), timeout=10) as conn:
        if proxy:
            conn.sendall(CONNECT_REQUEST)
            answer = conn.recv(4096)
            if not answer.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{proxy} answered {answer[:80]!r}")
        return (time.perf_counter_ns() - started) / 1e6


def connect_times_ms(targets: dict, count: int) -> dict:
    """``count`` single requests to each of ``targets`` (name: proxy or None), interleaved; milliseconds per name."""
    times = {name: [] for name in targets}
    for _sample in range(count):
        for name, proxy in targets.items():
            times[name].append(connect_time_ms(proxy))
    return times


def start_nginx(work: str) -> subprocess.Popen:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", f"/CN={TARGET_NAME}", "-addext", f"subjectAltName=DNS:{TARGET_NAME}",
                    "-keyout", f"{work}/target-key.pem", "-out", f"{work}/target.pem"], check=True, capture_output=True)
    with open(f"{work}/nginx.conf", "w", encoding="utf-8") as handle:
        handle.write(NGINX_CONF.format(work=work, address=TARGET_ADDRESS))
    internet.up([TARGET_ADDRESS])
    process = subprocess.Popen(internet.command("nginx", "-c", f"{work}/nginx.conf", "-g", "daemon off;"), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://{TARGET_ADDRESS}/"], check=False).returncode == 0:
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nginx did not answer on {TARGET_ADDRESS}:443 (log {work}/nginx-error.log)")


@contextmanager
def variant(name: str, labs: dict):
    """Yield the proxy URL of one variant (None for direct), its chain running only meanwhile."""
    if name == "direct":
        yield None
        return
    with labs[name].chain(POLICY):
        connect_times_ms({"chain": TIER1, "tier2": TIER2}, WARM_UP)
        yield f"http://{TIER1_ADDRESS}:{PROXY_PORT}"


def measure(labs: dict) -> dict:
    """Per round and variant: requests per second, and median milliseconds per request (direct: a TCP connect to the
    target; chain: a CONNECT through both tiers; tier2: a CONNECT to tier 2 alone)."""
    names = ["direct", "bare", "rendered"]
    rounds = []
    for round_index in range(ROUNDS):
        order = names[round_index % 3:] + names[:round_index % 3]
        figures = {}
        for name in order:
            with variant(name, labs) as proxy:
                url = f"https://{TARGET_NAME}/" if proxy else f"https://{TARGET_ADDRESS}/"
                targets = {"chain": TIER1, "tier2": TIER2} if proxy else {"direct": None}
                times = connect_times_ms(targets, LATENCY_SAMPLES)
                figures[name] = {"rate": hey(url, proxy), **{kind: statistics.median(values) for kind, values in times.items()}}
        rounds.append(figures)
    return summarise(rounds)


def summarise(rounds: list) -> dict:
    """Medians over the rounds, with the lowest and highest round, of each figure and of the per-round differences."""
    def spread(values: list) -> tuple:
        return statistics.median(values), min(values), max(values)

    def per_round(figure) -> tuple:
        return spread([figure(one) for one in rounds])

    summary = {
        "direct_rate": per_round(lambda one: one["direct"]["rate"]),
        "direct_ms": per_round(lambda one: one["direct"]["direct"]),
        "ratio": per_round(lambda one: one["rendered"]["rate"] / one["bare"]["rate"]),
        "added_ms": per_round(lambda one: one["rendered"]["chain"] - one["bare"]["chain"]),
        "added_tier2_ms": per_round(lambda one: one["rendered"]["tier2"] - one["bare"]["tier2"]),
        "added_tier1_ms": per_round(lambda one: (one["rendered"]["chain"] - one["rendered"]["tier2"]) - (one["bare"]["chain"] - one["bare"]["tier2"])),
    }
    for name in ("bare", "rendered"):
        summary[name] = {
            "rate": per_round(lambda one, name=name: one[name]["rate"]),
            "vs_direct": per_round(lambda one, name=name: one[name]["rate"] / one["direct"]["rate"]),
            "chain_ms": per_round(lambda one, name=name: one[name]["chain"]),
            "tier2_ms": per_round(lambda one, name=name: one[name]["tier2"]),
            "tier2_overhead_ms": per_round(lambda one, name=name: one[name]["tier2"] - one["direct"]["direct"]),
            "tier1_overhead_ms": per_round(lambda one, name=name: one[name]["chain"] - one[name]["tier2"]),
        }
    return summary


def _ms(figure: tuple, sign: str = "") -> str:
    return f"{figure[0]:{sign}.3f} ms ({figure[1]:{sign}.3f} to {figure[2]:{sign}.3f})"


def report(summary: dict) -> bool:
    ratio, added = summary["ratio"], summary["added_ms"]
    ratio_ok, added_ok = ratio[0] >= RATIO_TARGET, added[0] <= ADDED_LATENCY_TARGET_MS
    rate = summary["direct_rate"]
    print(f"  direct: {rate[0]:,.0f} req/s ({rate[1]:,.0f}-{rate[2]:,.0f}), TCP connect to the target {_ms(summary['direct_ms'])}")
    for name in ("bare", "rendered"):
        figures = summary[name]
        rate, versus = figures["rate"], figures["vs_direct"]
        print(f"{name:>8}: {rate[0]:,.0f} req/s ({rate[1]:,.0f}-{rate[2]:,.0f}; {versus[0]:.2f}x of direct), "
              f"CONNECT through the chain {_ms(figures['chain_ms'])}, to tier 2 alone {_ms(figures['tier2_ms'])}; "
              f"overhead tier 2 {_ms(figures['tier2_overhead_ms'], '+')}, tier 1 {_ms(figures['tier1_overhead_ms'], '+')}")
    print(f"rendered vs bare chain: throughput {ratio[0]:.3f}x ({ratio[1]:.3f}-{ratio[2]:.3f}; target >= {RATIO_TARGET}x) "
          f"{'OK' if ratio_ok else 'BELOW'}")
    print(f"rendered vs bare chain: {_ms(added, '+')} per CONNECT at 1 connection (target <= +{ADDED_LATENCY_TARGET_MS} ms) "
          f"{'OK' if added_ok else 'OVER'}; of it tier 2 {_ms(summary['added_tier2_ms'], '+')}, tier 1 {_ms(summary['added_tier1_ms'], '+')}")
    return ratio_ok and added_ok


def run() -> bool:
    for tool in ("hey", "nginx", "squid", "openssl", "curl", "ip"):
        if shutil.which(tool) is None:
            print(f"skipped: {tool} is not installed (make setup installs it)")
            return False
    work = tempfile.mkdtemp(prefix="aibang-bench-")
    os.chmod(work, 0o755)
    print(f"{ROUNDS} rounds x (direct, bare chain, rendered chain): hey {CONNECTIONS} connections {SECONDS} s new CONNECT "
          f"per request; {LATENCY_SAMPLES} single CONNECTs through the chain and to tier 2 alone, interleaved; "
          f"medians of the rounds (lowest to highest round)", flush=True)
    nginx = start_nginx(work)
    try:
        with SquidLab([TARGET_NAME]) as rendered, BareLab([TARGET_NAME]) as bare_lab:
            return report(measure({"rendered": rendered, "bare": bare_lab}))
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        internet.down([TARGET_ADDRESS])
        shutil.rmtree(work, ignore_errors=True)
