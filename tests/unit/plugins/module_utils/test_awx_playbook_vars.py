# -*- coding: utf-8 -*-
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.awx_playbook_vars import (
    PlaybookReadError, accepted_variables, expression_names, template_names)

ROOT = pathlib.Path(__file__).parents[4]


@pytest.mark.parametrize("expression, names", [
    ("platform_environment != 'prod' or cleanup_confirm | default('') == platform_environment",
     {"platform_environment", "cleanup_confirm"}),
    ("now(utc=true, fmt='%Y') ~ x.attribute", {"x"}),
    ("a is defined and b is not none and c | bool", {"a", "b", "c"}),
    ("'quoted words stay out' in names", {"names"}),
    ("item.name in wanted", {"wanted"}),
])
def test_expression_names_are_variables_only(expression, names):
    assert expression_names(expression) == names


def test_template_names_read_inside_the_delimiters_only():
    assert template_names("plain {{ a | default(b) }} text {% if c %}x{% endif %}") == {"a", "b", "c"}


@pytest.mark.parametrize("playbook, accepted", [
    ("playbooks/deploy.yml", {"platform_release", "control_hosts", "squid_vm_hosts", "egress_alias", "k8s_auth"}),
    ("playbooks/cleanup.yml", {"cleanup_confirm", "platform_environment", "psc_producer_delete_database"}),
    ("playbooks/verify.yml", {"egress_chain_verify_requests", "cluster_dns_verify_server"}),
    ("playbooks/diagnose.yml", {"control_hosts", "egress_policy"}),
])
def test_playbooks_accept_their_inputs(playbook, accepted):
    assert accepted <= accepted_variables(str(ROOT), playbook)


@pytest.mark.parametrize("playbook, refused", [
    ("playbooks/deploy.yml", {"platform_run_id", "__release_record", "item", "cleanup_confirm", "fmt", "utc"}),
    ("playbooks/verify.yml", {"platform_release", "__verify_alias"}),
    ("playbooks/rollback.yml", {"rollback_components", "cleanup_confirm"}),
])
def test_names_the_playbook_sets_itself_are_not_inputs(playbook, refused):
    assert not refused & accepted_variables(str(ROOT), playbook)


def test_role_options_of_the_entry_point_used_are_accepted():
    # cleanup.yml runs psc_producer's cleanup entry point, whose options include the database switch
    assert "psc_producer_sql_instance" in accepted_variables(str(ROOT), "playbooks/cleanup.yml")


def test_a_missing_playbook_is_an_error(tmp_path):
    with pytest.raises(PlaybookReadError, match="nope.yml"):
        accepted_variables(str(tmp_path), "nope.yml")


def test_imports_and_includes_are_followed(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "main.yml").write_text(
        "- import_playbook: other.yml\n"
        "- hosts: all\n  tasks:\n    - ansible.builtin.include_tasks: tasks/t.yml\n")
    (tmp_path / "other.yml").write_text("- hosts: all\n  tasks:\n    - ansible.builtin.debug: {msg: '{{ from_import }}'}\n")
    (tmp_path / "tasks/t.yml").write_text(
        "- ansible.builtin.set_fact: {made_here: 1}\n"
        "- ansible.builtin.debug: {msg: '{{ from_tasks }} {{ made_here }}'}\n  when: gate | bool\n")
    assert accepted_variables(str(tmp_path), "main.yml") == {"from_import", "from_tasks", "gate"}
