# -*- coding: utf-8 -*-
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import cluster_probe, k8s_job
from ansible_collections.aibang.gke_platform.plugins.module_utils.cluster_probe import ProbeError
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import parse_policy

POLICY_SOURCE = {
    "name": "microsoft", "proxy_port": 3128, "allowed_domains": ["login.microsoftonline.com", ".microsoft.com"],
    "gke": {"client_cidrs": ["10.244.128.0/24"]}, "vm": {"address": "10.0.2.100", "client_cidrs": ["10.244.0.0/16"]},
}
POLICY = parse_policy(POLICY_SOURCE)
SPEC = {"name": "egress-probe-1", "namespace": "egress-verify", "image": "probe:1", "proxy_url": "http://alias.local:3128",
        "proxy": {"namespace": "intra-proxy", "pod_labels": {"app.kubernetes.io/name": "squid-proxy"}, "port": 3128},
        "dns_names": ["alias.local"], "requests": [{"host": "login.microsoftonline.com", "port": 443}]}

# Stand-ins for the image's dig and curl: the script under test is the real one, run by the real sh.
FAKE_DIG = """#!/bin/sh
# called as: dig +short +time=2 +tries=2 NAME A
case "$4" in
  alias.local) printf 'squid-proxy-service.intra-proxy.svc.cluster.local.\\n10.96.0.7\\n' ;;
  target.local) echo 10.96.0.7 ;;
esac
"""
FAKE_CURL = """#!/bin/sh
for url; do :; done
echo "$HTTPS_PROXY $url $*" >> "$CALLS"
case "$url" in
  https://login.microsoftonline.com:443/) printf '200 000' ;;
  https://example.org:443/) printf '403 000'; echo 'curl: (56) CONNECT tunnel failed, response 403' >&2; exit 56 ;;
  http://login.microsoftonline.com:80/) printf '000 403' ;;
  https://revived.example:443/)  # tier 1 holds tier 2 for dead: 500 until its probe of tier 2 succeeds (third ask)
    echo x >> "$CALLS.revived"
    if [ "$(wc -l < "$CALLS.revived")" -lt 3 ]; then printf '500 000'; echo 'curl: (56) CONNECT tunnel failed, response 500' >&2; exit 56; fi
    printf '200 000' ;;
  https://dead.example:443/) printf '500 000'; echo 'curl: (56) CONNECT tunnel failed, response 500' >&2; exit 56 ;;
  *) printf '000 000'; echo 'curl: (7) Failed to connect to "proxy" port 3128' >&2; exit 7 ;;
esac
"""


def _install_tools(directory, dig: str, curl: str) -> None:
    """dig and curl stand-ins on the probe's PATH."""
    for name, text in (("dig", dig), ("curl", curl)):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)


@pytest.fixture(name="run_probe")
def fixture_run_probe(tmp_path):
    _install_tools(tmp_path, FAKE_DIG, FAKE_CURL)

    def run(args):
        env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POD_IP": "10.244.128.12", "HTTPS_PROXY": "http://alias.local:3128",
               "CALLS": str(tmp_path / "calls"), "PROBE_DNS_WAIT": os.environ.get("PROBE_DNS_WAIT", "60"),
               "PROBE_RETRY_WAIT": os.environ.get("PROBE_RETRY_WAIT", "15")}
        done = subprocess.run(["sh", "-c", cluster_probe.SCRIPT, "egress-probe", *args], env=env, capture_output=True, text=True,
                              check=False, timeout=30)
        calls = (tmp_path / "calls").read_text(encoding="utf-8") if os.path.exists(tmp_path / "calls") else ""
        return done, calls
    return run


