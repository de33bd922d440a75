# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network guard of the egress chain: where the VM may sit, and the VPC egress rules of the GKE nodes.

Pure data in, data out. ``layout_errors`` says why a layout would let pods reach the internet around the proxy
(the VM in a GKE subnet, so Cloud NAT on its subnet covers the nodes and pods). ``node_egress_rules`` gives the
firewall rules, in the google.cloud ``gcp_compute_firewall`` options' shape, that deny every egress of the nodes
(selected by their service account) except what a private GKE node needs.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_job import START_FAILURES as _START_FAILURES

MARK = "managed-by: aibang.gke_platform egress_network"
DENY_PRIORITY = 65000  # above the implied allow-egress rule (65535), below every allow rule here
ALLOW_PRIORITY = 1000
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
# An image reference as Kubernetes takes it: no whitespace or control characters; pinned when it ends in a digest.
_IMAGE = re.compile(r"[\x21-\x7e]+")
_DIGEST_PIN = re.compile(r"[^@]+@sha256:[0-9a-f]{64}")


class EgressNetworkError(ValueError):
    pass


def _network(value: str, field: str):
    try:
        return ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError) as exc:
        raise EgressNetworkError(f"{field} {value!r} is not a CIDR range: {exc}") from None


def _address(value: str, field: str):
    try:
        return ipaddress.ip_address(value)
    except (TypeError, ValueError):
        raise EgressNetworkError(f"{field} {value!r} is not an IP address (the VM's tier-2 address must be an IP)") from None


def layout_errors(layout: dict) -> list:
    """Why this layout would open a path around the proxy; empty when the VM has its own subnet.

    ``layout``: vm_subnet, vm_subnet_cidr, vm_address, node_subnet, node_cidr, pod_cidr, service_cidr, master_cidr.
    """
    errors = []
    if layout["vm_subnet"] == layout["node_subnet"]:
        errors.append(f"the egress VM's subnet {layout['vm_subnet']!r} is the GKE nodes' subnet: Cloud NAT for the VM "
                      "would also carry every node and pod to the internet; give the VM its own subnet")
    vm_range = _network(layout["vm_subnet_cidr"], "vm_subnet_cidr")
    gke = {field: _network(layout[field], field) for field in ("node_cidr", "pod_cidr", "service_cidr", "master_cidr")}
    for field, cluster_range in gke.items():
        if vm_range.overlaps(cluster_range):
            errors.append(f"vm_subnet_cidr {vm_range} overlaps {field} {cluster_range}: the VM's subnet must not share "
                          "addresses with the cluster")
    address = _address(layout["vm_address"], "vm_address")
    if address not in vm_range:
        errors.append(f"vm_address {address} is outside vm_subnet_cidr {vm_range}: the VM must sit in its own subnet")
    return errors


def node_egress_rules(params: dict) -> list:
    """Firewall rules for the GKE nodes: deny all egress, then allow the cluster, the control plane, the proxy VM,
    Google APIs through Private Google Access, and any extra allowed ranges. Every rule targets the nodes' service
    account and carries the collection's mark in its description.
    """
    prefix = params["name_prefix"]
    if not _NAME.fullmatch(f"{prefix}-x"):
        raise EgressNetworkError(f"name_prefix {prefix!r} must start with a letter and hold lowercase letters, digits and hyphens")
    target = {"target_service_accounts": [params["node_service_account"]]}
    cluster_ranges = [str(_network(params[field], field)) for field in ("node_cidr", "pod_cidr", "service_cidr")]
    vm_address = _address(params["vm_address"], "vm_address")
    rules = [
        _rule(f"{prefix}-deny-all", "every other destination: the nodes and pods reach the internet only through the proxy",
              ["0.0.0.0/0"], DENY_PRIORITY, denied=[{"ip_protocol": "all"}]),
        _rule(f"{prefix}-allow-cluster", "nodes, pods and Services of the cluster (includes the PSC endpoint in the node subnet)",
              cluster_ranges, ALLOW_PRIORITY, allowed=[{"ip_protocol": "all"}]),
        _rule(f"{prefix}-allow-control-plane", "the private control plane",
              [str(_network(params["master_cidr"], "master_cidr"))], ALLOW_PRIORITY,
              allowed=[{"ip_protocol": "tcp", "ports": ["443", "10250"]}]),
        _rule(f"{prefix}-allow-proxy", "tier 1 to the tier-2 Squid VM, its proxy port only",
              [f"{vm_address}/{vm_address.max_prefixlen}"], ALLOW_PRIORITY,
              allowed=[{"ip_protocol": "tcp", "ports": [str(int(params["proxy_port"]))]}]),
        _rule(f"{prefix}-allow-google-apis", "Google APIs through Private Google Access (private.googleapis.com)",
              [str(_network(cidr, "google_api_ranges")) for cidr in params["google_api_ranges"]], ALLOW_PRIORITY,
              allowed=[{"ip_protocol": "tcp", "ports": ["443"]}]),
    ]
    for extra in params.get("extra_allowed") or []:
        rules.append(_rule(f"{prefix}-allow-{extra['name']}", extra.get("description", "extra allowed destination"),
                           [str(_network(cidr, f"extra_allowed {extra['name']}")) for cidr in extra["destination_ranges"]],
                           ALLOW_PRIORITY, allowed=extra["allowed"]))
    for rule in rules:
        rule.update(target)
        if not _NAME.fullmatch(rule["name"]):
            raise EgressNetworkError(f"firewall rule name {rule['name']!r} is not a valid Compute name (63 characters at most)")
    return rules


