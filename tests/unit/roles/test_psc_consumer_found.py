# -*- coding: utf-8 -*-
"""psc_consumer reads what exists (both service accounts, and for cleanup the VPC, the GKE subnet and the firewall rules)
in one module run (issue 9) and keeps the facts main and cleanup decide the mark by: found.yml's own tasks, rendered with the
role's defaults and vars, the read run through gcp_resources_info's code against the in-process GCP fake."""

from __future__ import annotations

import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_lookup import read_resources
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import global_

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "psc_consumer"
READ, FACTS = DataLoader().load_from_file(str(ROLE / "tasks" / "found.yml"), trusted_as_template=True)


def _templar(extra: dict) -> Templar:
    loader = DataLoader()
    variables = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
                 **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
                 "psc_consumer_project": "consumer", **extra}
    return Templar(loader=loader, variables=variables)


def _found(gcp, for_cleanup: bool) -> dict:
    extra = {"__psc_consumer_for_cleanup": for_cleanup}
    args = _templar(extra).template(READ["aibang.gke_platform.gcp_resources_info"])
    registered = gcp.run(read_resources, {"project": "consumer", **args})
    templar = _templar({**extra, "__psc_consumer_found_resources": registered})
    templar.available_variables = {**templar.available_variables, **FACTS["vars"]}
    return templar.template(FACTS["ansible.builtin.set_fact"]["__psc_consumer_found"])


def test_nothing_there_yet(gcp):
    assert _found(gcp, True) == {"network": {}, "subnet": {}, "node_sa": {}, "gsa": {}, "firewalls": {}}


@pytest.mark.parametrize("for_cleanup", [True, False], ids=["cleanup", "main"])
def test_what_exists_by_role(gcp, for_cleanup):
    gcp.network("consumer", "platform-vpc")
    gcp.subnetwork("consumer", "europe-west2", "gke-nodes", "10.10.0.0/24", network="platform-vpc")
    gcp.subnetwork("consumer", "europe-west2", "other", "10.11.0.0/24", network="platform-vpc")
    gcp.service_account("consumer", "app-db-client")
    gcp.seed(global_("consumer", "firewalls"), {"name": "platform-vpc-allow-internal", "network": global_("consumer", "networks", "platform-vpc"),
                                                "sourceRanges": ["10.0.0.0/8"], "allowed": [{"IPProtocol": "all"}]})
    found = _found(gcp, for_cleanup)
    assert found["node_sa"] == {} and found["gsa"]["email"] == "app-db-client@consumer.iam.gserviceaccount.com"
    if for_cleanup:
        assert found["network"]["name"] == "platform-vpc" and found["subnet"]["name"] == "gke-nodes"
        assert found["firewalls"] == {"platform-vpc-allow-internal": ""}
    else:  # main needs only the accounts: gcp_networks and gcp_firewall_rules mark only what they create
        assert found["network"] == {} and found["subnet"] == {} and found["firewalls"] == {}
