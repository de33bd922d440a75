# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release snapshots kept in the cluster, after Helm's release storage: one Secret per release, its content (the
release as JSON: number, state, run, what changed, each stage's previous objects) gzip-compressed and base64-encoded,
labelled for listing, with the sha256 of the JSON in an annotation so that a tampered or truncated snapshot is refused.
With a key (32 bytes, from vault), the gzip stream is encrypted with AES-256-GCM (a random 96-bit nonce before the
ciphertext, the Secret's name as associated data) and the Secret says so in an annotation; reading it then needs the key.

Pure data in, data out: the play reads and writes the Secrets with kubernetes.core.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
import re
import zlib

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover - ansible-core itself requires cryptography
    AESGCM = None
    InvalidTag = ValueError

OWNER_LABEL = "aibang.io/owner"
OWNER = "aibang-gke-platform"
NUMBER_LABEL = "aibang.io/release"
STATE_LABEL = "aibang.io/state"
SHA_ANNOTATION = "aibang.io/sha256"
ENCRYPTION_ANNOTATION = "aibang.io/encryption"
ENCRYPTION = "aes-256-gcm"
SECRET_KEY = "release"
NONCE_BYTES = 12
STATES = ("pending", "running", "success", "failed", "rolled_back", "interrupted")
RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"
INTERRUPTED = "interrupted"
DEFAULT_HISTORY = 10


class ReleaseStoreError(ValueError):
    """A release that cannot be written or trusted: the message says which and why."""


def secret_name(number: int) -> str:
    return f"aibang-release.v{int(number)}"


def cipher(key: str):
    """AES-256-GCM for ``key``: 64 hex digits or the base64 of 32 bytes (e.g. ``openssl rand -base64 32``)."""
    text = str(key or "").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != 32:
        raise ReleaseStoreError("key: must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32); "
                                "the value given is not (it is not shown)")
    if AESGCM is None:
        raise ReleaseStoreError("key: encrypting a release needs the Python package cryptography on the controller")
    return AESGCM(raw)


def encode(release: dict, key: str = "", name: str = "") -> tuple:
    """(payload for the Secret's data, sha256 of the JSON). Without a key deterministic: the same release gives the same
    bytes; with one, the gzip stream is encrypted (nonce + ciphertext, ``name`` as associated data)."""
    content = json.dumps(release, sort_keys=True, separators=(",", ":")).encode("utf-8")
    stored = gzip.compress(content, mtime=0)
    if key:
        nonce = os.urandom(NONCE_BYTES)
        stored = nonce + cipher(key).encrypt(nonce, stored, name.encode("utf-8"))
    # the Secret's data is base64 of the bytes it holds: the bytes are themselves the base64 of the (encrypted) gzip stream
    payload = base64.b64encode(base64.b64encode(stored)).decode("ascii")
    return payload, hashlib.sha256(content).hexdigest()


def decode(payload: str, sha256: str, name: str = "the release", key: str = "", encrypted_as: str = "") -> dict:
    """The release a Secret holds; refuses one whose content does not match its sha256, that does not decode, or (when
    encrypted: ``key`` given with the Secret's name, ``encrypted_as``) that does not decrypt."""
    try:
        stored = base64.b64decode(base64.b64decode(payload or "", validate=True), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ReleaseStoreError(f"{name} is damaged or truncated ({type(exc).__name__}: {exc}); refusing it") from None
    if encrypted_as:
        if not key:
            raise ReleaseStoreError(f"{name} is encrypted ({ENCRYPTION}) and no key was given (deploy_release_key)")
        try:
            stored = cipher(key).decrypt(stored[:NONCE_BYTES], stored[NONCE_BYTES:], encrypted_as.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise ReleaseStoreError(f"{name} does not decrypt with the key given: the key is wrong, or the snapshot was "
                                    "modified or truncated; refusing it") from None
    try:
        content = gzip.decompress(stored)
    except (ValueError, OSError, EOFError, zlib.error) as exc:
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


def secret(release: dict, namespace: str, key: str = "") -> dict:
    """The Secret that stores ``release`` (encrypted with ``key`` when one is given)."""
    validate(release)
    name = secret_name(release["number"])
    payload, digest = encode(release, key, name)
    annotations = {SHA_ANNOTATION: digest, **({ENCRYPTION_ANNOTATION: ENCRYPTION} if key else {})}
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "aibang.io/release.v1",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {OWNER_LABEL: OWNER, NUMBER_LABEL: str(release["number"]), STATE_LABEL: release["state"],
                                "app.kubernetes.io/managed-by": "aibang.gke_platform"},
                     "annotations": annotations},
        "data": {SECRET_KEY: payload},
    }


def read(stored: dict, key: str = "") -> dict:
    """The release in a Secret as k8s_info returns it, checked (decrypted with ``key`` when it is encrypted)."""
    metadata = stored.get("metadata") or {}
    name = metadata.get("name", "?")
    annotations = metadata.get("annotations") or {}
    encryption = annotations.get(ENCRYPTION_ANNOTATION)
    if encryption not in (None, ENCRYPTION):
        raise ReleaseStoreError(f"release Secret {name} is encrypted with {encryption!r}, which this collection does not know")
    release = decode((stored.get("data") or {}).get(SECRET_KEY, ""), annotations.get(SHA_ANNOTATION, ""),
                     f"release Secret {name}", key, name if encryption else "")
    label = (metadata.get("labels") or {}).get(NUMBER_LABEL)
    if str(release.get("number")) != str(label):
        raise ReleaseStoreError(f"release Secret {name} holds release {release.get('number')} but is labelled {label}; refusing it")
    return validate(release)


def history(stored: list, key: str = "") -> list:
    """One line per release, newest first: {number, state, run, changed, name, error}; a damaged one says why."""
    rows = []
    for item in stored or []:
        metadata = item.get("metadata") or {}
        try:
            release = read(item, key)
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


def to_prune(rows: list, cap: int = DEFAULT_HISTORY, adding: bool = False) -> list:
    """Names of the releases beyond the cap (oldest first out), counting the one about to be written when ``adding``;
    the newest successful release is always kept."""
    if not isinstance(cap, int) or cap < 1:
        raise ReleaseStoreError(f"history cap: {cap!r} must be a positive integer")
    newest_success = next((row["number"] for row in rows if row["state"] == "success"), None)
    ordered = sorted(rows, key=lambda row: row["number"], reverse=True)
    keep = {row["number"] for row in ordered[:cap - 1 if adding else cap]} | ({newest_success} if newest_success else set())
    return [row["name"] for row in ordered if row["number"] not in keep]


def of_run(stored: list, run: str, key: str = "") -> dict | None:
    """The release a deploy run wrote so far (checked), or None when it wrote none yet."""
    row = next((row for row in history(stored, key) if row["run"] == run and not row["error"]), None)
    return choose(stored, row["number"], key) if row else None


def left_running(stored: list, run: str, key: str = "") -> list:
    """Releases other deploy runs left ``running`` (checked, oldest first): a run marks its release success, failed or
    rolled_back before it ends, so one still running was killed or ended before its last step. ``run`` is the run
    asking, whose own release is running by right."""
    rows = [row for row in history(stored, key) if row["state"] == RUNNING and row["run"] != run and not row["error"]]
    return [choose(stored, row["number"], key) for row in reversed(rows)]


def choose(stored: list, number: int | None = None, key: str = "") -> dict:
    """The release to restore: ``number``, or the newest successful one before the newest release. Refuses a damaged
    or unknown release with the reason."""
    rows = history(stored, key)
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
    return read(next(item for item in stored if (item.get("metadata") or {}).get("name") == row["name"]), key)


def outcome(run_release: dict | None, run: str, verify_failures: list) -> dict:
    """How a deploy run ends once every stage passed its gate: ``verify_failures`` are the checks of verify.yml (the
    end-to-end check) that failed, empty when all passed. Returns {state (success or failed), release (this run's
    release marked so, to write; None when the run wrote none or its release is no longer running), summary (one line
    for the history), message (why the run fails and what to do; empty on success)}."""
    failures = [str(failure) for failure in verify_failures or []]
    state = FAILED if failures else SUCCESS
    release = None
    if isinstance(run_release, dict) and run_release.get("state") == RUNNING:
        release = {**run_release, "state": state, **({"verify_failures": failures} if failures else {})}
    summary, marked = fate(run_release, release)
    if not failures:
        return {"state": state, "release": release, "summary": summary, "message": ""}
    return {"state": state, "release": release, "summary": f"{summary}; its end-to-end check failed",
            "message": failure_message(run, failures, marked, (run_release or {}).get("changed") or [])}


def fate(run_release: dict | None, release: dict | None) -> tuple:
    """What becomes of a run's release, decided once: (the history's line, the failure message's sentence).
    ``release`` is the run's release as the run marks it (None when there is none to mark)."""
    if release:
        changed = ", ".join(release.get("changed") or [])
        return (f"This run: release {release['number']} is now {release['state']}",
                f"Release {release['number']} (changed: {changed}) is marked {release['state']}.")
    if run_release:
        return (f"This run: release {run_release.get('number')} stays {run_release.get('state')}",
                f"Release {run_release.get('number')} stays {run_release.get('state')}.")
    return ("This run: changed nothing, no release",
            "This run changed nothing (no release to mark): what was deployed before fails the check.")


def failure_message(run: str, failures: list, marked: str, changed: list) -> str:
    """Why a deploy run whose end-to-end check failed fails, and what to do; ``marked`` says what became of its release
    (fate). That check names no single stage, so nothing is restored automatically (a stage's own gate does that): its
    release is marked failed instead."""
    undo = (f" To undo this run, run playbooks/rollback.yml: it restores what the run changed ({', '.join(changed)})."
            if changed else "")
    return (f"Deploy run {run} failed its end-to-end check (verify): {'; '.join(failures)}. {marked} Nothing was restored "
            "automatically: every stage passed its own gate, and the end-to-end check names no single stage. Run "
            f"playbooks/diagnose.yml to find the broken layer.{undo}")
