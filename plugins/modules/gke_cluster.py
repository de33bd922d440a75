#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gke_cluster
short_description: A private GKE Standard cluster with Workload Identity and node pools on the GKE metadata server
version_added: 0.1.0
description:
  - Creates a VPC-native cluster (pod and service secondary ranges) with private nodes, Workload Identity
    (C(<project>.svc.id.goog)) and node pools whose workload metadata mode is C(GKE_METADATA), so pods get Google
    credentials from their Kubernetes service account and never from a key.
  - Always GKE Dataplane V2 (C(ADVANCED_DATAPATH)), so NetworkPolicies are enforced; master authorized networks
    always on; node pools run as O(node_service_account) with the scopes C(devstorage.read_only), C(logging.write)
    and C(monitoring), never as the Compute Engine default service account.
  - A control plane reachable from the internet without a list of authorized networks is refused; set
    O(private_endpoint=true) or O(master_authorized_networks).
  - On an existing cluster it enables (or disables) Workload Identity and sets the master authorized networks in
    place, and adds missing node pools. Network, ranges, private settings, the datapath and a node pool's service
    account or scopes cannot change in place and fail naming the field. Node pools not listed are left alone.
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - aibang.gke_platform.gcp
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  name:
    description: Cluster name.
    type: str
    required: true
  location:
    description: Region (regional cluster) or zone.
    type: str
    required: true
  network:
    description: VPC network name.
    type: str
  subnetwork:
    description: Subnet name (nodes), holding the secondary ranges.
    type: str
  pods_range:
    description: Name of the subnet's secondary range for pods.
    type: str
  services_range:
    description: Name of the subnet's secondary range for Services.
    type: str
  private_nodes:
    description: Nodes without external IPs.
    type: bool
    default: true
  private_endpoint:
    description: Control plane reachable only on its private address.
    type: bool
    default: false
  master_ipv4_cidr:
    description: /28 range for the control plane's private endpoint.
    type: str
  master_authorized_networks:
    description:
      - CIDRs allowed to reach the control plane (master authorized networks, always enabled).
      - Required unless O(private_endpoint=true).
    type: list
    elements: str
    default: []
  node_service_account:
    description:
      - Email of the user-managed service account the nodes run as (least privilege, for example
        C(roles/logging.logWriter), C(roles/monitoring.metricWriter), C(roles/monitoring.viewer),
        C(roles/artifactregistry.reader)). Required when O(node_pools) is set.
    type: str
  workload_identity:
    description: Enable Workload Identity (pool C(<project>.svc.id.goog)).
    type: bool
    default: true
  release_channel:
    description: GKE release channel.
    type: str
    choices: [RAPID, REGULAR, STABLE, EXTENDED]
    default: REGULAR
  labels:
    description: Resource labels.
    type: dict
    default: {}
  node_pools:
    description: Node pools to create when missing; their nodes use the GKE metadata server.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Node pool name., type: str, required: true}
      machine_type: {description: Machine type., type: str, default: e2-standard-4}
      node_count: {description: Initial nodes per zone., type: int, default: 1}
      min_nodes:
        description: Autoscaling minimum per zone, used with C(max_nodes).
        type: int
      max_nodes:
        description: Autoscaling maximum per zone; autoscaling is on when set.
        type: int
      disk_size_gb: {description: Boot disk size., type: int}
  wait_timeout:
    description: Seconds to wait for each operation.
    type: int
    default: 2400
  poll_interval:
    description: Seconds between operation polls.
    type: int
    default: 15
  delete_unmarked:
    description:
      - With O(state=absent), also delete a GKE cluster this collection did not create. It marks what it creates with
        the label C(managed-by=aibang-gke-platform) (at creation only, never on a resource found existing); without
        this option an unmarked GKE cluster is left in place with a warning, and C(left) is returned true.
    type: bool
    default: false
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The platform cluster
  aibang.gke_platform.gke_cluster:
    project: consumer-prod
    location: europe-west2
    name: platform
    network: platform-vpc
    subnetwork: gke-nodes
    pods_range: pods
    services_range: services
    master_ipv4_cidr: 172.16.0.0/28
    private_endpoint: true
    node_service_account: gke-nodes@consumer-prod.iam.gserviceaccount.com
    node_pools:
      - {name: default, machine_type: e2-standard-4, node_count: 1, min_nodes: 1, max_nodes: 3}
"""

RETURN = r"""
left:
  description: True when O(state=absent) left an existing cluster in place because this collection did not create it.
  returned: when an unmarked cluster was left
  type: bool
cluster:
  description: >-
    Name, status, endpoint, C(workload_pool), C(private_nodes), C(private_endpoint), C(master_authorized_networks),
    C(datapath_provider), network, node pool names, self link.
  returned: always
  type: dict
"""

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import gcp_module, run
from ansible_collections.aibang.gke_platform.plugins.module_utils.gke import ensure_cluster


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "location": {"type": "str", "required": True},
    "network": {"type": "str"},
    "subnetwork": {"type": "str"},
    "pods_range": {"type": "str"},
    "services_range": {"type": "str"},
    "private_nodes": {"type": "bool", "default": True},
    "private_endpoint": {"type": "bool", "default": False},
    "master_ipv4_cidr": {"type": "str"},
    "master_authorized_networks": {"type": "list", "elements": "str", "default": []},
    "node_service_account": {"type": "str"},
    "workload_identity": {"type": "bool", "default": True},
    "release_channel": {"type": "str", "choices": ["RAPID", "REGULAR", "STABLE", "EXTENDED"], "default": "REGULAR"},
    "labels": {"type": "dict", "default": {}},
    "node_pools": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "machine_type": {"type": "str", "default": "e2-standard-4"},
        "node_count": {"type": "int", "default": 1},
        "min_nodes": {"type": "int"},
        "max_nodes": {"type": "int"},
        "disk_size_gb": {"type": "int"},
    }},
    "wait_timeout": {"type": "int", "default": 2400},
    "poll_interval": {"type": "int", "default": 15},
    "delete_unmarked": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
CONSTRAINTS = {"required_if": [("state", "present", ("network", "subnetwork", "pods_range", "services_range"))]}


def main() -> None:
    run(gcp_module(ARGUMENT_SPEC, **CONSTRAINTS), ensure_cluster)


if __name__ == "__main__":
    main()