def test_the_script_writes_one_json_line_per_check(run_probe):
    args = cluster_probe.probe_args(["alias.local", "target.local"], [
        {"host": "login.microsoftonline.com", "port": 443}, {"host": "example.org"}, {"host": "nowhere.example", "port": 8443},
        {"host": "login.microsoftonline.com", "method": "get"}])
    done, calls = run_probe(args)
    assert done.returncode == 0, done.stderr
    observed = cluster_probe.parse_log(done.stdout)
    assert observed["pod_ip"] == "10.244.128.12"
    assert observed["dns"] == {"alias.local": ["10.96.0.7"], "target.local": ["10.96.0.7"]}
    assert [(r["host"], r["port"], r["proxy_status"], r["http_status"], r["exit"]) for r in observed["requests"]] == [
        ("login.microsoftonline.com", 443, 200, 0, 0), ("example.org", 443, 403, 0, 56), ("nowhere.example", 8443, 0, 0, 7),
        ("login.microsoftonline.com", 80, 0, 403, 0)]
    assert "CONNECT tunnel failed, response 403" in observed["requests"][1]["error"]
    assert '"proxy"' not in observed["requests"][2]["error"]  # quotes are stripped so the line stays JSON
    # curl is given no proxy option: it takes the proxy from HTTPS_PROXY, as the apps' HTTP clients do
    assert "--proxy" not in calls and calls.count("http://alias.local:3128 ") == 4
    assert "-X GET http://login.microsoftonline.com:80/" in calls
    # the last line says the script ran to its end: the run stops reading there (the Job's annotation names it)
    assert done.stdout.splitlines()[-1] == cluster_probe.END and observed["complete"] is True
    job = cluster_probe.objects({**SPEC, "args": args})[-1]
    assert job["metadata"]["annotations"] == {k8s_job.LOG_ENDS_WITH: cluster_probe.END}


def test_a_5xx_of_the_proxy_is_asked_again_until_the_chain_answers(run_probe):
    done, calls = run_probe(cluster_probe.probe_args([], [{"host": "revived.example", "port": 443},
                                                          {"host": "example.org", "port": 443}]))
    revived, denied = cluster_probe.parse_log(done.stdout)["requests"]
    assert (revived["proxy_status"], revived["exit"], revived["tries"]) == (200, 0, 3), revived
    assert (denied["proxy_status"], denied["tries"]) == (403, 1), denied  # the policy's 403 is its answer: asked once
    assert calls.count("http://alias.local:3128 https://revived.example:443/") == 3


def test_a_5xx_that_stays_is_judged_after_the_wait_naming_the_tries(run_probe, monkeypatch):
    monkeypatch.setenv("PROBE_RETRY_WAIT", "1")
    done, _calls = run_probe(cluster_probe.probe_args([], [{"host": "dead.example", "port": 443}]))
    observed = cluster_probe.parse_log(done.stdout)
    answer = observed["requests"][0]
    assert answer["proxy_status"] == 500 and 2 <= answer["tries"] <= 3, answer
    policy = parse_policy({**POLICY_SOURCE, "allowed_domains": ["dead.example"]})
    _results, disagreements = cluster_probe.judge_chain(policy, [{"host": "dead.example", "port": 443}], observed, "10.244.128.7")
    assert disagreements[0].startswith(f"CONNECT dead.example:443 from pod 10.244.128.12 got 500 ({answer['tries']} tries), "
                                       "but the policy allows it: tier 2: CONNECT dead.example:443 matches"), disagreements


def test_same_waits_for_the_alias_and_reports_both(run_probe):
    done, _calls = run_probe(cluster_probe.probe_args([], [], {"alias.local": "target.local"}))
    assert cluster_probe.parse_log(done.stdout)["dns"] == {"alias.local": ["10.96.0.7"], "target.local": ["10.96.0.7"]}


def test_same_gives_up_after_the_wait(run_probe, monkeypatch):
    monkeypatch.setenv("PROBE_DNS_WAIT", "0")
    done, _calls = run_probe(["same", "missing.local", "target.local"])
    observed = cluster_probe.parse_log(done.stdout)
    assert observed["dns"] == {"missing.local": [], "target.local": ["10.96.0.7"]}
    assert cluster_probe.judge_dns({"missing.local": "target.local"}, observed)[1] == [
        "the alias missing.local resolves to nothing from the probe pod, its target target.local to ['10.96.0.7']"]


def test_a_name_that_does_not_resolve_gives_an_empty_list(run_probe):
    done, _calls = run_probe(["dns", "missing.local"])
    assert cluster_probe.parse_log(done.stdout)["dns"] == {"missing.local": []}


# Slow stand-ins: each curl takes a second and says when it ran; dig takes a second for the alias.
SLOW_CURL = """#!/bin/sh
for url; do :; done
echo "start curl $url $(date +%s.%N)" >> "$CALLS"
sleep 1
echo "end curl $url $(date +%s.%N)" >> "$CALLS"
case "$url" in
  https://example.org:443/) printf '403 000'; echo 'curl: (56) CONNECT tunnel failed, response 403' >&2; exit 56 ;;
  *) printf '200 000' ;;
esac
"""
SLOW_DIG = """#!/bin/sh
echo "start dig $4 $(date +%s.%N)" >> "$CALLS"
if [ "$4" = alias.local ]; then sleep 1; fi
echo 10.96.0.7
echo "end dig $4 $(date +%s.%N)" >> "$CALLS"
"""


