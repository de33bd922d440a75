# -*- coding: utf-8 -*-
from __future__ import annotations

import copy

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import (
    PolicyError,
    config_word,
    normalize_domain,
    normalize_host,
    parse_domains,
    parse_policy,
)

BASE = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14"]},
}


def with_changes(path: str, value):
    policy = copy.deepcopy(BASE)
    *parents, key = path.split(".")
    target = policy
    for parent in parents:
        target = target[parent]
    target[key] = value
    return policy


def test_defaults():
    policy = parse_policy(BASE)
    assert policy.proxy_port == 3128
    assert policy.allowed_ports == (443,)
    assert policy.allow_plain_http is False
    assert policy.vm.business_hours is None
    assert policy.gke.domains is policy.vm.domains
    assert policy.warnings == ()


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("example.com", ("example.com", False)),
        (".example.com", ("example.com", True)),
        ("Example.COM", ("example.com", False)),
        ("example.com.", ("example.com", False)),
        ("  example.com ", ("example.com", False)),
        ("bücher.de", ("xn--bcher-kva.de", False)),
        (".bücher.de", ("xn--bcher-kva.de", True)),
        ("xn--bcher-kva.de", ("xn--bcher-kva.de", False)),
        ("localhost", ("localhost", False)),
        ("a-b.c-d.example", ("a-b.c-d.example", False)),
    ],
)
def test_normalize_domain(entry, expected):
    assert normalize_domain(entry, "f") == expected


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("*.example.com", "'.example.com'"),
        ("https://example.com", "URL"),
        ("example.com/path", "URL or a path"),
        ("example.com:443", "allowed_ports"),
        ("10.0.0.1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("2001:db8::1", "IP address"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("-bad.example.com", "not a valid domain name"),
        ("bad_.example.com", "not a valid domain name"),
        ("a..example.com", "not a valid domain name"),
        ("example.123", "numeric"),
        (".com", "top-level domain"),
        ("x" * 64 + ".com", "not a valid domain name"),
        (42, "string"),
        (None, "string"),
    ],
)
def test_normalize_domain_rejects(entry, problem):
    with pytest.raises(PolicyError) as caught:
        normalize_domain(entry, "policy.allowed_domains[3]")
    assert problem in str(caught.value)
    assert caught.value.field == "policy.allowed_domains[3]"
    assert repr(entry) in str(caught.value)


@pytest.mark.parametrize(
    "entries, exact, wildcard, warned",
    [
        (["a.com", "b.com"], {"a.com", "b.com"}, set(), 0),
        (["example.com", ".example.com"], set(), {"example.com"}, 1),
        ([".example.com", "example.com"], set(), {"example.com"}, 1),
        ([".example.com", "www.example.com", "a.b.example.com"], set(), {"example.com"}, 2),
        ([".example.com", ".sub.example.com"], set(), {"example.com"}, 1),
        ([".sub.example.com", "example.com"], {"example.com"}, {"sub.example.com"}, 0),
        (["a.com", "A.com"], {"a.com"}, set(), 2),
        (["notexample.com", ".example.com"], {"notexample.com"}, {"example.com"}, 0),
    ],
)
def test_parse_domains_drops_covered_entries(entries, exact, wildcard, warned):
    warnings = []
    domains = parse_domains(entries, "f", warnings)
    assert set(domains.exact) == exact
    assert set(domains.wildcard) == wildcard
    assert len(warnings) == warned


def test_entries_never_hold_a_name_twice_and_group_by_parent():
    domains = parse_domains(["b.example.com", ".other.org", "a.example.com", "example.net"], "f", [])
    assert domains.entries() == ["a.example.com", "b.example.com", "example.net", ".other.org"]


@pytest.mark.parametrize(
    "host, entry",
    [
        ("example.com", ".example.com"),
        ("a.b.example.com", ".example.com"),
        ("login.microsoftonline.com", "login.microsoftonline.com"),
        ("x.login.microsoftonline.com", None),
        ("notexample.com", None),
        ("com", None),
    ],
)
def test_domain_list_match(host, entry):
    domains = parse_domains([".example.com", "login.microsoftonline.com"], "f", [])
    assert domains.match(host) == entry


