# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX configuration as code: from environments to the objects AWX needs, checked before anything is sent.

plan() takes the role's input (organization, project, environments, credentials, the job template catalogue) and
returns the AWX objects as lists shaped like infra.aap_configuration's (controller_organizations,
controller_projects, controller_inventories, controller_inventory_sources, controller_credentials,
controller_templates, controller_workflows). Bad input raises AwxConfigError naming the field and the value.

workflows_to_write() compares each workflow's wanted graph with the nodes AWX has (as the API returns them) so the
role sends a workflow's nodes only when they differ: awx.awx 24.6.1 reports a workflow with an approval node as
changed on every run otherwise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import os

try:
    import yaml
except ImportError:  # only the controller reads the project's files; PyYAML comes with ansible-core there
    yaml = None

from ansible_collections.aibang.gke_platform.plugins.module_utils.awx_playbook_vars import accepted_variables

APPROVALS = ('none', 'optional', 'required')
# AWX's managed credential types: the name the API knows and the inputs each one takes.
CREDENTIAL_TYPES = {
    'gce': ('Google Compute Engine', ('username', 'project', 'ssh_key_data')),
    'kubernetes_bearer_token': ('OpenShift or Kubernetes API Bearer Token',
                                ('host', 'bearer_token', 'verify_ssl', 'ssl_ca_cert')),
}
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
WORKFLOW_CHAIN = ('deploy', 'verify', 'rollback')


class AwxConfigError(Exception):
    """The configuration cannot be applied; the message names the field and the value."""


def _fail(field, value, why):
    raise AwxConfigError('{0}={1!r}: {2}'.format(field, value, why))


def check_environment(env, index, project_dir):
    field = 'environments[{0}]'.format(index)
    if not env.get('name'):
        _fail(field + '.name', env.get('name'), 'every environment needs a name')
    inventory = env.get('inventory')
    if not inventory or not os.path.isdir(os.path.join(project_dir, inventory)):
        _fail(field + '.inventory', inventory, 'environment {0} needs an inventory directory in the project ({1})'
              .format(env.get('name'), os.path.normpath(project_dir)))
    if env.get('approval', 'none') not in APPROVALS:
        _fail(field + '.approval', env.get('approval'), 'must be one of ' + ', '.join(APPROVALS))
    timeout = env.get('approval_timeout', 0)
    if env.get('approval', 'none') != 'none' and (not isinstance(timeout, int) or timeout <= 0):
        _fail(field + '.approval_timeout', timeout, 'an approval needs a timeout in seconds greater than 0')


def check_credential(cred, index):
    field = 'credentials[{0}]'.format(index)
    if cred.get('type') not in CREDENTIAL_TYPES:
        _fail(field + '.type', cred.get('type'), 'must be one of ' + ', '.join(sorted(CREDENTIAL_TYPES)))
    known = CREDENTIAL_TYPES[cred['type']][1]
    unknown = sorted(set(cred.get('inputs', {})) - set(known))
    if unknown:
        _fail(field + '.inputs', unknown, 'not an input of {0} (it takes {1})'.format(cred['type'], ', '.join(known)))
    inputs = cred.get('inputs', {})
    if cred['type'] == 'kubernetes_bearer_token' and inputs.get('verify_ssl') and not inputs.get('ssl_ca_cert'):
        # AWX 24.6.1 injects K8S_AUTH_VERIFY_SSL=False when the CA is missing, silently.
        _fail(field + '.inputs.verify_ssl', True, 'credential {0} asks to verify TLS but gives no ssl_ca_cert; '
              'AWX would silently turn verification off'.format(cred.get('name')))


