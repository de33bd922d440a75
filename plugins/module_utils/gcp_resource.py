# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers every resource service shares: API URLs, links, and what differs between desired and current."""

from __future__ import annotations

COMPUTE = "https://compute.googleapis.com/compute/v1/"
_LINK_PREFIXES = ("https://compute.googleapis.com/compute/v1/", "https://www.googleapis.com/compute/v1/",
                  "https://compute.googleapis.com/compute/beta/", "https://www.googleapis.com/compute/beta/")


# The label every resource this collection creates carries (set at creation only, never added to a resource found
# existing), so cleanup deletes what it made and leaves what it adopted.
MARK_KEY, MARK_VALUE = "managed-by", "aibang-gke-platform"


def marked(labels: dict | None) -> bool:
    return (labels or {}).get(MARK_KEY) == MARK_VALUE


def with_mark(labels: dict | None) -> dict:
    return {**(labels or {}), MARK_KEY: MARK_VALUE}


# Resources without labels (Cloud Routers, service attachments) carry the mark in their description instead.
DESCRIPTION_MARK = f"{MARK_KEY}: {MARK_VALUE}"


def described_marked(description: str | None) -> bool:
    return DESCRIPTION_MARK in (description or "")


def with_description_mark(description: str | None) -> str:
    return f"{description} ({DESCRIPTION_MARK})" if description else DESCRIPTION_MARK


def left_unmarked(what: str, label_field: str) -> str:
    return (f"{what} left in place: it does not carry the label {MARK_KEY}={MARK_VALUE} in {label_field}, so this "
            "collection did not create it (set delete_unmarked: true to delete it anyway)")


def regional(project: str, region: str, collection: str, name: str = "") -> str:
    return f"{COMPUTE}projects/{project}/regions/{region}/{collection}" + (f"/{name}" if name else "")


def global_(project: str, collection: str, name: str = "") -> str:
    return f"{COMPUTE}projects/{project}/global/{collection}" + (f"/{name}" if name else "")


def link_path(link: str) -> str:
    """'projects/p/regions/r/x/n' for any form of a Compute link (full URL on either host, or already a path)."""
    for prefix in _LINK_PREFIXES:
        if link.startswith(prefix):
            return link[len(prefix):]
    return link.lstrip("/")


def same_link(first: str | None, second: str | None) -> bool:
    return link_path(first or "") == link_path(second or "")


def link(value: str, project: str, collection: str, region: str | None = None) -> str:
    """A full Compute URL for ``value``: a bare name in ``project`` (and ``region``), a path, or already a URL."""
    if "/" not in value:
        return regional(project, region, collection, value) if region else global_(project, collection, value)
    return COMPUTE + link_path(value)


def name_of(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def project_of(value: str) -> str:
    parts = link_path(value).split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "projects" else ""


def differences(desired: dict, current: dict, prefix: str = "") -> list:
    """Dotted names of the fields ``desired`` sets (not None) whose value ``current`` does not have.

    Links compare by path, numbers compare with their string form (Google returns int64 as strings), lists of
    scalars compare as sets, lists of objects compare in order.
    """
    found = []
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key) if isinstance(current, dict) else None
        name = f"{prefix}{key}"
        if isinstance(want, dict):
            found += differences(want, have if isinstance(have, dict) else {}, name + ".")
        elif not _equal(want, have):
            found.append(name)
    return found


def _equal(want, have) -> bool:
    if isinstance(want, list):
        if not isinstance(have, list):
            return not want and have is None
        if all(not isinstance(item, (dict, list)) for item in want + have):
            return sorted(map(_scalar, want)) == sorted(map(_scalar, have))
        return len(want) == len(have) and all(not differences(w, h) if isinstance(w, dict) else _equal(w, h)
                                              for w, h in zip(want, have))
    return _scalar(want) == _scalar(have)


def _scalar(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return ""
    text = str(value)
    return link_path(text) if text.startswith("https://") else text


def without_none(value):
    """``value`` without None fields (Google treats a present null differently from an absent field)."""
    if isinstance(value, dict):
        return {key: without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def list_result(outcomes: list, items_key: str) -> dict:
    """The result of a module that reconciles a list: ``outcomes`` holds (key, changed, before, after) per item, in
    the list's order; the diff holds each item's view under its key, on the side where the item exists."""
    diff = {"before": {}, "after": {}}
    for key, _changed, before, after in outcomes:
        for side, view in (("before", before), ("after", after)):
            if view:
                diff[side][key] = view
    return {"changed": any(changed for _key, changed, _before, _after in outcomes),
            items_key: [after for _key, _changed, _before, after in outcomes], "diff": diff}
