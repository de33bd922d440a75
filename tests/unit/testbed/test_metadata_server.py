# -*- coding: utf-8 -*-
"""The lab's stand-in of GKE's metadata server (tests/testbed/metadata_server.py): test infrastructure, checked
without a testbed, over HTTP on loopback with the lab's API server faked; and the product's probe script (its
`identity` check, with the host's curl) judged by db_layers against it."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import cluster_probe
from tests.testbed import metadata_server

POOL = "aibang-local-consumer.svc.id.goog"
GSA = "app-db-client@aibang-local-consumer.iam.gserviceaccount.com"
BASE = "/computeMetadata/v1/instance/service-accounts/default"


def pod(namespace: str, account: str | None, address: str = "127.0.0.1", **extra) -> dict:
    spec = {"serviceAccountName": account} if account else {}
    return {"metadata": {"name": "p", "namespace": namespace}, "spec": {**spec, **extra.pop("spec", {})},
            "status": {"podIP": address, "phase": "Running", **extra}}


class FakeApi:
    """The lab's API server as the stand-in reads it: pods by address (the pod list a fieldSelector returns) and
    service accounts; ``late`` lookups answer nothing first, as before the kubelet's status update."""

    def __init__(self, pods: list, accounts: dict, late: int = 0):
        self.pods, self.accounts, self.late, self.paths = pods, accounts, late, []

    def get(self, path: str):
        self.paths.append(path)
        if path.startswith("/api/v1/pods?fieldSelector="):
            if self.late:
                self.late -= 1
                return {"items": []}
            address = path.split("%3D", 1)[1]
            return {"items": [item for item in self.pods if item["status"]["podIP"] == address]}
        return self.accounts.get(path)

    def pod_at(self, address):
        return metadata_server.pod_at(self.get, address)

    def service_account(self, namespace, name):
        return self.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}")


def account(namespace: str, name: str, email: str | None) -> dict:
    annotations = {metadata_server.ANNOTATION: email} if email is not None else {}
    return {f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}": {"metadata": {"name": name, "annotations": annotations}}}


