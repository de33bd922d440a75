# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError, auth_settings, credentials
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import regional
from ansible_collections.aibang.gke_platform.tests.unit.fake_gcp import FakeResponse

PROJECT = "p"
REGION = "europe-west2"
ADDRESSES = regional(PROJECT, REGION, "addresses")


def reserved(gcp, name: str = "psc-sql") -> str:
    gcp.seed(ADDRESSES, {"name": name, "addressType": "INTERNAL"})
    gcp.forget_calls()
    return f"{ADDRESSES}/{name}"


def test_retries_429_and_5xx_with_growing_backoff_then_succeeds(gcp):
    url = reserved(gcp)
    for status in (429, 503, 500):
        gcp.fault("compute.addresses.get", status=status)
    client = gcp.make_client(base_delay=0.5)
    assert client.request("GET", url, "read x")["name"] == "psc-sql"
    assert gcp.slept == [0.5, 1.0, 2.0]
    assert [item["status"] for item in gcp.google.requests] == [429, 503, 500, 200]


def test_backoff_is_jittered_and_capped(gcp):
    url = reserved(gcp)
    gcp.fault("compute.addresses.get", status=503, times=7)
    gcp.make_client(retries=7, base_delay=1.0, max_delay=8.0, jitter=lambda: 0.5).request("GET", url, "read")
    assert gcp.slept == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_retry_after_is_honoured(gcp):
    url = reserved(gcp)
    gcp.session.scripted.append(FakeResponse(429, headers={"Retry-After": "7"}))
    gcp.client.request("GET", url, "read")
    assert gcp.slept == [7.0]


def test_gives_up_after_the_retries_with_googles_message(gcp):
    gcp.fault("compute.addresses.insert", status=503, times=3, message="The service is currently unavailable.")
    with pytest.raises(GcpError, match="Failed to create address psc-sql: The service is currently unavailable.") as caught:
        gcp.make_client(retries=2).request("POST", ADDRESSES, "create address psc-sql", body={"name": "psc-sql"})
    assert caught.value.status == 503
    assert not gcp.exists(f"compute:projects/{PROJECT}/regions/{REGION}/addresses/psc-sql")


def test_connection_errors_are_retried(gcp):
    url = reserved(gcp)
    gcp.session.scripted.append(ConnectionError("reset"))
    assert gcp.client.request("GET", url, "read")["name"] == "psc-sql"
    assert len(gcp.slept) == 1


def _invalid_body(gcp):
    return "POST", ADDRESSES, {"name": "a", "adress": "10.0.0.9"}, 'Unknown name "adress"'


def _missing(gcp):
    return "GET", f"{ADDRESSES}/nowhere", None, "addresses/nowhere' was not found"


def _duplicate(gcp):
    reserved(gcp, "taken")
    return "POST", ADDRESSES, {"name": "taken"}, "addresses/taken' already exists"


def _stale_fingerprint(gcp):
    gcp.network(PROJECT)
    subnet = gcp.subnetwork(PROJECT, REGION, "nodes", "10.0.0.0/24")
    gcp.forget_calls()
    return "PATCH", subnet, {"fingerprint": "c3RhbGU=", "description": "x"}, "fingerprint does not match"


@pytest.mark.parametrize("status, call", [(400, _invalid_body), (404, _missing), (409, _duplicate), (412, _stale_fingerprint)])
def test_client_errors_are_not_retried(gcp, status, call):
    method, url, body, message = call(gcp)
    with pytest.raises(GcpError, match=message) as caught:
        gcp.client.request(method, url, "do it", body=body)
    assert caught.value.status == status
    assert len(gcp.session.calls) == 1 and gcp.slept == []


def test_not_found_can_mean_absent(gcp):
    assert gcp.client.request("GET", f"{ADDRESSES}/nowhere", "read", not_found_ok=True) is None


def test_403_names_the_missing_permission_from_details(gcp):
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
                "metadata": {"permission": "compute.forwardingRules.create"}}]
    gcp.fault("compute.forwardingRules.insert", status=403, message="Permission denied on resource project p.",
              reason="IAM_PERMISSION_DENIED", details=details)
    with pytest.raises(GcpError) as caught:
        gcp.client.request("POST", regional(PROJECT, REGION, "forwardingRules"), "create forwarding rule psc-sql",
                           body={"name": "psc-sql"})
    assert caught.value.permission == "compute.forwardingRules.create"
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert str(caught.value) == ("Failed to create forwarding rule psc-sql: Permission denied on resource project p. "
                                 "(the caller lacks compute.forwardingRules.create; grant a role that includes it)")


def test_403_names_the_permission_from_the_message(gcp):
    gcp.fault("compute.addresses.insert", status=403, message="Required 'compute.addresses.create' permission for 'projects/p'",
              reason="forbidden")
    with pytest.raises(GcpError) as caught:
        gcp.client.request("POST", ADDRESSES, "reserve address", body={"name": "a"})
    assert caught.value.reason == "forbidden"
    assert caught.value.permission == ""  # Compute words it differently; the message itself still says which
    assert "compute.addresses.create" in str(caught.value)


