# -*- coding: utf-8 -*-
"""A real Prometheus (Debian's) and real Squid exporters on loopback, for the lab. Test infrastructure only.

Prometheus loads the collection's own rule files (roles/monitoring/files/rules) with short scrape and evaluation
intervals, scrapes one prometheus-squid-exporter per Squid tier (job ``aibang-squid``, target label ``tier``, as the
role's scrape objects do), and is read through its own HTTP API. Every process is started here and stopped by PID.

  python -m tests.testbed.prometheus_lab up|down [--run DIR] [--target TIER=HOST:PORT]...
the testbed's Prometheus on 127.0.0.1:19090 (testbed.sh up starts it; down stops it by its pid file in DIR).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RULES_DIR = os.path.join(HERE, "..", "..", "roles", "monitoring", "files", "rules")
PROMETHEUS_LISTEN = "127.0.0.1:19090"
SQUID_JOB = "aibang-squid"


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout}s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop_pid(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        _wait(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout, f"pid {pid} did not stop")
    except ProcessLookupError:
        pass
    except RuntimeError:
        os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


class Process:
    """One daemon started by this object, its pid in a file, stopped by that PID."""

    def __init__(self, name: str, command: list, run_dir: str):
        self.name, self.command = name, command
        self.pid_file = os.path.join(run_dir, f"{name}.pid")
        self.log_file = os.path.join(run_dir, f"{name}.log")
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.pid_file, "w", encoding="utf-8") as handle:
            handle.write(f"{self.process.pid}\n")
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self.process:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        elif os.path.exists(self.pid_file):  # started by another process (the testbed's `up`)
            _stop_pid(int(open(self.pid_file, encoding="utf-8").read()), timeout)
        self.process = None
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)

    def running(self) -> bool:
        try:
            with open(self.pid_file, encoding="utf-8") as handle:
                pid = int(handle.read())
        except (OSError, ValueError):
            return False
        return os.path.exists(f"/proc/{pid}") and not _zombie(pid)

    def tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""


class SquidExporter(Process):
    """Debian's prometheus-squid-exporter reading one Squid's cache manager."""

    def __init__(self, tier: str, squid: tuple, listen: str, run_dir: str, pidfile: str | None = None):
        command = ["prometheus-squid-exporter", "-listen", listen, "-squid-hostname", squid[0], "-squid-port", str(squid[1])]
        if pidfile:
            command += ["-squid-pidfile", pidfile]
        super().__init__(f"squid-exporter-{tier}", command, run_dir)
        self.tier, self.listen = tier, listen

    def start(self) -> SquidExporter:
        super().start()
        _wait(lambda: _answers(f"http://{self.listen}/metrics"), 10, f"the {self.tier} exporter did not answer on {self.listen}")
        return self


def prometheus_config(targets: dict, interval: str, rule_files: list, extra_jobs: list = ()) -> dict:
    """Scrape config: one static target per tier, labelled with it, as the monitoring role's objects label them;
    then ``extra_jobs`` as given (e.g. the role's own scrape jobs for the apps)."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": rule_files,
        "scrape_configs": [{
            "job_name": SQUID_JOB,
            "static_configs": [{"targets": [target], "labels": {"tier": tier}} for tier, target in sorted(targets.items())],
        }, *extra_jobs],
    }


