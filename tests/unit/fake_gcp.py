# -*- coding: utf-8 -*-
"""The lab's GCP fake (tests/testbed/gcp_fake) served in process, for unit tests of the ``ensure_*`` reconcilers.

``FakeSession`` stands where google-auth's ``AuthorizedSession`` stands in a module: ``GcpClient(FakeSession(...))``.
Each call goes to the same ``FakeGoogle.handle`` the HTTPS front door (server.py) calls, so a unit test meets the
same discovery validation, long-running operations, PSC acceptance and injected faults as the integration tests,
without sockets, TLS or threads. Bodies and query values go through a JSON/str round trip, as on the wire.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.aibang.gke_platform.plugins.module_utils.dns_record import DNS
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_client import GcpClient
from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import global_, regional, without_none
from ansible_collections.aibang.gke_platform.tests.testbed.gcp_fake.discovery import Discovery
from ansible_collections.aibang.gke_platform.tests.testbed.gcp_fake.google import FakeGoogle

# Parsed once, at import: ansible-test runs each unit test in a forked child, which inherits it (about 1 s to load).
DISCOVERY = Discovery()


class FakeResponse:
    """The part of ``requests.Response`` that GcpClient reads."""

    def __init__(self, status: int, payload=None, headers: dict | None = None, text: str | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.text = text if text is not None else ("" if payload is None else json.dumps(payload))
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeSession:
    """A requests-Session-like object whose ``request`` is answered by a ``FakeGoogle``.

    ``scripted`` answers come first, one per call: an exception (a connection reset, a token refresh failure) or a
    FakeResponse (a proxy's HTML page, a Retry-After header): what happens outside Google's API, which the fake
    does not model. ``calls`` records every call as sent: (method, url, body, query).
    """

    def __init__(self, google: FakeGoogle, token: str = "fake-token") -> None:
        self.google = google
        self.token = token
        self.scripted: list = []
        self.calls: list = []

    def request(self, method: str, url: str, json=None, params=None, timeout=None):  # pylint: disable=redefined-outer-name
        self.calls.append((method, url, json, dict(params or {})))
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        query.update({name: str(value) for name, value in (params or {}).items()})
        body = None if json is None else _wire(json)
        status, payload = self.google.handle(method, parts.hostname, parts.path, query, body, self.token)
        return FakeResponse(status, payload)


def _wire(value):
    return json.loads(json.dumps(value))


class FakeGcp:
    """One fresh fake Google Cloud, a client bound to it, and a virtual clock: nothing sleeps for real.

    ``at(seconds, action)`` runs ``action()`` once the virtual clock reaches ``seconds``: what the producer, or
    Google, does while a module waits.
    """

    def __init__(self) -> None:
        self.google = FakeGoogle(DISCOVERY)
        self.session = FakeSession(self.google)
        self.now = 0.0
        self.slept: list = []
        self.events: list = []
        self.client = self.make_client()

    def make_client(self, **settings) -> GcpClient:
        """A GcpClient on this fake's session and clock; ``settings`` override retries, delays, jitter."""
        settings.setdefault("jitter", lambda: 1.0)
        return GcpClient(self.session, sleep=self.sleep, clock=lambda: self.now, **settings)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        due = sorted((event for event in self.events if event[0] <= self.now), key=lambda event: event[0])
        for event in due:
            self.events.remove(event)
            event[1]()

    def at(self, seconds: float, action) -> None:
        self.events.append((seconds, action))

    def run(self, ensure, params: dict, check_mode: bool = False) -> dict:
        """Call a reconciler as gcp_module.run does; the result is JSON-safe, as exit_json needs."""
        return _wire(ensure(self.client, dict(params), check_mode))

    def mutations(self) -> list:
        """Method ids of the successful calls that changed something, in order (``compute.addresses.insert``)."""
        return [item["method"] for item in self.google.requests if item["mutating"] and item["status"] == 200]

    def forget_calls(self) -> None:
        """Start counting afresh: the fake's request log, the session's calls, the sleeps."""
        self.google.requests.clear()
        self.session.calls.clear()
        self.slept.clear()

    def exists(self, path: str) -> bool:
        """Whether the canonical path (``compute:projects/p/regions/r/addresses/a``) holds a resource."""
        return path in self.google.resources

    def fault(self, method: str, **fault) -> None:
        """Inject a fault: ``fault("compute.addresses.insert", status=429, times=2)``; see server.py."""
        self.google.add_fault(dict(fault, method=method))

    def set_psc_status(self, rule_path: str, status: str) -> None:
        """Force a forwarding rule's ``pscConnectionStatus`` (as the producer side would)."""
        self.google.resources[rule_path]["_psc_status"] = status

    def seed(self, url: str, body: dict) -> dict:
        """POST a prerequisite through the API itself (so it passes the same validation), waiting for its operation."""
        answer = self.client.request("POST", url, f"seed {url}", body=body)
        if "operationType" in answer or "done" in answer:
            answer = self.client.wait(answer, f"seed {url}")
        return answer

    # ---------------------------------------------------------------- prerequisites most reconcilers need
    def network(self, project: str, name: str = "vpc") -> str:
        self.seed(global_(project, "networks"), {"name": name, "autoCreateSubnetworks": False})
        return global_(project, "networks", name)

    def subnetwork(self, project: str, region: str, name: str, cidr: str, network: str = "vpc", purpose: str | None = None) -> str:
        body = without_none({"name": name, "network": global_(project, "networks", network), "ipCidrRange": cidr, "purpose": purpose})
        self.seed(regional(project, region, "subnetworks"), body)
        return regional(project, region, "subnetworks", name)

    def internal_load_balancer(self, project: str, region: str, name: str = "ilb") -> str:
        """A producer's internal passthrough load balancer forwarding rule (what a service attachment publishes)."""
        body = {"name": name, "loadBalancingScheme": "INTERNAL", "IPProtocol": "TCP", "ports": ["5432"],
                "network": global_(project, "networks", "vpc"), "subnetwork": regional(project, region, "subnetworks", "ilb"),
                "backendService": regional(project, region, "backendServices", name)}
        self.seed(regional(project, region, "forwardingRules"), body)
        return regional(project, region, "forwardingRules", name)

    def service_attachment(self, project: str, region: str, consumers: list, name: str = "orders") -> str:
        """A published service in ``project`` accepting the ``consumers`` projects (with its network, ILB, NAT subnet)."""
        if not self.exists(f"compute:projects/{project}/regions/{region}/forwardingRules/ilb"):
            self.network(project)
            self.subnetwork(project, region, "ilb", "10.90.0.0/24")
            self.subnetwork(project, region, "psc-nat", "10.99.0.0/28", purpose="PRIVATE_SERVICE_CONNECT")
            self.internal_load_balancer(project, region)
        body = {"name": name, "targetService": regional(project, region, "forwardingRules", "ilb"),
                "connectionPreference": "ACCEPT_MANUAL", "natSubnets": [regional(project, region, "subnetworks", "psc-nat")],
                "consumerAcceptLists": [{"projectIdOrNum": consumer, "connectionLimit": 10} for consumer in consumers]}
        self.seed(regional(project, region, "serviceAttachments"), body)
        return regional(project, region, "serviceAttachments", name)

    def managed_zone(self, project: str, name: str, dns_name: str, labels: dict | None = None) -> None:
        """A private zone; ``labels=with_mark(None)`` for one this collection created, none for one it finds."""
        body = without_none({"name": name, "dnsName": dns_name, "description": "", "visibility": "private", "labels": labels})
        self.seed(f"{DNS}projects/{project}/managedZones", body)

    def service_account(self, project: str, account_id: str) -> str:
        self.seed(f"https://iam.googleapis.com/v1/projects/{project}/serviceAccounts", {"accountId": account_id})
        return f"{account_id}@{project}.iam.gserviceaccount.com"
