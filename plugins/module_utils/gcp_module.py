# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of every GCP module: shared options, the client, one place that turns errors into fail_json."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import (
    GcpClient,
    GcpError,
    auth_settings,
    authorized_session,
)

AUTH_ARGUMENT_SPEC = {
    "project": {"type": "str"},
    "auth_kind": {"type": "str", "choices": ["application", "machineaccount", "serviceaccount", "accesstoken"]},
    "service_account_file": {"type": "path"},
    "service_account_contents": {"type": "jsonarg", "no_log": True},
    "access_token": {"type": "str", "no_log": True},
    "scopes": {"type": "list", "elements": "str"},
}


def gcp_module(argument_spec: dict, **kwargs) -> AnsibleModule:
    return AnsibleModule(argument_spec={**AUTH_ARGUMENT_SPEC, **argument_spec}, supports_check_mode=True, **kwargs)


def project_of(module: AnsibleModule) -> str:
    settings = auth_settings(module.params)
    if not settings["project"]:
        module.fail_json(msg="project is required: set the project option or GCP_PROJECT")
    return settings["project"]


def run(module: AnsibleModule, action) -> None:
    """Call ``action(client, params, check_mode)`` and exit with its result; a GcpError fails the task."""
    try:
        settings = auth_settings(module.params)
        client = GcpClient(authorized_session(settings))
        params = dict(module.params, project=project_of(module))
        result = action(client, params, module.check_mode)
    except GcpError as exc:
        module.fail_json(msg=str(exc), status=exc.status, reason=exc.reason)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
