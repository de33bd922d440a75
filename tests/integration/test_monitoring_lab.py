# -*- coding: utf-8 -*-
"""A real Prometheus with the collection's rule files, scraping real Squid exporters of both real tiers.

Tier 2 is stopped while an app keeps sending allowed requests through tier 1: AibangEgressTier2Unreachable must go
to firing in Prometheus's own API, and resolve after tier 2 is back. The timings are printed and recorded as
test properties (docs/monitoring.md quotes them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from tests.testbed.prometheus_lab import Prometheus, SquidExporter
from tests.testbed.squid_lab import PROXY_PORT, TIER1_ADDRESS, TIER2_ADDRESS, InternetTarget, SquidLab, send_through

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("squid", "prometheus", "prometheus-squid-exporter")),
    reason="squid, prometheus and prometheus-squid-exporter are installed by make setup (bindep.txt)",
)

ALLOWED = "login.microsoftonline.com"
APP_CLIENT = "127.0.0.17"
POLICY = {
    "name": "monitoring",
    "allowed_domains": [ALLOWED],
    "gke": {"client_cidrs": ["127.0.0.16/28"]},
    "vm": {"address": TIER2_ADDRESS, "client_cidrs": ["127.0.0.13/32"]},
}
PROMETHEUS_LISTEN = "127.0.0.1:19091"  # the testbed's own Prometheus may be on 19090
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIAGNOSE_PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "monitoring_diagnose.yml")
EXPORTERS = {"gke": ((TIER1_ADDRESS, PROXY_PORT), "127.0.0.1:19301"), "vm": ((TIER2_ADDRESS, PROXY_PORT), "127.0.0.1:19302")}
# Bounds, not sleeps: the rule's 2-minute rate window and `for: 1m`, evaluated every second, need about 2 minutes.
FIRING_BOUND = 240
RESOLVED_BOUND = 240


class AppTraffic:
    """An app sending one allowed CONNECT through tier 1 every 100 ms, until stopped; counts the answers."""

    def __init__(self):
        self.answers: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = send_through((TIER1_ADDRESS, PROXY_PORT), APP_CLIENT, ALLOWED, 443, timeout=5)
            except OSError:
                status = "connection error"
            self.answers[status] = self.answers.get(status, 0) + 1
            self._stop.wait(0.1)

    def __enter__(self) -> AppTraffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def monitored_chain(tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("prometheus-lab"))
    os.chmod(run_dir, 0o755)
    target = InternetTarget().start()  # the lab's internet namespace: the guard denies loopback targets
    started = []
    try:
        with SquidLab([ALLOWED]) as lab, lab.chain(POLICY) as (tier1, tier2):
            for tier, (squid, listen) in EXPORTERS.items():
                started.append(SquidExporter(tier, squid, listen, run_dir).start())
            prometheus = Prometheus(run_dir, {tier: listen for tier, (_squid, listen) in EXPORTERS.items()},
                                    listen=PROMETHEUS_LISTEN).start()
            started.append(prometheus)
            yield prometheus, tier1, tier2
    finally:
        for process in reversed(started):
            process.stop()
        target.stop()


def squid_up(prometheus: Prometheus) -> dict:
    return {sample["metric"]["tier"]: sample["value"][1]
            for sample in prometheus.api("query?query=squid_up%7Bjob%3D%22aibang-squid%22%7D")["result"]}


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.5)


def diagnose(prometheus: Prometheus, out: str) -> dict:
    """playbooks/diagnose.yml's `alerts` layer, from the monitoring role's diagnose entry point."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), DIAGNOSE_PLAYBOOK,
                           "-e", f"monitoring_prometheus_url=http://{prometheus.listen}", "-e", f"out={out}"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out, encoding="utf-8") as handle:
        return json.load(handle)[0]


def test_tier2_unreachable_fires_and_resolves(monitored_chain, record_property, tmp_path):
    prometheus, _tier1, tier2 = monitored_chain
    wait_until(lambda: squid_up(prometheus) == {"gke": "1", "vm": "1"}, 60, "both exporters read their Squid")
    with AppTraffic() as traffic:
        wait_until(lambda: traffic.answers.get(200, 0) >= 20, 30, "the app's requests pass the chain")
        assert prometheus.alert_state("AibangEgressTier2Unreachable") == "inactive"

        tier2.stop()
        firing_after = prometheus.wait_for_alert("firing", "AibangEgressTier2Unreachable", FIRING_BOUND, tier="gke")
        assert prometheus.alert_state("AibangSquidDown", tier="vm") in ("pending", "firing")
        assert prometheus.alert_state("AibangSquidDown", tier="gke") == "inactive"
        layer = diagnose(prometheus, str(tmp_path / "diagnosis.json"))
        assert not layer["ok"] and "AibangEgressTier2Unreachable" in layer["detail"], layer

        tier2.start()
        resolved_after = prometheus.wait_for_alert("inactive", "AibangEgressTier2Unreachable", RESOLVED_BOUND, tier="gke")
        wait_until(lambda: traffic.answers.get(200, 0) > 0 and squid_up(prometheus).get("vm") == "1", 30, "tier 2 is back")
    record_property("tier2_unreachable_firing_seconds", round(firing_after, 1))
    record_property("tier2_unreachable_resolved_seconds", round(resolved_after, 1))
    print(f"\nAibangEgressTier2Unreachable: firing {firing_after:.1f}s after tier 2 stopped, "
          f"resolved {resolved_after:.1f}s after it restarted; app answers {traffic.answers}")
