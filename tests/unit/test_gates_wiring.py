# -*- coding: utf-8 -*-
"""Issue 12 on the product's path: each Kubernetes stage of deploy.yml keeps its previous release before its role runs
and restores it when its gate fails; the entry points that needs exist; skipping the in-cluster gates is checked in
every playbook that would skip them; a release never holds Secrets."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.aibang.gke_platform.plugins.modules.release_info import ARGUMENT_SPEC, CONSTRAINTS

ROOT = pathlib.Path(__file__).parents[2]
GATED_STAGES = ["squid_gke", "cluster_dns", "app_workload"]


def _yaml(*parts: str):
    return yaml.safe_load(ROOT.joinpath(*parts).read_text(encoding="utf-8"))


def _stage_blocks() -> dict:
    """release_component -> the deploy task (a block with rescue) that runs that stage."""
    blocks = {}
    for play in _yaml("playbooks", "deploy.yml"):
        for task in play.get("tasks", []):
            component = (task.get("vars") or {}).get("release_component")
            if component and "block" in task:
                blocks[component] = task
    return blocks


def _includes(tasks: list) -> list:
    """What each task of a block includes: a tasks file or a role (its name and tasks_from)."""
    found = []
    for task in tasks:
        if "ansible.builtin.include_tasks" in task:
            found.append(task["ansible.builtin.include_tasks"])
        elif "ansible.builtin.include_role" in task:
            include = task["ansible.builtin.include_role"]
            found.append(f"{include['name']}:{include.get('tasks_from', 'main')}")
    return found


def test_every_gated_stage_runs_in_a_block_that_restores_it():
    assert sorted(_stage_blocks()) == sorted(GATED_STAGES)


@pytest.mark.parametrize("component", GATED_STAGES)
def test_a_stage_keeps_its_release_first_and_its_rescue_restores_it(component):
    stage = _stage_blocks()[component]
    assert _includes(stage["block"]) == ["tasks/stage_snapshot.yml", f"aibang.gke_platform.{component}:main",
                                         "tasks/release_record.yml"]
    assert _includes(stage["rescue"]) == ["tasks/stage_rescue.yml"]
    assert stage["vars"]["stage_gate"], "the failure message names the gate"


@pytest.mark.parametrize("component", GATED_STAGES)
def test_the_roles_name_their_release_objects_and_regate(component):
    tasks = ROOT / "roles" / component / "tasks"
    assert (tasks / "release_objects.yml").is_file()
    regate = _stage_blocks()[component]["vars"].get("stage_regate")
    assert regate is None or (tasks / f"{regate}.yml").is_file()


def test_a_release_of_the_apps_never_holds_secrets():
    facts = _yaml("roles", "app_workload", "tasks", "release_objects.yml")[0]
    kinds = [entry["kind"] for entry in facts["vars"]["_app_workload_release_kinds"]]
    assert "Secret" not in kinds and {"Deployment", "StatefulSet", "ConfigMap"} <= set(kinds)


@pytest.mark.parametrize("playbook", ["deploy.yml", "verify.yml"])
def test_skipping_the_in_cluster_gates_is_checked_before_they_would_run(playbook):
    for play in _yaml("playbooks", playbook):
        tasks = play.get("tasks", [])
        imports = [task.get("ansible.builtin.import_tasks") for task in tasks]
        probes = [index for index, task in enumerate(tasks)  # the probe, or a block that runs it
                  if any(inner.get("ansible.builtin.include_role", {}).get("name") == "aibang.gke_platform.egress_probe"
                         for inner in [task, *task.get("block", [])])]
        if probes:
            assert "tasks/egress_verify_allowed.yml" in imports[:probes[0]]
    first_play_imports = [task.get("ansible.builtin.import_tasks") for task in _yaml("playbooks", playbook)[0]["tasks"]]
    if playbook == "deploy.yml":  # before anything changes
        assert "tasks/egress_verify_allowed.yml" in first_play_imports


def test_the_prod_refusal_fails_and_the_default_runs_the_gates():
    check = _yaml("playbooks", "tasks", "egress_verify_allowed.yml")[0]["ansible.builtin.assert"]
    assert check["that"] == "egress_verify | bool or platform_environment != 'prod'"
    wiring = _yaml("playbooks", "group_vars", "all", "wiring.yml")
    assert wiring["egress_verify"] is True and wiring["cluster_dns_verify"] == "{{ egress_verify }}"
    assert wiring["deploy_auto_rollback"] is True


def rollback_call() -> dict:
    """The arguments playbooks/rollback.yml gives release_info to choose the release."""
    plays = yaml.safe_load(ROOT.joinpath("playbooks", "rollback.yml").read_text(encoding="utf-8"))
    tasks = [task for play in plays for block in play["tasks"] for task in block.get("block", [block])]
    return next(task["aibang.gke_platform.release_info"] for task in tasks if "aibang.gke_platform.release_info" in task)


@pytest.mark.parametrize("release, chosen", [("3", {"release": 3}), ("previous", {"previous": True})])
def test_rollback_yml_passes_one_of_release_and_previous(release, chosen):
    """`rollback.yml -e release=N` once passed previous: false beside release, which the module refuses."""
    arguments = {name: value for name, value in rollback_call().items() if name in ("release", "previous")}
    rendered = Templar(loader=DataLoader(), variables={"release": release}).template(
        {name: trust_as_template(value) for name, value in arguments.items()})
    assert rendered == chosen
    validated = ArgumentSpecValidator(ARGUMENT_SPEC, **CONSTRAINTS).validate({"releases": [], **rendered})
    assert not validated.error_messages


def test_a_reverted_statefulsets_stuck_pod_is_deleted_and_named():
    """The pods are read from the namespace and chosen by owner reference (a label selector rendered from matchLabels
    once came out as key=value and found none); each deleted pod is added to the restore's summary."""
    tasks = _yaml("playbooks", "tasks", "stage_restore_statefulset.yml")
    read, delete, say = tasks
    assert read["loop"][1] == {"api_version": "v1", "kind": "Pod"}
    assert "label_selectors" not in read["kubernetes.core.k8s_info"]
    assert delete["kubernetes.core.k8s"]["state"] == "absent" and delete["loop"] == "{{ __stage_stuck_pods }}"
    variables = {"__stage_statefulset": {"metadata": {"namespace": "shop", "name": "cart-redis"}},
                 "stage_restore_plan": {"summary": ["restored StatefulSet shop/cart-redis"]},
                 "__stage_stuck_pods": ["cart-redis-0"]}
    rendered = Templar(loader=DataLoader(), variables=variables).template(
        trust_as_template(say["ansible.builtin.set_fact"]["stage_restore_plan"]))
    assert rendered["summary"] == ["restored StatefulSet shop/cart-redis",
                                   "deleted Pod shop/cart-redis-0, stuck on the broken revision (recreated from the restored "
                                   "template; its PersistentVolumeClaim stays)"]


