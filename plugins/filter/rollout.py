# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.rollout import rollout_failure as failure_message


def rollout_failure(deployment, replicasets, pods, waited=None):
    """Why the Deployment's rollout did not complete: replica counts and what its new pods wait for."""
    return failure_message(dict(deployment or {}), list(replicasets or []), list(pods or []), waited)


class FilterModule:
    def filters(self):
        return {"rollout_failure": rollout_failure}
