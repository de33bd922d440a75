# -*- coding: utf-8 -*-
"""The fake's state and behaviour: resources, long-running operations, PSC acceptance, IAM policies, faults.

Resources live in one dict keyed by canonical path (``compute:projects/p/regions/r/addresses/a``), whatever API
version or host the client used. Standard verbs (insert/create, get, list, patch/update, delete) are generic;
what Google does beyond storing (PSC connection status, Cloud SQL's service attachment, IAM etags) is in hooks.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import itertools
import threading
import time
import traceback
import uuid

from .discovery import Call, Discovery, RequestInvalid

COMPUTE = "https://www.googleapis.com/compute/v1/"
OPERATION_STEPS = ("PENDING", "RUNNING", "DONE")
MUTATING_VERBS = {"insert", "create", "delete", "patch", "update", "setIamPolicy", "enable", "disable", "batchEnable",
                  "setLabels", "setNodePoolSize", "setTags", "setMetadata", "setPrivateIpGoogleAccess", "expandIpCidrRange"}


class GoogleError(Exception):
    def __init__(self, status: int, message: str, reason: str = "", details: list | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details or []

    def body(self) -> dict:
        codes = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 409: "ABORTED", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}
        reason = self.reason or codes.get(self.status, "").lower()
        return {"error": {"code": self.status, "message": self.message, "status": codes.get(self.status, "UNKNOWN"),
                          "errors": [{"message": self.message, "domain": "global", "reason": reason}],
                          "details": self.details}}


def project_number(project: str) -> str:
    if project.isdigit():
        return project
    return str(100000000000 + int(hashlib.sha256(project.encode()).hexdigest()[:10], 16) % 900000000000)


def _last(url: str) -> str:
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def _project_of(url: str) -> str:
    parts = (url or "").split("/")
    return parts[parts.index("projects") + 1] if "projects" in parts else ""


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _etag(value) -> str:
    return base64.b64encode(hashlib.sha256(repr(value).encode()).digest()[:8]).decode()


class FakeGoogle:
    """One fake Google Cloud. Thread-safe: the server calls ``handle`` from many threads."""

    def __init__(self, discovery: Discovery | None = None):
        self.discovery = discovery or Discovery()
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.RLock()):
            self.resources: dict[str, dict] = {}
            self.operations: dict[str, dict] = {}
            self.policies: dict[str, dict] = {}
            self.services: dict[str, set] = {}
            self.faults: list[dict] = []
            self.requests: list[dict] = []
            self.ids = itertools.count(1000001)

    # ---------------------------------------------------------------- entry point
    def handle(self, http_method: str, host: str, path: str, query: dict, body, token: str):
        """(status, JSON body) for one API call."""
        with self.lock:
            try:
                return 200, self._handle(http_method, host, path, query, body, token)
            except GoogleError as error:
                return error.status, error.body()
            except Exception:  # a bug in the fake: answer 500 with the traceback so the test shows it
                return 500, GoogleError(500, "GCP fake bug: " + traceback.format_exc()).body()

    def _handle(self, http_method, host, path, query, body, token):
        if not token:
            raise GoogleError(401, "Request is missing required authentication credential. Expected OAuth 2 access token.")
        call = self.discovery.match(http_method, host, path)
        if call is None:
            raise GoogleError(404, f"The fake has no method for {http_method} https://{host}{path}")
        try:
            self.discovery.validate(call, query, body)
        except RequestInvalid as exc:
            self._record(call, query, body, 400)
            raise GoogleError(400, str(exc), "invalid") from None
        fault = self._take_fault(call)
        self._record(call, query, body, fault.get("status", 200) if fault else 200)
        if fault and fault.get("status"):
            raise GoogleError(fault["status"], fault.get("message", f"injected fault {fault['status']}"),
                              fault.get("reason", ""), fault.get("details"))
        handler = getattr(self, "_" + call.route.method_id.replace(".", "_"), None)
        if handler is None:
            handler = getattr(self, f"_{call.route.api}_{call.route.verb}", None)
        if handler is None:
            raise GoogleError(501, f"The fake does not implement {call.route.method_id}")
        return handler(call, query, body or {}, fault or {})

    def _record(self, call: Call, query, body, status) -> None:
        self.requests.append({"method": call.route.method_id, "path": call.path, "query": query, "body": body,
                              "status": status, "mutating": call.route.verb in MUTATING_VERBS})

    def _take_fault(self, call: Call):
        for fault in self.faults:
            if fault.get("method") in (call.route.method_id, "*") and fault.get("times", 1) > 0 \
                    and fault.get("path_contains", "") in call.path:
                fault["times"] = fault.get("times", 1) - 1
                return fault
        return None

    def add_fault(self, fault: dict) -> None:
        with self.lock:
            self.faults.append(dict(fault))

    # ---------------------------------------------------------------- storage
    def _get(self, path: str) -> dict:
        found = self.resources.get(path)
        if found is None:
            raise GoogleError(404, f"The resource '{path.split(':', 1)[1]}' was not found", "notFound")
        return found

    def _children(self, collection: str) -> list:
        return [self.resources[key] for key in self._child_keys(collection)]

    def _new_id(self) -> str:
        return str(next(self.ids))

    # ---------------------------------------------------------------- operations
    def _operation(self, api: str, call: Call, target: str, kind: str, fault: dict) -> dict:
        name = f"operation-{uuid.uuid4().hex[:16]}"
        error = fault.get("operation_error")
        relative = call.path.split(":", 1)[1]
        project = _project_of("/" + relative)
        if api == "compute":
            scope = "/".join(relative.split("/")[:4]) if relative.split("/")[2] in ("regions", "zones") else f"projects/{project}/global"
            operation = {"kind": "compute#operation", "id": self._new_id(), "name": name, "operationType": kind,
                         "targetLink": COMPUTE + target.split(":", 1)[1], "status": "PENDING", "progress": 0,
                         "insertTime": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "selfLink": COMPUTE + f"{scope}/operations/{name}"}
            if "/regions/" in scope or "/zones/" in scope:
                operation[scope.split("/")[2][:-1]] = COMPUTE + scope
            key = f"compute:{scope}/operations/{name}"
            if error:
                operation["_error"] = {"errors": [{"code": error.get("code", "RESOURCE_OPERATION_FAILED"),
                                                   "message": error.get("message", "injected operation failure")}]}
        elif api == "sqladmin":
            operation = {"kind": "sql#operation", "name": name, "operationType": kind, "status": "PENDING",
                         "targetLink": "https://sqladmin.googleapis.com/v1/" + target.split(":", 1)[1],
                         "targetProject": project, "targetId": _last(target),
                         "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/operations/{name}"}
            key = f"sqladmin:projects/{project}/operations/{name}"
            if error:
                operation["_error"] = {"kind": "sql#operationErrors", "errors": [
                    {"kind": "sql#operationError", "code": error.get("code", "INTERNAL_ERROR"),
                     "message": error.get("message", "injected operation failure")}]}
        else:  # container
            location = relative.split("/")[3]
            operation = {"name": name, "operationType": kind, "status": "PENDING", "location": location,
                         "targetLink": "https://container.googleapis.com/v1/" + target.split(":", 1)[1],
                         "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/operations/{name}"}
            key = f"container:projects/{project}/locations/{location}/operations/{name}"
            if error:
                operation["_error"] = {"code": 13, "message": error.get("message", "injected operation failure")}
        self.operations[key] = operation
        return self._public(operation)

    @staticmethod
    def _public(operation: dict) -> dict:
        return {key: value for key, value in operation.items() if not key.startswith("_")}

    def _advance(self, key: str) -> dict:
        operation = self.operations.get(key)
        if operation is None:
            raise GoogleError(404, f"The resource '{key.split(':', 1)[1]}' was not found", "notFound")
        step = OPERATION_STEPS.index(operation["status"])
        if step < 2:
            operation["status"] = OPERATION_STEPS[step + 1]
        if operation["status"] == "DONE":
            operation["progress"] = 100
            if "_error" in operation:
                operation["error"] = operation["_error"]
                if "statusMessage" not in operation and "code" in operation["_error"]:
                    operation["statusMessage"] = operation["_error"]["message"]
        return self._public(operation)

    def _failing(self, fault: dict) -> bool:
        return bool(fault.get("operation_error"))

    # ---------------------------------------------------------------- generic compute
    def _compute_get(self, call, query, body, fault):
        if call.path in self.operations:
            return self._advance(call.path)
        return self._view(call.path)

    def _compute_wait(self, call, query, body, fault):
        key = call.path
        while self.operations.get(key, {}).get("status") not in (None, "DONE"):
            self._advance(key)
        return self._advance(key)

    def _compute_list(self, call, query, body, fault):
        items = [self._view(key) for key in self._child_keys(call.path)]
        kind = call.route.method["response"]["$ref"]
        return {"kind": f"compute#{kind[0].lower()}{kind[1:]}", "items": items, "selfLink": COMPUTE + call.path.split(":", 1)[1]}

    def _child_keys(self, collection: str) -> list:
        prefix = collection + "/"
        return [key for key in sorted(self.resources) if key.startswith(prefix) and "/" not in key[len(prefix):]]

    def _compute_insert(self, call, query, body, fault):
        if not body.get("name"):
            raise GoogleError(400, "Invalid value for field 'resource.name': ''. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'")
        key = f"{call.path}/{body['name']}"
        if key in self.resources:
            raise GoogleError(409, f"The resource '{key.split(':', 1)[1]}' already exists", "alreadyExists")
        resource = copy.deepcopy(body)
        collection = call.route.method_id.split(".")[1]
        resource.update({"id": self._new_id(), "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-07:00"),
                         "selfLink": COMPUTE + key.split(":", 1)[1],
                         "kind": "compute#" + call.route.method["request"]["$ref"][0].lower() + call.route.method["request"]["$ref"][1:]})
        if "labelFingerprint" in call.route.document["schemas"][call.route.method["request"]["$ref"]].get("properties", {}):
            resource["labelFingerprint"] = _etag(resource.get("labels") or {})
        parts = key.split(":", 1)[1].split("/")
        if parts[2] in ("regions", "zones"):
            resource[parts[2][:-1]] = COMPUTE + "/".join(parts[:4])
        hook = getattr(self, f"_before_insert_{collection}", None)
        untouched = copy.deepcopy(self.resources) if self._failing(fault) else None
        if hook:
            hook(call, resource)
        if untouched is None:
            self.resources[key] = resource
        else:  # the operation will fail: whatever the hook touched stays as it was
            self.resources = untouched
        return self._operation("compute", call, key, "insert", fault)

    def _compute_delete(self, call, query, body, fault):
        self._get(call.path)
        hook = getattr(self, f"_before_delete_{call.route.method_id.split('.')[1]}", None)
        if hook:
            hook(call.path)
        if not self._failing(fault):
            del self.resources[call.path]
        return self._operation("compute", call, call.path, "delete", fault)

    def _compute_patch(self, call, query, body, fault):
        resource = self._get(call.path)
        if body.get("fingerprint") and resource.get("fingerprint") and body["fingerprint"] != resource["fingerprint"]:
            raise GoogleError(412, "Supplied fingerprint does not match current resource fingerprint.", "conditionNotMet")
        hook = getattr(self, f"_before_patch_{call.route.method_id.split('.')[1]}", None)
        if hook:
            hook(call, resource, body)
        if not self._failing(fault):
            for key, value in body.items():
                if key not in ("fingerprint", "selfLink", "id", "kind", "creationTimestamp", "connectedEndpoints"):
                    resource[key] = copy.deepcopy(value)
            self._fingerprint(resource)
        return self._operation("compute", call, call.path, "patch", fault)

    _compute_update = _compute_patch

    def _compute_setLabels(self, call, query, body, fault):
        resource_key = call.path.rsplit("/", 1)[0]
        resource = self._get(resource_key)
        if body.get("labelFingerprint") and resource.get("labelFingerprint") and body["labelFingerprint"] != resource["labelFingerprint"]:
            raise GoogleError(412, "Labels fingerprint either invalid or resource labels have changed", "conditionNotMet")
        resource["labels"] = body.get("labels", {})
        resource["labelFingerprint"] = _etag(resource["labels"])
        return self._operation("compute", call, resource_key, "setLabels", fault)

    def _compute_setPrivateIpGoogleAccess(self, call, query, body, fault):
        return self._set_fields(call, fault, {"privateIpGoogleAccess": bool(body.get("privateIpGoogleAccess"))})

    def _compute_expandIpCidrRange(self, call, query, body, fault):
        current = self._get(call.path.rsplit("/", 1)[0])["ipCidrRange"]
        asked, now = ipaddress.ip_network(body.get("ipCidrRange", ""), strict=False), ipaddress.ip_network(current)
        if asked.prefixlen >= now.prefixlen or not now.subnet_of(asked):
            raise GoogleError(400, f"Invalid IPCidrRange: {body.get('ipCidrRange')} does not contain the current range "
                                   f"{current} or is not larger.")
        return self._set_fields(call, fault, {"ipCidrRange": str(asked)})

    def _set_fields(self, call, fault, fields: dict) -> dict:
        """A custom method on a resource (POST <resource>/<method>) that sets ``fields``, unless its operation is to fail."""
        resource_key = call.path.rsplit("/", 1)[0]
        resource = self._get(resource_key)
        if not self._failing(fault):
            resource.update(fields)
            self._fingerprint(resource)
        return self._operation("compute", call, resource_key, call.route.verb, fault)

    @staticmethod
    def _fingerprint(resource: dict) -> None:
        resource["fingerprint"] = _etag({k: v for k, v in resource.items() if k != "fingerprint"})

    def _view(self, key: str) -> dict:
        resource = copy.deepcopy(self._get(key))
        viewer = getattr(self, f"_view_{key.split(':', 1)[1].split('/')[-2]}", None)
        if viewer:
            viewer(key, resource)
        return resource

    # ---------------------------------------------------------------- compute: networks, addresses, PSC
    def _before_insert_subnetworks(self, call, resource):
        if not resource.get("ipCidrRange"):
            raise GoogleError(400, "Invalid value for field 'resource.ipCidrRange': ''. Invalid IPCidrRange.")
        self._require_network(resource)
        self._fingerprint(resource)

    def _before_insert_networks(self, call, resource):
        resource.setdefault("routingConfig", {"routingMode": "REGIONAL"})

    def _before_insert_firewalls(self, call, resource):
        self._require_network(resource, default=True)

    def _before_insert_routers(self, call, resource):
        self._require_network(resource)
        self._check_nats(resource)

    def _before_patch_routers(self, call, resource, body):
        self._check_nats(dict(resource, **body))

    def _check_nats(self, router: dict) -> None:
        """Google's checks of a router's NAT configs: subnets exist, secondary ranges only when listed by name."""
        for index, nat in enumerate(router.get("nats") or []):
            for entry in nat.get("subnetworks") or []:
                subnet = self.resources.get("compute:" + entry.get("name", "").split("compute/v1/")[-1])
                if subnet is None:
                    raise GoogleError(400, f"Invalid value for field 'resource.nats[{index}].subnetworks': "
                                           f"'{entry.get('name', '')}'. The referenced subnetwork resource cannot be found.")
                ranges = entry.get("sourceIpRangesToNat") or []
                names = entry.get("secondaryIpRangeNames") or []
                if bool(names) != ("LIST_OF_SECONDARY_IP_RANGES" in ranges) or ("ALL_IP_RANGES" in ranges and len(ranges) > 1):
                    raise GoogleError(400, f"Invalid value for field 'resource.nats[{index}].subnetworks': secondaryIpRangeNames "
                                           "needs LIST_OF_SECONDARY_IP_RANGES, and ALL_IP_RANGES stands alone.")
                known = {item.get("rangeName") for item in subnet.get("secondaryIpRanges") or []}
                if set(names) - known:
                    raise GoogleError(400, f"Invalid value for field 'resource.nats[{index}].subnetworks': secondary range "
                                           f"{sorted(set(names) - known)[0]} is not in subnetwork {subnet['name']}.")

    def nat_exposure(self) -> list:
        """What no real API says in one place: each NAT config that translates a GKE cluster's node or pod range.

        NAT on a node range lets nodes, and pods masqueraded to their node's address, reach the internet directly;
        NAT on a pod (secondary) range lets pods do so without masquerading. Either bypasses the egress proxy.
        """
        with self.lock:
            clusters = [value for key, value in self.resources.items()
                        if key.startswith("container:") and "/clusters/" in key and "/nodePools/" not in key]
            found = []
            for key, router in sorted(self.resources.items()):
                if not (key.startswith("compute:") and "/routers/" in key):
                    continue
                region = key.split(":", 1)[1].split("/")[3]
                for nat in router.get("nats") or []:
                    for subnet_key, ranges in self._nat_ranges(router, region, nat).items():
                        for cluster in clusters:
                            hit = self._cluster_ranges_hit(cluster, subnet_key, ranges)
                            if hit:
                                found.append({"router": router["name"], "nat": nat["name"], "cluster": cluster["name"],
                                              "subnetwork": _last(subnet_key), "ranges": hit})
            return found

    def _nat_ranges(self, router: dict, region: str, nat: dict) -> dict:
        """{subnet key: set of range names it translates ('' for the primary range, '*' for every range)}."""
        source = nat.get("sourceSubnetworkIpRangesToNat", "")
        if source in ("ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES"):
            project = router["selfLink"].split("compute/v1/")[-1].split("/")[1]
            prefix = f"compute:projects/{project}/regions/{region}/subnetworks/"
            every = "*" if source == "ALL_SUBNETWORKS_ALL_IP_RANGES" else ""
            return {key: {every} for key, subnet in self.resources.items()
                    if key.startswith(prefix) and subnet.get("network", "").split("/")[-1] == router.get("network", "").split("/")[-1]}
        found = {}
        for entry in nat.get("subnetworks") or []:
            ranges = entry.get("sourceIpRangesToNat") or ["ALL_IP_RANGES"]
            names = set(entry.get("secondaryIpRangeNames") or [])
            names |= {"*"} if "ALL_IP_RANGES" in ranges else set()
            names |= {""} if "PRIMARY_IP_RANGE" in ranges else set()
            found["compute:" + entry["name"].split("compute/v1/")[-1]] = names
        return found

    @staticmethod
    def _cluster_ranges_hit(cluster: dict, subnet_key: str, ranges: set) -> list:
        if _last(cluster.get("subnetwork", "")) != _last(subnet_key):
            return []
        policy = cluster.get("ipAllocationPolicy") or {}
        mine = {"": "nodes (primary)", policy.get("clusterSecondaryRangeName"): "pods",
                policy.get("servicesSecondaryRangeName"): "services"}
        return [label for name, label in mine.items() if name is not None and ("*" in ranges or name in ranges)]

    def _before_insert_instances(self, call, resource):
        resource["status"] = "RUNNING"
        for index, interface in enumerate(resource.get("networkInterfaces", [])):
            interface.setdefault("name", f"nic{index}")
            self._check_interface_subnet(index, interface)
            interface.setdefault("networkIP", f"10.{(int(resource['id']) % 200)}.0.{index + 2}")
        self._fingerprint(resource)

    def _check_interface_subnet(self, index: int, interface: dict) -> None:
        """Google's checks of an interface: its subnetwork exists and a requested networkIP lies in its primary range."""
        link = interface.get("subnetwork", "")
        if not link:
            return
        subnet = self.resources.get("compute:" + link.split("compute/v1/")[-1])
        if subnet is None:
            raise GoogleError(400, f"Invalid value for field 'resource.networkInterfaces[{index}].subnetwork': '{link}'. "
                                   "The referenced subnetwork resource cannot be found.")
        address = interface.get("networkIP")
        if address and ipaddress.ip_address(address) not in ipaddress.ip_network(subnet["ipCidrRange"]):
            raise GoogleError(400, f"Invalid value for field 'resource.networkInterfaces[{index}].networkIP': '{address}'. "
                                   f"Requested internal IP is outside the subnetwork CIDR range ({subnet['ipCidrRange']}).")

    def _require_network(self, resource: dict, default: bool = False) -> None:
        network = resource.get("network")
        if not network and default:
            return
        key = "compute:" + network.split("compute/v1/")[-1] if network else ""
        if "/global/networks/" not in key or key not in self.resources:
            raise GoogleError(400, f"Invalid value for field 'resource.network': '{network}'. The referenced network resource cannot be found.")

    def _before_insert_addresses(self, call, resource):
        resource.setdefault("addressType", "EXTERNAL")
        resource["status"] = "RESERVED"
        if not resource.get("address"):
            taken = {item.get("address") for item in self.resources.values()}
            host = next(n for n in itertools.count(2) if f"10.0.{n // 250}.{n % 250}" not in taken)
            resource["address"] = f"10.0.{host // 250}.{host % 250}"

    def _before_insert_forwardingRules(self, call, resource):
        target = resource.get("target", "")
        if "/serviceAttachments/" in target or "/serviceAttachments/" in resource.get("target", ""):
            self._psc_forwarding_rule(call, resource)

    def _psc_forwarding_rule(self, call, resource):
        if resource.get("labels"):  # Google takes a PSC endpoint's labels only through setLabels, after the insert
            raise GoogleError(400, "Invalid value for field 'resource.labels': ''. Invalid field set in Private Service "
                                   "Connect Forwarding Rule. This field should not be set.", "invalid")
        if resource.get("loadBalancingScheme"):
            raise GoogleError(400, f"Invalid value for field 'resource.loadBalancingScheme': '{resource['loadBalancingScheme']}'. "
                                   "loadBalancingScheme must be empty for a forwarding rule that targets a service attachment.")
        if not resource.get("network"):
            raise GoogleError(400, "Invalid value for field 'resource.network': ''. A network is required for Private Service Connect forwarding rules.")
        self._require_network(resource)
        attachment_key = "compute:" + resource["target"].split("compute/v1/")[-1]
        if attachment_key not in self.resources:
            raise GoogleError(400, f"Invalid value for field 'resource.target': '{resource['target']}'. The referenced service attachment cannot be found.")
        address = resource.get("IPAddress", "")
        if address and not address[0].isdigit():
            address_key = "compute:" + (address.split("compute/v1/")[-1] if "/" in address else
                                        "/".join(call.path.split(":", 1)[1].split("/")[:4]) + f"/addresses/{address}")
            found = self.resources.get(address_key)
            if found is None:
                raise GoogleError(400, f"Invalid value for field 'resource.IPAddress': '{address}'. The referenced address cannot be found.")
            resource["IPAddress"] = found["address"]
            found["status"] = "IN_USE"
            found["users"] = [resource["selfLink"]]
        resource["pscConnectionId"] = str(int(resource["id"]) * 7919)
        resource["_psc_status"] = None

    def _before_delete_forwardingRules(self, path):
        rule = self.resources[path]
        for address in self.resources.values():
            if rule["selfLink"] in address.get("users", []):
                address["users"].remove(rule["selfLink"])
                address["status"] = "RESERVED" if not address["users"] else "IN_USE"

    def _before_delete_subnetworks(self, path):
        subnet = path.split(":", 1)[1]  # projects/P/regions/R/subnetworks/N, as every link to it ends
        for key, attachment in self.resources.items():
            if "/serviceAttachments/" in key and any(used.endswith(subnet) for used in attachment.get("natSubnets", [])):
                raise GoogleError(400, f"The subnetwork resource '{path.split(':', 1)[1]}' is already being used by "
                                       f"'{key.split(':', 1)[1]}'", "resourceInUseByAnotherResource")

    def _before_delete_addresses(self, path):
        if self.resources[path].get("users"):
            raise GoogleError(400, f"The address resource '{path.split(':', 1)[1]}' is already being used by "
                                   f"'{self.resources[path]['users'][0].split('compute/v1/')[-1]}'", "resourceInUseByAnotherResource")

    def _view_forwardingRules(self, key, resource):
        resource.pop("_psc_status", None)
        if "/serviceAttachments/" in resource.get("target", ""):
            resource["pscConnectionStatus"] = self._psc_status(key)

    def _psc_status(self, rule_key: str) -> str:
        rule = self.resources[rule_key]
        override = rule.get("_psc_status")
        if override:
            return override
        attachment = self.resources.get("compute:" + rule["target"].split("compute/v1/")[-1])
        if attachment is None:
            return "CLOSED"
        consumer = _project_of(rule["selfLink"])
        number = project_number(consumer)
        if any(entry in (consumer, number) for entry in attachment.get("consumerRejectLists", [])):
            return "REJECTED"
        if attachment.get("connectionPreference") == "ACCEPT_AUTOMATIC":
            return "ACCEPTED"
        for entry in attachment.get("consumerAcceptLists", []):
            if entry.get("projectIdOrNum") in (consumer, number):
                limit = int(entry.get("connectionLimit", 0) or 0)
                earlier = [key for key in self._rules_for(attachment) if _project_of(self.resources[key]["selfLink"]) == consumer]
                return "ACCEPTED" if limit == 0 or earlier.index(rule_key) < limit else "PENDING"
        return "PENDING"

    def _rules_for(self, attachment: dict) -> list:
        path = attachment["selfLink"].split("compute/v1/")[-1]
        return sorted((key for key, value in self.resources.items()
                       if key.startswith("compute:") and "/forwardingRules/" in key
                       and value.get("target", "").split("compute/v1/")[-1] == path),
                      key=lambda key: int(self.resources[key]["id"]))

    def _before_insert_serviceAttachments(self, call, resource):
        preference = resource.get("connectionPreference")
        if preference not in ("ACCEPT_AUTOMATIC", "ACCEPT_MANUAL"):
            raise GoogleError(400, f"Invalid value for field 'resource.connectionPreference': '{preference or ''}'. "
                                   "Must be ACCEPT_AUTOMATIC or ACCEPT_MANUAL.")
        if not resource.get("natSubnets"):
            raise GoogleError(400, "Invalid value for field 'resource.natSubnets': ''. At least one NAT subnet is required.")
        for subnet in resource["natSubnets"]:
            found = self.resources.get("compute:" + subnet.split("compute/v1/")[-1])
            if found is None:
                raise GoogleError(400, f"Invalid value for field 'resource.natSubnets[0]': '{subnet}'. The referenced subnetwork cannot be found.")
            if found.get("purpose") != "PRIVATE_SERVICE_CONNECT":
                raise GoogleError(400, f"Invalid value for field 'resource.natSubnets[0]': '{subnet}'. "
                                       "The subnetwork must have purpose PRIVATE_SERVICE_CONNECT.")
        if preference == "ACCEPT_AUTOMATIC" and resource.get("consumerAcceptLists"):
            raise GoogleError(400, "Invalid value for field 'resource.consumerAcceptLists': consumer accept lists require connectionPreference ACCEPT_MANUAL.")
        target = self.resources.get("compute:" + resource.get("targetService", "").split("compute/v1/")[-1])
        if target is None or target.get("loadBalancingScheme") not in ("INTERNAL", "INTERNAL_MANAGED"):
            raise GoogleError(400, f"Invalid value for field 'resource.targetService': '{resource.get('targetService', '')}'. "
                                   "The target service must be an existing internal load balancer forwarding rule.")
        resource["pscServiceAttachmentId"] = {"high": str(int(resource["id"]) * 31), "low": resource["id"]}
        self._fingerprint(resource)

    def _view_serviceAttachments(self, key, resource):
        endpoints = []
        for rule_key in self._rules_for(resource):
            rule = self.resources[rule_key]
            endpoints.append({"endpoint": rule["selfLink"], "pscConnectionId": rule["pscConnectionId"],
                              "consumerNetwork": rule.get("network", ""), "status": self._psc_status(rule_key)})
        resource["connectedEndpoints"] = endpoints

    # ---------------------------------------------------------------- Cloud SQL
    def _sqladmin_get(self, call, query, body, fault):
        if call.path in self.operations:
            return self._advance(call.path)
        return self._sql_view(self._get(call.path))

    @staticmethod
    def _sql_view(resource: dict) -> dict:
        return {key: copy.deepcopy(value) for key, value in resource.items() if key not in ("password", "rootPassword")}

    def _sql_instances_insert(self, call, query, body, fault):
        for field in ("name", "databaseVersion", "region"):
            if not body.get(field):
                raise GoogleError(400, f"Invalid request: {field} is required.", "invalid")
        if not (body.get("settings") or {}).get("tier"):
            raise GoogleError(400, "Invalid request: settings.tier is required.", "invalid")
        key = f"{call.path}/{body['name']}"
        if key in self.resources:
            raise GoogleError(409, "The Cloud SQL instance already exists.", "instanceAlreadyExists")
        project = call.params["project"]
        instance = copy.deepcopy(body)
        instance.update({"kind": "sql#instance", "project": project, "state": "RUNNABLE", "backendType": "SECOND_GEN",
                         "connectionName": f"{project}:{body['region']}:{body['name']}", "instanceType": "CLOUD_SQL_INSTANCE",
                         "gceZone": f"{body['region']}-a", "etag": "", "ipAddresses": [],
                         "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/instances/{body['name']}"})
        instance["settings"].setdefault("settingsVersion", "1")
        instance["settings"]["kind"] = "sql#settings"
        ip_configuration = instance["settings"].setdefault("ipConfiguration", {})
        if ip_configuration.get("ipv4Enabled", True):
            ip_configuration["ipv4Enabled"] = True
            instance["ipAddresses"] = [{"type": "PRIMARY", "ipAddress": "34.0.0.%d" % (int(self._new_id()) % 250)}]
        if not self._failing(fault):
            self.resources[key] = instance
            self._sql_psc(key)
        return self._operation("sqladmin", call, key, "CREATE", fault)

    def _sql_psc(self, key: str) -> None:
        """What Cloud SQL does for PSC: a service attachment in its tenant project, accepting the allowed projects."""
        instance = self.resources[key]
        psc = (instance["settings"].get("ipConfiguration") or {}).get("pscConfig") or {}
        region = instance["region"]
        digest = hashlib.sha256(key.encode()).hexdigest()
        tenant = f"sqlt-{digest[:12]}"
        attachment_key = f"compute:projects/{tenant}/regions/{region}/serviceAttachments/a-{digest[12:24]}-psc-service-attachment-{digest[24:32]}"
        if not psc.get("pscEnabled"):
            instance.pop("pscServiceAttachmentLink", None)
            instance.pop("dnsName", None)
            self.resources.pop(attachment_key, None)
            return
        instance["pscServiceAttachmentLink"] = attachment_key.split(":", 1)[1]
        instance["dnsName"] = f"{digest[32:44]}.{digest[44:52]}.{region}.sql.goog."
        attachment = self.resources.setdefault(attachment_key, {
            "kind": "compute#serviceAttachment", "id": self._new_id(), "name": _last(attachment_key),
            "region": COMPUTE + f"projects/{tenant}/regions/{region}", "connectionPreference": "ACCEPT_MANUAL",
            "selfLink": COMPUTE + attachment_key.split(":", 1)[1], "natSubnets": [], "targetService": "",
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-07:00")})
        attachment["consumerAcceptLists"] = [{"projectIdOrNum": project, "connectionLimit": 10}
                                             for project in psc.get("allowedConsumerProjects", [])]

    def _sql_instances_patch(self, call, query, body, fault):
        instance = self._get(call.path)
        patch = copy.deepcopy(body)
        for dotted in fault.get("ignore_fields", []):
            node = patch
            *parents, leaf = dotted.split(".")
            for parent in parents:
                node = node.get(parent, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node.pop(leaf, None)
        if not self._failing(fault):
            settings_version = int(instance["settings"].get("settingsVersion", "1"))
            _merge(instance, patch)
            instance["settings"]["settingsVersion"] = str(settings_version + 1)
            self._sql_psc(call.path)
        return self._operation("sqladmin", call, call.path, "UPDATE", fault)

    def _sql_instances_delete(self, call, query, body, fault):
        instance = self._get(call.path)
        if instance["settings"].get("deletionProtectionEnabled"):
            raise GoogleError(400, "The instance is protected from deletion. Disable deletion protection (settings.deletionProtectionEnabled) first.",
                              "instanceDeletionProtected")
        if not self._failing(fault):
            instance["settings"]["ipConfiguration"] = {}
            self._sql_psc(call.path)
            for key in [key for key in self.resources if key.startswith(call.path + "/")]:
                del self.resources[key]
            del self.resources[call.path]
        return self._operation("sqladmin", call, call.path, "DELETE", fault)

    def _sql_instances_list(self, call, query, body, fault):
        return {"kind": "sql#instancesList", "items": [self._sql_view(item) for item in self._children(call.path)]}

    def _sql_child_insert(self, call, body, fault, kind, key_name):
        self._get(call.path.rsplit("/", 1)[0])
        if not body.get("name"):
            raise GoogleError(400, "Invalid request: name is required.", "invalid")
        key = f"{call.path}/{key_name}"
        if key in self.resources:
            raise GoogleError(409, f"The {kind} '{body['name']}' already exists.", "alreadyExists")
        resource = copy.deepcopy(body)
        resource.update({"kind": f"sql#{kind}", "project": call.params["project"], "instance": call.params["instance"]})
        if not self._failing(fault):
            self.resources[key] = resource
        return self._operation("sqladmin", call, key, "CREATE_" + kind.upper(), fault)

    def _sql_databases_insert(self, call, query, body, fault):
        body = dict(body)
        body.setdefault("charset", "utf8mb4")
        body.setdefault("collation", "utf8mb4_0900_ai_ci")
        body["selfLink"] = f"https://sqladmin.googleapis.com/v1/{call.path.split(':', 1)[1]}/{body.get('name', '')}"
        return self._sql_child_insert(call, body, fault, "database", body.get("name", ""))

    def _sql_databases_delete(self, call, query, body, fault):
        self._get(call.path)
        if not self._failing(fault):
            del self.resources[call.path]
        return self._operation("sqladmin", call, call.path, "DELETE_DATABASE", fault)

    def _sql_databases_patch(self, call, query, body, fault):
        _merge(self._get(call.path), body)
        return self._operation("sqladmin", call, call.path, "UPDATE_DATABASE", fault)

    def _sql_databases_list(self, call, query, body, fault):
        return {"kind": "sql#databasesList", "items": self._children(call.path)}

    def _sql_users_insert(self, call, query, body, fault):
        return self._sql_child_insert(call, body, fault, "user", body.get("name", ""))

    def _sql_users_list(self, call, query, body, fault):
        return {"kind": "sql#usersList", "items": [self._sql_view(item) for item in self._children(call.path)]}

    def _sql_users_get(self, call, query, body, fault):
        return self._sql_view(self._get(call.path))

    def _sql_users_update(self, call, query, body, fault):
        key = f"{call.path}/{query.get('name', '')}"
        user = self._get(key)
        if not self._failing(fault):
            _merge(user, body)
        return self._operation("sqladmin", call, key, "UPDATE_USER", fault)

    def _sql_users_delete(self, call, query, body, fault):
        key = f"{call.path}/{query.get('name', '')}"
        self._get(key)
        if not self._failing(fault):
            del self.resources[key]
        return self._operation("sqladmin", call, key, "DELETE_USER", fault)

    # ---------------------------------------------------------------- IAM
    def _policy(self, resource: str) -> dict:
        return self.policies.setdefault(resource, {"version": 1, "etag": _etag((resource, 0)), "bindings": []})

    def _get_policy(self, call, query, body, fault):
        resource = call.path.rsplit(":", 1)[0]
        if resource.startswith("iam:"):
            resource = self._account_key(resource)
            self._get(resource)
        return copy.deepcopy(self._policy(resource))

    def _set_policy(self, call, query, body, fault):
        resource = call.path.rsplit(":", 1)[0]
        if resource.startswith("iam:"):
            resource = self._account_key(resource)
            self._get(resource)
        current = self._policy(resource)
        new = copy.deepcopy(body.get("policy") or {})
        if new.get("etag") and new["etag"] != current["etag"]:
            raise GoogleError(409, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
                              "aborted")
        for binding in new.get("bindings", []):
            for member in binding.get("members", []):
                self._check_member(member)
        new["version"] = new.get("version", 1)
        new["etag"] = _etag((resource, new.get("bindings"), current["etag"]))
        self.policies[resource] = new
        return copy.deepcopy(new)

    def _check_member(self, member: str) -> None:
        kind, _sep, identity = member.partition(":")
        if kind not in ("user", "serviceAccount", "group", "domain", "principal", "principalSet") or not identity:
            raise GoogleError(400, f"Invalid member {member!r}: must start with user:, serviceAccount:, group: or domain:")
        if kind != "serviceAccount":
            return
        if ".svc.id.goog[" in identity:
            pool = identity.split("[", 1)[0]
            clusters = [item for key, item in self.resources.items() if key.startswith("container:") and "/clusters/" in key
                        and "/nodePools/" not in key]
            if not any((item.get("workloadIdentityConfig") or {}).get("workloadPool") == pool for item in clusters):
                raise GoogleError(400, f"Identity Pool does not exist ({pool}). Please check that you specified a valid resource name as returned "
                                       "in the `name` attribute in the configuration API.")
            return
        if identity.endswith(".iam.gserviceaccount.com"):
            project = identity.split("@", 1)[1].split(".", 1)[0]
            if f"iam:projects/{project}/serviceAccounts/{identity}" not in self.resources:
                raise GoogleError(400, f"Service account {identity} does not exist.")

    _cloudresourcemanager_projects_getIamPolicy = _get_policy
    _cloudresourcemanager_projects_setIamPolicy = _set_policy
    _iam_projects_serviceAccounts_getIamPolicy = _get_policy
    _iam_projects_serviceAccounts_setIamPolicy = _set_policy

    def _iam_projects_serviceAccounts_create(self, call, query, body, fault):
        project = call.path.split("/")[1]
        account = body.get("accountId", "")
        if not (6 <= len(account) <= 30) or not account[0].isalpha():
            raise GoogleError(400, f"Invalid account ID {account!r}: must be 6 to 30 characters, start with a letter.")
        email = f"{account}@{project}.iam.gserviceaccount.com"
        key = f"{call.path}/{email}"
        if key in self.resources:
            raise GoogleError(409, f"Service account {account} already exists within project projects/{project}.", "alreadyExists")
        resource = dict(body.get("serviceAccount") or {})
        resource.update({"name": f"projects/{project}/serviceAccounts/{email}", "projectId": project, "email": email,
                         "uniqueId": self._new_id() + "0000000000", "etag": "MDEwMjE5MjA=", "oauth2ClientId": self._new_id()})
        self.resources[key] = resource
        return copy.deepcopy(resource)

    def _iam_projects_serviceAccounts_list(self, call, query, body, fault):
        prefix = f"{call.path}/"
        return {"accounts": [copy.deepcopy(item) for key, item in sorted(self.resources.items())
                             if key.startswith(prefix) and "/" not in key[len(prefix):]]}

    def _iam_projects_serviceAccounts_get(self, call, query, body, fault):
        return copy.deepcopy(self._get(self._account_key(call.path)))

    def _iam_projects_serviceAccounts_delete(self, call, query, body, fault):
        key = self._account_key(call.path)
        self._get(key)
        del self.resources[key]
        self.policies.pop(key, None)
        return {}

    def _iam_projects_serviceAccounts_patch(self, call, query, body, fault):
        resource = self._get(self._account_key(call.path))
        for field in (body.get("updateMask") or "displayName,description").split(","):
            if field in (body.get("serviceAccount") or {}):
                resource[field] = body["serviceAccount"][field]
        return copy.deepcopy(resource)

    @staticmethod
    def _account_key(path: str) -> str:
        prefix, account = path.rsplit("/", 1)
        if account.startswith("-") or "@" not in account:
            return path
        project = account.split("@", 1)[1].split(".", 1)[0]
        return f"iam:projects/{project}/serviceAccounts/{account}"

    # ---------------------------------------------------------------- Service Usage
    def _service(self, path: str):
        parts = path.split(":", 1)[1].split("/")
        return parts[1], parts[3].split(":", 1)[0]

    def _service_view(self, project: str, service: str) -> dict:
        state = "ENABLED" if service in self.services.get(project_number(project), set()) else "DISABLED"
        return {"name": f"projects/{project_number(project)}/services/{service}", "parent": f"projects/{project_number(project)}",
                "config": {"name": service, "title": service.split(".")[0]}, "state": state}

    def _serviceusage_services_get(self, call, query, body, fault):
        return self._service_view(*self._service(call.path))

    def _serviceusage_done(self, response: dict) -> dict:
        name = f"operations/acf.p2-{uuid.uuid4().hex[:12]}"
        self.operations[f"serviceusage:{name}"] = {"name": name, "done": True, "response": response}
        return {"name": name, "done": False}

    def _serviceusage_services_enable(self, call, query, body, fault):
        project, service = self._service(call.path)
        if not service.endswith(".googleapis.com"):
            raise GoogleError(403, f"Not found or permission denied for service(s): {service}.", "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED")
        self.services.setdefault(project_number(project), set()).add(service)
        return self._serviceusage_done({"@type": "type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse",
                                        "service": self._service_view(project, service)})

    def _serviceusage_services_disable(self, call, query, body, fault):
        project, service = self._service(call.path)
        self.services.setdefault(project_number(project), set()).discard(service)
        return self._serviceusage_done({"@type": "type.googleapis.com/google.api.serviceusage.v1.DisableServiceResponse",
                                        "service": self._service_view(project, service)})

    def _serviceusage_services_batchEnable(self, call, query, body, fault):
        project = call.path.split(":", 1)[1].split("/")[1]
        unknown = [service for service in body.get("serviceIds", []) if not service.endswith(".googleapis.com")]
        if unknown:
            raise GoogleError(403, f"Not found or permission denied for service(s): {', '.join(unknown)}.",
                              "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED")
        for service in body.get("serviceIds", []):
            self.services.setdefault(project_number(project), set()).add(service)
        return self._serviceusage_done({"services": [self._service_view(project, item) for item in body.get("serviceIds", [])]})

    def _serviceusage_services_list(self, call, query, body, fault):
        project = call.path.split(":", 1)[1].split("/")[1]
        enabled = sorted(self.services.get(project_number(project), set()))
        return {"services": [self._service_view(project, item) for item in enabled]}

    def _serviceusage_operations_get(self, call, query, body, fault):
        found = self.operations.get(call.path)
        if found is None:
            raise GoogleError(404, f"Operation {call.path.split(':', 1)[1]} not found")
        return copy.deepcopy(found)

    # ---------------------------------------------------------------- GKE
    def _container_get(self, call, query, body, fault):
        if call.path in self.operations:
            return self._advance(call.path)
        return copy.deepcopy(self._get(call.path))

    def _container_projects_locations_clusters_create(self, call, query, body, fault):
        cluster = copy.deepcopy(body.get("cluster") or {})
        if not cluster.get("name"):
            raise GoogleError(400, "Cluster.name must be set.")
        key = f"{call.path}/{cluster['name']}"
        if key in self.resources:
            raise GoogleError(409, f"Already exists: {key.split(':', 1)[1]}.", "alreadyExists")
        project, location = call.path.split("/")[1], call.path.split("/")[3]
        pool = (cluster.get("workloadIdentityConfig") or {}).get("workloadPool")
        if pool and pool != f"{project}.svc.id.goog":
            raise GoogleError(400, f"Workload pool must be {project}.svc.id.goog, got {pool}.")
        cluster.update({"status": "RUNNING", "location": location, "endpoint": "172.16.0.2",
                        "selfLink": f"https://container.googleapis.com/v1/{key.split(':', 1)[1]}",
                        "createTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "currentMasterVersion": "1.34.4-gke.1000",
                        "masterAuth": {"clusterCaCertificate": base64.b64encode(b"fake CA").decode()}})
        pools = cluster.pop("nodePools", []) or ([{"name": "default-pool", "initialNodeCount": cluster.get("initialNodeCount", 3)}])
        if not self._failing(fault):
            self.resources[key] = cluster
            for node_pool in pools:
                node_pool.update({"status": "RUNNING", "selfLink": f"{cluster['selfLink']}/nodePools/{node_pool['name']}"})
                self.resources[f"{key}/nodePools/{node_pool['name']}"] = node_pool
        return self._operation("container", call, key, "CREATE_CLUSTER", fault)

    def _container_projects_locations_clusters_get(self, call, query, body, fault):
        return self._cluster_view(call.path)

    def _cluster_view(self, key: str) -> dict:
        cluster = copy.deepcopy(self._get(key))
        cluster["nodePools"] = self._children(key + "/nodePools")
        return cluster

    def _container_projects_locations_clusters_delete(self, call, query, body, fault):
        self._get(call.path)
        if not self._failing(fault):
            for key in [key for key in self.resources if key.startswith(call.path + "/") or key == call.path]:
                del self.resources[key]
        return self._operation("container", call, call.path, "DELETE_CLUSTER", fault)

    def _container_projects_locations_clusters_update(self, call, query, body, fault):
        cluster = self._get(call.path)
        update = body.get("update") or {}
        for field, value in update.items():
            if field.startswith("desired") and not self._failing(fault):
                name = field[len("desired"):]
                cluster[name[0].lower() + name[1:]] = copy.deepcopy(value)
        return self._operation("container", call, call.path, "UPDATE_CLUSTER", fault)

    def _container_projects_locations_clusters_list(self, call, query, body, fault):
        return {"clusters": [self._cluster_view(key) for key in self._child_keys(call.path)]}

    def _container_projects_locations_clusters_nodePools_create(self, call, query, body, fault):
        self._get(call.path.rsplit("/", 1)[0])
        node_pool = copy.deepcopy(body.get("nodePool") or {})
        key = f"{call.path}/{node_pool.get('name', '')}"
        if key in self.resources:
            raise GoogleError(409, f"Already exists: {key.split(':', 1)[1]}.", "alreadyExists")
        node_pool.update({"status": "RUNNING", "selfLink": f"https://container.googleapis.com/v1/{key.split(':', 1)[1]}"})
        if not self._failing(fault):
            self.resources[key] = node_pool
        return self._operation("container", call, key, "CREATE_NODE_POOL", fault)

    def _container_projects_locations_clusters_nodePools_delete(self, call, query, body, fault):
        self._get(call.path)
        if not self._failing(fault):
            del self.resources[call.path]
        return self._operation("container", call, call.path, "DELETE_NODE_POOL", fault)

    def _container_projects_locations_operations_get(self, call, query, body, fault):
        return self._advance(call.path)

    # ---------------------------------------------------------------- Cloud DNS
    def _dns_managedZones_create(self, call, query, body, fault):
        name, dns_name = body.get("name", ""), body.get("dnsName", "")
        if not dns_name.endswith("."):
            raise GoogleError(400, f"Invalid value for 'entity.managedZone.dnsName': '{dns_name}'", "invalid")
        key = f"{call.path}/{name}"
        if key in self.resources:
            raise GoogleError(409, f"The resource 'entity.managedZone' named '{name}' already exists", "alreadyExists")
        zone = copy.deepcopy(body)
        zone.update({"kind": "dns#managedZone", "id": self._new_id(), "creationTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "nameServers": ["ns-gcp-private.googledomains.com."]})
        zone.setdefault("visibility", "public")
        self.resources[key] = zone
        for record in ({"name": dns_name, "type": "NS", "ttl": 21600, "rrdatas": zone["nameServers"]},
                       {"name": dns_name, "type": "SOA", "ttl": 21600,
                        "rrdatas": ["ns-gcp-private.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"]}):
            self.resources[f"{key}/rrsets/{record['name']}/{record['type']}"] = dict(record, kind="dns#resourceRecordSet")
        return copy.deepcopy(zone)

    def _dns_managedZones_get(self, call, query, body, fault):
        return copy.deepcopy(self._get(call.path))

    def _dns_managedZones_list(self, call, query, body, fault):
        return {"managedZones": self._children(call.path)}

    def _dns_managedZones_delete(self, call, query, body, fault):
        zone = self._get(call.path)
        records = [key for key in self.resources if key.startswith(call.path + "/rrsets/")]
        if any(self.resources[key]["type"] not in ("NS", "SOA") or self.resources[key]["name"] != zone["dnsName"] for key in records):
            raise GoogleError(400, f"The resource named '{zone['name']}' cannot be deleted because it is not empty", "containerNotEmpty")
        for key in records + [call.path]:
            del self.resources[key]
        return {}

    def _dns_managedZones_patch(self, call, query, body, fault):
        _merge(self._get(call.path), body)
        return {"kind": "dns#operation", "status": "done", "id": self._new_id()}

    def _dns_record_key(self, call, record: dict) -> str:
        zone_key = call.path.split("/rrsets")[0].split("/changes")[0]
        zone = self._get(zone_key)
        name = record.get("name", "")
        if not (name == zone["dnsName"] or name.endswith("." + zone["dnsName"])):
            raise GoogleError(400, f"Invalid value for 'entity.rrset.name': '{name}' is not within the zone {zone['dnsName']}", "invalid")
        return f"{zone_key}/rrsets/{name}/{record.get('type', '')}"

    def _dns_resourceRecordSets_create(self, call, query, body, fault):
        key = self._dns_record_key(call, body)
        if key in self.resources:
            raise GoogleError(409, f"The resource 'entity.rrset' named '{body['name']} ({body['type']})' already exists", "alreadyExists")
        self.resources[key] = dict(copy.deepcopy(body), kind="dns#resourceRecordSet")
        return copy.deepcopy(self.resources[key])

    def _dns_resourceRecordSets_get(self, call, query, body, fault):
        return copy.deepcopy(self._get(call.path))

    def _dns_resourceRecordSets_list(self, call, query, body, fault):
        records = self._children_deep(call.path)
        if query.get("name"):
            records = [item for item in records if item["name"] == query["name"]]
        if query.get("type"):
            records = [item for item in records if item["type"] == query["type"]]
        return {"kind": "dns#resourceRecordSetsListResponse", "rrsets": records}

    def _children_deep(self, collection: str) -> list:
        return [value for key, value in sorted(self.resources.items()) if key.startswith(collection + "/")]

    def _dns_resourceRecordSets_patch(self, call, query, body, fault):
        _merge(self._get(call.path), body)
        return copy.deepcopy(self._get(call.path))

    def _dns_resourceRecordSets_delete(self, call, query, body, fault):
        self._get(call.path)
        del self.resources[call.path]
        return {}

    def _dns_changes_create(self, call, query, body, fault):
        deletions = [self._dns_record_key(call, record) for record in body.get("deletions", [])]
        for key, record in zip(deletions, body.get("deletions", [])):
            if self.resources.get(key, {}).get("rrdatas") != record.get("rrdatas"):
                raise GoogleError(412, f"The resource 'entity.change.deletions[0]' named '{record.get('name')} ({record.get('type')})' "
                                       "does not exist or does not match", "conditionNotMet")
        for key in deletions:
            del self.resources[key]
        for record in body.get("additions", []):
            key = self._dns_record_key(call, record)
            if key in self.resources:
                raise GoogleError(409, f"The resource 'entity.change.additions[0]' named '{record['name']} ({record['type']})' already exists",
                                  "alreadyExists")
            self.resources[key] = dict(copy.deepcopy(record), kind="dns#resourceRecordSet")
        change = dict(copy.deepcopy(body), kind="dns#change", id=self._new_id(), status="done",
                      startTime=time.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        self.resources[f"{call.path}/{change['id']}"] = change
        return change

    def _dns_changes_get(self, call, query, body, fault):
        return copy.deepcopy(self._get(call.path))
