# -*- coding: utf-8 -*-
from __future__ import annotations

import copy
import json
from dataclasses import fields

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_config import Runtime, checksum, parse_runtime, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError, parse_policy

BASE = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14", "10.0.0.0/20"]},
}


def lines_of(config: str, prefix: str) -> list:
    return [line for line in config.splitlines() if line.startswith(prefix)]


def test_tier1_forwards_everything_to_tier2():
    config = render(parse_policy(BASE), "gke")
    assert "cache_peer 10.128.2.100 parent 3128 0 no-query no-digest default name=tier2" in config
    assert "never_direct allow all" in config
    assert "access_log stdio:/dev/stdout aibang_audit" in config
    assert access_lines(config)[-1] == "http_access deny all"


def test_tier2_never_forwards():
    config = render(parse_policy(BASE), "vm")
    assert "cache_peer" not in config
    assert "never_direct" not in config
    assert lines_of(config, "acl aibang_clients") == ["acl aibang_clients src 10.128.0.0/14", "acl aibang_clients src 10.0.0.0/20"]


def access_lines(config: str) -> list:
    """http_access lines without their trailing annotation ACL (bookkeeping for the audit log)."""
    return [line.rsplit(" ", 1)[0] for line in lines_of(config, "http_access")]


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_access_rules_deny_first_and_end_in_deny_all(tier):
    config = render(parse_policy(BASE), tier)
    assert access_lines(config) == [
        "http_access allow manager aibang_manager_clients",
        "http_access deny manager",
        "http_access deny !aibang_clients",
        "http_access deny !aibang_domains",
        "http_access deny aibang_denied_dst",
        "http_access allow aibang_connect aibang_tls_ports",
        "http_access deny all",
    ]


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_each_access_line_records_the_acl_that_decided(tier):
    config = render(parse_policy(BASE), tier)
    notes = dict(line.split()[1::2] for line in lines_of(config, "acl aibang_by_"))
    for line in lines_of(config, "http_access"):
        deciding, note_acl = line.split()[-2:]
        assert notes[note_acl] == f"aibang_acl={deciding}"


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_the_destination_guard_denies_every_default_range_by_resolved_address(tier):
    config = render(parse_policy(BASE), tier)
    assert lines_of(config, "acl aibang_denied_dst") == [
        f"acl aibang_denied_dst dst {cidr}" for cidr in (
            "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10",
            "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10",
            "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")
    ]


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_malformed_host_names_are_refused_as_the_request_is_parsed(tier):
    assert lines_of(render(parse_policy(BASE), tier), "check_hostnames") == ["check_hostnames on"]


def test_an_empty_denied_list_renders_no_guard():
    config = render(parse_policy(dict(BASE, denied_destinations=[])), "vm")
    assert "aibang_denied_dst" not in config


@pytest.mark.parametrize("runtime, sources", [
    (None, "127.0.0.1 ::1"),
    ({"listen_address": "10.128.2.100"}, "127.0.0.1 ::1 10.128.2.100"),
    ({"listen_address": "fd00::5"}, "127.0.0.1 ::1 fd00::5"),
])
def test_cache_manager_only_from_this_host(runtime, sources):
    config = render(parse_policy(BASE), "vm", parse_runtime(runtime, "vm"))
    assert lines_of(config, "acl aibang_manager_clients") == [f"acl aibang_manager_clients src {sources}"]
    assert access_lines(config)[:2] == ["http_access allow manager aibang_manager_clients", "http_access deny manager"]


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_domains_always_use_dash_n(tier):
    domain_lines = lines_of(render(parse_policy(BASE), tier), "acl aibang_domains")
    assert domain_lines == [
        "acl aibang_domains dstdomain -n .microsoft.com",
        "acl aibang_domains dstdomain -n login.microsoftonline.com",
    ]


def test_plain_http_and_business_hours():
    raw = copy.deepcopy(BASE)
    raw["allow_plain_http"] = True
    raw["allowed_ports"] = [443, 8443]
    raw["vm"]["business_hours"] = {"days": "MTWHF", "start": "08:00", "end": "18:00"}
    config = render(parse_policy(raw), "vm")
    assert "acl aibang_tls_ports port 443 8443" in config
    assert "acl aibang_http_ports port 80" in config
    assert "acl aibang_hours time MTWHF 08:00-18:00" in config
    assert access_lines(config) == [
        "http_access allow manager aibang_manager_clients",
        "http_access deny manager",
        "http_access deny !aibang_clients",
        "http_access deny !aibang_domains",
        "http_access deny aibang_denied_dst",
        "http_access deny !aibang_hours",
        "http_access allow aibang_connect aibang_tls_ports",
        "http_access allow !aibang_connect aibang_http_ports",
        "http_access deny all",
    ]
    assert "TZ=UTC" in config
    assert "aibang_hours" not in render(parse_policy(raw), "gke")


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_no_caching_no_leaks(tier):
    config = render(parse_policy(BASE), tier)
    for line in ("cache deny all", "forwarded_for delete", "via off", "httpd_suppress_version_string on", "pinger_enable off",
                 "logfile_rotate 0"):
        assert line in config.splitlines()


