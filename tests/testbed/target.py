# -*- coding: utf-8 -*-
"""Run the lab's target server (stand-in for a server on the internet) until SIGTERM. Test infrastructure only.

  target.py --address 203.0.113.50 --internet --ports 443,80 [--tls-cert CERT --tls-key KEY] [--daemon --pidfile FILE]

With --internet the server runs inside the lab's internet namespace (tests/testbed/internet.py), which gets the
address first; without it, ADDRESS must be one of this machine's (loopback) addresses.
"""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import threading

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", ".."), os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "collections")]

from tests.testbed import internet  # noqa: E402  pylint: disable=wrong-import-position
from tests.testbed.squid_lab import TargetServer  # noqa: E402  pylint: disable=wrong-import-position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--internet", action="store_true", help="listen inside the lab's internet namespace")
    parser.add_argument("--ports", default="443")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--daemon", action="store_true")
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    if args.internet:
        internet.up([args.address])
        inside = [arg for arg in sys.argv[1:] if arg != "--internet"]
        os.execvp("ip", internet.command(sys.executable, os.path.abspath(__file__), *inside))
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    ready_fd = _daemonize() if args.daemon else None
    try:
        server = TargetServer(args.address, tuple(int(port) for port in args.ports.split(",")), context).start()
    except OSError as exc:
        if ready_fd is None:
            raise
        os.write(ready_fd, f"cannot listen on {args.address}:{args.ports}: {exc}".encode())
        os._exit(1)  # pylint: disable=protected-access
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
        answer = os.read(read_fd, 4096)
        if answer != b"ready":
            sys.stderr.write(f"target: {answer.decode(errors='replace') or 'the daemon exited before it listened'}\n")
        os._exit(0 if answer == b"ready" else 1)  # pylint: disable=protected-access
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
