# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App workloads: a list of apps and an environment in, the Kubernetes objects of each app out.

Pure Python, no Ansible imports: the role, the kustomize renderer, the readiness check and the unit tests all read the
same objects, so nothing is re-derived in a template. `render(apps, environment, context)` validates every app first
and raises AppWorkloadError naming the app and the field before anything is rendered.
"""

from __future__ import annotations

import copy
import re

MANAGED_BY = "aibang.gke_platform"
APP_LABEL = "aibang.io/app"
NAMESPACE_LABEL = "aibang.io/apps"
MANAGED_LABELS = {"app.kubernetes.io/managed-by": MANAGED_BY}
PRUNE_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY},{APP_LABEL}"

PRESETS = {
    "dev": {"replicas": 1, "size": "S", "approval": "none", "max_replicas": 3},
    "staging": {"replicas": 2, "size": "M", "approval": "optional", "max_replicas": 5},
    "prod": {"replicas": 3, "size": "L", "approval": "required", "max_replicas": 10},
}
SIZES = {
    "S": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    "M": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    "L": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
}
APPROVALS = ("none", "optional", "required")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
CRON_FIELD = re.compile(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*|[A-Za-z]{3}(-[A-Za-z]{3})?(,[A-Za-z]{3})*")
CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
RUN_AS_USER = 10001
SCHEDULING_KEYS = ("nodeSelector", "tolerations")
TOLERATION_KEYS = {"key", "operator", "value", "effect", "tolerationSeconds"}
REDIS_PORT = 6379
REDIS_CONF = """maxmemory 128mb
maxmemory-policy allkeys-lru
save 900 1
save 300 10
save 60 10000
dir /data
"""
# Order in which one app's objects are applied: what others reference comes first.
KIND_ORDER = ("Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service", "Deployment", "StatefulSet",
              "DaemonSet", "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy")


class AppWorkloadError(ValueError):
    """Bad input: the message names the app, the field and the value."""


def is_cron(schedule) -> bool:
    if not isinstance(schedule, str):
        return False
    text = schedule.strip()
    if text in CRON_MACROS:
        return True
    fields = text.split()
    return len(fields) == 5 and all(CRON_FIELD.fullmatch(field) for field in fields)


# ---------------------------------------------------------------------------------------------------------------------
# Settings: the environment's preset, overridden per app, checked before anything is rendered.

def settings(app: dict, environment: dict) -> dict:
    """One app's effective settings (preset values overridden by the app's own)."""
    name = app.get("name")
    env_name = environment.get("name")
    if env_name not in PRESETS:
        raise AppWorkloadError(f"environment name: '{env_name}' is not one of {', '.join(PRESETS)}")
    preset = PRESETS[env_name]
    replicas = app.get("replicas", environment.get("replicas", preset["replicas"]))
    hpa = dict(app.get("hpa") or {})
    result = {
        "name": name,
        "namespace": app.get("namespace") or environment.get("namespace"),
        "image": app.get("image"),
        "port": app.get("port", 8080),
        "replicas": replicas,
        "size": app.get("size", environment.get("size", preset["size"])),
        "approval": app.get("approval", environment.get("approval", preset["approval"])),
        "hpa_enabled": hpa.get("enabled", True),
        "hpa_min": hpa.get("min", replicas),
        "hpa_max": hpa.get("max", max(preset["max_replicas"], replicas if isinstance(replicas, int) else 0)),
        "hpa_cpu": hpa.get("cpu_percent", 70),
        "hpa_memory": hpa.get("memory_percent", 80),
        "ingress_from": app.get("ingress_from", []),
        # Where Prometheus scrapes the app (docs/monitoring.md); false: not scraped.
        "metrics": app.get("metrics", {}),
        "env": app.get("env", {}),
        "redis": app.get("redis", False),
        "log_collector": app.get("log_collector"),
        "cronjob": app.get("cronjob"),
        "db_name": app.get("db_name", "app"),
        "db_user": app.get("db_user", "app"),
        "service_account": app.get("service_account", "app"),  # psc_consumer binds <namespace>/app to the GSA
        # Which nodes the app's pods (Deployment, Redis, CronJob) run on: a node pool's label and taints.
        "scheduling": app.get("scheduling", environment.get("scheduling") or {}),
    }
    result["pdb_min_available"] = app.get("pdb_min_available", max(result["hpa_min"] - 1, 0)
                                          if isinstance(result["hpa_min"], int) else 0)
    return result


def validate(app: dict, effective: dict) -> None:
    name = app.get("name")
    label = f"app '{name}'"

    def fail(field, value, why):
        raise AppWorkloadError(f"{label}: {field}: {value!r} {why}")

    if not isinstance(name, str) or not DNS_LABEL.fullmatch(name):
        raise AppWorkloadError(f"app name: {name!r} is not a DNS label (lower-case letters, digits and '-', at most 63)")
    if not isinstance(effective["namespace"], str) or not DNS_LABEL.fullmatch(effective["namespace"]):
        fail("namespace", effective["namespace"], "is not a DNS label")
    if not isinstance(effective["image"], str) or not effective["image"]:
        fail("image", effective["image"], "is required")
    if not isinstance(effective["port"], int) or not 1 <= effective["port"] <= 65535:
        fail("port", effective["port"], "is not a port number")
    if effective["size"] not in SIZES:
        fail("size", effective["size"], f"is not one of {', '.join(SIZES)}")
    if effective["approval"] not in APPROVALS:
        fail("approval", effective["approval"], f"is not one of {', '.join(APPROVALS)}")
    for field in ("replicas", "hpa_min", "hpa_max", "pdb_min_available"):
        if not isinstance(effective[field], int) or isinstance(effective[field], bool) or effective[field] < 0:
            fail(field.replace("hpa_", "hpa."), effective[field], "is not a whole number >= 0")
    if effective["replicas"] < 1:
        fail("replicas", effective["replicas"], "must be at least 1")
    if effective["hpa_min"] > effective["hpa_max"]:
        fail("hpa.min", effective["hpa_min"], f"is above hpa.max ({effective['hpa_max']})")
    if effective["hpa_min"] < 1:
        fail("hpa.min", effective["hpa_min"], "must be at least 1")
    floor = effective["hpa_min"] if effective["hpa_enabled"] else effective["replicas"]
    if effective["pdb_min_available"] and effective["pdb_min_available"] >= floor:
        fail("replicas", effective["replicas"], f"is below what the PodDisruptionBudget keeps available "
             f"(pdb_min_available {effective['pdb_min_available']}, HPA minimum {effective['hpa_min']}): "
             "a drain could never evict a pod")
    for field in ("hpa_cpu", "hpa_memory"):
        if not isinstance(effective[field], int) or not 1 <= effective[field] <= 100:
            fail(field.replace("hpa_", "hpa.") + "_percent", effective[field], "is not a percentage")
    cronjob = effective["cronjob"]
    if cronjob:
        if not isinstance(cronjob, dict):
            fail("cronjob", cronjob, "is not a mapping")
        if not is_cron(cronjob.get("schedule")):
            fail("cronjob.schedule", cronjob.get("schedule"), "is not a cron schedule (five fields or @daily etc.)")
    for index, source in enumerate(effective["ingress_from"]):
        if not isinstance(source, dict) or not set(source) & {"namespace", "pod_labels", "cidr"} or \
                set(source) - {"namespace", "pod_labels", "cidr"}:
            fail(f"ingress_from[{index}]", source, "needs namespace, pod_labels and/or cidr (and nothing else)")
    if not isinstance(effective["env"], dict):
        fail("env", effective["env"], "is not a mapping of names to values")
    validate_scheduling(effective["scheduling"], fail)
    metrics = effective["metrics"]
    if metrics is not False:
        if not isinstance(metrics, dict) or set(metrics) - {"port", "path"}:
            fail("metrics", metrics, "is not false or a mapping of port and path")
        port, path = metrics.get("port", effective["port"]), metrics.get("path", "/metrics")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            fail("metrics.port", port, "is not a port number")
        if not isinstance(path, str) or not path.startswith("/"):
            fail("metrics.path", path, "is not a path starting with /")


def validate_scheduling(scheduling, fail) -> None:
    if not isinstance(scheduling, dict) or set(scheduling) - set(SCHEDULING_KEYS):
        fail("scheduling", scheduling, f"is not a mapping of {' and/or '.join(SCHEDULING_KEYS)}")
    selector = scheduling.get("nodeSelector", {})
    if not isinstance(selector, dict) or not all(isinstance(key, str) and isinstance(value, str) for key, value in selector.items()):
        fail("scheduling.nodeSelector", selector, "is not a mapping of node label names to string values")
    tolerations = scheduling.get("tolerations", [])
    if not isinstance(tolerations, list):
        fail("scheduling.tolerations", tolerations, "is not a list")
    for index, toleration in enumerate(tolerations):
        if not isinstance(toleration, dict) or set(toleration) - TOLERATION_KEYS or \
                toleration.get("operator", "Equal") not in ("Equal", "Exists"):
            fail(f"scheduling.tolerations[{index}]", toleration,
                 f"is not a toleration ({', '.join(sorted(TOLERATION_KEYS))}; operator Equal or Exists)")


def metrics_endpoint(app: dict) -> dict | None:
    """Port and path Prometheus scrapes (the app's port and /metrics unless set), or None when not scraped."""
    if app["metrics"] is False:
        return None
    return {"port": app["metrics"].get("port", app["port"]), "path": app["metrics"].get("path", "/metrics")}


def validate_all(apps: list, environment: dict) -> list:
    """Every app's settings, or AppWorkloadError for the first bad field; duplicate names are an error too."""
    if not isinstance(apps, list):
        raise AppWorkloadError(f"apps: {apps!r} is not a list")
    seen = set()
    result = []
    for app in apps:
        if not isinstance(app, dict):
            raise AppWorkloadError(f"apps: entry {app!r} is not a mapping")
        effective = settings(app, environment)
        validate(app, effective)
        if app["name"] in seen:
            raise AppWorkloadError(f"app '{app['name']}': name: listed twice")
        seen.add(app["name"])
        result.append(effective)
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Objects

def meta(name: str, namespace: str, app: str, component: str = "app", annotations: dict | None = None) -> dict:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
              "app.kubernetes.io/part-of": app, APP_LABEL: app, **MANAGED_LABELS}
    result = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        result["annotations"] = annotations
    return result


