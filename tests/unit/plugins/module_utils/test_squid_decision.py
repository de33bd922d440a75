# -*- coding: utf-8 -*-
from __future__ import annotations

import copy
import datetime

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_decision import decide, decide_chain, parse_request
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy

RAW = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com"],
    "allowed_ports": [443, 8443],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {
        "address": "10.128.2.100",
        "client_cidrs": ["10.128.0.0/14"],
        "business_hours": {"days": "MTWHF", "start": "08:00", "end": "18:00", "timezone": "Europe/Berlin"},
    },
}
POLICY = parse_policy(RAW)
MONDAY_NOON = "2026-11-23T12:00:00"  # a Monday


def decision(tier, **request):
    request.setdefault("client", "10.128.0.10")
    return decide(POLICY, tier, parse_request(request, "requests[0]"))


@pytest.mark.parametrize(
    "request_, allowed, rule",
    [
        ({"host": "login.microsoftonline.com"}, True, "allow aibang_connect aibang_tls_ports"),
        ({"host": "LOGIN.microsoftonline.com."}, True, "allow aibang_connect aibang_tls_ports"),
        ({"host": "microsoft.com", "port": 8443}, True, "allow aibang_connect aibang_tls_ports"),
        ({"host": "a.b.microsoft.com"}, True, "allow aibang_connect aibang_tls_ports"),
        ({"host": "x.login.microsoftonline.com"}, False, "deny !aibang_domains"),
        ({"host": "notmicrosoft.com"}, False, "deny !aibang_domains"),
        ({"host": "20.190.160.1"}, False, "deny !aibang_domains"),
        ({"host": "[2001:db8::1]"}, False, "deny !aibang_domains"),
        ({"host": "microsoft.com", "port": 22}, False, "deny all"),
        ({"host": "microsoft.com", "method": "GET", "port": 80}, False, "deny all"),
        ({"host": "microsoft.com", "client": "10.132.0.1"}, False, "deny !aibang_clients"),
        ({"host": "microsoft.com", "client": "2001:db8::5"}, False, "deny !aibang_clients"),
    ],
)
def test_tier1_decisions(request_, allowed, rule):
    result = decision("gke", **request_)
    assert (result.allowed, result.rule) == (allowed, rule)


@pytest.mark.parametrize("host, problem", [
    ('a"b.microsoft.com', "has characters a host name cannot have"),
    ("a\\b.microsoft.com", "has characters a host name cannot have"),
    ("a\x01b.microsoft.com", "has characters a host name cannot have"),
    ("a b.microsoft.com", "has characters a host name cannot have"),
    ("a..microsoft.com", "has an empty label"),
    (".microsoft.com", "has an empty label"),
])
@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_a_malformed_host_under_an_allowed_wildcard_is_refused_before_the_access_rules(tier, host, problem):
    """check_hostnames on: Squid answers 400 while parsing, whoever the client (the client check comes later)."""
    result = decision(tier, host=host, client="192.0.2.1", at=MONDAY_NOON, resolves_to=["20.190.160.1"])
    assert (result.allowed, result.rule, result.destination_check) == (False, "check_hostnames", "not reached")
    assert result.reason.endswith(f"{problem}: Squid refuses it with 400 before the access rules")


@pytest.mark.parametrize("host", ["a_b.microsoft.com", "xn--bcher-kva.microsoft.com", "bücher.microsoft.com", "A-1.Microsoft.COM."])
def test_underscores_and_idna_names_are_well_formed(host):
    assert decision("gke", host=host, resolves_to=["20.190.160.1"]).allowed


def test_client_is_checked_before_the_domain():
    assert decision("gke", client="192.0.2.1", host="example.org").rule == "deny !aibang_clients"


def test_plain_http_only_to_port_80_when_allowed():
    raw = copy.deepcopy(RAW)
    raw["allow_plain_http"] = True
    policy = parse_policy(raw)
    get = parse_request({"client": "10.128.0.1", "host": "microsoft.com", "method": "get"}, "r")
    assert get.port == 80
    assert decide(policy, "gke", get).allowed
    to_8080 = parse_request({"client": "10.128.0.1", "host": "microsoft.com", "method": "GET", "port": 8080}, "r")
    assert decide(policy, "gke", to_8080).rule == "deny all"
    connect_80 = parse_request({"client": "10.128.0.1", "host": "microsoft.com", "port": 80}, "r")
    assert not decide(policy, "gke", connect_80).allowed