def check_survey(template_key, template, project_dir, playbook_vars):
    accepted = playbook_vars(project_dir, template['playbook'])
    for index, question in enumerate(template.get('survey', [])):
        field = 'job_templates.{0}.survey[{1}]'.format(template_key, index)
        if question.get('variable') not in accepted:
            _fail(field + '.variable', question.get('variable'),
                  'playbook {0} does not use this variable'.format(template['playbook']))
        if question.get('type', 'text') not in SURVEY_TYPES:
            _fail(field + '.type', question.get('type'), 'must be one of ' + ', '.join(SURVEY_TYPES))


def check(config, project_dir, playbook_vars=accepted_variables):
    """Refuse bad input before anything is sent to AWX."""
    envs = config.get('environments') or []
    if not envs:
        _fail('environments', envs, 'at least one environment is needed')
    for index, env in enumerate(envs):
        check_environment(env, index, project_dir)
    names = [env['name'] for env in envs]
    if len(set(names)) != len(names):
        _fail('environments', names, 'environment names must be unique')
    known_creds = set()
    for index, cred in enumerate(config.get('credentials') or []):
        check_credential(cred, index)
        known_creds.add(cred['name'])
    for index, env in enumerate(envs):
        missing = sorted(set(env.get('credentials', [])) - known_creds)
        if missing:
            _fail('environments[{0}].credentials'.format(index), missing, 'not defined in credentials')
    catalogue = config.get('job_templates') or {}
    for key in WORKFLOW_CHAIN:
        if key not in catalogue:
            _fail('job_templates', sorted(catalogue), 'the workflow needs a {0} job template'.format(key))
    for key in sorted(catalogue):
        if not os.path.isfile(os.path.join(project_dir, catalogue[key].get('playbook', ''))):
            _fail('job_templates.{0}.playbook'.format(key), catalogue[key].get('playbook'), 'no such playbook')
        check_survey(key, catalogue[key], project_dir, playbook_vars)


def _variables(path):
    """The top-level variables a group_vars or host_vars file or directory sets. A tagged value (!vault, !unsafe)
    reads as None; a vault-encrypted file sets nothing readable."""
    class ValuesLoader(yaml.SafeLoader):
        pass

    ValuesLoader.add_multi_constructor('!', lambda loader, suffix, node: None)
    files = [path] if os.path.isfile(path) else [
        os.path.join(path, name) for name in sorted(os.listdir(path)) if os.path.isfile(os.path.join(path, name))]
    variables = {}
    for name in files:
        if os.path.splitext(name)[1] not in ('', '.yml', '.yaml', '.json'):
            continue
        with open(name) as handle:
            text = handle.read()
        try:
            data = None if text.startswith('$ANSIBLE_VAULT') else yaml.load(text, Loader=ValuesLoader)
        except yaml.YAMLError as error:
            raise AwxConfigError('cannot read {0}: {1}'.format(name, error))
        variables.update(data if isinstance(data, dict) else {})
    return variables


def _vars_dir(directory):
    """group (or host) name -> path of its file or directory, for a group_vars or host_vars directory (missing:
    none)."""
    if not os.path.isdir(directory):
        return {}
    return {os.path.splitext(entry)[0] if os.path.isfile(os.path.join(directory, entry)) else entry:
            os.path.join(directory, entry) for entry in sorted(os.listdir(directory))}


# ansible.cfg's [defaults] precedence that ranks the playbooks' group_vars below every inventory's variables.
PLAYBOOK_VARS_FIRST = ('all_plugins_play', 'groups_plugins_play')


