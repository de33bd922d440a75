# -*- coding: utf-8 -*-
"""The testbed's real nodes: containerd + runc, CNI bridge + host-local, kubelet; one kube-proxy. Test infrastructure.

REAL_NODES nodes (3: enough for tier 1's two replicas, which must sit on different nodes, plus the surge pod of a
rollout), all in this machine's network namespace, each with its own containerd, kubelet, node IP and share of the
pod range; one kube-proxy programs the namespace they share.
Network (nothing of it can reach beyond this machine):
  bridge aibang0 10.244.128.0/24   node i has 10.244.128.i and the pod addresses .(10+70(i-1)) to .(79+70(i-1))
  10.96.0.0/16 dev lo              the Service range: kube-proxy DNATs it; what it does not DNAT stays on this host
  unreachable 10.244.0.0/17        kwok's fake pod IPs: nothing runs there
  FORWARD                          only from aibang0 back to aibang0; pods' packets to anything else are dropped
  bridge aibang-vm 10.10.0.12/32   addresses of this machine standing for hosts outside the cluster (pods reach
                   10.0.3.40/32    them through the node): the egress VM, where tier 2 listens (inventories/local),
                                   and a client outside the pod range
  DNAT 169.254.169.254:80          GKE's metadata server, as pods ask it: to the stand-in at NODE_IP:988
                                   (metadata_server.py); only the pods' packets, the host's own keep their route
  kube-apiserver at NODE_IP:16443  where the `kubernetes` Service sends the pods (its advertise address, which
                                   kube-proxy DNATs 10.96.0.1:443 to); the host's clients keep asking 127.0.0.1:16443,
                                   which a DNAT rule of the lab (nat OUTPUT, only this machine's own packets) sends there
Every process keeps a pid file in the run directory (cluster.start); host_state restores what they change.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.testbed import cluster

BRIDGE = "aibang0"
POD_SUBNET = "10.244.128.0/24"
REAL_NODES = int(os.environ.get("TESTBED_REAL_NODES", "3"))


class RealNode:
    """Node ``index`` (from 1): its name, address, share of the pod range and the names of its processes."""

    def __init__(self, index: int):
        self.index = index
        self.name = f"gke-testbed-real-pool-{index}"
        self.ip = f"10.244.128.{index}"
        self.range_start = f"10.244.128.{10 + 70 * (index - 1)}"
        self.range_end = f"10.244.128.{79 + 70 * (index - 1)}"
        self.containerd = f"containerd-{index}"
        self.kubelet = f"kubelet-{index}"
        self.pki_name = f"kubelet-{index}"


NODES = tuple(RealNode(index) for index in range(1, REAL_NODES + 1))
NODE_NAME = NODES[0].name
NODE_IP = NODES[0].ip  # the bridge's gateway address: the API server, the metadata server and NodePorts listen here
KWOK_POD_CIDR = "10.244.0.0/17"
OUTSIDE_DEVICE = "aibang-vm"
VM_ADDRESS = "10.10.0.12"  # inventories/local: egress_policy.vm.address, in network_vm_subnet_cidr
OUTSIDE_CLIENT_ADDRESS = "10.0.3.40"
REAL_NODE_LABEL = "aibang.testbed/real-node"
FORWARD_CHAIN = "AIBANG-TESTBED-FORWARD"
NAT_CHAIN = "AIBANG-TESTBED-POSTROUTING"
METADATA_CHAIN = "AIBANG-TESTBED-METADATA"
API_CHAIN = "AIBANG-TESTBED-APISERVER"
METADATA_ADDRESS = "169.254.169.254"  # where a pod asks GKE's metadata server
METADATA_PORT = 988  # where GKE's metadata server listens on its node (169.254.169.252:988 there; NODE_IP here)
RUNC = "/usr/sbin/runc"
CNI_BIN = "/usr/lib/cni"
# Any pull goes to a closed local port: an image that was not built fails at once, naming the image.
NO_REGISTRY_PROXY = "http://127.0.0.1:9"


def paths(real: RealNode = NODES[0]) -> dict:
    base = os.path.join(cluster.RUN, "node", str(real.index))
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


def ctr(real: RealNode, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh("ctr", "--address", paths(real)["socket"], "--namespace", "k8s.io", *args, check=check)


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
    have = sh("ip", "-o", "-4", "addr", "show", "dev", BRIDGE).stdout
    for real in NODES[1:]:
        if f" {real.ip}/" not in have:
            sh("ip", "addr", "add", f"{real.ip}/32", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    if not link_exists(OUTSIDE_DEVICE):
        sh("ip", "link", "add", OUTSIDE_DEVICE, "type", "bridge")
        for address in (VM_ADDRESS, OUTSIDE_CLIENT_ADDRESS):
            sh("ip", "addr", "add", f"{address}/32", "dev", OUTSIDE_DEVICE)
    sh("ip", "link", "set", OUTSIDE_DEVICE, "up")
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
    # A pod asking the metadata server: to the stand-in on the node, its source kept (it tells the pod by it).
    iptables_chain("nat", METADATA_CHAIN)
    iptables_rule("nat", METADATA_CHAIN, "-i", BRIDGE, "-s", POD_SUBNET, "-d", f"{METADATA_ADDRESS}/32", "-p", "tcp", "--dport", "80",
                  "-j", "DNAT", "--to-destination", f"{NODE_IP}:{METADATA_PORT}")
    iptables_rule("nat", "PREROUTING", "-j", METADATA_CHAIN, position="-I")
    # The API server listens on the bridge (where the pods reach it through the `kubernetes` Service); this machine's
    # own clients (kubeconfigs, NO_PROXY=127.0.0.1) keep asking 127.0.0.1: DNAT to a local address, so the packets stay
    # on lo and no route_localnet is needed.
    iptables_chain("nat", API_CHAIN)
    iptables_rule("nat", API_CHAIN, "-d", f"{cluster.API_ADDRESS}/32", "-p", "tcp", "--dport", str(cluster.API_PORT),
                  "-j", "DNAT", "--to-destination", f"{NODE_IP}:{cluster.API_PORT}")
    iptables_rule("nat", "OUTPUT", "-j", API_CHAIN, position="-I")
    with open("/proc/sys/net/ipv4/ip_forward", "w", encoding="ascii") as handle:
        handle.write("1\n")


def outside_address(address: str) -> None:
    """Put one more "outside" address on this machine, where pods reach it (e.g. the PSC endpoint's)."""
    if f" {address}/" not in sh("ip", "-o", "-4", "addr", "show", "dev", OUTSIDE_DEVICE).stdout:
        sh("ip", "addr", "add", f"{address}/32", "dev", OUTSIDE_DEVICE)


def cni_config(real: RealNode) -> dict:
    return {
        "cniVersion": "1.0.0", "name": "aibang-testbed",
        "plugins": [
            {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": paths(real)["cni_ipam"],
                      "ranges": [[{"subnet": POD_SUBNET, "rangeStart": real.range_start, "rangeEnd": real.range_end,
                                   "gateway": NODE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": False},
        ],
    }


# --- containerd --------------------------------------------------------------------------------------------------

def containerd_config(real: RealNode) -> str:
    where = paths(real)
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


def start_containerd(real: RealNode) -> None:
    where = paths(real)
    for folder in ("cni_conf", "cni_ipam", "containerd_root", "containerd_state", "pod_logs", "kubelet_root"):
        os.makedirs(where[folder], exist_ok=True)
    with open(where["containerd_config"], "w", encoding="utf-8") as handle:
        handle.write(containerd_config(real))
    with open(os.path.join(where["cni_conf"], "10-aibang-testbed.conflist"), "w", encoding="utf-8") as handle:
        json.dump(cni_config(real), handle, indent=2)
    environment = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HTTPS_PROXY": NO_REGISTRY_PROXY,
                   "HTTP_PROXY": NO_REGISTRY_PROXY, "NO_PROXY": ""}
    cluster.start(real.containerd, ["containerd", "--config", where["containerd_config"]], env=environment)


def import_images(real: RealNode) -> None:
    """Import the locally built images that the node's containerd does not hold yet (images.sh built them)."""
    cluster.wait_for(real.containerd, lambda: ctr(real, "version", check=False).returncode == 0, timeout=30)
    have = set(ctr(real, "images", "list", "--quiet").stdout.split())
    for name, reference in cluster.images().items():
        if reference in have:
            continue
        archive = cluster.image_archive(name)
        ctr(real, "images", "import", "--base-name", reference.rsplit(":", 1)[0], archive)
        if reference not in set(ctr(real, "images", "list", "--quiet").stdout.split()):
            raise cluster.TestbedError(f"{real.containerd} did not list {reference} after importing {archive}")


# --- kubelet and kube-proxy --------------------------------------------------------------------------------------

def kubelet_config(real: RealNode, pki: str) -> str:
    where = paths(real)
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {real.ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: {real.ip}
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


def start_kubelet(real: RealNode, pki: str) -> None:
    where = paths(real)
    with open(where["kubelet_config"], "w", encoding="utf-8") as handle:
        handle.write(kubelet_config(real, pki))
    labels = ",".join([f"{REAL_NODE_LABEL}=true", "cloud.google.com/gke-nodepool=real-pool",
                       "topology.kubernetes.io/region=europe-west2", f"topology.kubernetes.io/zone=europe-west2-{'abc'[(real.index - 1) % 3]}"])
    cluster.start(real.kubelet, [
        cluster.binary("kubelet"), f"--config={where['kubelet_config']}", f"--kubeconfig={pki}/{real.pki_name}.kubeconfig",
        f"--root-dir={where['kubelet_root']}", f"--cert-dir={where['kubelet_root']}/pki", f"--hostname-override={real.name}",
        f"--node-ip={real.ip}", f"--node-labels={labels}", "--v=1",
        *os.environ.get("TESTBED_KUBELET_ARGS", "").split(),  # extra flags, for fault tests
    ])


def start_kube_proxy() -> None:
    where = paths(NODES[0])
    with open(where["kube_proxy_config"], "w", encoding="utf-8") as handle:
        handle.write(kube_proxy_config())
    cluster.start("kube-proxy", [cluster.binary("kube-proxy"), f"--config={where['kube_proxy_config']}", "--v=1"])


def node_ready(real: RealNode) -> bool:
    done = cluster.run_kubectl("get", "node", real.name, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
    return done.returncode == 0 and done.stdout.strip() == "True"


def up(pki: str) -> None:
    network_up()
    for real in NODES:
        start_containerd(real)
    for real in NODES:
        import_images(real)
        start_kubelet(real, pki)
    start_kube_proxy()
    for real in NODES:
        cluster.wait_for(real.kubelet, lambda real=real: node_ready(real), timeout=90)
    cluster.wait_for("kube-proxy", lambda: sh("iptables", "-w", "-t", "nat", "-nL", "KUBE-SERVICES", check=False).returncode == 0,
                     timeout=30)


# --- down --------------------------------------------------------------------------------------------------------

def drain(timeout: float = 30.0) -> None:
    """Let the kubelets stop every pod of their nodes (CNI DEL, unmounts) while they still run: force-delete them."""
    if not cluster.running("kube-apiserver"):
        return
    draining = [real for real in NODES if cluster.running(real.kubelet)]
    for real in draining:
        cluster.run_kubectl("delete", "pods", "--all-namespaces", "--field-selector", f"spec.nodeName={real.name}",
                            "--grace-period=0", "--force", "--wait=false")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(running_tasks(real) for real in draining):
            return
        time.sleep(0.5)


def running_tasks(real: RealNode) -> list:
    if not cluster.running(real.containerd):
        return []
    done = ctr(real, "tasks", "list", "--quiet", check=False)
    return done.stdout.split() if done.returncode == 0 else []


def remove_containers(real: RealNode) -> None:
    """What the kubelet left: kill and delete every task and container in the node's containerd (namespace k8s.io)."""
    if not cluster.running(real.containerd):
        return
    for task in running_tasks(real):
        ctr(real, "tasks", "kill", "--signal", "SIGKILL", task, check=False)
    deadline = time.monotonic() + 10
    for task in running_tasks(real):
        while time.monotonic() < deadline and ctr(real, "tasks", "delete", task, check=False).returncode != 0:
            time.sleep(0.2)
    containers = ctr(real, "containers", "list", "--quiet", check=False).stdout.split()
    for container in containers:
        ctr(real, "containers", "delete", container, check=False)


def shim_pids() -> list:
    """containerd's runc shims for the nodes' containerds (they outlive containerd by design)."""
    markers = {paths(real)["socket"].encode() for real in NODES}
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"containerd-shim-runc-v2" and markers & set(argv):
            pids.append(int(entry))
    return pids
