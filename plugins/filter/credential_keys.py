# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Variables that carry a credential rather than a setting. A task's `environment:` is prefixed to the module's
# command line (`/bin/sh -c 'NAME=value python ...'`), so anyone who can list processes on the host reads it.
_CREDENTIAL = re.compile(r"TOKEN|SECRET|PASSW|CONTENTS|CREDENTIAL|PRIVATE|API_?KEY|AUTHORIZATION", re.IGNORECASE)


def credential_keys(environment):
    """The names (never the values) of the variables in ``environment`` that look like credentials, sorted."""
    if environment is None:
        return []
    if not isinstance(environment, dict):
        raise AnsibleFilterError(f"credential_keys expects a mapping of environment variables, got {type(environment).__name__}")
    return sorted(name for name in environment if _CREDENTIAL.search(str(name)))


class FilterModule:
    def filters(self):
        return {"credential_keys": credential_keys}
