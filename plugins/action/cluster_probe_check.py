# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_probe_check in the controller: judging the probe's log is pure computation, so no module process is started.
A hosts_file is a file on the task's host: with one, on a host other than the controller, the module runs there."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import cluster_probe_check
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.compute_action import ComputeAction


class ActionModule(ComputeAction):
    ARGUMENT_SPEC = cluster_probe_check.ARGUMENT_SPEC
    run_module = staticmethod(cluster_probe_check.run_module)

    def runs_here(self, params: dict) -> bool:
        return not params["hosts_file"] or self.on_the_host()
