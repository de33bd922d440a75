# -*- coding: utf-8 -*-
"""A stand-in of GKE's metadata server for the lab's pods (Workload Identity). Test infrastructure only, stdlib only.

On GKE, a node pool with Workload Identity (GKE_METADATA) runs gke-metadata-server on every node, and a pod's requests
to 169.254.169.254:80 reach the one on its node. It tells the calling pod by its source address, reads the pod's
Kubernetes service account (KSA) and that KSA's annotation iam.gke.io/gcp-service-account, and answers the Compute
Engine metadata API as that identity. This stand-in does the same for the lab's real nodes, which share one network
namespace: node.py DNATs the pods' 169.254.169.254:80 to it at the node's address (NODE_IP:988), and it looks the
pod up by its address through the lab's API server. Under /computeMetadata/v1/instance/service-accounts/default/:

  email   the annotation's Google service account; for a KSA without it (or with it empty), the cluster's Workload
          Identity pool (PROJECT_ID.svc.id.goog), as GKE answers for a pod whose KSA is a principal of the pool
          and impersonates no Google service account
  token   HTTP 200, {"access_token", "expires_in", "token_type": "Bearer"}: for an annotated KSA GKE hands out the
          Google service account's token, for one without, a federated token of the KSA's own principal (direct
          resource access). Here both are random strings that no Google API would accept.

Every request needs the header Metadata-Flavor: Google (else 403). What it does not model: the token exchange itself
(no STS, no IAM Credentials call, so no check of roles/iam.workloadIdentityUser on the Google service account: an
annotated KSA always gets a token), the ID-token, scopes, project and instance endpoints, hostNetwork pods (they
share the node's address), and one server per node (one serves all three real nodes, whose pods share a bridge).

  python3 tests/testbed/metadata_server.py --listen 10.244.128.1:988 --api https://127.0.0.1:16443 --pki DIR \\
      --workload-pool aibang-local-consumer.svc.id.goog
cluster.py starts it with the lab (pid file metadata-server.pid) and stops it by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANNOTATION = "iam.gke.io/gcp-service-account"
ACCOUNT_PATH = "/computeMetadata/v1/instance/service-accounts/default/"
TOKEN_LIFETIME = 3599


class LabApi:
    """Reads of the lab's API server with the admin client certificate: the pod at an address, a service account."""

    def __init__(self, api: str, pki: str):
        self.api = api.rstrip("/")
        self.context = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
        self.context.load_cert_chain(os.path.join(pki, "admin.pem"), os.path.join(pki, "admin-key.pem"))

    def get(self, path: str):
        """The object at ``path``, or None when the API server answers 404."""
        try:
            with urllib.request.urlopen(self.api + path, context=self.context, timeout=5) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def pod_at(self, address: str):
        return pod_at(self.get, address)

    def service_account(self, namespace: str, name: str):
        return self.get(f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/serviceaccounts/{urllib.parse.quote(name)}")


def pod_at(get, address: str):
    """The running pod whose address is ``address`` (its own network: a hostNetwork pod shares its node's), or None.
    Pods that ended keep their address in their status after the network let it go: a new pod may have it now."""
    selector = urllib.parse.quote(f"status.podIP={address}")
    found = get(f"/api/v1/pods?fieldSelector={selector}") or {}
    pods = [pod for pod in found.get("items", []) if not pod["spec"].get("hostNetwork")
            and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
    return pods[0] if len(pods) == 1 else None


def identity(lab, address: str, workload_pool: str, wait: float = 5.0):
    """(status, text): the calling pod's Google identity, or why there is none. A new pod's address reaches the API
    server in the kubelet's next status update, which may come after its first request: look again for ``wait`` s."""
    deadline = time.monotonic() + wait
    pod = lab.pod_at(address)
    while pod is None and time.monotonic() < deadline:
        time.sleep(0.25)
        pod = lab.pod_at(address)
    if pod is None:
        return 404, f"no pod with the address {address} (the stand-in answers the lab's pods only)"
    namespace = pod["metadata"]["namespace"]
    name = pod["spec"].get("serviceAccountName") or "default"
    account = lab.service_account(namespace, name)
    if account is None:
        return 404, f"the pod's Kubernetes service account {namespace}/{name} does not exist"
    email = ((account.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION, "").strip()
    return 200, email or workload_pool


def answer(method: str, path: str, headers, client: str, lab, workload_pool: str, wait: float = 5.0) -> tuple:
    """(status, content type, body) for one request from ``client``."""
    if headers.get("Metadata-Flavor") != "Google":
        return 403, "text/plain", "Missing required header: Metadata-Flavor: Google\n"
    if method != "GET":
        return 405, "text/plain", f"{method} is not allowed\n"
    what = urllib.parse.urlsplit(path).path
    if what not in (ACCOUNT_PATH + "email", ACCOUNT_PATH + "token"):
        return 404, "text/plain", f"{what} is not served by the lab's metadata server stand-in\n"
    status, email = identity(lab, client, workload_pool, wait)
    if status != 200:
        return status, "text/plain", email + "\n"
    if what.endswith("/email"):
        return 200, "application/text", email
    token = {"access_token": f"lab-stand-in.{secrets.token_urlsafe(32)}", "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}
    return 200, "application/json", json.dumps(token)


def handler(lab, workload_pool: str, wait: float = 5.0):
    class Handler(BaseHTTPRequestHandler):
        server_version = "Metadata Server for VM"  # what Compute Engine's says it is
        sys_version = ""

        def respond(self):
            try:
                status, content_type, body = answer(self.command, self.path, self.headers, self.client_address[0], lab,
                                                    workload_pool, wait)
            except (OSError, ValueError, KeyError) as exc:  # the API server did not answer, or not as expected
                status, content_type, body = 500, "text/plain", f"the lab's API server: {exc!r}\n"
            data = body.encode()
            self.send_response(status)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = respond

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            sys.stderr.write(f"{self.client_address[0]} {format % args}\n")

    return Handler


def serve(listen: str, lab, workload_pool: str, wait: float = 5.0) -> ThreadingHTTPServer:
    host, port = listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), handler(lab, workload_pool, wait))
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", required=True, help="address:port")
    parser.add_argument("--api", required=True, help="the API server's URL")
    parser.add_argument("--pki", required=True, help="the lab's PKI: ca.pem, admin.pem, admin-key.pem")
    parser.add_argument("--workload-pool", required=True, help="PROJECT_ID.svc.id.goog")
    args = parser.parse_args()
    server = serve(args.listen, LabApi(args.api, args.pki), args.workload_pool)
    sys.stderr.write(f"metadata server stand-in on {args.listen} (pool {args.workload_pool})\n")
    sys.stderr.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
