# -*- coding: utf-8 -*-
"""Real Squid, both tiers chained, against the decisions of squid_policy_check: zero disagreements.

The target is in the lab's internet namespace (203.0.113.51); names that stand for internal hosts resolve to
loopback addresses or to addresses in that namespace (tests/testbed/internet.py), so a destination guard that failed
would connect into the namespace, never to a network this machine is on.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import decide, decide_chain, parse_request
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import DAY_LETTERS, DEFAULT_DENIED_DESTINATIONS, parse_policy
from tests.testbed import internet
from tests.testbed.squid_lab import (
    PROXY_PORT,
    TARGET_ADDRESS,
    TIER1_ADDRESS,
    TIER1_OUTGOING,
    TIER2_ADDRESS,
    InternetTarget,
    SquidLab,
    send_through,
)

pytestmark = pytest.mark.skipif(shutil.which("squid") is None, reason="squid is not installed (make setup installs it)")

# Unicode names as a policy may write them, and the punycode a client sends.
UNICODE = {"bücher.de": "xn--bcher-kva.de", "shop.bücher.de": "shop.xn--bcher-kva.de", "münchen.de": "xn--mnchen-3ya.de"}
NAMES = [
    "login.microsoftonline.com", "microsoftonline.com", "microsoft.com", "a.microsoft.com", "b.a.microsoft.com",
    "notmicrosoft.com", "example.org", "www.example.org", "github.com", "api.github.com", *UNICODE.values(),
]
# Names an allow-list may cover that resolve to internal addresses: one or more per default denied range.
INTERNAL = {
    "loopback.internal.microsoft.com": "127.0.0.1",
    "loopback6.internal.microsoft.com": "::1",
    "unspecified.internal.microsoft.com": "0.0.0.0",
    "unspecified6.internal.microsoft.com": "::",
    "link-local.internal.microsoft.com": "169.254.254.7",  # the metadata server's range
    "link-local6.internal.microsoft.com": "fe80::7",
    "private10.internal.microsoft.com": "10.254.254.7",
    "private172.internal.microsoft.com": "172.31.254.7",
    "private192.internal.microsoft.com": "192.168.254.7",
    "unique-local.internal.microsoft.com": "fdff:a1b::7",
    "shared.internal.microsoft.com": "100.127.254.7",
    "mapped.internal.microsoft.com": "::ffff:10.254.254.7",
    "nat64.internal.microsoft.com": "64:ff9b::a9fe:fe07",  # 169.254.254.7 behind a NAT64 translator
    "nat64-local.internal.microsoft.com": "64:ff9b:1::a9fe:fe07",
    "6to4.internal.microsoft.com": "2002:a9fe:fe07::7",  # 6to4 of 169.254.254.7
    "teredo.internal.microsoft.com": "2001:0:a9fe:fe07::7",
}
GENERATED_INTERNAL = ["link-local.internal.microsoft.com", "private10.internal.microsoft.com", "loopback.internal.microsoft.com"]
TIER2_DIRECT_CLIENT = "127.0.0.14"  # asks tier 2 directly in the range matrix
CLIENTS = [f"127.0.0.{last}" for last in (17, 20, 21, 25, 30, 40)]
CLIENT_RANGES = ["127.0.0.16/28", "127.0.0.20/32", "127.0.0.20/30", "127.0.0.24/29", "10.0.0.0/8"]
TIER2_RANGES = [f"{TIER1_OUTGOING}/32", "127.0.0.0/24", "127.0.0.14/31", "192.0.2.0/24"]
TZ_ENV = dict(os.environ, TZ="UTC")


@pytest.fixture(scope="module")
def lab():
    internet.up(list(internet.INTERNAL_ADDRESSES))
    try:
        with InternetTarget(), SquidLab(NAMES, elsewhere=INTERNAL) as squid_lab:
            yield squid_lab
    finally:
        internet.down(list(internet.INTERNAL_ADDRESSES))


def policy_entry(draw_name: str, wildcard: bool, shout: bool, dot: bool) -> str:
    unicode_form = {ascii_: text for text, ascii_ in UNICODE.items()}.get(draw_name, draw_name)
    entry = ("." if wildcard else "") + unicode_form
    return (entry.upper() if shout else entry) + ("." if dot else "")


domain_entries = st.lists(
    st.builds(policy_entry, st.sampled_from(NAMES + GENERATED_INTERNAL), st.booleans(), st.booleans(), st.booleans()),
    min_size=1, max_size=6,
)


def hours_around_now(now: datetime.datetime, inside: bool, today_listed: bool):
    """A business-hours window that holds ``now`` or misses it by 30 minutes; None too close to midnight."""
    minute = now.hour * 60 + now.minute
    if not 40 <= minute <= 1380:
        return None
    start, end = (minute - 30, minute + 30) if inside else (minute + 30, minute + 35)
    if not inside and end >= 1440:
        start, end = minute - 35, minute - 30
    today = DAY_LETTERS[(now.weekday() + 1) % 7]
    days = "".join(day for day in DAY_LETTERS if (day == today) == today_listed)[:5] or today
    return {"days": days, "start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}"}


@st.composite
def policies(draw):
    now = datetime.datetime.now(datetime.timezone.utc)
    policy = {
        "name": "lab",
        "allowed_domains": draw(domain_entries),
        "allowed_ports": draw(st.lists(st.sampled_from([443, 8443, 9443]), min_size=1, max_size=3)),
        "allow_plain_http": draw(st.booleans()),
        "gke": {"client_cidrs": draw(st.lists(st.sampled_from(CLIENT_RANGES), min_size=1, max_size=2, unique=True))},
        "vm": {"address": "placeholder", "client_cidrs": draw(st.lists(st.sampled_from(TIER2_RANGES), min_size=1, max_size=2, unique=True))},
    }
    if draw(st.booleans()):
        policy["gke"]["allowed_domains"] = draw(domain_entries)
    if draw(st.booleans()):
        policy["vm"]["allowed_domains"] = draw(domain_entries)
    if draw(st.booleans()):
        hours = hours_around_now(now, inside=draw(st.booleans()), today_listed=draw(st.booleans()))
        if hours:
            policy["vm"]["business_hours"] = hours
    return policy


request_hosts = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(GENERATED_INTERNAL),
    st.sampled_from(NAMES).map(str.upper),
    st.sampled_from(NAMES).map(lambda name: name + "."),
    st.just(TARGET_ADDRESS),
)
chain_requests = st.lists(
    st.one_of(
        st.fixed_dictionaries({"client": st.sampled_from(CLIENTS), "host": request_hosts,
                               "port": st.sampled_from([443, 8443, 9443]), "method": st.just("CONNECT")}),
        st.fixed_dictionaries({"client": st.sampled_from(CLIENTS), "host": request_hosts,
                               "port": st.sampled_from([80, 8080]), "method": st.sampled_from(["CONNECT", "GET", "POST"])}),
    ),
    min_size=4, max_size=12,
)


def expected_through_chain(lab: SquidLab, policy: dict, raw_request: dict) -> tuple:
    """squid_policy_check's answer for the chain, given what the lab's hosts_file says the host resolves to."""
    resolved = dict(raw_request, resolves_to=lab.resolves_to(raw_request["host"]))
    decision = decide_chain(parse_policy(policy), parse_request(resolved, "request"), TIER1_OUTGOING)
    return decision.allowed, decision.reason


def disagreements(lab: SquidLab, policy: dict, requests: list, env: dict | None = None) -> list:
    found = []
    with lab.chain(policy, env=env or TZ_ENV):
        for raw in requests:
            expected, reason = expected_through_chain(lab, policy, raw)
            status = send_through((TIER1_ADDRESS, PROXY_PORT), raw["client"], raw["host"], raw["port"], raw["method"])
            if status not in (200, 403) or (status == 200) != expected:
                found.append({"request": raw, "squid_status": status, "check_allowed": expected, "check_reason": reason})
    return found


@settings(max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), requests=chain_requests)
def test_generated_policies_agree_with_real_squid(lab, policy, requests):
    assert disagreements(lab, policy, requests) == [], f"policy: {policy}"


POLICY = {
    "name": "lab",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com", "a.microsoft.com", ".bücher.de", "MÜNCHEN.de."],
    "allowed_ports": [443, 8443],
    "allow_plain_http": True,
    "gke": {"client_cidrs": ["127.0.0.16/29", "127.0.0.20/30"]},
    "vm": {"address": "placeholder", "client_cidrs": [f"{TIER1_OUTGOING}/32"]},
}


@pytest.mark.parametrize(
    "host, port, method, client, allowed",
    [
        ("login.microsoftonline.com", 443, "CONNECT", "127.0.0.20", True),
        ("LOGIN.MicrosoftOnline.com.", 443, "CONNECT", "127.0.0.20", True),
        ("x.login.microsoftonline.com", 443, "CONNECT", "127.0.0.20", False),
        ("microsoftonline.com", 443, "CONNECT", "127.0.0.20", False),
        (TARGET_ADDRESS, 443, "CONNECT", "127.0.0.20", False),  # raw IP: dstdomain -n never reverse-resolves it
        ("::1", 443, "CONNECT", "127.0.0.20", False),
        ("b.a.microsoft.com", 8443, "CONNECT", "127.0.0.17", True),
        ("microsoft.com", 9443, "CONNECT", "127.0.0.20", False),  # wrong port
        ("microsoft.com", 80, "CONNECT", "127.0.0.20", False),
        ("microsoft.com", 80, "GET", "127.0.0.20", True),  # plain HTTP allowed, port 80 only
        ("microsoft.com", 8080, "GET", "127.0.0.20", False),
        ("shop.xn--bcher-kva.de", 443, "CONNECT", "127.0.0.20", True),
        ("xn--mnchen-3ya.de", 443, "CONNECT", "127.0.0.20", True),
        ("www.xn--mnchen-3ya.de", 443, "CONNECT", "127.0.0.20", False),
        ("microsoft.com", 443, "CONNECT", "127.0.0.40", False),  # client outside the pod range
        ("link-local.internal.microsoft.com", 443, "CONNECT", "127.0.0.20", False),  # allowed name, internal address
        ("mapped.internal.microsoft.com", 80, "GET", "127.0.0.20", False),
    ],
)
def test_edge_cases_through_the_chain(lab, host, port, method, client, allowed):
    raw = {"client": client, "host": host, "port": port, "method": method}
    assert expected_through_chain(lab, POLICY, raw)[0] is allowed
    assert disagreements(lab, POLICY, [raw]) == []


def test_tier2_denial_reaches_the_client_as_403(lab):
    policy = dict(POLICY, vm=dict(POLICY["vm"], client_cidrs=["192.0.2.0/24"]))
    raw = {"client": "127.0.0.20", "host": "login.microsoftonline.com", "port": 443, "method": "CONNECT"}
    assert expected_through_chain(lab, policy, raw) == (False, "tier 2: client 127.0.0.13 is not in vm.client_cidrs (192.0.2.0/24)")
    assert disagreements(lab, policy, [raw]) == []


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed (make setup installs it)")
@pytest.mark.parametrize(
    "clock, allowed",
    [
        ("2026-11-23 07:59:30", False),
        ("2026-11-23 08:00:00", True),
        ("2026-11-23 18:00:45", True),  # Squid's time ACL includes the whole end minute
        ("2026-11-23 18:01:05", False),
        ("2026-11-22 12:00:00", False),  # a Sunday
    ],
)
def test_business_hour_edges_under_a_fake_clock(lab, clock, allowed):
    """Squid runs under libfaketime, so its time ACL meets the edges of the window; the check gets the same time."""
    policy = dict(POLICY, vm=dict(POLICY["vm"], business_hours={"days": "MTWHF", "start": "08:00", "end": "18:00", "timezone": "Asia/Tokyo"}))
    env = dict(os.environ, TZ="Asia/Tokyo", FAKETIME=f"@{clock}", LD_PRELOAD=_libfaketime())
    raw = {"client": "127.0.0.20", "host": "login.microsoftonline.com", "port": 443, "method": "CONNECT", "at": clock.replace(" ", "T")}
    assert expected_through_chain(lab, policy, raw)[0] is allowed
    assert disagreements(lab, policy, [raw], env=env) == []


def _libfaketime() -> str:
    for path in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"):
        if os.path.exists(path):
            return path
    pytest.skip("libfaketime.so.1 not found")
    return ""


GUARD_POLICY = dict(POLICY, allowed_domains=[".microsoft.com"],
                    vm=dict(POLICY["vm"], client_cidrs=[f"{TIER1_OUTGOING}/32", f"{TIER2_DIRECT_CLIENT}/32"]))


def test_the_range_matrix_covers_every_default_range():
    policy = parse_policy(GUARD_POLICY)
    assert {str(policy.denied_range(ipaddress.ip_address(address))) for address in INTERNAL.values()} == set(DEFAULT_DENIED_DESTINATIONS)


def denied_by_the_guard(lab: SquidLab, tier: str, host: str, method: str, port: int) -> dict:
    """The audit record of the tier that denied."""
    record = lab.wait_for_audit(tier, lambda item: (item["host"], item["method"]) == (host, method))
    assert record, f"no {tier} audit record for {method} {host}: {lab.audit(tier)}"
    assert (record["port"], record["status"], record["acl"]) == (str(port), "403", "aibang_denied_dst")
    return record


class TestTheGuardDeniesEveryDefaultRange:
    """Every default range, at each tier, CONNECT and GET, against one running chain (one Squid start for the matrix).

    Tier 2 is asked directly from TIER2_DIRECT_CLIENT, so its records never look like something tier 1 forwarded."""

    @pytest.fixture(scope="class")
    def guard_lab(self, lab):
        with lab.chain(GUARD_POLICY, env=TZ_ENV):
            yield lab

    @pytest.mark.parametrize("method, port", [("CONNECT", 443), ("GET", 80)])
    @pytest.mark.parametrize("host", sorted(INTERNAL))
    def test_at_tier1(self, guard_lab, host, method, port):
        raw = {"client": "127.0.0.20", "host": host, "port": port, "method": method}
        decision = decide_chain(parse_policy(GUARD_POLICY), parse_request(dict(raw, resolves_to=[INTERNAL[host]]), "r"), TIER1_OUTGOING)
        assert (decision.allowed, decision.rule, decision.destination_check) == (False, "gke: deny aibang_denied_dst", "denied")
        assert send_through((TIER1_ADDRESS, PROXY_PORT), raw["client"], host, port, method) == 403
        denied_by_the_guard(guard_lab, "gke", host, method, port)
        # tier 1 resolved the name itself and never forwarded the request
        assert [record for record in guard_lab.audit("vm") if (record["host"], record["client"]) == (host, TIER1_OUTGOING)] == []

    @pytest.mark.parametrize("method, port", [("CONNECT", 443), ("GET", 80)])
    @pytest.mark.parametrize("host", sorted(INTERNAL))
    def test_at_tier2(self, guard_lab, host, method, port):
        """Tier 2 on its own, as when tier 1 runs an older policy or resolves the name elsewhere."""
        raw = {"client": TIER2_DIRECT_CLIENT, "host": host, "port": port, "method": method, "resolves_to": [INTERNAL[host]]}
        decision = decide(parse_policy(guard_lab.lab_policy(GUARD_POLICY)), "vm", parse_request(raw, "r"))
        assert (decision.allowed, decision.rule) == (False, "deny aibang_denied_dst")
        assert "which is in denied_destinations" in decision.reason
        assert send_through((TIER2_ADDRESS, PROXY_PORT), TIER2_DIRECT_CLIENT, host, port, method) == 403
        denied_by_the_guard(guard_lab, "vm", host, method, port)


@pytest.mark.parametrize("method, port", [("CONNECT", 443), ("GET", 80)])
def test_allowed_names_pass_the_guard_through_both_tiers_and_both_log_the_deciding_acl(lab, method, port):
    with lab.chain(GUARD_POLICY, env=TZ_ENV):
        assert send_through((TIER1_ADDRESS, PROXY_PORT), "127.0.0.20", "a.microsoft.com", port, method) == 200
        acl = "aibang_tls_ports" if method == "CONNECT" else "aibang_http_ports"
        for tier, client in (("gke", "127.0.0.20"), ("vm", TIER1_OUTGOING)):
            record = lab.wait_for_audit(tier, lambda item: item["host"] == "a.microsoft.com")
            assert record, f"no {tier} audit record: {lab.audit(tier)}"
            assert {key: record[key] for key in ("policy", "tier", "client", "method", "port", "status", "acl")} == {
                "policy": "lab", "tier": tier, "client": client, "method": method, "port": str(port), "status": "200", "acl": acl}
            assert isinstance(record["bytes"], int) and record["bytes"] > 0
            assert isinstance(record["duration_ms"], int)
            assert datetime.datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%SZ")


HOSTILE_REQUESTS = [
    b'CONNECT a"b.microsoft.com:443 HTTP/1.1\r\nHost: x\r\n\r\n',
    b'GET http://a"b.microsoft.com/ HTTP/1.1\r\nHost: a"b.microsoft.com\r\n\r\n',
    b'CONNECT a\\b.microsoft.com:443 HTTP/1.1\r\n\r\n',
    b'CONNECT a\x01b.microsoft.com:443 HTTP/1.1\r\n\r\n',
    b'CONNECT \xc3\xa4\xff.microsoft.com:443 HTTP/1.1\r\n\r\n',
    b'G"ET http://a.microsoft.com/ HTTP/1.1\r\n\r\n',
    b'garbage\r\n\r\n',
]


def test_hostile_hosts_and_methods_are_refused_and_cannot_break_the_json_audit_log(lab):
    """check_hostnames on: a host no DNS name can be (quote, backslash, control or raw non-ASCII bytes) is refused with
    400 while Squid parses the request, like a request line it cannot parse: before the access rules (acl '-'), before
    any DNS lookup, never forwarded. Without it, a"b.microsoft.com matched .microsoft.com, went to tier 2 and came
    back 503."""
    with lab.chain(GUARD_POLICY, env=TZ_ENV):
        statuses = [send_raw((TIER1_ADDRESS, PROXY_PORT), "127.0.0.20", request).split(b" ")[1] for request in HOSTILE_REQUESTS]
        records = wait_for_records(lab, "gke", len(HOSTILE_REQUESTS))  # every line parses as JSON, or this fails
        raw_log = lab.raw_audit("gke")
        forwarded = lab.requests("vm")
    assert statuses == [b"400"] * len(HOSTILE_REQUESTS)
    assert [(record["status"], record["acl"]) for record in records] == [("400", "-")] * len(HOSTILE_REQUESTS)
    assert forwarded == []
    for hostile in (b'a"b', b"a\\b", b"a\x01b", b"\xc3\xa4\xff", b'G"ET'):
        assert hostile not in raw_log  # logged %-encoded or not at all


@pytest.mark.parametrize("request_", [
    b"GET cache_object://login.microsoftonline.com:80/info HTTP/1.1\r\n\r\n",
    b"GET http://login.microsoftonline.com/squid-internal-mgr/info HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n",
    b"GET http://lab-gke:3128/squid-internal-mgr/info HTTP/1.1\r\nHost: lab-gke:3128\r\n\r\n",
])
def test_the_cache_manager_is_denied_even_through_an_allowed_name(lab, request_):
    with lab.chain(POLICY, env=TZ_ENV):  # allow_plain_http: true
        status = send_raw((TIER1_ADDRESS, PROXY_PORT), "127.0.0.20", request_).split(b" ")[1]
        record = lab.wait_for_audit("gke", lambda item: item["client"] == "127.0.0.20")
    assert status == b"403"
    assert (record["method"], record["status"], record["acl"]) == ("GET", "403", "manager")
    assert lab.requests("vm") == []  # never forwarded


def send_raw(proxy: tuple, client: str, request: bytes) -> bytes:
    """Send bytes as they are; return the status line."""
    with socket.create_connection(proxy, timeout=10, source_address=(client, 0)) as conn:
        conn.sendall(request)
        return conn.makefile("rb").readline()


def wait_for_records(lab: SquidLab, tier: str, count: int, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while len(lab.audit(tier)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return lab.audit(tier)
