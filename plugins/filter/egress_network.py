# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.module_utils.egress_network import (
    EgressNetworkError,
    bypass_verdict,
    layout_errors,
    node_egress_rules,
    private_google_access_records,
    probe_image_errors,
    probe_pod_state,
)


def egress_layout_errors(layout):
    """Why this layout would let pods reach the internet around the proxy; [] when the VM has its own subnet."""
    try:
        return layout_errors(dict(layout))
    except (EgressNetworkError, KeyError) as exc:
        raise AnsibleFilterError(f"egress_layout_errors: {exc}") from None


def node_egress_firewall(params):
    """The GKE nodes' egress firewall rules (google.cloud.gcp_compute_firewall options)."""
    try:
        return node_egress_rules(dict(params))
    except (EgressNetworkError, KeyError) as exc:
        raise AnsibleFilterError(f"node_egress_firewall: {exc}") from None


def private_google_access_dns(domains, vip_range="199.36.153.8/30"):
    """Private DNS records sending Google API names to the Private Google Access VIP."""
    try:
        return private_google_access_records(list(domains), vip_range)
    except EgressNetworkError as exc:
        raise AnsibleFilterError(f"private_google_access_dns: {exc}") from None


def egress_bypass_verdict(lines, target, proxy, problem="", denied_target=""):
    """The bypass check's verdict from the probe pod's output lines, or from why the pod did not run."""
    return bypass_verdict(list(lines or []), str(target), str(proxy), str(problem or ""), str(denied_target or ""))


def egress_bypass_pod_state(pod, timed_out=False):
    """Whether the probe pod finished (ran to its end, or will never start) and, if it did not run, why."""
    return probe_pod_state(dict(pod) if pod else None, bool(timed_out))


def egress_bypass_image_errors(image, require_digest=True):
    """Why the bypass probe's image may not be used (empty, or a tag where a digest is required); [] when it may."""
    return probe_image_errors(str(image or ""), bool(require_digest))


class FilterModule:
    def filters(self):
        return {"egress_layout_errors": egress_layout_errors, "node_egress_firewall": node_egress_firewall,
                "private_google_access_dns": private_google_access_dns, "egress_bypass_verdict": egress_bypass_verdict,
                "egress_bypass_image_errors": egress_bypass_image_errors, "egress_bypass_pod_state": egress_bypass_pod_state}
