# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API server's `request` function (as app_workload_apply's functions take it) over kept-alive HTTPS
connections of the standard library: importing the kubernetes package costs about a second here, more than a whole
apply. It reads what kubectl reads - a kubeconfig's cluster and user (client certificates, a bearer token or token
file, an exec credential plugin such as gke-gcloud-auth-plugin), a host and token, or the pod's service account - and
gets a new token when the API server answers 401 to one from a file or a plugin. For anything else (auth-provider,
basic auth, impersonation, a proxy, an interactive plugin, or a kubernetes.core connection option it does not implement)
`settings` returns None and the caller uses the kubernetes client (app_workload_client). Every bearer token is sent
stripped (a vault block scalar or a pasted variable keeps a trailing newline, which http.client would refuse with the
header's repr in its message); one with a line break inside is refused without being shown."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import os
import ssl
import subprocess
import tempfile
import threading
import urllib.parse

try:
    import yaml
except ImportError:  # the controller reads kubeconfigs; PyYAML comes with ansible-core there
    yaml = None

IN_CLUSTER = "/var/run/secrets/kubernetes.io/serviceaccount"
USER_KEYS = {"client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile",
             "exec"}
CLUSTER_KEYS = {"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
                "extensions"}
EXEC_EXTENSION = "client.authentication.k8s.io/exec"
EXEC_TIMEOUT_S = 60
# kubernetes.core's connection options (module_utils.k8s_auth) this client does not implement: set, they leave the call
# to the kubernetes client (persist_config is not here: it only writes back an auth-provider's refreshed token, and a
# kubeconfig with an auth-provider is left to the kubernetes client already)
CLIENT_ONLY_OPTIONS = ("proxy", "no_proxy", "proxy_headers", "client_cert", "client_key", "username", "password",
                       "impersonate_user", "impersonate_groups")


def settings(params: dict, environ=None) -> dict | None:
    """{server, ca_file, ca_data, insecure, cert_file, key_file, cert_data, key_data, token, token_file, exec, base,
    exec_config} from the options as app_workload_client.api_client reads them; None where this client does not cover
    them."""
    environ = os.environ if environ is None else environ
    if any(params.get(name) not in (None, "", [], {}) for name in CLIENT_ONLY_OPTIONS):
        return None
    if params.get("kubeconfig") or params.get("context"):
        found = from_kubeconfig(params.get("kubeconfig") or default_kubeconfig(environ), params.get("context"))
    elif params.get("host"):
        found = {"server": params["host"], "insecure": not params.get("validate_certs", True),
                 "ca_file": params.get("ca_cert"), "token": params.get("api_key")}
    elif os.path.exists(default_kubeconfig(environ) or ""):
        found = from_kubeconfig(default_kubeconfig(environ), None)
    elif environ.get("KUBERNETES_SERVICE_HOST"):
        found = {"server": f"https://{environ['KUBERNETES_SERVICE_HOST']}:{environ.get('KUBERNETES_SERVICE_PORT', '443')}",
                 "ca_file": f"{IN_CLUSTER}/ca.crt", "token_file": f"{IN_CLUSTER}/token"}
    else:
        return None
    if found is None or behind_a_proxy(found["server"], environ):
        return None
    return found


def default_kubeconfig(environ) -> str | None:
    path = environ.get("KUBECONFIG", "~/.kube/config")
    return None if os.pathsep in path else os.path.expanduser(path)


def behind_a_proxy(server: str, environ) -> bool:
    """Whether a request to `server` would go through a proxy (as Go's net/http reads the environment)."""
    parts = urllib.parse.urlsplit(server)
    names = ("HTTPS_PROXY", "https_proxy") if parts.scheme == "https" else ("HTTP_PROXY", "http_proxy")
    if not any(environ.get(name) for name in names):
        return False
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    return not any(bypasses(parts.hostname or "", entry) for entry in (item.strip() for item in no_proxy.split(","))
                   if entry)


def bypasses(host: str, entry: str) -> bool:
    """Whether a NO_PROXY entry (`*`, an address or CIDR, a domain and its subdomains, `.domain` for subdomains only)
    covers `host`."""
    if entry == "*":
        return True
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return host == entry or host.endswith("." + entry.lstrip("."))


def from_kubeconfig(path: str | None, context_name: str | None) -> dict | None:
    """The cluster and user of a context (the current one unless named); None for what this client does not cover."""
    if not path or yaml is None:
        return None
    with open(path, encoding="utf-8") as stream:
        try:
            config = yaml.safe_load(stream) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"kubeconfig {path}: {exc}") from None
    name = context_name or config.get("current-context")

    def entry(section: str, wanted: str) -> dict:
        for item in config.get(section) or []:
            if item.get("name") == wanted:
                return item.get(section[:-1]) or {}
        raise ValueError(f"kubeconfig {path}: no {section[:-1]} named {wanted!r}")

    context = entry("contexts", name)
    cluster, user = entry("clusters", context.get("cluster")), entry("users", context.get("user"))
    if set(user) - USER_KEYS or set(cluster) - CLUSTER_KEYS or (user.get("exec") or {}).get("interactiveMode") == "Always":
        return None
    folder = os.path.dirname(os.path.abspath(path))

    def local(key: str, where: dict):
        return os.path.join(folder, os.path.expanduser(where[key])) if where.get(key) else None

    found = {"server": cluster["server"], "insecure": bool(cluster.get("insecure-skip-tls-verify")),
             "ca_file": local("certificate-authority", cluster), "ca_data": cluster.get("certificate-authority-data"),
             "cert_file": local("client-certificate", user), "key_file": local("client-key", user),
             "cert_data": user.get("client-certificate-data"), "key_data": user.get("client-key-data"), "base": folder,
             "exec_config": next((item.get("extension") for item in cluster.get("extensions") or []
                                  if item.get("name") == EXEC_EXTENSION), None)}
    # one bearer credential, in the kubernetes client's and client-go's order: token, token file, exec plugin
    if user.get("token"):
        found["token"] = user["token"]
    elif user.get("tokenFile"):
        found["token_file"] = local("tokenFile", user)
    elif user.get("exec"):
        found["exec"] = user["exec"]
    return found


