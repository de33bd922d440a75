# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import ensure_records, fqdn, planned_records, record_view
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError


@pytest.mark.parametrize("name, expected", [("a.sql.goog", "a.sql.goog."), ("a.sql.goog.", "a.sql.goog.")])
def test_fqdn(name, expected):
    assert fqdn(name) == expected


def test_view_normalises_ttl():
    assert record_view({"name": "a.", "type": "A", "ttl": "300", "rrdatas": ["10.0.0.1"]}) == {
        "name": "a.", "type": "A", "ttl": 300, "rrdatas": ["10.0.0.1"]}
    assert record_view(None) == {}


def _item(name, kind="A", rrdatas=("10.0.0.1",), **fields):
    return dict({"zone": None, "name": name, "type": kind, "ttl": 300, "rrdatas": list(rrdatas), "state": None}, **fields)


def _task(*records, **fields):
    return dict({"project": "p", "zone": "z", "name": None, "type": "A", "ttl": 300, "rrdatas": [], "state": "present",
                 "records": list(records)}, **fields)


@pytest.mark.parametrize("task, message", [
    (_task(_item("a.x.", rrdatas=())), r"records\[0\] \(a.x. A\): rrdatas is required when state is present"),
    (_task(_item("a.x."), _item("a.x")), r"records\[1\] \(a.x A\): listed twice \(also at records\[0\]\)"),
    (_task(_item("a.x."), zone=None), r"records\[0\] \(a.x. A\): zone is required"),
    (dict(_task(), records=None, name="b.x.", rrdatas=[]), r"b.x. A: rrdatas is required when state is present"),
])
def test_bad_records_are_refused_naming_the_item(task, message):
    with pytest.raises(GcpError, match=message):
        planned_records(task)


def test_items_take_the_tasks_zone_and_state_unless_they_set_their_own():
    planned = planned_records(_task(_item("a.x."), _item("b.x.", rrdatas=(), zone="other", state="absent"), state="present"))
    assert [(record["zone"], record["state"]) for record in planned] == [("z", "present"), ("other", "absent")]


def test_one_run_sets_every_record_and_a_second_is_a_no_op(gcp):
    gcp.managed_zone("p", "z", "x.")
    gcp.forget_calls()
    task = _task(_item("a.x."), _item("*.x.", "CNAME", ["a.x."]))
    first = gcp.run(ensure_records, task)
    assert first["changed"] is True and len(gcp.mutations()) == 2
    assert set(first["diff"]["after"]) == {"z/a.x. A", "z/*.x. CNAME"} and first["diff"]["before"] == {}
    gcp.forget_calls()
    again = gcp.run(ensure_records, task)
    assert again["changed"] is False and gcp.mutations() == [] and again["diff"]["before"] == again["diff"]["after"]
    assert [record["name"] for record in again["records"]] == ["a.x.", "*.x."]


# A record set has no mark of its own: absent deletes it only inside a zone the collection created (issue 16, item 7).
MARK = {"managed-by": "aibang-gke-platform"}
RECORD_KEY = "dns:projects/p/managedZones/z/rrsets/a.x./A"


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_record_in_a_zone_the_collection_did_not_create_is_left_saying_why(gcp, check_mode):
    gcp.managed_zone("p", "z", "x.")
    gcp.run(ensure_records, _task(_item("a.x.")))
    gcp.forget_calls()
    left = gcp.run(ensure_records, _task(_item("a.x."), state="absent"), check_mode=check_mode)
    assert left["changed"] is False and left["left"] == ["z/a.x. A"] and gcp.mutations() == []
    assert "its zone z does not carry the label managed-by=aibang-gke-platform" in left["warnings"][0]
    assert "a record set carries no mark of its own" in left["warnings"][0]
    assert gcp.exists(RECORD_KEY)
    single = gcp.run(ensure_records, dict(_task(), records=None, name="a.x.", state="absent"))
    assert single["changed"] is False and single["left"] == ["z/a.x. A"] and gcp.exists(RECORD_KEY)
    forced = gcp.run(ensure_records, _task(_item("a.x."), state="absent", delete_unmarked=True))
    assert forced["changed"] is True and "left" not in forced and not gcp.exists(RECORD_KEY)


def test_a_record_in_a_zone_the_collection_created_is_deleted(gcp):
    gcp.managed_zone("p", "z", "x.", labels=MARK)
    gcp.run(ensure_records, _task(_item("a.x.")))
    removed = gcp.run(ensure_records, _task(_item("a.x."), state="absent"))
    assert removed["changed"] is True and "left" not in removed and not gcp.exists(RECORD_KEY)