@pytest.mark.parametrize("replaced, applied, changed", [
    ({"skipped": True, "changed": False}, {"changed": True}, True),  # replicas or image alone: the policy stays
    ({"changed": True}, {"changed": True}, True),
    ({"skipped": True, "changed": False}, {"changed": False}, False),
])
def test_tier1_counts_any_applied_change_for_the_release_record(replaced, applied, changed):
    """squid_gke_changed once followed the policy alone: a replicas change was kept in a release but missing from the
    record's changed list, and rollback.yml without release= skipped it."""
    fact = next(task for task in _yaml("roles", "squid_gke", "tasks", "main.yml")
                if "squid_gke_changed" in task.get("ansible.builtin.set_fact", {}))["ansible.builtin.set_fact"]["squid_gke_changed"]
    rendered = Templar(loader=DataLoader(), variables={"__squid_gke_replaced": replaced, "__squid_gke_applied": applied}).template(
        trust_as_template(fact))
    assert rendered is changed


def test_rollback_without_release_restores_the_kubernetes_stages_the_last_run_kept_objects_of():
    """A stage the last run's release holds objects of (before the run) is restored from them; one without (the first
    deploy, cloud_dns mode) falls back to the role's rollback entry point."""
    plays = _yaml("playbooks", "rollback.yml")
    tasks = [task for play in plays for task in play["tasks"]]
    choose = next(task for task in tasks if "rollback_release_stages" in task.get("ansible.builtin.set_fact", {}))
    stages = {"squid_gke": {"before": [{"kind": "Deployment"}], "after": []}, "cluster_dns": {"before": [], "after": []},
              "app_workload": {"before": [{"kind": "StatefulSet"}], "after": []}}
    variables = {"__rollback_run_release": {"run_release": {"stages": stages}},
                 "rollback_components": ["squid_vm", "cluster_dns", "squid_gke"],
                 **{name: trust_as_template(value) for name, value in choose["vars"].items()}}
    rendered = Templar(loader=DataLoader(), variables=variables).template(
        trust_as_template(choose["ansible.builtin.set_fact"]["rollback_release_stages"]))
    assert rendered == ["squid_gke"]
    restores = {task["vars"]["release_component"]: task for task in tasks
                if task.get("ansible.builtin.include_tasks") == "tasks/release_restore_stage.yml" and "release_component" in task.get("vars", {})}
    assert sorted(restores) == ["app_workload", "cluster_dns", "squid_gke"]
    assert all(task["vars"]["release_restore_objects"].endswith(f".{name}.before }}}}") for name, task in restores.items())


