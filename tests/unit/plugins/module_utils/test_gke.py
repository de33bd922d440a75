# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gke import (
    NODE_SCOPES,
    check_params,
    cluster_view,
    desired_cluster,
    ensure_cluster,
)

SA = "gke-nodes@p-project.iam.gserviceaccount.com"
PARAMS = {"project": "p", "name": "c", "network": "vpc", "subnetwork": "nodes", "pods_range": "pods",
          "services_range": "services", "private_nodes": True, "private_endpoint": True, "master_ipv4_cidr": "172.16.0.0/28",
          "master_authorized_networks": [], "workload_identity": True, "release_channel": "REGULAR", "labels": {},
          "node_service_account": SA,
          "node_pools": [{"name": "default", "machine_type": "e2-standard-4", "node_count": 1, "min_nodes": 1, "max_nodes": 3}]}


def test_cluster_has_workload_identity_private_nodes_and_ip_aliases():
    body = desired_cluster(PARAMS)
    assert body["workloadIdentityConfig"] == {"workloadPool": "p.svc.id.goog"}
    assert body["privateClusterConfig"]["enablePrivateNodes"] is True
    assert body["ipAllocationPolicy"] == {"useIpAliases": True, "clusterSecondaryRangeName": "pods",
                                          "servicesSecondaryRangeName": "services"}


def test_network_policy_is_enforced_by_dataplane_v2():
    assert desired_cluster(PARAMS)["networkConfig"] == {"datapathProvider": "ADVANCED_DATAPATH"}


@pytest.mark.parametrize("networks", [[], ["203.0.113.0/24"]])
def test_master_authorized_networks_are_always_on(networks):
    body = desired_cluster(dict(PARAMS, master_authorized_networks=networks))
    assert body["masterAuthorizedNetworksConfig"] == {"enabled": True, "cidrBlocks": [{"cidrBlock": cidr} for cidr in networks]}


