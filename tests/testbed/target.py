# -*- coding: utf-8 -*-
"""Run the lab's loopback target server (stand-in for the internet) until SIGTERM. Test infrastructure only.

  target.py --address 127.0.0.50 --ports 443,80 [--tls-cert CERT --tls-key KEY] [--daemon --pidfile FILE]
"""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import threading

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", ".."), os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "collections")]

from tests.testbed.squid_lab import TargetServer  # noqa: E402  pylint: disable=wrong-import-position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--ports", default="443")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--daemon", action="store_true")
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    ready_fd = _daemonize() if args.daemon else None
    server = TargetServer(args.address, tuple(int(port) for port in args.ports.split(",")), context).start()
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    if ready_fd is not None:
        os.write(ready_fd, b"ready")
        os.close(ready_fd)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    stop.wait()
    server.stop()


def _daemonize() -> int:
    """Detach before any thread starts; the caller's process exits only once the daemon reports its ports listen."""
    read_fd, write_fd = os.pipe()
    if os.fork():
        os.close(write_fd)
        os._exit(0 if os.read(read_fd, 5) == b"ready" else 1)  # pylint: disable=protected-access
    os.setsid()
    if os.fork():
        os._exit(0)  # pylint: disable=protected-access
    os.close(read_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(devnull, descriptor)
    return write_fd


if __name__ == "__main__":
    main()
