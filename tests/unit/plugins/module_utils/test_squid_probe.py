# -*- coding: utf-8 -*-
from __future__ import annotations

import socket

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_probe import ProbeError, resolve

HOSTS = """\
# the lab's names
203.0.113.50 login.microsoftonline.com graph.microsoft.com  # trailing comment
169.254.169.254 metadata.example.net
203.0.113.50 Mixed.Example.NET
10.0.0.7 mixed.example.net
"""


def no_dns(*_args, **_kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def answers(*addresses):
    return lambda *_args, **_kwargs: [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))
                                      for address in addresses]


@pytest.fixture(name="hosts_file")
def fixture_hosts_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(HOSTS, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "host, expected",
    [
        ("login.microsoftonline.com", ["203.0.113.50"]),
        ("GRAPH.microsoft.com.", ["203.0.113.50"]),
        ("metadata.example.net", ["169.254.169.254"]),
        ("mixed.example.net", ["10.0.0.7"]),  # the last line that names it: Squid keeps one address per name
    ],
)
def test_hosts_file_first(hosts_file, host, expected):
    assert resolve(host, hosts_file, getaddrinfo=no_dns) == expected


def test_names_missing_from_the_file_go_to_the_resolver(hosts_file):
    assert resolve("example.org", hosts_file, getaddrinfo=answers("93.184.215.14", "2606:2800:21f:cb07::1", "93.184.215.14")) == [
        "93.184.215.14", "2606:2800:21f:cb07::1"]
    assert resolve("link.example", None, getaddrinfo=answers("fe80::1%eth0")) == ["fe80::1"]


def test_a_name_that_does_not_resolve_is_none(hosts_file):
    assert resolve("nowhere.invalid", hosts_file, getaddrinfo=no_dns) is None


def test_an_unreadable_hosts_file_fails_naming_it(tmp_path):
    with pytest.raises(ProbeError, match="hosts_file"):
        resolve("a.com", str(tmp_path / "missing"), getaddrinfo=no_dns)
