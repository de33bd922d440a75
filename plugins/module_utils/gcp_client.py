# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Google Cloud REST client: credentials, retries, long-running operations, paging, readable errors.

No Ansible imports. The HTTP session is injected (``GcpClient(session)``): modules pass a google-auth
``AuthorizedSession``, tests pass a fake. Credentials follow the google.cloud collection's settings and ``GCP_*``
environment variables, so AWX's GCE credential works unchanged.
"""

from __future__ import annotations

import json
import os
import random
import re
import time

try:
    import google.auth
    import google.auth.compute_engine
    import google.auth.exceptions
    import google.oauth2.credentials
    import google.oauth2.service_account
    from google.auth.transport.requests import AuthorizedSession

    HAS_GOOGLE_AUTH = True
    AUTH_ERRORS: tuple = (google.auth.exceptions.GoogleAuthError,)
except ImportError:
    HAS_GOOGLE_AUTH = False
    AUTH_ERRORS = ()

DEFAULT_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
AUTH_KINDS = ("application", "serviceaccount", "accesstoken", "machineaccount")
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_PERMISSION = re.compile(r"[Pp]ermission '?([a-zA-Z]+\.[a-zA-Z]+\.[a-zA-Z.]+)'?")


class GcpError(Exception):
    """A failed Google Cloud call. ``status`` is the HTTP status (0 when no answer came)."""

    def __init__(self, message: str, status: int = 0, reason: str = "", permission: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.permission = permission


def auth_settings(params: dict, environ=None) -> dict:
    """Module options with the google.cloud collection's environment fallbacks (GCP_AUTH_KIND, ...)."""
    environ = os.environ if environ is None else environ
    fallbacks = {
        "auth_kind": "GCP_AUTH_KIND", "service_account_file": "GCP_SERVICE_ACCOUNT_FILE",
        "service_account_contents": "GCP_SERVICE_ACCOUNT_CONTENTS", "access_token": "GCP_ACCESS_TOKEN",
        "scopes": "GCP_SCOPES", "project": "GCP_PROJECT",
    }
    settings = {key: params.get(key) or environ.get(variable) for key, variable in fallbacks.items()}
    settings["auth_kind"] = settings["auth_kind"] or "application"
    if isinstance(settings["scopes"], str):
        settings["scopes"] = [scope.strip() for scope in settings["scopes"].split(",") if scope.strip()]
    settings["scopes"] = list(settings["scopes"] or DEFAULT_SCOPES)
    return settings


def credentials(settings: dict):
    """google-auth credentials for ``settings`` (see auth_settings); no service account key unless asked for."""
    if not HAS_GOOGLE_AUTH:
        raise GcpError("Failed to authenticate: the google-auth and requests Python libraries are required")
    kind = settings["auth_kind"]
    scopes = settings["scopes"]
    if kind == "application":
        try:
            found, _project = google.auth.default(scopes=scopes)
        except AUTH_ERRORS as exc:
            raise GcpError(f"Failed to authenticate with application default credentials: {exc}") from None
        return found
    if kind == "machineaccount":
        return google.auth.compute_engine.Credentials(scopes=scopes)
    if kind == "accesstoken":
        if not settings.get("access_token"):
            raise GcpError("Failed to authenticate: auth_kind accesstoken needs access_token (or GCP_ACCESS_TOKEN)")
        return google.oauth2.credentials.Credentials(settings["access_token"])
    if kind == "serviceaccount":
        return _service_account_credentials(settings, scopes)
    raise GcpError(f"Failed to authenticate: auth_kind {kind!r} is not one of {', '.join(AUTH_KINDS)}")


def _service_account_credentials(settings: dict, scopes: list):
    """Credentials from a key; a key that is not one fails naming where it came from, never echoing its content."""
    service_account = google.oauth2.service_account.Credentials
    contents, path = settings.get("service_account_contents"), settings.get("service_account_file")
    if not contents and not path:
        raise GcpError("Failed to authenticate: auth_kind serviceaccount needs service_account_file or service_account_contents")
    source = "service_account_contents" if contents else f"service_account_file {path}"
    try:
        if contents:
            info = json.loads(contents) if isinstance(contents, str) else contents
            if not isinstance(info, dict):
                raise ValueError(f"a JSON object was expected, got {type(info).__name__}")
            return service_account.from_service_account_info(info, scopes=scopes)
        return service_account.from_service_account_file(path, scopes=scopes)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError) + AUTH_ERRORS as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _first_line(exc)
        raise GcpError(f"Failed to authenticate: {source} is not a usable service account key "
                       f"({type(exc).__name__}: {reason})") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no details"


def authorized_session(settings: dict):
    return AuthorizedSession(credentials(settings))


