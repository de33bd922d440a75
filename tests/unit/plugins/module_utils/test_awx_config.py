# -*- coding: utf-8 -*-
from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from ansible_collections.aibang.gke_platform.plugins.module_utils.awx_config import (
    AwxConfigError, plan, shadowed_variables, workflows_to_write)

ROOT = pathlib.Path(__file__).parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/awx_config/defaults/main.yml").read_text())
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def config(**changes):
    base = {
        "organization": DEFAULTS["awx_config_organization"],
        "project": DEFAULTS["awx_config_project"],
        "environments": copy.deepcopy(DEFAULTS["awx_config_environments"]),
        "credentials": [
            {"name": "gcp-dev", "type": "gce",
             "inputs": {"username": "sa@p.iam.gserviceaccount.com", "project": "p", "ssh_key_data": "KEY"}},
            {"name": "k8s-dev", "type": "kubernetes_bearer_token",
             "inputs": {"host": "https://127.0.0.1:6443", "bearer_token": "T", "verify_ssl": True,
                        "ssl_ca_cert": CA}},
        ],
        "job_templates": copy.deepcopy(DEFAULTS["awx_config_job_templates"]),
        "name_prefix": "aibang",
        "execution_environment": "",
    }
    base["environments"][0]["credentials"] = ["gcp-dev", "k8s-dev"]
    base.update(changes)
    return base


def by_name(items):
    return {item["name"]: item for item in items}


def test_plan_has_the_objects_of_every_environment():
    planned = plan(config(), str(ROOT))
    assert [inv["name"] for inv in planned["controller_inventories"]] == [
        "aibang-dev-inventory", "aibang-staging-inventory", "aibang-prod-inventory"]
    sources = by_name(planned["controller_inventory_sources"])
    assert sources["aibang-prod-inventory-source"]["source_path"] == "inventories/prod"
    templates = by_name(planned["controller_templates"])
    assert len(templates) == 15
    assert templates["aibang-dev-deploy"]["credentials"] == ["gcp-dev", "k8s-dev"]
    assert templates["aibang-dev-deploy"]["ask_tags_on_launch"] is True
    assert templates["aibang-prod-verify"]["survey_enabled"] is False
    credentials = by_name(planned["controller_credentials"])
    assert credentials["gcp-dev"]["credential_type"] == "Google Compute Engine"
    assert credentials["k8s-dev"]["credential_type"] == "OpenShift or Kubernetes API Bearer Token"
    assert credentials["k8s-dev"]["update_secrets"] is False


@pytest.mark.parametrize("env, variables", [
    ("dev", ["psc_producer_delete_database"]),
    ("prod", ["cleanup_confirm", "psc_producer_delete_database"]),
])
def test_the_prod_cleanup_asks_for_a_confirmation(env, variables):
    templates = by_name(plan(config(), str(ROOT))["controller_templates"])
    spec = templates["aibang-{0}-cleanup".format(env)]["survey_spec"]["spec"]
    assert [question["variable"] for question in spec] == variables


def test_the_release_number_is_asked_by_deploy_and_its_workflow():
    planned = plan(config(), str(ROOT))
    deploy = by_name(planned["controller_templates"])["aibang-dev-deploy"]["survey_spec"]["spec"]
    workflow = by_name(planned["controller_workflows"])["aibang-dev-deploy-workflow"]["survey_spec"]["spec"]
    assert deploy == workflow
    assert deploy[0]["variable"] == "platform_release" and deploy[0]["required"] is True


def graph(workflow):
    return {node["identifier"]: (node["unified_job_template"]["type"], node["related"])
            for node in workflow["workflow_nodes"]}