def playbook_group_vars_rank_lowest(project_dir):
    """Whether the project's ansible.cfg ranks the playbooks' group_vars below every inventory's variables (the
    `precedence` setting starts with all_plugins_play and groups_plugins_play), as AWX jobs, run in the project,
    read it."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(project_dir, 'ansible.cfg'))
    order = [entry.strip() for entry in parser.get('defaults', 'precedence', fallback='').split(',') if entry.strip()]
    return tuple(order[:len(PLAYBOOK_VARS_FIRST)]) == PLAYBOOK_VARS_FIRST


def shadowed_variables(config, project_dir):
    """Warnings for the variables an environment's inventory sets for a group (not all) that the playbooks'
    group_vars/all sets too, unless the project's ansible.cfg ranks the playbooks' group_vars lowest. With Ansible's
    default order, run by hand the inventory's value wins (its group_vars/<group> rank above a playbook's
    group_vars/all); from AWX the playbook's does: AWX imports the inventory's variables into its own inventory and
    hands them to the job as an inventory script's, which rank below every group_vars file."""
    if playbook_group_vars_rank_lowest(project_dir):
        return []
    playbook_dirs = sorted({os.path.dirname(entry['playbook']) for entry in config['job_templates'].values()})
    playbook_all = set()
    for directory in playbook_dirs:
        path = _vars_dir(os.path.join(project_dir, directory, 'group_vars')).get('all')
        playbook_all |= set(_variables(path)) if path else set()
    warnings = []
    for index, env in enumerate(config['environments']):
        for group, path in _vars_dir(os.path.join(project_dir, env['inventory'], 'group_vars')).items():
            names = sorted(set(_variables(path)) & playbook_all) if group != 'all' else []
            if names:
                warnings.append(
                    "environments[{0}].inventory={1!r}: group_vars/{2} sets {3}, which {4} sets too; "
                    "from AWX the playbooks' value is used, not the inventory's (an inventory source's variables rank "
                    "below a playbook's group_vars): rank the playbooks' group_vars lowest in the project's ansible.cfg "
                    "([defaults] precedence = {5}, ...), or set them in the environment's extra_vars or in host_vars"
                    .format(index, env['inventory'], group, ', '.join(names),
                            ', '.join(os.path.join(directory, 'group_vars', 'all') for directory in playbook_dirs),
                            ', '.join(PLAYBOOK_VARS_FIRST)))
    return warnings


def _gcp_auth_sources(env, project_dir):
    """(where, gcp_auth) for each place that gives the environment's jobs gcp_auth: its extra_vars, its inventory's
    group_vars and host_vars."""
    sources = [('extra_vars', env['extra_vars']['gcp_auth'])] if 'gcp_auth' in env.get('extra_vars', {}) else []
    for kind in ('group_vars', 'host_vars'):
        for path in _vars_dir(os.path.join(project_dir, env['inventory'], kind)).values():
            variables = _variables(path)
            if 'gcp_auth' in variables:
                sources.append((os.path.relpath(path, project_dir), variables['gcp_auth']))
    return sources


def gce_credential_conflicts(config, project_dir):
    """Refuse an environment that attaches a GCE credential while its jobs get a gcp_auth whose auth_kind is not
    serviceaccount: AWX's GCE credential injects GCP_SERVICE_ACCOUNT_FILE, google.cloud's modules take it as their
    service_account_file and fail every task ("Service Account File only works with Service Account-based
    authentication"). Returns warnings for a gcp_auth whose auth_kind cannot be read here (templated, vaulted)."""
    gce = {cred['name'] for cred in config.get('credentials') or [] if cred.get('type') == 'gce'}
    warnings = []
    for index, env in enumerate(config['environments']):
        attached = [name for name in env.get('credentials', []) if name in gce]
        if not attached:
            continue
        field = 'environments[{0}].credentials'.format(index)
        for where, gcp_auth in _gcp_auth_sources(env, project_dir):
            kind = gcp_auth.get('auth_kind', 'serviceaccount') if isinstance(gcp_auth, dict) else None
            if isinstance(kind, str) and '{' not in kind and kind != 'serviceaccount':
                _fail(field, env['credentials'],
                      "GCE credential {0} injects GCP_SERVICE_ACCOUNT_FILE while {1} sets gcp_auth.auth_kind={2!r} "
                      "for environment {3}: google.cloud's modules refuse a service-account file next to another "
                      "auth_kind ('Service Account File only works with Service Account-based authentication'); "
                      "attach no GCE credential or leave gcp_auth unset".format(
                          ', '.join(attached), where, kind, env['name']))
            if not isinstance(kind, str) or '{' in kind:
                warnings.append(
                    "{0}={1!r}: GCE credential {2} injects GCP_SERVICE_ACCOUNT_FILE and {3} sets gcp_auth, whose "
                    "auth_kind cannot be read before the job runs: unless it is serviceaccount, google.cloud's modules "
                    "will refuse the pair".format(field, env['credentials'], ', '.join(attached), where))
    return warnings


