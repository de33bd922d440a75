# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release snapshots kept in the cluster, after Helm's release storage: one Secret per release, its content (the
release as JSON: number, state, run, what changed, each stage's previous objects) gzip-compressed and base64-encoded,
labelled for listing, with the sha256 of the JSON in an annotation so that a tampered or truncated snapshot is refused.

Pure data in, data out: the play reads and writes the Secrets with kubernetes.core.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import zlib

OWNER_LABEL = "aibang.io/owner"
OWNER = "aibang-gke-platform"
NUMBER_LABEL = "aibang.io/release"
STATE_LABEL = "aibang.io/state"
SHA_ANNOTATION = "aibang.io/sha256"
SECRET_KEY = "release"
STATES = ("pending", "running", "success", "failed", "rolled_back")
DEFAULT_HISTORY = 10


class ReleaseStoreError(ValueError):
    """A release that cannot be written or trusted: the message says which and why."""


def secret_name(number: int) -> str:
    return f"aibang-release.v{int(number)}"


def encode(release: dict) -> tuple:
    """(payload for the Secret's data, sha256 of the JSON). Deterministic: the same release gives the same bytes."""
    content = json.dumps(release, sort_keys=True, separators=(",", ":")).encode("utf-8")
    compressed = gzip.compress(content, mtime=0)
    # the Secret's data is base64 of the bytes it holds: the bytes are themselves the base64 of the gzip stream
    payload = base64.b64encode(base64.b64encode(compressed)).decode("ascii")
    return payload, hashlib.sha256(content).hexdigest()


def decode(payload: str, sha256: str, name: str = "the release") -> dict:
    """The release a Secret holds; refuses one whose content does not match its sha256, or that does not decode."""
    try:
        compressed = base64.b64decode(base64.b64decode(payload or "", validate=True), validate=True)
        content = gzip.decompress(compressed)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error) as exc:
        raise ReleaseStoreError(f"{name} is damaged or truncated ({type(exc).__name__}: {exc}); refusing it") from None
    digest = hashlib.sha256(content).hexdigest()
    if not sha256:
        raise ReleaseStoreError(f"{name} has no {SHA_ANNOTATION} annotation; refusing a snapshot that cannot be checked")
    if digest != sha256:
        raise ReleaseStoreError(f"{name} was modified: its content's sha256 is {digest}, the annotation says {sha256}; refusing it")
    return json.loads(content)


def validate(release: dict) -> dict:
    number = release.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ReleaseStoreError(f"release.number: {number!r} is not a positive integer")
    if release.get("state") not in STATES:
        raise ReleaseStoreError(f"release.state: {release.get('state')!r} is not one of {', '.join(STATES)}")
    if not isinstance(release.get("stages", {}), dict):
        raise ReleaseStoreError("release.stages: must map each stage to its previous objects")
    return release


def secret(release: dict, namespace: str) -> dict:
    """The Secret that stores ``release``."""
    validate(release)
    payload, digest = encode(release)
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "aibang.io/release.v1",
        "metadata": {"name": secret_name(release["number"]), "namespace": namespace,
                     "labels": {OWNER_LABEL: OWNER, NUMBER_LABEL: str(release["number"]), STATE_LABEL: release["state"],
                                "app.kubernetes.io/managed-by": "aibang.gke_platform"},
                     "annotations": {SHA_ANNOTATION: digest}},
        "data": {SECRET_KEY: payload},
    }


def read(stored: dict) -> dict:
    """The release in a Secret as k8s_info returns it, checked."""
    metadata = stored.get("metadata") or {}
    name = metadata.get("name", "?")
    release = decode((stored.get("data") or {}).get(SECRET_KEY, ""), (metadata.get("annotations") or {}).get(SHA_ANNOTATION, ""),
                     f"release Secret {name}")
    label = (metadata.get("labels") or {}).get(NUMBER_LABEL)
    if str(release.get("number")) != str(label):
        raise ReleaseStoreError(f"release Secret {name} holds release {release.get('number')} but is labelled {label}; refusing it")
    return validate(release)


def history(stored: list) -> list:
    """One line per release, newest first: {number, state, run, changed, name, error}; a damaged one says why."""
    rows = []
    for item in stored or []:
        metadata = item.get("metadata") or {}
        try:
            release = read(item)
            rows.append({"number": release["number"], "state": release["state"], "run": release.get("run", ""),
                         "changed": list(release.get("changed") or []), "name": metadata.get("name"), "error": None})
        except ReleaseStoreError as exc:
            number = (metadata.get("labels") or {}).get(NUMBER_LABEL, "0")
            rows.append({"number": int(number) if str(number).isdigit() else 0, "state": "damaged", "run": "", "changed": [],
                         "name": metadata.get("name"), "error": str(exc)})
    return sorted(rows, key=lambda row: row["number"], reverse=True)


def table(rows: list) -> str:
    """The history as a table a person reads."""
    lines = [f"{'RELEASE':>7}  {'STATE':<11}  {'RUN':<36}  CHANGED"]
    for row in rows:
        changed = ", ".join(row["changed"]) or "-"
        lines.append(f"{row['number']:>7}  {row['state']:<11}  {row['run'][:36]:<36}  {row['error'] or changed}")
    return "\n".join(lines)


def next_number(rows: list) -> int:
    return max((row["number"] for row in rows), default=0) + 1


def to_prune(rows: list, cap: int = DEFAULT_HISTORY) -> list:
    """Names of the releases beyond the cap (oldest first out); the newest successful release is always kept."""
    if not isinstance(cap, int) or cap < 1:
        raise ReleaseStoreError(f"history cap: {cap!r} must be a positive integer")
    newest_success = next((row["number"] for row in rows if row["state"] == "success"), None)
    ordered = sorted(rows, key=lambda row: row["number"], reverse=True)
    keep = {row["number"] for row in ordered[:cap]} | ({newest_success} if newest_success else set())
    return [row["name"] for row in ordered if row["number"] not in keep]


def choose(stored: list, number: int | None = None) -> dict:
    """The release to restore: ``number``, or the newest successful one before the newest release. Refuses a damaged
    or unknown release with the reason."""
    rows = history(stored)
    if number is None:
        candidates = [row for row in rows[1:] if row["state"] == "success"]
        if not candidates:
            raise ReleaseStoreError("there is no successful release before the newest one to roll back to")
        number = candidates[0]["number"]
    row = next((row for row in rows if row["number"] == int(number)), None)
    if row is None:
        known = ", ".join(str(row["number"]) for row in rows) or "none"
        raise ReleaseStoreError(f"release {number} is not in the history (releases: {known})")
    if row["error"]:
        raise ReleaseStoreError(row["error"])
    return read(next(item for item in stored if (item.get("metadata") or {}).get("name") == row["name"]))
