# -*- coding: utf-8 -*-
"""Cloud SQL's stand-in behind the PSC endpoint: a real MySQL-protocol server (Debian's MariaDB). Test infrastructure.

  python -m tests.testbed.cloudsql_lab up     for each PSC endpoint the GCP fake holds (a forwarding rule to the
                                              service attachment of a Cloud SQL instance): MariaDB listening on the
                                              endpoint's address (put on the aibang-vm bridge, so pods reach it
                                              through their node) at 3306, TLS required (a certificate of the lab's
                                              CA for the address and the instance's DNS name), with the databases
                                              and users the product created through the API, passwords included
  python -m tests.testbed.cloudsql_lab down   stop them by PID and remove their data (testbed.sh down does too)
Run it after the deploy's Google Cloud stage made the endpoint; again after a change (users, databases) to apply it.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.testbed import cluster, node

FAKE = "http://127.0.0.1:18443"
PORT = 3306
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def fake_resources() -> dict:
    with urllib.request.urlopen(f"{FAKE}/_fake/resources", timeout=10) as answer:
        return json.load(answer)


def endpoints(resources: dict) -> list:
    """[{instance, address, dns_name, databases, users}] for every PSC forwarding rule to a Cloud SQL instance."""
    found = []
    for rule in resources.values():
        target = rule.get("target", "")
        if "/serviceAttachments/" not in target or not rule.get("IPAddress"):
            continue
        for key, instance in resources.items():
            link = instance.get("pscServiceAttachmentLink", "")
            if key.startswith("sqladmin:") and link and target.endswith(link):
                prefix = key + "/"
                found.append({
                    "instance": instance["name"], "address": rule["IPAddress"], "dns_name": instance.get("dnsName", "").rstrip("."),
                    "databases": sorted(item["name"] for path, item in resources.items() if path.startswith(prefix + "databases/")),
                    "users": sorted(((item["name"], item.get("host", "%"), item.get("password", ""))
                                     for path, item in resources.items() if path.startswith(prefix + "users/"))),
                })
    return found


def workdir(instance: str) -> str:
    return os.path.join(cluster.RUN, "cloudsql", instance)


def certificate(folder: str, address: str, dns_name: str) -> None:
    """A server certificate from the lab's CA (testbed.sh made it) for the endpoint's address and DNS name."""
    with open(os.path.join(cluster.RUN, "ca-key.pem"), "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    with open(os.path.join(cluster.RUN, "ca.pem"), "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.IPAddress(ipaddress.ip_address(address))] + ([x509.DNSName(dns_name)] if dns_name else [])
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name or address)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(folder, "server-key.pem"), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    with open(os.path.join(folder, "server.pem"), "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def statements(endpoint: dict) -> str:
    lines = []
    for database in endpoint["databases"]:
        if not NAME.match(database):
            raise cluster.TestbedError(f"database name {database!r} is not one the lab can create")
        lines.append(f"CREATE DATABASE IF NOT EXISTS `{database}`;")
    for user, host, password in endpoint["users"]:
        if not NAME.match(user) or not re.match(r"^[A-Za-z0-9.%_-]{1,60}$", host):
            raise cluster.TestbedError(f"user {user!r}@{host!r} is not one the lab can create")
        account = f"{sql_string(user)}@{sql_string(host)}"
        lines += [f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {sql_string(password)} REQUIRE SSL;",
                  f"ALTER USER {account} IDENTIFIED BY {sql_string(password)} REQUIRE SSL;"]
        lines += [f"GRANT ALL PRIVILEGES ON `{database}`.* TO {account};" for database in endpoint["databases"]]
    return "\n".join(lines) + "\n"


def client(folder: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mariadb", "--no-defaults", "--socket", os.path.join(folder, "mysqld.sock"), "--user=root", "--batch"],
                          input=sql, capture_output=True, text=True, check=False, timeout=30)


def start(endpoint: dict) -> None:
    folder = workdir(endpoint["instance"])
    name = f"cloudsql-{endpoint['instance']}"
    if not cluster.running(name):
        if not os.path.isdir(os.path.join(folder, "data", "mysql")):
            os.makedirs(folder, exist_ok=True)
            node.sh("mariadb-install-db", "--no-defaults", f"--datadir={folder}/data", "--user=root", "--skip-test-db",
                    "--auth-root-authentication-method=socket")
        certificate(folder, endpoint["address"], endpoint["dns_name"])
        node.outside_address(endpoint["address"])
        cluster.start(name, [
            "mariadbd", "--no-defaults", "--user=root", f"--datadir={folder}/data", f"--socket={folder}/mysqld.sock",
            f"--pid-file={folder}/mariadbd.pid", f"--bind-address={endpoint['address']}", f"--port={PORT}", "--skip-name-resolve",
            f"--ssl-ca={cluster.RUN}/ca.pem", f"--ssl-cert={folder}/server.pem", f"--ssl-key={folder}/server-key.pem",
            "--require-secure-transport=ON", "--innodb-buffer-pool-size=32M", "--performance-schema=OFF",
        ])
    cluster.wait_for(name, lambda: client(folder, "SELECT 1;").returncode == 0, timeout=60)
    done = client(folder, statements(endpoint))
    if done.returncode != 0:
        raise cluster.TestbedError(f"{name}: creating the databases and users failed: {done.stderr.strip()}")
    print(f"testbed: Cloud SQL stand-in for {endpoint['instance']} (MariaDB) on {endpoint['address']}:{PORT}, TLS required; "
          f"databases {', '.join(endpoint['databases']) or '-'}; users {', '.join(user for user, _h, _p in endpoint['users']) or '-'}")


def up() -> None:
    found = endpoints(fake_resources())
    if not found:
        raise cluster.TestbedError("the GCP fake holds no PSC endpoint to a Cloud SQL instance: deploy the gcp stage first")
    for endpoint in found:
        start(endpoint)


def down() -> None:
    base = os.path.join(cluster.RUN, "cloudsql")
    for instance in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        cluster.stop(f"cloudsql-{instance}")
    subprocess.run(["rm", "-rf", "--one-file-system", base], check=False)


def main() -> int:
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        if action == "up":
            up()
        elif action == "down":
            down()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (cluster.TestbedError, OSError) as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