@pytest.fixture(name="run_slow_probe")
def fixture_run_slow_probe(tmp_path):
    _install_tools(tmp_path, SLOW_DIG, SLOW_CURL)

    def run(args):
        env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POD_IP": "10.244.128.12", "HTTPS_PROXY": "http://alias.local:3128",
               "CALLS": str(tmp_path / "calls")}
        started = time.monotonic()
        done = subprocess.run(["sh", "-c", cluster_probe.SCRIPT, "egress-probe", *args], env=env, capture_output=True, text=True,
                              check=False, timeout=30)
        events = [line.split() for line in (tmp_path / "calls").read_text(encoding="utf-8").splitlines()]
        return done, time.monotonic() - started, [(what, tool, name, float(at)) for what, tool, name, at in events]
    return run


def test_the_requests_run_together_and_their_lines_keep_the_order_of_the_arguments(run_slow_probe):
    """Six requests of a second each take about one second, not six; each keeps its own answer and error, in order."""
    requests = [{"host": "login.microsoftonline.com"}, {"host": "example.org"}, {"host": "graph.microsoft.com"},
                {"host": "a.example"}, {"host": "b.example"}, {"host": "login.microsoftonline.com", "port": 8443}]
    done, seconds, events = run_slow_probe(cluster_probe.probe_args([], requests))
    assert done.returncode == 0, done.stderr
    assert seconds < 3, seconds  # one after another: 6 s at least
    starts = [at for what, _tool, _name, at in events if what == "start"]
    ends = [at for what, _tool, _name, at in events if what == "end"]
    assert len(starts) == 6 and max(starts) < min(ends)  # every request was under way before the first ended
    answers = cluster_probe.parse_log(done.stdout)["requests"]
    assert [(r["host"], r["port"], r["proxy_status"], r["exit"]) for r in answers] == [
        ("login.microsoftonline.com", 443, 200, 0), ("example.org", 443, 403, 56), ("graph.microsoft.com", 443, 200, 0),
        ("a.example", 443, 200, 0), ("b.example", 443, 200, 0), ("login.microsoftonline.com", 8443, 200, 0)]
    assert [bool(r["error"]) for r in answers] == [False, True, False, False, False, False]  # each its own error file
    assert done.stdout.splitlines()[0] == '{"check":"pod","ip":"10.244.128.12"}'


def test_no_request_goes_through_the_alias_before_it_answers_like_its_target(run_slow_probe):
    """The alias's check (a second here) ends before the first request starts: checks of one kind run together, the
    next kind after them."""
    args = cluster_probe.probe_args(["target.local"], [{"host": "login.microsoftonline.com"}, {"host": "example.org"}],
                                    {"alias.local": "target.local"})
    done, _seconds, events = run_slow_probe(args)
    assert done.returncode == 0, done.stderr
    last_dig = max(at for what, tool, _name, at in events if tool == "dig" and what == "end")
    first_curl = min(at for what, tool, _name, at in events if tool == "curl")
    assert last_dig <= first_curl, events
    observed = cluster_probe.parse_log(done.stdout)
    assert list(observed["dns"]) == ["alias.local", "target.local"] and len(observed["requests"]) == 2


def test_an_unknown_check_fails_after_the_lines_of_the_checks_before_it(run_slow_probe):
    done, _seconds, _events = run_slow_probe(["request", "CONNECT", "a.example", "443", "nonsense"])
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert '"check":"request"' in lines[1] and lines[2] == '{"check":"error","error":"unknown check"}'
    assert cluster_probe.END not in lines  # not run to its end: the run waits for the pod, which fails


# getent as musl's (Alpine, e.g. curl images): no ahostsv4 database, the hosts one tab-separated.
FAKE_MUSL_GETENT = """#!/bin/sh
case "$1 $2" in
  "hosts alias.local") printf '10.96.0.7\\talias.local\\n' ;;
  "hosts target.local") printf '10.96.0.7\\ttarget.local\\n' ;;
  ahostsv4*) echo "Unknown database: $1" >&2; exit 1 ;;
  *) exit 2 ;;
esac
"""


