# -*- coding: utf-8 -*-
"""A real Kubernetes control plane on loopback for tests and the demo. Test infrastructure only.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from Go modules (build.sh), kwok keeping three
fake GKE-like nodes Ready and their pods Running, real nodes (node.py: containerd, kubelet, kube-proxy) for pods
that must run, and the cluster's DNS: CoreDNS as the kube-system/coredns Deployment (COREDNS_REPLICAS pods on the pod network of the
real nodes, reading the API through their ServiceAccount and the `kubernetes` Service, the Corefile from the
kube-system/coredns ConfigMap through a ConfigMap volume: coredns_objects), and a stand-in of GKE's metadata server
for the pods (metadata_server.py). Usage: python -m tests.testbed.cluster up|down
Every process keeps a pid file in the run directory; `down` stops each by PID and host_state puts the machine back.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.environ.get("TESTBED_RUN", "/run/aibang-testbed")
CACHE = os.environ.get("TESTBED_CACHE", os.path.expanduser("~/.cache/aibang-gke-platform/testbed"))
# Where this machine's clients (kubeconfigs, the metadata server) ask the API server; it listens on the real nodes'
# bridge (node.NODE_IP, its advertise address, where the `kubernetes` Service sends pods) and a DNAT rule of the lab
# sends 127.0.0.1:16443 there (node.network_up).
API_ADDRESS = "127.0.0.1"
API_PORT = 16443
ETCD_PORT = 12379
DNS_PORT = 53
# ClusterIPs pods can reach: the host routes the range to lo, so what kube-proxy does not DNAT goes nowhere (node.py).
SERVICE_CIDR = "10.96.0.0/16"
# kube-system/kube-dns, the kubelet's clusterDNS: the pods and this machine's own checks (kube-proxy's rules cover
# the host's packets too) ask the cluster's DNS there.
DNS_SERVICE_IP = "10.96.0.10"
# Two, as GKE runs its DNS: each picks up a changed Corefile on its own (its kubelet's volume sync, then reload), so
# cluster_dns's gate asks every ready replica for the aliases, not only the one kube-dns's Service picks.
COREDNS_REPLICAS = 2
KUBECONFIG = os.path.join(RUN, "kubeconfig")
HOST_RECORD = os.path.join(RUN, "host-before.json")
CONTROL_PLANE = ("etcd", "kube-apiserver")
CONTROLLERS = ("kube-controller-manager", "kube-scheduler", "kwok")
IMAGES = ("pause", "coredns", "squid", "squid-exporter", "redis", "probe", "app")
# The cluster's Workload Identity pool, in the consumer project where inventories/local puts the cluster.
WORKLOAD_POOL = os.environ.get("TESTBED_WORKLOAD_POOL", "aibang-local-consumer.svc.id.goog")


class TestbedError(Exception):
    pass


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    values = {}
    with open(os.path.join(HERE, "versions.env"), encoding="utf-8") as handle:
        for line in handle:
            if "=" in line and not line.startswith("#"):
                key, value = line.strip().split("=", 1)
                values[key] = value
    return values


def binary(name: str) -> str:
    pinned = versions()
    folder = {
        "etcd": f"etcd-{pinned['ETCD_VERSION']}", "kwok": f"kwok-{pinned['KWOK_VERSION']}",
        "coredns": f"coredns-{pinned['COREDNS_VERSION']}", "kubelet": f"kubernetes-node-{pinned['K8S_VERSION']}",
        "kube-proxy": f"kubernetes-node-{pinned['K8S_VERSION']}", "pause": f"kubernetes-node-{pinned['K8S_VERSION']}",
    }.get(name, f"kubernetes-{pinned['K8S_VERSION']}")
    path = os.path.join(CACHE, "bin", folder, name)
    if not os.access(path, os.X_OK):
        raise TestbedError(f"{path} is missing: run tests/testbed/build.sh (make testbed-up does)")
    return path


def image_record(name: str) -> dict:
    """What images.sh recorded for a built image: its reference and its OCI archive."""
    path = os.path.join(CACHE, "images", f"{name}.json")
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except OSError as exc:
        raise TestbedError(f"the image {name!r} is not built ({path}: {exc.strerror}): run tests/testbed/images.sh {name}") from exc
    if not os.path.exists(record["archive"]):
        raise TestbedError(f"the image {record['reference']} is not built ({record['archive']} is missing): "
                           f"run tests/testbed/images.sh {name}")
    return record


def image(name: str) -> str:
    return image_record(name)["reference"]


def image_archive(name: str) -> str:
    return image_record(name)["archive"]


def images() -> dict:
    return {name: image(name) for name in IMAGES}


# --- PKI ---------------------------------------------------------------------------------------------------------

def _write_key(path: str, key) -> None:
    with open(path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _write_cert(path: str, cert) -> None:
    with open(path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


def _certificate(subject: x509.Name, public_key, issuer: x509.Name, signing_key, *, ca: bool = False, sans=None, client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not ca:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_pki(pki: str) -> None:
    """A CA, the API server's serving certificate, an admin client certificate and the service-account key pair."""
    if os.path.exists(os.path.join(pki, "kube-proxy.kubeconfig")):
        return
    os.makedirs(pki, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aibang testbed kubernetes CA")])
    ca_cert = _certificate(ca_name, ca_key.public_key(), ca_name, ca_key, ca=True)
    _write_key(os.path.join(pki, "ca-key.pem"), ca_key)
    _write_cert(os.path.join(pki, "ca.pem"), ca_cert)
    first_service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())
    names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"]
    from tests.testbed import node  # pylint: disable=import-outside-toplevel
    # the API server as the host asks it, as it listens (its advertise address) and as pods ask it (the Service)
    sans = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(address))
                                                     for address in (API_ADDRESS, node.NODE_IP, first_service_ip)]
    for name, subject, client, extra in (
        ("apiserver", [x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")], False, sans),
        ("admin", [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                   x509.NameAttribute(NameOID.COMMON_NAME, "testbed-admin")], True, None),
        *((real.pki_name, [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                           x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{real.name}")], True, None) for real in node.NODES),
        ("kube-proxy", [x509.NameAttribute(NameOID.COMMON_NAME, "system:kube-proxy")], True, None),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        _write_key(os.path.join(pki, f"{name}-key.pem"), key)
        _write_cert(os.path.join(pki, f"{name}.pem"), _certificate(x509.Name(subject), key.public_key(), ca_name, ca_key,
                                                                   sans=extra, client=client))
    service_account = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(os.path.join(pki, "sa-key.pem"), service_account)
    with open(os.path.join(pki, "sa.pub"), "wb") as handle:
        handle.write(service_account.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    for name in (*(real.pki_name for real in node.NODES), "kube-proxy"):
        write_kubeconfig(pki, os.path.join(pki, f"{name}.kubeconfig"), name)


def write_kubeconfig(pki: str, path: str = KUBECONFIG, user: str = "admin") -> None:
    server = f"https://{API_ADDRESS}:{API_PORT}"
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster: {{server: "{server}", certificate-authority: "{pki}/ca.pem"}}
users:
- name: testbed-admin
  user: {{client-certificate: "{pki}/{user}.pem", client-key: "{pki}/{user}-key.pem"}}
contexts:
- name: testbed
  context: {{cluster: testbed, user: testbed-admin}}
current-context: testbed
"""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


# --- processes ---------------------------------------------------------------------------------------------------

def pid_file(name: str) -> str:
    return os.path.join(RUN, f"{name}.pid")


def log_file(name: str) -> str:
    return os.path.join(RUN, "logs", f"{name}.log")


def running(name: str) -> bool:
    try:
        with open(pid_file(name), encoding="utf-8") as handle:
            os.kill(int(handle.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def start(name: str, command: list, env: dict | None = None) -> None:
    if running(name):
        return
    os.makedirs(os.path.dirname(log_file(name)), exist_ok=True)
    with open(log_file(name), "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=env)
    with open(pid_file(name), "w", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")


def wait_for(name: str, check, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(name):
            raise TestbedError(f"{name} exited; see {log_file(name)}:\n{_tail(log_file(name))}")
        try:
            if check():
                return
        except (OSError, ssl.SSLError, subprocess.SubprocessError):
            pass
        time.sleep(0.25)
    raise TestbedError(f"{name} did not become ready within {timeout:.0f}s; see {log_file(name)}:\n{_tail(log_file(name))}")


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def api_ready(pki: str) -> bool:
    context = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
    context.load_cert_chain(os.path.join(pki, "admin.pem"), os.path.join(pki, "admin-key.pem"))
    with urllib.request.urlopen(f"https://{API_ADDRESS}:{API_PORT}/readyz", context=context, timeout=2) as answer:
        return answer.status == 200


def run_kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The testbed's own kubectl against its kubeconfig; the caller judges the exit code."""
    return subprocess.run([binary("kubectl"), "--kubeconfig", KUBECONFIG, *args], input=stdin, capture_output=True, text=True,
                          check=False, timeout=180)


def kubectl(*args: str, stdin: str | None = None) -> str:
    done = run_kubectl(*args, stdin=stdin)
    if done.returncode != 0:
        raise TestbedError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def dig(name: str, record: str = "A", server: str = DNS_SERVICE_IP) -> str:
    """What cluster DNS answers for ``name`` (dig +short), empty when nothing: asked at kube-dns's ClusterIP, as a pod
    asks it (kube-proxy sends it to one of the CoreDNS pods), or at ``server`` (one pod's IP)."""
    return subprocess.run(["dig", f"@{server}", "-p", str(DNS_PORT), "+short", "+time=2", "+tries=1", name, record],
                          capture_output=True, text=True, check=False).stdout.strip()


# --- up / down ---------------------------------------------------------------------------------------------------

def up() -> None:
    from tests.testbed import host_state, node  # pylint: disable=import-outside-toplevel
    os.makedirs(RUN, exist_ok=True)
    os.chmod(RUN, 0o755)
    host_state.snapshot(HOST_RECORD, RUN)
    pki = os.path.join(RUN, "pki")
    # 127.0.0.1:16443 too: the lab's DNAT to the API server would hide whatever listens there
    for address, port, what, owner in ((API_ADDRESS, API_PORT, "kube-apiserver", "kube-apiserver"),
                                       (API_ADDRESS, ETCD_PORT, "etcd", "etcd")):
        if not running(owner) and not port_free(address, port):
            raise TestbedError(f"{address}:{port} is in use, {what} cannot listen there (see: ss -ltnp 'sport = :{port}')")
    make_pki(pki)
    write_kubeconfig(pki)
    images()  # fail before starting anything when an image is not built
    started = time.monotonic()
    node.network_up()
    start_etcd()
    start_apiserver(pki)
    start_controllers(pki)
    install_cluster_objects()
    node.up(pki)
    start_metadata_server(pki)
    start_coredns()
    print(f"testbed: control plane up in {time.monotonic() - started:.1f}s; KUBECONFIG={KUBECONFIG}; "
          f"cluster DNS {DNS_SERVICE_IP}:{DNS_PORT}; logs {os.path.join(RUN, 'logs')}")


def start_etcd() -> None:
    start("etcd", [binary("etcd"), "--name", "testbed", "--data-dir", os.path.join(RUN, "etcd"),
                   "--listen-client-urls", f"http://{API_ADDRESS}:{ETCD_PORT}", "--advertise-client-urls", f"http://{API_ADDRESS}:{ETCD_PORT}",
                   "--listen-peer-urls", f"http://{API_ADDRESS}:{ETCD_PORT + 1}",
                   "--initial-advertise-peer-urls", f"http://{API_ADDRESS}:{ETCD_PORT + 1}",
                   "--initial-cluster", f"testbed=http://{API_ADDRESS}:{ETCD_PORT + 1}",
                   "--listen-metrics-urls", f"http://{API_ADDRESS}:{ETCD_PORT + 2}",
                   "--quota-backend-bytes", str(2 * 1024 ** 3), "--log-level", "warn"])

    def healthy() -> bool:
        with urllib.request.urlopen(f"http://{API_ADDRESS}:{ETCD_PORT}/health", timeout=2) as answer:
            return b'"health":"true"' in answer.read()

    wait_for("etcd", healthy)


def start_apiserver(pki: str) -> None:
    """On the real nodes' bridge (node.network_up made it): pods reach it through the `kubernetes` Service, whose
    endpoint the API server keeps at its advertise address (the lease reconciler, as on a cluster)."""
    from tests.testbed import node  # pylint: disable=import-outside-toplevel
    start("kube-apiserver", [
        binary("kube-apiserver"),
        f"--etcd-servers=http://{API_ADDRESS}:{ETCD_PORT}",
        f"--bind-address={node.NODE_IP}", f"--advertise-address={node.NODE_IP}", f"--secure-port={API_PORT}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--tls-cert-file={pki}/apiserver.pem", f"--tls-private-key-file={pki}/apiserver-key.pem",
        f"--client-ca-file={pki}/ca.pem",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa-key.pem",
        "--authorization-mode=Node,RBAC",
        # As on GKE: pod security admission (on by default), NodeRestriction, default storage class and tolerations.
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        # The real node's kubelet (exec, logs): the admin certificate, at the node's InternalIP.
        f"--kubelet-client-certificate={pki}/admin.pem", f"--kubelet-client-key={pki}/admin-key.pem",
        "--kubelet-preferred-address-types=InternalIP",
        "--profiling=false",
    ])
    wait_for("kube-apiserver", lambda: api_ready(pki), timeout=120)


def start_controllers(pki: str) -> None:
    from tests.testbed import node  # pylint: disable=import-outside-toplevel
    common = [f"--kubeconfig={KUBECONFIG}", f"--authentication-kubeconfig={KUBECONFIG}", f"--authorization-kubeconfig={KUBECONFIG}",
              "--leader-elect=false", f"--bind-address={API_ADDRESS}"]
    start("kube-controller-manager", [
        binary("kube-controller-manager"), *common, "--secure-port=10357",
        f"--service-account-private-key-file={pki}/sa-key.pem", f"--root-ca-file={pki}/ca.pem",
        f"--cluster-signing-cert-file={pki}/ca.pem", f"--cluster-signing-key-file={pki}/ca-key.pem",
        "--use-service-account-credentials=false", f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--flex-volume-plugin-dir={os.path.join(RUN, 'flex-volume-plugins')}",
        # kwok nodes never run a kubelet: no IPAM, and short waits so namespace deletion and HPAs move quickly.
        "--controllers=*,-nodeipam,-cloud-node-lifecycle", "--concurrent-namespace-syncs=5",
    ])
    start("kube-scheduler", [binary("kube-scheduler"), *common, "--secure-port=10359"])
    start("kwok", [
        binary("kwok"), f"--kubeconfig={KUBECONFIG}", f"--config={os.path.join(os.path.dirname(binary('kwok')), 'stages.yaml')}",
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        f"--cidr={node.KWOK_POD_CIDR}", "--node-ip=10.0.0.2", "--node-lease-duration-seconds=40", "--server-address=127.0.0.1:10360",
    ])
    time.sleep(1)
    for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
        wait_for(name, lambda: True, timeout=5)


# Where the CoreDNS pods find the lab's own files (the testbed-cluster-dns ConfigMap, mounted by the kubelet): the lab's
# internet names (the hosts file testbed.sh writes) and the empty root zone.
LAB_DIR = "/etc/coredns-lab"
# Where CoreDNS finds the server blocks of kube-dns's stubDomains (kube_dns_stubs.py writes them; the Corefile imports them).
STUBS_DIR = "/etc/kube-dns-stubs"
# The lab's objects beside the product's kube-system/coredns ConfigMap (which cluster_dns edits in coredns mode).
LAB_CONFIGMAP = "testbed-cluster-dns"

# As GKE's CoreDNS: on every address of its pod, the API read through the pod's ServiceAccount (in-cluster config,
# no kubeconfig), `health` (liveness, :8080) and `ready` (readiness, :8181, once the kubernetes plugin has synced).
COREFILE = """.:{dns_port} {{
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    file {lab}/root.db .
    cache 30
    loop
    reload 2s 1s
    loadbalance
}}
{lab_zones} {{
    hosts {lab}/hosts
}}
import {stubs}/*.server
"""


def lab_hosts() -> str:
    """The hosts file of the lab's internet names (testbed.sh writes it before the cluster starts)."""
    with open(os.path.join(RUN, "hosts"), encoding="utf-8") as handle:
        return handle.read()


def lab_zones(hosts: str) -> list:
    """The zones of the lab's internet names. Cluster DNS answers them from the hosts file, as a public resolver would in
    GKE: tier-1 Squid pods check destinations by resolved address."""
    names = [name for line in hosts.splitlines() if not line.lstrip().startswith("#") for name in line.split()[1:]]
    return sorted({".".join(name.split(".")[-2:]) for name in names})


# Names outside the cluster and the lab's zones get NXDOMAIN from this empty root zone: the lab's CoreDNS never forwards
# to the host's resolver (nothing leaves the machine; GKE's kube-dns would ask the metadata server). The SOA's TTL and
# minimum of 1 s keep a NXDOMAIN from being cached longer than that (an alias asked for before it exists).
ROOT_ZONE = """$ORIGIN .
@ 1 IN SOA ns.testbed.invalid. hostmaster.testbed.invalid. 1 7200 3600 1209600 1
@ 1 IN NS ns.testbed.invalid.
"""


def corefile(hosts: str) -> str:
    return COREFILE.format(dns_port=DNS_PORT, lab=LAB_DIR, stubs=STUBS_DIR,
                           lab_zones=" ".join(f"{zone}:{DNS_PORT}" for zone in lab_zones(hosts)))


def coredns_configmap(hosts: str | None = None) -> str:
    """kube-system/coredns, the product's object (cluster_dns edits its Corefile in coredns mode)."""
    text = corefile(lab_hosts() if hosts is None else hosts)
    indented = "".join(f"    {line}\n" for line in text.splitlines())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\ndata:\n  Corefile: |\n{indented}"


def kube_dns_service() -> str:
    """kube-system/kube-dns at DNS_SERVICE_IP (the kubelet's clusterDNS): the Service in front of the CoreDNS pods."""
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]
    metadata = {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}
    spec = {"clusterIP": DNS_SERVICE_IP, "selector": {"k8s-app": "kube-dns"}, "ports": [{**port, "targetPort": 53} for port in ports]}
    return json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec})


def coredns_rbac() -> list:
    """CoreDNS's own ServiceAccount and what its kubernetes plugin reads (list/watch), as CoreDNS's deployment grants it."""
    managed = {"app.kubernetes.io/managed-by": "aibang-testbed"}
    rules = [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system", "labels": managed}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns", "labels": managed},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "system:coredns", "labels": managed},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]},
    ]