def exec_credential(found: dict) -> dict:
    """Run the kubeconfig's client-go exec credential plugin; its ExecCredential status (a token, or a client
    certificate and key). A plugin that fails, hangs or answers something else is a RuntimeError naming it."""
    spec = found["exec"]
    command = spec.get("command") or ""
    if not spec.get("apiVersion"):
        raise RuntimeError(f"the kubeconfig's exec credential plugin {command} has no apiVersion")
    if os.sep in command and not os.path.isabs(command) and found.get("base"):
        command = os.path.join(found["base"], command)  # client-go: relative to the kubeconfig's folder
    info = {"apiVersion": spec["apiVersion"], "kind": "ExecCredential", "spec": {"interactive": False}}
    if spec.get("provideClusterInfo"):
        info["spec"]["cluster"] = cluster_info(found)
    env = dict(os.environ, **{item["name"]: item["value"] for item in spec.get("env") or []},
               KUBERNETES_EXEC_INFO=json.dumps(info))
    named = f"the kubeconfig's credential plugin {command}"
    try:
        done = subprocess.run([command, *(spec.get("args") or [])], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=EXEC_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise RuntimeError(f"{named} was not found" + (f": {spec['installHint']}" if spec.get("installHint") else "")) \
            from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{named} did not answer within {EXEC_TIMEOUT_S} s") from None
    if done.returncode:
        raise RuntimeError(f"{named} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return credential_status(named, spec["apiVersion"], done.stdout)


def credential_status(named: str, api_version: str, output: str) -> dict:
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("kind") != "ExecCredential" or answer.get("apiVersion") != api_version:
        raise RuntimeError(f"{named} did not print an ExecCredential of {api_version}")
    status = answer.get("status") or {}
    if bool(status.get("clientCertificateData")) != bool(status.get("clientKeyData")):
        raise RuntimeError(f"{named} gave a client certificate without its key, or a key without its certificate")
    if not status.get("token") and not status.get("clientCertificateData"):
        raise RuntimeError(f"{named} gave neither a token nor a client certificate")
    return status


def cluster_info(found: dict) -> dict:
    """The ExecCredential's spec.cluster, for a plugin asking for it (provideClusterInfo)."""
    ca_data = found.get("ca_data")
    if not ca_data and found.get("ca_file"):
        with open(found["ca_file"], "rb") as stream:
            ca_data = base64.b64encode(stream.read()).decode("ascii")
    info = {"server": found["server"], "insecure-skip-tls-verify": bool(found.get("insecure"))}
    if ca_data:
        info["certificate-authority-data"] = ca_data
    if found.get("exec_config") is not None:
        info["config"] = found["exec_config"]
    return info


def tls_context(found: dict) -> ssl.SSLContext:
    ca_data = base64.b64decode(found["ca_data"]).decode("ascii") if found.get("ca_data") else None
    context = ssl.create_default_context(cafile=found.get("ca_file"), cadata=ca_data)
    if found.get("insecure"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert, key = found.get("cert_file"), found.get("key_file")
    if found.get("cert_data") or found.get("key_data"):
        with tempfile.TemporaryDirectory(prefix="aibang-kube-") as folder:
            cert, key = (os.path.join(folder, name) for name in ("cert.pem", "key.pem"))
            for path, data in ((cert, found.get("cert_data")), (key, found.get("key_data"))):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as stream:
                    stream.write(base64.b64decode(data or ""))
            context.load_cert_chain(cert, key)
        return context
    if cert:
        context.load_cert_chain(cert, key)
    return context


def clean_token(token: str | None) -> str | None:
    """A bearer token without the white space around it; None when empty. A token with a line break inside is a
    RuntimeError that does not show it (a header cannot carry it, and http.client's message would)."""
    token = (token or "").strip()
    if "\n" in token or "\r" in token:
        raise RuntimeError("the bearer token contains a line break")
    return token or None


def credentials(found: dict, https: bool) -> tuple:
    """(headers, TLS context or None, token) with the bearer token as found, read from its file, or from the exec
    plugin, stripped (clean_token)."""
    token = clean_token(found.get("token"))
    if not token and found.get("token_file"):
        with open(found["token_file"], encoding="utf-8") as stream:
            token = clean_token(stream.read())
    elif not token and found.get("exec"):
        status = exec_credential(found)
        token = clean_token(status.get("token"))
        if status.get("clientCertificateData"):
            found = dict(found, cert_data=base64.b64encode(status["clientCertificateData"].encode()).decode(),
                         key_data=base64.b64encode(status["clientKeyData"].encode()).decode())
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return headers, tls_context(found) if https else None, token


def body_of(raw: bytes, content_type: str | None):
    """An answer's body as the API server sent it, decoded once: JSON, unless the server says it is something else (a
    pod's log is text/plain, even a line that parses as JSON), which stays text (UTF-8, bytes that are not replaced);
    None when empty."""
    if not raw:
        return None
    media = (content_type or "").split(";")[0].strip().lower()
    if not media or media.endswith("json"):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode("utf-8", "replace")


def requester(found: dict):
    """request(method, path, query, body, content_type) -> (status, body_of the answer), over one kept-alive connection per
    thread; request.close() closes them all. A 401 to a token from a file or a plugin gets a new one, and one retry.
    request.secrets holds every token it has sent or will send (as found and as sent), for the caller's masking."""
    server = urllib.parse.urlsplit(found["server"])
    https = server.scheme == "https"
    refreshable = not found.get("token") and bool(found.get("token_file") or found.get("exec"))
    secrets = {found["token"]} if found.get("token") else set()
    headers, context, token = credentials(found, https)
    secrets.update({token} if token else set())
    state = {"generation": 0, "headers": headers, "context": context}
    lock, opened, mine = threading.Lock(), [], threading.local()

    def connection(fresh: bool):
        current = getattr(mine, "connection", None)
        if fresh or current is None or mine.generation != state["generation"]:
            if current is not None:
                current.close()
            if https:
                current = http.client.HTTPSConnection(server.hostname, server.port or 443, context=state["context"],
                                                      timeout=60)
            else:
                current = http.client.HTTPConnection(server.hostname, server.port or 80, timeout=60)
            mine.connection, mine.generation, mine.used = current, state["generation"], False
            with lock:
                opened.append(current)
        return current

    def send(method, url, payload, content_type):
        sent = dict(state["headers"], **({"Content-Type": content_type or "application/json"} if payload is not None else {}))
        for attempt in (1, 2):  # a kept-alive connection the server has closed is opened again, once
            current = connection(fresh=attempt == 2)
            try:
                current.request(method, url, body=payload, headers=sent)
                response = current.getresponse()
                mine.used = True
                return response.status, response.getheader("Content-Type"), response.read()
            except (ConnectionError, ssl.SSLEOFError):
                current.close()
                if attempt == 2 or not mine.used:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def refresh(seen: int):
        with lock:
            if state["generation"] == seen:  # another thread may have renewed it already
                state["headers"], state["context"], token = credentials(found, https)
                secrets.update({token} if token else set())
                state["generation"] += 1

    def request(method, path, query, body, content_type):
        url = server.path.rstrip("/") + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        payload = None if body is None else json.dumps(body).encode("utf-8")
        seen = state["generation"]
        status, answered_as, text = send(method, url, payload, content_type)
        if status == 401 and refreshable:
            refresh(seen)
            status, answered_as, text = send(method, url, payload, content_type)
        return status, body_of(text, answered_as)

    def close():
        with lock:
            for current in opened:
                current.close()
            opened.clear()

    request.close, request.secrets = close, secrets
    return request
