# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import ReleaseStoreError, secret
from ansible_collections.aibang.gke_platform.plugins.modules.release_info import run_module


def stored(number, state="success"):
    return secret({"number": number, "state": state, "run": f"run-{number}", "changed": ["squid_gke"], "stages": {}}, "kube-system")


def params(**overrides):
    return {"releases": [stored(1), stored(2), stored(3, "failed")], "release": None, "previous": False, "history": 10,
            "run": None, "key": None, **overrides}


def test_history_and_table():
    result = run_module(params())
    assert [row["number"] for row in result["history"]] == [3, 2, 1]
    assert result["next_number"] == 4 and result["prune"] == [] and "chosen" not in result
    assert result["table"].splitlines()[1].split()[:2] == ["3", "failed"]


@pytest.mark.parametrize("overrides, number", [({"previous": True}, 2), ({"release": 1}, 1)])
def test_chosen(overrides, number):
    assert run_module(params(**overrides))["chosen"]["number"] == number


def test_a_tampered_choice_fails():
    tampered = stored(2)
    tampered["metadata"]["annotations"]["aibang.io/sha256"] = "0" * 64
    with pytest.raises(ReleaseStoreError, match="aibang-release.v2 was modified"):
        run_module(params(releases=[stored(1), tampered, stored(3, "failed")], release=2))


KEY = "ab" * 32


def test_encrypted_releases_are_read_with_the_key_and_listed_damaged_without_it():
    releases = [secret({"number": 1, "state": "success", "run": "run-1", "changed": [], "stages": {}}, "kube-system", KEY)]
    assert run_module(params(releases=releases, release=1, key=KEY))["chosen"]["run"] == "run-1"
    rows = run_module(params(releases=releases))["history"]
    assert rows[0]["state"] == "damaged" and "no key was given" in rows[0]["error"]


def test_a_run_finds_its_release_and_prune_counts_the_one_it_is_about_to_write():
    assert run_module(params(run="run-2"))["run_release"]["number"] == 2
    assert run_module(params(run="run-2", history=3))["prune"] == []
    fresh = run_module(params(run="run-4", history=3))
    assert fresh["run_release"] is None and fresh["prune"] == ["aibang-release.v1"] and fresh["next_number"] == 4


def test_a_run_is_told_which_releases_other_runs_left_running():
    releases = [stored(1), stored(2, "running"), stored(3, "running")]
    assert [found["number"] for found in run_module(params(releases=releases, run="run-3"))["left_running"]] == [2]
    assert "left_running" not in run_module(params(releases=releases))


def test_a_run_is_told_how_it_ends_from_the_checks_of_verify_that_failed():
    releases = [stored(1), stored(2, "running")]
    passed = run_module(params(releases=releases, run="run-2", verify_failures=[]))["outcome"]
    assert passed["state"] == "success" and passed["release"]["state"] == "success" and not passed["message"]
    failed = run_module(params(releases=releases, run="run-2", verify_failures=["end to end at x: y"]))["outcome"]
    assert failed["state"] == "failed" and failed["release"]["number"] == 2 and failed["release"]["verify_failures"] == ["end to end at x: y"]
    assert "Release 2 (changed: squid_gke) is marked failed" in failed["message"]
    assert "outcome" not in run_module(params(releases=releases))
