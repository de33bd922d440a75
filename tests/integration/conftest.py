# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.testbed import cluster

TESTBED_SH = os.path.join(os.path.dirname(__file__), "..", "testbed", "testbed.sh")


class Testbed:
    """The running local control plane: kubectl against it, and its cluster DNS."""

    dig = staticmethod(cluster.dig)

    @staticmethod
    def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = cluster.run_kubectl(*args, stdin=stdin)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done


@pytest.fixture(scope="session")
def testbed():
    started_here = not cluster.running("kube-apiserver")
    if started_here:
        subprocess.run([TESTBED_SH, "up"], check=True)
    yield Testbed()
    if started_here:
        subprocess.run([TESTBED_SH, "down"], check=True)


@pytest.fixture
def namespace(testbed):
    name = f"it-{uuid.uuid4().hex[:8]}"
    testbed.kubectl("create", "namespace", name)
    yield name
    testbed.kubectl("delete", "namespace", name, "--wait=false", check=False)
