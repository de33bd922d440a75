# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.module_utils.cluster_probe import ProbeError, default_requests, objects, ready_addresses


def cluster_probe_objects(spec):
    """The probe's namespace, its NetworkPolicy (an app's) and the probe Job, for kubernetes.core.k8s."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError(f"cluster_probe_objects expects a mapping, got {type(spec).__name__}")
    try:
        return objects(dict(spec))
    except (ProbeError, KeyError) as exc:
        raise AnsibleFilterError(f"cluster_probe_objects: {exc}") from None


def cluster_probe_requests(policy):
    """Requests that prove the policy from a pod, for an environment that names none (see the filter's doc)."""
    if not isinstance(policy, dict):
        raise AnsibleFilterError(f"cluster_probe_requests expects the egress policy, got {type(policy).__name__}")
    return default_requests(policy)


def cluster_probe_dns_servers(slices):
    """The ready addresses of the cluster DNS's EndpointSlices: the replicas the probe asks for each alias."""
    if not isinstance(slices, list):
        raise AnsibleFilterError(f"cluster_probe_dns_servers expects a list of EndpointSlices, got {type(slices).__name__}")
    return ready_addresses(slices)


class FilterModule:
    def filters(self):
        return {"cluster_probe_objects": cluster_probe_objects, "cluster_probe_requests": cluster_probe_requests,
                "cluster_probe_dns_servers": cluster_probe_dns_servers}