class GcpClient:
    """JSON over HTTPS to Google APIs, with retries and operation polling. ``sleep`` and ``clock`` are injectable."""

    def __init__(self, session, retries: int = 6, base_delay: float = 0.5, max_delay: float = 30.0,
                 timeout: float = 60.0, sleep=time.sleep, clock=time.monotonic, jitter=random.random):
        self.session = session
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter

    def request(self, method: str, url: str, what: str, body: dict | None = None, params: dict | None = None,
                not_found_ok: bool = False):
        """Send one call; retry 429 and 5xx with full-jitter backoff (honouring Retry-After). None on an allowed 404."""
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(method, url, json=body, params=params, timeout=self.timeout)
            except AUTH_ERRORS as exc:  # e.g. the metadata server or the token endpoint refused a token
                raise GcpError(f"Failed to {what}: could not get an access token: {exc}") from None
            except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
                if attempt == self.retries:
                    raise GcpError(f"Failed to {what}: {exc}") from None
                self.sleep(self._backoff(attempt, None))
                continue
            if response.status_code in RETRIED_STATUSES and attempt < self.retries:
                self.sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code == 404 and not_found_ok:
                return None
            if response.status_code >= 400:
                raise error_from_response(what, response)
            return response.json() if response.content else {}
        raise GcpError(f"Failed to {what}: no answer after {self.retries + 1} attempts")  # not reached

    def operate(self, method: str, url: str, what: str, body: dict | None = None, params: dict | None = None,
                timeout: float = 600.0, poll: float = 2.0, not_found_ok: bool = False):
        """Send a call that starts a long-running operation and wait until it is done; None on an allowed 404."""
        operation = self.request(method, url, what, body=body, params=params, not_found_ok=not_found_ok)
        return None if operation is None else self.wait(operation, what, timeout=timeout, poll=poll)

    def wait(self, operation: dict, what: str, timeout: float = 600.0, poll: float = 2.0) -> dict:
        """Poll an operation until it is done; raise its error if it failed.

        Compute, Cloud SQL Admin and GKE operations carry ``status`` and a ``selfLink``; Service Usage operations
        carry ``done`` and a ``name`` relative to ``https://serviceusage.googleapis.com/v1/``.
        """
        deadline = self.clock() + timeout
        polls = 0
        while not _operation_done(operation):
            if self.clock() >= deadline:
                raise GcpError(f"Failed to {what}: timed out after {timeout:.0f}s waiting for operation "
                               f"{operation.get('name', '?')} (status {operation.get('status', '?')})")
            self.sleep(min(poll, 0.25 * 2 ** polls))  # quick operations finish quickly; long ones poll every `poll`
            polls += 1
            operation = self.request("GET", _operation_url(operation), f"{what} (polling operation {operation.get('name', '?')})")
        details = _operation_error(operation)
        if details:
            raise GcpError(f"Failed to {what}: operation {operation.get('name', '?')} failed: {details}")
        return operation

    def list_all(self, url: str, key: str, what: str, params: dict | None = None) -> list:
        """Every item of a paged list call (``items`` for Compute, other keys elsewhere)."""
        items: list = []
        query = dict(params or {})
        while True:
            page = self.request("GET", url, what, params=query) or {}
            items.extend(page.get(key) or [])
            if not page.get("nextPageToken"):
                return items
            query["pageToken"] = page["nextPageToken"]

    def _backoff(self, attempt: int, retry_after) -> float:
        if retry_after and str(retry_after).isdigit():
            return min(float(retry_after), self.max_delay)
        return self.jitter() * min(self.max_delay, self.base_delay * 2 ** attempt)


def _operation_done(operation: dict) -> bool:
    return operation.get("status") == "DONE" or operation.get("done") is True


def _operation_url(operation: dict) -> str:
    if operation.get("selfLink"):
        return operation["selfLink"]
    return "https://serviceusage.googleapis.com/v1/" + operation["name"]


def _operation_error(operation: dict) -> str:
    """Google's words for a failed operation: Compute/Cloud SQL ``error.errors[]`` or a google.rpc.Status."""
    error = operation.get("error") or {}
    items = error.get("errors") or ([error] if error.get("message") else [])
    return "; ".join(f"{item.get('code', '')}: {item.get('message', '')}".strip(": ") for item in items)


def error_from_response(what: str, response) -> GcpError:
    """'Failed to <what>: <Google's message>', naming the missing permission on 403."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    message = error.get("message") or (response.text or "").strip()[:300] or f"HTTP {response.status_code}"
    reasons = [item.get("reason", "") for item in error.get("errors", []) if isinstance(item, dict)]
    reasons += [detail.get("reason", "") for detail in error.get("details", []) if isinstance(detail, dict)]
    reason = next((item for item in reasons if item), error.get("status", ""))
    permission = _missing_permission(error, message)
    text = f"Failed to {what}: {message}"
    if response.status_code == 403 and permission:
        text += f" (the caller lacks {permission}; grant a role that includes it)"
    return GcpError(text, response.status_code, reason, permission)


def _missing_permission(error: dict, message: str) -> str:
    for detail in error.get("details", []):
        if isinstance(detail, dict):
            permission = (detail.get("metadata") or {}).get("permission")
            if permission:
                return permission
    match = _PERMISSION.search(message)
    return match.group(1) if match else ""
