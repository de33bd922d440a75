# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import pytest

from tests.testbed import cluster
from tests.testbed.gcp_fake import server as gcp_fake_server_module

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTBED_SH = os.path.join(os.path.dirname(__file__), "..", "testbed", "testbed.sh")


class Testbed:
    """The running local control plane: kubectl against it, and its cluster DNS."""

    dig = staticmethod(cluster.dig)

    def __init__(self, started_here: bool):
        self.started_here = started_here

    @staticmethod
    def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = cluster.run_kubectl(*args, stdin=stdin)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done


def pytest_collection_modifyitems(items):
    """test_testbed_hygiene takes the testbed down: it runs after every other test, whatever the files are named."""
    items.sort(key=lambda item: item.path.name == "test_testbed_hygiene.py")


@pytest.fixture(scope="session")
def testbed():
    started_here = not cluster.running("kube-apiserver")
    if started_here:
        subprocess.run([TESTBED_SH, "up"], check=True)
    yield Testbed(started_here)
    if started_here:
        subprocess.run([TESTBED_SH, "down"], check=True)


@pytest.fixture
def namespace(testbed):
    name = f"it-{uuid.uuid4().hex[:8]}"
    testbed.kubectl("create", "namespace", name)
    yield name
    testbed.kubectl("delete", "namespace", name, "--wait=false", check=False)


class GcpFake:
    """The GCP fake serving in this process; playbooks reach it through HTTPS_PROXY."""

    def __init__(self, server, state_dir: str):
        self.server = server
        self.google = server.RequestHandlerClass.google
        self.url = "http://%s:%d" % server.server_address
        self.env = {**os.environ, "HTTPS_PROXY": self.url, "https_proxy": self.url, "NO_PROXY": "127.0.0.1,localhost",
                    "REQUESTS_CA_BUNDLE": os.path.join(state_dir, "ca.pem"), "GCP_AUTH_KIND": "accesstoken",
                    "GCP_ACCESS_TOKEN": "fake-token", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                    "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections")}

    def mutations(self) -> list:
        return [item for item in self.google.requests if item["mutating"] and item["status"] == 200]

    def playbook(self, path: str, *extra: str) -> subprocess.CompletedProcess:
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   "-e", f"gcp_fake_url={self.url}", "-e", f"ansible_python_interpreter={sys.executable}", path, *extra]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="session")
def gcp_fake_server(tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp("gcp-fake"))
    server = gcp_fake_server_module.serve("127.0.0.1", 0, state_dir, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield GcpFake(server, state_dir)
    server.shutdown()
    server.server_close()


@pytest.fixture
def gcp_fake(gcp_fake_server):
    gcp_fake_server.google.reset()
    return gcp_fake_server
