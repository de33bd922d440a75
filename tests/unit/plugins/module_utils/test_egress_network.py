# -*- coding: utf-8 -*-
from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.egress_network import (
    MARK,
    EgressNetworkError,
    bypass_verdict,
    layout_errors,
    node_egress_rules,
    private_google_access_records,
    probe_image_errors,
    probe_pod_state,
)

LAYOUT = {"vm_subnet": "egress-vm", "vm_subnet_cidr": "10.10.0.0/28", "vm_address": "10.10.0.2", "node_subnet": "gke-nodes",
          "node_cidr": "10.0.0.0/20", "pod_cidr": "10.128.0.0/14", "service_cidr": "10.4.0.0/20", "master_cidr": "172.16.0.0/28"}
SA = "gke-nodes@consumer.iam.gserviceaccount.com"
PARAMS = {"name_prefix": "platform-vpc-gke-egress", "node_service_account": SA, "node_cidr": "10.0.0.0/20",
          "pod_cidr": "10.128.0.0/14", "service_cidr": "10.4.0.0/20", "master_cidr": "172.16.0.0/28",
          "vm_address": "10.10.0.2", "proxy_port": 3128, "google_api_ranges": ["199.36.153.8/30"]}


def test_the_vm_in_its_own_subnet_passes():
    assert layout_errors(LAYOUT) == []


@pytest.mark.parametrize(
    "change, message",
    [
        # the shape every inventory had before issue 16: the VM in gke-nodes
        ({"vm_subnet": "gke-nodes", "vm_subnet_cidr": "10.0.0.0/20", "vm_address": "10.0.2.100"}, "is the GKE nodes' subnet"),
        ({"vm_subnet_cidr": "10.128.0.0/28", "vm_address": "10.128.0.2"}, "overlaps pod_cidr"),
        ({"vm_subnet_cidr": "10.0.0.0/28", "vm_address": "10.0.0.2"}, "overlaps node_cidr"),
        ({"vm_subnet_cidr": "172.16.0.0/29", "vm_address": "172.16.0.2"}, "overlaps master_cidr"),
        ({"vm_address": "10.0.2.100"}, "outside vm_subnet_cidr"),
    ],
)
def test_a_layout_that_opens_a_path_around_the_proxy_is_named(change, message):
    assert any(message in error for error in layout_errors(dict(LAYOUT, **change)))


@pytest.mark.parametrize("change", [{"vm_address": "egress.example"}, {"vm_subnet_cidr": "10.10.0.1/28"}, {"pod_cidr": "10.128.0.0/14\n"}])
def test_malformed_values_fail(change):
    with pytest.raises(EgressNetworkError):
        layout_errors(dict(LAYOUT, **change))


def _by_name(rules: list) -> dict:
    return {rule["name"].removeprefix(PARAMS["name_prefix"] + "-"): rule for rule in rules}


def test_every_rule_is_egress_targets_the_node_account_and_carries_the_mark():
    rules = node_egress_rules(PARAMS)
    assert all(rule["direction"] == "EGRESS" and rule["target_service_accounts"] == [SA] for rule in rules)
    assert all(rule["description"].endswith(f"({MARK})") for rule in rules)


def test_everything_is_denied_below_the_allows_and_above_the_implied_allow():
    rules = _by_name(node_egress_rules(PARAMS))
    deny = rules.pop("deny-all")
    assert deny["destination_ranges"] == ["0.0.0.0/0"] and deny["denied"] == [{"ip_protocol": "all"}]
    assert 1000 < deny["priority"] < 65535
    assert all(rule["priority"] < deny["priority"] and "denied" not in rule for rule in rules.values())


def test_allows_only_the_cluster_control_plane_proxy_and_google_apis():
    rules = _by_name(node_egress_rules(PARAMS))
    assert rules["allow-cluster"]["destination_ranges"] == ["10.0.0.0/20", "10.128.0.0/14", "10.4.0.0/20"]
    assert rules["allow-control-plane"]["allowed"] == [{"ip_protocol": "tcp", "ports": ["443", "10250"]}]
    assert rules["allow-proxy"]["destination_ranges"] == ["10.10.0.2/32"]
    assert rules["allow-proxy"]["allowed"] == [{"ip_protocol": "tcp", "ports": ["3128"]}]
    assert rules["allow-google-apis"]["destination_ranges"] == ["199.36.153.8/30"]
    allowed = [ipaddress.ip_network(cidr) for name, rule in rules.items() if name != "deny-all" for cidr in rule["destination_ranges"]]
    assert not any(network.num_addresses > 2 ** 18 for network in allowed), "no allow rule opens a wide range"


