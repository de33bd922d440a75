# -*- coding: utf-8 -*-
"""The fake's front door: an HTTPS proxy on loopback that terminates TLS for ``*.googleapis.com``.

Clients set ``HTTPS_PROXY=http://127.0.0.1:<port>`` and ``REQUESTS_CA_BUNDLE=<state>/ca.pem``; a CONNECT to any
googleapis.com host is answered by the fake itself with a certificate from its own CA. Any other CONNECT is
refused (no internet here). Plain requests to the proxy's own address are the control API for tests:

  GET  /_fake/health              200 when ready
  POST /_fake/reset               forget every resource, operation, policy, fault and request
  POST /_fake/faults              add a fault: {"method": "compute.addresses.insert", "status": 429, "times": 2}
                                  or {"method": ..., "operation_error": {"message": ...}} or {"ignore_fields": [...]}
  GET  /_fake/requests            every API call so far: method id, canonical path, query, body, status, mutating
  GET  /_fake/resources           every stored resource by canonical path
  GET  /_fake/nat_exposure        each Cloud NAT config translating a GKE cluster's node or pod range (the egress bypass)
  POST /_fake/psc_status          {"forwarding_rule": "<canonical path>", "status": "NEEDS_ATTENTION"}
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .google import FakeGoogle

GOOGLE_SUFFIX = ".googleapis.com"


def make_certificates(state_dir: str) -> tuple[str, str]:
    """A CA and a serving certificate for googleapis.com hosts; returns (cert path, key path). CA at ca.pem."""
    os.makedirs(state_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aibang GCP fake CA (test double)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("*.googleapis.com"), x509.DNSName("googleapis.com")]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.googleapis.com")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: os.path.join(state_dir, name) for name in ("ca.pem", "server.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server-key.pem"], "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths["server.pem"], paths["server-key.pem"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    google: FakeGoogle = None  # set by serve()
    tls: ssl.SSLContext = None
    tunnel_host = ""
    quiet = False

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's signature)
        if not self.quiet:
            sys.stderr.write("gcp-fake %s %s\n" % (self.tunnel_host or "-", format % args))

    def do_CONNECT(self):
        host, _sep, port = self.path.partition(":")
        if not host.endswith(GOOGLE_SUFFIX) or port not in ("443", ""):
            self.send_error(403, f"the GCP fake only serves *{GOOGLE_SUFFIX}:443, not {self.path}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            self.connection = self.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.tunnel_host = host
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = self.connection.makefile("wb", 0)
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        return json.loads(raw)

    def _reply(self, status: int, payload) -> None:
        data = json.dumps(payload, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _api(self, method: str) -> None:
        if not self.tunnel_host:
            self._control(method)
            return
        url = urlsplit(self.path)
        try:
            body = self._body()
        except ValueError as exc:
            self._reply(400, {"error": {"code": 400, "message": f"Invalid JSON payload received. {exc}", "status": "INVALID_ARGUMENT"}})
            return
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        status, payload = self.google.handle(method, self.tunnel_host, url.path, dict(parse_qsl(url.query)), body, token)
        self._reply(status, payload)

    def _control(self, method: str) -> None:
        path = urlsplit(self.path).path
        google = self.google
        if method == "GET" and path == "/_fake/health":
            self._reply(200, {"ok": True})
        elif method == "POST" and path == "/_fake/reset":
            google.reset()
            self._reply(200, {})
        elif method == "POST" and path == "/_fake/faults":
            google.add_fault(self._body() or {})
            self._reply(200, {})
        elif method == "GET" and path == "/_fake/requests":
            with google.lock:
                self._reply(200, google.requests)
        elif method == "GET" and path == "/_fake/resources":
            with google.lock:
                self._reply(200, google.resources)
        elif method == "GET" and path == "/_fake/nat_exposure":
            self._reply(200, google.nat_exposure())
        elif method == "POST" and path == "/_fake/psc_status":
            order = self._body() or {}
            with google.lock:
                google.resources[order["forwarding_rule"]]["_psc_status"] = order.get("status")
            self._reply(200, {})
        else:
            self._reply(404, {"error": f"no control endpoint {method} {path} (plain requests are the fake's control API; "
                                       "Google API calls must come through CONNECT)"})

    def do_GET(self):
        self._api("GET")

    def do_POST(self):
        self._api("POST")

    def do_PUT(self):
        self._api("PUT")

    def do_PATCH(self):
        self._api("PATCH")

    def do_DELETE(self):
        self._api("DELETE")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(address: str, port: int, state_dir: str, quiet: bool = False) -> Server:
    cert, key = make_certificates(state_dir)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    handler = type("BoundHandler", (Handler,), {"google": FakeGoogle(), "tls": tls, "quiet": quiet})
    return Server((address, port), handler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="GCP API fake (test double) as an HTTPS proxy on loopback")
    parser.add_argument("--listen", default="127.0.0.1:18443", help="address:port (loopback only)")
    parser.add_argument("--state-dir", required=True, help="where ca.pem and the serving certificate are written")
    parser.add_argument("--pidfile")
    args = parser.parse_args(argv)
    address, _sep, port = args.listen.rpartition(":")
    if not address.startswith("127."):
        parser.error(f"--listen {args.listen}: the fake listens on loopback (127.0.0.0/8) only")
    server = serve(address, int(port), args.state_dir)
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write(f"gcp-fake: listening on {address}:{port}, CA {os.path.join(args.state_dir, 'ca.pem')}\n")
    server.serve_forever()
    return 0
