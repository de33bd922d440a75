# -*- coding: utf-8 -*-
"""Production readiness: rendered prod objects with digests pass; each missing item is named by its check id."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import all_objects, render
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_readiness import check
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT

DIGEST = "@sha256:" + "a" * 64
APP = {"name": "orders", "image": "registry.example/orders" + DIGEST, "redis": {"image": "redis" + DIGEST},
       "cronjob": {"schedule": "@hourly"}}


def prod_objects(**override):
    context = dict(CONTEXT, log_collector_image="fluent-bit" + DIGEST)
    return all_objects(render([dict(APP, **override)], {"name": "prod", "namespace": "aibang-prod"}, context))


def deployment(objects):
    return next(obj for obj in objects if obj["kind"] == "Deployment")


def test_rendered_prod_objects_pinned_by_digest_are_ready():
    assert check(prod_objects(log_collector=True), prod=True) == []


def test_tags_are_enough_outside_prod_but_not_in_prod():
    objects = prod_objects(image="registry.example/orders:1.4")
    assert check(objects, prod=False) == []
    assert check(objects, prod=True) == [
        "container-image-digest: Deployment orders container app image registry.example/orders:1.4 is not pinned by digest",
        "container-image-digest: CronJob orders-job container job image registry.example/orders:1.4 is not pinned by digest"]


def drop_probe(objects):
    deployment(objects)["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")


def same_probes(objects):
    container = deployment(objects)["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"] = copy.deepcopy(container["livenessProbe"])


def writable_root(objects):
    deployment(objects)["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False


def no_limits(objects):
    deployment(objects)["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits")


def no_spread(objects):
    deployment(objects)["spec"]["template"]["spec"].pop("topologySpreadConstraints")


def without(kind):
    def mutate(objects):
        objects[:] = [obj for obj in objects if obj["kind"] != kind]
    return mutate


def unannotated(objects):
    next(obj for obj in objects if obj["kind"] == "ServiceAccount")["metadata"]["annotations"] = {}


def key_file(objects):
    deployment(objects)["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/var/secrets/key.json"})


def root_user(objects):
    container = deployment(objects)["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["runAsNonRoot"] = False


@pytest.mark.parametrize("mutate, check_id", [
    (drop_probe, "pod-probes:"), (same_probes, "pod-probes-identical:"),
    (writable_root, "container-security-context-readonlyrootfilesystem:"), (no_limits, "container-resources:"),
    (no_spread, "deployment-has-host-podantiaffinity:"),
    (without("PodDisruptionBudget"), "deployment-has-poddisruptionbudget:"),
    (without("NetworkPolicy"), "pod-networkpolicy:"), (without("HorizontalPodAutoscaler"), "horizontalpodautoscaler-has-target:"),
    (unannotated, "workload-identity:"), (key_file, "workload-identity-no-keys:"),
    (root_user, "container-security-context-user-group-id:")])
def test_each_unmet_item_is_named(mutate, check_id):
    objects = prod_objects()
    mutate(objects)
    unmet = check(objects, prod=True)
    assert unmet and all(item.startswith(check_id) for item in unmet), unmet


def test_secrets_not_from_vault_and_a_single_replica_are_unmet():
    assert check(prod_objects(), prod=True, secrets_from_vault=False) == [
        "secrets-from-vault: the DB password is not an Ansible Vault value"]
    assert check(prod_objects(hpa={"min": 1}, pdb_min_available=0), prod=True) == [
        "deployment-replicas: Deployment orders may scale down to one replica (HPA minReplicas < 2)"]