# A sample of what Squid writes for each format code (strings as the worst case a client can send, after %-encoding).
SAMPLE_OUTPUT = {"%{%Y-%m-%dT%H:%M:%SZ}tg": "2026-11-23T07:00:00Z", "%>a": "10.128.0.7", "%#rm": "CONNECT", "%#>rd": "a%22b%5C.com",
                 "%>rP": "-", "%>Hs": "000", "%Ss": "TCP_DENIED", "%#{aibang_acl}note": "!aibang_domains", "%Sh/%<a": "HIER_NONE/-",
                 "%st": "0", "%tr": "12"}


@pytest.mark.parametrize("tier", ["gke", "vm"])
def test_the_audit_log_is_one_json_object_per_line(tier):
    logformat = lines_of(render(parse_policy(BASE), tier), "logformat aibang_audit")[0].split(" ", 2)[2]
    line = logformat
    for code, value in sorted(SAMPLE_OUTPUT.items(), key=lambda item: -len(item[0])):
        line = line.replace(code, value)
    record = json.loads(line)
    assert set(record) == {"time", "policy", "tier", "client", "method", "host", "port", "status", "result", "acl", "peer", "bytes",
                           "duration_ms"}
    assert (record["tier"], record["policy"], record["acl"]) == (tier, "microsoft", "!aibang_domains")
    assert '"method":"%#rm"' in logformat and '"host":"%#>rd"' in logformat  # what a client sends is %-encoded by Squid


def test_runtime_settings():
    runtime = parse_runtime(
        {"listen_address": "127.0.0.2", "pid_filename": "/tmp/p.pid", "hosts_file": "/tmp/hosts", "tcp_outgoing_address": "127.0.0.3",
         "workers": 2, "visible_hostname": "lab-vm", "access_log": None},
        "vm",
    )
    config = render(parse_policy(BASE), "vm", runtime)
    for line in ("http_port 127.0.0.2:3128", "pid_filename /tmp/p.pid", "hosts_file /tmp/hosts", "tcp_outgoing_address 127.0.0.3",
                 "workers 2", "visible_hostname lab-vm", "access_log stdio:/var/log/squid/access.log aibang_audit"):
        assert line in config.splitlines()
    assert "http_port [::1]:3128" in render(parse_policy(BASE), "vm", parse_runtime({"listen_address": "::1"}, "vm"))


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"listen_address": "localhost"}, "runtime.listen_address"),
        ({"workers": 0}, "runtime.workers"),
        ({"shutdown_lifetime": -1}, "runtime.shutdown_lifetime"),
        ({"log_dir": "/tmp"}, "runtime.log_dir"),
        ("fast", "runtime"),
    ],
)
def test_runtime_rejects(raw, field):
    with pytest.raises(PolicyError) as caught:
        parse_runtime(raw, "vm")
    assert caught.value.field == field


STRING_SETTINGS = [item.name for item in fields(Runtime) if item.type in ("str", "str | None")]


@pytest.mark.parametrize("key", STRING_SETTINGS)
@pytest.mark.parametrize("suffix", ["\nhttp_access allow all", " http_access allow all", "%eth0", "\r"])
def test_runtime_strings_cannot_add_a_directive(key, suffix):
    value = ("fe80::1" if key.endswith("address") else "/run/s.pid") + suffix
    with pytest.raises(PolicyError) as caught:
        parse_runtime({key: value}, "vm")
    assert caught.value.field == f"runtime.{key}"


def test_every_string_setting_is_checked():
    assert set(STRING_SETTINGS) == {"listen_address", "visible_hostname", "pid_filename", "access_log", "cache_log",
                                    "coredump_dir", "hosts_file", "tcp_outgoing_address"}


def test_render_is_deterministic_and_checksum_tracks_content():
    first = render(parse_policy(BASE), "gke")
    assert first == render(parse_policy(copy.deepcopy(BASE)), "gke")
    changed = copy.deepcopy(BASE)
    changed["allowed_domains"].append("example.org")
    assert checksum(first) != checksum(render(parse_policy(changed), "gke"))
    assert len(checksum(first)) == 64
