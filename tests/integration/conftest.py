# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.testbed import cluster

TESTBED_SH = os.path.join(os.path.dirname(__file__), "..", "testbed", "testbed.sh")


class Testbed:
    """The running local control plane: kubectl against it, and its cluster DNS address."""

    kubeconfig = cluster.KUBECONFIG
    dns = (cluster.DNS_ADDRESS, cluster.DNS_PORT)

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([cluster.binary("kubectl"), "--kubeconfig", self.kubeconfig, *args], input=stdin,
                              capture_output=True, text=True, check=False, timeout=180)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done

    def dig(self, name: str, record: str = "A") -> str:
        return subprocess.run(["dig", f"@{self.dns[0]}", "-p", str(self.dns[1]), "+short", "+time=2", "+tries=1", name, record],
                              capture_output=True, text=True, check=False).stdout.strip()


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