def _rollback_tasks() -> list:
    return [task for play in _yaml("playbooks", "rollback.yml") for task in play["tasks"]]


def _chosen_stages(stages: dict, components: list) -> list:
    choose = next(task for task in _rollback_tasks() if "rollback_release_stages" in task.get("ansible.builtin.set_fact", {}))
    variables = {"__rollback_run_release": {"run_release": {"stages": stages}}, "rollback_components": components,
                 **{name: trust_as_template(value) for name, value in choose["vars"].items()}}
    return Templar(loader=DataLoader(), variables=variables).template(
        trust_as_template(choose["ansible.builtin.set_fact"]["rollback_release_stages"]))


@pytest.mark.parametrize("stages, components, chosen", [
    ({"app_workload": {"before": [], "after": [{"kind": "Deployment"}]}}, ["app_workload"], ["app_workload"]),
    ({"app_workload": {"before": [], "after": []}, "cluster_dns": {"before": [], "after": []}},
     ["cluster_dns", "app_workload"], ["app_workload"]),  # the alias falls back to its role's rollback
    ({"app_workload": {"before": [{"kind": "Deployment"}], "after": []}}, ["app_workload"], ["app_workload"]),
    ({"app_workload": {"before": [], "after": []}}, ["squid_gke"], []),  # not changed by the run
    ({"squid_gke": {"before": [], "after": []}}, ["squid_gke", "app_workload"], []),  # the run kept no stage of apps
])
def test_rollback_without_release_restores_the_apps_from_an_empty_snapshot(stages, components, chosen):
    """The first deploy of apps keeps before: [] (nothing of them before the run); the apps have no role rollback to
    fall back to, so that stage is restored to nothing - restore_plan deletes what the run added."""
    assert _chosen_stages(stages, components) == chosen


def _apps_play() -> dict:
    return next(play for play in _yaml("playbooks", "rollback.yml") if play.get("tags") == ["apps"])


@pytest.mark.parametrize("run_release, components, stages, fails, restores", [
    (None, ["app_workload", "squid_gke"], [], True, False),  # the run's release is gone (pruned, damaged)
    ({"stages": {"squid_gke": {"before": []}}}, ["app_workload"], [], True, False),  # it holds no snapshot of the apps
    ({"stages": {"app_workload": {"before": []}}}, ["app_workload"], ["app_workload"], False, True),
    (None, ["squid_gke"], [], False, False),  # the apps are not to be rolled back
    (None, [], [], False, False),  # -e release=N, or nothing to roll back
])
def test_rollback_fails_naming_the_run_when_the_apps_release_is_missing(run_release, components, stages, fails, restores):
    """Without the run's release rollback.yml once said it rolled the apps back, did nothing, and marked the run rolled
    back. Now the apps play, the first to change anything, fails first naming the run and how to choose a release;
    the play that marks the run rolled back comes after it, so it does not run."""
    plays = _yaml("playbooks", "rollback.yml")
    refuse, restore = _apps_play()["tasks"]
    assert "ansible.builtin.fail" in refuse and "ignore_errors" not in refuse
    assert restore["ansible.builtin.include_tasks"] == "tasks/release_restore_stage.yml"
    changing = [play for play in plays if play["tags"] != ["always"]]  # the plays that roll a component back
    assert changing[0] == _apps_play() and plays.index(_apps_play()) < plays.index(next(
        play for play in plays if play["name"] == "Mark the release rolled back"))
    variables = {"rollback_run": "20261124T081500Z-4242", "rollback_components": components, "rollback_release_stages": stages,
                 "__rollback_run_release": {"run_release": run_release, "table": "release  state\n      3  success"}}
    templar = Templar(loader=DataLoader(), variables=variables)
    assert templar.template(trust_as_template("{{ " + refuse["when"] + " }}")) is fails
    assert templar.template(trust_as_template("{{ " + restore["when"] + " }}")) is restores
    if fails:
        message = templar.template(trust_as_template(refuse["ansible.builtin.fail"]["msg"]))
        assert "deploy run 20261124T081500Z-4242 changed them" in message and "-e release=N" in message
        assert ("is missing" in message) is (run_release is None) and message.rstrip().endswith("3  success")
