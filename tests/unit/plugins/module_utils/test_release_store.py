# -*- coding: utf-8 -*-
from __future__ import annotations

import base64
import copy
import gzip

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import release_store
from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import ReleaseStoreError

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
             "data": {"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n"}}


def release(number, state="success", changed=("cluster_dns",)):
    return {"number": number, "state": state, "run": f"2026.11.{number}-20261123T110000Z-1", "changed": list(changed),
            "stages": {"cluster_dns": [CONFIGMAP]}}


def stored(number, **kwargs):
    return release_store.secret(release(number, **kwargs), "kube-system")


def test_a_release_round_trips_byte_for_byte():
    secret = stored(3)
    assert secret["metadata"]["name"] == "aibang-release.v3" and secret["type"] == "aibang.io/release.v1"
    assert secret["metadata"]["labels"]["aibang.io/release"] == "3" and secret["metadata"]["labels"]["aibang.io/state"] == "success"
    assert release_store.read(secret) == release(3)
    assert release_store.read(secret)["stages"]["cluster_dns"][0]["data"]["Corefile"] == CONFIGMAP["data"]["Corefile"]
    # the Secret's bytes are base64 of a gzip stream, as Helm keeps its releases
    inner = base64.b64decode(secret["data"]["release"])
    assert gzip.decompress(base64.b64decode(inner)).startswith(b'{"changed"')
    assert stored(3) == secret  # deterministic


