# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-cluster verification: a short-lived Job that looks at the egress chain the way an app pod does.

The Job's pod resolves names through the cluster's DNS and sends requests through ``HTTPS_PROXY`` (the egress alias),
then writes one JSON line per check to its log. ``objects`` renders what the play applies, ``parse_log`` reads the
log back, ``judge_dns`` and ``judge_chain`` compare what the pod saw with what should be (the alias answers like its
target; each request decided as ``squid_policy_check`` decides it for the whole chain).
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_job import LOG_ENDS_WITH
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import GUARD_NOT_EVALUATED, decide_chain, parse_request
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_probe import resolve

MANAGED_LABELS = {"app.kubernetes.io/managed-by": "aibang.gke_platform"}
PROBE_LABELS = {"app.kubernetes.io/name": "egress-probe", "app.kubernetes.io/component": "verification", **MANAGED_LABELS}
APPS_NAMESPACE_LABEL = "aibang.io/apps"
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})")
_METHOD = re.compile(r"[A-Z]{3,10}")
_URL = re.compile(r"http://[A-Za-z0-9.:-]+/?")

# POSIX sh in the probe image (curl, and dig or getent: glibc's ahostsv4, or the hosts database of musl's, as in
# Alpine-based curl images): the arguments are the checks, one JSON line each.
#   dns NAME                   the A records NAME resolves to through the pod's resolver (the cluster's DNS)
#   same ALIAS TARGET          both, once ALIAS answers like TARGET (or PROBE_DNS_WAIT seconds have passed), through
#                              the pod's resolver and, with dig, at each of PROBE_DNS_SERVERS (every replica of the DNS
#                              server that serves the alias; a line names the first one still answering otherwise)
#   request METHOD HOST PORT   CONNECT through HTTPS_PROXY (or a plain METHOD through HTTP_PROXY); the proxy's answer,
#                              asked again while it is a 5xx (for up to PROBE_RETRY_WAIT seconds)
#   db                         the app's database path from its own env (DB_HOST, DB_PORT, DB_USER, DB_NAME and the
#                              DB_PASSWORD of its Secret): the name's addresses, a TCP connection, a MySQL login over TLS
#                              (with the image's mariadb or mysql client, when it has one)
#   identity URL               the pod's Google identity from the metadata server at URL (Workload Identity): the
#                              service account's email and whether a token is handed out (the token is never printed)
# Consecutive checks of one kind run together (each its own curl or dig, in the background) and the next kind starts
# when they all ended: the aliases answer before a request goes through them. Each check's lines are written to a file
# of its own and printed in the order of the arguments, so the log reads as if they ran one after another.
SCRIPT = r"""
set -u
dir=$(mktemp -d 2>/dev/null) || { dir=/tmp/egress-probe.$$; mkdir -p "$dir"; }
clean() { tr -d '"\\' | tr '\n\t' '  ' | cut -c1-200; }
addresses() {
  if command -v dig >/dev/null 2>&1; then
    dig +short +time=2 +tries=2 ${2:+"@$2"} "$1" A 2>/dev/null
  else
    { getent ahostsv4 "$1" || getent hosts "$1"; } 2>/dev/null | sed 's/[[:space:]].*//'
  fi | grep -E '^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$' | sort -u
}
check_dns() {
  printf '{"check":"dns","name":"%s","addresses":[%s]}\n' "$1" "$(addresses "$1" | sed 's/.*/"&"/' | paste -sd, -)"
}
stale_server() {
  # the first of PROBE_DNS_SERVERS whose answer for $1 is not $2 (servers are asked only with dig)
  command -v dig >/dev/null 2>&1 || return 0
  for server in ${PROBE_DNS_SERVERS:-}; do
    if [ "$(addresses "$1" "$server")" != "$2" ]; then echo "$server"; return 0; fi
  done
}
check_same() {
  # the alias must answer like its target, at every server: wait (bounded) for the cluster's DNS to pick up a change
  end=$(( $(date +%s) + ${PROBE_DNS_WAIT:-60} ))
  while :; do
    alias=$(addresses "$1"); target=$(addresses "$2"); stale=""
    if [ -n "$target" ] && [ "$alias" = "$target" ]; then
      stale=$(stale_server "$1" "$target")
      if [ -z "$stale" ]; then break; fi
    fi
    if [ "$(date +%s)" -ge "$end" ]; then break; fi
    sleep 1
  done
  if [ -n "$stale" ]; then alias=$(addresses "$1" "$stale"); fi
  printf '{"check":"dns","name":"%s","addresses":[%s]%s}\n' "$1" "$(printf '%s\n' "$alias" | sed '/^$/d;s/.*/"&"/' | paste -sd, -)" \
    "${stale:+,\"server\":\"$stale\"}"
  printf '{"check":"dns","name":"%s","addresses":[%s]}\n' "$2" "$(printf '%s\n' "$target" | sed '/^$/d;s/.*/"&"/' | paste -sd, -)"
}
check_request() {
  if [ "$1" = CONNECT ]; then url="https://$2:$3/"; extra=""; field=1; else url="http://$2:$3/"; extra="-X $1"; field=2; fi
  # a 5xx of the proxy's own (tier 1 holding tier 2 for dead after a restart: 500) says the chain is not ready
  # yet, not what the policy decides: ask again, bounded by PROBE_RETRY_WAIT seconds
  end=$(( $(date +%s) + ${PROBE_RETRY_WAIT:-15} )); tries=0
  while :; do
    tries=$((tries + 1))
    # shellcheck disable=SC2086
    out=$(curl -sS -o /dev/null --max-time "${PROBE_TIMEOUT:-10}" -w '%{http_connect} %{http_code}' $extra "$url" 2>"$err")
    code=$?
    case "$(echo "${out:-000 000}" | cut -d' ' -f"$field")" in 5??) ;; *) break ;; esac
    if [ "$(date +%s)" -ge "$end" ]; then break; fi
    sleep 1
  done
  printf '{"check":"request","method":"%s","host":"%s","port":%s,"proxy_status":%s,"http_status":%s,"exit":%s,"tries":%s,"error":"%s"}\n' \
    "$1" "$2" "$3" "$(echo "${out:-000 000}" | cut -d' ' -f1 | sed 's/^0*//;s/^$/0/')" \
    "$(echo "${out:-000 000}" | cut -d' ' -f2 | sed 's/^0*//;s/^$/0/')" "$code" "$tries" "$(clean < "$err")"
}
check_db() {
  if printf '%s' "${DB_HOST:-}" | grep -qE '^[0-9.]+$'; then db_addresses="$DB_HOST"; else db_addresses=$(addresses "${DB_HOST:-}"); fi
  printf '{"check":"dns","name":"%s","addresses":[%s]}\n' "${DB_HOST:-}" "$(printf '%s\n' "$db_addresses" | sed '/^$/d;s/.*/"&"/' | paste -sd, -)"
  # a TCP connection: the server speaks first (MySQL's greeting), so curl's HTTP request ends at once, connected
  connect=$(curl -sS --noproxy '*' -o /dev/null --connect-timeout "${PROBE_TIMEOUT:-10}" --max-time "${PROBE_TIMEOUT:-10}" \
    -w '%{time_connect}' "http://${DB_HOST:-}:${DB_PORT:-3306}/" 2>"$err")
  code=$?
  printf '{"check":"tcp","host":"%s","port":%s,"connected":%s,"exit":%s,"error":"%s"}\n' "${DB_HOST:-}" "${DB_PORT:-3306}" \
    "$(if printf '%s' "$connect" | grep -q '[1-9]'; then echo true; else echo false; fi)" "$code" "$(clean < "$err")"
  client=$(command -v mariadb || command -v mysql || true)
  if [ -z "$client" ]; then
    printf '{"check":"mysql","user":"%s","database":"%s","exit":-1,"error":"no mariadb or mysql client in the probe image"}\n' \
      "${DB_USER:-}" "${DB_NAME:-}"
  else
    case "$client" in */mariadb) tls=--ssl ;; *) tls=--ssl-mode=REQUIRED ;; esac
    MYSQL_PWD="${DB_PASSWORD:-}" "$client" --connect-timeout="${PROBE_TIMEOUT:-10}" -h "${DB_HOST:-}" -P "${DB_PORT:-3306}" \
      -u "${DB_USER:-}" "$tls" -e 'SELECT 1' "${DB_NAME:-}" >/dev/null 2>"$err"
    code=$?
    printf '{"check":"mysql","user":"%s","database":"%s","exit":%s,"error":"%s"}\n' "${DB_USER:-}" "${DB_NAME:-}" "$code" \
      "$(clean < "$err")"
  fi
}
check_identity() {
  base="$1/computeMetadata/v1/instance/service-accounts/default"
  email=$(curl -sS --noproxy '*' --max-time "${PROBE_TIMEOUT:-10}" -H 'Metadata-Flavor: Google' "$base/email" 2>"$err")
  code=$?
  token=$(curl -s --noproxy '*' --max-time "${PROBE_TIMEOUT:-10}" -H 'Metadata-Flavor: Google' -o /dev/null -w '%{http_code}' \
    "$base/token" 2>/dev/null)
  printf '{"check":"identity","email":"%s","token_status":%s,"exit":%s,"error":"%s"}\n' "$(printf '%s' "$email" | clean)" \
    "$(echo "${token:-000}" | sed 's/^0*//;s/^$/0/')" "$code" "$(clean < "$err")"
}
# the checks of the running kind: started in the background, their lines printed in order once all ended
kind=""; pending=""; n=0
flush() {
  wait
  for i in $pending; do cat "$dir/$i.out"; done
  pending=""
}
start() {
  if [ "$1" != "$kind" ]; then flush; kind=$1; fi
  n=$((n + 1)); err="$dir/$n.err"; : > "$err"
  "check_$@" > "$dir/$n.out" &
  pending="$pending $n"
}
printf '{"check":"pod","ip":"%s"}\n' "${POD_IP:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    dns) start dns "$2"; shift 2 ;;
    same) start same "$2" "$3"; shift 3 ;;
    request) start request "$2" "$3" "$4"; shift 4 ;;
    db) start db; shift ;;
    identity) start identity "$2"; shift 2 ;;
    *) flush; printf '{"check":"error","error":"unknown check"}\n'; exit 2 ;;
  esac
done
flush
rm -rf "$dir"
printf '{"check":"end"}\n'
"""
# The probe's last line: the run reads the log while the pod runs and ends at this line (k8s_job.LOG_ENDS_WITH).
END = '{"check":"end"}'