def coredns_objects(hosts: str | None = None) -> str:
    """The cluster's DNS as GKE runs it: the kube-system/coredns Deployment, COREDNS_REPLICAS pods on the pod network
    of the real nodes (one per node), each reading the API server through its own ServiceAccount token and the
    `kubernetes` Service (coredns_rbac) and the kube-system/coredns ConfigMap through a ConfigMap volume; CoreDNS's
    reload plugin applies a changed Corefile once the kubelet updates the volume. kube-dns's Service sends queries
    to the pods that are Ready. Beside CoreDNS in each pod, kube_dns_stubs.py stands in for kube-dns's stubDomains
    (GKE Standard). The lab's own files come from the LAB_CONFIGMAP ConfigMap: no hostPath, no kubeconfig."""
    from tests.testbed import node  # pylint: disable=import-outside-toplevel
    with open(os.path.join(HERE, "kube_dns_stubs.py"), encoding="utf-8") as handle:
        script = handle.read()
    labels = {"k8s-app": "kube-dns"}
    managed = {"app.kubernetes.io/managed-by": "aibang-testbed"}
    volumes = [
        {"name": "config-volume", "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}},
        {"name": "lab", "configMap": {"name": LAB_CONFIGMAP, "items": [{"key": "hosts", "path": "hosts"},
                                                                       {"key": "root.db", "path": "root.db"}]}},
        {"name": "kube-dns-config", "configMap": {"name": "kube-dns", "optional": True}},
        {"name": "stub-domains", "emptyDir": {}},
        {"name": "stub-domains-script", "configMap": {"name": LAB_CONFIGMAP, "items": [{"key": "kube_dns_stubs.py",
                                                                                        "path": "kube_dns_stubs.py"}]}},
    ]
    coredns = {
        "name": "coredns", "image": image("coredns"), "imagePullPolicy": "Never", "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True},
                         {"name": "lab", "mountPath": LAB_DIR, "readOnly": True},
                         {"name": "stub-domains", "mountPath": STUBS_DIR, "readOnly": True}],
    }
    stubs = {
        "name": "kube-dns-stubs", "image": image("probe"), "imagePullPolicy": "Never",
        "command": ["python3", "/testbed/kube_dns_stubs.py", "--source", "/etc/kube-dns/stubDomains",
                    "--out", f"{STUBS_DIR}/stub-domains.server", "--port", str(DNS_PORT)],
        "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}},
        "volumeMounts": [{"name": "kube-dns-config", "mountPath": "/etc/kube-dns", "readOnly": True},
                         {"name": "stub-domains", "mountPath": STUBS_DIR},
                         {"name": "stub-domains-script", "mountPath": "/testbed", "readOnly": True}],
    }
    pod = {
        "serviceAccountName": "coredns", "priorityClassName": "system-cluster-critical", "dnsPolicy": "Default",
        "terminationGracePeriodSeconds": 2, "enableServiceLinks": False,
        # the real nodes (kwok's run nothing), one pod per node
        "nodeSelector": {node.REAL_NODE_LABEL: "true"},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"key": node.REAL_NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}},
        "containers": [coredns, stubs], "volumes": volumes,
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        *coredns_rbac(),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": LAB_CONFIGMAP, "namespace": "kube-system", "labels": managed},
         "data": {"kube_dns_stubs.py": script, "hosts": lab_hosts() if hosts is None else hosts, "root.db": ROOT_ZONE}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {**labels, **managed}},
         "spec": {"replicas": COREDNS_REPLICAS, "selector": {"matchLabels": labels},
                  # a third real node takes the surge pod of a rollout (one pod per node)
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                  "template": {"metadata": {"labels": labels}, "spec": pod}}},
    ]})


