# -*- coding: utf-8 -*-
"""One mechanism for /run/netns (tests/testbed/host_state.py): the lab removes it only when it made it, and only once
no network namespace is left in it. Run on a folder standing for /run/netns (not a mount point)."""

from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.tests.testbed import host_state


@pytest.fixture
def netns(tmp_path, monkeypatch):
    monkeypatch.setattr(host_state, "NETNS_DIR", str(tmp_path / "netns"))
    monkeypatch.setattr(host_state, "NETNS_MARKER", str(tmp_path / "made-netns"))
    return tmp_path


def test_a_folder_the_lab_made_goes_with_its_last_namespace(netns):
    host_state.claim_netns_dir()  # before the first `ip netns add`
    (netns / "netns").mkdir()
    (netns / "netns" / "aibang-internet").touch()
    assert host_state.release_netns_dir() == [] and (netns / "netns").is_dir()  # a namespace is left in it
    (netns / "netns" / "aibang-internet").unlink()
    assert host_state.release_netns_dir() == [f"removed {netns / 'netns'}"]
    assert not (netns / "netns").exists() and not (netns / "made-netns").exists()
    assert host_state.release_netns_dir() == []  # twice: nothing more to do


def test_a_folder_that_was_there_before_stays(netns):
    (netns / "netns").mkdir()
    host_state.claim_netns_dir()
    assert not (netns / "made-netns").exists()
    assert host_state.release_netns_dir() == [] and (netns / "netns").is_dir()