def test_extra_destinations_and_bad_names():
    extra = {"name": "artifact", "destination_ranges": ["192.0.2.0/24"], "allowed": [{"ip_protocol": "tcp", "ports": ["443"]}]}
    assert "allow-artifact" in _by_name(node_egress_rules(dict(PARAMS, extra_allowed=[extra])))
    with pytest.raises(EgressNetworkError, match="name_prefix"):
        node_egress_rules(dict(PARAMS, name_prefix="Bad Prefix"))
    with pytest.raises(EgressNetworkError, match="not a valid Compute name"):
        node_egress_rules(dict(PARAMS, name_prefix="x" * 60))


def test_google_api_names_resolve_to_the_private_vip():
    records = private_google_access_records(["googleapis.com", "gcr.io."], "199.36.153.8/30")
    vip = ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
    assert records == [
        {"zone": "pga-googleapis-com", "dns_name": "googleapis.com.", "name": "private.googleapis.com.", "type": "A", "rrdatas": vip},
        {"zone": "pga-googleapis-com", "dns_name": "googleapis.com.", "name": "*.googleapis.com.", "type": "CNAME",
         "rrdatas": ["private.googleapis.com."]},
        {"zone": "pga-gcr-io", "dns_name": "gcr.io.", "name": "gcr.io.", "type": "A", "rrdatas": vip},
        {"zone": "pga-gcr-io", "dns_name": "gcr.io.", "name": "*.gcr.io.", "type": "CNAME", "rrdatas": ["gcr.io."]},
    ]


@pytest.mark.parametrize("domains, vip, message", [(["googleapis.com"], "0.0.0.0/0", "wider"), (["bad domain"], "199.36.153.8/30", "not a domain")])
def test_private_google_access_refuses_bad_input(domains, vip, message):
    with pytest.raises(EgressNetworkError, match=message):
        private_google_access_records(domains, vip)


@pytest.mark.parametrize(
    "lines, ok, detail",
    [
        (["curl: (28) Connection timed out after 10001 milliseconds", "direct=28", "proxied=0"], True, "could not reach"),
        (["direct=7", "proxied=0"], True, "could not reach"),
        (["direct=0", "proxied=0"], False, "directly, without the proxy"),
        (["direct_connects=0", "direct=28", "proxied=0"], True, "could not reach"),
        # connected, then TLS (35) or a read timeout (28) failed: the target accepted a direct connection all the same
        (["direct_connects=1", "direct=35", "proxied=0"], False, "TCP connection was accepted; curl exit 35"),
        (["direct_connects=1", "direct=28", "proxied=0"], False, "directly, without the proxy"),
        (["direct=28", "curl: (56) CONNECT tunnel failed, response 403", "proxied=56"], False, "proves nothing"),
        (["sh: curl: not found", "direct=127", "proxied=127"], False, "proves nothing"),
        (["direct=28"], False, "did not report every request"),
        ([], False, "did not report every request"),
    ],
)
def test_the_bypass_verdict(lines, ok, detail):
    verdict = bypass_verdict(lines, "https://login.microsoftonline.com/", "http://alias:3128")
    assert verdict["ok"] is ok and detail in verdict["detail"]


PINNED = "europe-docker.pkg.dev/p/docker-hub/curlimages/curl:8.11.1@sha256:" + "c1fe1679" * 8


@pytest.mark.parametrize(
    "image, require_digest, message",
    [
        (PINNED, True, None),
        (PINNED.replace(":8.11.1", ""), True, None),
        ("aibang-testbed.local/probe:1", False, None),
        ("curlimages/curl:8.11.1", True, "is not pinned by digest"),
        ("curlimages/curl@sha256:c1fe", True, "is not pinned by digest"),  # a digest too short
        (PINNED.upper(), True, "is not pinned by digest"),
        ("", False, "is empty"),
        ("curl:8\nimage: evil", False, "whitespace or control"),
        ("curl:8 ", False, "whitespace or control"),
        (PINNED + "\n", True, "whitespace or control"),
    ],
)
def test_the_probe_image_is_pinned_where_required(image, require_digest, message):
    errors = probe_image_errors(image, require_digest)
    if message is None:
        assert errors == []
    else:
        assert len(errors) == 1 and message in errors[0] and "egress_network_bypass_image" in errors[0], errors


