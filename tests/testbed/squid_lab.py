# -*- coding: utf-8 -*-
"""A two-tier Squid chain, for tests and benchmarks. Test infrastructure only.

Real Squid processes run the configs the collection renders. Addresses:
  clients 127.0.0.16/28  ->  tier 1 on 127.0.0.11  --(from 127.0.0.13)-->  tier 2 on 127.0.0.12
                         ->  target 203.0.113.51 in the lab's internet namespace (tests/testbed/internet.py)
The target is off loopback because the destination guard denies 127.0.0.0/8 like any internal range. Names resolve
through a Squid ``hosts_file`` (both tiers read the same one), so nothing touches /etc/hosts or DNS.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import parse_policy
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_probe import open_request
from tests.testbed import internet

TIER1_ADDRESS = "127.0.0.11"
TIER2_ADDRESS = "127.0.0.12"
TIER1_OUTGOING = "127.0.0.13"
TARGET_ADDRESS = "203.0.113.51"  # not the testbed target's 203.0.113.50: both may run at once
TARGET_PORTS = (80, 443, 8080, 8443, 9443)
PROXY_PORT = 3128
SQUID_USER = "proxy"  # Debian's squid drops root privileges to this user
LAB_DNS = "127.0.0.9"  # NxDomainServer: the only resolver the lab's Squids ask
TARGET_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target.py")


class TargetServer:
    """Answers on every TARGET_PORT: 'PING' gets 'PONG <port>', an HTTP request gets a 200 naming the port.

    With ``tls`` set, port 443 and 8443 speak TLS (for benchmarks through a CONNECT tunnel).
    """

    def __init__(self, address: str = TARGET_ADDRESS, ports=TARGET_PORTS, tls_context: ssl.SSLContext | None = None):
        self.address = address
        self.ports = ports
        self.tls_context = tls_context
        self._sockets = []
        self._threads = []
        self._stopping = threading.Event()

    def start(self) -> TargetServer:
        for port in self.ports:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.address, port))
            listener.listen(512)
            listener.settimeout(0.2)
            self._sockets.append(listener)
            thread = threading.Thread(target=self._accept_loop, args=(listener, port), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for listener in self._sockets:
            listener.close()

    def _accept_loop(self, listener: socket.socket, port: int) -> None:
        while not self._stopping.is_set():
            try:
                conn, _peer = listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn, port), daemon=True).start()

    def _serve(self, conn: socket.socket, port: int) -> None:
        conn.settimeout(10)
        try:
            if self.tls_context and port in (443, 8443):
                conn = self.tls_context.wrap_socket(conn, server_side=True)
            reader = conn.makefile("rb")
            while True:
                line = reader.readline()
                if not line:
                    return
                if line.startswith(b"PING"):
                    conn.sendall(f"PONG {port}\n".encode())
                    continue
                while line not in (b"\r\n", b"\n", b""):
                    line = reader.readline()
                body = f"target {port}\n".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()


class NxDomainServer:
    """Answers every DNS query with NXDOMAIN (name does not exist), for names missing from the lab's hosts_file."""

    def __init__(self, address: str = LAB_DNS):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((address, 53))
        self.socket.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                query, peer = self.socket.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            if len(query) >= 12:
                # Same id and question; QR set, RD echoed, RA set, RCODE 3; no answer, authority or additional records.
                flags = bytes([0x80 | (query[2] & 0x01), 0x83])
                self.socket.sendto(query[:2] + flags + query[4:6] + bytes(6) + _question(query), peer)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self.socket.close()


def _question(query: bytes) -> bytes:
    """The first question of a DNS message (name labels, type, class)."""
    end = 12
    while end < len(query) and query[end]:
        end += 1 + query[end]
    return query[12:end + 5]


class InternetTarget:
    """target.py as a daemon in the lab's internet namespace, stopped by its PID; its address goes with it."""

    def __init__(self, address: str = TARGET_ADDRESS, ports=TARGET_PORTS, tls_cert: str | None = None, tls_key: str | None = None):
        self.address = address
        self.ports = ports
        self.tls = ["--tls-cert", tls_cert, "--tls-key", tls_key] if tls_cert else []
        self.pidfile = os.path.join(tempfile.mkdtemp(prefix="aibang-target-"), "target.pid")
        self.pid: int | None = None

    def start(self) -> InternetTarget:
        command = [sys.executable, TARGET_SCRIPT, "--internet", "--address", self.address, "--ports", ",".join(map(str, self.ports)),
                   "--daemon", "--pidfile", self.pidfile, *self.tls]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            internet.down([self.address])
            raise RuntimeError(f"the target did not start on {self.address}: {result.stderr.strip()[-2000:]}")
        with open(self.pidfile, encoding="utf-8") as handle:
            self.pid = int(handle.read())
        return self

    def stop(self) -> None:
        if self.pid is not None:
            _kill_and_wait(self.pid)
            self.pid = None
        internet.down([self.address])
        shutil.rmtree(os.path.dirname(self.pidfile), ignore_errors=True)

    def __enter__(self) -> InternetTarget:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _kill_and_wait(pid: int, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


class SquidInstance:
    """One real Squid process (foreground, -N) that this object started and stops by PID."""

    def __init__(self, name: str, config: str, workdir: str, listen: tuple):
        self.name = name
        self.config_path = os.path.join(workdir, f"{name}.conf")
        self.listen = listen
        self.access_log = os.path.join(workdir, f"{name}-access.log")
        self.cache_log = os.path.join(workdir, f"{name}-cache.log")
        with open(self.config_path, "w", encoding="utf-8") as handle:
            handle.write(config)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0, env: dict | None = None) -> SquidInstance:
        command = ["squid", "-N", "-f", self.config_path, "-n", self.name]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"squid {self.name} exited with {self.process.returncode}: {self.process.stderr.read().decode()[-2000:]}"
                                   f" (config {self.config_path}, log {self.cache_log})")
            if _listening(self.listen):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"squid {self.name} did not listen on {self.listen} within {timeout}s (log {self.cache_log})")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.process and self.process.stderr:
            self.process.stderr.close()
        self.process = None


