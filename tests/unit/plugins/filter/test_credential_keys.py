# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.filter.credential_keys import FilterModule

credential_keys = FilterModule().filters()["credential_keys"]


def test_settings_pass_and_credentials_are_named_without_their_values():
    environment = {"HTTPS_PROXY": "http://127.0.0.1:18443", "REQUESTS_CA_BUNDLE": "/ca.pem", "GCP_AUTH_KIND": "accesstoken",
                   "GCP_SERVICE_ACCOUNT_FILE": "/keys/sa.json", "GCP_ACCESS_TOKEN": "ya29.secret",
                   "GCP_SERVICE_ACCOUNT_CONTENTS": "{...}", "db_password": "x"}
    assert credential_keys(environment) == ["GCP_ACCESS_TOKEN", "GCP_SERVICE_ACCOUNT_CONTENTS", "db_password"]
    assert credential_keys({}) == [] and credential_keys(None) == []


def test_not_a_mapping():
    with pytest.raises(AnsibleFilterError, match="mapping"):
        credential_keys(["GCP_ACCESS_TOKEN"])