def object_name(prefix, env_name, kind):
    return '{0}-{1}-{2}'.format(prefix, env_name, kind)


def survey_spec(name, questions, env_name):
    spec = []
    for question in questions:
        if env_name not in question.get('environments', [env_name]):
            continue
        item = {
            'question_name': question['question_name'],
            'question_description': question.get('question_description', ''),
            'variable': question['variable'],
            'type': question.get('type', 'text'),
            'required': question.get('required', False),
            'default': question.get('default', ''),
        }
        if question.get('choices'):
            item['choices'] = list(question['choices'])
        spec.append(item)
    return {'name': name, 'description': '', 'spec': spec} if spec else {}


def job_template(config, env, key):
    entry = config['job_templates'][key]
    prefix, org = config['name_prefix'], config['organization']['name']
    name = object_name(prefix, env['name'], key)
    survey = survey_spec(name, entry.get('survey', []), env['name'])
    template = {
        'name': name,
        'organization': org,
        'description': entry.get('description', ''),
        'job_type': 'check' if entry.get('check_mode') else 'run',
        'inventory': object_name(prefix, env['name'], 'inventory'),
        'project': config['project']['name'],
        'playbook': entry['playbook'],
        'credentials': list(env.get('credentials', [])),
        'ask_tags_on_launch': bool(entry.get('ask_tags', False)),
        'ask_skip_tags_on_launch': bool(entry.get('ask_tags', False)),
        'survey_enabled': bool(survey),
        'survey_spec': survey,
        'extra_vars': dict(env.get('extra_vars', {})),
    }
    if config.get('execution_environment'):
        template['execution_environment'] = config['execution_environment']
    return template


def workflow_graph(config, env):
    """The nodes of an environment's workflow: [approval ->] deploy -> verify -(failure)-> rollback."""
    prefix, org = config['name_prefix'], config['organization']['name']
    nodes = []
    approval = env.get('approval', 'none')
    if approval != 'none':
        # required: only an approval starts deploy. optional: a review window; deploy starts when someone approves
        # or when the window ends (AWX cannot tell a timeout from a denial: to stop, cancel the workflow job).
        title = 'Approve deploy to {0}' if approval == 'required' else 'Review deploy to {0} (optional)'
        link = 'success_nodes' if approval == 'required' else 'always_nodes'
        nodes.append({
            'identifier': 'approval',
            'unified_job_template': {'name': title.format(env['name']), 'type': 'workflow_approval',
                                     'timeout': env['approval_timeout']},
            'related': {link: [{'identifier': 'deploy'}]},
        })
    links = {'deploy': {'success_nodes': [{'identifier': 'verify'}]},
             'verify': {'failure_nodes': [{'identifier': 'rollback'}]},
             'rollback': {}}
    for key in WORKFLOW_CHAIN:
        nodes.append({
            'identifier': key,
            'unified_job_template': {'name': object_name(prefix, env['name'], key), 'type': 'job_template',
                                     'organization': {'name': org}},
            'related': links[key],
        })
    return nodes


def workflow(config, env):
    name = object_name(config['name_prefix'], env['name'], 'deploy-workflow')
    deploy = config['job_templates']['deploy']
    survey = survey_spec(name, deploy.get('survey', []), env['name'])
    return {
        'name': name,
        'organization': config['organization']['name'],
        'description': 'deploy -> verify -> on failure rollback; approval: {0}'.format(env.get('approval', 'none')),
        'inventory': object_name(config['name_prefix'], env['name'], 'inventory'),
        'survey_enabled': bool(survey),
        'survey_spec': survey,
        'workflow_nodes': workflow_graph(config, env),
    }


