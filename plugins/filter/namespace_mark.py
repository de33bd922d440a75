# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that decides the collection's mark on a namespace it shares between roles (squid_gke's tier 1,
cluster_dns's stub server): written when the namespace does not exist yet (this run creates it) or already carries
it, never on a namespace found without it. Cleanup deletes a namespace only when it carries the mark."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

MARK_KEY = "aibang.io/created-by"
MARK_VALUE = "aibang.gke_platform"


def namespace_marked(found):
    """True when the namespace (kubernetes.core.k8s_info's ``resources``) is missing or carries the mark."""
    if not isinstance(found, list):
        raise AnsibleFilterError(f"namespace_marked expects k8s_info's resources (a list), got {type(found).__name__}")
    if not found:
        return True
    annotations = ((found[0] or {}).get("metadata") or {}).get("annotations") or {}
    return annotations.get(MARK_KEY) == MARK_VALUE


def namespace_mark(found):
    """The annotations a namespace definition carries: the mark when namespace_marked, otherwise none."""
    return {MARK_KEY: MARK_VALUE} if namespace_marked(found) else {}


# What every namespace holds from the start: its API server CA (kube-root-ca.crt) and its default service account.
NAMESPACE_DEFAULTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}


def namespace_others(found, own_labels):
    """``Kind/name`` of each object found that is neither the caller's own (it carries every one of ``own_labels``) nor
    one every namespace holds. ``found`` is the results of a k8s_info task looped over kind names (the loop item names
    the kind: a list's items carry none); the namespace is safe to delete when this is empty."""
    if not isinstance(found, list) or not isinstance(own_labels, dict) or not own_labels:
        raise AnsibleFilterError("namespace_others expects a looped k8s_info's results (a list) and a non-empty label dict")
    others = []
    for read in found:
        for item in read.get("resources") or []:
            metadata = item.get("metadata") or {}
            labels = metadata.get("labels") or {}
            kind, name = item.get("kind") or read.get("item", ""), metadata.get("name", "")
            if (kind, name) in NAMESPACE_DEFAULTS or all(labels.get(key) == value for key, value in own_labels.items()):
                continue
            others.append(f"{kind}/{name}")
    return others


class FilterModule:
    def filters(self):
        return {"namespace_marked": namespace_marked, "namespace_mark": namespace_mark, "namespace_others": namespace_others}
