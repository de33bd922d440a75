# -*- coding: utf-8 -*-
"""Rendering of app workloads: presets, overrides, bad input, and objects valid for the pinned Kubernetes version."""
from __future__ import annotations

import pathlib
import re

import kubernetes_validate
import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload import AppWorkloadError, render

VERSIONS = pathlib.Path(__file__).parents[4] / "tests" / "testbed" / "versions.env"
K8S_VERSION = re.search(r"^K8S_VERSION=(\d+\.\d+)", VERSIONS.read_text(encoding="utf-8"), re.M).group(1) + ".0"
CONTEXT = {
    "egress_alias": "microsoft.intra.aibang.local", "egress_port": 3128, "proxy_namespace": "intra-proxy",
    "proxy_pod_labels": {"app.kubernetes.io/name": "squid-proxy"}, "db_host": "db.psc.example.internal",
    "db_ip": "10.0.5.2", "db_port": 3306, "gsa_email": "app-db-client@p.iam.gserviceaccount.com",
    "no_proxy_cidrs": ["10.128.0.0/14", "10.4.0.0/20", "10.0.0.0/20"],
}
FULL = {"name": "orders", "image": "registry.example/orders:1.4", "port": 8080, "redis": True, "log_collector": True,
        "cronjob": {"schedule": "*/15 * * * *", "command": ["/app/cleanup"]},
        "ingress_from": [{"namespace": "ingress", "pod_labels": {"app": "gateway"}}, {"cidr": "10.0.0.0/20"}]}


def environment(name: str = "dev", **extra) -> dict:
    return {"name": name, "namespace": f"aibang-{name}", **extra}


def objects_of(rendered: dict, kind: str) -> list:
    return [obj for obj in app_workload.all_objects(rendered) if obj["kind"] == kind]


def one(rendered: dict, kind: str, name: str | None = None) -> dict:
    return next(obj for obj in objects_of(rendered, kind) if name is None or obj["metadata"]["name"] == name)


@pytest.mark.parametrize("env, replicas, cpu, approval", [
    ("dev", 1, "100m", "none"), ("staging", 2, "250m", "optional"), ("prod", 3, "500m", "required")])