class ProbeError(ValueError):
    """Bad input or an unreadable probe log: the message names the field or the line."""


def normalized_requests(requests: list, field: str = "requests") -> list:
    """The requests as the probe sends them: {method, host, port}; fails naming the entry that cannot be sent."""
    if not isinstance(requests, list) or not requests:
        raise ProbeError(f"{field}: must be a non-empty list of requests, got {requests!r}")
    result = []
    for index, raw in enumerate(requests):
        if not isinstance(raw, dict):
            raise ProbeError(f"{field}[{index}]: must be a mapping with host and port, got {raw!r}")
        method = str(raw.get("method") or "CONNECT").upper()
        host = str(raw.get("host") or "")
        port = raw.get("port") or (443 if method == "CONNECT" else 80)
        if not _HOST.fullmatch(host):
            raise ProbeError(f"{field}[{index}].host: {host!r} is not a host name or IP address")
        if not _METHOD.fullmatch(method):
            raise ProbeError(f"{field}[{index}].method: {method!r} is not an HTTP method")
        if not str(port).isdigit() or not 0 < int(port) < 65536:
            raise ProbeError(f"{field}[{index}].port: {port!r} is not a port number")
        result.append({"method": method, "host": host.lower(), "port": int(port)})
    return result


def default_requests(policy: dict) -> list:
    """Requests that show the policy works, for an environment that names none: each exact allowed name (at most three)
    on the first allowed port, a name outside the allow-list, an allowed name on a port that is not allowed."""
    domains = [str(entry) for entry in policy.get("allowed_domains") or []]
    ports = [int(port) for port in policy.get("allowed_ports") or [443]]
    allowed = [name for name in domains if not name.startswith(".")][:3] or [name.lstrip(".") for name in domains[:1]]
    denied = next(name for name in ("example.com", "example.net", "example.org")
                  if not any(name == entry.lstrip(".") or (entry.startswith(".") and name.endswith(entry)) for entry in domains))
    requests = [{"host": name, "port": ports[0]} for name in allowed] + [{"host": denied, "port": ports[0]}]
    if allowed:
        requests.append({"host": allowed[0], "port": next(port for port in (8443, 8444, 9443) if port not in ports)})
    return requests


