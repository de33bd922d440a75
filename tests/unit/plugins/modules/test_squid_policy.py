# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy

POLICY = {
    "name": "microsoft",
    "allowed_domains": ["login.microsoftonline.com", ".microsoft.com", "www.microsoft.com"],
    "gke": {"client_cidrs": ["10.128.0.0/14"]},
    "vm": {"address": "10.128.2.100", "client_cidrs": ["10.128.0.0/14"]},
}


def test_returns_config_checksum_and_warnings(run_module):
    result = run_module(squid_policy, {"policy": POLICY, "tier": "gke"})
    assert result["changed"] is False
    assert "cache_peer 10.128.2.100 parent" in result["config"]
    assert len(result["checksum"]) == 64
    assert any("www.microsoft.com" in str(warning) for warning in result["warnings"])


def test_check_mode_then_apply_then_idempotent(run_module, tmp_path):
    dest = tmp_path / "squid.conf"
    args = {"policy": POLICY, "tier": "vm", "dest": str(dest), "_ansible_diff": True}
    checked = run_module(squid_policy, dict(args, _ansible_check_mode=True))
    assert checked["changed"] and not dest.exists()
    assert "acl aibang_domains" in checked["diff"]["after"]
    applied = run_module(squid_policy, args)
    assert applied["changed"] and dest.read_text() == applied["config"]
    again = run_module(squid_policy, args)
    assert again["changed"] is False
    assert run_module(squid_policy, dict(args, _ansible_check_mode=True))["changed"] is False


def test_invalid_policy_fails_naming_the_field_and_writes_nothing(run_module, tmp_path):
    dest = tmp_path / "squid.conf"
    dest.write_text("running config\n")
    bad = dict(POLICY, allowed_domains=["login.microsoftonline.com", "*.microsoft.com"])
    result = run_module(squid_policy, {"policy": bad, "tier": "vm", "dest": str(dest)})
    assert result["failed"]
    assert result["field"] == "policy.allowed_domains[1]"
    assert "'*.microsoft.com'" in result["msg"]
    assert dest.read_text() == "running config\n"


def test_failed_validation_keeps_the_running_config(run_module, tmp_path):
    dest = tmp_path / "squid.conf"
    dest.write_text("running config\n")
    result = run_module(squid_policy, {"policy": POLICY, "tier": "vm", "dest": str(dest), "validate": "false %s"})
    assert result["failed"] and "Failed to validate" in result["msg"]
    assert dest.read_text() == "running config\n"