def test_without_dig_the_script_resolves_with_the_hosts_database_of_musl_getent(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("tr", "cut", "grep", "sort", "sed", "paste", "date", "sleep", "cat", "mktemp", "rm"):  # what the script runs, but dig
        (tools / tool).symlink_to(shutil.which(tool))
    (tools / "getent").write_text(FAKE_MUSL_GETENT, encoding="utf-8")
    (tools / "getent").chmod(0o755)
    done = subprocess.run(["/bin/sh", "-c", cluster_probe.SCRIPT, "egress-probe", "same", "alias.local", "target.local",
                           "dns", "missing.local"], env={"PATH": str(tools), "PROBE_DNS_WAIT": "0"},
                          capture_output=True, text=True, check=False, timeout=30)
    wanted = {"alias.local": ["10.96.0.7"], "target.local": ["10.96.0.7"], "missing.local": []}
    assert cluster_probe.parse_log(done.stdout)["dns"] == wanted, done.stdout + done.stderr


@pytest.mark.parametrize("requests, message", [
    ([], "requests: must be a non-empty list"),
    (["example.org"], "requests[0]: must be a mapping"),
    ([{"host": "a.example; rm -rf /"}], "requests[0].host: 'a.example; rm -rf /' is not a host name"),
    ([{"host": "a.example", "port": 70000}], "requests[0].port: 70000 is not a port number"),
    ([{"host": "a.example", "method": "GET /x"}], "requests[0].method: 'GET /X' is not an HTTP method"),
])
def test_bad_requests_are_refused_naming_the_entry(requests, message):
    with pytest.raises(ProbeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cluster_probe.normalized_requests(requests)


def test_a_bad_dns_name_is_refused():
    with pytest.raises(ProbeError, match=r"dns_names\[1\]: '\$\(id\)' is not a DNS name"):
        cluster_probe.probe_args(["ok.local", "$(id)"], [])


def test_a_dns_only_probe_reaches_dns_only():
    _namespace, policy, job = cluster_probe.objects({**SPEC, "requests": [], "proxy": None, "proxy_url": ""})
    assert len(policy["spec"]["egress"]) == 1 and policy["spec"]["egress"][0]["ports"][0]["port"] == 53
    assert not [e for e in job["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"].upper() in ("HTTPS_PROXY", "HTTP_PROXY")]


def test_objects_namespace_networkpolicy_and_job():
    namespace, policy, job = cluster_probe.objects({**SPEC, "scheduling": {
        "nodeSelector": {"pool": "real"}, "tolerations": [{"key": "real", "operator": "Exists"}]}})
    assert namespace["metadata"]["labels"]["aibang.io/apps"] == "true"
    assert policy["spec"]["egress"][1] == {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "intra-proxy"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "squid-proxy"}}}],
        "ports": [{"protocol": "TCP", "port": 3128}]}
    pod = job["spec"]["template"]["spec"]
    assert job["spec"]["backoffLimit"] == 0 and pod["restartPolicy"] == "Never"
    assert pod["nodeSelector"] == {"pool": "real"} and pod["tolerations"] == [{"key": "real", "operator": "Exists"}]
    container = pod["containers"][0]
    assert container["args"] == ["dns", "alias.local", "request", "CONNECT", "login.microsoftonline.com", "443"]
    assert {"name": "HTTPS_PROXY", "value": "http://alias.local:3128"} in container["env"]


@pytest.mark.parametrize("change, message", [
    ({"scheduling": {"hostNetwork": True}}, "scheduling.hostNetwork: not a scheduling field"),
    ({"dns_names": [], "requests": []}, "the probe has nothing to check"),
    ({"proxy_url": ""}, "proxy_url: requests go through HTTPS_PROXY"),
    ({"aliases": {"ok.local": "$(reboot)"}}, "aliases: '\\$\\(reboot\\)' is not a DNS name"),
])
def test_objects_refuse(change, message):
    with pytest.raises(ProbeError, match=message):
        cluster_probe.objects({**SPEC, **change})


@pytest.mark.parametrize("log, message", [
    ("not json", "probe log line 1 is not JSON"),
    ('{"check":"pod","ip":"10.0.0.1"}\n[1]', "probe log line 2 is not a probe record"),
    ('{"check":"error","error":"unknown check"}', "probe log line 1 is not a probe record"),
])
def test_parse_log_names_the_line(log, message):
    with pytest.raises(ProbeError, match=message):
        cluster_probe.parse_log(log)


def observed(*requests, dns=None, pod_ip="10.244.128.12"):
    return {"pod_ip": pod_ip, "dns": dns or {}, "requests": list(requests)}


def answer(host, port=443, proxy_status=200, method="CONNECT", http_status=0, exit_code=0):
    return {"check": "request", "method": method, "host": host, "port": port, "proxy_status": proxy_status,
            "http_status": http_status, "exit": exit_code, "error": ""}


