# -*- coding: utf-8 -*-
"""The testbed's sample app (image `app`): what app_workload deploys when no real app is at hand. Test infrastructure.

  GET /health    200 while the process serves (liveness)
  GET /ready     200 when the database answers `SELECT 1` over TLS with DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD
                 (through the MariaDB client in the image; DB_SSL_CA, when set, also verifies the server's
                 certificate) and, where REDIS_HOST is set, Redis answers PING after AUTH with REDIS_PASSWORD;
                 else 503. The body says what each answered.
  GET /metrics   Prometheus text: requests by path and code
  GET /egress?url=https://...   fetches the URL through HTTPS_PROXY (urllib honours it) and reports the status
Listens on PORT (default 8080). Python standard library only.
"""

from __future__ import annotations

import collections
import http.server
import json
import os
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

REQUESTS: collections.Counter = collections.Counter()


def database_check() -> tuple[bool, str]:
    settings = {key: os.environ.get(key, "") for key in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSL_CA")}
    if not settings["DB_HOST"]:
        return False, "DB_HOST is not set"
    tls = ["--ssl", f"--ssl-ca={settings['DB_SSL_CA']}", "--ssl-verify-server-cert"] if settings["DB_SSL_CA"] else ["--ssl"]
    command = ["mariadb", "--connect-timeout=3", *tls, "-h", settings["DB_HOST"], "-P", settings["DB_PORT"] or "3306",
               "-u", settings["DB_USER"] or "app", "-N", "-e", "SELECT 1", settings["DB_NAME"]]
    environment = {**os.environ, "MYSQL_PWD": settings["DB_PASSWORD"]}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, env=environment, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stdout or done.stderr).strip()


def redis_check() -> tuple[bool, str]:
    """AUTH (when REDIS_PASSWORD is set) and PING over Redis's protocol; (True, 'PONG') when it answers."""
    host, port, password = os.environ.get("REDIS_HOST", ""), os.environ.get("REDIS_PORT", "6379"), os.environ.get("REDIS_PASSWORD", "")
    commands = ([["AUTH", password]] if password else []) + [["PING"]]
    request = "".join(f"*{len(words)}\r\n" + "".join(f"${len(word.encode())}\r\n{word}\r\n" for word in words) for words in commands)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as connection:
            connection.sendall(request.encode())
            reply = connection.makefile("rb")
            answers = [reply.readline().decode(errors="replace").strip() for _command in commands]
    except (OSError, ValueError) as exc:
        return False, str(exc)
    return answers[-1] == "+PONG", " ".join(answers)


def readiness() -> tuple[bool, dict]:
    database_ok, database = database_check()
    body = {"database": database}
    ready = database_ok
    if os.environ.get("REDIS_HOST"):
        redis_ok, body["redis"] = redis_check()
        ready = ready and redis_ok
    return ready, {"ready": ready, **body}


def egress(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return 200, {"url": url, "status": answer.status, "proxy": os.environ.get("HTTPS_PROXY", "")}
    except urllib.error.HTTPError as exc:
        return 502, {"url": url, "status": exc.code, "proxy": os.environ.get("HTTPS_PROXY", "")}
    except (urllib.error.URLError, OSError) as exc:
        return 502, {"url": url, "error": str(exc), "proxy": os.environ.get("HTTPS_PROXY", "")}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        parsed = urllib.parse.urlparse(self.path)
        if parsed.path == "/health":
            code, body = 200, {"status": "ok"}
        elif parsed.path == "/ready":
            ready, body = readiness()
            code = 200 if ready else 503
        elif parsed.path == "/metrics":
            self.reply(200, metrics(), "text/plain; version=0.0.4")
            return
        elif parsed.path == "/egress":
            code, body = egress(urllib.parse.parse_qs(parsed.query).get("url", [""])[0])
        else:
            code, body = 404, {"error": f"no such path: {parsed.path}"}
        self.reply(code, json.dumps(body) + "\n", "application/json")

    def reply(self, code: int, text: str, content_type: str) -> None:
        REQUESTS[(urllib.parse.urlparse(self.path).path, code)] += 1
        payload = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def metrics() -> str:
    lines = ["# HELP app_requests_total Requests served, by path and status code.", "# TYPE app_requests_total counter"]
    lines += [f'app_requests_total{{path="{path}",code="{code}"}} {count}' for (path, code), count in sorted(REQUESTS.items())]
    return "\n".join(lines) + "\n"


def main() -> None:
    server = http.server.ThreadingHTTPServer(("", int(os.environ.get("PORT", "8080"))), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