def test_node_pools_use_a_dedicated_account_minimal_scopes_and_the_gke_metadata_server():
    pool = desired_cluster(PARAMS)["nodePools"][0]
    assert pool["config"]["serviceAccount"] == SA
    assert pool["config"]["oauthScopes"] == list(NODE_SCOPES)
    assert not any(scope.endswith("/cloud-platform") for scope in pool["config"]["oauthScopes"])
    assert pool["config"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert pool["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3}
    fixed = desired_cluster(dict(PARAMS, node_pools=[{"name": "n", "machine_type": "e2", "node_count": 2}]))["nodePools"][0]
    assert "autoscaling" not in fixed


@pytest.mark.parametrize(
    "change, message",
    [
        ({"private_endpoint": False}, "private_endpoint is false and master_authorized_networks is empty"),
        ({"node_service_account": None}, "node_service_account ''"),
        ({"node_service_account": "123456789-compute@developer.gserviceaccount.com"}, "not a user-managed service account"),
        ({"node_service_account": SA + "\nx"}, "not a user-managed service account"),
    ],
)
def test_unsafe_inputs_are_refused_naming_the_field(change, message):
    with pytest.raises(GcpError, match=message):
        check_params(dict(PARAMS, **change))


def test_public_endpoint_with_authorized_networks_and_no_pools_pass():
    check_params(dict(PARAMS, private_endpoint=False, master_authorized_networks=["203.0.113.0/24"]))
    check_params(dict(PARAMS, node_service_account=None, node_pools=[]))


def test_without_workload_identity_no_pool_is_sent():
    assert "workloadIdentityConfig" not in desired_cluster(dict(PARAMS, workload_identity=False))
    view = cluster_view({"name": "c", "nodePools": [{"name": "b"}, {"name": "a"}],
                         "masterAuthorizedNetworksConfig": {"enabled": True, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]},
                         "networkConfig": {"datapathProvider": "ADVANCED_DATAPATH"}})
    assert view["node_pools"] == ["a", "b"]
    assert view["master_authorized_networks"] == ["10.0.0.0/8"]
    assert view["datapath_provider"] == "ADVANCED_DATAPATH"


# ---------------------------------------------------------------- reconciling an existing cluster (the shared fake)
REGION = "europe-west2"
PRESENT = dict(PARAMS, project="consumer", location=REGION, name="platform", wait_timeout=60, poll_interval=0, state="present")
CLUSTERS = "https://container.googleapis.com/v1/projects/consumer/locations/europe-west2/clusters"


def _legacy_cluster(gcp, **overrides):
    """A cluster as the collection built it before issue 16: no Dataplane V2, the default node account, cloud-platform."""
    body = {"name": "platform", "network": "vpc", "subnetwork": "nodes",
            "ipAllocationPolicy": {"useIpAliases": True, "clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"},
            "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
            "workloadIdentityConfig": {"workloadPool": "consumer.svc.id.goog"},
            "releaseChannel": {"channel": "REGULAR"},
            "nodePools": [{"name": "default", "initialNodeCount": 1,
                           "config": {"machineType": "e2-standard-4", "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
                                      "workloadMetadataConfig": {"mode": "GKE_METADATA"}}}]}
    body.update(overrides)
    gcp.seed(CLUSTERS, {"cluster": body})
    gcp.forget_calls()


def test_an_existing_cluster_without_dataplane_v2_fails_naming_the_field(gcp):
    _legacy_cluster(gcp)
    with pytest.raises(GcpError) as raised:
        gcp.run(ensure_cluster, PRESENT)
    message = str(raised.value)
    assert "networkConfig.datapathProvider" in message
    assert "nodePools[default].config.serviceAccount" in message and "nodePools[default].config.oauthScopes" in message
    assert gcp.mutations() == []


def test_master_authorized_networks_are_reconciled_in_place(gcp):
    gcp.run(ensure_cluster, PRESENT)
    gcp.forget_calls()
    changed = gcp.run(ensure_cluster, dict(PRESENT, master_authorized_networks=["203.0.113.0/24"]))
    assert changed["changed"] is True and changed["cluster"]["master_authorized_networks"] == ["203.0.113.0/24"]
    assert gcp.mutations() == ["container.projects.locations.clusters.update"]
    stored = gcp.google.resources["container:projects/consumer/locations/europe-west2/clusters/platform"]
    assert stored["masterAuthorizedNetworksConfig"] == {"enabled": True, "cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}]}
    gcp.forget_calls()
    assert gcp.run(ensure_cluster, dict(PRESENT, master_authorized_networks=["203.0.113.0/24"]))["changed"] is False


def test_authorized_networks_switched_off_are_switched_back_on(gcp):
    _legacy_cluster(gcp, networkConfig={"datapathProvider": "ADVANCED_DATAPATH"},
                    masterAuthorizedNetworksConfig={"enabled": False},
                    nodePools=[dict(desired_cluster(PRESENT)["nodePools"][0])])
    result = gcp.run(ensure_cluster, PRESENT)
    assert result["changed"] is True
    assert gcp.mutations() == ["container.projects.locations.clusters.update"]
    stored = gcp.google.resources["container:projects/consumer/locations/europe-west2/clusters/platform"]
    assert stored["masterAuthorizedNetworksConfig"]["enabled"] is True


def test_a_public_endpoint_without_networks_is_refused_before_any_call(gcp):
    with pytest.raises(GcpError, match="master_authorized_networks is empty"):
        gcp.run(ensure_cluster, dict(PRESENT, private_endpoint=False))
    assert gcp.google.requests == []


def test_cleanup_deletes_only_a_cluster_this_collection_created(gcp):
    gcp.run(ensure_cluster, PRESENT)
    stored = gcp.google.resources["container:projects/consumer/locations/europe-west2/clusters/platform"]
    assert stored["resourceLabels"] == {"managed-by": "aibang-gke-platform"}
    assert gcp.run(ensure_cluster, dict(PRESENT, state="absent"))["changed"] is True
    assert not gcp.exists("container:projects/consumer/locations/europe-west2/clusters/platform")


def test_an_adopted_cluster_is_left_in_place_saying_why(gcp):
    _legacy_cluster(gcp)
    result = gcp.run(ensure_cluster, dict(PRESENT, state="absent"))
    assert result["changed"] is False and result["left"] is True
    assert "does not carry the label managed-by=aibang-gke-platform" in result["warnings"][0]
    assert gcp.mutations() == []
    assert gcp.run(ensure_cluster, dict(PRESENT, state="absent", delete_unmarked=True))["changed"] is True
