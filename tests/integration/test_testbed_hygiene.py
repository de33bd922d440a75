# -*- coding: utf-8 -*-
"""`make testbed-down` leaves the machine as it found it: processes, mounts (also /run/netns, which the first
`ip netns add` bind-mounts), network namespaces, cgroups, links, routes, iptables chains, directories and the kernel
settings the kubelet changes, with every real node (tests/testbed/node.py). Runs last, as conftest orders it: it takes
the testbed down and up again."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.testbed import cluster, host_state, node

TESTBED_SH = os.path.join(os.path.dirname(__file__), "..", "testbed", "testbed.sh")


def run_testbed_sh(action: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([TESTBED_SH, action], capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        raise AssertionError(f"testbed.sh {action} failed:\n{done.stdout}\n{done.stderr}")
    return done


def pids() -> dict:
    found = {}
    for name in sorted(os.listdir(cluster.RUN)):
        if name.endswith(".pid"):
            with open(os.path.join(cluster.RUN, name), encoding="utf-8") as handle:
                found[name] = handle.read().strip()
    return found


@pytest.fixture
def stopped_testbed(request):
    """The testbed stopped, when this session started it; the check needs the machine as it was before `up`."""
    if cluster.running("kube-apiserver"):
        if not request.getfixturevalue("testbed").started_here:
            pytest.skip("the testbed was started outside this test session: not taking it down")
        run_testbed_sh("down")
    yield
    run_testbed_sh("down", check=False)


def test_up_twice_then_down_restores_the_host(stopped_testbed):
    before = host_state.footprint(cluster.RUN)
    run_testbed_sh("up")
    during = host_state.footprint(cluster.RUN)
    assert during["sysctls"]["net.ipv4.ip_forward"] == "1" and "aibang0" in during["links"] and during["iptables"], \
        "the check would see nothing: the node changed nothing on the host"
    assert "aibang-internet" in during["namespaces"] and host_state.NETNS_DIR in during["mounts"], during["mounts"]
    kubelets = [line for line in during["processes"] if line.endswith(" kubelet")]
    assert len(kubelets) == len(node.NODES) > 1, during["processes"]  # the footprint sees every real node's processes
    assert not before["processes"] and not before["namespaces"], before
    # the metadata server's stand-in: its process and the pods' DNAT to it, which `down` must take away too
    first = pids()
    assert any(line.split()[0] == first.get("metadata-server.pid") for line in during["processes"]), (first, during["processes"])
    assert any(f"-A {node.METADATA_CHAIN} " in line and "--to-destination" in line
               for table, lines in during["iptables"].items() if table.endswith("/nat") for line in lines), during["iptables"]
    run_testbed_sh("up")
    assert pids() == first, "a second up restarted something"
    down = run_testbed_sh("down")
    after = host_state.footprint(cluster.RUN)
    print(down.stdout)
    assert after == before, json.dumps({"before": before, "after": after}, indent=1)
    assert not os.path.exists(cluster.RUN)


def test_down_after_a_failed_up_restores_the_host(stopped_testbed):
    before = host_state.footprint(cluster.RUN)
    # The kubelet exits at once on an unknown flag, after the network, the control plane and containerd started.
    failed = run_testbed_sh("up", check=False, env={"TESTBED_KUBELET_ARGS": "--no-such-flag"})
    assert failed.returncode != 0 and re.search(r"kubelet(-\d+)? exited", failed.stderr), failed.stderr
    run_testbed_sh("down")
    assert host_state.footprint(cluster.RUN) == before