def _rule(name: str, what: str, destinations: list, priority: int, **action) -> dict:
    return {"name": name, "description": f"{what} ({MARK})", "direction": "EGRESS", "priority": priority,
            "destination_ranges": destinations, **action}


def private_google_access_records(domains: list, vip_range: str) -> list:
    """Cloud DNS records sending Google API names to the Private Google Access VIP (private.googleapis.com).

    Without them the names resolve to public addresses, which the nodes' deny rule blocks. One private zone per
    domain: ``googleapis.com`` gets ``private.googleapis.com`` A + ``*.googleapis.com`` CNAME; any other domain
    (``gcr.io``, ``pkg.dev``) gets an A record on itself and a ``*.`` CNAME to it.
    """
    vip = _network(vip_range, "google_api_ranges")
    if vip.prefixlen < 29:
        raise EgressNetworkError(f"google_api_ranges {vip} is wider than the Private Google Access VIP range (a /30)")
    addresses = [str(address) for address in vip]
    records = []
    for domain in domains:
        domain = domain.removesuffix(".")
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            raise EgressNetworkError(f"private_google_access_domains entry {domain!r} is not a domain name")
        zone = "pga-" + domain.replace(".", "-")
        target = "private.googleapis.com." if domain == "googleapis.com" else f"{domain}."
        records.append({"zone": zone, "dns_name": f"{domain}.", "name": target, "type": "A", "rrdatas": addresses})
        records.append({"zone": zone, "dns_name": f"{domain}.", "name": f"*.{domain}.", "type": "CNAME", "rrdatas": [target]})
    return records


def probe_image_errors(image: str, require_digest: bool) -> list:
    """Why the bypass probe's image may not be used; [] when it may.

    With ``require_digest`` (every environment but the lab) a tag is refused: the probe decides whether pods are held
    behind the proxy, so the image it runs must be the one that was reviewed, not whatever the tag points at today.
    """
    if not image:
        return ["egress_network_bypass_image is empty: name an image with sh and curl the nodes can pull"]
    if not _IMAGE.fullmatch(image):
        return [f"egress_network_bypass_image {image!r} contains whitespace or control characters"]
    if require_digest and not _DIGEST_PIN.fullmatch(image):
        return [f"egress_network_bypass_image {image!r} is not pinned by digest (<name>[:<tag>]@sha256:<64 hex digits>); "
                "egress_network_bypass_require_digest: false allows a tag, for a lab only"]
    return []