def probe_args(dns_names: list, requests: list, aliases: dict | None = None, db: bool = False, identity_url: str = "") -> list:
    """The pod's arguments: the aliases (each waited for until it answers like its target), the DNS checks, the
    requests (each may be empty), then the app's database path (``db``) and its Google identity (``identity_url``)."""
    args = []
    for alias, target in sorted((aliases or {}).items()):
        for name in (alias, target):
            if not isinstance(name, str) or not _HOST.fullmatch(name):
                raise ProbeError(f"aliases: {name!r} is not a DNS name")
        args += ["same", alias.lower(), target.lower()]
    for index, name in enumerate(dns_names or []):
        if not isinstance(name, str) or not _HOST.fullmatch(name):
            raise ProbeError(f"dns_names[{index}]: {name!r} is not a DNS name")
        args += ["dns", name.lower()]
    for request in normalized_requests(requests) if requests else []:
        args += ["request", request["method"], request["host"], str(request["port"])]
    if db:
        args.append("db")
    if identity_url:
        if not _URL.fullmatch(identity_url):
            raise ProbeError(f"identity_url: {identity_url!r} is not an http URL without a path (e.g. http://169.254.169.254)")
        args += ["identity", identity_url.rstrip("/")]
    return args


def app_namespace_objects(namespace: str, egress: list) -> list:
    """In an app's own namespace (which exists): a NetworkPolicy for the probe pod only, with the app's egress rules,
    so the probe reaches what the app reaches and nothing more (an app without a NetworkPolicy of its own: none, the
    namespace's policies hold for the probe as for the app)."""
    return [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "egress-probe", "namespace": namespace, "labels": dict(MANAGED_LABELS)},
             "spec": {"podSelector": {"matchLabels": dict(PROBE_LABELS)}, "policyTypes": ["Ingress", "Egress"],
                      "ingress": [], "egress": list(egress)}}]


