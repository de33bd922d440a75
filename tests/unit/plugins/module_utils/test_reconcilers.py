# -*- coding: utf-8 -*-
"""Every ``ensure_*`` reconciler against the lab's GCP fake, in process: check mode, create, no-op, update, absent.

One row per reconciler: the module parameters it gets (as the module's argument spec fills them), a change it must
apply in place, what to make first, and how to see in the fake's own state whether its resource is there.
A new ``ensure_*`` in plugins/module_utils fails test_every_reconciler_has_a_row until it gets a row here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Callable

import pytest

from ansible_collections.aibang.gke_platform.plugins import module_utils
from ansible_collections.aibang.gke_platform.plugins.module_utils.cloud_nat import ensure_nat
from ansible_collections.aibang.gke_platform.plugins.module_utils.cloudsql import ensure_instance
from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import ensure_records
from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_zone import ensure_zones
from ansible_collections.aibang.gke_platform.plugins.module_utils.firewall_rules import ensure_rules
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import with_mark
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_services import ensure_services
from ansible_collections.aibang.gke_platform.plugins.module_utils.gke import ensure_cluster
from ansible_collections.aibang.gke_platform.plugins.module_utils.iam_policy import ensure_member, role_members
from ansible_collections.aibang.gke_platform.plugins.module_utils.network import ensure_networks
from ansible_collections.aibang.gke_platform.plugins.module_utils.psc import ensure_endpoint, ensure_service_attachment
from ansible_collections.aibang.gke_platform.plugins.module_utils.service_account import ensure_accounts
from ansible_collections.aibang.gke_platform.tests.testbed.gcp_fake.google import project_number

REGION = "europe-west2"
CONSUMER = "consumer"
PRODUCER = "producer"


@dataclass
class Row:
    ensure: Callable
    params: dict
    update: dict                                   # applied in place on top of params
    present: Callable                              # (fake, params) -> whether the resource is there
    prepare: Callable = lambda fake: None          # (fake) -> None: what must exist first

    def __str__(self) -> str:
        return self.ensure.__name__


def _psc_endpoint_prepare(fake) -> None:
    fake.network(CONSUMER)
    fake.subnetwork(CONSUMER, REGION, "nodes", "10.10.0.0/24")
    fake.service_attachment(PRODUCER, REGION, [CONSUMER])


def _nat_present(fake, params) -> bool:
    router = fake.google.resources.get(f"compute:projects/{CONSUMER}/regions/{REGION}/routers/{params['router']}") or {}
    return any(nat["name"] == params["name"] for nat in router.get("nats", []))


def _services_present(fake, params) -> bool:
    return set(params["services"]) <= fake.google.services.get(project_number(params["project"]), set())


def _member_present(fake, params) -> bool:
    policy = fake.google.policies.get(f"cloudresourcemanager:projects/{params['project']}", {})
    return set(params["members"]) <= set(role_members(policy, params["role"]))


def _roles_present(fake, params) -> bool:
    policy = fake.google.policies.get(f"cloudresourcemanager:projects/{params['project']}", {})
    return all(set(params["members"]) <= set(role_members(policy, role)) for role in params["roles"])


def _bindings_present(fake, params) -> bool:
    def policy(item):
        if item.get("resource_type") == "service_account":
            return fake.google.policies.get(f"iam:projects/{CONSUMER}/serviceAccounts/{item['resource']}", {})
        return fake.google.policies.get(f"cloudresourcemanager:projects/{item.get('resource') or params['project']}", {})
    return all(set(item["members"]) <= set(role_members(policy(item), role))
               for item in params["bindings"] for role in item.get("roles") or [item["role"]])


def _path(template: str) -> Callable:
    return lambda fake, params: fake.exists(template.format(**params))


def _records_present(fake, params) -> bool:
    return all(fake.exists(f"dns:projects/{params['project']}/managedZones/{params['zone']}/rrsets/{item['name']}/{item['type']}")
               for item in params["records"])


def _zones_present(fake, params) -> bool:
    return all(fake.exists(f"dns:projects/{params['project']}/managedZones/{zone['name']}") for zone in params["zones"])


def _zone(name: str, dns_name: str, **fields) -> dict:
    """A zones[] item as the module's argument spec fills it."""
    return dict({"name": name, "dns_name": dns_name, "description": "", "visibility": "private",
                 "networks": ["vpc"], "state": None}, **fields)


