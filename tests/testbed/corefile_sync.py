# -*- coding: utf-8 -*-
"""Stand-in for the kubelet's ConfigMap volume: keep CoreDNS's Corefile equal to kube-system/coredns. Test infrastructure.

  python -m tests.testbed.corefile_sync --kubeconfig FILE --out FILE
CoreDNS's reload plugin picks up the change, as it does in a cluster.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def sync_once(api: client.CoreV1Api, out: str, current: str | None) -> str | None:
    try:
        corefile = api.read_namespaced_config_map("coredns", "kube-system").data.get("Corefile")
    except ApiException as exc:
        print(f"corefile-sync: cannot read kube-system/coredns: {exc.status} {exc.reason}", file=sys.stderr, flush=True)
        return current
    if corefile is not None and corefile != current:
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(corefile)
        os.replace(tmp, out)
        print(f"corefile-sync: wrote {out} ({len(corefile)} bytes)", flush=True)
    return corefile if corefile is not None else current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    api = client.CoreV1Api(config.new_client_from_config(config_file=args.kubeconfig))
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_args: running.clear())
    current = None
    while running:
        current = sync_once(api, args.out, current)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