def _pod(phase="Pending", waiting=None, message="", scheduled=None):
    status = {"phase": phase}
    if waiting:
        status["containerStatuses"] = [{"name": "probe", "image": "europe-docker.pkg.dev/p/r/curl@sha256:ab",
                                        "state": {"waiting": {"reason": waiting, "message": message}}}]
    if scheduled:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": scheduled}]
    return {"metadata": {"name": "egress-bypass-probe-x"}, "status": status}


@pytest.mark.parametrize(
    "pod, timed_out, finished, problem",
    [
        (_pod("Succeeded"), False, True, ""),
        (_pod("Failed"), False, True, ""),  # OOMKilled or similar: its output says what it got to
        (_pod("Pending"), False, False, ""),
        (_pod("Pending", "ContainerCreating"), False, False, ""),
        (_pod("Running"), False, False, ""),
        (None, False, False, ""),  # not visible yet
        (_pod("Pending", "ErrImagePull", "rpc error: pull access denied"), False, True, "the image could not be pulled"),
        (_pod("Pending", "ImagePullBackOff", "Back-off pulling image"), False, True, "Back-off pulling image"),
        (_pod("Pending", "InvalidImageName"), False, True, "the image name is invalid"),
        (_pod("Pending", "CreateContainerConfigError", "secret x not found"), False, True, "could not be configured"),
        (_pod("Pending", scheduled="0/3 nodes are available: 3 node(s) had untolerated taint"), False, False, ""),
        (_pod("Pending", scheduled="0/3 nodes are available: 3 node(s) had untolerated taint"), True, True,
         "could not be scheduled (Unschedulable: 0/3 nodes are available: 3 node(s) had untolerated taint)"),
        (_pod("Pending", "ContainerCreating"), True, True, "did not finish in time (still ContainerCreating)"),
        (_pod("Running"), True, True, "did not finish in time (still Running)"),
        (None, True, True, "was not found"),
    ],
)
def test_the_probe_pod_state(pod, timed_out, finished, problem):
    state = probe_pod_state(pod, timed_out)
    assert state["finished"] is finished
    assert (problem in state["problem"]) if problem else state["problem"] == ""


DENIED = "https://example.org/"


@pytest.mark.parametrize(
    "lines, ok, detail, statuses",
    [
        (["direct=28", "proxied_connect=200", "proxied_code=200", "proxied=0", "curl: (56) CONNECT tunnel failed, response 403",
          "denied_connect=403", "denied_code=000", "denied=56"], True, "and refused https://example.org/ with 403", (200, 403)),
        (["direct=7", "proxied_connect=000", "proxied_code=200", "proxied=0", "denied_connect=000", "denied_code=403", "denied=0"],
         True, "refused", (200, 403)),  # http:// URLs: the proxy's answer is the response status
        (["direct=28", "proxied_connect=200", "proxied_code=200", "proxied=0", "denied_connect=200", "denied_code=200", "denied=0"],
         False, "did not refuse https://example.org/ with 403 (answer 200", (200, 200)),
        (["direct=28", "proxied_connect=200", "proxied_code=200", "proxied=0", "denied_connect=000", "denied_code=000", "denied=7"],
         False, "did not refuse", (200, 0)),
        (["direct=28", "proxied_connect=200", "proxied_code=200", "proxied=0"], False, "did not report every request", (200, None)),
        (["direct=28", "curl: (56) CONNECT tunnel failed, response 403", "proxied_connect=403", "proxied_code=000", "proxied=56",
          "denied_connect=403", "denied_code=000", "denied=56"], False, "proxy answer 403", (403, 403)),
    ],
)
def test_the_bypass_verdict_with_a_denied_name(lines, ok, detail, statuses):
    verdict = bypass_verdict(lines, "https://login.microsoftonline.com/", "http://alias:3128", denied_target=DENIED)
    assert verdict["ok"] is ok and detail in verdict["detail"], verdict
    assert (verdict["proxied_status"], verdict["denied_status"]) == statuses


def test_a_probe_that_did_not_run_proves_nothing():
    problem = "the image could not be pulled (curl: ImagePullBackOff: " + "x" * 500 + ")"
    verdict = bypass_verdict(["direct=0", "proxied=0"], "https://login.microsoftonline.com/", "http://alias:3128", problem)
    assert verdict["ok"] is False and verdict["direct_exit"] is None
    assert verdict["detail"].startswith("the probe pod did not run, so nothing was proven: the image could not be pulled")
    assert len(verdict["detail"]) < 400
