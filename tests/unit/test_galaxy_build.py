# -*- coding: utf-8 -*-
"""The built collection tarball holds only what users need: no tests, no lab, no caches, no development toolchain.

The collection is copied with a sample of what a working tree collects (caches, a venv, test output) and built
with ``ansible-galaxy collection build``, as a release would be. A new top-level directory that users need goes
into SHIPPED; anything else goes into galaxy.yml's build_ignore.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = {"MANIFEST.json", "FILES.json", "README.md", "meta", "plugins", "roles", "playbooks", "inventories", "docs",
           "changelogs"}
WORKING_TREE_LITTER = (".hypothesis/examples/x", ".pytest_cache/v/x", ".venv/bin/python", ".cache/x", ".ansible/x",
                       "tests/output/junit/x.xml", "plugins/module_utils/__pycache__/psc.cpython-311.pyc",
                       "roles/squid_vm/.molecule/x", "collections/ansible_collections/x", "aibang-gke_platform-0.0.1.tar.gz")
NEVER = ("tests/", "molecule/", "scripts/", "inventories/local/", "changelogs/fragments/", "Makefile", "requirements.txt",
         "bindep.txt", "galaxy.yml")


@pytest.fixture(scope="module")  # ansible-test forks each test: it builds once per test there
def shipped(tmp_path_factory) -> list:
    source = tmp_path_factory.mktemp("source") / "gke_platform"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(".venv", ".git", "output", ".cache"))
    for litter in WORKING_TREE_LITTER:
        path = source / litter
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("litter\n")
    out = tmp_path_factory.mktemp("out")
    done = subprocess.run([sys.executable, "-m", "ansible.cli.galaxy", "collection", "build", str(source), "--output-path", str(out)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (tarball,) = out.iterdir()
    with tarfile.open(tarball) as archive:
        return archive.getnames()


def test_only_what_users_run_is_shipped(shipped):
    assert {name.split("/", 1)[0] for name in shipped} <= SHIPPED
    for path in ("plugins/modules/psc_endpoint.py", "plugins/module_utils/psc.py", "roles/squid_vm/tasks/main.yml",
                 "playbooks/deploy.yml", "meta/runtime.yml", "README.md"):
        assert path in shipped


def test_no_tests_lab_toolchain_or_caches(shipped):
    unwanted = [name for name in shipped for path in (*WORKING_TREE_LITTER, *NEVER)
                if name == path.rstrip("/") or name.startswith(path if path.endswith("/") else path + "/")]
    assert unwanted == []
