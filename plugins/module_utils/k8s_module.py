# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of every Kubernetes module of this collection: its main() in one call.

A module keeps ``ARGUMENT_SPEC`` (and ``CONSTRAINTS``) and ``run_module(params, check_mode, diff, connect)``, which
returns the module's result (``failed`` and ``msg`` on a failure) and calls ``connect()`` for the API server's
``request`` only when it needs one. Here ``connect`` goes through the kubernetes client; the action plugins
(plugin_utils.controller_action.KubernetesAction) call the same ``run_module`` in the controller over k8s_http, and
must not import the kubernetes package: it is imported only when a module process runs."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib


def main(argument_spec: dict, run_module, **constraints) -> None:
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **constraints)
    # the kubernetes client, imported here only: an action plugin imports the module file for its spec and run_module
    from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_client import (
        HAS_KUBERNETES, ConnectionOptionError, api_client, requester)

    def connect():
        if not HAS_KUBERNETES:
            module.fail_json(msg=missing_required_lib("kubernetes"))
        return requester(api_client(module.params))

    try:
        outcome = run_module(module.params, module.check_mode, module._diff, connect)
    except ConnectionOptionError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.pop("warnings", None) or []:
        module.warn(warning)
    if outcome.pop("failed", False):
        module.fail_json(**outcome)
    module.exit_json(**outcome)