def namespace_objects(namespace: str, proxy: dict | None) -> list:
    """The probe's namespace, labelled like an app namespace, with the NetworkPolicy an app gets: DNS and the proxy only
    (DNS only without ``proxy``)."""
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    egress = [dns]
    if proxy:
        egress.append({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": proxy["namespace"]}},
                               "podSelector": {"matchLabels": dict(proxy["pod_labels"])}}],
                       "ports": [{"protocol": "TCP", "port": int(proxy["port"])}]})
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace, APPS_NAMESPACE_LABEL: "true",
                                                    **MANAGED_LABELS}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "egress-probe", "namespace": namespace, "labels": dict(MANAGED_LABELS)},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": egress}},
    ]


def objects(spec: dict) -> list:
    """Everything the play applies for one probe run: namespace, NetworkPolicy and the Job (see ``job``)."""
    args = probe_args(spec.get("dns_names") or [], spec.get("requests") or [], spec.get("aliases") or {},
                      bool(spec.get("db")), spec.get("identity_url") or "")
    if not args:
        raise ProbeError("aliases, dns_names, requests, db, identity_url: the probe has nothing to check")
    if spec.get("requests") and not spec.get("proxy_url"):
        raise ProbeError("proxy_url: requests go through HTTPS_PROXY, which needs the proxy's URL")
    if spec.get("as_app"):
        policy = app_namespace_objects(spec["namespace"], spec["app_egress"]) if spec.get("app_egress") is not None else []
        return [*policy, job({**spec, "args": args})]
    return [*namespace_objects(spec["namespace"], spec.get("proxy")), job({**spec, "args": args})]


