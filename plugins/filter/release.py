# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.module_utils.release import ReleaseError, restore_plan, snapshot, stuck_pods
from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import ReleaseStoreError, secret


def release_snapshot(objects):
    """The objects as a release keeps them: no status, no server-set metadata, no Secrets."""
    try:
        return snapshot(list(objects or []))
    except ReleaseError as exc:
        raise AnsibleFilterError(f"release_snapshot: {exc}") from None


def release_restore_plan(before, now):
    """What puts the snapshot ``before`` back over the objects as they are ``now``."""
    try:
        return restore_plan(list(before or []), list(now or []))
    except ReleaseError as exc:
        raise AnsibleFilterError(f"release_restore_plan: {exc}") from None


def release_stuck_pods(statefulset, pods):
    """Names of the reverted StatefulSet's pods that must be deleted for the rollback to go on."""
    return stuck_pods(dict(statefulset or {}), list(pods or []))


def release_secret(release, namespace):
    """The Secret that keeps ``release`` (gzip+base64 JSON, labels, sha256 annotation)."""
    try:
        return secret(dict(release), namespace)
    except ReleaseStoreError as exc:
        raise AnsibleFilterError(f"release_secret: {exc}") from None


class FilterModule:
    def filters(self):
        return {"release_snapshot": release_snapshot, "release_restore_plan": release_restore_plan,
                "release_stuck_pods": release_stuck_pods, "release_secret": release_secret}
