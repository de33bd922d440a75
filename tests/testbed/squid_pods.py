# -*- coding: utf-8 -*-
"""Stand-in for the kubelet and kube-proxy of cluster_dns's DNS stub pods on the kwok nodes. Test infrastructure.

kwok runs no containers, so this runs what the cluster holds: for each Deployment labelled cluster-dns-stub
(cluster_dns's kube_dns_stub mode), the Corefile of its ConfigMap, as a real CoreDNS listening on its ready pods'
IPs (kwok's, put on a device of this host) at the port the Service targets, so kube-proxy's DNAT of the ClusterIP
lands on it. A rollout to a new ConfigMap, or a changed ConfigMap, restarts it with the new config. Only CoreDNS's
health and ready ports (which would collide) change; every DNS answer is the ConfigMap's.
(Tier 1's Squid pods run for real on the testbed's real nodes: node.py.)
  python -m tests.testbed.squid_pods --kubeconfig FILE --run-dir DIR --coredns BINARY --device DEV
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

DNS_STUB_SELECTOR = "app.kubernetes.io/component=cluster-dns-stub"


def local_corefile(corefile: str, listen: list) -> str:
    """The ConfigMap's Corefile bound to the pods' addresses, without the per-pod health ports."""
    kept = [line for line in corefile.splitlines() if line.strip().split(" ", 1)[0] not in ("health", "ready")]
    opening = next(index for index, line in enumerate(kept) if line.rstrip().endswith("{") and not line.startswith(" "))
    return "\n".join(kept[:opening + 1] + [f"    bind {' '.join(listen)}"] + kept[opening + 1:]) + "\n"


def target_port(deployment, service) -> int:
    """The container port the Service sends to (a number, or a named port of the pod template)."""
    target = service.spec.ports[0].target_port
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in deployment.spec.template.spec.containers:
        for port in container.ports or []:
            if port.name == target:
                return port.container_port
    return service.spec.ports[0].port


def pod_addresses(core: client.CoreV1Api, deployment) -> list:
    """The IPs of the Deployment's ready pods: kube-proxy's endpoints."""
    selector = ",".join(f"{key}={value}" for key, value in deployment.spec.selector.match_labels.items())
    addresses = []
    for pod in core.list_namespaced_pod(deployment.metadata.namespace, label_selector=selector).items:
        ready = any(condition.type == "Ready" and condition.status == "True" for condition in pod.status.conditions or [])
        if ready and pod.status.pod_ip and not pod.metadata.deletion_timestamp:
            addresses.append(pod.status.pod_ip)
    return sorted(addresses)


def desired(apps: client.AppsV1Api, core: client.CoreV1Api, selector: str = DNS_STUB_SELECTOR, key: str = "Corefile") -> dict:
    """{name: (config text, pod IPs, port)} for every selected Deployment with a ready pod, a Service and a ConfigMap."""
    wanted = {}
    for deployment in apps.list_deployment_for_all_namespaces(label_selector=selector).items:
        namespace = deployment.metadata.namespace
        volumes = deployment.spec.template.spec.volumes or []
        config_maps = [volume.config_map.name for volume in volumes if volume.config_map]
        services = [service for service in core.list_namespaced_service(namespace).items
                    if service.spec.selector and all(deployment.spec.template.metadata.labels.get(key) == value
                                                     for key, value in service.spec.selector.items())]
        addresses = pod_addresses(core, deployment)
        if not config_maps or not services or not addresses:
            continue  # no ready pod, no endpoint: kube-proxy would send nothing there
        try:
            text = core.read_namespaced_config_map(config_maps[0], namespace).data[key]
        except (ApiException, KeyError, TypeError):
            continue
        wanted[f"{namespace}-{deployment.metadata.name}"] = (text, addresses, target_port(deployment, services[0]))
    return wanted


class Pods:
    def __init__(self, workdir: str, coredns: str, device: str):
        self.workdir = workdir
        self.coredns = coredns
        self.device = device
        self.processes: dict = {}  # name -> (config hash, Popen)

    def dns_stub(self, name: str, corefile: str, address: list, _port: int):
        path = os.path.join(self.workdir, f"{name}.Corefile")
        return path, local_corefile(corefile, address), [self.coredns, "-conf", path]

    def addresses(self, wanted: dict) -> None:
        """Put the pods' IPs on the device (and take off those of pods that are gone)."""
        want = {address for _launcher, _text, addresses, _port in wanted.values() for address in addresses}
        listing = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", self.device], capture_output=True, text=True, check=False)
        have = {line.split()[3].split("/")[0] for line in listing.stdout.splitlines()}
        for address in want - have:
            subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", self.device], check=False)
        for address in have - want:
            subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", self.device], check=False)

    def reconcile(self, wanted: dict) -> None:
        for name in list(self.processes):
            if name not in wanted:
                self.stop(name)
        self.addresses(wanted)
        for name, (launcher, config_text, address, port) in wanted.items():
            path, text, command = launcher(name, config_text, address, port)
            digest = hashlib.sha256(text.encode()).hexdigest()
            current = self.processes.get(name)
            if current and current[0] == digest and current[1].poll() is None:
                continue
            if current:
                self.stop(name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.processes[name] = (digest, process)
            print(f"squid-pods: {name} runs config {digest[:10]} on {address}:{port} (pid {process.pid})", flush=True)

    def wanted(self, apps: client.AppsV1Api, core: client.CoreV1Api) -> dict:
        return {name: (self.dns_stub, *value) for name, value in desired(apps, core).items()}

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
    parser.add_argument("--coredns", required=True, help="the CoreDNS binary, for the DNS stub pods")
    parser.add_argument("--device", required=True, help="the device that holds the kwok pods' IPs")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    workdir = os.path.join(args.run_dir, "squid-pods")
    os.makedirs(workdir, exist_ok=True)
    api = config.new_client_from_config(config_file=args.kubeconfig)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    pods = Pods(workdir, args.coredns, args.device)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_args: running.clear())
    try:
        while running:
            try:
                pods.reconcile(pods.wanted(apps, core))
            except ApiException as exc:
                print(f"squid-pods: API error {exc.status} {exc.reason}", file=sys.stderr, flush=True)
            time.sleep(args.interval)
    finally:
        pods.stop_all()


if __name__ == "__main__":
    main()