@pytest.mark.parametrize("dns, ok, message", [
    ({"alias.local": ["10.96.0.7"], "target.local": ["10.96.0.7"]}, True, None),
    ({"alias.local": [], "target.local": ["10.96.0.7"]}, False, "the alias alias.local resolves to nothing from the probe pod"),
    ({"alias.local": ["10.96.0.8"], "target.local": ["10.96.0.7"]}, False, "resolves to ['10.96.0.8']"),
    ({"alias.local": [], "target.local": []}, False, "the target target.local does not resolve"),
])
def test_judge_dns(dns, ok, message):
    results, disagreements = cluster_probe.judge_dns({"alias.local": "target.local"}, observed(dns=dns))
    assert results[0]["ok"] is ok
    assert (disagreements[0] if disagreements else None) == message or message in disagreements[0]


@pytest.mark.parametrize("request_, seen, disagreement", [
    ({"host": "login.microsoftonline.com"}, answer("login.microsoftonline.com"), None),
    ({"host": "example.org"}, answer("example.org", proxy_status=403), None),
    ({"host": "example.org"}, answer("example.org", proxy_status=200),
     "CONNECT example.org:443 from pod 10.244.128.12 got 200, but the policy denies it: tier 1: host example.org"),
    ({"host": "graph.microsoft.com"}, answer("graph.microsoft.com", proxy_status=403),
     "CONNECT graph.microsoft.com:443 from pod 10.244.128.12 got 403, but the policy allows it"),
    ({"host": "login.microsoftonline.com", "port": 8443}, answer("login.microsoftonline.com", 8443, proxy_status=403), None),
    ({"host": "graph.microsoft.com"}, answer("graph.microsoft.com", proxy_status=0, exit_code=7),
     "CONNECT graph.microsoft.com:443 from pod 10.244.128.12: no answer from the proxy (curl exit 7"),
    ({"host": "login.microsoftonline.com", "method": "GET"},
     answer("login.microsoftonline.com", 80, proxy_status=0, method="GET", http_status=403), None),
    ({"host": "nowhere.microsoft.com"}, answer("graph.microsoft.com"), "CONNECT nowhere.microsoft.com:443: the probe log has no answer"),
])
def test_judge_chain_names_the_request_that_disagrees(request_, seen, disagreement):
    _results, disagreements = cluster_probe.judge_chain(POLICY, [request_], observed(seen), "10.244.0.5")
    assert (disagreements[0] if disagreements else None) == disagreement or disagreement in disagreements[0]


def test_judge_chain_tier2_sees_tier1():
    results, disagreements = cluster_probe.judge_chain(POLICY, [{"host": "login.microsoftonline.com"}],
                                                       observed(answer("login.microsoftonline.com", proxy_status=403)), "192.168.9.9")
    assert not disagreements and results[0]["expected"] is False and results[0]["reason"].startswith("tier 2: client 192.168.9.9")


