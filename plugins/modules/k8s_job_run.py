#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_job_run
short_description: Run a short-lived Job once - apply, wait, read its log, delete - in one module run
version_added: 0.3.0
description:
  - Server-side applies O(objects) (exactly one Job, and what it needs, such as its namespace and NetworkPolicy),
    waits until the Job's pod ends (its phase, as the kubelet reports it; the Job controller records it a second or two
    later), a container of it cannot start (its image cannot be pulled, its container cannot be created or configured),
    or the Job ends without it (polling every quarter second, at most O(timeout) seconds), reads the pod's log when its
    containers ran to their end, each container's state when it did not succeed, and deletes the Job and its pods
    (also when something in between fails). The other objects stay.
  - A Job annotated C(aibang.io/log-ends-with) (a line) is done once its pod's log has that line of its own - the
    module reads the log while the pod runs and ends there (RV(outcome) V(succeeded), the pod may still be running) -
    instead of waiting for the kubelet to report the pod's end, which it notices within a second or two (it looks for
    exited containers every second). The collection's probes end their log with such a line.
  - Reports a change when it created the Job (or changed one of the other objects) - every run does, as the Job is
    deleted at its end. A caller that runs it as a verification, which leaves nothing behind, sets
    C(changed_when) to false (the collection's probes do).
  - In check mode nothing is sent and the Job does not run (RV(outcome) is V(not run)); it reports the change it
    would make (the Job created).
author:
  - Aibang Platform Engineering (@aibang)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - aibang.gke_platform.kubernetes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  objects:
    description: The objects, with exactly one Job (C(metadata.name) and C(metadata.namespace) set).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds to wait for the Job to end.
    type: int
    default: 120
  field_manager:
    description: The server-side apply field manager.
    type: str
    default: aibang.gke_platform
"""

EXAMPLES = r"""
- name: Run the probe Job once
  aibang.gke_platform.k8s_job_run:
    objects: "{{ probe_spec | aibang.gke_platform.cluster_probe_objects }}"
    timeout: 180
  register: probe
"""

RETURN = r"""
outcome:
  description: >-
    V(succeeded), V(failed), V(not started) (a container cannot start: image, container creation or configuration),
    V(timed out), or V(not run) in check mode.
  returned: always
  type: str
log:
  description: >-
    The first pod's log, when its containers ran to their end (succeeded, or failed after they ran) or its log ended
    with the line the Job's C(aibang.io/log-ends-with) annotation names.
  returned: always
  type: str
waiting:
  description: Each container's state, when the Job did not succeed (what it waits for, or how it ended).
  returned: always
  type: list
  elements: dict
conditions:
  description: The messages of the Job's conditions.
  returned: always
  type: list
  elements: str
pod:
  description: The first pod's C(name) and C(status) as last read (phase, conditions, container states), null without a pod.
  returned: when the Job ran
  type: dict
"""

import time

from ansible_collections.aibang.gke_platform.plugins.module_utils import k8s_module
from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_apply import ApplyError
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_auth import AUTH_ARGUMENT_SPEC
from ansible_collections.aibang.gke_platform.plugins.module_utils.k8s_job import JobError, run, the_job

ARGUMENT_SPEC = {"objects": {"type": "list", "elements": "dict", "required": True},
                 "timeout": {"type": "int", "default": 120},
                 "field_manager": {"type": "str", "default": "aibang.gke_platform"},
                 **AUTH_ARGUMENT_SPEC}


def run_module(params: dict, check_mode: bool, diff: bool, connect) -> dict:
    try:
        the_job(params["objects"])
        if params["timeout"] < 1:
            raise JobError(f"timeout: {params['timeout']} is not a number of seconds >= 1")
        if check_mode:
            return {"changed": True, "outcome": "not run", "log": "", "waiting": [], "conditions": []}
        return run(connect(), params["objects"], params["field_manager"], params["timeout"], time.monotonic, time.sleep)
    except (JobError, ApplyError) as exc:
        return {"failed": True, "msg": str(exc)}


def main() -> None:
    k8s_module.main(ARGUMENT_SPEC, run_module)


if __name__ == "__main__":
    main()