def tampered(secret, how):
    result = copy.deepcopy(secret)
    inner = base64.b64decode(base64.b64decode(result["data"]["release"]))
    if how == "content":
        content = gzip.decompress(inner).replace(b"forward . /etc/resolv.conf", b"forward . 203.0.113.66")
        result["data"]["release"] = base64.b64encode(base64.b64encode(gzip.compress(content, mtime=0))).decode()
    elif how == "truncated":
        result["data"]["release"] = base64.b64encode(base64.b64encode(inner[: len(inner) // 2])).decode()
    elif how == "not base64":
        result["data"]["release"] = "%%%"
    elif how == "no sha":
        del result["metadata"]["annotations"]["aibang.io/sha256"]
    elif how == "relabelled":
        result["metadata"]["labels"]["aibang.io/release"] = "4"
    return result


@pytest.mark.parametrize("how, reason", [
    ("content", "was modified: its content's sha256 is"),
    ("truncated", "is damaged or truncated"),
    ("not base64", "is damaged or truncated"),
    ("no sha", "has no aibang.io/sha256 annotation"),
    ("relabelled", "holds release 3 but is labelled 4"),
])
def test_a_tampered_or_truncated_snapshot_is_refused_with_the_reason(how, reason):
    with pytest.raises(ReleaseStoreError, match=reason):
        release_store.read(tampered(stored(3), how))


@pytest.mark.parametrize("bad, field", [
    ({"number": 0}, "release.number: 0"), ({"number": True}, "release.number: True"),
    ({"state": "done"}, "release.state: 'done'"), ({"stages": []}, "release.stages"),
])
def test_invalid_releases_are_not_written(bad, field):
    with pytest.raises(ReleaseStoreError, match=field.replace("(", r"\(")):
        release_store.secret({**release(1), **bad}, "kube-system")


def test_history_newest_first_and_a_damaged_release_says_why():
    rows = release_store.history([stored(1), stored(3, state="failed"), tampered(stored(2), "content")])
    assert [(row["number"], row["state"]) for row in rows] == [(3, "failed"), (2, "damaged"), (1, "success")]
    assert "was modified" in rows[1]["error"]
    text = release_store.table(rows)
    assert text.splitlines()[0].split() == ["RELEASE", "STATE", "RUN", "CHANGED"]
    assert "      3  failed" in text and "cluster_dns" in text
    assert release_store.next_number(rows) == 4


@pytest.mark.parametrize("states, cap, pruned", [
    (["success"] * 12, 10, ["aibang-release.v2", "aibang-release.v1"]),
    (["success"] + ["failed"] * 4, 2, ["aibang-release.v3", "aibang-release.v2"]),  # v1, the last success, stays
    (["success"] * 3, 10, []),
])
def test_history_cap(states, cap, pruned):
    rows = release_store.history([stored(number, state=state) for number, state in enumerate(states, start=1)])
    assert release_store.to_prune(rows, cap) == pruned


def test_history_cap_counts_the_release_about_to_be_written():
    rows = release_store.history([stored(number) for number in range(1, 11)])
    assert release_store.to_prune(rows, 10) == []
    assert release_store.to_prune(rows, 10, adding=True) == ["aibang-release.v1"]
    failed = release_store.history([stored(1)] + [stored(number, state="failed") for number in (2, 3)])
    assert release_store.to_prune(failed, 1, adding=True) == ["aibang-release.v3", "aibang-release.v2"]  # v1, the last success, stays


def test_choose_the_previous_success_or_a_named_release_and_refuse_the_rest():
    history = [stored(1), stored(2, state="failed"), stored(3), stored(4, state="failed"), tampered(stored(5), "truncated")]
    assert release_store.choose(history)["number"] == 3
    assert release_store.choose(history, 1)["number"] == 1
    with pytest.raises(ReleaseStoreError, match="release 9 is not in the history"):
        release_store.choose(history, 9)
    with pytest.raises(ReleaseStoreError, match="aibang-release.v5 is damaged or truncated"):
        release_store.choose(history, 5)
    with pytest.raises(ReleaseStoreError, match="no successful release before the newest"):
        release_store.choose([stored(1)])


def test_releases_other_runs_left_running_are_found_oldest_first_and_can_be_marked_interrupted():
    mine = release(5, state="running")
    history = [stored(1, state="running"), stored(2), stored(3, state="running"), tampered(stored(4, state="running"), "truncated"),
               release_store.secret(mine, "kube-system")]
    left = release_store.left_running(history, mine["run"])
    assert [found["number"] for found in left] == [1, 3]  # not this run's own, not the damaged one; oldest first
    assert left[1] == release(3, state="running")  # the whole release, to be written again
    marked = release_store.secret({**left[1], "state": "interrupted"}, "kube-system")
    assert marked["metadata"]["labels"]["aibang.io/state"] == "interrupted"
    assert release_store.read(marked)["stages"] == release(3)["stages"]
    assert release_store.left_running([marked, stored(2)], mine["run"]) == []  # marked once


KEY_HEX = "00112233445566778899aabbccddeeff" * 2
KEY_B64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize("key", [KEY_HEX, KEY_B64])
def test_an_encrypted_release_round_trips_with_its_key_only(key):
    secret = release_store.secret(release(5), "kube-system", key)
    assert secret["metadata"]["annotations"]["aibang.io/encryption"] == "aes-256-gcm"
    assert secret["metadata"]["annotations"]["aibang.io/sha256"] == stored(5)["metadata"]["annotations"]["aibang.io/sha256"]
    assert b"Corefile" not in base64.b64decode(base64.b64decode(secret["data"]["release"]))
    assert release_store.read(secret, key) == release(5)
    assert release_store.choose([secret], 5, key) == release(5)


@pytest.mark.parametrize("key, reason", [
    ("", "is encrypted \\(aes-256-gcm\\) and no key was given"),
    ("ff" * 32, "does not decrypt with the key given"),
])
def test_an_encrypted_release_is_refused_without_its_key(key, reason):
    with pytest.raises(ReleaseStoreError, match=reason):
        release_store.read(release_store.secret(release(5), "kube-system", KEY_HEX), key)


def test_an_encrypted_release_is_bound_to_its_name_and_refuses_tampering():
    secret = release_store.secret(release(5), "kube-system", KEY_HEX)
    moved = copy.deepcopy(secret)
    moved["metadata"]["name"] = "aibang-release.v6"
    moved["metadata"]["labels"]["aibang.io/release"] = "6"
    flipped = copy.deepcopy(secret)
    raw = bytearray(base64.b64decode(base64.b64decode(secret["data"]["release"])))
    raw[-1] ^= 1
    flipped["data"]["release"] = base64.b64encode(base64.b64encode(bytes(raw))).decode()
    for bad in (moved, flipped):
        with pytest.raises(ReleaseStoreError, match="does not decrypt"):
            release_store.read(bad, KEY_HEX)


@pytest.mark.parametrize("key", ["short", "ab" * 31, base64.b64encode(b"x" * 16).decode()])
def test_a_key_that_is_not_32_bytes_is_refused_without_showing_it(key):
    with pytest.raises(ReleaseStoreError, match="key: must be 32 bytes") as raised:
        release_store.secret(release(1), "kube-system", key)
    assert key not in str(raised.value)


FAILURE = "end to end (from a pod, through the alias, tier 1 and tier 2) at Compare each answer: In-cluster check failed: example.org:443"


@pytest.mark.parametrize("run_release, failures, state, summary", [
    (release(7, state="running"), [], "success", "This run: release 7 is now success"),
    (release(7, state="running"), [FAILURE], "failed", "This run: release 7 is now failed; its end-to-end check failed"),
    (None, [], "success", "This run: changed nothing, no release"),
    (None, [FAILURE], "failed", "This run: changed nothing, no release; its end-to-end check failed"),
    (release(7, state="rolled_back"), [], "success", "This run: release 7 stays rolled_back"),
])
def test_a_run_ends_success_or_failed_by_its_end_to_end_check(run_release, failures, state, summary):
    ended = release_store.outcome(run_release, "run-7", failures)
    assert (ended["state"], ended["summary"]) == (state, summary)
    assert bool(ended["message"]) is bool(failures)
    if run_release and run_release["state"] == "running":
        assert ended["release"] == {**run_release, "state": state, **({"verify_failures": failures} if failures else {})}
        assert release_store.read(release_store.secret(ended["release"], "kube-system"))["state"] == state  # writable
    else:
        assert ended["release"] is None  # nothing to write: no release, or one this run no longer owns


def test_a_failed_end_to_end_check_is_named_with_the_release_and_what_to_do():
    message = release_store.outcome(release(7, state="running", changed=("squid_gke", "cluster_dns")), "run-7", [FAILURE, "tier 2 x"])["message"]
    assert message.startswith(f"Deploy run run-7 failed its end-to-end check (verify): {FAILURE}; tier 2 x. ")
    assert "Release 7 (changed: squid_gke, cluster_dns) is marked failed." in message
    assert "Nothing was restored automatically" in message and "playbooks/diagnose.yml" in message
    assert "playbooks/rollback.yml: it restores what the run changed (squid_gke, cluster_dns)" in message
    unchanged = release_store.outcome(None, "run-8", [FAILURE])["message"]
    assert "This run changed nothing (no release to mark)" in unchanged and "rollback.yml" not in unchanged


@pytest.mark.parametrize("run_release, line, sentence", [
    (release(7, state="running", changed=("squid_gke",)), "This run: release 7 is now failed",
     "Release 7 (changed: squid_gke) is marked failed."),
    (release(7, state="rolled_back", changed=("squid_gke",)), "This run: release 7 stays rolled_back", "Release 7 stays rolled_back."),
    (None, "This run: changed nothing, no release",
     "This run changed nothing (no release to mark): what was deployed before fails the check."),
])
def test_what_becomes_of_the_release_is_decided_once_for_the_history_and_the_message(run_release, line, sentence):
    ended = release_store.outcome(run_release, "run-7", [FAILURE])
    assert release_store.fate(run_release, ended["release"]) == (line, sentence)
    assert ended["summary"] == f"{line}; its end-to-end check failed"
    assert ended["message"] == release_store.failure_message("run-7", [FAILURE], sentence, list((run_release or {}).get("changed") or []))
    assert f". {sentence} Nothing was restored automatically" in ended["message"]
