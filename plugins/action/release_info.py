# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_info in the controller: reading a release history is pure computation, so no module process is started
(plugin_utils.controller_action)."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import ReleaseStoreError
from ansible_collections.aibang.gke_platform.plugins.modules import release_info
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    MODULE = release_info

    def may_run_here(self) -> bool:
        return not self._task.async_val  # no host, no network: on any host

    def run_here(self, params: dict, secret: set):
        try:
            return release_info.run_module(params), secret
        except ReleaseStoreError as exc:
            return {"failed": True, "msg": str(exc)}, secret
