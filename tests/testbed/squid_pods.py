# -*- coding: utf-8 -*-
"""Stand-in for the kubelet and kube-proxy of the egress proxy pods. Test infrastructure only.

kwok runs no containers, so this runs what the cluster holds: for each Deployment labelled
app.kubernetes.io/component=egress-proxy, the squid.conf of the ConfigMap its current pod template mounts, as one
real Squid process listening on the ClusterIP of the Service that selects it (the testbed's Service range is on
loopback, so the ClusterIP is a local address). A rollout to a new ConfigMap restarts it with the new config.

Only deployment-specific lines change (where to listen, log and keep its pid, and the source address tier 2 sees,
standing for the pod IP); every ACL line is the ConfigMap's.
  python -m tests.testbed.squid_pods --kubeconfig FILE --run-dir DIR --source 127.0.0.13
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import subprocess
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

SELECTOR = "app.kubernetes.io/component=egress-proxy"
RUNTIME_DIRECTIVES = ("http_port", "pid_filename", "access_log", "cache_log", "coredump_dir", "tcp_outgoing_address")


def local_config(squid_conf: str, listen: str, port: int, workdir: str, name: str, source: str) -> str:
    """The ConfigMap's squid.conf with the deployment-specific lines pointed at this machine."""
    kept = [line for line in squid_conf.splitlines() if line.split(" ", 1)[0] not in RUNTIME_DIRECTIVES]
    logformat = next((line.split()[1] for line in kept if line.startswith("logformat ")), "squid")
    return "\n".join(kept + [
        f"http_port {listen}:{port}",
        f"pid_filename {workdir}/{name}.pid",
        f"access_log stdio:{workdir}/{name}-access.log {logformat}",
        f"cache_log {workdir}/{name}-cache.log",
        f"coredump_dir {workdir}",
        f"tcp_outgoing_address {source}",
    ]) + "\n"


def desired(apps: client.AppsV1Api, core: client.CoreV1Api) -> dict:
    """{name: (squid.conf, ClusterIP, port)} for every egress-proxy Deployment with a Service and a ConfigMap."""
    wanted = {}
    for deployment in apps.list_deployment_for_all_namespaces(label_selector=SELECTOR).items:
        namespace = deployment.metadata.namespace
        volumes = deployment.spec.template.spec.volumes or []
        config_maps = [volume.config_map.name for volume in volumes if volume.config_map]
        services = [service for service in core.list_namespaced_service(namespace).items
                    if service.spec.selector and all(deployment.spec.template.metadata.labels.get(key) == value
                                                     for key, value in service.spec.selector.items())]
        if not config_maps or not services or not (deployment.status.ready_replicas or 0):
            continue  # no ready pod, no endpoint: kube-proxy would send nothing there
        try:
            squid_conf = core.read_namespaced_config_map(config_maps[0], namespace).data["squid.conf"]
        except (ApiException, KeyError, TypeError):
            continue
        service = services[0]
        wanted[f"{namespace}-{deployment.metadata.name}"] = (squid_conf, service.spec.cluster_ip, service.spec.ports[0].port)
    return wanted


class Pods:
    def __init__(self, workdir: str, source: str):
        self.workdir = workdir
        self.source = source
        self.processes: dict = {}  # name -> (config hash, Popen)

    def reconcile(self, wanted: dict) -> None:
        for name in list(self.processes):
            if name not in wanted:
                self.stop(name)
        for name, (squid_conf, address, port) in wanted.items():
            text = local_config(squid_conf, address, port, self.workdir, name, self.source)
            digest = hashlib.sha256(text.encode()).hexdigest()
            current = self.processes.get(name)
            if current and current[0] == digest and current[1].poll() is None:
                continue
            if current:
                self.stop(name)
            path = os.path.join(self.workdir, f"{name}.conf")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            process = subprocess.Popen(["squid", "-N", "-f", path, "-n", re.sub(r"[^A-Za-z0-9]", "", name)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.processes[name] = (digest, process)
            print(f"squid-pods: {name} runs config {digest[:10]} on {address}:{port} (pid {process.pid})", flush=True)

    def stop(self, name: str) -> None:
        _digest, process = self.processes.pop(name)
        process.kill()
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--source", required=True, help="the address tier 2 sees, standing for the pod IP")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    workdir = os.path.join(args.run_dir, "squid-pods")
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o777)  # Squid drops to its own user and writes its logs here
    api = config.new_client_from_config(config_file=args.kubeconfig)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    pods = Pods(workdir, args.source)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_args: running.clear())
    try:
        while running:
            try:
                pods.reconcile(desired(apps, core))
            except ApiException as exc:
                print(f"squid-pods: API error {exc.status} {exc.reason}", file=sys.stderr, flush=True)
            time.sleep(args.interval)
    finally:
        pods.stop_all()


if __name__ == "__main__":
    main()