def _rules_present(fake, params) -> bool:
    return all(fake.exists(f"compute:projects/{params['project']}/global/firewalls/{rule['name']}") for rule in params["rules"])


def _accounts_present(fake, params) -> bool:
    return all(fake.exists(f"iam:projects/{CONSUMER}/serviceAccounts/{item['name'].split('@')[0]}@{CONSUMER}.iam.gserviceaccount.com")
               for item in params["accounts"])


def _networks_present(fake, params) -> bool:
    return (all(fake.exists(f"compute:projects/{CONSUMER}/global/networks/{item['name']}") for item in params["networks"])
            and all(fake.exists(f"compute:projects/{CONSUMER}/regions/{REGION}/subnetworks/{item['name']}")
                    for item in params["subnetworks"]))


def _subnet(name: str, **fields) -> dict:
    """A subnetworks[] item as the module's argument spec fills it."""
    return dict({"name": name, "region": None, "network": "vpc", "ip_cidr_range": "10.10.0.0/22",
                 "private_ip_google_access": True, "description": "GKE nodes (mark)", "state": None,
                 "secondary_ip_ranges": [{"range_name": "pods", "ip_cidr_range": "10.20.0.0/14"}]}, **fields)


def _account(name: str, **fields) -> dict:
    """An accounts[] item as the module's argument spec fills it."""
    return dict({"name": name, "display_name": None, "description": None, "state": None}, **fields)


def _record(name: str, kind: str, rrdatas: list, ttl: int = 300) -> dict:
    """A records[] item as the module's argument spec fills it."""
    return {"zone": None, "name": name, "type": kind, "ttl": ttl, "rrdatas": rrdatas, "state": None}


def _rule(name: str, **fields) -> dict:
    """A rules[] item as the module's argument spec fills it."""
    item = {key: None for key in ("network", "description", "direction", "priority", "disabled", "source_ranges",
                                  "destination_ranges", "source_tags", "target_tags", "source_service_accounts",
                                  "target_service_accounts", "allowed", "denied", "state")}
    return dict(item, name=name, **fields)


NODES = [f"gke-nodes@{CONSUMER}.iam.gserviceaccount.com"]
RULES = [_rule("vpc-gke-egress-deny-all", direction="EGRESS", priority=65000, destination_ranges=["0.0.0.0/0"],
               denied=[{"ip_protocol": "all", "ports": None}], target_service_accounts=NODES, description="deny (mark)"),
         _rule("squid-allow-proxy", source_ranges=["10.128.0.0/14"], target_tags=["squid"],
               allowed=[{"ip_protocol": "tcp", "ports": ["3128"]}])]


SQL_USER = {"name": "app", "password": "s3cret-unit", "host": "%"}
APP_SA = f"serviceAccount:app-runtime@{CONSUMER}.iam.gserviceaccount.com"

BINDINGS = [
    {"roles": ["roles/logging.logWriter", "roles/monitoring.viewer"], "members": [APP_SA]},
    {"resource": PRODUCER, "role": "roles/cloudsql.client", "members": [APP_SA]},
    {"resource_type": "service_account", "resource": f"app-runtime@{CONSUMER}.iam.gserviceaccount.com",
     "role": "roles/iam.serviceAccountTokenCreator", "members": ["group:ops@example.com"]},
]

