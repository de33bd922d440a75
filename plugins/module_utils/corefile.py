# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit a CoreDNS Corefile inside named, marked blocks, reversibly.

``with_aliases(corefile, aliases, block)`` puts ``rewrite`` rules for the aliases in the marked block ``block`` at the
top of the root server block (``.:53 {``); ``with_aliases(corefile, {}, block)`` removes that block and gives back
the text as it was before it was added, byte for byte. Nothing outside the block is touched, so blocks of different
names (different owners) live side by side.
"""

from __future__ import annotations

import re

DEFAULT_BLOCK = "egress"
# Whole-string matches only (fullmatch): `$` also matches before a trailing newline, which would let a name carry
# a second Corefile line.
_BLOCK_NAME = re.compile(r"[a-z0-9-]{1,40}")
_ROOT_SERVER = re.compile(r"(?P<indent>[ \t]*)\.(?::53)?[ \t]*\{[ \t]*")
_NAME = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


class CorefileError(ValueError):
    pass


def markers(block: str = DEFAULT_BLOCK) -> tuple:
    if not isinstance(block, str) or not _BLOCK_NAME.fullmatch(block):
        raise CorefileError(f"cluster_dns block name {block!r} must match [a-z0-9-]{{1,40}}")
    return (f"# BEGIN aibang.gke_platform cluster_dns {block} (managed: change the role's variables, not these lines)",
            f"# END aibang.gke_platform cluster_dns {block}")


def with_aliases(corefile: str, aliases: dict, block: str = DEFAULT_BLOCK) -> str:
    """The Corefile with exactly ``aliases`` ({alias: target FQDN}) in block ``block``, or without that block."""
    begin, end_marker = markers(block)
    lines = corefile.splitlines(keepends=True)
    start, end = _managed_block(lines, begin, end_marker)
    if start is not None:
        lines = lines[:start] + lines[end + 1:]
    if not aliases:
        return "".join(lines)
    opening = _root_server_line(lines)
    indent = _body_indent(lines, opening)
    newline = "\r\n" if lines[opening].endswith("\r\n") else "\n"
    managed = [f"{indent}{begin}{newline}"]
    for alias, target in sorted(validated_aliases(aliases).items()):
        managed.append(f"{indent}rewrite stop name exact {alias} {target} answer auto{newline}")
    managed.append(f"{indent}{end_marker}{newline}")
    if not lines[opening].endswith("\n"):
        lines[opening] += newline  # the opening line was the last, without a newline: the block goes after it
    return "".join(lines[:opening + 1] + managed + lines[opening + 1:])


def aliases_in(corefile: str, block: str = DEFAULT_BLOCK) -> dict:
    """The aliases block ``block`` holds now."""
    begin, end_marker = markers(block)
    lines = corefile.splitlines()
    start, end = _managed_block(lines, begin, end_marker)
    if start is None:
        return {}
    found = {}
    for line in lines[start + 1:end]:
        words = line.split()
        if words[:4] == ["rewrite", "stop", "name", "exact"] and len(words) >= 6:
            found[words[4]] = words[5]
    return found


def validated_aliases(aliases) -> dict:
    """{alias: target}, lowercased without the final dot; each must be a plain DNS name (no spaces, newlines, braces)."""
    if not isinstance(aliases, dict):
        raise CorefileError(f"cluster_dns aliases must be a mapping of alias to target, got {type(aliases).__name__}")
    clean = {}
    for alias, target in aliases.items():
        for field, name in (("alias", alias), ("target", target)):
            if not isinstance(name, str) or not _NAME.fullmatch(name.lower().removesuffix(".")):
                raise CorefileError(f"cluster_dns {field} {name!r} is not a valid DNS name")
        clean[alias.lower().removesuffix(".")] = target.lower().removesuffix(".")
    return clean


def _managed_block(lines: list, begin: str, end: str):
    starts = [index for index, line in enumerate(lines) if line.strip() == begin]
    ends = [index for index, line in enumerate(lines) if line.strip() == end]
    if not starts and not ends:
        return None, None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise CorefileError(f"the Corefile's markers of block {begin.split()[4]!r} are damaged; fix them by hand before re-running")
    return starts[0], ends[0]


def _root_server_line(lines: list) -> int:
    for index, line in enumerate(lines):
        if _ROOT_SERVER.fullmatch(line.rstrip("\r\n")):
            return index
    raise CorefileError("the Corefile has no root server block ('.:53 {' or '. {') to add the alias to")


def _body_indent(lines: list, opening: int) -> str:
    for line in lines[opening + 1:]:
        if line.strip():
            return line[: len(line) - len(line.lstrip())] or "    "
    return "    "
