# -*- coding: utf-8 -*-
"""Two-tier chain vs direct on loopback with a TLS target (nginx), driven by hey: ratios measured in the same run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

from tests.testbed.squid_lab import PROXY_PORT, TARGET_ADDRESS, TIER1_ADDRESS, SquidLab

TARGET_NAME = "login.microsoftonline.com"
SECONDS = 4
CONNECTIONS = 10
RATIO_TARGET = 0.6
POLICY = {
    "name": "bench",
    "allowed_domains": [TARGET_NAME],
    "gke": {"client_cidrs": ["127.0.0.0/8"]},
    "vm": {"address": "placeholder", "client_cidrs": ["127.0.0.0/8"]},
}
NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen {address}:443 ssl;
        ssl_certificate {work}/target.pem;
        ssl_certificate_key {work}/target-key.pem;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def hey(url: str, keepalive: bool, proxy: str | None = None) -> float:
    command = ["hey", "-z", f"{SECONDS}s", "-c", str(CONNECTIONS)]
    if not keepalive:
        command.append("-disable-keepalive")
    if proxy:
        command += ["-x", proxy]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True, timeout=SECONDS + 60).stdout
    errors = re.search(r"Error distribution:(.*)", output, re.S)
    if errors and errors.group(1).strip():
        raise RuntimeError(f"hey saw errors for {url}: {errors.group(1).strip()[:500]}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))


def start_nginx(work: str) -> subprocess.Popen:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", f"/CN={TARGET_NAME}", "-addext", f"subjectAltName=DNS:{TARGET_NAME}",
                    "-keyout", f"{work}/target-key.pem", "-out", f"{work}/target.pem"], check=True, capture_output=True)
    with open(f"{work}/nginx.conf", "w", encoding="utf-8") as handle:
        handle.write(NGINX_CONF.format(work=work, address=TARGET_ADDRESS))
    process = subprocess.Popen(["nginx", "-c", f"{work}/nginx.conf", "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    for _attempt in range(100):
        if subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://{TARGET_ADDRESS}/"], check=False).returncode == 0:
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nginx did not answer on {TARGET_ADDRESS}:443 (log {work}/nginx-error.log)")


def measure(lab: SquidLab, env: dict | None = None) -> dict:
    proxy = f"http://{TIER1_ADDRESS}:{PROXY_PORT}"
    results = {}
    with lab.chain(POLICY, env=env):
        for mode, keepalive in (("new CONNECT per request", False), ("keep-alive tunnel", True)):
            direct = hey(f"https://{TARGET_ADDRESS}/", keepalive)
            chained = hey(f"https://{TARGET_NAME}/", keepalive, proxy)
            results[mode] = (direct, chained)
    return results


def run() -> bool:
    for tool in ("hey", "nginx", "squid", "openssl", "curl"):
        if shutil.which(tool) is None:
            print(f"skipped: {tool} is not installed (make setup installs it)")
            return False
    work = tempfile.mkdtemp(prefix="aibang-bench-")
    os.chmod(work, 0o755)
    nginx = start_nginx(work)
    ok = True
    try:
        with SquidLab([TARGET_NAME]) as lab:
            for mode, (direct, chained) in measure(lab).items():
                ratio = chained / direct
                ok &= ratio >= RATIO_TARGET
                print(f"chain, {mode}: {chained:,.0f} req/s vs direct {direct:,.0f} req/s = {ratio:.2f}x "
                      f"(target >= {RATIO_TARGET}x) {'OK' if ratio >= RATIO_TARGET else 'BELOW'}")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return ok
