# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private GKE cluster with Workload Identity, and its node pools on the GKE metadata server.

Hardening that is not optional: GKE Dataplane V2 (NetworkPolicy enforced), master authorized networks always on (a
public endpoint needs a list of CIDRs), node pools on a dedicated service account with logging/monitoring/read-only
storage scopes instead of the Compute Engine default account with cloud-platform.
"""

from __future__ import annotations

import re

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    differences,
    left_unmarked,
    marked,
    name_of,
    with_mark,
    without_none,
)

CONTAINER = "https://container.googleapis.com/v1/"
DATAPLANE_V2 = "ADVANCED_DATAPATH"
NODE_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_only",
               "https://www.googleapis.com/auth/logging.write",
               "https://www.googleapis.com/auth/monitoring")
_SERVICE_ACCOUNT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com")


def _url(params: dict, suffix: str = "") -> str:
    return f"{CONTAINER}projects/{params['project']}/locations/{params['location']}/clusters" + suffix


def workload_pool(params: dict) -> str:
    return f"{params['project']}.svc.id.goog" if params["workload_identity"] else ""


def check_params(params: dict) -> None:
    """Refuse, before any call, a cluster whose control plane is open to the internet or whose nodes use the default account."""
    if not params["private_endpoint"] and not params["master_authorized_networks"]:
        raise GcpError(f"Failed to plan GKE cluster {params['name']}: private_endpoint is false and "
                       "master_authorized_networks is empty, so the control plane would answer the whole internet; "
                       "set private_endpoint: true or list the CIDRs allowed to reach it")
    account = params.get("node_service_account") or ""
    if params["node_pools"] and not _SERVICE_ACCOUNT.fullmatch(account):
        raise GcpError(f"Failed to plan GKE cluster {params['name']}: node_service_account {account!r} is not a "
                       "user-managed service account email (<id>@<project>.iam.gserviceaccount.com); node pools do not "
                       "run as the Compute Engine default service account")


def desired_node_pool(pool: dict, service_account: str) -> dict:
    return without_none({
        "name": pool["name"],
        "initialNodeCount": pool["node_count"],
        "config": {"machineType": pool["machine_type"], "diskSizeGb": pool.get("disk_size_gb"),
                   "serviceAccount": service_account, "oauthScopes": list(NODE_SCOPES),
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
        "masterAuthorizedNetworksConfig": authorized_networks(params),
        "networkConfig": {"datapathProvider": DATAPLANE_V2},
        "workloadIdentityConfig": {"workloadPool": workload_pool(params)} if params["workload_identity"] else None,
        "releaseChannel": {"channel": params["release_channel"]},
        "resourceLabels": params["labels"] or None,
        "nodePools": [desired_node_pool(pool, params.get("node_service_account")) for pool in params["node_pools"]],
    })


def authorized_networks(params: dict) -> dict:
    return {"enabled": True, "cidrBlocks": [{"cidrBlock": cidr} for cidr in params["master_authorized_networks"]]}


def cluster_view(cluster: dict | None) -> dict:
    if not cluster:
        return {}
    return {
        "name": cluster.get("name"),
        "status": cluster.get("status"),
        "endpoint": cluster.get("endpoint"),
        "workload_pool": (cluster.get("workloadIdentityConfig") or {}).get("workloadPool", ""),
        "private_nodes": (cluster.get("privateClusterConfig") or {}).get("enablePrivateNodes", False),
        "private_endpoint": (cluster.get("privateClusterConfig") or {}).get("enablePrivateEndpoint", False),
        "master_authorized_networks": sorted(block.get("cidrBlock", "") for block in
                                             (cluster.get("masterAuthorizedNetworksConfig") or {}).get("cidrBlocks") or []),
        "datapath_provider": (cluster.get("networkConfig") or {}).get("datapathProvider", ""),
        "network": cluster.get("network"),
        "subnetwork": cluster.get("subnetwork"),
        "node_pools": sorted(pool["name"] for pool in cluster.get("nodePools", [])),
        "self_link": cluster.get("selfLink"),
    }


def ensure_cluster(client, params: dict, check_mode: bool) -> dict:
    if params["state"] == "present":
        check_params(params)
    url = _url(params, f"/{params['name']}")
    current = client.request("GET", url, f"read GKE cluster {params['name']}", not_found_ok=True)
    before = cluster_view(current)
    timeout = params["wait_timeout"]
    if params["state"] == "absent":
        if current is not None and not marked(current.get("resourceLabels")) and not params.get("delete_unmarked"):
            return {"changed": False, "cluster": before, "left": True, "diff": {"before": before, "after": before},
                    "warnings": [left_unmarked(f"GKE cluster {params['name']}", "resourceLabels")]}
        if current is not None and not check_mode:
            what = f"delete GKE cluster {params['name']}"
            client.operate("DELETE", url, what, timeout=timeout, poll=params["poll_interval"])
        return {"changed": current is not None, "cluster": {}, "diff": {"before": before, "after": {}}}
    desired = desired_cluster(params)
    if current is None:
        after = cluster_view(desired)
        if not check_mode:
            what = f"create GKE cluster {params['name']}"
            body = dict(desired, resourceLabels=with_mark(desired.get("resourceLabels")))
            client.operate("POST", _url(params), what, body={"cluster": body}, timeout=timeout, poll=params["poll_interval"])
            after = cluster_view(client.request("GET", url, what))
        return {"changed": True, "cluster": after, "diff": {"before": before, "after": after}}
    changed = _reconcile(client, params, current, desired, check_mode)
    after = cluster_view(client.request("GET", url, f"read GKE cluster {params['name']}")) if changed and not check_mode else before
    if check_mode and changed:
        after = dict(before, workload_pool=workload_pool(params), master_authorized_networks=sorted(params["master_authorized_networks"]),
                     node_pools=sorted(set(before["node_pools"]) | {p["name"] for p in params["node_pools"]}))
    return {"changed": changed, "cluster": after, "diff": {"before": before, "after": after}}


def _reconcile(client, params: dict, current: dict, desired: dict, check_mode: bool) -> bool:
    _refuse_fixed_changes(params, current, desired)
    updates = []
    pool = workload_pool(params)
    if (current.get("workloadIdentityConfig") or {}).get("workloadPool", "") != pool:
        updates.append((f"{'enable' if pool else 'disable'} Workload Identity",
                        {"desiredWorkloadIdentityConfig": {"workloadPool": pool}}))
    if differences({"masterAuthorizedNetworksConfig": desired["masterAuthorizedNetworksConfig"]}, current):
        updates.append(("set the master authorized networks",
                        {"desiredMasterAuthorizedNetworksConfig": desired["masterAuthorizedNetworksConfig"]}))
    for what, update in updates:
        if not check_mode:  # GKE takes one cluster update at a time
            client.operate("PUT", _url(params, f"/{params['name']}"), f"{what} on GKE cluster {params['name']}",
                           body={"update": update}, timeout=params["wait_timeout"], poll=params["poll_interval"])
    existing = {node_pool["name"] for node_pool in current.get("nodePools", [])}
    missing = [node_pool for node_pool in desired.get("nodePools", []) if node_pool["name"] not in existing]
    for node_pool in missing:
        if not check_mode:
            what = f"create node pool {node_pool['name']} in GKE cluster {params['name']}"
            client.operate("POST", _url(params, f"/{params['name']}/nodePools"), what, body={"nodePool": node_pool},
                           timeout=params["wait_timeout"], poll=params["poll_interval"])
    return bool(updates or missing)


def _refuse_fixed_changes(params: dict, current: dict, desired: dict) -> None:
    """Fail naming each field GKE cannot change in place (network, private settings, datapath, node identity)."""
    fixed = {key: desired.get(key) for key in ("network", "subnetwork", "ipAllocationPolicy", "privateClusterConfig", "networkConfig")}
    stale = differences(fixed, current)
    pools = {node_pool["name"]: node_pool for node_pool in current.get("nodePools", [])}
    for node_pool in desired.get("nodePools", []):
        if node_pool["name"] in pools:
            identity = {key: node_pool["config"][key] for key in ("serviceAccount", "oauthScopes")}
            stale += [f"nodePools[{node_pool['name']}].config.{field.split('.')[-1]}"
                      for field in differences(identity, pools[node_pool["name"]].get("config") or {})]
    if stale:
        raise GcpError(f"Failed to update GKE cluster {params['name']}: {', '.join(stale)} cannot change in place "
                       "(recreate the cluster to change its network, private settings or datapath; replace a node pool "
                       "to change its service account or scopes)")
