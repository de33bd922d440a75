# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gcp_networks in the controller, without a module process: plugin_utils.controller_action.GcpAction."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import gcp_networks
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.controller_action import GcpAction


class ActionModule(GcpAction):
    MODULE = gcp_networks
    ACTION = staticmethod(gcp_networks.ensure_networks)