def test_judge_chain_resolves_for_the_destination_guard(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 loopback.microsoft.com\n", encoding="utf-8")
    results, disagreements = cluster_probe.judge_chain(POLICY, [{"host": "loopback.microsoft.com"}],
                                                       observed(answer("loopback.microsoft.com", proxy_status=403)), "10.244.0.5", str(hosts))
    assert not disagreements and results[0]["resolves_to"] == ["127.0.0.1"] and "denied_destinations" in results[0]["reason"]


@pytest.mark.parametrize("pod_ip, tier2, message", [
    (None, "10.244.0.5", "does not name the pod's address"),
    ("10.244.128.12", "tier-one", "tier2_client: 'tier-one' is not an IP address"),
])
def test_judge_chain_refuses(pod_ip, tier2, message):
    with pytest.raises(ProbeError, match=message):
        cluster_probe.judge_chain(POLICY, [{"host": "example.org"}], observed(answer("example.org"), pod_ip=pod_ip), tier2)


def test_the_log_round_trips_through_json():
    line = json.dumps(answer("example.org", proxy_status=403))
    assert cluster_probe.parse_log(line + "\n\n")["requests"][0]["proxy_status"] == 403


@pytest.mark.parametrize("policy, expected", [
    ({"allowed_domains": ["login.microsoftonline.com", ".microsoft.com"], "allowed_ports": [443]},
     [("login.microsoftonline.com", 443), ("example.com", 443), ("login.microsoftonline.com", 8443)]),
    ({"allowed_domains": [".example.com"], "allowed_ports": [8443, 443]},
     [("example.com", 8443), ("example.net", 8443), ("example.com", 8444)]),
])
def test_default_requests_prove_an_allow_and_two_denials(policy, expected):
    requests = cluster_probe.default_requests(policy)
    assert [(r["host"], r["port"]) for r in requests] == expected
    decisions = [cluster_probe.predict(parse_policy({"name": "p", **policy, "gke": {"client_cidrs": ["10.0.0.0/8"]},
                                                     "vm": {"address": "10.1.0.1", "client_cidrs": ["10.0.0.0/8"]}}),
                                       cluster_probe.normalized_requests([r])[0], "10.0.0.5", "10.0.0.6", None)[0].allowed
                 for r in requests]
    assert decisions[0] is True and decisions[-2:] == [False, False]


def test_diagnose_names_a_refused_proxy_with_curls_exit_and_a_hint():
    observed = cluster_probe.parse_log("\n".join(json.dumps(line) for line in [
        {"check": "pod", "ip": "10.244.128.12"},
        {"check": "request", "method": "CONNECT", "host": "login.microsoftonline.com", "port": 443, "proxy_status": 0,
         "http_status": 0, "exit": 7, "error": "curl: (7) Failed to connect to alias.local port 3128: Connection refused"}]))
    layers = cluster_probe.diagnose_layers({"alias.local": "target.local"}, "http://alias.local:3128", observed, [], [])
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [("pod-dns", True), ("pod-proxy", False)]
    assert "no request got an answer from the proxy at http://alias.local:3128 (curl exit 7: curl: (7) Failed" in layers[1]["detail"]
    assert "tier1-pods layer" in layers[1]["detail"]


# Stand-ins for the app's database path: curl answers by URL, mariadb by the password it is given.
FAKE_DB_CURL = """#!/bin/sh
for url; do :; done
case "$url" in
  http://db.internal:3306/) printf '0.001200'; echo 'curl: (1) Received HTTP/0.9 when not allowed' >&2; exit 1 ;;
  http://10.9.9.9:3306/) printf '0.000000'; echo 'curl: (7) Failed to connect to 10.9.9.9 port 3306: Connection refused' >&2; exit 7 ;;
  */email) printf 'app-gsa@p.iam.gserviceaccount.com' ;;
  */token) printf '200' ;;
esac
"""
FAKE_MARIADB = """#!/bin/sh
echo "$MYSQL_PWD $*" >> "$CALLS"
[ "$MYSQL_PWD" = right ] && exit 0
echo "ERROR 1045 (28000): Access denied for user 'app'@'10.244.128.12' (using password: YES)" >&2
exit 1
"""
FAKE_DB_DIG = """#!/bin/sh
[ "$4" = db.internal ] && echo 10.20.0.5
"""


@pytest.fixture(name="run_db_probe")
def fixture_run_db_probe(tmp_path):
    for name, text in (("curl", FAKE_DB_CURL), ("mariadb", FAKE_MARIADB), ("dig", FAKE_DB_DIG)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / name).chmod(0o755)

    def run(password, host="db.internal"):
        env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POD_IP": "10.244.128.12", "CALLS": str(tmp_path / "calls"),
               "DB_HOST": host, "DB_PORT": "3306", "DB_USER": "app", "DB_NAME": "app", "DB_PASSWORD": password}
        args = cluster_probe.probe_args([], [], None, db=True, identity_url="http://169.254.169.254")
        done = subprocess.run(["sh", "-c", cluster_probe.SCRIPT, "egress-probe", *args], env=env, capture_output=True, text=True,
                              check=False, timeout=30)
        assert done.returncode == 0, done.stderr
        calls = (tmp_path / "calls").read_text(encoding="utf-8") if os.path.exists(tmp_path / "calls") else ""
        return cluster_probe.parse_log(done.stdout), calls
    return run


def test_the_db_path_of_a_healthy_app_is_walked_to_workload_identity(run_db_probe):
    observed, calls = run_db_probe("right")
    assert observed["tcp"]["connected"] is True and observed["mysql"]["exit"] == 0
    assert observed["identity"] == {"check": "identity", "email": "app-gsa@p.iam.gserviceaccount.com", "token_status": 200,
                                    "exit": 0, "error": ""}
    assert "-h db.internal -P 3306 -u app --ssl -e SELECT 1 app" in calls  # TLS, the app's user and database
    layers = cluster_probe.db_layers(observed, "sample", "app")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [
        ("db-dns", True), ("db-tcp", True), ("db-auth", True), ("workload-identity", True)]
    assert layers[0]["detail"] == "DB_HOST db.internal is 10.20.0.5 from a pod in the app's namespace"
    assert layers[3]["detail"] == "the pod of service account app gets tokens as app-gsa@p.iam.gserviceaccount.com"


