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