ROWS = [
    Row(ensure_endpoint,
        {"project": CONSUMER, "region": REGION, "name": "psc-orders", "network": "vpc", "subnetwork": "nodes",
         "service_attachment": f"projects/{PRODUCER}/regions/{REGION}/serviceAttachments/orders", "address_name": None,
         "ip_address": None, "global_access": False, "description": None, "recreate": False, "wait": True,
         "wait_timeout": 300, "poll_interval": 5},
        {"global_access": True},
        _path("compute:projects/{project}/regions/{region}/forwardingRules/{name}"),
        _psc_endpoint_prepare),
    Row(ensure_service_attachment,
        {"project": PRODUCER, "region": REGION, "name": "published", "target_service": "ilb",
         "nat_subnets": [{"name": "psc-nat-2", "network": "vpc", "ip_cidr_range": "10.98.0.0/28"}],
         "connection_preference": "ACCEPT_MANUAL", "consumer_accept_lists": [{"project": CONSUMER, "connection_limit": 10}],
         "consumer_reject_lists": [], "enable_proxy_protocol": False, "reconcile_connections": True, "domain_names": None,
         "description": None},
        {"consumer_accept_lists": [{"project": CONSUMER, "connection_limit": 10}, {"project": "other", "connection_limit": 2}]},
        _path("compute:projects/{project}/regions/{region}/serviceAttachments/{name}"),
        lambda fake: fake.service_attachment(PRODUCER, REGION, [CONSUMER])),
    Row(ensure_instance,
        {"project": PRODUCER, "name": "orders-db", "region": REGION, "database_version": "MYSQL_8_0",
         "tier": "db-custom-2-7680", "edition": "ENTERPRISE", "availability_type": "ZONAL", "disk_size_gb": None,
         "backups": True, "deletion_protection": False, "allowed_consumer_projects": [CONSUMER], "labels": {},
         "ssl_mode": "ENCRYPTED_ONLY",
         "databases": [{"name": "orders", "charset": None, "collation": None}], "users": [SQL_USER],
         "update_password": "on_create", "wait_timeout": 1800, "poll_interval": 10},
        {"tier": "db-custom-4-15360", "allowed_consumer_projects": [CONSUMER, "other"]},
        _path("sqladmin:projects/{project}/instances/{name}")),
    Row(ensure_nat,
        {"project": CONSUMER, "region": REGION, "name": "egress", "router": "egress-router", "network": "vpc",
         "subnetworks": ["egress-vm"], "min_ports_per_vm": None, "log": "errors"},
        {"log": "all", "min_ports_per_vm": 128},
        _nat_present,
        lambda fake: (fake.network(CONSUMER), fake.subnetwork(CONSUMER, REGION, "egress-vm", "10.10.0.0/28"))),
    Row(ensure_records,
        {"project": CONSUMER, "zone": "sql", "name": "orders.sql.internal", "type": "A", "ttl": 300,
         "rrdatas": ["10.10.0.5"], "records": None},
        {"rrdatas": ["10.10.0.6"], "ttl": 60},
        _path("dns:projects/{project}/managedZones/{zone}/rrsets/{name}./{type}"),
        lambda fake: fake.managed_zone(CONSUMER, "sql", "sql.internal.", with_mark(None))),
    Row(ensure_records,
        {"project": CONSUMER, "zone": "apis", "name": None, "type": "A", "ttl": 300, "rrdatas": [],
         "records": [_record("private.googleapis.com.", "A", ["199.36.153.8", "199.36.153.9"]),
                     _record("*.googleapis.com.", "CNAME", ["private.googleapis.com."])]},
        {"records": [_record("private.googleapis.com.", "A", ["199.36.153.8", "199.36.153.9"]),
                     _record("*.googleapis.com.", "CNAME", ["private.googleapis.com."], ttl=60)]},
        _records_present,
        lambda fake: fake.managed_zone(CONSUMER, "apis", "googleapis.com.", with_mark(None))),
    Row(ensure_zones,
        {"project": CONSUMER, "zones": [_zone("googleapis", "googleapis.com."), _zone("gcr-io", "gcr.io")]},
        {"zones": [_zone("googleapis", "googleapis.com.", description="Private Google Access (mark)"), _zone("gcr-io", "gcr.io")]},
        _zones_present,
        lambda fake: fake.network(CONSUMER)),
    Row(ensure_rules,
        {"project": CONSUMER, "network": "vpc", "keep_existing_description": False, "wait_timeout": 300, "rules": RULES},
        {"rules": [RULES[0], dict(RULES[1], source_ranges=["10.128.0.0/14", "10.4.0.0/20"], priority=900)]},
        _rules_present,
        lambda fake: fake.network(CONSUMER)),
    Row(ensure_networks,
        {"project": CONSUMER, "region": REGION, "wait_timeout": 300,
         "networks": [{"name": "vpc", "description": "Platform VPC (mark)", "state": None}],
         "subnetworks": [_subnet("nodes"), _subnet("egress-vm", ip_cidr_range="10.10.8.0/28", secondary_ip_ranges=None)]},
        {"subnetworks": [_subnet("nodes", ip_cidr_range="10.10.0.0/20", private_ip_google_access=False,
                                 secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": "10.20.0.0/14"},
                                                      {"range_name": "services", "ip_cidr_range": "10.24.0.0/20"}]),
                         _subnet("egress-vm", ip_cidr_range="10.10.8.0/28", secondary_ip_ranges=None)]},
        _networks_present),
    Row(ensure_accounts,
        {"project": CONSUMER, "accounts": [_account("gke-nodes", display_name="platform GKE nodes (mark)"),
                                           _account(f"app-runtime@{CONSUMER}.iam.gserviceaccount.com")]},
        {"accounts": [_account("gke-nodes", display_name="GKE nodes", description="the nodes' own account"),
                      _account(f"app-runtime@{CONSUMER}.iam.gserviceaccount.com")]},
        _accounts_present),
    Row(ensure_services,
        {"project": CONSUMER, "services": ["sqladmin.googleapis.com"], "wait_timeout": 600},
        {"services": ["sqladmin.googleapis.com", "container.googleapis.com"]},
        _services_present),
    Row(ensure_cluster,
        {"project": CONSUMER, "location": REGION, "name": "platform", "network": "vpc", "subnetwork": "nodes",
         "pods_range": "pods", "services_range": "services", "private_nodes": True, "private_endpoint": True,
         "master_ipv4_cidr": "172.16.0.0/28", "master_authorized_networks": [], "workload_identity": False,
         "node_service_account": f"gke-nodes@{CONSUMER}.iam.gserviceaccount.com",
         "release_channel": "REGULAR", "labels": {},
         "node_pools": [{"name": "default", "machine_type": "e2-standard-4", "node_count": 1, "min_nodes": None,
                         "max_nodes": None, "disk_size_gb": None}],
         "wait_timeout": 2400, "poll_interval": 15},
        {"workload_identity": True, "master_authorized_networks": ["203.0.113.0/24"]},
        _path("container:projects/{project}/locations/{location}/clusters/{name}")),
    Row(ensure_member,
        {"project": CONSUMER, "resource_type": "project", "resource": None, "role": "roles/cloudsql.client",
         "roles": None, "members": [APP_SA], "conflict_retries": 5},
        {"members": [APP_SA, "group:dba@example.com"]},
        _member_present,
        lambda fake: fake.service_account(CONSUMER, "app-runtime")),
    Row(ensure_member,
        {"project": CONSUMER, "resource_type": "project", "resource": None, "role": None,
         "roles": ["roles/logging.logWriter", "roles/monitoring.viewer"], "members": [APP_SA], "conflict_retries": 5},
        {"roles": ["roles/logging.logWriter", "roles/monitoring.viewer", "roles/artifactregistry.reader"]},
        _roles_present,
        lambda fake: fake.service_account(CONSUMER, "app-runtime")),
    Row(ensure_member,
        {"project": CONSUMER, "resource_type": "project", "resource": None, "role": None, "roles": None, "members": None,
         "conflict_retries": 5, "bindings": BINDINGS},
        {"bindings": [*BINDINGS, {"resource": PRODUCER, "role": "roles/cloudsql.instanceUser", "members": [APP_SA]}]},
        _bindings_present,
        lambda fake: fake.service_account(CONSUMER, "app-runtime")),
]