def selector_labels(name: str) -> dict:
    return {"app.kubernetes.io/name": name}


def placement(app: dict) -> dict:
    """The pod spec fields that put the app's pods on its nodes (empty: any node)."""
    return {key: copy.deepcopy(app["scheduling"][key]) for key in SCHEDULING_KEYS if app["scheduling"].get(key)}


def pod_security() -> dict:
    return {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_USER, "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security() -> dict:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}}


def spread(name: str) -> list:
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": selector_labels(name)}}
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]


def proxy_env(context: dict) -> list:
    proxy = f"http://{context['egress_alias']}:{context['egress_port']}"
    no_proxy = ["localhost", "127.0.0.1", ".svc", ".cluster.local", *context.get("no_proxy_cidrs", [])]
    no_proxy += [host for host in (context.get("db_host"), context.get("db_ip")) if host]
    return [{"name": "HTTPS_PROXY", "value": proxy}, {"name": "HTTP_PROXY", "value": proxy},
            {"name": "NO_PROXY", "value": ",".join(dict.fromkeys(no_proxy))}]


def app_container(app: dict, context: dict) -> dict:
    env = proxy_env(context) + [{"name": key, "value": str(value)} for key, value in sorted(app["env"].items())]
    if app["redis"]:
        env += [{"name": "REDIS_HOST", "value": f"{app['name']}-redis"},
                {"name": "REDIS_PORT", "value": str(REDIS_PORT)},
                {"name": "REDIS_PASSWORD",
                 "valueFrom": {"secretKeyRef": {"name": f"{app['name']}-redis", "key": "REDIS_PASSWORD"}}}]

    def probe(path, period, failures):
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 3,
                "failureThreshold": failures}

    ports = [{"name": "http", "containerPort": app["port"], "protocol": "TCP"}]
    scraped = metrics_endpoint(app)
    if scraped and scraped["port"] != app["port"]:
        ports.append({"name": "metrics", "containerPort": scraped["port"], "protocol": "TCP"})
    return {
        "name": "app",
        "image": app["image"],
        "ports": ports,
        "envFrom": [{"configMapRef": {"name": f"{app['name']}-db"}}, {"secretRef": {"name": f"{app['name']}-db"}}],
        "env": env,
        "startupProbe": probe("/health", 5, 24),
        "livenessProbe": probe("/health", 30, 3),
        "readinessProbe": probe("/ready", 10, 3),
        "resources": copy.deepcopy(SIZES[app["size"]]),
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def namespace_objects(namespace: str, accounts: list, context: dict) -> list:
    """What an app namespace holds once, shared by its apps: the namespace, its default-deny NetworkPolicy and the
    Kubernetes service accounts the apps run as (bound to the GSA by Workload Identity)."""
    labels = {"kubernetes.io/metadata.name": namespace, NAMESPACE_LABEL: "true", **MANAGED_LABELS}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}},
        *({"apiVersion": "v1", "kind": "ServiceAccount",
           "metadata": {"name": account, "namespace": namespace, "labels": dict(MANAGED_LABELS),
                        "annotations": {"iam.gke.io/gcp-service-account": context.get("gsa_email", "")}}}
          for account in accounts),
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "default-deny", "namespace": namespace, "labels": dict(MANAGED_LABELS)},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
    ]


