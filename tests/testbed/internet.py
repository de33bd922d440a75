# -*- coding: utf-8 -*-
"""The lab's stand-in for the internet: a network namespace holding the target addresses. Test infrastructure only.

Targets listen on documentation addresses (203.0.113.0/24, RFC 5737) inside the namespace ``aibang-internet``,
reached from this machine over one veth pair with a /32 route per target address and nothing else: no default route
on either side, no forwarding, so no packet leaves the machine. The range is in none of the egress policy's default
``denied_destinations``, so the destination guard treats a target like a public address, and a name that resolves
to a loopback, link-local or private address stays denied.

  python -m tests.testbed.internet up 203.0.113.50 [...]    add target addresses (the namespace is made once)
  python -m tests.testbed.internet down [203.0.113.50 ...]  remove those addresses (all without any); the namespace,
                                                            its veth pair and routes go with the last one
The first `ip netns add` on a machine creates /run/netns and bind-mounts it on itself; when this module's namespace was
that first one, `down` takes both away again once no namespace is left in it (host_state's one mechanism for that).
Run it from the repository (`python -m tests.testbed.internet`) or by its path.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

if not __package__:  # run by its path (molecule's squid_vm cleanup): the repository is where `tests` is imported from
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tests.testbed import host_state  # noqa: E402  pylint: disable=wrong-import-position

NAMESPACE = "aibang-internet"
HOST_DEVICE = "aib-inet0"
PEER_DEVICE = "aib-inet1"
HOST_ADDRESS = "203.0.113.1"  # this machine's end of the veth: where the targets see connections come from
HOST_ADDRESS6 = "2001:db8:a1b::1"
TARGET_RANGE = ipaddress.ip_network("203.0.113.0/24")
# Stand-ins for internal hosts, one in each private, shared, link-local and NAT64 default denied range (not the metadata
# server's own address, which this machine routes). They live here too, so that a destination guard that failed
# would connect into this namespace and never to a network this machine is on.
INTERNAL_ADDRESSES = ("10.254.254.7", "172.31.254.7", "192.168.254.7", "100.127.254.7", "169.254.254.7", "fdff:a1b::7",
                      "64:ff9b::a9fe:fe07", "64:ff9b:1::a9fe:fe07")  # the last two: 169.254.254.7 behind NAT64


class InternetError(RuntimeError):
    pass


def _ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise InternetError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def exists() -> bool:
    return NAMESPACE in _ip("netns", "list").split()


def addresses() -> list:
    """The addresses in the namespace now (link-local ones aside)."""
    if not exists():
        return []
    output = _ip("-n", NAMESPACE, "-o", "addr", "show", "dev", PEER_DEVICE, "scope", "global")
    return [field.split("/")[0] for line in output.splitlines() for field in line.split()[3:4]]


def up(wanted: list) -> None:
    for address in wanted:
        if not (ipaddress.ip_address(address) in TARGET_RANGE or address in INTERNAL_ADDRESSES) or address == HOST_ADDRESS:
            raise InternetError(f"{address}: the namespace takes addresses of {TARGET_RANGE} (not {HOST_ADDRESS}) and "
                                f"{', '.join(INTERNAL_ADDRESSES)}")
    if not exists():
        _create()
    present = addresses()
    for address in wanted:
        if address not in present:
            _ip("-n", NAMESPACE, "addr", "add", _host_prefix(address), "dev", PEER_DEVICE, *_no_dad(address))
            source = HOST_ADDRESS6 if ":" in address else HOST_ADDRESS
            _ip("route", "replace", _host_prefix(address), "dev", HOST_DEVICE, "src", source)


def down(unwanted: list | None = None) -> None:
    if exists():
        _remove(unwanted)
    host_state.release_netns_dir()


def _remove(unwanted: list | None) -> None:
    for address in addresses() if unwanted is None else unwanted:
        _ip("route", "del", _host_prefix(address), "dev", HOST_DEVICE, check=False)
        _ip("-n", NAMESPACE, "addr", "del", _host_prefix(address), "dev", PEER_DEVICE, check=False)
    if not addresses():
        _ip("link", "del", HOST_DEVICE, check=False)  # its peer, and the routes through it, go with it
        _ip("netns", "del", NAMESPACE)


def command(*argv: str) -> list:
    """``argv`` run inside the namespace."""
    return ["ip", "netns", "exec", NAMESPACE, *argv]


def _host_prefix(address: str) -> str:
    return f"{address}/128" if ":" in address else f"{address}/32"


def _no_dad(address: str) -> tuple:
    return ("nodad",) if ":" in address else ()


def _create() -> None:
    host_state.claim_netns_dir()
    _ip("netns", "add", NAMESPACE)
    try:
        _ip("link", "add", HOST_DEVICE, "type", "veth", "peer", "name", PEER_DEVICE, "netns", NAMESPACE)
        for address in (HOST_ADDRESS, HOST_ADDRESS6):
            _ip("addr", "add", _host_prefix(address), "dev", HOST_DEVICE, *_no_dad(address))
        _ip("link", "set", HOST_DEVICE, "up")
        _ip("-n", NAMESPACE, "link", "set", "lo", "up")
        _ip("-n", NAMESPACE, "link", "set", PEER_DEVICE, "up")
        for address in (HOST_ADDRESS, HOST_ADDRESS6):
            _ip("-n", NAMESPACE, "route", "add", _host_prefix(address), "dev", PEER_DEVICE)
    except InternetError:
        _ip("link", "del", HOST_DEVICE, check=False)
        _ip("netns", "del", NAMESPACE, check=False)
        raise


def main(argv: list) -> int:
    if not argv or argv[0] not in ("up", "down"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "up":
            up(argv[1:])
        else:
            down(argv[1:] or None)
    except InternetError as exc:
        print(f"internet: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