@pytest.mark.parametrize("env, approval_link", [("dev", None), ("staging", "always_nodes"), ("prod", "success_nodes")])
def test_workflows_deploy_verify_rollback_with_the_environment_approval(env, approval_link):
    workflows = by_name(plan(config(), str(ROOT))["controller_workflows"])
    nodes = graph(workflows["aibang-{0}-deploy-workflow".format(env)])
    assert nodes["deploy"] == ("job_template", {"success_nodes": [{"identifier": "verify"}]})
    assert nodes["verify"] == ("job_template", {"failure_nodes": [{"identifier": "rollback"}]})
    assert nodes["rollback"] == ("job_template", {})
    if approval_link is None:
        assert "approval" not in nodes
    else:
        assert nodes["approval"] == ("workflow_approval", {approval_link: [{"identifier": "deploy"}]})


def with_env(index, **changes):
    cfg = config()
    cfg["environments"][index].update(changes)
    return cfg


def with_survey(key, question):
    cfg = config()
    cfg["job_templates"][key].setdefault("survey", []).append(question)
    return cfg


def with_credential(**inputs):
    cfg = config()
    cfg["credentials"][1]["inputs"] = inputs
    return cfg


@pytest.mark.parametrize("cfg, message", [
    (with_env(0, inventory="inventories/qa"), "environments[0].inventory='inventories/qa'"),
    (with_env(1, inventory=None), "environments[1].inventory=None"),
    (with_env(2, approval_timeout=0), "environments[2].approval_timeout=0"),
    (with_env(2, approval_timeout=-5), "environments[2].approval_timeout=-5"),
    (with_env(1, approval="sometimes"), "environments[1].approval='sometimes'"),
    (with_env(0, credentials=["missing"]), "environments[0].credentials=['missing']"),
    (with_survey("verify", {"variable": "platform_release", "question_name": "x"}),
     "job_templates.verify.survey[0].variable='platform_release': playbook playbooks/verify.yml does not use"),
    (with_survey("deploy", {"variable": "releese", "question_name": "typo"}),
     "job_templates.deploy.survey[1].variable='releese'"),
    (with_survey("deploy", {"variable": "platform_release", "question_name": "x", "type": "date"}),
     "job_templates.deploy.survey[1].type='date'"),
    (with_credential(host="https://k", bearer_token="T", verify_ssl=True),
     "credentials[1].inputs.verify_ssl=True: credential k8s-dev asks to verify TLS but gives no ssl_ca_cert"),
    (with_credential(host="https://k", token="T"), "credentials[1].inputs=['token']"),
    (config(environments=[]), "environments=[]"),
])
def test_bad_input_is_refused_naming_the_field_and_value(cfg, message):
    with pytest.raises(AwxConfigError) as error:
        plan(cfg, str(ROOT))
    assert message in str(error.value)


def test_the_environments_inventories_set_nothing_awx_would_ignore():
    assert plan(config(), str(ROOT))["warnings"] == []


def test_the_labs_inventory_values_reach_awx_jobs_through_the_projects_precedence():
    """inventories/local's group_vars/control sets three variables playbooks/group_vars/all sets too: the repository's
    ansible.cfg ranks the playbooks' group_vars lowest, so AWX's jobs get the inventory's (tests/unit/
    test_variable_precedence.py runs both)."""
    assert plan(with_env(0, inventory="inventories/local", credentials=["k8s-dev"]), str(ROOT))["warnings"] == []


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


SHADOWING_PROJECT = {
    "play/group_vars/all/wiring.yml": "alias: a\nrequests: []\nport: 1\nshared: x\n",
    "inv/group_vars/all/main.yml": "shared: y\n",  # ranks below the playbooks' all anyway
    "inv/group_vars/control/main.yml": "requests: [b]\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1\n",
    "inv/group_vars/control/vault.yml": "$ANSIBLE_VAULT;1.1;AES256\n6162\n",
    "inv/group_vars/edge.yaml": "port: 2\nalias: c\n",
    "inv/group_vars/edge_notes.txt": "alias: ignored\n",
    "inv/group_vars/web/main.yml": "other: 1\n",
}
SHADOWING_CONFIG = {"environments": [{"name": "dev", "inventory": "inv"}, {"name": "qa", "inventory": "no-group-vars"}],
                    "job_templates": {"deploy": {"playbook": "play/deploy.yml"}}}
