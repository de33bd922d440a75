# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.config_file import ConfigFileError, read_text, write_config


class FakeModule:
    """What write_config needs from AnsibleModule: check mode, run_command, atomic_move, file attributes."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.params = {}
        self.commands = []

    def run_command(self, command):
        self.commands.append(command)
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    def atomic_move(self, src, dest, unsafe_writes=False):
        shutil.move(src, dest)

    def load_file_common_arguments(self, params, path=None):
        return {"path": path}

    def set_fs_attributes_if_different(self, file_args, changed):
        return changed


def test_writes_new_file_then_reports_no_change(tmp_path):
    dest = str(tmp_path / "squid.conf")
    first = write_config(FakeModule(), dest, "a\n")
    assert first["changed"] and first["diff"]["before"] == "" and first["diff"]["after"] == "a\n"
    assert read_text(dest) == "a\n"
    assert write_config(FakeModule(), dest, "a\n")["changed"] is False


def test_check_mode_reports_change_and_writes_nothing(tmp_path):
    dest = tmp_path / "squid.conf"
    dest.write_text("old\n")
    result = write_config(FakeModule(check_mode=True), str(dest), "new\n")
    assert result["changed"] and result["diff"]["before"] == "old\n"
    assert dest.read_text() == "old\n"


def test_failed_validation_keeps_the_old_file(tmp_path):
    dest = tmp_path / "squid.conf"
    dest.write_text("good\n")
    with pytest.raises(ConfigFileError, match="Failed to validate"):
        write_config(FakeModule(), str(dest), "bad\n", validate="grep -q good %s")
    assert dest.read_text() == "good\n"
    assert os.listdir(tmp_path) == ["squid.conf"]


def test_validation_sees_the_new_content(tmp_path):
    dest = tmp_path / "squid.conf"
    module = FakeModule()
    write_config(module, str(dest), "good\n", validate="grep -q good %s")
    assert dest.read_text() == "good\n"
    assert module.commands[0].startswith("grep -q good ") and str(tmp_path) in module.commands[0]


def test_validate_needs_a_placeholder(tmp_path):
    with pytest.raises(ConfigFileError, match="%s"):
        write_config(FakeModule(), str(tmp_path / "x"), "a", validate="true")


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigFileError, match="does not exist"):
        write_config(FakeModule(), str(tmp_path / "nope" / "x.conf"), "a")


def test_keep_previous_keeps_the_replaced_release(tmp_path):
    dest = tmp_path / "squid.conf"
    dest.write_text("release 1\n")
    write_config(FakeModule(), str(dest), "release 2\n", keep_previous=True)
    assert dest.read_text() == "release 2\n"
    assert (tmp_path / "squid.conf.previous").read_text() == "release 1\n"
    write_config(FakeModule(), str(dest), "release 2\n", keep_previous=True)
    assert (tmp_path / "squid.conf.previous").read_text() == "release 1\n"


def test_keep_previous_with_nothing_before_keeps_nothing(tmp_path):
    write_config(FakeModule(), str(tmp_path / "squid.conf"), "release 1\n", keep_previous=True)
    assert not (tmp_path / "squid.conf.previous").exists()