def _label_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def kubernetes_pod_targets(pods: list) -> list:
    """The targets upstream Prometheus's Kubernetes discovery (``role: pod``) gives for these pods, as file_sd groups.

    Debian's prometheus is built without Kubernetes discovery (NEWS.Debian: "Kubernetes support has been completely
    removed"), so the lab reads the pods from the API server and hands Prometheus the same targets and ``__meta_*``
    labels: one target per container port at the pod's IP (one per container without ports), the pod's labels and
    annotations, its namespace, name, IP, node, phase and readiness. A job's relabelling then runs unchanged.
    """
    groups = []
    for pod in pods:
        meta, status = pod["metadata"], pod.get("status", {})
        ready = next((c["status"].lower() for c in status.get("conditions", []) if c["type"] == "Ready"), "unknown")
        owner = next((o for o in meta.get("ownerReferences", []) if o.get("controller")), {})
        labels = {"__meta_kubernetes_namespace": meta["namespace"], "__meta_kubernetes_pod_name": meta["name"],
                  "__meta_kubernetes_pod_ip": status.get("podIP", ""), "__meta_kubernetes_pod_ready": ready,
                  "__meta_kubernetes_pod_phase": status.get("phase", ""),
                  "__meta_kubernetes_pod_node_name": pod["spec"].get("nodeName", ""),
                  "__meta_kubernetes_pod_host_ip": status.get("hostIP", ""), "__meta_kubernetes_pod_uid": meta.get("uid", ""),
                  "__meta_kubernetes_pod_controller_kind": owner.get("kind", ""),
                  "__meta_kubernetes_pod_controller_name": owner.get("name", "")}
        for kind in ("label", "annotation"):
            for key, value in meta.get(f"{kind}s", {}).items():
                labels[f"__meta_kubernetes_pod_{kind}_{_label_name(key)}"] = value
                labels[f"__meta_kubernetes_pod_{kind}present_{_label_name(key)}"] = "true"
        for init, containers in ((False, pod["spec"]["containers"]), (True, pod["spec"].get("initContainers", []))):
            for container in containers:
                common = dict(labels, __meta_kubernetes_pod_container_name=container["name"],
                              __meta_kubernetes_pod_container_image=container.get("image", ""),
                              __meta_kubernetes_pod_container_init=str(init).lower())
                if not container.get("ports"):
                    groups.append({"targets": [labels["__meta_kubernetes_pod_ip"]], "labels": common})
                for port in container.get("ports", []):
                    groups.append({"targets": [f"{labels['__meta_kubernetes_pod_ip']}:{port['containerPort']}"],
                                   "labels": dict(common, __meta_kubernetes_pod_container_port_name=port.get("name", ""),
                                                  __meta_kubernetes_pod_container_port_number=str(port["containerPort"]),
                                                  __meta_kubernetes_pod_container_port_protocol=port.get("protocol", "TCP"))})
    return groups


class Prometheus(Process):
    """Debian's prometheus with the collection's rule files, listening on loopback, data in the run directory."""

    def __init__(self, run_dir: str, targets: dict, interval: str = "1s", listen: str = PROMETHEUS_LISTEN,
                 extra_jobs: list = ()):
        self.listen, self.targets, self.interval, self.extra_jobs = listen, targets, interval, list(extra_jobs)
        self.home = os.path.join(run_dir, "prometheus")
        self.config_path = os.path.join(self.home, "prometheus.yml")
        command = ["prometheus", f"--config.file={self.config_path}", f"--storage.tsdb.path={os.path.join(self.home, 'data')}",
                   f"--web.listen-address={listen}", "--storage.tsdb.retention.time=1d", "--log.level=warn"]
        super().__init__("prometheus", command, run_dir)

    def start(self) -> Prometheus:
        rules_dir = os.path.join(self.home, "rules")
        os.makedirs(rules_dir, exist_ok=True)
        rule_files = [shutil.copy(path, rules_dir) for path in sorted(glob.glob(os.path.join(RULES_DIR, "*.rules.yml")))]
        with open(self.config_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(prometheus_config(self.targets, self.interval, rule_files, self.extra_jobs), handle)
        super().start()
        try:
            _wait(lambda: _answers(f"http://{self.listen}/-/ready"), 30, f"Prometheus was not ready on {self.listen}")
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}: {self.tail()}") from None
        return self

    def api(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://{self.listen}/api/v1/{path}", timeout=5) as response:
            return json.load(response)["data"]

    def alerts(self) -> list:
        """Active alerts as Prometheus reports them: labels, annotations, state (pending|firing), activeAt."""
        return self.api("alerts")["alerts"]

    def alert_state(self, name: str, **labels: str) -> str:
        """firing, pending, or inactive: the state of the named alert whose labels include these."""
        states = {alert["state"] for alert in self.alerts()
                  if alert["labels"].get("alertname") == name and all(alert["labels"].get(k) == v for k, v in labels.items())}
        return "firing" if "firing" in states else "pending" if "pending" in states else "inactive"

    def wait_for_alert(self, state: str, name: str, timeout: float, **labels: str) -> float:
        """Wait until the alert reaches ``state``; return the seconds it took."""
        started = time.monotonic()
        _wait(lambda: self.alert_state(name, **labels) == state, timeout, f"{name} {labels} did not become {state}")
        return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--run", default=os.environ.get("TESTBED_RUN", "/run/aibang-testbed"))
    parser.add_argument("--target", action="append", default=[], metavar="TIER=HOST:PORT", help="an exporter to scrape")
    args = parser.parse_args()
    os.makedirs(args.run, exist_ok=True)
    prometheus = Prometheus(args.run, targets=dict(target.split("=", 1) for target in args.target))
    if args.action == "up":
        if prometheus.running():
            return
        prometheus.start()
        print(f"prometheus_lab: Prometheus on http://{prometheus.listen} (rules: {RULES_DIR})")
    else:
        prometheus.stop()


if __name__ == "__main__":
    main()
