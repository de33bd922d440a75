# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a configuration file only when its content changes, validated before it replaces the old one."""

from __future__ import annotations

import os
import shutil
import tempfile


class ConfigFileError(Exception):
    pass


def read_text(path: str):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_config(module, dest: str, content: str, validate: str | None = None, keep_previous: bool = False) -> dict:
    """Put ``content`` at ``dest``; return ``changed`` and ``diff``. ``module`` supplies check mode and I/O.

    With ``validate`` (a command with ``%s``) the new text is checked in a temporary file first: a config that fails
    validation never replaces the one in place. With ``keep_previous`` the replaced text is kept at ``dest.previous``,
    the release a rollback restores.
    """
    before = read_text(dest)
    diff = {"before": before or "", "after": content, "before_header": dest, "after_header": dest}
    changed = before != content
    if changed and not module.check_mode:
        _replace(module, dest, content, validate, before if keep_previous else None)
    if os.path.exists(dest):
        file_args = module.load_file_common_arguments(module.params, path=dest)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return {"changed": changed, "diff": diff}


def _replace(module, dest: str, content: str, validate: str | None, previous: str | None) -> None:
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise ConfigFileError(f"Failed to write {dest}: directory {directory} does not exist")
    handle, tmp_path = tempfile.mkstemp(dir=directory, prefix=".aibang-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            tmp.write(content)
        if validate:
            if "%s" not in validate:
                raise ConfigFileError(f"validate must contain %s, got {validate!r}")
            rc, out, err = module.run_command(validate % tmp_path)
            if rc != 0:
                raise ConfigFileError(f"Failed to validate the new {dest} with {validate!r} (rc={rc}): {(err or out).strip()}")
        if previous is not None:
            with open(dest + ".previous", "w", encoding="utf-8") as kept:
                kept.write(previous)
            shutil.copymode(dest, dest + ".previous")
        module.atomic_move(tmp_path, dest, unsafe_writes=False)
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
