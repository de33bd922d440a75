# -*- coding: utf-8 -*-
"""The testbed's real node: containerd + runc, CNI bridge + host-local, kubelet and kube-proxy. Test infrastructure.

Network (nothing of it can reach beyond this machine):
  bridge aibang0 10.244.128.1/24   the node's address and its pods' range (CNI bridge + host-local)
  10.96.0.0/16 dev lo              the Service range: kube-proxy DNATs it; what it does not DNAT stays on this host
  unreachable 10.244.0.0/17        kwok's fake pod IPs, except those a stand-in serves (on the device aibang-kwok)
  FORWARD                          only from aibang0 back to aibang0; pods' packets to anything else are dropped
Every process keeps a pid file in the run directory (cluster.start); host_state restores what they change.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.testbed import cluster

NODE_NAME = "gke-testbed-real-pool-1"
BRIDGE = "aibang0"
NODE_IP = "10.244.128.1"
POD_SUBNET = "10.244.128.0/24"
KWOK_POD_CIDR = "10.244.0.0/17"
KWOK_DEVICE = "aibang-kwok"
# Addresses of this machine standing for hosts outside the cluster that pods reach through the node (e.g. the PSC
# endpoint's, where cloudsql_lab puts Cloud SQL's stand-in), on a bridge of their own.
OUTSIDE_DEVICE = "aibang-vm"
REAL_NODE_LABEL = "aibang.testbed/real-node"
FORWARD_CHAIN = "AIBANG-TESTBED-FORWARD"
NAT_CHAIN = "AIBANG-TESTBED-POSTROUTING"
RUNC = "/usr/sbin/runc"
CNI_BIN = "/usr/lib/cni"
# Any pull goes to a closed local port: an image that was not built fails at once, naming the image.
NO_REGISTRY_PROXY = "http://127.0.0.1:9"


def paths() -> dict:
    base = os.path.join(cluster.RUN, "node")
    return {
        "base": base,
        "containerd_root": os.path.join(base, "containerd", "root"),
        "containerd_state": os.path.join(base, "containerd", "state"),
        "containerd_config": os.path.join(base, "containerd", "config.toml"),
        "runc_root": os.path.join(base, "runc"),
        "socket": os.path.join(base, "containerd", "containerd.sock"),
        "cni_conf": os.path.join(base, "cni", "net.d"),
        "cni_ipam": os.path.join(base, "cni", "ipam"),
        "kubelet_root": os.path.join(base, "kubelet"),
        "kubelet_config": os.path.join(base, "kubelet-config.yaml"),
        "pod_logs": os.path.join(base, "pod-logs"),
        "kube_proxy_config": os.path.join(base, "kube-proxy-config.yaml"),
    }


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if check and done.returncode != 0:
        raise cluster.TestbedError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def ctr(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh("ctr", "--address", paths()["socket"], "--namespace", "k8s.io", *args, check=check)


# --- network -----------------------------------------------------------------------------------------------------

def link_exists(name: str) -> bool:
    return sh("ip", "link", "show", "dev", name, check=False).returncode == 0


def iptables_rule(table: str, chain: str, *rule: str, position: str = "-A") -> None:
    """Add a rule unless it is there (iptables -C)."""
    if sh("iptables", "-w", "-t", table, "-C", chain, *rule, check=False).returncode != 0:
        sh("iptables", "-w", "-t", table, position, chain, *rule)


def iptables_chain(table: str, chain: str) -> None:
    if sh("iptables", "-w", "-t", table, "-nL", chain, check=False).returncode != 0:
        sh("iptables", "-w", "-t", table, "-N", chain)


def network_up() -> None:
    if not link_exists(BRIDGE):
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    if not link_exists(KWOK_DEVICE):
        sh("ip", "link", "add", KWOK_DEVICE, "type", "bridge")  # no dummy driver in this kernel; a bridge holds addresses as well
    sh("ip", "link", "set", KWOK_DEVICE, "up")
    sh("ip", "route", "replace", cluster.SERVICE_CIDR, "dev", "lo", "src", NODE_IP)
    sh("ip", "route", "replace", "unreachable", KWOK_POD_CIDR)
    iptables_chain("filter", FORWARD_CHAIN)
    iptables_rule("filter", FORWARD_CHAIN, "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT")
    iptables_rule("filter", FORWARD_CHAIN, "-i", BRIDGE, "-j", "DROP")
    iptables_rule("filter", FORWARD_CHAIN, "-o", BRIDGE, "-j", "DROP")
    iptables_rule("filter", "FORWARD", "-j", FORWARD_CHAIN, position="-I")
    # A pod reaching a pod on this bridge through a ClusterIP: the reply must come back through the host's conntrack.
    iptables_chain("nat", NAT_CHAIN)
    iptables_rule("nat", NAT_CHAIN, "-s", POD_SUBNET, "-d", POD_SUBNET, "-o", BRIDGE, "-m", "conntrack", "--ctstate", "DNAT",
                  "-j", "MASQUERADE")
    iptables_rule("nat", "POSTROUTING", "-j", NAT_CHAIN, position="-I")
    with open("/proc/sys/net/ipv4/ip_forward", "w", encoding="ascii") as handle:
        handle.write("1\n")


def outside_address(address: str) -> None:
    """Put an "outside" address on this machine, where pods reach it (e.g. the PSC endpoint's)."""
    if not link_exists(OUTSIDE_DEVICE):
        sh("ip", "link", "add", OUTSIDE_DEVICE, "type", "bridge")
    sh("ip", "link", "set", OUTSIDE_DEVICE, "up")
    if f" {address}/" not in sh("ip", "-o", "-4", "addr", "show", "dev", OUTSIDE_DEVICE).stdout:
        sh("ip", "addr", "add", f"{address}/32", "dev", OUTSIDE_DEVICE)


def cni_config() -> dict:
    return {
        "cniVersion": "1.0.0", "name": "aibang-testbed",
        "plugins": [
            {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": paths()["cni_ipam"],
                      "ranges": [[{"subnet": POD_SUBNET, "rangeStart": "10.244.128.10", "gateway": NODE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": False},
        ],
    }


# --- containerd --------------------------------------------------------------------------------------------------

def containerd_config() -> str:
    where = paths()
    return f"""version = 2
root = "{where['containerd_root']}"
state = "{where['containerd_state']}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{where['socket']}"
[ttrpc]
  address = "{where['socket']}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{cluster.image('pause')}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "{RUNC}"
        Root = "{where['runc_root']}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{where['cni_conf']}"
"""


def start_containerd() -> None:
    where = paths()
    for folder in ("cni_conf", "cni_ipam", "containerd_root", "containerd_state", "pod_logs", "kubelet_root"):
        os.makedirs(where[folder], exist_ok=True)
    with open(where["containerd_config"], "w", encoding="utf-8") as handle:
        handle.write(containerd_config())
    with open(os.path.join(where["cni_conf"], "10-aibang-testbed.conflist"), "w", encoding="utf-8") as handle:
        json.dump(cni_config(), handle, indent=2)
    environment = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HTTPS_PROXY": NO_REGISTRY_PROXY,
                   "HTTP_PROXY": NO_REGISTRY_PROXY, "NO_PROXY": ""}
    cluster.start("containerd", ["containerd", "--config", where["containerd_config"]], env=environment)
    cluster.wait_for("containerd", lambda: ctr("version", check=False).returncode == 0, timeout=30)


def import_images() -> None:
    """Import the locally built images that containerd does not hold yet (images.sh built them)."""
    have = set(ctr("images", "list", "--quiet").stdout.split())
    for name, reference in cluster.images().items():
        if reference in have:
            continue
        archive = cluster.image_archive(name)
        ctr("images", "import", "--base-name", reference.rsplit(":", 1)[0], archive)
        if reference not in set(ctr("images", "list", "--quiet").stdout.split()):
            raise cluster.TestbedError(f"containerd did not list {reference} after importing {archive}")


# --- kubelet and kube-proxy --------------------------------------------------------------------------------------

def kubelet_config(pki: str) -> str:
    where = paths()
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {pki}/ca.pem}}
authorization: {{mode: Webhook}}
containerRuntimeEndpoint: unix://{where['socket']}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
makeIPTablesUtilChains: false
clusterDomain: cluster.local
clusterDNS: [{cluster.DNS_SERVICE_IP}]
podLogsDir: {where['pod_logs']}
volumePluginDir: {where['kubelet_root']}/volume-plugins
registerWithTaints:
  - {{key: {REAL_NODE_LABEL}, value: "true", effect: NoSchedule}}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {{memory.available: 100Mi}}
nodeStatusUpdateFrequency: 4s
syncFrequency: 5s
fileCheckFrequency: 5s
serializeImagePulls: false
"""


def kube_proxy_config() -> str:
    return f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {{kubeconfig: {os.path.join(cluster.RUN, 'pki', 'kube-proxy.kubeconfig')}}}
hostnameOverride: {NODE_NAME}
mode: iptables
bindAddress: {NODE_IP}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["{NODE_IP}/32"]
iptables: {{localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 0s}}
conntrack: {{maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}}
"""


def start_kubelet(pki: str) -> None:
    where = paths()
    with open(where["kubelet_config"], "w", encoding="utf-8") as handle:
        handle.write(kubelet_config(pki))
    labels = ",".join([f"{REAL_NODE_LABEL}=true", "cloud.google.com/gke-nodepool=real-pool",
                       "topology.kubernetes.io/region=europe-west2", "topology.kubernetes.io/zone=europe-west2-a"])
    cluster.start("kubelet", [
        cluster.binary("kubelet"), f"--config={where['kubelet_config']}", f"--kubeconfig={pki}/kubelet.kubeconfig",
        f"--root-dir={where['kubelet_root']}", f"--cert-dir={where['kubelet_root']}/pki", f"--hostname-override={NODE_NAME}",
        f"--node-ip={NODE_IP}", f"--node-labels={labels}", "--v=1",
        *os.environ.get("TESTBED_KUBELET_ARGS", "").split(),  # extra flags, for fault tests
    ])


def start_kube_proxy() -> None:
    where = paths()
    with open(where["kube_proxy_config"], "w", encoding="utf-8") as handle:
        handle.write(kube_proxy_config())
    cluster.start("kube-proxy", [cluster.binary("kube-proxy"), f"--config={where['kube_proxy_config']}", "--v=1"])


def node_ready() -> bool:
    done = cluster.run_kubectl("get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
    return done.returncode == 0 and done.stdout.strip() == "True"


def up(pki: str) -> None:
    network_up()
    start_containerd()
    import_images()
    start_kubelet(pki)
    start_kube_proxy()
    cluster.wait_for("kubelet", node_ready, timeout=90)
    cluster.wait_for("kube-proxy", lambda: sh("iptables", "-w", "-t", "nat", "-nL", "KUBE-SERVICES", check=False).returncode == 0,
                     timeout=30)


# --- down --------------------------------------------------------------------------------------------------------

def drain(timeout: float = 30.0) -> None:
    """Let the kubelet stop every pod of the node (CNI DEL, unmounts) while it still runs: force-delete them."""
    if not cluster.running("kubelet") or not cluster.running("kube-apiserver"):
        return
    cluster.run_kubectl("delete", "pods", "--all-namespaces", "--field-selector", f"spec.nodeName={NODE_NAME}",
                        "--grace-period=0", "--force", "--wait=false")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running_tasks():
            return
        time.sleep(0.5)


def running_tasks() -> list:
    if not cluster.running("containerd"):
        return []
    done = ctr("tasks", "list", "--quiet", check=False)
    return done.stdout.split() if done.returncode == 0 else []


def remove_containers() -> None:
    """What the kubelet left: kill and delete every task and container in containerd's k8s.io namespace."""
    if not cluster.running("containerd"):
        return
    for task in running_tasks():
        ctr("tasks", "kill", "--signal", "SIGKILL", task, check=False)
    deadline = time.monotonic() + 10
    for task in running_tasks():
        while time.monotonic() < deadline and ctr("tasks", "delete", task, check=False).returncode != 0:
            time.sleep(0.2)
    containers = ctr("containers", "list", "--quiet", check=False).stdout.split()
    for container in containers:
        ctr("containers", "delete", container, check=False)


def shim_pids() -> list:
    """containerd's runc shims for this node's containerd (they outlive containerd by design)."""
    marker = paths()["socket"].encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"containerd-shim-runc-v2" and marker in argv:
            pids.append(int(entry))
    return pids
