# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gcp_service_accounts in the controller, without a module process: plugin_utils.controller_action.GcpAction."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import gcp_service_accounts
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.controller_action import GcpAction


class ActionModule(GcpAction):
    MODULE = gcp_service_accounts
    ACTION = staticmethod(gcp_service_accounts.ensure_accounts)
