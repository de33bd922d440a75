# -*- coding: utf-8 -*-
from __future__ import annotations

import dataclasses
import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import checksum, parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy_facts import compile_policy

POLICY = {
    "name": "microsoft",
    "allowed_domains": ["Login.MicrosoftOnline.com.", ".microsoft.com", "www.microsoft.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14", "10.0.0.0/20"]},
}
HOURS = {"days": "FMTWH", "start": "07:00", "end": "20:00", "timezone": "Europe/London"}


def with_vm(**vm) -> dict:
    return dict(POLICY, vm=dict(POLICY["vm"], **vm))


@pytest.mark.parametrize(
    "policy",
    [
        POLICY,
        with_vm(business_hours=HOURS),
        dict(POLICY, proxy_port="8080", allowed_ports=[8443, 443, 443], allow_plain_http=True),
        dict(POLICY, vm=dict(POLICY["vm"], allowed_domains=["login.microsoftonline.com"])),
        with_vm(address="Squid-VM.internal."),
        with_vm(address="fd00::0:1", client_cidrs=["fd00::/64"]),
    ],
    ids=["plain", "business-hours", "ports", "tier-override", "host-name", "ipv6"],
)
def test_normalised_policy_parses_to_the_same_policy_without_warnings(policy):
    compiled = compile_policy(policy)
    again = parse_policy(compiled["policy"])
    assert again == dataclasses.replace(parse_policy(policy), warnings=())
    assert again.warnings == ()


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_each_tier_carries_the_config_the_renderer_writes_and_its_checksum(tier):
    compiled = compile_policy(POLICY)
    config = render(parse_policy(POLICY), tier, parse_runtime(None, tier))
    assert compiled[tier]["config"] == config
    assert compiled[tier]["checksum"] == checksum(config)


@pytest.mark.parametrize(
    "vm, address, is_ip, cidr",
    [
        ({}, "10.128.2.100", True, "10.128.2.100/32"),
        ({"address": "fd00::0:1"}, "fd00::1", True, "fd00::1/128"),
        ({"address": "Squid-VM.internal."}, "squid-vm.internal", False, None),
    ],
)
def test_tier_two_address_is_normalised_and_says_whether_it_is_an_ip(vm, address, is_ip, cidr):
    facts = compile_policy(with_vm(**vm))["vm"]
    assert (facts["address"], facts["address_is_ip"], facts["address_cidr"]) == (address, is_ip, cidr)


@pytest.mark.parametrize(
    "vm, timezone, hours",
    [
        ({}, "UTC", None),
        ({"business_hours": HOURS}, "Europe/London", {"days": "MTWHF", "start": "07:00", "end": "20:00", "timezone": "Europe/London"}),
        ({"business_hours": {"days": "A", "start": "10:00", "end": "12:00"}}, "UTC",
         {"days": "A", "start": "10:00", "end": "12:00", "timezone": "UTC"}),
    ],
)
def test_time_zone_comes_from_business_hours_else_utc(vm, timezone, hours):
    facts = compile_policy(with_vm(**vm))["vm"]
    assert (facts["timezone"], facts["business_hours"]) == (timezone, hours)


def test_port_ranges_and_domains_are_facts():
    compiled = compile_policy(dict(POLICY, proxy_port=8080))
    assert compiled["proxy_port"] == 8080
    assert compiled["gke"]["client_cidrs"] == ["10.128.0.0/14"]
    assert compiled["vm"]["client_cidrs"] == ["10.128.0.0/14", "10.0.0.0/20"]
    assert compiled["gke"]["allowed_domains"] == [".microsoft.com", "login.microsoftonline.com"]
    assert any("www.microsoft.com" in warning for warning in compiled["warnings"])


@pytest.mark.parametrize(
    "runtimes, tier, pid, run_dir",
    [
        ({}, "gke", "/var/run/squid/squid.pid", "/var/run/squid"),
        ({}, "vm", "/run/squid.pid", "/run"),
        ({"vm": {"pid_filename": "/run/aibang/tier2.pid"}}, "vm", "/run/aibang/tier2.pid", "/run/aibang"),
    ],
)
def test_runtime_paths_per_tier(runtimes, tier, pid, run_dir):
    facts = compile_policy(POLICY, runtimes)[tier]
    assert (facts["runtime"]["pid_filename"], facts["run_dir"]) == (pid, run_dir)
    assert f"pid_filename {pid}\n" in facts["config"]


def test_the_result_is_plain_data():
    compiled = compile_policy(with_vm(business_hours=HOURS))
    assert json.loads(json.dumps(compiled)) == compiled


def test_unknown_keys_of_a_newer_model_pass_through_as_given():
    raw = dict(POLICY, gke=dict(POLICY["gke"]))
    normalised = compile_policy(raw)["policy"]
    assert normalised["gke"] == {"client_cidrs": ["10.128.0.0/14"]}
    assert normalised["vm"]["address"] == "10.128.2.100"


@pytest.mark.parametrize(
    "policy, runtimes, field",
    [
        (dict(POLICY, allowed_domains=["*.microsoft.com"]), {}, "policy.allowed_domains[0]"),
        (with_vm(address=""), {}, "policy.vm.address"),
        (POLICY, {"edge": {}}, "runtime.edge"),
        (POLICY, {"vm": {"listen_address": "not-an-ip"}}, "runtime.vm.listen_address"),
    ],
)
def test_invalid_input_names_the_field(policy, runtimes, field):
    with pytest.raises(PolicyError) as error:
        compile_policy(policy, runtimes)
    assert error.value.field == field