@pytest.mark.parametrize(
    "at, allowed",
    [
        (MONDAY_NOON, True),
        ("2026-11-23T07:59:59", False),
        ("2026-11-23T08:00:00", True),
        ("2026-11-23T18:00:59", True),  # Squid includes the whole end minute
        ("2026-11-23T18:01:00", False),
        ("2026-11-22T12:00:00", False),  # Sunday
        ("2026-11-27T12:00:00", True),  # Friday
        ("2026-11-28T12:00:00", False),  # Saturday
        ("2026-11-23T06:30:00+00:00", False),  # 07:30 in Berlin
        ("2026-11-23T07:30:00Z", True),  # 08:30 in Berlin
    ],
)
def test_business_hours_at_tier2(at, allowed):
    result = decision("vm", host="login.microsoftonline.com", at=at)
    assert result.allowed is allowed
    if not allowed:
        assert result.rule == "deny !aibang_hours"
        assert "outside business hours (MTWHF 08:00-18:00)" in result.reason


def test_business_hours_use_now_without_at():
    monday = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.timezone.utc)
    request = parse_request({"client": "10.128.0.1", "host": "microsoft.com"}, "r")
    assert decide(POLICY, "vm", request, now=monday).allowed
    assert not decide(POLICY, "vm", request, now=monday.replace(hour=22)).allowed


def test_tier1_ignores_business_hours():
    assert decision("gke", host="microsoft.com", at="2026-11-22T03:00:00").allowed


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"client": "pod-1", "host": "a.com"}, "requests[0].client"),
        ({"client": "10.0.0.1", "host": ""}, "requests[0].host"),
        ({"client": "10.0.0.1", "host": "a.com", "port": 0}, "requests[0].port"),
        ({"client": "10.0.0.1", "host": "a.com", "at": "monday"}, "requests[0].at"),
        ({"client": "10.0.0.1", "host": "a.com", "proto": "h2"}, "requests[0].proto"),
        ("10.0.0.1 a.com", "requests[0]"),
    ],
)
def test_invalid_requests(raw, field):
    with pytest.raises(PolicyError) as caught:
        parse_request(raw, "requests[0]")
    assert caught.value.field == field


def test_reasons_name_what_failed():
    assert "client 10.200.0.1 is not in gke.client_cidrs (10.128.0.0/14)" == decision("gke", client="10.200.0.1", host="a.com").reason
    assert "host example.org is not in the gke tier's allowed_domains" == decision("gke", host="example.org").reason
    assert "allowed_ports: [443, 8443]" in decision("gke", host="microsoft.com", port=22).reason


def test_chain_needs_both_tiers():
    request = parse_request({"client": "10.128.0.10", "host": "login.microsoftonline.com", "at": MONDAY_NOON}, "r")
    assert decide_chain(POLICY, request, "10.128.5.5").allowed
    tier2_refuses = decide_chain(POLICY, request, "192.0.2.9")
    assert not tier2_refuses.allowed and tier2_refuses.reason.startswith("tier 2: client 192.0.2.9")
    outside = parse_request({"client": "192.0.2.1", "host": "login.microsoftonline.com"}, "r")
    assert decide_chain(POLICY, outside, "10.128.5.5").rule == "gke: deny !aibang_clients"