def install_cluster_objects() -> None:
    kubectl("apply", "-f", os.path.join(HERE, "manifests"))
    # A local volume's directory must exist before a pod mounts it (the kubelet creates none).
    for path in kubectl("get", "persistentvolumes", "-l", "testbed=static", "-o", "jsonpath={.items[*].spec.local.path}").split():
        os.makedirs(path, exist_ok=True)
    kubectl("apply", "-f", "-", stdin=kube_dns_service())
    if not kubectl("get", "configmap", "-n", "kube-system", "--ignore-not-found", "-o", "name", "coredns").strip():
        kubectl("create", "-f", "-", stdin=coredns_configmap())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = kubectl("get", "nodes", "-l", "type=kwok", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}").split()
        if ready.count("True") == 3:
            return
        time.sleep(0.5)
    raise TestbedError(f"the 3 kwok nodes did not become Ready; see {log_file('kwok')}:\n{_tail(log_file('kwok'))}")


def coredns_ready_replicas() -> int:
    done = run_kubectl("get", "deployment", "coredns", "-n", "kube-system", "-o", "jsonpath={.status.readyReplicas}")
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def start_coredns(timeout: float = 120.0) -> None:
    """Run the cluster's DNS as pods (coredns_objects) and wait until every replica is Ready and kube-dns's ClusterIP
    answers for the kubernetes Service, asked from this machine."""
    kubectl("apply", "-f", "-", stdin=coredns_objects())
    kubernetes_service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if coredns_ready_replicas() == COREDNS_REPLICAS and dig("kubernetes.default.svc.cluster.local") == kubernetes_service_ip:
            return
        time.sleep(0.5)
    pods = run_kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "wide")
    events = run_kubectl("get", "events", "-n", "kube-system", "--sort-by=.lastTimestamp")
    logs = run_kubectl("logs", "-n", "kube-system", "-l", "k8s-app=kube-dns", "--all-containers", "--tail=20", "--prefix")
    raise TestbedError(f"the cluster's CoreDNS (kube-system/coredns, {COREDNS_REPLICAS} pods) was not Ready and answering at "
                       f"{DNS_SERVICE_IP}:{DNS_PORT} within {timeout:.0f}s:\n{pods.stdout}{pods.stderr}\n{events.stdout[-3000:]}\n"
                       f"{logs.stdout}{logs.stderr}")