def job(spec: dict) -> dict:
    """The probe Job: one pod, no retries, gone ten minutes after it ends.

    spec: name, namespace, image, args (probe_args), proxy_url, scheduling ({nodeSelector, tolerations, affinity}),
    timeout (seconds per request), dns_wait (seconds an alias may take to answer), dns_servers (addresses of every
    replica of the DNS server that serves the aliases, each asked for them; dig only), retry_wait (seconds a request is asked
    again while the proxy answers it with a 5xx), deadline (seconds for the Job);
    as an app: service_account (its Kubernetes service account, for Workload Identity) and env_from (its envFrom: the
    database ConfigMap and Secret)."""
    scheduling = spec.get("scheduling") or {}
    unknown = sorted(set(scheduling) - {"nodeSelector", "tolerations", "affinity"})
    if unknown:
        raise ProbeError(f"scheduling.{unknown[0]}: not a scheduling field (nodeSelector, tolerations, affinity)")
    proxy_env = [{"name": key, "value": spec["proxy_url"]} for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
                 if spec.get("proxy_url")]
    container = {
        "name": "probe", "image": spec["image"], "command": ["sh", "-c", SCRIPT, "egress-probe"], "args": list(spec["args"]),
        "env": [*proxy_env, {"name": "NO_PROXY", "value": ""}, {"name": "PROBE_TIMEOUT", "value": str(spec.get("timeout", 10))},
                {"name": "PROBE_DNS_WAIT", "value": str(spec.get("dns_wait", 60))},
                {"name": "PROBE_DNS_SERVERS", "value": " ".join(dns_servers(spec.get("dns_servers") or []))},
                {"name": "PROBE_RETRY_WAIT", "value": str(spec.get("retry_wait", 15))},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    if spec.get("env_from"):
        container["envFrom"] = list(spec["env_from"])
    pod_spec = {"restartPolicy": "Never", "automountServiceAccountToken": False, "enableServiceLinks": False,
                "terminationGracePeriodSeconds": 1, "containers": [container], **scheduling}
    if spec.get("service_account"):
        pod_spec["serviceAccountName"] = spec["service_account"]
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": spec["name"], "namespace": spec["namespace"], "labels": dict(PROBE_LABELS),
                     "annotations": {LOG_ENDS_WITH: END}},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": int(spec.get("deadline", 120)), "ttlSecondsAfterFinished": 600,
                 "template": {"metadata": {"labels": dict(PROBE_LABELS)}, "spec": pod_spec}},
    }


def dns_servers(addresses: list) -> list:
    """The DNS servers the alias check asks, each an IP address (checked: they end up on the probe's command line)."""
    if not isinstance(addresses, list):
        raise ProbeError(f"dns_servers: {addresses!r} is not a list of IP addresses")
    for index, address in enumerate(addresses):
        try:
            ipaddress.ip_address(str(address))
        except ValueError:
            raise ProbeError(f"dns_servers[{index}]: {address!r} is not an IP address") from None
    return [str(address) for address in addresses]


def ready_addresses(slices: list) -> list:
    """The addresses of a Service's ready endpoints from its EndpointSlices (discovery.k8s.io/v1), sorted, each once:
    the replicas of the cluster's DNS the alias check asks one by one."""
    found = set()
    for piece in slices or []:
        for endpoint in (piece or {}).get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is not False:
                found.update(endpoint.get("addresses") or [])
    return sorted(found, key=ipaddress.ip_address)


