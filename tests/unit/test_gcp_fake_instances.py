# -*- coding: utf-8 -*-
"""The GCP fake refuses an instance whose requested internal IP lies outside its subnet, as Compute Engine does, so
an inventory putting vm.address outside the egress VM's subnet fails in the lab as it would on Google Cloud."""

from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpError
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import regional

ZONE = "europe-west2-a"
INSTANCES = f"https://compute.googleapis.com/compute/v1/projects/consumer/zones/{ZONE}/instances"


def _instance(subnet_link: str, address: str) -> dict:
    return {"name": "egress-squid", "machineType": f"zones/{ZONE}/machineTypes/e2-standard-2",
            "networkInterfaces": [{"network": "https://compute.googleapis.com/compute/v1/projects/consumer/global/networks/vpc",
                                   "subnetwork": subnet_link, "networkIP": address}]}


@pytest.mark.parametrize(
    "subnet, address, error",
    [
        ("egress-vm", "10.10.0.2", None),
        ("egress-vm", "10.0.2.100", "outside the subnetwork CIDR range"),
        ("missing", "10.10.0.2", "cannot be found"),
    ],
)
def test_the_fake_checks_an_instance_address_against_its_subnet(gcp, subnet, address, error):
    gcp.network("consumer")
    gcp.subnetwork("consumer", "europe-west2", "egress-vm", "10.10.0.0/28")
    body = _instance(regional("consumer", "europe-west2", "subnetworks", subnet), address)
    if error is None:
        gcp.seed(INSTANCES, body)
        assert gcp.exists(f"compute:projects/consumer/zones/{ZONE}/instances/egress-squid")
    else:
        with pytest.raises(GcpError, match=error):
            gcp.seed(INSTANCES, body)


def test_the_fake_lists_a_projects_service_accounts_with_their_display_names(gcp):
    accounts = "https://iam.googleapis.com/v1/projects/consumer/serviceAccounts"
    gcp.client.request("POST", accounts, "create", body={"accountId": "gke-nodes", "serviceAccount": {"displayName": "nodes (mark)"}})
    gcp.client.request("POST", "https://iam.googleapis.com/v1/projects/other/serviceAccounts", "create",
                       body={"accountId": "elsewhere"})
    listed = gcp.client.request("GET", accounts, "list")["accounts"]
    assert [(item["email"], item["displayName"]) for item in listed] == [("gke-nodes@consumer.iam.gserviceaccount.com", "nodes (mark)")]