def _nothing(view) -> bool:
    """An empty diff side: {} or [] (or, for IAM, the role with no members)."""
    return not view or (isinstance(view, dict) and not any(view.values()))


def _params(row: Row, state: str, **changes) -> dict:
    return dict(row.params, state=state, **changes)


@pytest.fixture(params=ROWS, ids=str)
def row(request, gcp):
    request.param.prepare(gcp)
    gcp.forget_calls()
    return request.param


def test_every_reconciler_has_a_row():
    found = set()
    for info in pkgutil.iter_modules(module_utils.__path__):
        module = importlib.import_module(f"{module_utils.__name__}.{info.name}")
        found |= {f"{info.name}.{name}" for name, function in inspect.getmembers(module, inspect.isfunction)
                  if name.startswith("ensure_") and function.__module__ == module.__name__}
    assert found == {f"{row.ensure.__module__.rsplit('.', 1)[1]}.{row.ensure.__name__}" for row in ROWS}


def test_check_mode_plans_the_create_and_changes_nothing(row, gcp):
    result = gcp.run(row.ensure, _params(row, "present"), check_mode=True)
    assert result["changed"] is True
    # Ansible's callbacks show a diff side only when it is a dict or text (a list fails in v2_on_file_diff)
    assert all(isinstance(result["diff"][side], (dict, str)) for side in ("before", "after")), result["diff"]
    assert _nothing(result["diff"]["before"]) and not _nothing(result["diff"]["after"])
    assert gcp.mutations() == []
    assert not row.present(gcp, row.params)