def test_a_wrong_password_stops_at_db_auth_with_the_hint(run_db_probe):
    observed, _calls = run_db_probe("wrong")
    layers = cluster_probe.db_layers(observed, "sample", "app")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [("db-dns", True), ("db-tcp", True), ("db-auth", False)]
    assert "Access denied for user" in layers[2]["detail"] and "does not match the Cloud SQL user's password" in layers[2]["detail"]


def test_a_refused_endpoint_stops_at_db_tcp(run_db_probe):
    observed, _calls = run_db_probe("right", host="10.9.9.9")
    layers = cluster_probe.db_layers(observed, "sample", "app")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [("db-dns", True), ("db-tcp", False)]
    assert layers[0]["detail"] == "DB_HOST is an address (10.9.9.9), no name to resolve"
    assert "curl exit 7" in layers[1]["detail"] and "forwarding rule is not ACCEPTED" in layers[1]["detail"]


@pytest.mark.parametrize("identity, hint", [
    ({"email": "123-compute@developer.gserviceaccount.com", "token_status": 200, "exit": 0}, "annotate the Kubernetes service account"),
    ({"email": "", "token_status": 0, "exit": 7, "error": "Connection refused"}, "Workload Identity (GKE_METADATA) on the node pool"),
    ({"email": "app-gsa@p.iam.gserviceaccount.com", "token_status": 403, "exit": 0}, "roles/iam.workloadIdentityUser"),
    # Workload Identity on, the KSA not annotated: the metadata server answers as the pool, not as the app's GSA
    ({"email": "p.svc.id.goog", "token_status": 200, "exit": 0}, "iam.gke.io/gcp-service-account"),
])
def test_workload_identity_names_what_the_pod_got(identity, hint):
    observed = {"dns": {"db.internal": ["10.20.0.5"]}, "tcp": {"host": "db.internal", "port": 3306, "connected": True},
                "mysql": {"user": "app", "database": "app", "exit": 0}, "identity": identity}
    layers = cluster_probe.db_layers(observed, "sample", "app")
    assert layers[-1]["layer"] == "workload-identity" and not layers[-1]["ok"] and hint in layers[-1]["detail"], layers[-1]


def test_without_a_mysql_client_the_login_is_not_checked_and_the_walk_goes_on():
    observed = {"dns": {"db.internal": ["10.20.0.5"]}, "tcp": {"host": "db.internal", "port": 3306, "connected": True},
                "mysql": {"user": "app", "database": "app", "exit": -1, "error": "no mariadb or mysql client in the probe image"},
                "identity": None}
    layers = cluster_probe.db_layers(observed, "sample", "app")
    assert [(layer["layer"], layer["ok"]) for layer in layers] == [("db-dns", True), ("db-tcp", True), ("db-auth", True)]
    assert layers[2]["detail"] == "not checked: no mariadb or mysql client in the probe image"


def test_an_app_probe_gets_the_apps_egress_account_and_env_but_no_namespace():
    spec = {**SPEC, "requests": [], "proxy": None, "proxy_url": "", "dns_names": [], "db": True, "namespace": "apps", "as_app": True,
            "app_egress": [{"ports": [{"protocol": "TCP", "port": 3306}], "to": [{"ipBlock": {"cidr": "10.20.0.5/32"}}]}],
            "service_account": "app", "env_from": [{"configMapRef": {"name": "sample-db"}}, {"secretRef": {"name": "sample-db"}}]}
    policy, job = cluster_probe.objects(spec)
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["podSelector"] == {"matchLabels": cluster_probe.PROBE_LABELS}
    assert policy["spec"]["egress"] == spec["app_egress"]
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "app" and pod["containers"][0]["envFrom"] == spec["env_from"]
    assert pod["containers"][0]["args"] == ["db"]
    assert [item["kind"] for item in cluster_probe.objects({**spec, "app_egress": None})] == ["Job"]  # the app has no policy


@pytest.mark.parametrize("url", ["ftp://x", "http://169.254.169.254/computeMetadata", "http://a b"])
def test_a_bad_identity_url_is_refused(url):
    with pytest.raises(ProbeError, match="identity_url"):
        cluster_probe.probe_args([], [], None, identity_url=url)


