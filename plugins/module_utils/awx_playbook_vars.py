# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which variables a playbook of this collection accepts from outside (a survey, extra vars).

A variable is accepted when the playbook can read it: a name its templates and conditions refer to (in the
playbook, the playbooks it imports and the task files it includes), or an option of a role entry point it runs
(that entry point's meta/argument_specs.yml). Names the playbook defines itself (register, set_fact, loop
variables) are not inputs. Pure Python over the files; no Ansible or Jinja import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    import yaml
except ImportError:  # only the controller reads playbooks; PyYAML comes with ansible-core there
    yaml = None

COLLECTION_PREFIX = 'aibang.gke_platform.'
RAW_EXPRESSION_KEYS = ('when', 'that', 'failed_when', 'changed_when', 'until')
INCLUDE_TASK_KEYS = ('ansible.builtin.import_tasks', 'ansible.builtin.include_tasks', 'import_tasks', 'include_tasks')
INCLUDE_ROLE_KEYS = ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role')
IMPORT_PLAYBOOK_KEYS = ('ansible.builtin.import_playbook', 'import_playbook')
SET_FACT_KEYS = ('ansible.builtin.set_fact', 'set_fact')
# Words of the template language and names Ansible always provides: never inputs.
NOT_INPUTS = frozenset((
    'and', 'or', 'not', 'in', 'is', 'if', 'else', 'true', 'false', 'none', 'True', 'False', 'None', 'defined',
    'undefined', 'item', 'loop', 'hostvars', 'groups', 'group_names', 'inventory_hostname', 'ansible_check_mode',
    'ansible_facts', 'playbook_dir', 'role_path', 'omit', 'ansible_play_hosts', 'ansible_playbook_python',
    'lookup', 'query', 'now', 'range', 'dict', 'lipsum', 'namespace', 'ansible_managed', 'for', 'endfor', 'endif',
    'set', 'elif', 'ansible_play_batch', 'inventory_dir', 'ansible_version',
))
JINJA_BLOCK = re.compile(r'{{(.*?)}}|{%(.*?)%}', re.S)
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
NAME = re.compile(r'(?<![\w.|])(?<!\|\s)([A-Za-z_]\w*)\b(?!\s*=[^=])')
AFTER_IS = re.compile(r'\bis\s+(?:not\s+)?([A-Za-z_]\w*)')


class PlaybookReadError(Exception):
    """A playbook, task file or argument spec could not be read."""


def expression_names(expression):
    """Variable names an expression refers to: not filters, tests, attributes, keyword arguments or strings."""
    text = QUOTED.sub('""', expression)
    tests = set(AFTER_IS.findall(text))
    return {name for name in NAME.findall(text) if name not in NOT_INPUTS and name not in tests}


def template_names(value):
    """Names referred to inside {{ }} and {% %} of a string."""
    names = set()
    for output, statement in JINJA_BLOCK.findall(value):
        names |= expression_names(output or statement)
    return names


def _load_yaml(path):
    if yaml is None:
        raise PlaybookReadError('reading {0} needs PyYAML'.format(path))
    try:
        with open(path) as handle:
            return yaml.safe_load(handle) or []
    except (OSError, yaml.YAMLError) as error:
        raise PlaybookReadError('cannot read {0}: {1}'.format(path, error))


def _role_options(project_dir, role, entry_point):
    name = role[len(COLLECTION_PREFIX):] if role.startswith(COLLECTION_PREFIX) else role
    spec_path = os.path.join(project_dir, 'roles', name, 'meta', 'argument_specs.yml')
    if not os.path.exists(spec_path):
        return set()
    specs = (_load_yaml(spec_path) or {}).get('argument_specs', {})
    return set((specs.get(entry_point) or {}).get('options', {}))


class _Walker:
    """Collects referred-to and defined names over a playbook and what it pulls in."""

    def __init__(self, project_dir):
        self.project_dir = project_dir
        self.referred = set()
        self.defined = set()
        self.role_options = set()
        self.seen_files = set()

    def walk_file(self, path):
        path = os.path.normpath(path)
        if path in self.seen_files:
            return
        self.seen_files.add(path)
        for item in _load_yaml(path):
            self.walk_item(item, os.path.dirname(path))

    def walk_item(self, item, base_dir):
        if not isinstance(item, dict):
            self.walk_value(item)
            return
        for key, value in item.items():
            self.walk_entry(key, value, base_dir)

    def walk_entry(self, key, value, base_dir):
        if key in IMPORT_PLAYBOOK_KEYS or key in INCLUDE_TASK_KEYS:
            target = value.get('file') if isinstance(value, dict) else value
            self.walk_file(os.path.join(base_dir, target))
        elif key in INCLUDE_ROLE_KEYS:
            self.add_role(value.get('name', ''), value.get('tasks_from', 'main'))
        elif key == 'roles':
            for role in value:
                self.add_role(role if isinstance(role, str) else role.get('role', role.get('name', '')), 'main')
                if isinstance(role, dict):
                    self.defined |= set(role) - {'role', 'name', 'when', 'tags'}
        elif key == 'register':
            self.defined.add(value)
        elif key in SET_FACT_KEYS and isinstance(value, dict):
            self.defined |= set(value) - {'cacheable'}
            self.walk_value(value)
        elif key == 'loop_control' and isinstance(value, dict) and 'loop_var' in value:
            self.defined.add(value['loop_var'])
        elif key == 'vars' and isinstance(value, dict):
            self.defined |= set(value)
            self.walk_value(value)
        elif key in RAW_EXPRESSION_KEYS:
            self.walk_conditions(value)
        elif key in ('block', 'rescue', 'always', 'tasks', 'pre_tasks', 'post_tasks', 'handlers'):
            for task in value or []:
                self.walk_item(task, base_dir)
        else:
            self.walk_value(value)

    def add_role(self, role, entry_point):
        self.role_options |= _role_options(self.project_dir, role, entry_point)

    def walk_conditions(self, value):
        for condition in value if isinstance(value, list) else [value]:
            if isinstance(condition, str):
                self.referred |= expression_names(condition)

    def walk_value(self, value):
        if isinstance(value, str):
            self.referred |= template_names(value)
        elif isinstance(value, dict):
            for key, nested in value.items():
                if key in RAW_EXPRESSION_KEYS:
                    self.walk_conditions(nested)
                else:
                    self.walk_value(nested)
        elif isinstance(value, list):
            for nested in value:
                self.walk_value(nested)


def accepted_variables(project_dir, playbook):
    """The names a playbook (path relative to the project) accepts as extra vars or survey answers."""
    walker = _Walker(project_dir)
    walker.walk_file(os.path.join(project_dir, playbook))
    return (walker.referred - walker.defined) | walker.role_options