# One address in each default denied range, and addresses outside all of them.
DEFAULT_RANGE_SAMPLES = [
    ("127.0.0.1", "127.0.0.0/8"), ("127.255.255.254", "127.0.0.0/8"), ("::1", "::1/128"),
    ("0.0.0.0", "0.0.0.0/8"), ("0.1.2.3", "0.0.0.0/8"), ("::", "::/128"),
    ("169.254.169.254", "169.254.0.0/16"), ("fe80::1", "fe80::/10"),
    ("10.0.0.1", "10.0.0.0/8"), ("10.128.2.100", "10.0.0.0/8"), ("172.16.0.1", "172.16.0.0/12"), ("172.31.255.255", "172.16.0.0/12"),
    ("192.168.1.1", "192.168.0.0/16"), ("fd20:ce::254", "fc00::/7"), ("fc00::1", "fc00::/7"), ("100.64.0.1", "100.64.0.0/10"),
    ("::ffff:10.1.2.3", "10.0.0.0/8"), ("::ffff:169.254.169.254", "169.254.0.0/16"),
    # NAT64: the metadata server and a public address behind a translator (a DNS64 resolver synthesises these)
    ("64:ff9b::a9fe:a9fe", "64:ff9b::/96"), ("64:ff9b::14be:a001", "64:ff9b::/96"), ("64:ff9b:1::a9fe:a9fe", "64:ff9b:1::/48"),
    ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48"),
    # 6to4 and Teredo: the metadata server's 6to4 network, a Teredo address (server 65.54.227.120, client obfuscated)
    ("2002:a9fe:a9fe::1", "2002::/16"), ("2002:a01:203::", "2002::/16"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/32"),
]


@pytest.mark.parametrize("tier", ["gke", "vm"])
@pytest.mark.parametrize("address, network", DEFAULT_RANGE_SAMPLES)
def test_default_guard_denies_every_range_at_both_tiers(tier, address, network):
    result = decision(tier, host="login.microsoftonline.com", at=MONDAY_NOON, resolves_to=["20.190.160.1", address])
    assert (result.allowed, result.rule, result.destination_check) == (False, "deny aibang_denied_dst", "denied")
    assert f"resolves to {address}, which is in denied_destinations ({network})" in result.reason


@pytest.mark.parametrize("address", ["20.190.160.1", "203.0.113.7", "2001:db8::1", "100.128.0.1", "172.32.0.1", "169.253.255.255",
                                     "fec0::1", "11.0.0.1", "::ffff:203.0.113.7", "1.0.0.0", "64:ff9b:2::1", "64:ff9a::a9fe:a9fe",
                                     "2001:4860:4860::8888", "2001:1::1", "2003::1"])
def test_public_addresses_pass_the_guard(address):
    result = decision("vm", host="login.microsoftonline.com", at=MONDAY_NOON, resolves_to=[address])
    assert (result.allowed, result.destination_check) == (True, "passed")


def test_without_resolves_to_the_guard_is_not_evaluated_and_says_so():
    result = decision("gke", host="login.microsoftonline.com")
    assert (result.allowed, result.destination_check) == (True, "not evaluated")
    assert "destination check not evaluated" in result.reason


def test_the_guard_comes_after_the_domain_check_and_before_business_hours():
    assert decision("vm", host="example.org", resolves_to=["10.0.0.1"]).destination_check == "not reached"
    night = decision("vm", host="microsoft.com", resolves_to=["10.0.0.1"], at="2026-11-22T03:00:00")
    assert night.rule == "deny aibang_denied_dst"
    raw_ip = decision("vm", host="10.0.0.1", resolves_to=["10.0.0.1"])
    assert raw_ip.rule == "deny !aibang_domains"


def test_an_empty_list_turns_the_guard_off():
    policy = parse_policy(dict(RAW, denied_destinations=[]))
    assert any("guard is off" in warning for warning in policy.warnings)
    request = parse_request({"client": "10.128.0.1", "host": "microsoft.com", "resolves_to": ["169.254.169.254"]}, "r")
    result = decide(policy, "gke", request)
    assert (result.allowed, result.destination_check) == (True, "off")


def test_a_policy_may_set_its_own_ranges():
    policy = parse_policy(dict(RAW, denied_destinations=["203.0.113.0/24"]))
    request = {"client": "10.128.0.1", "host": "microsoft.com"}
    assert decide(policy, "gke", parse_request(dict(request, resolves_to=["10.0.0.1"]), "r")).allowed
    assert decide(policy, "gke", parse_request(dict(request, resolves_to=["203.0.113.9"]), "r")).rule == "deny aibang_denied_dst"


def test_the_chain_checks_the_destination_at_tier1_first():
    request = parse_request({"client": "10.128.0.10", "host": "microsoft.com", "resolves_to": ["169.254.169.254"]}, "r")
    result = decide_chain(POLICY, request, "10.128.5.5")
    assert (result.allowed, result.rule, result.destination_check) == (False, "gke: deny aibang_denied_dst", "denied")
    assert result.reason.startswith("tier 1: host microsoft.com resolves to 169.254.169.254")


@pytest.mark.parametrize("resolves_to, field", [("10.0.0.1", "r.resolves_to"), (["10.0.0.1", "metadata"], "r.resolves_to[1]"),
                                                (["fe80::1%eth0"], "r.resolves_to[0]")])
def test_resolves_to_must_be_a_list_of_addresses(resolves_to, field):
    with pytest.raises(PolicyError) as caught:
        parse_request({"client": "10.0.0.1", "host": "a.com", "resolves_to": resolves_to}, "r")
    assert caught.value.field == field
