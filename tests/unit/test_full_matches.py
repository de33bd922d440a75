# -*- coding: utf-8 -*-
"""Values that reach a configuration line or a validation are matched whole (issue 16, item 3): Python's `$` also
matches before a trailing newline, so `^name$` accepts "name\\n". Every check uses `fullmatch` or `\\Z`; each
validator here refuses a value with a trailing newline, and no regex in the collection ends in `$` (except one
that reads a multi-line text with (?m))."""

from __future__ import annotations

import pathlib
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aibang.gke_platform.plugins.filter.workload_identity import workload_identity_members
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload, app_workload_readiness, cluster_probe
from ansible_collections.aibang.gke_platform.plugins.module_utils.egress_network import probe_image_errors

ROOT = pathlib.Path(__file__).parents[2]
# A regex literal whose last character is `$`: r"...$" in Python, '...$' in a Jinja match/search/regex_replace.
PYTHON_REGEX = re.compile(r"""re\.(?:compile|match|search|sub|fullmatch)\(\s*r?(["'])(?P<pattern>.*?)\1""")
JINJA_REGEX = re.compile(r"""(?:(?:is\s+(?:not\s+)?(?:match|search|regex)|regex_replace|regex_search|regex_findall)\(\s*"""
                         r"""|'(?:regex_replace|regex_search|match|search)',\s*)'(?P<pattern>[^']*)'""")


def _files(*patterns: str) -> list:
    return [path for pattern in patterns for path in sorted(ROOT.glob(pattern))]


def _dollar_ended(text: str, regex: re.Pattern) -> list:
    return [found["pattern"] for found in regex.finditer(text)
            if found["pattern"].endswith("$") and not found["pattern"].endswith("\\$") and "(?m)" not in found["pattern"]]


@pytest.mark.parametrize("path", _files("plugins/**/*.py"), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_python_regex_ends_in_dollar(path):
    assert _dollar_ended(path.read_text(encoding="utf-8"), PYTHON_REGEX) == []


@pytest.mark.parametrize("path", _files("roles/**/*.yml", "roles/**/*.j2", "playbooks/**/*.yml"), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_jinja_regex_ends_in_dollar(path):
    assert _dollar_ended(path.read_text(encoding="utf-8"), JINJA_REGEX) == []


def test_the_scan_finds_a_dollar_ended_regex():
    assert _dollar_ended("x is match('^[a-z]+$')", JINJA_REGEX) == ["^[a-z]+$"]
    assert _dollar_ended("names | map('regex_replace', '-+$', '')", JINJA_REGEX) == ["-+$"]
    assert _dollar_ended('R = re.compile(r"^[a-z]+$")', PYTHON_REGEX) == ["^[a-z]+$"]
    assert _dollar_ended("x is search('(?m)^up 1$')", JINJA_REGEX) == []


@pytest.mark.parametrize("host", ["login.microsoftonline.com\n", "login.microsoftonline.com\nrequest GET evil 80"])
def test_the_cluster_probe_refuses_a_host_with_a_newline(host):
    with pytest.raises(cluster_probe.ProbeError, match="is not a host name"):
        cluster_probe.normalized_requests([{"host": host, "port": 443}])
    with pytest.raises(cluster_probe.ProbeError, match="is not a DNS name"):
        cluster_probe.probe_args([host], [])


def test_the_cluster_probe_refuses_a_method_with_a_newline():
    with pytest.raises(cluster_probe.ProbeError, match="is not an HTTP method"):
        cluster_probe.normalized_requests([{"host": "example.org", "method": "GET\n", "port": 80}])


@pytest.mark.parametrize("field, value", [("name", "orders\n"), ("namespace", "apps\n")])
def test_an_app_name_or_namespace_with_a_trailing_newline_is_refused(field, value):
    app = {"name": "orders", "image": "registry.example/orders:1", "port": 8080}
    effective = {"namespace": "apps", "image": app["image"], "port": 8080}
    if field == "name":
        app["name"] = value
    else:
        effective["namespace"] = value
    with pytest.raises(app_workload.AppWorkloadError, match=re.escape(repr(value))):
        app_workload.validate(app, effective)


@pytest.mark.parametrize("schedule, ok", [("*/5 * * * *", True), ("*/5 * * * MON\n", True), ("0 1 * * 1-5", True),
                                          ("*/5\n* * * *", True), ("*/5 * * * *;", False)])
def test_cron_fields_are_matched_whole(schedule, ok):
    assert app_workload.is_cron(schedule) is ok


@pytest.mark.parametrize("image, pinned", [("registry.example/orders@sha256:" + "a" * 64, True),
                                           ("registry.example/orders@sha256:" + "a" * 64 + "\n", False),
                                           ("registry.example/orders:1", False)])
def test_a_prod_image_is_pinned_only_by_a_whole_digest(image, pinned):
    container = {"name": "app", "image": image}
    deployment = {"kind": "Deployment", "metadata": {"name": "orders"}, "spec": {"template": {"spec": {"containers": [container]}}}}
    unmet = []
    app_workload_readiness.check_containers(deployment, unmet, prod=True)
    assert any(line.startswith("container-image-digest:") for line in unmet) is not pinned, unmet


def test_a_workload_identity_account_with_a_trailing_newline_is_refused():
    assert workload_identity_members(["apps/app"], "p") == ["serviceAccount:p.svc.id.goog[apps/app]"]
    with pytest.raises(AnsibleFilterError, match="is not a Kubernetes service account"):
        workload_identity_members(["apps/app\n"], "p")


def test_the_bypass_probe_image_with_a_trailing_newline_is_refused():
    assert probe_image_errors("aibang-testbed.local/probe:1\n", require_digest=False) != []