def parse_log(text: str) -> dict:
    """The probe's log as {pod_ip, dns: {name: [addresses]}, requests: [records]}; fails naming a line it cannot read."""
    result = {"pod_ip": None, "dns": {}, "dns_server": {}, "requests": [], "tcp": None, "mysql": None, "identity": None, "complete": False}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ProbeError(f"probe log line {number} is not JSON: {line[:200]!r}") from None
        check = record.get("check") if isinstance(record, dict) else None
        if check == "pod":
            result["pod_ip"] = record.get("ip") or None
        elif check == "dns":
            result["dns"][record["name"]] = list(record.get("addresses") or [])
            if record.get("server"):
                result["dns_server"][record["name"]] = record["server"]
        elif check == "request":
            result["requests"].append(record)
        elif check in ("tcp", "mysql", "identity"):
            result[check] = record
        elif check == "end":
            result["complete"] = True
        else:
            raise ProbeError(f"probe log line {number} is not a probe record: {line[:200]!r}")
    return result


def judge_dns(aliases: dict, observed: dict) -> tuple:
    """(results, disagreements): each alias must resolve, from the pod, to exactly the addresses its target does, at
    the pod's resolver and at each DNS server the probe was given (a server that answered otherwise is named)."""
    results, disagreements = [], []
    for alias, target in sorted((aliases or {}).items()):
        alias_answer = sorted(observed["dns"].get(alias.lower(), []))
        target_answer = sorted(observed["dns"].get(target.lower(), []))
        server = observed.get("dns_server", {}).get(alias.lower())
        ok = bool(target_answer) and alias_answer == target_answer and not server
        results.append({"alias": alias, "target": target, "alias_addresses": alias_answer,
                        "target_addresses": target_answer, "ok": ok, **({"server": server} if server else {})})
        at = f" at the DNS server {server} (one of the replicas serving it)" if server else ""
        if not target_answer:
            disagreements.append(f"the target {target} does not resolve from the probe pod")
        elif not ok:
            disagreements.append(f"the alias {alias} resolves to {alias_answer or 'nothing'}{at} from the probe pod, "
                                 f"its target {target} to {target_answer}")
    return results, disagreements


def judge_chain(policy, requests: list, observed: dict, tier2_client: str, hosts_file: str | None = None) -> tuple:
    """(results, disagreements): each request's answer from the proxy against the chain's decision for the probe pod."""
    sent = normalized_requests(requests)
    client = observed["pod_ip"]
    if not client:
        raise ProbeError("the probe log does not name the pod's address (POD_IP), so the policy cannot be asked")
    answers = {(r["method"], r["host"], int(r["port"])): r for r in observed["requests"]}
    results, disagreements = [], []
    for request in sent:
        key = (request["method"], request["host"], request["port"])
        label = f"{request['method']} {request['host']}:{request['port']}"
        answer = answers.get(key)
        if answer is None:
            disagreements.append(f"{label}: the probe log has no answer for it")
            continue
        decision, resolves_to = predict(policy, request, client, tier2_client, hosts_file)
        allowed = answered_allowed(answer)
        result = {"request": request, "client": client, "allowed": allowed, "expected": decision.allowed,
                  "reason": decision.reason, "rule": decision.rule, "resolves_to": resolves_to,
                  "proxy_status": answer.get("proxy_status"), "http_status": answer.get("http_status"),
                  "exit": answer.get("exit"), "error": answer.get("error", "")}
        results.append(result)
        if allowed is None:
            disagreements.append(f"{label} from pod {client}: no answer from the proxy (curl exit {answer.get('exit')}: "
                                 f"{answer.get('error') or 'no message'})")
        elif allowed != decision.allowed:
            verdict = "allows" if decision.allowed else "denies"
            tries = int(answer.get("tries") or 1)
            asked = f" ({tries} tries)" if tries > 1 else ""
            disagreements.append(f"{label} from pod {client} got {answer_status(answer)}{asked}, but the policy {verdict} it: "
                                 f"{decision.reason}")
    return results, disagreements


