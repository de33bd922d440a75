# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_workload_apply in the controller: the module's own run_module, with the API server reached over the standard
library (module_utils.k8s_http), so neither a module process nor the kubernetes package's import (about a second
each here) is paid. A kubeconfig is a file on the task's host, read as the task's user: on a host other than the
controller, or under become, the module runs there, as it does where k8s_http does not cover the kubeconfig's
authentication (then through the kubernetes client, as the module does): plugin_utils.controller_action."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_apply
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.controller_action import KubernetesAction


class ActionModule(KubernetesAction):
    MODULE = app_workload_apply
