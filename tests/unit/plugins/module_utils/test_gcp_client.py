# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpClient, GcpError, auth_settings, credentials


class Response:
    def __init__(self, status: int, body=None, headers=None):
        self.status_code = status
        self.headers = headers or {}
        self.text = json.dumps(body) if body is not None else ""
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeSession:
    """Answers scripted responses in order and records every call."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.calls = []

    def request(self, method, url, json=None, params=None, timeout=None):  # pylint: disable=redefined-outer-name
        self.calls.append((method, url, json, dict(params or {})))
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(session, **kwargs):
    slept = []
    kwargs.setdefault("jitter", lambda: 1.0)
    made = GcpClient(session, sleep=slept.append, **kwargs)
    return made, slept


def test_retries_429_and_5xx_with_growing_backoff_then_succeeds():
    session = FakeSession(Response(429), Response(503), Response(500), Response(200, {"name": "x"}))
    made, slept = client(session, base_delay=0.5)
    assert made.request("GET", "https://compute.googleapis.com/x", "read x") == {"name": "x"}
    assert slept == [0.5, 1.0, 2.0]
    assert len(session.calls) == 4


def test_backoff_is_jittered_and_capped():
    session = FakeSession(*[Response(503)] * 7 + [Response(200, {})])
    made, slept = client(session, retries=7, base_delay=1.0, max_delay=8.0, jitter=lambda: 0.5)
    made.request("GET", "u", "read")
    assert slept == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_retry_after_is_honoured():
    made, slept = client(FakeSession(Response(429, headers={"Retry-After": "7"}), Response(200, {})))
    made.request("GET", "u", "read")
    assert slept == [7.0]


def test_gives_up_after_the_retries_with_googles_message():
    error = {"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}
    made, _slept = client(FakeSession(*[Response(503, error)] * 3), retries=2)
    with pytest.raises(GcpError, match="Failed to create address psc-sql: The service is currently unavailable.") as caught:
        made.request("POST", "u", "create address psc-sql", body={"name": "psc-sql"})
    assert caught.value.status == 503


def test_connection_errors_are_retried():
    made, slept = client(FakeSession(ConnectionError("reset"), Response(200, {"ok": True})))
    assert made.request("GET", "u", "read") == {"ok": True}
    assert len(slept) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 412])
def test_client_errors_are_not_retried(status):
    session = FakeSession(Response(status, {"error": {"message": f"bad {status}"}}))
    made, _slept = client(session)
    with pytest.raises(GcpError, match=f"bad {status}"):
        made.request("POST", "u", "do it")
    assert len(session.calls) == 1


def test_not_found_can_mean_absent():
    made, _slept = client(FakeSession(Response(404, {"error": {"message": "not found"}})))
    assert made.request("GET", "u", "read", not_found_ok=True) is None


def test_403_names_the_missing_permission_from_details():
    body = {"error": {"code": 403, "message": "Permission denied on resource project p.", "status": "PERMISSION_DENIED",
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
                                   "metadata": {"permission": "compute.forwardingRules.create"}}]}}
    made, _slept = client(FakeSession(Response(403, body)))
    with pytest.raises(GcpError) as caught:
        made.request("POST", "u", "create forwarding rule psc-sql")
    assert caught.value.permission == "compute.forwardingRules.create"
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert str(caught.value) == ("Failed to create forwarding rule psc-sql: Permission denied on resource project p. "
                                 "(the caller lacks compute.forwardingRules.create; grant a role that includes it)")


def test_403_names_the_permission_from_the_message():
    body = {"error": {"code": 403, "message": "Required 'compute.addresses.create' permission for 'projects/p'",
                      "errors": [{"reason": "forbidden", "message": "..."}]}}
    made, _slept = client(FakeSession(Response(403, body)))
    with pytest.raises(GcpError) as caught:
        made.request("POST", "u", "reserve address")
    assert caught.value.reason == "forbidden"
    assert caught.value.permission == ""  # Compute words it differently; the message itself still says which
    assert "compute.addresses.create" in str(caught.value)


def test_non_json_errors_keep_the_body():
    response = Response(502)
    response.text, response.content = "<html>Bad Gateway</html>", b"<html>"
    made, _slept = client(FakeSession(response), retries=0)
    with pytest.raises(GcpError, match="Failed to read: <html>Bad Gateway</html>"):
        made.request("GET", "u", "read")


def test_operations_are_polled_to_done():
    running = {"name": "op-1", "status": "RUNNING", "selfLink": "https://compute.googleapis.com/op-1"}
    session = FakeSession(Response(200, dict(running, status="RUNNING")), Response(200, dict(running, status="DONE")))
    made, slept = client(session)
    done = made.wait(dict(running, status="PENDING"), "create address psc-sql", poll=3.0)
    assert done["status"] == "DONE"
    assert slept == [0.25, 0.5]  # grows from 0.25 s, capped at poll
    assert [call[1] for call in session.calls] == ["https://compute.googleapis.com/op-1"] * 2


def test_a_failed_operation_surfaces_googles_error():
    failed = {"name": "op-2", "status": "DONE", "selfLink": "s",
              "error": {"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'ADDRESSES' exceeded."}]}}
    made, _slept = client(FakeSession())
    with pytest.raises(GcpError, match="Failed to reserve address: operation op-2 failed: QUOTA_EXCEEDED: Quota 'ADDRESSES' exceeded."):
        made.wait(failed, "reserve address")


def test_operation_timeout_names_the_operation():
    now = [0.0]
    session = FakeSession(*[Response(200, {"name": "op-3", "status": "RUNNING", "selfLink": "s"})] * 10)
    made = GcpClient(session, sleep=lambda seconds: now.__setitem__(0, now[0] + seconds), clock=lambda: now[0])
    with pytest.raises(GcpError, match=r"timed out after 5s waiting for operation op-3 \(status RUNNING\)"):
        made.wait({"name": "op-3", "status": "PENDING", "selfLink": "s"}, "create endpoint", timeout=5, poll=2)


def test_list_all_follows_page_tokens():
    session = FakeSession(Response(200, {"items": [1, 2], "nextPageToken": "t2"}), Response(200, {"items": [3]}))
    made, _slept = client(session)
    assert made.list_all("u", "items", "list addresses", params={"filter": "name=psc*"}) == [1, 2, 3]
    assert session.calls[1][3] == {"filter": "name=psc*", "pageToken": "t2"}


def test_auth_settings_fall_back_to_the_google_cloud_environment_variables():
    environ = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": "t0k3n", "GCP_PROJECT": "p", "GCP_SCOPES": "a, b"}
    settings = auth_settings({"project": None, "auth_kind": None}, environ)
    assert settings["auth_kind"] == "accesstoken" and settings["access_token"] == "t0k3n"
    assert settings["project"] == "p" and settings["scopes"] == ["a", "b"]
    assert auth_settings({"project": "q"}, environ)["project"] == "q"
    assert auth_settings({}, {})["auth_kind"] == "application"
    assert auth_settings({}, {})["scopes"] == ["https://www.googleapis.com/auth/cloud-platform"]


def test_access_token_credentials_and_clear_auth_errors():
    assert credentials({"auth_kind": "accesstoken", "access_token": "t", "scopes": []}).token == "t"
    with pytest.raises(GcpError, match="needs access_token"):
        credentials({"auth_kind": "accesstoken", "scopes": []})
    with pytest.raises(GcpError, match="needs service_account_file or service_account_contents"):
        credentials({"auth_kind": "serviceaccount", "scopes": []})
    with pytest.raises(GcpError, match="'apikey' is not one of"):
        credentials({"auth_kind": "apikey", "scopes": []})


def test_wait_polls_service_usage_operations_by_name_until_done():
    session = FakeSession(Response(200, {"name": "operations/acf.1", "done": False}),
                          Response(200, {"name": "operations/acf.1", "done": True, "response": {}}))
    made, slept = client(session)
    done = made.wait({"name": "operations/acf.1", "done": False}, "enable sqladmin")
    assert done["done"] is True
    assert session.calls[0][1] == "https://serviceusage.googleapis.com/v1/operations/acf.1"
    assert slept == [0.25, 0.5]  # quick first polls, growing towards `poll`


def test_wait_reports_a_gke_operation_status_error():
    made, _slept = client(FakeSession())
    with pytest.raises(GcpError, match=r"operation op-1 failed: 13: node pool quota exceeded"):
        made.wait({"name": "op-1", "status": "DONE", "selfLink": "s", "error": {"code": 13, "message": "node pool quota exceeded"}},
                  "create cluster")


def test_a_token_refresh_failure_is_a_readable_error_not_a_traceback():
    import google.auth.exceptions

    made, slept = client(FakeSession(google.auth.exceptions.RefreshError("metadata server unreachable")))
    with pytest.raises(GcpError, match=r"Failed to read x: could not get an access token: metadata server unreachable"):
        made.request("GET", "u", "read x")
    assert slept == []


def test_missing_application_default_credentials_say_so(monkeypatch):
    import google.auth
    import google.auth.exceptions

    def no_adc(scopes=None):
        raise google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_adc)
    with pytest.raises(GcpError, match="Failed to authenticate with application default credentials: Your default"):
        credentials(auth_settings({}, environ={}))


def test_operate_sends_the_call_then_waits_for_its_operation():
    started = {"name": "op-9", "status": "PENDING", "selfLink": "https://compute.googleapis.com/op-9"}
    session = FakeSession(Response(200, started), Response(200, dict(started, status="DONE")))
    made, _slept = client(session)
    assert made.operate("POST", "https://compute.googleapis.com/x", "create x", body={"name": "x"})["status"] == "DONE"
    assert [call[:3] for call in session.calls] == [
        ("POST", "https://compute.googleapis.com/x", {"name": "x"}),
        ("GET", "https://compute.googleapis.com/op-9", None),
    ]
    gone, _slept = client(FakeSession(Response(404, {"error": {"message": "gone"}})))
    assert gone.operate("DELETE", "u", "delete x", not_found_ok=True) is None


SECRET_LOOKING_KEY = '{"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\\nS3cretKeyMaterial\\n-----END PRIVATE KEY-----\\n", "token_uri": "https://oauth2.googleapis.com/token"}'


@pytest.mark.parametrize(
    "settings, source",
    [
        ({"service_account_contents": "{not json"}, "service_account_contents"),
        ({"service_account_contents": '["a list"]'}, "service_account_contents"),
        ({"service_account_contents": '{"type": "service_account"}'}, "service_account_contents"),
        ({"service_account_contents": SECRET_LOOKING_KEY}, "service_account_contents"),
        ({"service_account_contents": {"client_email": 3}}, "service_account_contents"),
        ({"service_account_file": "/nonexistent/key.json"}, "service_account_file /nonexistent/key.json"),
    ],
    ids=["not-json", "not-an-object", "missing-fields", "bad-private-key", "wrong-types", "missing-file"],
)
def test_a_malformed_service_account_key_fails_cleanly_without_echoing_it(settings, source):
    with pytest.raises(GcpError, match="Failed to authenticate: " + source + " is not a usable service account key") as raised:
        credentials(dict({"auth_kind": "serviceaccount", "scopes": []}, **settings))
    assert "S3cretKeyMaterial" not in str(raised.value)


def test_a_key_file_that_is_not_json_fails_cleanly(tmp_path):
    key = tmp_path / "key.json"
    key.write_text("-----BEGIN PRIVATE KEY-----\nS3cretKeyMaterial\n", encoding="utf-8")
    with pytest.raises(GcpError, match=f"service_account_file {key} is not a usable service account key") as raised:
        credentials({"auth_kind": "serviceaccount", "scopes": [], "service_account_file": str(key)})
    assert "S3cretKeyMaterial" not in str(raised.value)
