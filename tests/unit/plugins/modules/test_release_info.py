# -*- coding: utf-8 -*-
from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import ReleaseStoreError, secret
from ansible_collections.aibang.gke_platform.plugins.modules.release_info import ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, run_module

ROOT = pathlib.Path(__file__).parents[4]


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


def rollback_call() -> dict:
    """The arguments playbooks/rollback.yml gives release_info to choose the release."""
    plays = yaml.safe_load(ROOT.joinpath("playbooks", "rollback.yml").read_text(encoding="utf-8"))
    tasks = [task for play in plays for block in play["tasks"] for task in block.get("block", [block])]
    return next(task["aibang.gke_platform.release_info"] for task in tasks if "aibang.gke_platform.release_info" in task)


@pytest.mark.parametrize("release, chosen", [("3", {"release": 3}), ("previous", {"previous": True})])
def test_rollback_yml_passes_one_of_release_and_previous(release, chosen):
    """`rollback.yml -e release=N` once passed previous: false beside release, which the module refuses."""
    arguments = {name: value for name, value in rollback_call().items() if name in ("release", "previous")}
    rendered = Templar(loader=DataLoader(), variables={"release": release}).template(
        {name: trust_as_template(value) for name, value in arguments.items()})
    assert rendered == chosen
    validated = ArgumentSpecValidator(ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE).validate({"releases": [], **rendered})
    assert not validated.error_messages