@pytest.mark.parametrize(
    "host, expected",
    [("LOGIN.Example.com.", "login.example.com"), ("[2001:db8::1]", "2001:db8::1"), ("bücher.de", "xn--bcher-kva.de")],
)
def test_normalize_host(host, expected):
    assert normalize_host(host) == expected


@pytest.mark.parametrize(
    "path, value, field, problem",
    [
        ("name", "Microsoft", "policy.name", "[a-z0-9-]+"),
        ("proxy_port", 0, "policy.proxy_port", "1 to 65535"),
        ("proxy_port", 70000, "policy.proxy_port", "1 to 65535"),
        ("proxy_port", True, "policy.proxy_port", "1 to 65535"),
        ("allowed_ports", [443, 99999], "policy.allowed_ports[1]", "1 to 65535"),
        ("allowed_ports", [], "policy.allowed_ports", "non-empty"),
        ("allow_plain_http", "yes", "policy.allow_plain_http", "true or false"),
        ("allowed_domains", [], "policy.allowed_domains", "non-empty"),
        ("allowed_domains", "example.com", "policy.allowed_domains", "non-empty list"),
        ("gke.client_cidrs", ["10.128.0.1/14"], "policy.gke.client_cidrs[0]", "host bits set"),
        ("gke.client_cidrs", ["10.128.0.0/33"], "policy.gke.client_cidrs[0]", "not a valid CIDR"),
        ("gke.client_cidrs", [], "policy.gke.client_cidrs", "non-empty"),
        ("gke.allowed_domains", ["*.x.com"], "policy.gke.allowed_domains[0]", "wildcard"),
        ("vm.address", "", "policy.vm.address", "IP address or host name"),
        ("vm.address", "not a host", "policy.vm.address", "one word"),
        ("vm.address", "bad_host.internal", "policy.vm.address", "not a valid domain name"),
        ("vm.business_hours", {"days": "MTX", "start": "08:00", "end": "18:00"}, "policy.vm.business_hours.days", "SMTWHFA"),
        ("vm.business_hours", {"days": "MTWHF", "start": "18:00", "end": "08:00"}, "policy.vm.business_hours.start", "before end"),
        ("vm.business_hours", {"days": "MTWHF", "start": "08:00", "end": "08:00"}, "policy.vm.business_hours.start", "before end"),
        ("vm.business_hours", {"days": "MTWHF", "start": "8:00", "end": "18:00"}, "policy.vm.business_hours.start", "HH:MM"),
        ("vm.business_hours", {"days": "MTWHF", "start": "08:00", "end": "24:00"}, "policy.vm.business_hours.end", "HH:MM"),
        ("vm.business_hours", {"days": "MTWHF", "start": "08:00", "end": "18:00", "timezone": "Mars/Base"},
         "policy.vm.business_hours.timezone", "IANA"),
        ("vm.business_hours", {"days": "M", "start": "08:00", "end": "18:00", "tz": "UTC"}, "policy.vm.business_hours.tz", "not a known key"),
        ("colour", "blue", "policy.colour", "not a known key"),
        ("gke.address", "10.0.0.1", "policy.gke.address", "not a known key"),
        ("vm", None, "policy.vm", "is required"),
        ("gke", ["10.0.0.0/8"], "policy.gke", "mapping"),
    ],
)
def test_invalid_policy_names_field_and_value(path, value, field, problem):
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_changes(path, value))
    assert caught.value.field == field
    assert problem in str(caught.value)


INJECTED = "\nalways_direct allow all"


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("vm.address", "fe80::1%eth0 " + INJECTED, "policy.vm.address"),
        ("vm.address", "fe80::1%eth0", "policy.vm.address"),
        ("vm.address", "10.128.2.100" + INJECTED, "policy.vm.address"),
        ("vm.address", "squid-vm" + INJECTED, "policy.vm.address"),
        ("vm.address", "squid-vm\n.internal", "policy.vm.address"),
        ("vm.address", "squid\u2028vm", "policy.vm.address"),
        ("name", "microsoft\n", "policy.name"),
        ("gke.client_cidrs", ["fe80::%eth0/64"], "policy.gke.client_cidrs[0]"),
        ("vm.client_cidrs", ["10.0.0.0/8" + INJECTED], "policy.vm.client_cidrs[0]"),
        ("allowed_domains", ["x.com\n.evil"], "policy.allowed_domains[0]"),
        ("vm.business_hours", {"days": "M", "start": "08:00\n", "end": "18:00"}, "policy.vm.business_hours.start"),
        ("vm.business_hours", {"days": "M", "start": "08:00", "end": "18:00", "timezone": "UTC" + INJECTED},
         "policy.vm.business_hours.timezone"),
    ],
)
def test_values_that_would_break_a_config_line_are_rejected(path, value, field):
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_changes(path, value))
    assert caught.value.field == field