ADVICE = ("from AWX the playbooks' value is used, not the inventory's (an inventory source's variables rank below a "
          "playbook's group_vars): rank the playbooks' group_vars lowest in the project's ansible.cfg ([defaults] "
          "precedence = all_plugins_play, groups_plugins_play, ...), or set them in the environment's extra_vars or in "
          "host_vars")


@pytest.mark.parametrize("ansible_cfg", [
    None,
    "[defaults]\nforks = 5\n",
    "[defaults]\nprecedence = all_inventory, groups_inventory, all_plugins_inventory, all_plugins_play\n",
])
def test_group_variables_the_playbooks_group_vars_all_also_set_are_warned_about(tmp_path, ansible_cfg):
    for name, text in SHADOWING_PROJECT.items():
        write(tmp_path / name, text)
    if ansible_cfg:
        write(tmp_path / "ansible.cfg", ansible_cfg)
    assert shadowed_variables(SHADOWING_CONFIG, str(tmp_path)) == [
        "environments[0].inventory='inv': group_vars/control sets requests, which play/group_vars/all sets too; "
        + ADVICE,
        "environments[0].inventory='inv': group_vars/edge sets alias, port, which play/group_vars/all sets too; "
        + ADVICE]


def test_a_project_ranking_the_playbooks_group_vars_lowest_warns_of_nothing(tmp_path):
    for name, text in SHADOWING_PROJECT.items():
        write(tmp_path / name, text)
    write(tmp_path / "ansible.cfg", "[defaults]\nprecedence = all_plugins_play, groups_plugins_play,\n  all_inventory, "
                                    "groups_inventory, all_plugins_inventory, groups_plugins_inventory\n")
    assert shadowed_variables(SHADOWING_CONFIG, str(tmp_path)) == []


def with_gcp_auth(tmp_path, where, gcp_auth, credentials=("gcp-dev", "k8s-dev")):
    """A project with the repository's playbooks and an inventory inv whose jobs get gcp_auth from `where`."""
    write(tmp_path / "inv/hosts.yml", "all:\n  hosts:\n    localhost:\n")
    for name in ("playbooks", "roles", "inventories", "ansible.cfg"):
        (tmp_path / name).symlink_to(ROOT / name)
    cfg = with_env(0, inventory="inv", credentials=list(credentials))
    if where == "extra_vars":
        cfg["environments"][0]["extra_vars"] = {"gcp_auth": gcp_auth}
    else:
        write(tmp_path / "inv" / where, yaml.safe_dump({"gcp_auth": gcp_auth}))
    return cfg, str(tmp_path)


@pytest.mark.parametrize("where, shown", [
    ("group_vars/control/gcp.yml", "inv/group_vars/control"),
    ("group_vars/all.yml", "inv/group_vars/all.yml"),
    ("host_vars/localhost.yml", "inv/host_vars/localhost.yml"),
    ("extra_vars", "extra_vars"),
])
def test_a_gce_credential_next_to_a_gcp_auth_of_another_kind_is_refused(tmp_path, where, shown):
    cfg, project = with_gcp_auth(tmp_path, where, {"auth_kind": "accesstoken", "access_token": "T"})
    with pytest.raises(AwxConfigError) as error:
        plan(cfg, project)
    assert str(error.value) == (
        "environments[0].credentials=['gcp-dev', 'k8s-dev']: GCE credential gcp-dev injects GCP_SERVICE_ACCOUNT_FILE "
        "while {0} sets gcp_auth.auth_kind='accesstoken' for environment dev: google.cloud's modules refuse a "
        "service-account file next to another auth_kind ('Service Account File only works with Service Account-based "
        "authentication'); attach no GCE credential or leave gcp_auth unset".format(shown))


def test_the_labs_inventory_with_the_gce_credential_is_refused():
    with pytest.raises(AwxConfigError) as error:
        plan(with_env(0, inventory="inventories/local"), str(ROOT))
    assert ("environments[0].credentials=['gcp-dev', 'k8s-dev']: GCE credential gcp-dev injects "
            "GCP_SERVICE_ACCOUNT_FILE while inventories/local/group_vars/control sets gcp_auth.auth_kind='accesstoken'"
            in str(error.value))