def _listening(address: tuple) -> bool:
    """Whether a socket listens on (IPv4 address, port), read from /proc/net/tcp rather than by connecting: Squid logs
    a connection that sends no request (error:transaction-end-before-headers), which would sit in the audit log."""
    host, port = address
    wanted = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        return any(fields[1] == wanted and fields[3] == "0A" for fields in (line.split() for line in table))  # 0A: LISTEN


class SquidLab:
    """Two chained Squid tiers on loopback for one policy at a time. Use as a context manager.

    ``names`` resolve to the target; ``elsewhere`` maps more names to an address of their own (Squid keeps one
    address per name from a hosts_file).
    """

    def __init__(self, names: list, tuning: dict | None = None, elsewhere: dict | None = None):
        self.resolution = {name: TARGET_ADDRESS for name in names}
        self.resolution.update(elsewhere or {})
        self.tuning = tuning or {}
        self.workdir = tempfile.mkdtemp(prefix="aibang-squid-lab-")
        os.chmod(self.workdir, 0o755)
        self.squid_user = pwd.getpwnam(SQUID_USER)
        os.chown(self.workdir, self.squid_user.pw_uid, self.squid_user.pw_gid)
        self.hosts_file = os.path.join(self.workdir, "hosts")
        with open(self.hosts_file, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{address} {name}\n" for name, address in self.resolution.items()))

    def resolves_to(self, host: str):
        """What Squid finds for ``host`` in the hosts_file (None for a name it does not list), as squid_policy_check takes it."""
        address = self.resolution.get(host.lower().rstrip("."))
        return [address] if address else None

    def runtime(self, tier: str) -> dict:
        address = TIER1_ADDRESS if tier == "gke" else TIER2_ADDRESS
        settings = {
            "listen_address": address,
            "visible_hostname": f"lab-{tier}",
            "pid_filename": "none",
            "access_log": os.path.join(self.workdir, f"{tier}-access.log"),
            "cache_log": os.path.join(self.workdir, f"{tier}-cache.log"),
            "coredump_dir": self.workdir,
            "hosts_file": self.hosts_file,
            "dns_nameservers": [LAB_DNS],  # a name missing from hosts_file fails at once, and never leaves the machine
            "shutdown_lifetime": 0,
        }
        if tier == "gke":
            settings["tcp_outgoing_address"] = TIER1_OUTGOING
        settings.update(self.tuning.get(tier, {}))
        return settings

    def audit(self, tier: str) -> list:
        """The tier's audit log, one dict per JSON line (a line that is not JSON fails the caller's test)."""
        path = os.path.join(self.workdir, f"{tier}-access.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def requests(self, tier: str) -> list:
        """The tier's audit records that carried a request. Squid 5 also logs a connection closed before any request
        (method '-', status 0, NONE_NONE), such as tier 1's TCP probe of its parent: nothing was forwarded there."""
        return [record for record in self.audit(tier) if record["method"] != "-"]

    def raw_audit(self, tier: str) -> bytes:
        """The tier's audit log as Squid wrote it."""
        with open(os.path.join(self.workdir, f"{tier}-access.log"), "rb") as handle:
            return handle.read()

    def wait_for_audit(self, tier: str, predicate, timeout: float = 10.0) -> dict:
        """The first audit record of ``tier`` that ``predicate`` accepts; Squid writes it as the transaction ends."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((record for record in self.audit(tier) if predicate(record)), None)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def lab_policy(self, policy: dict) -> dict:
        """The policy with the lab's tier-2 address and port, which the chain needs to work at all."""
        return dict(policy, proxy_port=PROXY_PORT, vm=dict(policy["vm"], address=TIER2_ADDRESS))

    def render(self, parsed, tier: str) -> str:
        """The config a tier runs: the collection's rendering with the lab's runtime settings."""
        return render(parsed, tier, parse_runtime(self.runtime(tier), tier))

    @contextmanager
    def chain(self, policy: dict, env: dict | None = None):
        parsed = parse_policy(self.lab_policy(policy))
        tier2 = SquidInstance("vm", self.render(parsed, "vm"), self.workdir, (TIER2_ADDRESS, PROXY_PORT))
        tier1 = SquidInstance("gke", self.render(parsed, "gke"), self.workdir, (TIER1_ADDRESS, PROXY_PORT))
        for tier in ("gke", "vm"):  # each chain starts with empty audit logs
            log = os.path.join(self.workdir, f"{tier}-access.log")
            with open(log, "w", encoding="utf-8"):
                pass
            os.chown(log, self.squid_user.pw_uid, self.squid_user.pw_gid)
        dns = NxDomainServer()
        try:
            tier2.start(env=env)
            tier1.start(env=env)
            yield tier1, tier2
        finally:
            tier1.stop()
            tier2.stop()
            dns.stop()

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SquidLab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def send_through(proxy: tuple, client: str, host: str, port: int, method: str = "CONNECT", timeout: float = 10.0) -> int:
    """Send one request from ``client`` through the proxy; return the HTTP status the client sees.

    For CONNECT a 200 only counts once a PING crosses the tunnel and the target's PONG comes back; a tunnel that
    does not reach the target is reported as 599.
    """
    status, conn, reader = open_request(proxy, host, port, method, client, timeout)
    with conn:
        if method == "CONNECT" and status == 200:
            conn.sendall(b"PING\n")
            return 200 if reader.readline().startswith(b"PONG") else 599
        return status
