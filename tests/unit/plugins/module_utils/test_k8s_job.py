# -*- coding: utf-8 -*-
"""Apply, wait, read, delete in one run, against the in-memory API server of the apply tests, with a Job that ends
after a few polls of a virtual clock."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_job
from ansible_collections.aibang.gke_platform.plugins.module_utils.cluster_probe import objects as probe_objects
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload_apply import FakeApiServer

JOB_PATH = "/apis/batch/v1/namespaces/egress-verify/jobs/probe-1"
PODS_PATH = "/api/v1/namespaces/egress-verify/pods"
WAITING = {"waiting": {"reason": "ErrImagePull", "message": "pull access denied"}}


class JobServer(FakeApiServer):
    """The Job gets ``status`` after ``polls`` reads of it; its pod answers ``log``."""

    def __init__(self, status: dict, polls: int = 3, log: str = "dns a.example 10.0.0.1\n", pod_state=None):
        super().__init__()
        self.status, self.polls, self.log, self.pod_state = status, polls, log, pod_state or {"terminated": {"exitCode": 0}}

    def __call__(self, method, path, query, body, content_type):
        if method == "GET" and path == JOB_PATH and path in self.store:
            self.polls -= 1
            if self.polls <= 0:
                self.store[path]["status"] = self.status
        if method == "GET" and path == PODS_PATH:
            assert query == {"labelSelector": "job-name=probe-1"}
            return 200, {"items": [{"metadata": {"name": "probe-1-abcde"}, "status": {"containerStatuses": [{"state": self.pod_state}]}}]}
        if method == "GET" and path == f"{PODS_PATH}/probe-1-abcde/log":
            return 200, self.log
        return super().__call__(method, path, query, body, content_type)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def spec(**extra):
    return probe_objects({"name": "probe-1", "namespace": "egress-verify", "image": "probe:1", "aliases": {"a.example": "b.svc"},
                          **extra})


@pytest.mark.parametrize("status, polls, expected, log, waiting", [
    ({"succeeded": 1}, 3, "succeeded", "dns a.example 10.0.0.1\n", []),
    ({"failed": 1, "conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}, 2, "failed", "",
     [WAITING]),
    ({}, 10 ** 6, "timed out", "", [WAITING]),
], ids=["succeeds", "fails", "never ends"])
def test_apply_wait_read_delete(status, polls, expected, log, waiting):
    server, clock = JobServer(status, polls, pod_state=WAITING if expected != "succeeded" else None), Clock()
    result = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == expected and result["log"] == log and result["waiting"] == waiting
    assert JOB_PATH not in server.store  # deleted, whatever the outcome
    assert "/api/v1/namespaces/egress-verify" in server.store  # the namespace stays
    assert clock.now <= 30 + k8s_job.POLL_SECONDS
    if expected == "failed":
        assert result["conditions"] == ["BackoffLimitExceeded"]


def test_a_run_reports_the_job_it_created_as_a_change_and_leaves_the_other_objects_unchanged():
    server, clock = JobServer({"succeeded": 1}, polls=1), Clock()
    assert k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)["changed"]
    kept = {path: obj["metadata"]["resourceVersion"] for path, obj in server.store.items()}
    server.polls = 1
    again = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert again["changed"] and again["outcome"] == "succeeded"  # the Job, deleted by the first run, is created again
    assert {path: obj["metadata"]["resourceVersion"] for path, obj in server.store.items()} == kept  # nothing else


def test_polls_every_half_second_until_it_ends():
    server, clock = JobServer({"succeeded": 1}, polls=5), Clock()
    k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert clock.now == 4 * k8s_job.POLL_SECONDS
    assert [call[0] for call in server.calls if call[1] == JOB_PATH] == ["GET", "PATCH"] + ["GET"] * 5 + ["DELETE"]


def test_a_log_of_one_json_line_is_the_pods_text():
    """The requesters keep a text/plain answer text (test_k8s_http: through both, from a real HTTP server); the log is
    returned as they answer it, not re-encoded."""
    line = '{"check":"pod","ip":"10.244.128.7","name":"café"}'
    server, clock = JobServer({"succeeded": 1}, polls=1, log=line), Clock()
    assert k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)["log"] == line


def test_the_job_is_deleted_when_reading_fails():
    class Broken(JobServer):
        def __call__(self, method, path, query, body, content_type):
            if method == "GET" and path == PODS_PATH:
                return 403, {"message": "pods is forbidden"}
            return super().__call__(method, path, query, body, content_type)

    server, clock = Broken({"succeeded": 1}, polls=1), Clock()
    with pytest.raises(k8s_job.apply.ApplyError, match="list the pods of Job egress-verify/probe-1: HTTP 403: pods is forbidden"):
        k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert JOB_PATH not in server.store


@pytest.mark.parametrize("objects, message", [
    ([], r"objects: 0 Jobs among 0 objects"),
    ([{"kind": "Job", "metadata": {"name": "a", "namespace": "n"}}] * 2, r"objects: 2 Jobs among 2 objects"),
    ([{"kind": "Job", "metadata": {"name": "a"}}], r"objects: the Job needs metadata.name and metadata.namespace"),
])
def test_bad_objects_fail_before_anything_is_sent(objects, message):
    server = JobServer({"succeeded": 1})
    with pytest.raises(k8s_job.JobError, match=message):
        k8s_job.run(server, objects, "aibang.gke_platform", 30, Clock(), Clock().sleep)
    assert server.calls == []
