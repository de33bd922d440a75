# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugins for modules that only compute (no host, no network): the module's own code runs in the controller,
without a module process. The module file keeps the documentation, the argument spec and ``run_module``."""

from __future__ import annotations

import json

from ansible.plugins.action import ActionBase

from ansible_collections.aibang.gke_platform.plugins.module_utils.squid_policy import PolicyError


class ComputeAction(ActionBase):
    """Validates the task's arguments against ``ARGUMENT_SPEC``, then returns ``run_module(params)`` as the module
    would: JSON-shaped, ``invocation`` included, a PolicyError failing with ``msg`` and ``field``. Where
    ``runs_here(params)`` says the task needs the host (a file there), the module runs there as usual."""

    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC: dict = {}
    ERROR_PREFIX = "Invalid input"

    @staticmethod
    def run_module(params: dict) -> dict:
        raise NotImplementedError

    def runs_here(self, params: dict) -> bool:
        return True

    def on_the_host(self) -> bool:
        """Whether the task's host is the controller itself (the local connection)."""
        return self._connection.transport == "local"

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        if not self.runs_here(params):
            result.update(self._execute_module(task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        result["invocation"] = {"module_args": params}
        try:
            outcome = json.loads(json.dumps(self.run_module(params)))  # the shape a module's JSON output has
        except PolicyError as exc:
            return dict(result, failed=True, msg=f"{self.ERROR_PREFIX}: {exc}", field=exc.field)
        warnings = outcome.pop("warnings", [])
        if warnings:
            result["warnings"] = warnings
        result.update(outcome)
        return result
