# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.filter.corefile_alias import FilterModule

corefile_alias = FilterModule().filters()["corefile_alias"]


def test_round_trip():
    original = ".:53 {\n    errors\n}\n"
    edited = corefile_alias(original, {"a.intra.aibang.local": "svc.ns.svc.cluster.local"})
    assert "rewrite stop name exact a.intra.aibang.local svc.ns.svc.cluster.local answer auto" in edited
    assert corefile_alias(edited) == original


def test_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="root server block"):
        corefile_alias("x:53 {\n}\n", {"a.intra.aibang.local": "svc.ns.svc.cluster.local"})
    with pytest.raises(AnsibleFilterError, match="Corefile text"):
        corefile_alias(None)


def test_reading_a_block():
    corefile_aliases = FilterModule().filters()["corefile_aliases"]
    edited = corefile_alias(".:53 {\n    errors\n}\n", {"a.intra.aibang.local": "svc.ns.svc.cluster.local"}, "egress")
    assert corefile_aliases(edited) == {"a.intra.aibang.local": "svc.ns.svc.cluster.local"}
    assert corefile_aliases(edited, "other") == {}


def test_dns_aliases_normalises_and_refuses_a_crafted_alias():
    dns_aliases = FilterModule().filters()["dns_aliases"]
    assert dns_aliases({"A.intra.aibang.local.": "svc.ns.svc.cluster.local"}) == {"a.intra.aibang.local": "svc.ns.svc.cluster.local"}
    crafted = "x.intra.aibang.local:5353 {\n    forward . 203.0.113.53\n}\nreal.intra.aibang.local"
    with pytest.raises(AnsibleFilterError, match="alias 'x.intra.aibang.local:5353"):
        dns_aliases({crafted: "svc.ns.svc.cluster.local"})
