# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.module_utils.corefile import (
    DEFAULT_BLOCK,
    CorefileError,
    aliases_in,
    validated_aliases,
    with_aliases,
)


def corefile_alias(corefile, aliases=None, block=DEFAULT_BLOCK):
    """The Corefile with exactly these aliases in the named managed block; no aliases removes the block."""
    if not isinstance(corefile, str):
        raise AnsibleFilterError(f"corefile_alias expects the Corefile text, got {type(corefile).__name__}")
    try:
        return with_aliases(corefile, dict(aliases or {}), block)
    except CorefileError as exc:
        raise AnsibleFilterError(str(exc)) from None


def corefile_aliases(corefile, block=DEFAULT_BLOCK):
    """The aliases the named managed block of the Corefile holds, as {alias: target}."""
    if not isinstance(corefile, str):
        raise AnsibleFilterError(f"corefile_aliases expects the Corefile text, got {type(corefile).__name__}")
    try:
        return aliases_in(corefile, block)
    except CorefileError as exc:
        raise AnsibleFilterError(str(exc)) from None


def dns_aliases(aliases):
    """The aliases ({alias: target}) normalised, after checking each is a plain DNS name; fails naming the bad one."""
    try:
        return validated_aliases(aliases)
    except CorefileError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"corefile_alias": corefile_alias, "corefile_aliases": corefile_aliases, "dns_aliases": dns_aliases}
