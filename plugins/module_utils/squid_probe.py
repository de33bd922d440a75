# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send one real request through a proxy and report what came back. Standard library only."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time


class ProbeError(Exception):
    pass


def open_request(proxy: tuple, host: str, port: int, method: str = "CONNECT", source: str | None = None, timeout: float = 10.0):
    """Send the request line and headers; return (status, connected socket, reader positioned after the headers)."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    source_address = (source, 0) if source else None
    try:
        conn = socket.create_connection(proxy, timeout=timeout, source_address=source_address)
    except OSError as exc:
        raise ProbeError(f"Failed to connect to the proxy {proxy[0]}:{proxy[1]}{f' from {source}' if source else ''}: {exc}") from None
    if method == "CONNECT":
        conn.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    else:
        conn.sendall(f"{method} http://{target}/ HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n".encode())
    reader = conn.makefile("rb")
    status_line = reader.readline()
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        conn.close()
        raise ProbeError(f"The proxy {proxy[0]}:{proxy[1]} did not answer HTTP: {status_line[:80]!r}")
    while reader.readline() not in (b"\r\n", b"\n", b""):
        pass
    return int(parts[1]), conn, reader


def probe(proxy: tuple, host: str, port: int, method: str = "CONNECT", source: str | None = None,
          timeout: float = 10.0, tls: bool = False, ca_file: str | None = None) -> dict:
    """One request through the proxy. With ``tls``, a 200 to CONNECT must also complete a verified TLS handshake."""
    started = time.monotonic()
    status, conn, _reader = open_request(proxy, host, port, method, source, timeout)
    client = conn.getsockname()[0]
    result = {"status": status, "allowed": status == 200 if method == "CONNECT" else status < 400, "tls": None, "client": client}
    try:
        if tls and method == "CONNECT" and status == 200:
            result["tls"] = _tls_handshake(conn, host, ca_file)
    finally:
        conn.close()
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _tls_handshake(conn: socket.socket, host: str, ca_file: str | None) -> str:
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with context.wrap_socket(conn, server_hostname=host) as tls_conn:
            return tls_conn.version() or "unknown"
    except (ssl.SSLError, OSError) as exc:
        raise ProbeError(f"CONNECT {host} was allowed but the TLS handshake through the tunnel failed: {exc}") from None


def resolve(host: str, hosts_file: str | None = None, getaddrinfo=socket.getaddrinfo):
    """The addresses ``host`` resolves to, looked up as Squid does: in its ``hosts_file`` first, then the system's
    resolver. None when neither answers (the caller then reports the destination check as not evaluated)."""
    name = host.strip().lower().rstrip(".")
    if hosts_file:
        listed = _hosts_file_addresses(hosts_file, name)
        if listed:
            return listed
    try:
        answers = getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    return list(dict.fromkeys(str(ipaddress.ip_address(answer[4][0].split("%")[0])) for answer in answers))


def _hosts_file_addresses(path: str, name: str) -> list:
    """The address of the last line naming ``name``: Squid keeps one address per name from its hosts_file."""
    addresses = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and name in (field.lower().rstrip(".") for field in fields[1:]):
                    addresses.append(fields[0])
    except OSError as exc:
        raise ProbeError(f"Failed to read hosts_file {path}: {exc}") from None
    return addresses[-1:]