def bypass_verdict(lines: list, target: str, proxy: str, problem: str = "", denied_target: str = "") -> dict:
    """What the probe pod's output says: ``direct=<curl exit>``, ``proxied=<curl exit>`` and, when the probe also
    asked the proxy for ``denied_target``, ``denied=<curl exit>``; ``<request>_connect=`` / ``<request>_code=`` carry
    the proxy's answer (curl's ``http_connect`` for an https URL, ``http_code`` for http). ``direct_connects=`` is
    curl's ``num_connects`` of the direct request: a TCP connection the target accepted is a way around the proxy,
    whatever failed after it (TLS, a timeout while reading).

    The check passes only when the direct request failed and the proxied one succeeded (and, with ``denied_target``,
    the proxy refused that one with 403): a proxied failure makes the direct failure meaningless (the pod may have no
    network at all), and a proxy that lets a denied name through is no guard. ``problem``: why the probe pod did not
    run (``probe_pod_state``), which fails the check with nothing proven.
    """
    if problem:
        return {"direct_exit": None, "proxied_exit": None, "proxied_status": None, "denied_exit": None,
                "denied_status": None, "direct_reached": False, "proxied_reached": False, "ok": False,
                "detail": f"the probe pod did not run, so nothing was proven: {_short(problem)}"}
    codes = _probe_codes(lines)
    direct, proxied, denied = codes.get("direct"), codes.get("proxied"), codes.get("denied")
    verdict = {"direct_exit": direct, "proxied_exit": proxied, "proxied_status": _proxy_status(codes, "proxied"),
               "denied_exit": denied, "denied_status": _proxy_status(codes, "denied"),
               "direct_reached": direct == 0 or codes.get("direct_connects", 0) > 0, "proxied_reached": proxied == 0}
    if direct is None or proxied is None or (denied_target and denied is None):
        verdict.update(ok=False, detail=f"the probe pod did not report every request (output: {' | '.join(map(str, lines))[-300:]})")
    elif verdict["direct_reached"]:
        how = "" if direct == 0 else f" (its TCP connection was accepted; curl exit {direct} came after)"
        verdict.update(ok=False, detail=f"a pod reached {target} directly, without the proxy{how}: check the Cloud NAT scope "
                                        "and the node egress firewall")
    elif proxied != 0:
        verdict.update(ok=False, detail=f"the same request through {proxy} failed (curl exit {proxied}, proxy answer "
                                        f"{verdict['proxied_status']}), so the direct failure proves nothing")
    elif denied_target and verdict["denied_status"] != 403:
        verdict.update(ok=False, detail=f"{proxy} did not refuse {denied_target} with 403 (answer {verdict['denied_status']}, "
                                        f"curl exit {denied}): the proxy does not hold pods to the policy")
    else:
        refused = f", and refused {denied_target} with 403" if denied_target else ""
        verdict.update(ok=True, detail=f"a probe pod could not reach {target} directly (curl exit {direct}) and reached it "
                                       f"through {proxy}{refused}")
    return verdict


def _probe_codes(lines: list) -> dict:
    """``name=<digits>`` lines of the probe's output, the first of each name."""
    codes = {}
    for line in lines:
        key, _sep, value = str(line).strip().partition("=")
        if value.isdigit():
            codes.setdefault(key, int(value))
    return codes


def _proxy_status(codes: dict, request: str):
    """The proxy's HTTP answer to a request: its CONNECT status for https, the response status for http."""
    return codes.get(f"{request}_connect") or codes.get(f"{request}_code")


def probe_pod_state(pod: dict | None, timed_out: bool = False) -> dict:
    """Where the probe pod stands: ``finished`` when it ran to its end or will never start, and ``problem``, a
    sentence saying why it did not run ('' when it did, or may still).

    ``timed_out``: the wait is over, so a pod still pending is a problem too (unschedulable, or slow to start).
    """
    status = (pod or {}).get("status") or {}
    phase = status.get("phase") or ""
    if phase in ("Succeeded", "Failed"):
        return {"finished": True, "problem": ""}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason") or ""
        if reason in _START_FAILURES:
            image = container.get("image") or "?"
            return {"finished": True, "problem": f"{_START_FAILURES[reason]} ({image}: {reason}: {_short(waiting.get('message'))})"}
    if not timed_out:
        return {"finished": False, "problem": ""}
    if not pod:
        return {"finished": True, "problem": "the probe pod was not found"}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return {"finished": True, "problem": f"the probe pod could not be scheduled ({condition.get('reason') or '?'}: "
                                                 f"{_short(condition.get('message'))})"}
    waiting = [((c.get("state") or {}).get("waiting") or {}).get("reason") for c in status.get("containerStatuses") or []]
    still = ", ".join(reason for reason in waiting if reason) or phase or "not started"
    return {"finished": True, "problem": f"the probe pod did not finish in time (still {still})"}


def _short(text, limit: int = 300) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
