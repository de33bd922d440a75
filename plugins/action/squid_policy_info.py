# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""squid_policy_info in the controller: compiling the policy is pure computation, so no module process is started."""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.modules import squid_policy_info
from ansible_collections.aibang.gke_platform.plugins.plugin_utils.compute_action import ComputeAction


class ActionModule(ComputeAction):
    ARGUMENT_SPEC = squid_policy_info.ARGUMENT_SPEC
    ERROR_PREFIX = squid_policy_info.ERROR_PREFIX
    run_module = staticmethod(squid_policy_info.run_module)
