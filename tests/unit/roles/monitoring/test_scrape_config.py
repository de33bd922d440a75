# -*- coding: utf-8 -*-
"""The scrape jobs the monitoring role writes to its ConfigMap where the Prometheus Operator is absent: rendered from
the role's own vars and defaults, checked by Prometheus's promtool (`promtool check config`).

Debian's prometheus is built without Kubernetes service discovery (its NEWS.Debian: "Kubernetes support has been
completely removed"), so its promtool refuses every `kubernetes_sd_configs`. Each such block is checked here against
upstream's fields (docs: configuration, <kubernetes_sd_config>) and swapped for a `file_sd_configs` before promtool reads
the rest: the job, its static targets and every relabelling rule.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from .promql import REPO, promtool

ROLE = REPO / "roles" / "monitoring"
# Upstream Prometheus's <kubernetes_sd_config> (without the HTTP client settings, which the role does not set).
KUBERNETES_SD_FIELDS = {"api_server", "role", "kubeconfig_file", "namespaces", "selectors", "attach_metadata"}
KUBERNETES_SD_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}
NAMESPACES_FIELDS = {"own_namespace", "names"}
SELECTOR_FIELDS = {"role", "label", "field"}


def scrape_jobs(**overrides) -> list:
    """The role's scrape jobs as its ConfigMap holds them (plain data)."""
    loader = DataLoader()  # loads the role's files as Ansible does: their strings are templates
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "monitoring_vm_exporter_addresses": ["10.128.2.100"], **overrides}
    jobs = Templar(loader=loader, variables=variables).template(trust_as_template("{{ _monitoring_scrape_configs }}"))
    return json.loads(json.dumps(jobs))


def kubernetes_sd_errors(block: dict) -> list:
    """What upstream Prometheus would refuse in one kubernetes_sd_configs entry."""
    errors = [f"unknown field {key}" for key in sorted(set(block) - KUBERNETES_SD_FIELDS)]
    if block.get("role") not in KUBERNETES_SD_ROLES:
        errors.append(f"role {block.get('role')!r} is not one of {sorted(KUBERNETES_SD_ROLES)}")
    namespaces = block.get("namespaces", {})
    if not isinstance(namespaces, dict) or set(namespaces) - NAMESPACES_FIELDS or not isinstance(namespaces.get("names", []), list):
        errors.append(f"namespaces {namespaces!r}: a mapping of own_namespace and names (a list)")
    selector_roles = [selector.get("role") for selector in block.get("selectors", [])]
    for selector in block.get("selectors", []):
        errors += [f"selector field {key}" for key in sorted(set(selector) - SELECTOR_FIELDS)]
    if len(set(selector_roles)) != len(selector_roles) or any(role != block.get("role") for role in selector_roles):
        errors.append(f"selectors' roles {selector_roles}: once each, the discovery's own role (pod for role pod)")
    return errors


def checked_by_promtool(jobs: list, tmp_path: pathlib.Path):
    """promtool over the jobs, each kubernetes_sd_configs read from a file_sd file instead."""
    (tmp_path / "pods.json").write_text("[]", encoding="utf-8")
    plain = [{key: value for key, value in job.items() if key != "kubernetes_sd_configs"}
             | ({"file_sd_configs": [{"files": [str(tmp_path / "pods.json")]}]} if "kubernetes_sd_configs" in job else {})
             for job in jobs]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"scrape_configs": plain}), encoding="utf-8")
    return promtool("check", "config", str(config))


def test_the_scrape_jobs_pass_promtool(tmp_path):
    jobs = scrape_jobs()
    assert [job["job_name"] for job in jobs] == ["aibang-squid-gke", "aibang-squid-vm", "aibang-apps"]
    result = checked_by_promtool(jobs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kubernetes_discovery_blocks_have_upstreams_shape():
    blocks = {job["job_name"]: block for job in scrape_jobs() for block in job.get("kubernetes_sd_configs", [])}
    assert set(blocks) == {"aibang-squid-gke", "aibang-apps"}
    assert {name: kubernetes_sd_errors(block) for name, block in blocks.items()} == {name: [] for name in blocks}
    assert blocks["aibang-squid-gke"]["selectors"] == [{"role": "pod", "label": "app.kubernetes.io/name=squid-proxy"}]


def test_the_vm_job_scrapes_each_vm_at_the_exporter_port():
    vm_job = next(job for job in scrape_jobs(monitoring_vm_exporter_addresses=["10.0.0.1", "10.0.0.2"])
                  if job["job_name"] == "aibang-squid-vm")
    assert vm_job["static_configs"] == [{"targets": ["10.0.0.1:9301", "10.0.0.2:9301"], "labels": {"tier": "vm"}}]


@pytest.mark.parametrize(
    "block, complaint",
    [
        ({"role": "pod", "namespaces": ["intra-proxy"]}, "namespaces"),
        ({"role": "pods"}, "role 'pods'"),
        ({"role": "pod", "selectors": [{"role": "pod", "labels": "a=b"}]}, "selector field labels"),
        ({"role": "pod", "selectors": [{"role": "service", "label": "a=b"}]}, "selectors' roles"),
    ],
    ids=["namespaces-list", "unknown-role", "selector-field", "selector-role"],
)
def test_a_bad_kubernetes_discovery_block_is_named(block, complaint):
    assert any(complaint in error for error in kubernetes_sd_errors(block)), kubernetes_sd_errors(block)


def test_promtool_names_a_bad_relabelling_rule(tmp_path):
    jobs = scrape_jobs()
    jobs[2]["relabel_configs"][0]["regex"] = "(unclosed"
    result = checked_by_promtool(jobs, tmp_path)
    assert result.returncode != 0 and "(unclosed" in result.stdout + result.stderr, result.stdout + result.stderr
