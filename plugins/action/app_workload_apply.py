# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_workload_apply in the controller: the module's own run_module, with the API server reached over the standard
library (module_utils.k8s_http), so neither a module process nor the kubernetes package's import (about a second
each here) is paid. A kubeconfig is a file on the task's host, read as the task's user: on a host other than the
controller, or under become, the module runs there, as it does where k8s_http does not cover the kubeconfig's
authentication (then through the kubernetes client, as the module does)."""

from __future__ import annotations

from http.client import HTTPException

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.aibang.gke_platform.plugins.module_utils import app_workload_stage, k8s_http


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validated = ArgumentSpecValidator(app_workload_stage.ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            return dict(result, failed=True, msg=f"Invalid arguments: {'; '.join(validated.error_messages)}")
        params, secret = validated.validated_parameters, validated._no_log_values
        found = self.reached_from_here(params)
        if found is None:
            result.update(self._execute_module(task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        request = None
        try:
            request = k8s_http.requester(found)
            outcome = app_workload_stage.run_module(params, bool(self._task.check_mode), bool(self._task.diff), request)
        except (OSError, RuntimeError, ValueError, HTTPException) as exc:
            msg = f"Failed to reach the API server {found['server']}: {exc}"
            return dict(result, failed=True, msg=remove_values(msg, hidden_values(secret, found, request)))
        finally:
            if request is not None:
                request.close()
        outcome["invocation"] = {"module_args": params}
        result.update(remove_values(outcome, hidden_values(secret, found, request)))
        return result

    def reached_from_here(self, params: dict) -> dict | None:
        """The connection settings when the controller reaches the cluster as the task's host would; else None (on
        another host, under become, with a task environment, or a kubeconfig this client does not cover or cannot read:
        the module then reports what is wrong with it, as before)."""
        if self._connection.transport != "local" or self._play_context.become or any(self._task.environment or []):
            return None
        try:
            return k8s_http.settings(params)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def hidden_values(secret: set, found: dict, request) -> set:
    """The no_log values and every bearer token the requester used: as found, stripped (as sent) and as repr shows it
    (http.client's messages quote the header), and those it read from a token file or an exec plugin."""
    tokens = {found["token"]} if found.get("token") else set()
    tokens |= set(getattr(request, "secrets", None) or ())
    shown = {repr(token)[1:-1] for token in tokens}
    return set(secret) | {value for token in tokens | shown for value in (token, token.strip()) if value}