def credential(config, cred):
    return {
        'name': cred['name'],
        'organization': config['organization']['name'],
        'description': cred.get('description', ''),
        'credential_type': CREDENTIAL_TYPES[cred['type']][0],
        'inputs': dict(cred.get('inputs', {})),
        # Secrets cannot be read back from AWX: written on creation, rewritten only when asked.
        'update_secrets': bool(config.get('update_secrets', False)),
    }


def plan(config, project_dir, playbook_vars=accepted_variables):
    """The AWX objects for a checked configuration, in infra.aap_configuration's shape."""
    check(config, project_dir, playbook_vars)
    org, project, prefix = config['organization'], config['project'], config['name_prefix']
    envs = config['environments']
    return {
        'controller_organizations': [{'name': org['name'], 'description': org.get('description', '')}],
        'controller_projects': [{
            'name': project['name'], 'organization': org['name'], 'scm_type': project.get('scm_type', 'git'),
            'scm_url': project['scm_url'], 'scm_branch': project.get('scm_branch', ''),
            'scm_update_on_launch': bool(project.get('update_on_launch', True)), 'allow_override': True,
        }],
        'controller_inventories': [
            {'name': object_name(prefix, env['name'], 'inventory'), 'organization': org['name'],
             'description': 'environment {0}, sourced from {1}'.format(env['name'], env['inventory'])}
            for env in envs],
        'controller_inventory_sources': [
            {'name': object_name(prefix, env['name'], 'inventory-source'),
             'inventory': object_name(prefix, env['name'], 'inventory'), 'source': 'scm',
             'source_project': project['name'], 'source_path': env['inventory'], 'overwrite': True,
             'overwrite_vars': True, 'update_on_launch': True}
            for env in envs],
        'controller_credentials': [credential(config, cred) for cred in config.get('credentials') or []],
        'controller_templates': [job_template(config, env, key) for env in envs for key in sorted(config['job_templates'])],
        'controller_workflows': [workflow(config, env) for env in envs],
        'warnings': shadowed_variables(config, project_dir) + gce_credential_conflicts(config, project_dir),
    }


def _current_graph(api_nodes):
    """identifier -> (kind, name, approval timeout, links) from /api/v2/workflow_job_template_nodes/ results."""
    by_id = {node['id']: node['identifier'] for node in api_nodes}
    graph = {}
    for node in api_nodes:
        template = (node.get('summary_fields') or {}).get('unified_job_template') or {}
        kind = 'workflow_approval' if template.get('unified_job_type') == 'workflow_approval' else 'job_template'
        links = tuple(tuple(sorted(by_id.get(target, str(target)) for target in node.get(link, [])))
                      for link in ('success_nodes', 'failure_nodes', 'always_nodes'))
        timeout = template.get('timeout') if kind == 'workflow_approval' else None
        graph[node['identifier']] = (kind, template.get('name'), timeout, links)
    return graph


def _wanted_graph(nodes):
    graph = {}
    for node in nodes:
        template = node['unified_job_template']
        kind = template['type']
        links = tuple(tuple(sorted(target['identifier'] for target in node['related'].get(link, [])))
                      for link in ('success_nodes', 'failure_nodes', 'always_nodes'))
        timeout = template.get('timeout') if kind == 'workflow_approval' else None
        graph[node['identifier']] = (kind, template['name'], timeout, links)
    return graph


def workflows_to_write(workflows, current_nodes):
    """Names of the workflows whose nodes in AWX (current_nodes: name -> API node list) differ from the wanted ones."""
    return [wf['name'] for wf in workflows
            if _wanted_graph(wf['workflow_nodes']) != _current_graph(current_nodes.get(wf['name'], []))]
