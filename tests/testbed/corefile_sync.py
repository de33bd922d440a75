# -*- coding: utf-8 -*-
"""Stand-in for the kubelet's ConfigMap volume: keep CoreDNS's Corefile equal to kube-system/coredns. Test infrastructure.

  python -m tests.testbed.corefile_sync --kubeconfig FILE --out FILE --bind ADDRESS
CoreDNS's reload plugin picks up the change, as it does in a cluster.

It also stands in for kube-dns's stubDomains (GKE Standard): each domain in the stubDomains of the kube-system/kube-dns
ConfigMap becomes a server block forwarding that domain to its listed servers, which is what kube-dns does with it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def stub_blocks(stub_domains: dict, bind: str) -> str:
    return "".join(f"{domain}:53 {{\n    bind {bind}\n    forward . {' '.join(servers)}\n}}\n"
                   for domain, servers in sorted(stub_domains.items()))


def read(api: client.CoreV1Api, name: str) -> dict | None:
    """The ConfigMap's data, {} when it does not exist, None when it could not be read (then nothing changes)."""
    try:
        return api.read_namespaced_config_map(name, "kube-system").data or {}
    except ApiException as exc:
        if exc.status == 404:
            return {}
        print(f"corefile-sync: cannot read kube-system/{name}: {exc.status} {exc.reason}", file=sys.stderr, flush=True)
        return None


def sync_once(api: client.CoreV1Api, out: str, bind: str, current: str | None) -> str | None:
    coredns, kube_dns = read(api, "coredns"), read(api, "kube-dns")
    if coredns is None or coredns.get("Corefile") is None or kube_dns is None:
        return current
    try:
        stub_domains = json.loads(kube_dns.get("stubDomains") or "{}")
    except ValueError:
        stub_domains = {}
    corefile = coredns["Corefile"] + stub_blocks(stub_domains, bind)
    if corefile != current:
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(corefile)
        os.replace(tmp, out)
        print(f"corefile-sync: wrote {out} ({len(corefile)} bytes, {len(stub_domains)} stub domain(s))", flush=True)
    return corefile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--bind", required=True, help="CoreDNS's listen address, for the stub domain blocks")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    api = client.CoreV1Api(config.new_client_from_config(config_file=args.kubeconfig))
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_args: running.clear())
    current = None
    while running:
        current = sync_once(api, args.out, args.bind, current)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
