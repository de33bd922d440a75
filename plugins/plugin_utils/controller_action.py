# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugins that run a Kubernetes or Google Cloud module's own code in the controller (the forked Ansible worker
of the task) instead of starting a module process: about 0.6 s saved per task here, 1.5-2.5 s where the module imports
the kubernetes package. The result is the module's: arguments validated with the module's own spec and constraints,
``invocation``, ``changed``, check mode, diff, warnings and failure messages, the no_log values (and every credential
the client used) masked.

Where the controller cannot stand for the task's host, the module runs as before (``_execute_module``): a host other
than the controller, become, async, arguments the module would refuse or warn about (it says so in its own words), and
what each kind adds (KubernetesAction: a task environment or a kubeconfig k8s_http does not cover; GcpAction: no
google-auth in the controller)."""

from __future__ import annotations

import json
import os
from http.client import HTTPException

from ansible.module_utils.basic import PASSWORD_MATCH
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.aibang.gke_platform.plugins.module_utils import gcp_client, k8s_http
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_module import AUTH_ARGUMENT_SPEC as GCP_AUTH


class ControllerAction(ActionBase):
    """The module file (``MODULE``) keeps the documentation, ``ARGUMENT_SPEC`` and ``CONSTRAINTS`` (the AnsibleModule
    keywords: mutually_exclusive, required_if, ...); a kind of module says how its code runs here (``run_here``)."""

    _supports_check_mode = True
    _supports_async = True  # an async task runs the module (the controller path does not run in the background)
    MODULE = None

    def argument_spec(self) -> dict:
        return self.MODULE.ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self.may_run_here():
            return self.run_module_process(result, task_vars)
        validated = ArgumentSpecValidator(self.argument_spec(), **getattr(self.MODULE, "CONSTRAINTS", {})).validate(
            self._task.args)
        if validated.error_messages or validated._warnings or validated._deprecations:
            return self.run_module_process(result, task_vars)  # the module fails or warns in its own words
        params = validated.validated_parameters
        ran = self.run_here(params, set(validated._no_log_values))
        if ran is None:
            return self.run_module_process(result, task_vars)
        outcome, hidden = ran
        outcome = json.loads(json.dumps(outcome))  # the shape a module's JSON output has
        warnings = [f"Module did not set no_log for {name}" for name in params  # as AnsibleModule logs its invocation
                    if self.argument_spec().get(name, {}).get("no_log") is None and PASSWORD_MATCH.search(name)]
        warnings += outcome.pop("warnings", None) or []
        if outcome.pop("failed", False):
            outcome["failed"] = True
        if warnings:
            outcome["warnings"] = warnings
        outcome["invocation"] = {"module_args": params}
        result.update(remove_values(outcome, hidden))
        return result

    def may_run_here(self) -> bool:
        """Whether the task's host is the controller, as the task's user, in the foreground."""
        return self._connection.transport == "local" and not self._play_context.become and not self._task.async_val

    def run_here(self, params: dict, secret: set):
        """(what the module would return, the values to mask), or None when the module should run instead."""
        raise NotImplementedError

    def run_module_process(self, result: dict, task_vars):
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class KubernetesAction(ControllerAction):
    """A Kubernetes module: ``MODULE.run_module(params, check_mode, diff, connect)``, ``connect()`` giving the API
    server's ``request``, over k8s_http here (over the kubernetes client in the module, module_utils.k8s_module)."""

    def may_run_here(self) -> bool:
        # a task environment could change the kubeconfig or the proxy the module reads: left to the module
        return super().may_run_here() and not any(self._task.environment or [])

    def run_here(self, params: dict, secret: set):
        found = self.reached_from_here(params)
        if found is None:
            return None
        opened = []

        def connect():
            opened.append(k8s_http.requester(found))
            return opened[-1]

        try:
            outcome = self.MODULE.run_module(params, bool(self._task.check_mode), bool(self._task.diff), connect)
        except (OSError, RuntimeError, ValueError, HTTPException) as exc:
            outcome = {"failed": True, "msg": f"Failed to reach the API server {found['server']}: {exc}"}
        finally:
            for request in opened:
                request.close()
        return outcome, hidden_values(secret, found, opened[-1] if opened else None)

    def reached_from_here(self, params: dict) -> dict | None:
        """The connection settings when the controller reaches the cluster as the task's host would; else None (a
        kubeconfig this client does not cover or cannot read: the module then reports what is wrong with it)."""
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


class GcpAction(ControllerAction):
    """A Google Cloud module: ``ACTION(client, params, check_mode)`` (as module_utils.gcp_module.run calls it) with the
    module's credentials (gcp_client.auth_settings: options, then the GCP_* variables) and the task's environment."""

    ACTION = None

    def argument_spec(self) -> dict:
        return {**GCP_AUTH, **self.MODULE.ARGUMENT_SPEC}

    def may_run_here(self) -> bool:
        return super().may_run_here() and gcp_client.HAS_GOOGLE_AUTH

    def run_here(self, params: dict, secret: set):
        settings = gcp_client.auth_settings(params)
        hidden = secret | {settings[key] for key in ("access_token", "service_account_contents")
                           if isinstance(settings[key], str) and settings[key]}
        try:
            client = gcp_client.GcpClient(gcp_client.authorized_session(settings))
            if not settings["project"]:
                return {"failed": True, "msg": "project is required: set the project option or GCP_PROJECT"}, hidden
            return self.ACTION(client, dict(params, project=settings["project"]), bool(self._task.check_mode)), hidden
        except gcp_client.GcpError as exc:
            return {"failed": True, "msg": str(exc), "status": exc.status, "reason": exc.reason}, hidden

    def run(self, tmp=None, task_vars=None):
        if self.may_run_here():
            # The task's environment (the lab's gcp_api_environment: HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, or
            # GCP_* credentials), templated as a module process would get it, goes into this process's own
            # os.environ, where requests and google-auth read it. That is safe: ansible-core (2.19) runs each task in
            # a worker process forked for it ('fork' multiprocessing context), which ends with the task, so nothing
            # reaches another task or the controller's main process.
            environment: dict = {}
            self._compute_environment_string(environment)
            os.environ.update({name: str(value) for name, value in environment.items()})
        return super().run(tmp, task_vars)
