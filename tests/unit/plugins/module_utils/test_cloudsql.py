# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.cloudsql import (
    _settings_patch,
    _verify_allowed_projects,
    check_users,
    desired_instance,
    ensure_instance,
    instance_view,
)
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import differences

PARAMS = {"name": "db", "region": "r", "database_version": "MYSQL_8_0", "tier": "db-custom-2-7680", "edition": "ENTERPRISE",
          "availability_type": "ZONAL", "disk_size_gb": None, "deletion_protection": True, "labels": {}, "backups": True,
          "allowed_consumer_projects": ["c1"], "ssl_mode": "ENCRYPTED_ONLY", "users": []}


def test_instance_has_psc_and_no_public_ip():
    settings = desired_instance(PARAMS)["settings"]
    assert settings["ipConfiguration"] == {"ipv4Enabled": False, "sslMode": "ENCRYPTED_ONLY",
                                           "pscConfig": {"pscEnabled": True, "allowedConsumerProjects": ["c1"]}}
    assert "userLabels" not in settings and "dataDiskSizeGb" not in settings


def test_patch_sends_whole_blocks_of_what_changed():
    desired = desired_instance(dict(PARAMS, allowed_consumer_projects=["c1", "c2"]))
    current = desired_instance(PARAMS)
    stale = differences(desired, current)
    assert stale == ["settings.ipConfiguration.pscConfig.allowedConsumerProjects"]
    assert _settings_patch(desired["settings"], stale) == {"ipConfiguration": desired["settings"]["ipConfiguration"]}


def test_an_ignored_allow_list_change_fails_naming_both_lists():
    instance = desired_instance(PARAMS)
    with pytest.raises(GcpError, match=r"allowedConsumerProjects is \['c1'\], not \['c1', 'c2'\]; Cloud SQL ignored"):
        _verify_allowed_projects(dict(PARAMS, allowed_consumer_projects=["c2", "c1"]), instance)
    _verify_allowed_projects(PARAMS, instance)


def test_view_never_holds_passwords():
    view = instance_view(dict(desired_instance(PARAMS), rootPassword="x", pscServiceAttachmentLink="projects/t/x", dnsName="a.b."))
    assert "x" not in [value for value in view.values() if isinstance(value, str)]
    assert view["service_attachment"] == "projects/t/x" and view["public_ip"] is False


def test_tls_is_required_and_an_unencrypted_instance_is_corrected():
    current = desired_instance(PARAMS)
    current["settings"]["ipConfiguration"]["sslMode"] = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    desired = desired_instance(PARAMS)
    assert differences(desired, current) == ["settings.ipConfiguration.sslMode"]
    assert instance_view(desired)["ssl_mode"] == "ENCRYPTED_ONLY"


@pytest.mark.parametrize("host", [None, "", "10.128.%\nDROP", "10.1 28.%"])
def test_a_user_without_a_clean_host_is_refused(host):
    with pytest.raises(GcpError, match=r"users\[0\] \(app\) has host"):
        check_users(dict(PARAMS, users=[{"name": "app", "password": "x", "host": host}]))


@pytest.mark.parametrize("host", ["%", "10.128.%"])
def test_a_written_out_host_passes(host):
    check_users(dict(PARAMS, users=[{"name": "app", "password": "x", "host": host}]))


# ---------------------------------------------------------------- against the shared fake
PRESENT = dict(PARAMS, project="producer", deletion_protection=False, databases=[], update_password="on_create",
               wait_timeout=60, poll_interval=0, state="present", users=[{"name": "app", "password": "pw-unit", "host": "10.128.%"}])


def test_an_instance_allowing_plain_text_is_switched_to_tls_only(gcp):
    body = desired_instance(PRESENT)
    body["settings"]["ipConfiguration"]["sslMode"] = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    gcp.seed("https://sqladmin.googleapis.com/v1/projects/producer/instances", body)
    gcp.forget_calls()
    result = gcp.run(ensure_instance, PRESENT)
    assert result["changed"] is True and result["instance"]["ssl_mode"] == "ENCRYPTED_ONLY"
    assert gcp.google.resources["sqladmin:projects/producer/instances/db"]["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    users = [item for item in gcp.google.requests if item["method"] == "sql.users.insert"]
    assert [item["body"]["host"] for item in users] == ["10.128.%"]


def test_a_user_without_a_host_is_refused_before_any_call(gcp):
    with pytest.raises(GcpError, match=r"users\[0\] \(app\) has host None"):
        gcp.run(ensure_instance, dict(PRESENT, users=[{"name": "app", "password": "pw-unit", "host": None}]))
    assert gcp.google.requests == []


def test_cleanup_deletes_only_an_instance_this_collection_created(gcp):
    body = desired_instance(PRESENT)
    gcp.seed("https://sqladmin.googleapis.com/v1/projects/producer/instances", body)  # adopted: not created here
    gcp.forget_calls()
    left = gcp.run(ensure_instance, dict(PRESENT, state="absent"))
    assert left["changed"] is False and left["left"] is True and "settings.userLabels" in left["warnings"][0]
    assert gcp.mutations() == []
    gcp.run(ensure_instance, dict(PRESENT, state="absent", delete_unmarked=True))
    gcp.run(ensure_instance, dict(PRESENT, labels={"team": "db"}))
    labels = gcp.google.resources["sqladmin:projects/producer/instances/db"]["settings"]["userLabels"]
    assert labels == {"team": "db", "managed-by": "aibang-gke-platform"}
    gcp.run(ensure_instance, dict(PRESENT, labels={"team": "data"}))
    labels = gcp.google.resources["sqladmin:projects/producer/instances/db"]["settings"]["userLabels"]
    assert labels == {"team": "data", "managed-by": "aibang-gke-platform"}, "a label change keeps the mark"
    assert gcp.run(ensure_instance, dict(PRESENT, state="absent"))["changed"] is True
