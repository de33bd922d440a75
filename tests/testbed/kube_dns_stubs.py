# -*- coding: utf-8 -*-
"""Stand-in for kube-dns's stubDomains (GKE Standard), run as a container of the cluster's CoreDNS pod. Test infrastructure.

The testbed's cluster DNS is CoreDNS (the kube-system/coredns Deployment, cluster.py), which does not read kube-dns's
ConfigMap. This sidecar reads the kube-system/kube-dns ConfigMap as the kubelet mounts it (an optional ConfigMap
volume) and writes each domain of its stubDomains as a server block forwarding that domain to its listed servers,
which is what kube-dns does with it, into a file the Corefile imports (`import <dir>/*.server`). CoreDNS's reload
plugin reloads when an imported file changes. Standard library only: it runs in the lab's probe image.

  python3 kube_dns_stubs.py --source /etc/kube-dns/stubDomains --out /etc/kube-dns-stubs/stub-domains.server --port 53
In a pod CoreDNS listens on every address of the pod, and so do the blocks; --bind ADDRESSES limits them (a `bind`
line), for a CoreDNS that shares a network with others.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time


def stub_blocks(stub_domains: dict, bind: str = "", port: int = 53) -> str:
    """kube-dns's stubDomains ({domain: [server, ...]}) as CoreDNS server blocks; "" for none."""
    bind_line = f"    bind {bind}\n" if bind.strip() else ""
    return "".join(f"{domain}:{port} {{\n{bind_line}    forward . {' '.join(servers)}\n}}\n"
                   for domain, servers in sorted(stub_domains.items()))


def read_stub_domains(source: str) -> dict | None:
    """The stubDomains the mounted ConfigMap holds: {} when there is none (no ConfigMap, no key), None when it is not
    a JSON mapping of lists (then what is served stays as it was, as kube-dns keeps its last good configuration)."""
    try:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return None
    if not isinstance(found, dict) or not all(isinstance(servers, list) for servers in found.values()):
        return None
    return found


def write(out: str, text: str) -> None:
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, out)


_REFUSED = set()  # sources whose refusal was said once (it is polled every second)


def sync_once(source: str, out: str, bind: str, port: int, current: str | None) -> str | None:
    stub_domains = read_stub_domains(source)
    if stub_domains is None:
        if source not in _REFUSED:
            print(f"kube-dns-stubs: {source} is not a JSON mapping of server lists; kept what is served", flush=True)
            _REFUSED.add(source)
        return current
    _REFUSED.discard(source)
    blocks = stub_blocks(stub_domains, bind, port)
    if blocks != current:
        write(out, blocks)
        print(f"kube-dns-stubs: wrote {out} ({len(stub_domains)} stub domain(s): {', '.join(sorted(stub_domains)) or '-'})",
              flush=True)
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True, help="stubDomains of the mounted kube-system/kube-dns ConfigMap")
    parser.add_argument("--out", required=True, help="the file the Corefile imports")
    parser.add_argument("--bind", default="", help="CoreDNS's listen addresses, for the blocks' bind (default: none, all)")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    # PID 1 of its container: SIGTERM has no default action there
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
    current = None
    while True:
        current = sync_once(args.source, args.out, args.bind, args.port, current)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
