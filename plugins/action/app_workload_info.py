# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_workload_info in the controller: the apps' layers are read over the standard library's HTTP
(module_utils.k8s_http), without a module process or the kubernetes package's import; the module runs where the
controller cannot stand for the task's host (plugin_utils.controller_action)."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_info
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.controller_action import KubernetesAction


class ActionModule(KubernetesAction):
    MODULE = app_workload_info
