#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_workload_render
short_description: Validate an environment's apps and render their Kubernetes objects
version_added: 0.2.0
description:
  - Checks every app first (name a DNS label, size, replicas against the PodDisruptionBudget, HPA minimum against its
    maximum, CronJob schedule) and fails naming the app and the field before anything is rendered.
  - Renders each app's objects - ServiceAccount with the Workload Identity annotation, ConfigMap and Secret for the
    database, Deployment, Service, HPA, PDB, NetworkPolicy, and optionally a Redis StatefulSet, a log-collector
    DaemonSet and a CronJob - from the environment's preset (dev, staging, prod) overridden per app.
  - Secrets carry empty values here; M(aibang.gke_platform.app_workload_apply) fills them from its no_log option.
  - Checks the rendered objects for production readiness and, with O(output=kustomize), renders the same objects as a
    kustomize base and overlay plus the Flux objects that would sync them.
  - Read-only; writes nothing. Runs in the controller (an action plugin of the same name); it only computes, so no
    module process is started.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  apps:
    description: The apps of the environment (keys in C(docs/apps.md)).
    type: list
    elements: dict
    required: true
  environment:
    description:
      - The environment - V(name) (dev, staging or prod, which picks the preset), V(namespace) (the default namespace
        of its apps), and optionally V(replicas), V(size), V(approval) and V(scheduling) (V(nodeSelector),
        V(tolerations)) for every app.
    type: dict
    required: true
  context:
    description:
      - What the other stages computed - V(egress_alias), V(egress_port), V(proxy_namespace), V(proxy_pod_labels),
        V(db_host), V(db_ip), V(db_port), V(gsa_email), V(no_proxy_cidrs), V(redis_image), V(log_collector_image),
        and V(metrics_namespace) (where Prometheus runs; its pods may scrape the apps).
    type: dict
    required: true
  output:
    description: V(apply) returns the objects; V(kustomize) also returns the files of the GitOps tree.
    type: str
    choices: [apply, kustomize]
    default: apply
  repository:
    description: The Git repository Flux syncs from (V(name), V(url), V(branch), V(interval)); for O(output=kustomize).
    type: dict
    default: {}
  secrets_from_vault:
    description: Whether the Secrets' values come from Ansible Vault (the readiness check reports it).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Render the apps of this environment
  aibang.gke_platform.app_workload_render:
    apps:
      - {name: orders, image: "registry.example/orders@sha256:0123...", port: 8080, redis: true}
    environment: {name: prod, namespace: aibang-prod}
    context:
      egress_alias: microsoft.intra.aibang.local
      egress_port: 3128
      proxy_namespace: intra-proxy
      proxy_pod_labels: {app.kubernetes.io/name: squid-proxy}
      db_host: db.psc.example.internal
      db_port: 3306
      gsa_email: app-db-client@project.iam.gserviceaccount.com
  register: rendered
"""

RETURN = r"""
namespaces:
  description: The app namespaces, in order.
  returned: success
  type: list
  elements: str
namespace_objects:
  description: The Namespace and default-deny NetworkPolicy of each app namespace.
  returned: success
  type: list
  elements: dict
apps:
  description: One entry per app, in order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The app's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    approval:
      description: Whether a deploy waits for an approval - none, optional or required.
      type: str
    identity:
      description: The Kubernetes service account the app runs as and the GSA it is bound to.
      type: dict
    settings:
      description: The preset overridden by the app's own values.
      type: dict
    objects:
      description: Its Kubernetes objects in apply order (Secrets with empty values).
      type: list
      elements: dict
    gates:
      description: What the apply waits for - deployments, min_ready, statefulsets, daemonsets and cronjobs.
      type: dict
readiness:
  description: The production readiness check of every rendered object.
  returned: success
  type: dict
  contains:
    unmet:
      description: "Unmet items, each 'check-id: what'."
      type: list
      elements: str
    ready:
      description: Whether nothing is unmet.
      type: bool
files:
  description: With O(output=kustomize), relative path to file text (base/, overlays/ENV/, flux/ENV.yaml).
  returned: when output is kustomize
  type: dict
secrets_out_of_band:
  description: With O(output=kustomize), the Secrets (namespace/name) left out of the Git tree.
  returned: when output is kustomize
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_kustomize
from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_readiness


ARGUMENT_SPEC = {
    "apps": {"type": "list", "elements": "dict", "required": True},
    "environment": {"type": "dict", "required": True},
    "context": {"type": "dict", "required": True},
    "output": {"type": "str", "choices": ["apply", "kustomize"], "default": "apply"},
    "repository": {"type": "dict", "default": {}},
    "secrets_from_vault": {"type": "bool", "default": True},
}


def run_module(params: dict) -> dict:
    """The rendered apps, or the failure naming the app and the field; also what the action plugin returns, run in the
    controller."""
    try:
        return {"changed": False, **render(params)}
    except app_workload.AppWorkloadError as exc:
        return {"failed": True, "msg": f"Invalid apps: {exc}"}


def render(params: dict) -> dict:
    rendered = app_workload.render(params["apps"], params["environment"], params["context"])
    unmet = app_workload_readiness.check(app_workload.all_objects(rendered), params["environment"].get("name") == "prod",
                                         params["secrets_from_vault"])
    result = {**rendered, "readiness": {"ready": not unmet, "unmet": unmet}}
    if params["output"] == "kustomize":
        tree = app_workload_kustomize.render_tree(params["apps"], params["environment"], params["context"],
                                                  params["repository"])
        result.update(files=tree["files"], secrets_out_of_band=tree["secrets_out_of_band"])
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run_module(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
