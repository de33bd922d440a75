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
POD = "probe-1-abcde"
WAITING = {"waiting": {"reason": "ErrImagePull", "message": "pull access denied"}}
RUNNING = {"running": {"startedAt": "2026-11-24T13:00:00Z"}}


class JobServer(FakeApiServer):
    """The Job's pod runs, and after ``polls`` looks at it ends in ``phase`` with its container in ``pod_state``; the Job
    controller records that ``lag`` reads of the Job later (it batches pod updates), as ``status``. ``phase`` None: the
    pod stays in ``pod_state`` (a container waiting for good, or running for ever); ``pod`` False: no pod at all (the
    Job ends after ``polls`` reads of it, as on a deadline). The pod answers ``log``."""

    def __init__(self, status: dict, polls: int = 3, log: str = "dns a.example 10.0.0.1\n", pod_state=None,
                 phase="Succeeded", lag: int = 4, pod: bool = True):
        super().__init__()
        self.status, self.polls, self.log, self.phase, self.lag, self.pod = status, polls, log, phase, lag, pod
        self.pod_state = pod_state or ({"terminated": {"exitCode": 0 if phase == "Succeeded" else 1}} if phase else RUNNING)

    def pod_object(self) -> dict:
        ended = self.polls <= 0 and self.phase
        status = {"phase": self.phase if ended else "Pending" if "waiting" in self.pod_state else "Running",
                  "containerStatuses": [{"name": "probe", "state": self.pod_state if ended or not self.phase else RUNNING}]}
        return {"metadata": {"name": POD}, "status": status}

    def __call__(self, method, path, query, body, content_type):
        if method == "GET" and path == PODS_PATH:
            self.calls.append((method, path, dict(query)))
            assert query == {"labelSelector": "job-name=probe-1"}
            if not self.pod or JOB_PATH not in self.store:
                return 200, {"items": []}
            self.polls -= 1
            return 200, {"items": [self.pod_object()]}
        if method == "GET" and path == JOB_PATH and path in self.store:
            if not self.pod:
                self.polls -= 1
            elif self.polls <= 0 and self.phase:
                self.lag -= 1
            if (self.polls <= 0 and not self.pod) or self.lag <= 0:
                self.store[path]["status"] = self.status
        if method == "GET" and path == f"{PODS_PATH}/{POD}/log":
            self.calls.append((method, path, dict(query)))
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


FAILED = {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}
DEADLINE = {"failed": 0, "conditions": [{"type": "Failed", "status": "True", "message": "Job was active longer than specified deadline"}]}
EXITED = {"terminated": {"exitCode": 1, "reason": "Error"}}


@pytest.mark.parametrize("server, expected, log, waiting, conditions", [
    (JobServer({"succeeded": 1}), "succeeded", "dns a.example 10.0.0.1\n", [], []),
    (JobServer(FAILED, phase="Failed", pod_state=EXITED, log="sh: curl: not found\n"), "failed", "sh: curl: not found\n",
     [EXITED], []),
    (JobServer(FAILED, phase=None, pod_state=WAITING), "not started", "", [WAITING], []),
    (JobServer({}, phase=None, polls=10 ** 6), "timed out", "", [RUNNING], []),
    (JobServer(DEADLINE, pod=False, polls=2), "failed", "", [], ["Job was active longer than specified deadline"]),
], ids=["succeeds", "fails after running", "cannot start", "never ends", "ends without a pod"])
def test_apply_wait_read_delete(server, expected, log, waiting, conditions):
    clock = Clock()
    result = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == expected and result["log"] == log and result["waiting"] == waiting
    assert result["conditions"] == conditions
    assert JOB_PATH not in server.store  # deleted, whatever the outcome
    assert "/api/v1/namespaces/egress-verify" in server.store  # the namespace stays
    assert clock.now <= 30 + k8s_job.POLL_SECONDS
    assert (result["pod"] or {}).get("name") == (POD if server.pod else None)


def test_the_pods_end_is_seen_before_the_job_controller_records_it():
    """The kubelet's phase ends the wait: the Job controller, which batches pod updates by a second, has not said
    succeeded yet."""
    server, clock = JobServer({"succeeded": 1}, polls=3, lag=10 ** 6), Clock()
    result = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "succeeded" and result["log"].startswith("dns a.example")
    assert clock.now == 2 * k8s_job.POLL_SECONDS
    assert result["pod"]["status"]["phase"] == "Succeeded"


def test_a_pod_that_cannot_start_ends_the_run_at_once_not_at_the_jobs_deadline():
    server, clock = JobServer(FAILED, phase=None, pod_state=WAITING), Clock()
    result = k8s_job.run(server, spec(), "aibang.gke_platform", 180, clock, clock.sleep)
    assert result["outcome"] == "not started" and clock.now == 0
    assert result["pod"]["status"]["containerStatuses"][0]["state"] == WAITING  # for the caller to name why