def test_create_then_a_second_run_is_a_no_op(row, gcp):
    created = gcp.run(row.ensure, _params(row, "present"))
    assert created["changed"] is True and gcp.mutations()
    assert row.present(gcp, row.params)
    gcp.forget_calls()
    for check_mode in (True, False):
        again = gcp.run(row.ensure, _params(row, "present"), check_mode=check_mode)
        assert again["changed"] is False, again
        assert again["diff"]["before"] == again["diff"]["after"]
    assert gcp.mutations() == []


def test_update_is_planned_in_check_mode_then_applied_in_place_once(row, gcp):
    gcp.run(row.ensure, _params(row, "present"))
    gcp.forget_calls()
    planned = gcp.run(row.ensure, _params(row, "present", **row.update), check_mode=True)
    assert planned["changed"] is True and gcp.mutations() == []
    assert planned["diff"]["before"] != planned["diff"]["after"]
    applied = gcp.run(row.ensure, _params(row, "present", **row.update))
    assert applied["changed"] is True
    assert not [method for method in gcp.mutations() if method.endswith((".delete", ".disable"))], \
        f"an update must not delete: {gcp.mutations()}"
    gcp.forget_calls()
    again = gcp.run(row.ensure, _params(row, "present", **row.update))
    assert again["changed"] is False and gcp.mutations() == []


def test_absent_removes_what_present_made_and_then_is_a_no_op(row, gcp):
    gcp.run(row.ensure, _params(row, "present"))
    gcp.forget_calls()
    planned = gcp.run(row.ensure, _params(row, "absent"), check_mode=True)
    assert planned["changed"] is True and gcp.mutations() == []
    assert row.present(gcp, row.params)
    removed = gcp.run(row.ensure, _params(row, "absent"))
    assert removed["changed"] is True and _nothing(removed["diff"]["after"])
    assert not row.present(gcp, row.params)
    gcp.forget_calls()
    for check_mode in (True, False):
        assert gcp.run(row.ensure, _params(row, "absent"), check_mode=check_mode)["changed"] is False
    assert gcp.mutations() == []
