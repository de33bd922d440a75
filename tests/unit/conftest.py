# -*- coding: utf-8 -*-
from __future__ import annotations

import json
import pathlib
import sys

import pytest

from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# Role templates name this collection's filters by FQCN: under plain pytest (ansible-test installs its own) the
# collection loader goes in before anything of the collection is imported, on the sys.path root that holds it.
if AnsibleCollectionConfig.collection_finder is None:
    _ROOTS = [entry for entry in sys.path if (pathlib.Path(entry) / "ansible_collections" / "aibang" / "gke_platform").is_dir()]
    _AnsibleCollectionFinder(paths=_ROOTS)._install()

from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.aibang.gke_platform.plugins.module_utils import gcp_module
from ansible_collections.aibang.gke_platform.tests.unit.fake_gcp import FakeGcp


@pytest.fixture
def gcp() -> FakeGcp:
    """A fresh in-process GCP fake (the lab's, discovery-validated) and a GcpClient bound to it: tests/unit/fake_gcp.py."""
    return FakeGcp()


@pytest.fixture
def gcp_modules(gcp, monkeypatch) -> FakeGcp:
    """The GCP modules' main() (through run_module) reach the ``gcp`` fake, on its virtual clock, instead of Google."""
    monkeypatch.setattr(gcp_module, "GcpClient", lambda session: gcp.client)
    monkeypatch.setattr(gcp_module, "authorized_session", lambda settings: gcp.session)
    return gcp


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Run a module's main() with the given arguments; return its JSON result (``failed`` set on fail_json)."""
    # With controller code loaded in this process, warn() would print instead of returning warnings as on a host.
    monkeypatch.setattr(_internal, "is_controller", False)

    def run(module, args: dict) -> dict:
        # a module process starts with no warnings; in this process they would pile up from one run to the next
        monkeypatch.setattr(warnings, "_global_warnings", {})
        monkeypatch.setattr(warnings, "_global_deprecations", {})
        with patch_module_args(args), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    return run
