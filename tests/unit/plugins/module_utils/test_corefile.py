# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.corefile import (
    CorefileError,
    aliases_in,
    markers,
    validated_aliases,
    with_aliases,
)

BEGIN, END = markers()

COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
    reload
}
example.internal:53 {
    forward . 10.0.0.2
}
"""
ALIAS = {"microsoft.intra.aibang.local": "squid-proxy-service.intra-proxy.svc.cluster.local"}


def test_adds_a_marked_block_at_the_top_of_the_root_server():
    edited = with_aliases(COREFILE, ALIAS)
    lines = edited.splitlines()
    assert lines[0] == ".:53 {"
    assert lines[1] == f"    {BEGIN}"
    assert lines[2] == "    rewrite stop name exact microsoft.intra.aibang.local squid-proxy-service.intra-proxy.svc.cluster.local answer auto"
    assert lines[3] == f"    {END}"
    assert edited.replace("\n".join(lines[1:4]) + "\n", "") == COREFILE


def test_idempotent_and_replaces_the_block_wholesale():
    once = with_aliases(COREFILE, ALIAS)
    assert with_aliases(once, ALIAS) == once
    changed = with_aliases(once, {"graph.intra.aibang.local": "squid-proxy-service.intra-proxy.svc.cluster.local"})
    assert aliases_in(changed) == {"graph.intra.aibang.local": "squid-proxy-service.intra-proxy.svc.cluster.local"}
    assert changed.count(BEGIN) == 1


@pytest.mark.parametrize("original", [COREFILE, COREFILE.rstrip("\n"), ". {\n\terrors\n}\n", COREFILE.replace("\n", "\r\n")])
def test_removing_restores_the_original_byte_for_byte(original):
    assert with_aliases(with_aliases(original, ALIAS), {}) == original
    assert with_aliases(original, {}) == original


def test_aliases_are_normalised_and_sorted():
    edited = with_aliases(COREFILE, {"B.Intra.aibang.local.": "svc.ns.svc.cluster.local", "a.intra.aibang.local": "svc.ns.svc.cluster.local."})
    assert aliases_in(edited) == {"a.intra.aibang.local": "svc.ns.svc.cluster.local", "b.intra.aibang.local": "svc.ns.svc.cluster.local"}
    assert edited.index("a.intra") < edited.index("b.intra")


@pytest.mark.parametrize(
    "corefile, aliases, message",
    [
        ("example.internal:53 {\n    forward . 10.0.0.2\n}\n", ALIAS, "no root server block"),
        (COREFILE, {"bad alias": "svc.ns.svc.cluster.local"}, "'bad alias'"),
        (COREFILE, {"a.intra.aibang.local": "http://svc"}, "'http://svc'"),
        (f".:53 {{\n    {BEGIN}\n}}\n", ALIAS, "markers of block 'egress' are damaged"),
        (f".:53 {{\n    {END}\n    {BEGIN}\n}}\n", {}, "markers of block 'egress' are damaged"),
    ],
)
def test_errors(corefile, aliases, message):
    with pytest.raises(CorefileError, match=message):
        with_aliases(corefile, aliases)


def test_named_blocks_live_side_by_side_and_come_out_cleanly():
    egress = with_aliases(COREFILE, ALIAS)
    both = with_aliases(egress, {"x.test.aibang.local": "svc.ns.svc.cluster.local"}, block="molecule")
    assert aliases_in(both) == ALIAS
    assert aliases_in(both, "molecule") == {"x.test.aibang.local": "svc.ns.svc.cluster.local"}
    assert with_aliases(both, {}, block="molecule") == egress
    assert with_aliases(with_aliases(both, {}), {}, block="molecule") == COREFILE


def test_block_names_are_checked():
    with pytest.raises(CorefileError, match="block name 'Bad Name'"):
        with_aliases(COREFILE, ALIAS, block="Bad Name")


INJECTIONS = [
    "evil.intra.aibang.local\n}\nevil.example:53 {\n    forward . 203.0.113.53",
    "evil.intra.aibang.local\n",
    "evil.intra.aibang.local.\n",
    "a.intra.aibang.local b.intra.aibang.local",
    "a.intra.aibang.local\t",
    "a.intra.aibang.local{",
    "a.intra.aibang.local\r",
    "",
    "-a.intra.aibang.local",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_aliases_and_targets_that_could_add_corefile_lines_are_refused(name):
    """Issue 16 item 4: a newline (also a trailing one, which `$` let through) or space in a name is refused."""
    for aliases in ({name: "svc.ns.svc.cluster.local"}, {"a.intra.aibang.local": name}):
        with pytest.raises(CorefileError, match="is not a valid DNS name"):
            validated_aliases(aliases)
        with pytest.raises(CorefileError, match="is not a valid DNS name"):
            with_aliases(COREFILE, aliases)


@pytest.mark.parametrize("block", ["egress\n", "egress evil", "egress\nforward"])
def test_block_names_are_matched_whole(block):
    with pytest.raises(CorefileError, match="block name"):
        markers(block)


def test_validated_aliases_needs_a_mapping():
    with pytest.raises(CorefileError, match="must be a mapping"):
        validated_aliases(["a.intra.aibang.local"])
