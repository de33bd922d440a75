# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit a CoreDNS Corefile inside one marked block, reversibly.

``with_aliases(corefile, aliases)`` puts ``rewrite`` rules for the aliases in a marked block at the top of the root
server block (``.:53 {``); ``with_aliases(corefile, {})`` removes the block and gives back the original text byte
for byte. Nothing outside the block is touched.
"""

from __future__ import annotations

import re

BEGIN = "# BEGIN aibang.gke_platform cluster_dns (managed: edit the cluster_dns role's variables, not these lines)"
END = "# END aibang.gke_platform cluster_dns"
_ROOT_SERVER = re.compile(r"^(?P<indent>[ \t]*)\.(?::53)?[ \t]*\{[ \t]*$")
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class CorefileError(ValueError):
    pass


def with_aliases(corefile: str, aliases: dict) -> str:
    """The Corefile with exactly ``aliases`` ({alias: target FQDN}) in the managed block, or without the block."""
    lines = corefile.splitlines(keepends=True)
    start, end = _managed_block(lines)
    if start is not None:
        lines = lines[:start] + lines[end + 1:]
    if not aliases:
        return "".join(lines)
    opening = _root_server_line(lines)
    indent = _body_indent(lines, opening)
    newline = "\r\n" if lines[opening].endswith("\r\n") else "\n"
    block = [f"{indent}{BEGIN}{newline}"]
    for alias, target in sorted(_validated(aliases).items()):
        block.append(f"{indent}rewrite stop name exact {alias} {target} answer auto{newline}")
    block.append(f"{indent}{END}{newline}")
    if not lines[opening].endswith("\n"):
        lines[opening] += newline  # the opening line was the last, without a newline: the block goes after it
    return "".join(lines[:opening + 1] + block + lines[opening + 1:])


def aliases_in(corefile: str) -> dict:
    """The aliases the managed block holds now."""
    lines = corefile.splitlines()
    start, end = _managed_block(lines)
    if start is None:
        return {}
    found = {}
    for line in lines[start + 1:end]:
        words = line.split()
        if words[:4] == ["rewrite", "stop", "name", "exact"] and len(words) >= 6:
            found[words[4]] = words[5]
    return found


def _validated(aliases: dict) -> dict:
    clean = {}
    for alias, target in aliases.items():
        for field, name in (("alias", alias), ("target", target)):
            if not isinstance(name, str) or not _NAME.match(name.lower().rstrip(".")):
                raise CorefileError(f"cluster_dns {field} {name!r} is not a valid DNS name")
        clean[alias.lower().rstrip(".")] = target.lower().rstrip(".")
    return clean


def _managed_block(lines: list):
    starts = [index for index, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [index for index, line in enumerate(lines) if line.strip() == END]
    if not starts and not ends:
        return None, None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise CorefileError("the Corefile's aibang.gke_platform block markers are damaged; fix them by hand before re-running")
    return starts[0], ends[0]


def _root_server_line(lines: list) -> int:
    for index, line in enumerate(lines):
        if _ROOT_SERVER.match(line.rstrip("\r\n")):
            return index
    raise CorefileError("the Corefile has no root server block ('.:53 {' or '. {') to add the alias to")


def _body_indent(lines: list, opening: int) -> str:
    for line in lines[opening + 1:]:
        if line.strip():
            return line[: len(line) - len(line.lstrip())] or "    "
    return "    "
