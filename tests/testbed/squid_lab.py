# -*- coding: utf-8 -*-
"""A two-tier Squid chain on loopback, for tests and benchmarks. Test infrastructure only.

Real Squid processes run the configs the collection renders. Addresses (all loopback):
  clients 127.0.0.16/28  ->  tier 1 on 127.0.0.11  --(from 127.0.0.13)-->  tier 2 on 127.0.0.12  ->  target 127.0.0.51
Names resolve through a Squid ``hosts_file`` to the target, so nothing touches /etc/hosts or DNS.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import parse_policy
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_probe import open_request

TIER1_ADDRESS = "127.0.0.11"
TIER2_ADDRESS = "127.0.0.12"
TIER1_OUTGOING = "127.0.0.13"
TARGET_ADDRESS = "127.0.0.51"  # not the testbed target's 127.0.0.50: both may run at once
TARGET_PORTS = (80, 443, 8080, 8443, 9443)
PROXY_PORT = 3128
SQUID_USER = "proxy"  # Debian's squid drops root privileges to this user


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
            try:
                socket.create_connection(self.listen, timeout=0.2).close()
                return self
            except OSError:
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


class SquidLab:
    """Two chained Squid tiers on loopback for one policy at a time. Use as a context manager."""

    def __init__(self, names: list, tuning: dict | None = None):
        self.names = names
        self.tuning = tuning or {}
        self.workdir = tempfile.mkdtemp(prefix="aibang-squid-lab-")
        os.chmod(self.workdir, 0o755)
        user = pwd.getpwnam(SQUID_USER)
        os.chown(self.workdir, user.pw_uid, user.pw_gid)
        self.hosts_file = os.path.join(self.workdir, "hosts")
        with open(self.hosts_file, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{TARGET_ADDRESS} {name}\n" for name in names))
        self.tiers: list = []

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
            "shutdown_lifetime": 0,
        }
        if tier == "gke":
            settings["tcp_outgoing_address"] = TIER1_OUTGOING
        settings.update(self.tuning.get(tier, {}))
        return settings

    def lab_policy(self, policy: dict) -> dict:
        """The policy with the lab's tier-2 address and port, which the chain needs to work at all."""
        return dict(policy, proxy_port=PROXY_PORT, vm=dict(policy["vm"], address=TIER2_ADDRESS))

    @contextmanager
    def chain(self, policy: dict, env: dict | None = None):
        parsed = parse_policy(self.lab_policy(policy))
        tier2 = SquidInstance("vm", render(parsed, "vm", parse_runtime(self.runtime("vm"), "vm")), self.workdir,
                              (TIER2_ADDRESS, PROXY_PORT))
        tier1 = SquidInstance("gke", render(parsed, "gke", parse_runtime(self.runtime("gke"), "gke")), self.workdir,
                              (TIER1_ADDRESS, PROXY_PORT))
        try:
            tier2.start(env=env)
            tier1.start(env=env)
            yield tier1, tier2
        finally:
            tier1.stop()
            tier2.stop()

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
