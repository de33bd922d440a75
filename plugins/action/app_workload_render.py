# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_workload_render in the controller: validating and rendering the apps is pure computation, so no module process
is started."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_render
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.compute_action import ComputeAction


class ActionModule(ComputeAction):
    ARGUMENT_SPEC = app_workload_render.ARGUMENT_SPEC
    run_module = staticmethod(app_workload_render.run_module)