@pytest.mark.parametrize("gcp_auth, credentials", [
    ({"auth_kind": "serviceaccount", "service_account_file": "/sa.json"}, ("gcp-dev", "k8s-dev")),
    ({"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}, ("gcp-dev",)),
    ({"auth_kind": "accesstoken", "access_token": "T"}, ("k8s-dev",)),
])
def test_gcp_auth_that_agrees_with_the_credentials_is_accepted(tmp_path, gcp_auth, credentials):
    cfg, project = with_gcp_auth(tmp_path, "group_vars/control.yml", gcp_auth, credentials)
    assert plan(cfg, project)["warnings"] == []


@pytest.mark.parametrize("gcp_auth", ["{{ vault_gcp_auth }}", {"auth_kind": "{{ gcp_auth_kind }}"}, None])
def test_a_gcp_auth_whose_kind_cannot_be_read_is_warned_about(tmp_path, gcp_auth):
    cfg, project = with_gcp_auth(tmp_path, "group_vars/control.yml", gcp_auth)
    assert plan(cfg, project)["warnings"] == [
        "environments[0].credentials=['gcp-dev', 'k8s-dev']: GCE credential gcp-dev injects GCP_SERVICE_ACCOUNT_FILE "
        "and inv/group_vars/control.yml sets gcp_auth, whose auth_kind cannot be read before the job runs: unless it "
        "is serviceaccount, google.cloud's modules will refuse the pair"]


def test_kubernetes_credential_without_tls_verification_needs_no_ca():
    plan(with_credential(host="https://k", bearer_token="T", verify_ssl=False), str(ROOT))


def api_nodes(workflow, **overrides):
    """The nodes as /api/v2/workflow_job_template_nodes/ returns them for a workflow AWX holds."""
    ids = {node["identifier"]: index + 10 for index, node in enumerate(workflow["workflow_nodes"])}
    nodes = []
    for node in workflow["workflow_nodes"]:
        template = node["unified_job_template"]
        summary = {"name": template["name"],
                   "unified_job_type": "workflow_approval" if template["type"] == "workflow_approval" else "job"}
        if template["type"] == "workflow_approval":
            summary["timeout"] = template["timeout"]
        api = {"id": ids[node["identifier"]], "identifier": node["identifier"],
               "summary_fields": {"unified_job_template": summary}}
        for link in ("success_nodes", "failure_nodes", "always_nodes"):
            api[link] = [ids[target["identifier"]] for target in node["related"].get(link, [])]
        api.update(overrides.get(node["identifier"], {}))
        nodes.append(api)
    return nodes


def test_workflows_that_match_are_not_written_again():
    workflows = plan(config(), str(ROOT))["controller_workflows"]
    current = {wf["name"]: api_nodes(wf) for wf in workflows}
    assert workflows_to_write(workflows, current) == []


@pytest.mark.parametrize("change", [
    {"approval": {"summary_fields": {"unified_job_template": {"name": "Approve deploy to prod",
                                                              "unified_job_type": "workflow_approval",
                                                              "timeout": 60}}}},
    {"verify": {"failure_nodes": []}},
    {"deploy": {"summary_fields": {"unified_job_template": {"name": "other", "unified_job_type": "job"}}}},
])
def test_a_workflow_that_differs_is_written(change):
    workflows = plan(config(), str(ROOT))["controller_workflows"]
    current = {wf["name"]: api_nodes(wf, **(change if wf["name"] == "aibang-prod-deploy-workflow" else {}))
               for wf in workflows}
    assert workflows_to_write(workflows, current) == ["aibang-prod-deploy-workflow"]


def test_a_workflow_awx_does_not_have_is_written():
    workflows = plan(config(), str(ROOT))["controller_workflows"]
    assert workflows_to_write(workflows, {}) == [wf["name"] for wf in workflows]
