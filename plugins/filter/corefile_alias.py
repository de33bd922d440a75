# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.module_utils.corefile import CorefileError, with_aliases


def corefile_alias(corefile, aliases=None):
    """The Corefile with exactly these aliases in its managed block; no aliases removes the block."""
    if not isinstance(corefile, str):
        raise AnsibleFilterError(f"corefile_alias expects the Corefile text, got {type(corefile).__name__}")
    try:
        return with_aliases(corefile, dict(aliases or {}))
    except CorefileError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"corefile_alias": corefile_alias}