def diagnose_layers(aliases: dict, proxy_url: str, observed: dict, dns_disagreements: list, chain_disagreements: list) -> list:
    """The egress path as a pod walks it, one layer each ({layer, ok, detail}), with a hint where one is broken:
    pod-dns (each alias answers like its target through the cluster's DNS), pod-proxy (the proxy behind the alias
    answers at all), chain (each answer is the policy's). The walk stops at the first broken layer."""
    answered = [answer for answer in observed["requests"] if answered_allowed(answer) is not None]
    failures = sorted({f"curl exit {answer.get('exit')}: {answer.get('error') or 'no message'}" for answer in observed["requests"]
                       if answered_allowed(answer) is None})
    layers = [
        {"layer": "pod-dns", "ok": not dns_disagreements,
         "detail": ("from a pod, " + ", ".join(f"{alias} answers like {target}" for alias, target in sorted(aliases.items()))
                    if not dns_disagreements else
                    "; ".join(dns_disagreements) + ". Hint: the cluster's DNS does not serve the alias as the cluster_dns "
                    "stage wrote it (dns layer: the Corefile block or the kube-dns stub; CoreDNS reloads it within its "
                    "reload interval)")},
        {"layer": "pod-proxy", "ok": bool(answered),
         "detail": (f"the proxy at {proxy_url} answered {len(answered)} of {len(observed['requests'])} requests"
                    if answered else
                    f"no request got an answer from the proxy at {proxy_url} ({'; '.join(failures) or 'no request sent'}). "
                    "Hint: curl exit 7 is a refused connection (tier-1 pods not Ready or the Service without endpoints: "
                    "tier1-pods layer), 28 a timeout (a NetworkPolicy between the app namespace and tier 1, or the "
                    "alias pointing elsewhere)")},
        {"layer": "chain", "ok": not chain_disagreements,
         "detail": ("every request from the pod got the answer the policy gives for the whole chain"
                    if not chain_disagreements else
                    "; ".join(chain_disagreements) + ". Hint: compare the tier1-config and vm-config layers (the policy "
                    "each tier runs) and tier 2's audit log for the request")},
    ]
    broken = next((index for index, layer in enumerate(layers) if not layer["ok"]), len(layers))
    return layers[:broken + 1]


MYSQL_HINTS = (
    ("Access denied", "the app's Secret (DB_PASSWORD) does not match the Cloud SQL user's password (psc_producer_sql_users, "
                      "from vault): deploy the apps again with the vault password"),
    ("insecure transport", "Cloud SQL requires TLS: the client must connect with TLS"),
    ("Unknown database", "DB_NAME is not a database of the instance (psc_producer_sql_databases)"),
    ("SSL", "the TLS handshake failed: the client must accept the instance's certificate (Cloud SQL's server CA)"),
)


