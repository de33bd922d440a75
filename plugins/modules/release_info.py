#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_info
short_description: The platform's release history, and one release checked against its sha256
version_added: 0.3.0
description:
  - Reads the release Secrets the deploy writes (gzip+base64 JSON with a sha256 annotation, one per release, labelled
    C(aibang.io/owner=aibang-gke-platform)), as M(kubernetes.core.k8s_info) returns them, and lists them newest first,
    as rows and as a table a person reads. A snapshot whose content does not match its sha256, or that does not
    decode, is listed as damaged with the reason.
  - With O(release) or O(previous), returns that release (or the newest successful one before the newest release);
    a damaged or unknown one fails with the reason. Changes nothing.
  - Releases written with a key (AES-256-GCM, the Secret annotated C(aibang.io/encryption=aes-256-gcm)) are read with
    O(key).
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  releases:
    description: The release Secrets.
    type: list
    elements: dict
    required: true
  release:
    description: The number of the release to return.
    type: int
  previous:
    description: Return the newest successful release before the newest one (what rollback restores by default).
    type: bool
    default: false
  history:
    description: How many releases to keep; C(prune) lists the Secrets beyond it.
    type: int
    default: 10
  run:
    description:
      - A deploy run's id. Returns the release that run wrote so far as C(run_release), and C(prune) then counts the
        release that run is about to write when it has none yet.
      - Also returns as C(left_running) the releases other runs left C(running) (a run killed halfway), which the
        deploy then marks C(interrupted).
    type: str
  verify_failures:
    description:
      - With O(run), the checks of C(verify.yml) that failed at the end of that deploy run (empty - all passed). The
        module then returns as C(outcome) how the run ends - its release marked C(success), or C(failed) when a check
        failed - and what to say. Changes nothing; the play writes the release.
    type: list
    elements: str
    default: []
  key:
    description:
      - The key of releases written encrypted (AES-256-GCM), 32 bytes as 64 hex digits or base64, from vault. An
        encrypted release read without it, or with another key, is listed as damaged with the reason. Never logged.
    type: str
"""

EXAMPLES = r"""
- name: Read the release Secrets
  kubernetes.core.k8s_info:
    kind: Secret
    namespace: kube-system
    label_selectors: [aibang.io/owner=aibang-gke-platform]
  register: found
  no_log: true

- name: Show the history
  aibang.gke_platform.release_info:
    releases: "{{ found.resources }}"
  register: releases

- name: Print it
  ansible.builtin.debug:
    msg: "{{ releases.table.splitlines() }}"
"""

RETURN = r"""
history:
  description: Newest first, each with C(number), C(state), C(run), C(changed), C(name) and C(error) (why it is damaged).
  returned: success
  type: list
  elements: dict
table:
  description: The history as text.
  returned: success
  type: str
next_number:
  description: The number the next release gets.
  returned: success
  type: int
prune:
  description: Names of the Secrets beyond O(history) (with O(run), counting the release that run is about to write).
  returned: success
  type: list
  elements: str
run_release:
  description: The release O(run) wrote so far (number, state, run, changed, stages), or null.
  returned: with O(run)
  type: dict
left_running:
  description:
    - Releases (number, state, run, changed, stages) that runs other than O(run) left in state C(running), oldest
      first. Their run was killed or ended before marking them.
  returned: with O(run)
  type: list
  elements: dict
outcome:
  description:
    - How the run ends once its stages passed their gates, from O(verify_failures) - C(state) (success or failed),
      C(release) (the run's release marked so, to write; null when the run wrote none or it is not running),
      C(summary) (one line for the history) and C(message) (why the run fails and what to do; empty on success).
  returned: with O(run)
  type: dict
chosen:
  description: The release asked for with O(release) or O(previous) (number, state, run, changed, stages).
  returned: with O(release) or O(previous)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aibang.gke_platform.plugins.module_utils.release_store import (
    ReleaseStoreError, choose, history, left_running, next_number, of_run, outcome, table, to_prune)


def run_module(params: dict) -> dict:
    key = params["key"] or ""
    rows = history(params["releases"], key)
    result = {"changed": False, "history": rows, "table": table(rows), "next_number": next_number(rows)}
    if params["run"]:
        result["run_release"] = of_run(params["releases"], params["run"], key)
        result["left_running"] = left_running(params["releases"], params["run"], key)
        result["outcome"] = outcome(result["run_release"], params["run"], params.get("verify_failures") or [])
    result["prune"] = to_prune(rows, params["history"], adding=bool(params["run"]) and result["run_release"] is None)
    if params["release"] is not None or params["previous"]:
        result["chosen"] = choose(params["releases"], params["release"], key)
    return result


ARGUMENT_SPEC = {
    "releases": {"type": "list", "elements": "dict", "required": True},
    "release": {"type": "int"},
    "previous": {"type": "bool", "default": False},
    "history": {"type": "int", "default": 10},
    "run": {"type": "str"},
    "verify_failures": {"type": "list", "elements": "str", "default": []},
    "key": {"type": "str", "no_log": True},
}
CONSTRAINTS = {"mutually_exclusive": [("release", "previous")]}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **CONSTRAINTS)
    try:
        module.exit_json(**run_module(module.params))
    except ReleaseStoreError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
