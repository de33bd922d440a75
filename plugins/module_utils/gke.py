# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private GKE cluster with Workload Identity, and its node pools on the GKE metadata server."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import differences, name_of, without_none

CONTAINER = "https://container.googleapis.com/v1/"


def _url(params: dict, suffix: str = "") -> str:
    return f"{CONTAINER}projects/{params['project']}/locations/{params['location']}/clusters" + suffix


def workload_pool(params: dict) -> str:
    return f"{params['project']}.svc.id.goog" if params["workload_identity"] else ""


def desired_node_pool(pool: dict) -> dict:
    return without_none({
        "name": pool["name"],
        "initialNodeCount": pool["node_count"],
        "config": {"machineType": pool["machine_type"], "diskSizeGb": pool.get("disk_size_gb"),
                   "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
                   "workloadMetadataConfig": {"mode": "GKE_METADATA"}},
        "autoscaling": ({"enabled": True, "minNodeCount": pool["min_nodes"], "maxNodeCount": pool["max_nodes"]}
                        if pool.get("max_nodes") else None),
        "management": {"autoRepair": True, "autoUpgrade": True},
    })


def desired_cluster(params: dict) -> dict:
    return without_none({
        "name": params["name"],
        "network": name_of(params["network"]) if params["network"] else None,  # GKE reads back names, not links
        "subnetwork": name_of(params["subnetwork"]) if params["subnetwork"] else None,
        "ipAllocationPolicy": {"useIpAliases": True, "clusterSecondaryRangeName": params["pods_range"],
                               "servicesSecondaryRangeName": params["services_range"]},
        "privateClusterConfig": {"enablePrivateNodes": params["private_nodes"],
                                 "enablePrivateEndpoint": params["private_endpoint"],
                                 "masterIpv4CidrBlock": params["master_ipv4_cidr"]},
        "masterAuthorizedNetworksConfig": ({"enabled": True, "cidrBlocks": [{"cidrBlock": cidr} for cidr in params["master_authorized_networks"]]}
                                           if params["master_authorized_networks"] else None),
        "workloadIdentityConfig": {"workloadPool": workload_pool(params)} if params["workload_identity"] else None,
        "releaseChannel": {"channel": params["release_channel"]},
        "resourceLabels": params["labels"] or None,
        "nodePools": [desired_node_pool(pool) for pool in params["node_pools"]],
    })


def cluster_view(cluster: dict | None) -> dict:
    if not cluster:
        return {}
    return {
        "name": cluster.get("name"),
        "status": cluster.get("status"),
        "endpoint": cluster.get("endpoint"),
        "workload_pool": (cluster.get("workloadIdentityConfig") or {}).get("workloadPool", ""),
        "private_nodes": (cluster.get("privateClusterConfig") or {}).get("enablePrivateNodes", False),
        "network": cluster.get("network"),
        "subnetwork": cluster.get("subnetwork"),
        "node_pools": sorted(pool["name"] for pool in cluster.get("nodePools", [])),
        "self_link": cluster.get("selfLink"),
    }


def ensure_cluster(client, params: dict, check_mode: bool) -> dict:
    url = _url(params, f"/{params['name']}")
    current = client.request("GET", url, f"read GKE cluster {params['name']}", not_found_ok=True)
    before = cluster_view(current)
    timeout = params["wait_timeout"]
    if params["state"] == "absent":
        if current is not None and not check_mode:
            what = f"delete GKE cluster {params['name']}"
            client.operate("DELETE", url, what, timeout=timeout, poll=params["poll_interval"])
        return {"changed": current is not None, "cluster": {}, "diff": {"before": before, "after": {}}}
    desired = desired_cluster(params)
    if current is None:
        after = cluster_view(desired)
        if not check_mode:
            what = f"create GKE cluster {params['name']}"
            client.operate("POST", _url(params), what, body={"cluster": desired}, timeout=timeout, poll=params["poll_interval"])
            after = cluster_view(client.request("GET", url, what))
        return {"changed": True, "cluster": after, "diff": {"before": before, "after": after}}
    changed = _reconcile(client, params, current, desired, check_mode)
    after = cluster_view(client.request("GET", url, f"read GKE cluster {params['name']}")) if changed and not check_mode else before
    if check_mode and changed:
        after = dict(before, workload_pool=workload_pool(params), node_pools=sorted(set(before["node_pools"]) | {p["name"] for p in params["node_pools"]}))
    return {"changed": changed, "cluster": after, "diff": {"before": before, "after": after}}


def _reconcile(client, params: dict, current: dict, desired: dict, check_mode: bool) -> bool:
    fixed = {key: desired.get(key) for key in ("network", "subnetwork", "ipAllocationPolicy", "privateClusterConfig")}
    stale = differences(fixed, current)
    if stale:
        raise GcpError(f"Failed to update GKE cluster {params['name']}: {', '.join(stale)} cannot change in place "
                       "(recreate the cluster to change its network or private settings)")
    changed = False
    pool = workload_pool(params)
    if (current.get("workloadIdentityConfig") or {}).get("workloadPool", "") != pool:
        changed = True
        if not check_mode:
            what = f"{'enable' if pool else 'disable'} Workload Identity on GKE cluster {params['name']}"
            client.operate("PUT", _url(params, f"/{params['name']}"), what,
                           body={"update": {"desiredWorkloadIdentityConfig": {"workloadPool": pool}}},
                           timeout=params["wait_timeout"], poll=params["poll_interval"])
    existing = {node_pool["name"] for node_pool in current.get("nodePools", [])}
    for node_pool in desired.get("nodePools", []):
        if node_pool["name"] in existing:
            continue
        changed = True
        if not check_mode:
            what = f"create node pool {node_pool['name']} in GKE cluster {params['name']}"
            client.operate("POST", _url(params, f"/{params['name']}/nodePools"), what, body={"nodePool": node_pool},
                           timeout=params["wait_timeout"], poll=params["poll_interval"])
    return changed
