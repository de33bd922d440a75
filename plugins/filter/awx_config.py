# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display
from ansible_collections.aibang.gke_platform.plugins.module_utils import awx_config, awx_playbook_vars

display = Display()


def awx_config_plan(config, project_dir):
    """The AWX objects (infra.aap_configuration shape) for a configuration; bad input fails naming field and value.
    What would work differently from AWX than by hand is shown as a warning."""
    try:
        planned = awx_config.plan(config, project_dir)
    except (awx_config.AwxConfigError, awx_playbook_vars.PlaybookReadError) as error:
        raise AnsibleFilterError('awx_config_plan: {0}'.format(error))
    for warning in planned['warnings']:
        display.warning('awx_config_plan: {0}'.format(warning))
    return planned


def awx_workflows_to_write(workflows, current_nodes):
    """Names of the workflows whose nodes in AWX differ from the wanted graph."""
    return awx_config.workflows_to_write(workflows, current_nodes or {})


class FilterModule:
    def filters(self):
        return {'awx_config_plan': awx_config_plan, 'awx_workflows_to_write': awx_workflows_to_write}
