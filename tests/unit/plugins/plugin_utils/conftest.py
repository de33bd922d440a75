# -*- coding: utf-8 -*-
"""Action plugins run in the controller: this fixture (controller code) stays out of the modules' unit test group."""
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.tests.unit.action_task import make_action


@pytest.fixture
def action_of():
    return make_action