def core_objects(app: dict, context: dict) -> list:
    name, namespace = app["name"], app["namespace"]
    db_host = context.get("db_host") or context.get("db_ip") or ""
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"{name}-db", namespace, name, "config"),
         "data": {"DB_HOST": db_host, "DB_PORT": str(context.get("db_port", 3306)), "DB_NAME": app["db_name"], "DB_USER": app["db_user"]}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta(f"{name}-db", namespace, name, "config"),
         "type": "Opaque", "data": {"DB_PASSWORD": ""}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, namespace, name),
         "spec": {"type": "ClusterIP", "selector": selector_labels(name),
                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}},
        deployment(app, context),
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(name, namespace, name),
         "spec": {"minAvailable": app["pdb_min_available"], "selector": {"matchLabels": selector_labels(name)}}},
        app_network_policy(app, context),
    ]
    if app["hpa_enabled"]:
        objects.append(hpa(app))
    return objects


def deployment(app: dict, context: dict) -> dict:
    name = app["name"]
    scraped = metrics_endpoint(app)
    pod_metadata = {"labels": {**selector_labels(name), APP_LABEL: name}}
    if scraped:
        pod_metadata["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": str(scraped["port"]),
                                       "prometheus.io/path": scraped["path"]}
    spec = {
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": selector_labels(name)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {
            "metadata": pod_metadata,
            "spec": {
                "serviceAccountName": app["service_account"],
                "automountServiceAccountToken": True,
                "securityContext": pod_security(),
                "topologySpreadConstraints": spread(name),
                "containers": [app_container(app, context)],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                **placement(app),
            },
        },
    }
    if not app["hpa_enabled"]:
        # With an HPA the HPA owns spec.replicas (server-side apply would fight it); it scales up to its minimum.
        spec["replicas"] = app["replicas"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, app["namespace"], name),
            "spec": spec}