def start_metadata_server(pki: str) -> None:
    """The stand-in of GKE's metadata server at the node's address, where node.py sends the pods' 169.254.169.254:80."""
    from tests.testbed import node  # pylint: disable=import-outside-toplevel
    start("metadata-server", [sys.executable, os.path.join(HERE, "metadata_server.py"), "--listen", f"{node.NODE_IP}:{node.METADATA_PORT}",
                              "--api", f"https://{API_ADDRESS}:{API_PORT}", "--pki", pki, "--workload-pool", WORKLOAD_POOL])
    wait_for("metadata-server", lambda: not port_free(node.NODE_IP, node.METADATA_PORT), timeout=15)


def stop(name: str) -> None:
    """SIGTERM by PID, SIGKILL after 10 s."""
    try:
        with open(pid_file(name), encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        os.unlink(pid_file(name))
        return
    for _attempt in range(100):
        if not alive(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    os.unlink(pid_file(name))
    print(f"testbed: stopped {name} (pid {pid})")


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its reaper (processes outlive the `up` that started them)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def down() -> None:
    """Stop everything, also after a failed `up`: controllers first (nothing recreates pods), then the node's pods while
    the kubelet can still tear them down, the node, the control plane; then put the host back as it was."""
    from tests.testbed import cloudsql_lab, host_state, node  # pylint: disable=import-outside-toplevel
    cloudsql_lab.down()
    stop("metadata-server")
    for name in reversed(CONTROLLERS):
        stop(name)
    node.drain()
    stop("kube-proxy")
    for real in node.NODES:
        stop(real.kubelet)
    for real in node.NODES:
        node.remove_containers(real)
        stop(real.containerd)
    for pid in node.shim_pids():
        os.kill(pid, signal.SIGKILL)
        print(f"testbed: stopped containerd-shim-runc-v2 (pid {pid})")
    for name in reversed(CONTROL_PLANE):
        stop(name)
    if os.path.exists(HOST_RECORD):  # kept: testbed.sh releases /run/netns with it after the internet namespace
        for line in host_state.restore(HOST_RECORD, RUN):
            print(f"testbed: host: {line}")
    for state in ("etcd", "pki", "logs", "node"):
        shutil.rmtree(os.path.join(RUN, state), ignore_errors=True)
    if os.path.exists(KUBECONFIG):
        os.unlink(KUBECONFIG)


def main() -> int:
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        if action == "up":
            up()
        elif action == "down":
            down()
        else:
            print("usage: python -m tests.testbed.cluster up|down", file=sys.stderr)
            return 2
    except TestbedError as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