@pytest.fixture(name="serve")
def fixture_serve():
    """Serve a FakeApi on 127.0.0.1 (the caller's address is 127.0.0.1); returns the base URL."""
    servers = []

    def start(api: FakeApi) -> str:
        server = metadata_server.serve("127.0.0.1:0", api, POOL, wait=1.0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str, flavor: str | None = "Google", method: str = "GET") -> tuple:
    """(status, headers, body) of one request, with the header Metadata-Flavor: ``flavor`` unless None."""
    request = urllib.request.Request(url, method=method, headers={"Metadata-Flavor": flavor} if flavor else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def answered(url: str) -> tuple:
    status, _headers, body = get(url)
    return status, body


def test_a_pod_whose_ksa_is_bound_gets_its_google_service_account_and_a_token(serve):
    api = FakeApi([pod("shop", "orders")], account("shop", "orders", GSA))
    base = serve(api) + BASE
    status, headers, body = get(base + "/email")
    assert (status, body, headers["Metadata-Flavor"]) == (200, GSA, "Google")
    status, headers, body = get(base + "/token?scopes=https://www.googleapis.com/auth/cloud-platform")
    token = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3599 and token["access_token"].startswith("lab-stand-in.")
    assert get(base + "/token")[2] != body  # a token of its own each time
    # the pod was found by the caller's address, through the API server's field selector
    assert "/api/v1/pods?fieldSelector=status.podIP%3D127.0.0.1" in api.paths


def test_a_pod_whose_ksa_has_no_annotation_is_the_workload_identity_pool_with_a_federated_token(serve):
    """What GKE answers for a KSA that impersonates no Google service account: the pool as the email, and a token of
    the KSA's own principal (direct resource access)."""
    for accounts in (account("shop", "orders", None), account("shop", "orders", "")):
        base = serve(FakeApi([pod("shop", "orders")], accounts)) + BASE
        assert answered(base + "/email") == (200, POOL)
        status, _headers, body = get(base + "/token")
        assert status == 200 and json.loads(body)["token_type"] == "Bearer"


def test_a_pod_without_a_service_account_name_runs_as_default(serve):
    base = serve(FakeApi([pod("shop", None)], account("shop", "default", GSA))) + BASE
    assert answered(base + "/email") == (200, GSA)


@pytest.mark.parametrize("flavor", [None, "google", "Yes"])
def test_without_the_metadata_flavor_header_the_answer_is_403(serve, flavor):
    base = serve(FakeApi([pod("shop", "orders")], account("shop", "orders", GSA))) + BASE
    for path in ("/email", "/token", "/nothing-here"):
        status, _headers, body = get(base + path, flavor)
        assert status == 403 and "Metadata-Flavor" in body and GSA not in body


def test_what_is_not_modelled_is_refused(serve):
    base = serve(FakeApi([pod("shop", "orders")], account("shop", "orders", GSA)))
    assert get(base + BASE + "/identity?audience=x")[0] == 404
    assert get(base + "/computeMetadata/v1/project/project-id")[0] == 404
    assert get(base + BASE + "/token", method="POST")[0] == 405


def test_a_new_pods_address_is_looked_up_again_until_the_api_server_has_it(serve):
    api = FakeApi([pod("shop", "orders")], account("shop", "orders", GSA), late=2)
    assert answered(serve(api) + BASE + "/email") == (200, GSA)
    assert len([path for path in api.paths if "pods?" in path]) == 3


@pytest.mark.parametrize("pods, accounts, said", [
    ([], {}, "no pod with the address 127.0.0.1"),
    # a pod that ended keeps its address in its status; a hostNetwork pod shares its node's
    ([pod("shop", "orders", phase="Succeeded"), pod("kube-system", "coredns", spec={"hostNetwork": True})], {},
     "no pod with the address 127.0.0.1"),
    ([pod("shop", "orders")], {}, "service account shop/orders does not exist"),
])
def test_a_caller_the_stand_in_cannot_place_gets_404_saying_why(serve, pods, accounts, said):
    status, _headers, body = get(serve(FakeApi(pods, accounts)) + BASE + "/email")
    assert status == 404 and said in body, body


def test_an_api_server_that_does_not_answer_is_a_500_naming_it(serve):
    class Down(FakeApi):
        def get(self, path):
            raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    status, _headers, body = get(serve(Down([], {})) + BASE + "/email")
    assert status == 500 and "the lab's API server" in body and "Connection refused" in body, body


@pytest.mark.skipif(not shutil.which("curl"), reason="the probe script's identity check needs curl")
@pytest.mark.parametrize("email, ok, said", [
    (GSA, True, f"the pod of service account shop/orders gets tokens as {GSA}"),
    (None, False, f"is {POOL} (token: HTTP 200). Hint: annotate the Kubernetes service account with iam.gke.io/gcp-service-account"),
])
def test_the_products_probe_and_judge_read_the_stand_in_as_on_gke(serve, email, ok, said):
    """cluster_probe's SCRIPT (`identity URL`, with curl) against the stand-in, judged by db_layers: the
    workload-identity layer as diagnose shows it."""
    base = serve(FakeApi([pod("shop", "orders")], account("shop", "orders", email)))
    args = cluster_probe.probe_args([], [], None, identity_url=base)
    done = subprocess.run(["sh", "-c", cluster_probe.SCRIPT, "egress-probe", *args], capture_output=True, text=True,
                          timeout=60, check=False)
    observed = cluster_probe.parse_log(done.stdout)
    observed.update(tcp={"host": "10.0.0.2", "port": 3306, "connected": True}, mysql={"user": "app", "database": "app", "exit": 0},
                    dns={"10.0.0.2": ["10.0.0.2"]})
    layers = cluster_probe.db_layers(observed, "orders", "shop/orders")
    assert layers[-1]["layer"] == "workload-identity" and layers[-1]["ok"] is ok and said in layers[-1]["detail"], layers
