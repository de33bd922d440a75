# -*- coding: utf-8 -*-
"""The standard library's HTTP client for the API server: what it reads from a kubeconfig (and what it leaves to the
kubernetes client), credentials (precedence, exec plugins, a new token on 401), and requests over one kept-alive
connection to a loopback HTTP(S) server, answered as the kubernetes client's requester answers them."""
from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_client
from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_http as http
from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_job


def kubeconfig(tmp_path, user: dict, cluster: dict | None = None, name: str = "lab") -> str:
    cluster = cluster or {"server": "https://127.0.0.10:6443", "certificate-authority": "pki/ca.pem"}
    config = {"apiVersion": "v1", "kind": "Config", "current-context": name,
              "clusters": [{"name": name, "cluster": cluster}],
              "users": [{"name": name, "user": user}],
              "contexts": [{"name": name, "context": {"cluster": name, "user": name}},
                           {"name": "other", "context": {"cluster": name, "user": name}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def test_client_certificates_are_read_relative_to_the_kubeconfig(tmp_path):
    path = kubeconfig(tmp_path, {"client-certificate": "pki/admin.pem", "client-key": "pki/admin-key.pem"})
    found = http.settings({"kubeconfig": path, "context": "other"}, environ={})
    assert found["server"] == "https://127.0.0.10:6443"
    assert (found["ca_file"], found["cert_file"], found["key_file"]) == tuple(
        str(tmp_path / "pki" / name) for name in ("ca.pem", "admin.pem", "admin-key.pem"))


@pytest.mark.parametrize("user, cluster, environ, covered", [
    ({"token": "t"}, None, {}, True),
    ({"tokenFile": "/var/run/token"}, None, {}, True),
    ({"exec": {"command": "gke-gcloud-auth-plugin", "apiVersion": "client.authentication.k8s.io/v1beta1"}}, None, {}, True),
    ({"auth-provider": {"name": "gcp"}}, None, {}, False),
    ({"username": "u", "password": "p"}, None, {}, False),
    ({"token": "t", "as": "someone"}, None, {}, False),
    ({"token": "t"}, {"server": "https://127.0.0.10:6443", "proxy-url": "http://127.0.0.1:3128"}, {}, False),
    ({"token": "t"}, None, {"HTTPS_PROXY": "http://127.0.0.1:3128"}, False),
    ({"token": "t"}, None, {"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "localhost,127.0.0.10"}, True),
    ({"token": "t"}, None, {"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "", "no_proxy": "127.0.0.10"}, True),
    ({"token": "t"}, None, {"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "127.0.0.0/8"}, True),
    ({"token": "t"}, None, {"HTTP_PROXY": "http://127.0.0.1:3128"}, True),
    ({"exec": {"command": "p", "apiVersion": "client.authentication.k8s.io/v1", "interactiveMode": "Always"}}, None, {},
     False),
], ids=["token", "token-file", "exec", "auth-provider", "basic", "impersonation", "proxy-url", "proxy", "no-proxy",
        "empty-NO_PROXY-then-no_proxy", "no-proxy-cidr", "http-proxy-only-for-http", "interactive-exec"])
def test_what_is_left_to_the_kubernetes_client(tmp_path, user, cluster, environ, covered):
    assert (http.settings({"kubeconfig": kubeconfig(tmp_path, user, cluster)}, environ=environ) is not None) == covered


def test_a_host_and_token_or_the_pods_service_account(tmp_path):
    found = http.settings({"host": "https://10.0.0.1", "api_key": "t", "validate_certs": False}, environ={})
    assert (found["server"], found["token"], found["insecure"]) == ("https://10.0.0.1", "t", True)
    environ = {"KUBECONFIG": str(tmp_path / "missing"), "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    found = http.settings({}, environ=environ)
    assert found["server"] == "https://10.0.0.1:443" and found["token_file"].endswith("serviceaccount/token")
    assert http.settings({}, environ={"KUBECONFIG": str(tmp_path / "missing")}) is None


# Pod logs (pod name -> bytes): one JSON line as a probe writes it (compact, not ASCII, no newline at the end), a line
# that is JSON by accident, and bytes that are not UTF-8.
LOGS = {"json-line": '{"check":"dns","name":"café.example","ips":["10.96.0.10"]}'.encode(), "number": b"42",
        "binary": b"ok \xff\xfe end\n"}


class ApiServer(BaseHTTPRequestHandler):
    """Answers 401 to a refused bearer token, 404 for a path naming `missing`, 422 for `invalid`, else 200."""
    protocol_version = "HTTP/1.1"
    seen: list = []
    refused: set = set()

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), self.headers.get("Content-Type"),
                          body, self.client_address[1]))
        if self.headers.get("Authorization") in self.refused:
            status, payload = 401, {"kind": "Status", "message": "Unauthorized", "code": 401}
        elif "missing" in self.path:
            status, payload = 404, {"message": "not found"}
        elif "invalid" in self.path:
            status, payload = 422, {"kind": "Status", "message": 'Deployment.apps "invalid" is invalid', "code": 422}
        else:
            status, payload = 200, {"ok": self.command}
        data, content_type = json.dumps(payload).encode(), "application/json"
        if self.path.endswith("/log"):  # a pod's log, as the API server sends it
            data, content_type = LOGS[self.path.split("/")[-2]], "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if "close" in self.path:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_DELETE = answer

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def api_server():
    ApiServer.seen, ApiServer.refused = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_requests_share_one_connection_and_reopen_a_closed_one(api_server):
    request = http.requester({"server": api_server, "token": "t0ken"})
    assert request("GET", "/api/v1/namespaces/a", {}, None, None) == (200, {"ok": "GET"})
    assert request("PATCH", "/api/v1/namespaces/a", {"fieldManager": "m", "dryRun": "All"}, {"kind": "Namespace"},
                   "application/apply-patch+yaml") == (200, {"ok": "PATCH"})
    assert request("GET", "/api/v1/namespaces/missing", {}, None, None) == (404, {"message": "not found"})
    assert request("GET", "/close", {}, None, None)[0] == 200
    assert request("DELETE", "/api/v1/namespaces/a", {"propagationPolicy": "Background"}, None, None)[0] == 200
    methods = [(method, path, auth, content_type) for method, path, auth, content_type, _body, _port in ApiServer.seen]
    assert methods[1] == ("PATCH", "/api/v1/namespaces/a?fieldManager=m&dryRun=All", "Bearer t0ken",
                          "application/apply-patch+yaml")
    assert ApiServer.seen[1][4] == {"kind": "Namespace"}
    ports = [port for *_rest, port in ApiServer.seen]
    assert len(set(ports[:4])) == 1 and ports[4] != ports[3]  # kept alive until the server closed it


V1 = "client.authentication.k8s.io/v1"


def plugin(folder, script: str, name: str = "credential-plugin") -> str:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o700)
    return str(path)


def credential(status: dict, api_version: str = V1) -> str:
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})


def test_an_exec_credential_plugin_gets_its_args_env_and_cluster_and_its_token_is_sent(api_server, tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "answer.json").write_text(credential({"token": "from-plugin"}), encoding="utf-8")
    plugin(tmp_path / "bin", 'printf "%s\\n" "$@" > "$SEEN.args"; printf "%s" "$KUBERNETES_EXEC_INFO" > "$SEEN.info"; '
           'cat > "$SEEN.stdin"; cat "$SEEN/../answer.json"')
    seen = tmp_path / "seen"
    seen.mkdir()
    cluster = {"server": api_server, "certificate-authority-data": "Q0E=",
               "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "lab"}}]}
    found = http.settings({"kubeconfig": kubeconfig(tmp_path, {"exec": {
        "command": "bin/credential-plugin", "args": ["--one", "two words"], "apiVersion": V1, "provideClusterInfo": True,
        "env": [{"name": "SEEN", "value": str(seen)}]}}, cluster)}, environ={})
    assert http.requester(found)("GET", "/version", {}, None, None)[0] == 200
    assert ApiServer.seen[0][2] == "Bearer from-plugin"
    assert (tmp_path / "seen.args").read_text(encoding="utf-8").splitlines() == ["--one", "two words"]
    assert json.loads((tmp_path / "seen.info").read_text(encoding="utf-8")) == {
        "apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False, "cluster": {
            "server": api_server, "insecure-skip-tls-verify": False, "certificate-authority-data": "Q0E=",
            "config": {"audience": "lab"}}}}
    assert (tmp_path / "seen.stdin").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("spec, script, message", [
    ({"command": "/nonexistent/gke-gcloud-auth-plugin", "installHint": "install it with gcloud components"}, None,
     "/nonexistent/gke-gcloud-auth-plugin was not found: install it with gcloud components"),
    ({"apiVersion": None}, "true", "has no apiVersion"),
    ({}, "echo 'no credentials' >&2; exit 3", "failed (exit 3): no credentials"),
    ({}, "echo hello", f"did not print an ExecCredential of {V1}"),
    ({}, f"echo '{credential({'token': 't'}, 'client.authentication.k8s.io/v1beta1')}'", "did not print an ExecCredential"),
    ({}, f"echo '{credential({})}'", "gave neither a token nor a client certificate"),
    ({}, f"echo '{credential({'clientCertificateData': 'PEM'})}'", "a client certificate without its key"),
    ({}, "exec sleep 30", "did not answer within 1 s"),
], ids=["not-found", "no-api-version", "fails", "not-json", "other-version", "empty-status", "cert-without-key",
        "hangs"])
def test_an_exec_plugin_without_a_credential_is_an_error_naming_it(monkeypatch, tmp_path, spec, script, message):
    monkeypatch.setattr(http, "EXEC_TIMEOUT_S", 1)
    spec = {"apiVersion": V1, **spec}
    spec.setdefault("command", plugin(tmp_path, script) if script else None)
    with pytest.raises(RuntimeError, match="credential plugin") as raised:
        http.requester({"server": "http://127.0.0.1:1", "exec": spec, "base": str(tmp_path)})
    assert message in str(raised.value)


EXEC = {"command": "gke-gcloud-auth-plugin", "apiVersion": V1}


@pytest.mark.parametrize("user, wins", [
    ({"token": "t", "tokenFile": "token", "exec": EXEC}, ("token", "t")),
    ({"tokenFile": "token", "exec": EXEC}, ("token_file", "token")),
    ({"exec": EXEC}, ("exec", EXEC)),
], ids=["token-first", "then-token-file", "then-exec"])
def test_one_bearer_credential_in_the_kubernetes_clients_order(tmp_path, user, wins):
    found = http.settings({"kubeconfig": kubeconfig(tmp_path, user)}, environ={})
    got = [(key, found[key]) for key in ("token", "token_file", "exec") if found.get(key)]
    assert got == [(wins[0], str(tmp_path / wins[1]) if wins[0] == "token_file" else wins[1])]


def test_a_401_to_a_token_from_a_file_reads_the_file_again(api_server, tmp_path):
    token = tmp_path / "token"
    token.write_text("old\n", encoding="utf-8")
    request = http.requester({"server": api_server, "token_file": str(token)})
    assert request("GET", "/version", {}, None, None)[0] == 200
    token.write_text("new\n", encoding="utf-8")
    ApiServer.refused = {"Bearer old"}
    assert request("PATCH", "/api/v1/namespaces/a", {}, {"kind": "Namespace"}, None) == (200, {"ok": "PATCH"})
    assert request("GET", "/version", {}, None, None)[0] == 200
    assert [auth for _method, _path, auth, *_rest in ApiServer.seen] == ["Bearer old", "Bearer old", "Bearer new",
                                                                         "Bearer new"]
    assert ApiServer.seen[2][4] == {"kind": "Namespace"}  # the retry sends the same body


def test_a_401_to_a_plugins_token_runs_the_plugin_again(api_server, tmp_path):
    runs = tmp_path / "runs"
    script = (f'echo run >> {runs}; n=$(wc -l < {runs}); '
              f'echo "{{\\"apiVersion\\": \\"{V1}\\", \\"kind\\": \\"ExecCredential\\", '
              f'\\"status\\": {{\\"token\\": \\"token-$n\\"}}}}"')
    request = http.requester({"server": api_server, "exec": {"command": plugin(tmp_path, script), "apiVersion": V1}})
    ApiServer.refused = {"Bearer token-1"}
    assert request("GET", "/version", {}, None, None) == (200, {"ok": "GET"})
    assert [auth for _method, _path, auth, *_rest in ApiServer.seen] == ["Bearer token-1", "Bearer token-2"]


def test_a_401_to_a_fixed_token_is_the_answer(api_server):
    ApiServer.refused = {"Bearer fixed"}
    request = http.requester({"server": api_server, "token": "fixed"})
    assert request("GET", "/version", {}, None, None) == (401, {"kind": "Status", "message": "Unauthorized", "code": 401})
    assert len(ApiServer.seen) == 1


@pytest.mark.parametrize("path", ["/api/v1/namespaces/a", "/api/v1/namespaces/missing",
                                  "/apis/apps/v1/namespaces/a/deployments/invalid"], ids=["200", "404", "422"])
def test_the_kubernetes_clients_requester_answers_the_same(api_server, path):
    by_http = http.requester({"server": api_server, "token": "t"})
    by_client = app_workload_client.requester(app_workload_client.api_client({"host": api_server, "api_key": "t"}))
    for method, body, content_type in (("GET", None, None), ("PATCH", {"kind": "Deployment"}, "application/apply-patch+yaml")):
        query = {"fieldManager": "m", "force": "true"}
        assert by_http(method, path, query, body, content_type) == by_client(method, path, query, body, content_type)
        sent = [(seen[0], seen[1], seen[2], seen[4]) for seen in ApiServer.seen[-2:]]
        assert sent[0] == sent[1]


def certificates(folder):
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signed (PEM files in `folder`)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])

    def issue(name, key, extensions, issuer_key=ca_key):
        builder = x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        builder = builder.issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        builder = builder.not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    ca = issue("test-ca", ca_key, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = issue("127.0.0.1", server_key, [(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)])
    client = issue("admin", client_key, [])
    files = {}
    for name, value in (("ca", ca), ("server", server), ("client", client)):
        files[name] = folder / f"{name}.pem"
        files[name].write_bytes(value.public_bytes(serialization.Encoding.PEM))
    for name, key in (("server-key", server_key), ("client-key", client_key)):
        files[name] = folder / f"{name}.pem"
        files[name].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return files


@pytest.fixture
def tls_api_server(tmp_path):
    """The loopback API server over HTTPS, asking for a client certificate its CA signed."""
    files = certificates(tmp_path)
    ApiServer.seen, ApiServer.refused = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files["server"], files["server-key"])
    context.load_verify_locations(files["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", files
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize("inline", [False, True], ids=["files", "data"])
def test_client_certificates_over_https(tls_api_server, tmp_path, inline):
    address, files = tls_api_server

    def data(name):
        return base64.b64encode(files[name].read_bytes()).decode()

    if inline:
        user = {"client-certificate-data": data("client"), "client-key-data": data("client-key")}
        cluster = {"server": address, "certificate-authority-data": data("ca")}
    else:
        user = {"client-certificate": "client.pem", "client-key": "client-key.pem"}
        cluster = {"server": address, "certificate-authority": "ca.pem"}
    found = http.settings({"kubeconfig": kubeconfig(tmp_path, user, cluster)}, environ={})
    request = http.requester(found)
    assert request("GET", "/api/v1/namespaces/a", {}, None, None) == (200, {"ok": "GET"})
    assert request("PATCH", "/api/v1/namespaces/a", {}, {"kind": "Namespace"}, "application/apply-patch+yaml")[0] == 200
    assert len({port for *_rest, port in ApiServer.seen}) == 1


def test_a_server_the_ca_did_not_sign_is_refused(tls_api_server, tmp_path):
    address, _files = tls_api_server
    (tmp_path / "other").mkdir()
    other = certificates(tmp_path / "other")
    found = http.settings({"kubeconfig": kubeconfig(tmp_path / "other", {
        "client-certificate": "client.pem", "client-key": "client-key.pem"},
        {"server": address, "certificate-authority": str(other["ca"])})}, environ={})
    with pytest.raises(ssl.SSLError):
        http.requester(found)("GET", "/version", {}, None, None)


def test_insecure_skip_tls_verify_accepts_a_server_no_ca_signed(tls_api_server, tmp_path):
    address, _files = tls_api_server
    found = http.settings({"kubeconfig": kubeconfig(tmp_path, {
        "client-certificate": "client.pem", "client-key": "client-key.pem"},
        {"server": address, "insecure-skip-tls-verify": True})}, environ={})
    assert http.requester(found)("GET", "/version", {}, None, None) == (200, {"ok": "GET"})


def test_an_exec_plugins_client_certificate_is_presented(tls_api_server, tmp_path):
    address, files = tls_api_server
    (tmp_path / "answer.json").write_text(credential({
        "clientCertificateData": files["client"].read_text(encoding="ascii"),
        "clientKeyData": files["client-key"].read_text(encoding="ascii")}), encoding="utf-8")
    found = http.settings({"kubeconfig": kubeconfig(tmp_path, {"exec": {
        "command": plugin(tmp_path, f"cat {tmp_path / 'answer.json'}"), "apiVersion": V1}},
        {"server": address, "certificate-authority": "ca.pem"})}, environ={})
    request = http.requester(found)
    assert request("GET", "/version", {}, None, None) == (200, {"ok": "GET"})
    assert ApiServer.seen[0][2] is None
    request.close()


@pytest.mark.parametrize("pod", sorted(LOGS))
def test_a_pods_log_comes_back_as_the_api_server_sent_it_decoded_once(api_server, pod):
    """Text (text/plain) is text, even when it parses as JSON: k8s_job_run's log is the pod's, not a re-encoding."""
    path = f"/api/v1/namespaces/egress-verify/pods/{pod}/log"
    by_http = http.requester({"server": api_server, "token": "t"})
    by_client = app_workload_client.requester(app_workload_client.api_client({"host": api_server, "api_key": "t"}))
    expected = LOGS[pod].decode("utf-8", "replace")
    assert by_http("GET", path, {}, None, None) == by_client("GET", path, {}, None, None) == (200, expected)
    assert k8s_job.log_of(by_http, "egress-verify", pod) == k8s_job.log_of(by_client, "egress-verify", pod) == expected


@pytest.mark.parametrize("option, value", [
    ("proxy", "http://bastion:8888"), ("no_proxy", "10.0.0.1"), ("proxy_headers", {"proxy_basic_auth": "u:p"}),
    ("client_cert", "/pki/admin.pem"), ("client_key", "/pki/admin-key.pem"), ("username", "admin"),
    ("password", "secret"), ("impersonate_user", "someone"), ("impersonate_groups", ["admins"]),
])
def test_a_kubernetes_core_option_this_client_does_not_implement_leaves_the_call_to_the_kubernetes_client(
        tmp_path, option, value):
    for given in ({"host": "https://10.0.0.1", "api_key": "t"}, {"kubeconfig": kubeconfig(tmp_path, {"token": "t"})}):
        assert http.settings(given, environ={}) is not None
        assert http.settings(dict(given, **{option: value}), environ={}) is None
        assert http.settings(dict(given, **{option: None}), environ={}) is not None  # unset, as AnsibleModule fills it


def test_persist_config_changes_nothing_this_client_covers(tmp_path):
    """persist_config only writes back an auth-provider's refreshed token, and an auth-provider is left to the
    kubernetes client already."""
    assert http.settings({"kubeconfig": kubeconfig(tmp_path, {"token": "t"}), "persist_config": True}, environ={})


@pytest.mark.parametrize("found, token_file, exec_token", [
    ({"token": "from-api-key\n"}, None, None),
    ({"token": "  from-kubeconfig\r\n"}, None, None),
    ({}, "from-file\n\n", None),
    ({}, None, "from-plugin\n"),
], ids=["api_key-newline", "kubeconfig-crlf", "token-file", "exec-plugin"])
def test_every_token_is_sent_stripped_and_known_to_the_caller(api_server, tmp_path, found, token_file, exec_token):
    if token_file is not None:
        (tmp_path / "token").write_text(token_file, encoding="utf-8")
        found = {"token_file": str(tmp_path / "token")}
    if exec_token is not None:
        script = f"printf '%s' '{credential({'token': exec_token})}'"
        found = {"exec": {"command": plugin(tmp_path, script), "apiVersion": V1}}
    request = http.requester(dict(found, server=api_server))
    assert request("GET", "/version", {}, None, None)[0] == 200
    sent = ApiServer.seen[0][2]
    assert sent.startswith("Bearer from-") and sent == sent.strip()
    assert sent[len("Bearer "):] in request.secrets


@pytest.mark.parametrize("where", ["api_key", "token-file", "exec-plugin"])
def test_a_token_with_a_line_break_inside_is_refused_without_being_shown(tmp_path, where):
    token = "first-half\nsecond-half"
    found = {"server": "http://127.0.0.1:1", "token": token}
    if where == "token-file":
        (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
        found = {"server": "http://127.0.0.1:1", "token_file": str(tmp_path / "token")}
    elif where == "exec-plugin":
        script = f"printf '%s' '{credential({'token': token})}'"
        found = {"server": "http://127.0.0.1:1", "exec": {"command": plugin(tmp_path, script), "apiVersion": V1}}
    with pytest.raises(RuntimeError, match="the bearer token contains a line break") as raised:
        http.requester(found)
    assert "half" not in str(raised.value)