def hpa(app: dict) -> dict:
    def utilization(resource, percent):
        return {"type": "Resource",
                "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": percent}}}

    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": meta(app["name"], app["namespace"], app["name"]),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app["name"]},
                     "minReplicas": app["hpa_min"], "maxReplicas": app["hpa_max"],
                     "metrics": [utilization("cpu", app["hpa_cpu"]), utilization("memory", app["hpa_memory"])]}}


def peer(source: dict) -> dict:
    if "cidr" in source:
        return {"ipBlock": {"cidr": source["cidr"]}}
    result = {}
    if "namespace" in source:
        result["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": source["namespace"]}}
    if "pod_labels" in source:
        result["podSelector"] = {"matchLabels": dict(source["pod_labels"])}
    return result


# GKE's metadata server, where a pod gets its Workload Identity token: Google asks clusters with network policies to
# allow egress to 169.254.169.254:80 (GKE Dataplane V2) and 169.254.169.252:988 (the others).
METADATA_SERVER_EGRESS = [
    {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]},
    {"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}], "ports": [{"protocol": "TCP", "port": 988}]},
]


def app_network_policy(app: dict, context: dict) -> dict:
    name = app["name"]
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    proxy = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": context["proxy_namespace"]}},
                     "podSelector": {"matchLabels": dict(context["proxy_pod_labels"])}}],
             "ports": [{"protocol": "TCP", "port": context["egress_port"]}]}
    egress = [dns, proxy]
    if context.get("db_ip"):
        egress.append({"to": [{"ipBlock": {"cidr": f"{context['db_ip']}/32"}}],
                       "ports": [{"protocol": "TCP", "port": int(context.get("db_port", 3306))}]})
    if app["redis"]:
        egress.append({"to": [{"podSelector": {"matchLabels": selector_labels(f"{name}-redis")}}],
                       "ports": [{"protocol": "TCP", "port": REDIS_PORT}]})
    if context.get("gsa_email"):
        egress.extend(copy.deepcopy(METADATA_SERVER_EGRESS))
    spec = {"podSelector": {"matchLabels": selector_labels(name)}, "policyTypes": ["Ingress", "Egress"],
            "egress": egress, "ingress": []}
    if app["ingress_from"]:
        spec["ingress"] = [{"from": [peer(source) for source in app["ingress_from"]],
                            "ports": [{"protocol": "TCP", "port": app["port"]}]}]
    scraped = metrics_endpoint(app)
    if scraped and context.get("metrics_namespace"):
        spec["ingress"].append({"from": [peer({"namespace": context["metrics_namespace"]})],
                                "ports": [{"protocol": "TCP", "port": scraped["port"]}]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(name, app["namespace"], name), "spec": spec}


def redis_objects(app: dict, context: dict) -> list:
    name, namespace, redis = app["name"], app["namespace"], f"{app['name']}-redis"
    options = app["redis"] if isinstance(app["redis"], dict) else {}
    image = options.get("image", context.get("redis_image", "redis:7.2"))
    container = {
        "name": "redis", "image": image,
        "command": ["sh", "-c", 'exec redis-server /etc/redis/redis.conf --requirepass "$REDIS_PASSWORD"'],
        "env": [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": redis, "key": "REDIS_PASSWORD"}}}],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 30},
        "resources": {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "config", "mountPath": "/etc/redis"}],
    }
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(redis, namespace, name, "cache"),
         "data": {"redis.conf": REDIS_CONF}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta(redis, namespace, name, "cache"), "type": "Opaque",
         "data": {"REDIS_PASSWORD": ""}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(redis, namespace, name, "cache"),
         "spec": {"clusterIP": "None", "selector": selector_labels(redis),
                  "ports": [{"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(redis, namespace, name, "cache"),
         "spec": {
             "serviceName": redis, "replicas": 1, "selector": {"matchLabels": selector_labels(redis)},
             "template": {"metadata": {"labels": {**selector_labels(redis), APP_LABEL: name}},
                          "spec": {"automountServiceAccountToken": False,
                                   "securityContext": {**pod_security(), "runAsUser": 999, "runAsGroup": 999,
                                                       "fsGroup": 999},
                                   "containers": [container],
                                   "volumes": [{"name": "config", "configMap": {"name": redis}}],
                                   **placement(app)}},
             "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                       "spec": {"accessModes": ["ReadWriteOnce"],
                                                "resources": {"requests": {"storage": "1Gi"}}}}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(redis, namespace, name, "cache"),
         "spec": {"podSelector": {"matchLabels": selector_labels(redis)}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": selector_labels(name)}}],
                               "ports": [{"protocol": "TCP", "port": REDIS_PORT}]}],
                  "egress": []}},
    ]