# dig as a cluster whose DNS runs two replicas: the pod's resolver and the first replica answer the alias at once, the
# second (10.0.0.2) answers what STALE says for as many asks as STALE_ASKS (then like the first, unless STALE_ASKS is
# "always"): the replica whose kubelet has not yet updated its Corefile.
REPLICAS_DIG = """#!/bin/sh
case "$4" in @*) server=${4#@}; name=$5 ;; *) server=""; name=$4 ;; esac
echo "dig ${server:-resolver} $name" >> "$CALLS"
if [ "$server" = 10.0.0.2 ] && [ "$name" = alias.local ]; then
  echo x >> "$CALLS.stale"
  if [ "$STALE_ASKS" = always ] || [ "$(wc -l < "$CALLS.stale")" -le "$STALE_ASKS" ]; then
    [ -n "$STALE" ] && echo "$STALE"; exit 0
  fi
fi
case "$name" in alias.local|target.local) echo 10.96.0.7 ;; esac
"""


def run_same_with_replicas(tmp_path, stale: str, stale_asks: str, wait: str = "60"):
    dig = tmp_path / "dig"
    dig.write_text(REPLICAS_DIG, encoding="utf-8")
    dig.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POD_IP": "10.244.128.12", "CALLS": str(tmp_path / "calls"),
           "PROBE_DNS_WAIT": wait, "PROBE_DNS_SERVERS": "10.0.0.1 10.0.0.2", "STALE": stale, "STALE_ASKS": stale_asks}
    done = subprocess.run(["sh", "-c", cluster_probe.SCRIPT, "egress-probe", "same", "alias.local", "target.local"], env=env,
                          capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    return cluster_probe.parse_log(done.stdout), (tmp_path / "calls").read_text(encoding="utf-8")


def test_same_waits_until_every_dns_server_answers_the_alias_like_its_target(tmp_path):
    """One replica answering is not enough: the pod's next lookup may reach the other."""
    observed, calls = run_same_with_replicas(tmp_path, stale="", stale_asks="2")
    assert observed["dns"] == {"alias.local": ["10.96.0.7"], "target.local": ["10.96.0.7"]} and observed["dns_server"] == {}
    assert calls.count("dig 10.0.0.2 alias.local") == 3 and "dig 10.0.0.1 alias.local" in calls
    assert cluster_probe.judge_dns({"alias.local": "target.local"}, observed)[1] == []


def test_a_dns_server_still_answering_otherwise_at_the_end_fails_the_check_naming_it(tmp_path):
    observed, _calls = run_same_with_replicas(tmp_path, stale="10.96.0.99", stale_asks="always", wait="1")
    assert observed["dns"]["alias.local"] == ["10.96.0.99"] and observed["dns_server"] == {"alias.local": "10.0.0.2"}
    results, disagreements = cluster_probe.judge_dns({"alias.local": "target.local"}, observed)
    assert results[0]["ok"] is False and results[0]["server"] == "10.0.0.2"
    assert disagreements == ["the alias alias.local resolves to ['10.96.0.99'] at the DNS server 10.0.0.2 (one of the "
                             "replicas serving it) from the probe pod, its target target.local to ['10.96.0.7']"]


def test_the_dns_servers_reach_the_pod_and_must_be_addresses():
    args = cluster_probe.probe_args([], [], {"alias.local": "target.local"})
    job = cluster_probe.objects({**SPEC, "requests": [], "args": args, "dns_servers": ["10.0.0.1", "10.0.0.2"]})[-1]
    env = {item["name"]: item.get("value") for item in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PROBE_DNS_SERVERS"] == "10.0.0.1 10.0.0.2"
    with pytest.raises(cluster_probe.ProbeError, match=r"dns_servers\[1\]: '10.0.0.2; reboot' is not an IP address"):
        cluster_probe.objects({**SPEC, "requests": [], "dns_servers": ["10.0.0.1", "10.0.0.2; reboot"]})


def test_the_dns_replicas_are_the_ready_endpoints_of_the_services_slices():
    slices = [{"endpoints": [{"addresses": ["10.244.128.20"], "conditions": {"ready": True}},
                             {"addresses": ["10.244.128.9"], "conditions": {"ready": False}},  # not yet synced with the API
                             {"addresses": ["10.244.128.3"]}]},  # no conditions: ready, as the API reads it
              {"endpoints": [{"addresses": ["10.244.128.20"], "conditions": {"ready": True}}]},
              {}]  # a slice without endpoints has no "endpoints" key
    assert cluster_probe.ready_addresses(slices) == ["10.244.128.3", "10.244.128.20"]
    assert cluster_probe.ready_addresses([]) == []
