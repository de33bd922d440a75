# -*- coding: utf-8 -*-
"""Roles and playbooks read facts Python computed (the compiled policy) and ordinary variables: no template re-derives
what Python knows, and no play or role asks which environment it runs in."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[3]
SOURCES = sorted(path for folder in ("roles", "playbooks") for path in (ROOT / folder).rglob("*")
                 if path.suffix in (".yml", ".j2"))
FORBIDDEN = {
    "a default of the policy's port (the compiled policy has proxy_port)": re.compile(r"proxy_port\s*\|\s*default"),
    "an IP-literal test of the tier-2 address (the compiled policy has vm.address_is_ip)": re.compile(r"address is match"),
    "a checksum of a config (the compiled policy and the ConfigMap annotation carry it)": re.compile(r"squid\.conf.*hash\("),
    "a default time zone (the compiled policy has vm.timezone)": re.compile(r"timezone\s*\|\s*default"),
    "tier 1's pid path (the compiled policy has gke.runtime.pid_filename and gke.run_dir)": re.compile(r"/var/run/squid"),
    "a check of the lab environment (set what differs in inventories/local)": re.compile(r"platform_environment\s*[!=]=\s*'local'"),
}


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_role_or_playbook_re_derives(what):
    pattern = FORBIDDEN[what]
    found = [f"{path.relative_to(ROOT)}:{number}" for path in SOURCES
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not found, f"{what} in {', '.join(found)}"
