# -*- coding: utf-8 -*-
"""A verification leaves nothing behind, so a converged deploy that runs it reports no change (idempotence): every
object the probes create and remove (the bypass probe pod, the in-cluster probe's Job) is written with
`changed_when: false` (k8s_job_run itself reports the Job it creates as a change)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = pathlib.Path(__file__).parents[3] / "roles"
VERIFICATIONS = ("egress_network/tasks/bypass.yml", "egress_probe/tasks/main.yml")
WRITERS = ("kubernetes.core.k8s", "aibang.gke_platform.k8s_job_run")


def _tasks(tasks: list):
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


@pytest.mark.parametrize("path", VERIFICATIONS)
def test_every_object_a_probe_writes_reports_no_change(path):
    tasks = yaml.safe_load((ROLES / path).read_text(encoding="utf-8"))
    writes = [task for task in _tasks(tasks) if any(module in task for module in WRITERS)]
    assert writes, f"{path}: no task of {', '.join(WRITERS)} found"
    assert [task["name"] for task in writes if task.get("changed_when") is not False] == []