@pytest.mark.parametrize("word", ["a b", "a\tb", "a\nb", "a\rb", "a%b", "a\x00b", "a\x85b", "a\u2028b", "a\u00a0b", "", None, 3])
def test_config_word_rejects_anything_but_one_word(word):
    with pytest.raises(PolicyError, match="one word"):
        config_word(word, "f", "a path")


def test_tier_override_and_business_hours():
    raw = with_changes("vm.business_hours", {"days": "FMW", "start": "08:00", "end": "18:30", "timezone": "Europe/London"})
    raw["gke"]["allowed_domains"] = ["Login.microsoftonline.com"]
    policy = parse_policy(raw)
    assert set(policy.gke.domains.exact) == {"login.microsoftonline.com"}
    assert set(policy.vm.domains.wildcard) == {"microsoft.com"}
    assert policy.vm.business_hours.squid_spec() == "MWF 08:00-18:30"
    assert any("policy.gke.allowed_domains[0]" in warning for warning in policy.warnings)


def test_ports_accept_digit_strings_and_deduplicate():
    policy = parse_policy(with_changes("allowed_ports", ["8443", 443, 443]))
    assert policy.allowed_ports == (443, 8443)


def test_vm_address_may_be_a_host_name_or_ipv6():
    assert parse_policy(with_changes("vm.address", "Squid-VM.internal.")).vm.address == "squid-vm.internal"
    assert parse_policy(with_changes("vm.address", "2001:DB8::1")).vm.address == "2001:db8::1"


def test_tier_lookup_rejects_unknown_tier():
    with pytest.raises(PolicyError, match="tier"):
        parse_policy(BASE).tier("edge")


def test_denied_destinations_default_covers_loopback_link_local_private_and_shared_ranges():
    assert [str(network) for network in parse_policy(BASE).denied_destinations] == [
        "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10",
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10", "64:ff9b::/96", "64:ff9b:1::/48",
        "2002::/16", "2001::/32",
    ]


@pytest.mark.parametrize(
    "value, kept, warned",
    [
        ([], [], "the destination guard is off"),
        (["203.0.113.0/24", "2001:db8::/32"], ["203.0.113.0/24", "2001:db8::/32"], None),
        (["10.0.0.0/8", "10.1.0.0/16"], ["10.0.0.0/8"], "'10.1.0.0/16' is covered by '10.0.0.0/8'; dropped"),
        (["10.1.0.0/16", "10.0.0.0/8"], ["10.0.0.0/8"], "'10.1.0.0/16' is covered by '10.0.0.0/8'; dropped"),
        (["10.0.0.0/8", "10.0.0.0/8"], ["10.0.0.0/8"], "[1]: '10.0.0.0/8' is covered by '10.0.0.0/8'"),
        (None, None, None),
    ],
)
def test_denied_destinations(value, kept, warned):
    policy = parse_policy(with_changes("denied_destinations", value))
    if kept is not None:
        assert [str(network) for network in policy.denied_destinations] == kept
    assert any(warned in warning for warning in policy.warnings) if warned else policy.warnings == ()


@pytest.mark.parametrize(
    "value, field, problem",
    [
        ("10.0.0.0/8", "policy.denied_destinations", "list of CIDR ranges"),
        (["10.0.0.1/8"], "policy.denied_destinations[0]", "host bits set"),
        (["metadata"], "policy.denied_destinations[0]", "not a valid CIDR"),
        (["10.0.0.0/8\nhttp_access allow all"], "policy.denied_destinations[0]", "one word"),
    ],
)
def test_denied_destinations_rejects(value, field, problem):
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_changes("denied_destinations", value))
    assert caught.value.field == field
    assert problem in str(caught.value)