def db_layers(observed: dict, app: str, service_account: str = "") -> list:
    """The app's database path as its probe pod walked it, one layer each ({app, layer, ok, detail}), up to the first
    broken one, with a hint there: db-dns (the instance's name from DB_HOST), db-tcp (a connection to the PSC
    endpoint), db-auth (a MySQL login over TLS with the app's Secret), workload-identity (a token for the app's
    Kubernetes service account, when the probe asked the metadata server)."""
    tcp, mysql, identity = observed["tcp"] or {}, observed["mysql"] or {}, observed["identity"]
    host = str(tcp.get("host") or next(iter(observed["dns"]), ""))
    addresses = observed["dns"].get(host, [])
    auth_error = str(mysql.get("error") or "")
    layers = [
        ("db-dns", bool(host and addresses),
         (f"DB_HOST {host} is {', '.join(addresses)} from a pod in the app's namespace" if addresses != [host] else
          f"DB_HOST is an address ({host}), no name to resolve") if host and addresses else
         f"DB_HOST {host or '(empty)'} does not resolve from a pod in the app's namespace. Hint: the private DNS zone "
         "psc_consumer writes for the instance (psc-endpoint layer), and the app's ConfigMap <app>-db"),
        ("db-tcp", tcp.get("connected") is True,
         f"connected to {tcp.get('host')}:{tcp.get('port')} (the PSC endpoint)" if tcp.get("connected") else
         f"no TCP connection to {tcp.get('host')}:{tcp.get('port')} (curl exit {tcp.get('exit')}: {tcp.get('error') or 'no message'}). "
         "Hint: exit 7 (refused) - the endpoint's forwarding rule is not ACCEPTED or the instance is down (psc-endpoint, "
         "cloudsql layers); exit 28 (timeout) - the app's NetworkPolicy has no egress to that address and port, or a "
         "firewall rule drops it"),
        ("db-auth", mysql.get("exit") in (0, -1),
         (f"user {mysql.get('user')} logged in to {mysql.get('database')} over TLS with the app's Secret" if mysql.get("exit") == 0 else
          f"not checked: {auth_error}") if mysql.get("exit") in (0, -1) else
         f"MySQL refused user {mysql.get('user')} on {mysql.get('database')} (exit {mysql.get('exit')}: {auth_error}). Hint: "
         + next((hint for marker, hint in MYSQL_HINTS if marker in auth_error), "read the error above against the instance's users")),
    ]
    if identity is not None:
        email = str(identity.get("email") or "")
        bound = identity.get("exit") == 0 and identity.get("token_status") == 200 and email.endswith(".iam.gserviceaccount.com") \
            and "-compute@developer" not in email
        layers.append((
            "workload-identity", bound,
            f"the pod of service account {service_account} gets tokens as {email}" if bound else
            (f"the metadata server does not answer (curl exit {identity.get('exit')}: {identity.get('error') or 'no message'}). Hint: "
             "Workload Identity (GKE_METADATA) on the node pool, and the app's NetworkPolicy letting it reach 169.254.169.254"
             if identity.get("exit") != 0 else
             f"the pod of service account {service_account} is {email or 'no service account'} (token: HTTP "
             f"{identity.get('token_status')}). Hint: annotate the Kubernetes service account with "
             "iam.gke.io/gcp-service-account and grant roles/iam.workloadIdentityUser on that Google service account "
             "(the workload-identity layer of psc_consumer)"),
        ))
    walked = []
    for layer, ok, detail in layers:
        walked.append({"app": app, "layer": layer, "ok": ok, "detail": detail})
        if not ok:
            break
    return walked


def answered_allowed(answer: dict):
    """True: the proxy let it through; False: it refused (403, or any 4xx/5xx of the proxy); None: no proxy answer."""
    status = int(answer.get("proxy_status") or 0) if answer.get("method") == "CONNECT" else int(answer.get("http_status") or 0)
    if status == 0:
        return None
    if answer.get("method") == "CONNECT":
        return status == 200
    return status not in (403, 407) and status < 500


def answer_status(answer: dict) -> str:
    status = answer.get("proxy_status") if answer.get("method") == "CONNECT" else answer.get("http_status")
    return f"{status}"


def predict(policy, request: dict, client: str, tier2_client: str, hosts_file: str | None):
    """The chain's decision; the host is resolved (as Squid would, hosts_file first) only when the guard needs it."""
    as_seen = {"client": client, "host": request["host"], "port": request["port"], "method": request["method"]}
    try:
        ipaddress.ip_address(str(tier2_client))
    except ValueError:
        raise ProbeError(f"tier2_client: {tier2_client!r} is not an IP address") from None
    try:
        decision = decide_chain(policy, parse_request(as_seen, "request"), tier2_client)
        resolves_to = None
        if decision.destination_check == GUARD_NOT_EVALUATED:
            resolves_to = resolve(request["host"], hosts_file)
            if resolves_to is not None:
                decision = decide_chain(policy, parse_request({**as_seen, "resolves_to": resolves_to}, "request"), tier2_client)
    except PolicyError as exc:
        raise ProbeError(f"request {request['host']}:{request['port']}: {exc}") from None
    return decision, resolves_to
