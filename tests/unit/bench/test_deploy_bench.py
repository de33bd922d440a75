# -*- coding: utf-8 -*-
"""The no-op deploy bench gives each module process to the task that was running when it started, and sums per play."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.tests.bench.deploy import module_processes, per_stage


def task(name: str, start: str, end: str = "") -> dict:
    duration = {"start": f"2026-11-23T22:00:{start}Z"}
    if end:
        duration["end"] = f"2026-11-23T22:00:{end}Z"
    return {"task": {"name": name, "duration": duration}, "hosts": {}}


def play(name: str, start: str, end: str, tasks: list) -> dict:
    return {"play": {"name": name, "duration": {"start": f"2026-11-23T22:00:{start}Z", "end": f"2026-11-23T22:00:{end}Z"}},
            "tasks": tasks}


REPORT = {"plays": [
    play("Preflight", "00.000000", "02.000000", [task("Compile", "00.100000", "00.200000"), task("Ping", "00.300000", "01.900000")]),
    play("Preflight", "02.100000", "05.000000", [task("Include", "02.200000"), task("Loop", "02.500000", "04.900000")]),
]}


@pytest.mark.parametrize(("starts", "expected"), [
    ([], [0, 0, 0, 0]),
    (["2026-11-23T22:00:00.400000"], [0, 1, 0, 0]),
    (["2026-11-23T22:00:02.600000", "2026-11-23T22:00:03.000000", "2026-11-23T22:00:04.000000"], [0, 0, 0, 3]),
    (["2026-11-23T22:00:02.300000"], [0, 0, 1, 0]),  # a task without an end (an include) still owns what it started
    (["2026-11-23T21:59:59.000000"], [0, 0, 0, 0]),  # before the first task: nobody's
])
def test_each_process_goes_to_the_task_running_when_it_started(starts, expected):
    assert [count for _play, _name, count in module_processes(REPORT, starts)] == expected


def test_plays_with_the_same_name_are_kept_apart():
    processes = module_processes(REPORT, ["2026-11-23T22:00:01.000000", "2026-11-23T22:00:03.000000", "2026-11-23T22:00:04.000000"])
    assert per_stage(REPORT, processes) == [("Preflight", 2.0, 2, 1), ("Preflight", 2.9, 2, 2)]


def test_the_callbacks_timestamp_without_microseconds_is_read():
    report = {"plays": [play("P", "00.000000", "01.000000", [task("T", "00")])]}
    report["plays"][0]["tasks"][0]["task"]["duration"]["start"] = "2026-11-23T22:00:00Z"
    assert module_processes(report, ["2026-11-23T22:00:00.500000"]) == [(0, "T", 1)]
