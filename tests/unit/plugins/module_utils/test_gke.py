# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gke import cluster_view, desired_cluster

PARAMS = {"project": "p", "name": "c", "network": "vpc", "subnetwork": "nodes", "pods_range": "pods",
          "services_range": "services", "private_nodes": True, "private_endpoint": False, "master_ipv4_cidr": "172.16.0.0/28",
          "master_authorized_networks": [], "workload_identity": True, "release_channel": "REGULAR", "labels": {},
          "node_pools": [{"name": "default", "machine_type": "e2-standard-4", "node_count": 1, "min_nodes": 1, "max_nodes": 3}]}


def test_cluster_has_workload_identity_private_nodes_and_ip_aliases():
    body = desired_cluster(PARAMS)
    assert body["workloadIdentityConfig"] == {"workloadPool": "p.svc.id.goog"}
    assert body["privateClusterConfig"]["enablePrivateNodes"] is True
    assert body["ipAllocationPolicy"] == {"useIpAliases": True, "clusterSecondaryRangeName": "pods",
                                          "servicesSecondaryRangeName": "services"}
    assert "masterAuthorizedNetworksConfig" not in body


def test_node_pools_use_the_gke_metadata_server_and_autoscale_when_bounded():
    pool = desired_cluster(PARAMS)["nodePools"][0]
    assert pool["config"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert pool["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3}
    fixed = desired_cluster(dict(PARAMS, node_pools=[{"name": "n", "machine_type": "e2", "node_count": 2}]))["nodePools"][0]
    assert "autoscaling" not in fixed


def test_without_workload_identity_no_pool_is_sent():
    assert "workloadIdentityConfig" not in desired_cluster(dict(PARAMS, workload_identity=False))
    assert cluster_view({"name": "c", "nodePools": [{"name": "b"}, {"name": "a"}]})["node_pools"] == ["a", "b"]
