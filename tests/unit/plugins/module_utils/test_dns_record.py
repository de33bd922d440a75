# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import fqdn, record_view


@pytest.mark.parametrize("name, expected", [("a.sql.goog", "a.sql.goog."), ("a.sql.goog.", "a.sql.goog.")])
def test_fqdn(name, expected):
    assert fqdn(name) == expected


def test_view_normalises_ttl():
    assert record_view({"name": "a.", "type": "A", "ttl": "300", "rrdatas": ["10.0.0.1"]}) == {
        "name": "a.", "type": "A", "ttl": 300, "rrdatas": ["10.0.0.1"]}
    assert record_view(None) == {}