def log_collector_objects(app: dict, context: dict) -> list:
    name, namespace, collector = app["name"], app["namespace"], f"{app['name']}-logs"
    options = app["log_collector"] if isinstance(app["log_collector"], dict) else {}
    container = {
        "name": "collector", "image": options.get("image", context.get("log_collector_image", "fluent/fluent-bit:3.1")),
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "securityContext": {**container_security(), "runAsNonRoot": False, "runAsUser": 0},
        "volumeMounts": [{"name": "varlog", "mountPath": "/var/log", "readOnly": True}],
    }
    return [{
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(collector, namespace, name, "logging"),
        "spec": {"selector": {"matchLabels": selector_labels(collector)},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {**selector_labels(collector), APP_LABEL: name}},
                              "spec": {"automountServiceAccountToken": False,
                                       "nodeSelector": {"kubernetes.io/os": "linux"},
                                       "tolerations": options.get("tolerations", [{"operator": "Exists"}]),
                                       "containers": [container],
                                       "volumes": [{"name": "varlog",
                                                    "hostPath": {"path": "/var/log", "type": "Directory"}}]}}},
    }]


def cronjob_objects(app: dict, context: dict) -> list:
    name, cron = app["name"], app["cronjob"]
    container = app_container(app, context)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        container.pop(probe)
    container.pop("ports")
    container["name"] = "job"
    if cron.get("image"):
        container["image"] = cron["image"]
    if cron.get("command"):
        container["command"] = list(cron["command"])
    return [{
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(f"{name}-job", app["namespace"], name, "job"),
        "spec": {"schedule": cron["schedule"], "concurrencyPolicy": "Forbid",
                 "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                 "jobTemplate": {"spec": {
                     "backoffLimit": 3, "activeDeadlineSeconds": 300,
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": f"{name}-job", APP_LABEL: name}},
                                  "spec": {"restartPolicy": "OnFailure", "serviceAccountName": app["service_account"],
                                           "securityContext": pod_security(), "containers": [container],
                                           "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                                           **placement(app)}}}}},
    }]


def app_objects(app: dict, context: dict) -> list:
    objects = core_objects(app, context)
    if app["redis"]:
        objects += redis_objects(app, context)
    if app["log_collector"]:
        objects += log_collector_objects(app, context)
    if app["cronjob"]:
        objects += cronjob_objects(app, context)
    return sorted(objects, key=lambda obj: KIND_ORDER.index(obj["kind"]))


def gates(app: dict) -> dict:
    """What the role waits for after the apply."""
    name = app["name"]
    return {
        "deployments": [name],
        "min_ready": app["hpa_min"] if app["hpa_enabled"] else app["replicas"],
        "statefulsets": [f"{name}-redis"] if app["redis"] else [],
        "daemonsets": [f"{name}-logs"] if app["log_collector"] else [],
        "cronjobs": [f"{name}-job"] if app["cronjob"] else [],
    }


CONTEXT_REQUIRED = ("egress_alias", "egress_port", "proxy_namespace", "proxy_pod_labels")


def render(apps: list, environment: dict, context: dict) -> dict:
    """Validate every app, then render: {namespaces: [...], apps: [{name, namespace, approval, objects, gates}]}.

    environment: {name: dev|staging|prod, namespace, and optional replicas/size/approval for every app}.
    context: what the other stages computed (egress_alias, egress_port, proxy_namespace, proxy_pod_labels, db_host,
    db_ip, db_port, gsa_email, no_proxy_cidrs, redis_image, log_collector_image). Secrets carry empty values:
    app_workload_apply fills them from its no_log option, so no password passes through here.
    """
    missing = [key for key in CONTEXT_REQUIRED if context.get(key) in (None, "", {})]
    if missing:
        raise AppWorkloadError(f"context: {', '.join(missing)} missing (the egress stage's outputs)")
    effective = validate_all(apps, environment)
    namespaces = list(dict.fromkeys(app["namespace"] for app in effective))
    return {
        "namespaces": namespaces,
        "namespace_objects": [obj for namespace in namespaces for obj in namespace_objects(
            namespace, list(dict.fromkeys(app["service_account"] for app in effective if app["namespace"] == namespace)),
            context)],
        "apps": [{"name": app["name"], "namespace": app["namespace"], "approval": app["approval"],
                  "identity": {"service_account": app["service_account"], "gsa_email": context.get("gsa_email", "")},
                  "settings": app, "objects": app_objects(app, context), "gates": gates(app)} for app in effective],
    }


def all_objects(rendered: dict) -> list:
    return rendered["namespace_objects"] + [obj for app in rendered["apps"] for obj in app["objects"]]
