# -*- coding: utf-8 -*-
"""Every GCP module through the GCP fake: check mode, apply, idempotence, absent, faults (one playbook each)."""

from __future__ import annotations

import glob
import os

import pytest

PLAYBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "gcp", "*.yml")))


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[os.path.basename(path)[:-4] for path in PLAYBOOKS])
def test_module_playbook(gcp_fake, playbook):
    done = gcp_fake.playbook(playbook)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "S3cret-never-logged" not in done.stdout + done.stderr