def test_presets_differ_per_environment(env, replicas, cpu, approval):
    rendered = render([{"name": "web", "image": "web:1"}], environment(env), CONTEXT)
    app = rendered["apps"][0]
    assert (app["approval"], app["gates"]["min_ready"]) == (approval, replicas)
    assert one(rendered, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == replicas
    container = one(rendered, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == cpu
    assert one(rendered, "PodDisruptionBudget")["spec"]["minAvailable"] == replicas - 1
    assert app["namespace"] == f"aibang-{env}"


@pytest.mark.parametrize("override, field, value", [
    ({"replicas": 4}, "hpa_min", 4), ({"size": "L"}, "size", "L"), ({"approval": "required"}, "approval", "required"),
    ({"hpa": {"min": 2, "max": 6}}, "hpa_max", 6), ({"namespace": "team-a"}, "namespace", "team-a"),
    ({"pdb_min_available": 0, "replicas": 2}, "pdb_min_available", 0)])
def test_an_app_overrides_its_preset(override, field, value):
    rendered = render([{"name": "web", "image": "web:1", **override}], environment("dev"), CONTEXT)
    assert rendered["apps"][0]["settings"][field] == value


def test_environment_values_override_the_preset_and_the_app_overrides_them():
    rendered = render([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1", "size": "S"}],
                      environment("prod", size="M"), CONTEXT)
    assert [app["settings"]["size"] for app in rendered["apps"]] == ["M", "S"]


@pytest.mark.parametrize("app, message", [
    ({"name": "Orders_1", "image": "x:1"}, "app name: 'Orders_1' is not a DNS label"),
    ({"name": "a" * 64, "image": "x:1"}, "is not a DNS label"),
    ({"name": "web", "image": "x:1", "size": "XL"}, "app 'web': size: 'XL' is not one of S, M, L"),
    ({"name": "web", "image": "x:1", "replicas": 2, "pdb_min_available": 2},
     "app 'web': replicas: 2 is below what the PodDisruptionBudget keeps available"),
    ({"name": "web", "image": "x:1", "replicas": 1, "hpa": {"enabled": False}, "pdb_min_available": 3},
     "app 'web': replicas: 1 is below"),
    ({"name": "web", "image": "x:1", "hpa": {"min": 5, "max": 3}}, "app 'web': hpa.min: 5 is above hpa.max (3)"),
    ({"name": "web", "image": "x:1", "cronjob": {"schedule": "every 5 minutes"}},
     "app 'web': cronjob.schedule: 'every 5 minutes' is not a cron schedule"),
    ({"name": "web", "image": "x:1", "cronjob": {"schedule": "* * * *"}}, "cronjob.schedule: '* * * *'"),
    ({"name": "web"}, "app 'web': image: None is required"),
    ({"name": "web", "image": "x:1", "port": 70000}, "app 'web': port: 70000"),
    ({"name": "web", "image": "x:1", "approval": "maybe"}, "app 'web': approval: 'maybe'"),
    ({"name": "web", "image": "x:1", "ingress_from": [{"host": "x"}]}, "app 'web': ingress_from[0]"),
    ({"name": "web", "image": "x:1", "metrics": "yes"}, "app 'web': metrics: 'yes' is not false or a mapping"),
    ({"name": "web", "image": "x:1", "metrics": {"port": 0}}, "app 'web': metrics.port: 0 is not a port number"),
    ({"name": "web", "image": "x:1", "metrics": {"path": "metrics"}}, "app 'web': metrics.path: 'metrics' is not a path"),
    ({"name": "web", "image": "x:1", "scheduling": {"affinity": {}}}, "app 'web': scheduling: {'affinity': {}} is not a mapping"),
    ({"name": "web", "image": "x:1", "scheduling": {"nodeSelector": {"pool": 1}}}, "app 'web': scheduling.nodeSelector: {'pool': 1}"),
    ({"name": "web", "image": "x:1", "scheduling": {"tolerations": {"key": "a"}}}, "app 'web': scheduling.tolerations: {'key': 'a'} is not a list"),
    ({"name": "web", "image": "x:1", "scheduling": {"tolerations": [{"key": "a", "operator": "In"}]}},
     "app 'web': scheduling.tolerations[0]: {'key': 'a', 'operator': 'In'} is not a toleration"),
])
def test_bad_input_names_the_app_and_the_field(app, message):
    with pytest.raises(AppWorkloadError, match=re.escape(message)):
        render([{"name": "fine", "image": "ok:1"}, app], environment("staging"), CONTEXT)


def test_a_duplicate_name_and_an_unknown_environment_fail():
    with pytest.raises(AppWorkloadError, match="listed twice"):
        render([{"name": "a", "image": "a:1"}, {"name": "a", "image": "a:1"}], environment(), CONTEXT)
    with pytest.raises(AppWorkloadError, match="environment name: 'qa'"):
        render([{"name": "a", "image": "a:1"}], environment("qa"), CONTEXT)
    with pytest.raises(AppWorkloadError, match="context: egress_alias"):
        render([], environment(), dict(CONTEXT, egress_alias=""))


@pytest.mark.parametrize("schedule, valid", [
    ("*/5 * * * *", True), ("0 3 * * 1-5", True), ("@daily", True), ("0 0 1,15 * MON", True), ("0 0 * * MON-FRI", True),
    ("* * * *", False), ("every day", False), ("@sometimes", False), (None, False), ("0 0 * * * *", False)])
def test_cron_schedules(schedule, valid):
    assert app_workload.is_cron(schedule) is valid


POOL = {"nodeSelector": {"cloud.google.com/gke-nodepool": "apps"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}]}


@pytest.mark.parametrize("app_scheduling, environment_scheduling, expected", [
    (None, POOL, POOL), (POOL, {}, POOL), ({"nodeSelector": {"pool": "b"}}, POOL, {"nodeSelector": {"pool": "b"}}), (None, {}, {})],
    ids=["environment", "app", "app-wins", "any-node"])
def test_scheduling_places_the_apps_pods_but_not_the_log_collector(app_scheduling, environment_scheduling, expected):
    app = dict(FULL, **({"scheduling": app_scheduling} if app_scheduling is not None else {}))
    rendered = render([app], environment("dev", scheduling=environment_scheduling), CONTEXT)
    pod_specs = {"Deployment": one(rendered, "Deployment")["spec"]["template"]["spec"],
                 "StatefulSet": one(rendered, "StatefulSet")["spec"]["template"]["spec"],
                 "CronJob": one(rendered, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]}
    for kind, spec in pod_specs.items():
        assert {key: spec[key] for key in ("nodeSelector", "tolerations") if key in spec} == expected, kind
    collector = one(rendered, "DaemonSet")["spec"]["template"]["spec"]
    assert collector["tolerations"] == [{"operator": "Exists"}] and collector["nodeSelector"] == {"kubernetes.io/os": "linux"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_object_is_valid_for_the_pinned_kubernetes_version(env):
    rendered = render([FULL, {"name": "web", "image": "web:1", "hpa": {"enabled": False}, "scheduling": POOL}],
                      environment(env), CONTEXT)
    for obj in app_workload.all_objects(rendered):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_deployment_follows_the_seed():
    rendered = render([FULL], environment("prod"), CONTEXT)
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert (container["livenessProbe"]["httpGet"]["path"], container["livenessProbe"]["periodSeconds"]) == ("/health", 30)
    assert (container["readinessProbe"]["httpGet"]["path"], container["readinessProbe"]["periodSeconds"]) == ("/ready", 10)
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == "http://microsoft.intra.aibang.local:3128"
    assert {"10.128.0.0/14", "10.4.0.0/20", ".svc", "db.psc.example.internal", "10.0.5.2"} <= set(env["NO_PROXY"].split(","))
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {"topology.kubernetes.io/zone",
                                                                            "kubernetes.io/hostname"}
    assert "replicas" not in one(rendered, "Deployment")["spec"]  # the HPA owns it
    metrics = one(rendered, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in metrics] == [("cpu", 70), ("memory", 80)]


def test_config_secret_and_identity():
    rendered = render([FULL], environment("prod"), dict(CONTEXT, db_host=""))
    wanted = {"DB_HOST": "10.0.5.2", "DB_PORT": "3306", "DB_NAME": "app", "DB_USER": "app"}
    assert one(rendered, "ConfigMap", "orders-db")["data"] == wanted
    assert one(rendered, "Secret", "orders-db")["data"] == {"DB_PASSWORD": ""}  # filled by the apply, never here
    account = one(rendered, "ServiceAccount")
    assert account["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": CONTEXT["gsa_email"]}


def test_network_policies_deny_by_default_and_allow_only_what_is_declared():
    rendered = render([FULL], environment("prod"), CONTEXT)
    deny = one(rendered, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    app = one(rendered, "NetworkPolicy", "orders")["spec"]
    targets = [(rule["to"][0], [p["port"] for p in rule["ports"]]) for rule in app["egress"]]
    assert targets[0][1] == [53, 53]
    assert targets[1] == ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "intra-proxy"}},
                           "podSelector": {"matchLabels": {"app.kubernetes.io/name": "squid-proxy"}}}, [3128])
    assert targets[2] == ({"ipBlock": {"cidr": "10.0.5.2/32"}}, [3306])
    assert targets[3][1] == [6379]
    assert app["ingress"][0]["from"][1] == {"ipBlock": {"cidr": "10.0.0.0/20"}}
    redis = one(rendered, "NetworkPolicy", "orders-redis")["spec"]
    assert redis["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}}}]
    assert targets[4:] == [({"ipBlock": {"cidr": "169.254.169.254/32"}}, [80]), ({"ipBlock": {"cidr": "169.254.169.252/32"}}, [988])]
    no_ingress = render([{"name": "web", "image": "w:1"}], environment(), CONTEXT)
    assert one(no_ingress, "NetworkPolicy", "web")["spec"]["ingress"] == []


def test_only_pods_with_a_workload_identity_reach_the_metadata_server():
    """Google asks clusters with network policies to let Workload Identity pods reach GKE's metadata server; a pod
    whose service account has no Google service account gets no such rule."""
    without = render([{"name": "web", "image": "w:1"}], environment(), dict(CONTEXT, gsa_email=""))
    rules = one(without, "NetworkPolicy", "web")["spec"]["egress"]
    assert not [rule for rule in rules if "ipBlock" in rule["to"][0] and rule["to"][0]["ipBlock"]["cidr"].startswith("169.254.")]


@pytest.mark.parametrize("metrics, port, path, container_ports", [
    ({}, 8080, "/metrics", ["http"]),
    ({"port": 9090, "path": "/stats"}, 9090, "/stats", ["http", "metrics"]),
    (False, None, None, ["http"]),
])
def test_the_pods_say_where_prometheus_scrapes_them(metrics, port, path, container_ports):
    rendered = render([{"name": "web", "image": "w:1", "metrics": metrics}], environment(),
                      dict(CONTEXT, metrics_namespace="monitoring"))
    template = one(rendered, "Deployment")["spec"]["template"]
    expected = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": path} if port else None
    assert template["metadata"].get("annotations") == expected
    assert [p["name"] for p in template["spec"]["containers"][0]["ports"]] == container_ports
    ingress = one(rendered, "NetworkPolicy", "web")["spec"]["ingress"]
    assert ingress == ([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                         "ports": [{"protocol": "TCP", "port": port}]}] if port else [])
    for obj in app_workload.all_objects(rendered):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_optional_components_follow_the_seed():
    rendered = render([FULL], environment("staging"), CONTEXT)
    statefulset = one(rendered, "StatefulSet")["spec"]
    assert statefulset["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    conf = one(rendered, "ConfigMap", "orders-redis")["data"]["redis.conf"]
    assert "maxmemory 128mb" in conf and "allkeys-lru" in conf and conf.count("\nsave ") == 3
    assert one(rendered, "Service", "orders-redis")["spec"]["clusterIP"] == "None"
    daemon = one(rendered, "DaemonSet")["spec"]["template"]["spec"]
    assert daemon["tolerations"] == [{"operator": "Exists"}] and daemon["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert daemon["volumes"][0]["hostPath"]["path"] == "/var/log"
    assert daemon["containers"][0]["volumeMounts"][0]["readOnly"] is True
    assert daemon["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    cron = one(rendered, "CronJob")["spec"]
    assert (cron["successfulJobsHistoryLimit"], cron["failedJobsHistoryLimit"], cron["concurrencyPolicy"]) == (3, 1, "Forbid")
    job = cron["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"], job["template"]["spec"]["restartPolicy"]) == (3, 300, "OnFailure")


def test_every_object_of_an_app_carries_the_ownership_labels_and_comes_in_apply_order():
    rendered = render([FULL], environment("dev"), CONTEXT)
    objects = rendered["apps"][0]["objects"]
    assert all(obj["metadata"]["labels"]["aibang.io/app"] == "orders" for obj in objects)
    assert all(obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aibang.gke_platform" for obj in objects)
    kinds = [obj["kind"] for obj in objects]
    assert kinds.index("ConfigMap") < kinds.index("Deployment") < kinds.index("NetworkPolicy")
    assert [obj["metadata"]["name"] for obj in rendered["namespace_objects"]] == ["aibang-dev", "app", "default-deny"]