def test_non_json_errors_keep_the_body(gcp):
    gcp.session.scripted.append(FakeResponse(502, text="<html>Bad Gateway</html>"))  # a proxy's page, not Google's
    with pytest.raises(GcpError, match="Failed to read: <html>Bad Gateway</html>"):
        gcp.make_client(retries=0).request("GET", f"{ADDRESSES}/a", "read")


def test_operations_are_polled_to_done(gcp):
    done = gcp.client.operate("POST", ADDRESSES, "create address psc-sql", body={"name": "psc-sql"}, poll=3.0)
    assert done["status"] == "DONE" and done["operationType"] == "insert"
    assert gcp.slept == [0.25, 0.5]  # PENDING -> RUNNING -> DONE, polls growing from 0.25 s, capped at poll
    assert [call[:3] for call in gcp.session.calls] == [("POST", ADDRESSES, {"name": "psc-sql"}),
                                                        ("GET", done["selfLink"], None), ("GET", done["selfLink"], None)]


def test_a_failed_operation_surfaces_googles_error(gcp):
    gcp.fault("compute.addresses.insert", operation_error={"code": "QUOTA_EXCEEDED", "message": "Quota 'ADDRESSES' exceeded."})
    with pytest.raises(GcpError, match=r"Failed to reserve address: operation operation-\w+ failed: QUOTA_EXCEEDED: Quota 'ADDRESSES' exceeded."):
        gcp.client.operate("POST", ADDRESSES, "reserve address", body={"name": "a"})
    assert not gcp.exists(f"compute:projects/{PROJECT}/regions/{REGION}/addresses/a")


def test_operation_timeout_names_the_operation(gcp):
    running = {"name": "op-3", "status": "RUNNING", "selfLink": f"{ADDRESSES}/op-3"}
    gcp.session.scripted.extend([FakeResponse(200, running)] * 10)  # an operation Google never finishes
    with pytest.raises(GcpError, match=r"timed out after 5s waiting for operation op-3 \(status RUNNING\)"):
        gcp.client.wait(dict(running, status="PENDING"), "create endpoint", timeout=5, poll=2)


def test_list_all_follows_page_tokens(gcp):
    gcp.session.scripted.extend([FakeResponse(200, {"items": [1, 2], "nextPageToken": "t2"}), FakeResponse(200, {"items": [3]})])
    assert gcp.client.list_all(ADDRESSES, "items", "list addresses", params={"filter": "name=psc*"}) == [1, 2, 3]
    assert gcp.session.calls[1][3] == {"filter": "name=psc*", "pageToken": "t2"}


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


def test_wait_polls_service_usage_operations_by_name_until_done(gcp):
    url = f"https://serviceusage.googleapis.com/v1/projects/{PROJECT}/services:batchEnable"
    done = gcp.client.operate("POST", url, "enable sqladmin", body={"serviceIds": ["sqladmin.googleapis.com"]})
    assert done["done"] is True
    assert gcp.session.calls[1][1] == "https://serviceusage.googleapis.com/v1/" + done["name"]
    assert gcp.slept == [0.25]


def test_wait_reports_a_gke_operation_status_error(gcp):
    gcp.fault("container.projects.locations.clusters.create", operation_error={"message": "node pool quota exceeded"})
    with pytest.raises(GcpError, match=r"operation operation-\w+ failed: 13: node pool quota exceeded"):
        gcp.client.operate("POST", f"https://container.googleapis.com/v1/projects/{PROJECT}/locations/{REGION}/clusters",
                           "create cluster", body={"cluster": {"name": "c"}})


def test_a_token_refresh_failure_is_a_readable_error_not_a_traceback(gcp):
    import google.auth.exceptions

    gcp.session.scripted.append(google.auth.exceptions.RefreshError("metadata server unreachable"))
    with pytest.raises(GcpError, match=r"Failed to read x: could not get an access token: metadata server unreachable"):
        gcp.client.request("GET", f"{ADDRESSES}/a", "read x")
    assert gcp.slept == []


def test_missing_application_default_credentials_say_so(monkeypatch):
    import google.auth
    import google.auth.exceptions

    def no_adc(scopes=None):
        raise google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_adc)
    with pytest.raises(GcpError, match="Failed to authenticate with application default credentials: Your default"):
        credentials(auth_settings({}, environ={}))


def test_operate_sends_the_call_then_waits_for_its_operation(gcp):
    url = reserved(gcp)
    assert gcp.client.operate("DELETE", url, "delete psc-sql")["status"] == "DONE"
    assert [item["method"] for item in gcp.google.requests] == ["compute.addresses.delete", "compute.regionOperations.get",
                                                                "compute.regionOperations.get"]
    assert gcp.client.operate("DELETE", url, "delete psc-sql", not_found_ok=True) is None


SECRET_LOOKING_KEY = ('{"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com", "private_key": '
                      '"-----BEGIN PRIVATE KEY-----\\nS3cretKeyMaterial\\n-----END PRIVATE KEY-----\\n", '
                      '"token_uri": "https://oauth2.googleapis.com/token"}')


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