def test_a_pod_refused_before_its_container_ran_fails_without_reading_a_log():
    """A pod the kubelet rejects (e.g. OutOfcpu) is Failed with no container that ran: there is no log to read."""
    class Refused(JobServer):
        def pod_object(self):
            return {"metadata": {"name": POD}, "status": {"phase": "Failed", "reason": "OutOfcpu"}}

    server, clock = Refused(FAILED), Clock()
    result = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "failed" and result["log"] == "" and result["pod"]["status"]["reason"] == "OutOfcpu"
    assert not any(path.endswith("/log") for _method, path, _query in server.calls)


def ending_with(line: str) -> list:
    """The probe's objects, its Job annotated with the line its log ends with."""
    objects = spec()
    objects[-1]["metadata"]["annotations"] = {k8s_job.LOG_ENDS_WITH: line}
    return objects


def test_a_log_that_ends_with_the_jobs_last_line_ends_the_run_while_the_pod_still_runs():
    """The kubelet notices an exited container a second or two late; the log is complete as soon as it has the line."""
    server, clock = JobServer({"succeeded": 1}, polls=10 ** 6, log='{"check":"pod","ip":"10.0.0.9"}\n{"check":"end"}\n'), Clock()
    result = k8s_job.run(server, ending_with('{"check":"end"}'), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "succeeded" and result["log"].endswith('{"check":"end"}\n') and clock.now == 0
    assert result["pod"]["status"]["phase"] == "Running" and result["waiting"] == []
    assert JOB_PATH not in server.store


@pytest.mark.parametrize("log", ['{"check":"pod","ip":"10.0.0.9"}\n', '{"check":"pod","ip":"10.0.0.9"} {"check":"end"}\n', ""],
                         ids=["not yet", "not a line of its own", "no log yet"])
def test_a_log_without_the_last_line_is_waited_for_until_the_pod_ends(log):
    server, clock = JobServer({"succeeded": 1}, polls=4, log=log), Clock()
    result = k8s_job.run(server, ending_with('{"check":"end"}'), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "succeeded" and clock.now == 3 * k8s_job.POLL_SECONDS  # the pod's phase ended it
    assert result["pod"]["status"]["phase"] == "Succeeded"


def test_a_pod_that_fails_before_its_last_line_is_a_failed_run():
    server, clock = JobServer(FAILED, phase="Failed", pod_state=EXITED, log="sh: curl: not found\n"), Clock()
    result = k8s_job.run(server, ending_with('{"check":"end"}'), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "failed" and result["log"] == "sh: curl: not found\n"


def test_a_log_that_cannot_be_read_yet_is_asked_again():
    class NotYet(JobServer):
        def __call__(self, method, path, query, body, content_type):
            if method == "GET" and path.endswith("/log") and self.polls > 1:
                self.calls.append((method, path, dict(query)))
                return 400, {"message": 'container "probe" in pod "probe-1-abcde" is waiting to start: ContainerCreating'}
            return super().__call__(method, path, query, body, content_type)

    server, clock = NotYet({"succeeded": 1}, polls=3, log='{"check":"end"}\n'), Clock()
    result = k8s_job.run(server, ending_with('{"check":"end"}'), "aibang.gke_platform", 30, clock, clock.sleep)
    assert result["outcome"] == "succeeded" and result["log"] == '{"check":"end"}\n'


def test_a_run_reports_the_job_it_created_as_a_change_and_leaves_the_other_objects_unchanged():
    server, clock = JobServer({"succeeded": 1}, polls=1), Clock()
    assert k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)["changed"]
    kept = {path: obj["metadata"]["resourceVersion"] for path, obj in server.store.items()}
    server.polls = 1
    again = k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert again["changed"] and again["outcome"] == "succeeded"  # the Job, deleted by the first run, is created again
    assert {path: obj["metadata"]["resourceVersion"] for path, obj in server.store.items()} == kept  # nothing else


def test_looks_at_the_pod_and_the_job_every_quarter_second_until_the_pod_ends():
    server, clock = JobServer({"succeeded": 1}, polls=5), Clock()
    k8s_job.run(server, spec(), "aibang.gke_platform", 30, clock, clock.sleep)
    assert k8s_job.POLL_SECONDS == 0.25 and clock.now == 4 * k8s_job.POLL_SECONDS
    assert [(call[0], call[1]) for call in server.calls if call[1] in (JOB_PATH, PODS_PATH)] == \
        [("GET", JOB_PATH), ("PATCH", JOB_PATH)] + [("GET", PODS_PATH), ("GET", JOB_PATH)] * 4 + [("GET", PODS_PATH), ("DELETE", JOB_PATH)]


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
