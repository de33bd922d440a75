# -*- coding: utf-8 -*-
"""Google's discovery documents as the fake's routing table and request validator.

Every request is matched to a discovery method (``compute.addresses.insert``) and its query parameters and JSON
body are checked against the method's schema the way Google does: an unknown field, a wrong type or a value
outside an enum is a 400 naming the field.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import googleapiclient

DOCUMENTS = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
APIS = ("compute.v1", "sqladmin.v1", "sqladmin.v1beta4", "container.v1", "dns.v1", "iam.v1",
        "cloudresourcemanager.v1", "cloudresourcemanager.v3", "serviceusage.v1")
_VERSION_PREFIX = re.compile(r"^(?:sql/|dns/)?v\d[a-z0-9]*/")


class RequestInvalid(Exception):
    """A request Google would refuse with 400 INVALID_ARGUMENT."""


@dataclass(frozen=True)
class Route:
    api: str                 # "compute"
    method_id: str           # "compute.addresses.insert"
    http_method: str
    pattern: re.Pattern
    path_template: str
    method: dict
    document: dict

    @property
    def verb(self) -> str:
        return self.method_id.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Call:
    route: Route
    path: str                # the request path, canonical: "compute:projects/p/regions/r/addresses/a"
    params: dict             # path parameters by name


def _template_regex(template: str) -> re.Pattern:
    out = ""
    for piece in re.split(r"(\{\+?[^}]+\})", template):
        if piece.startswith("{+"):
            out += "(?P<%s>.+?)" % _group(piece[2:-1])
        elif piece.startswith("{"):
            out += "(?P<%s>[^/:]+)" % _group(piece[1:-1])
        else:
            out += re.escape(piece)
    return re.compile(out + "$")


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _walk_methods(resources: dict):
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _walk_methods(resource.get("resources", {}))


class Discovery:
    def __init__(self, names=APIS):
        self.routes: list[Route] = []
        self.documents: dict[str, dict] = {}
        for name in names:
            with open(os.path.join(DOCUMENTS, f"{name}.json"), encoding="utf-8") as handle:
                document = json.load(handle)
            self.documents[name] = document
            for method in _walk_methods(document.get("resources", {})):
                template = document["servicePath"] + (method.get("flatPath") or method["path"])
                host = document["rootUrl"].split("/")[2]
                for prefix in self._hosts(host, document):
                    self.routes.append(Route(document["name"], method["id"], method["httpMethod"],
                                             _template_regex(prefix + template), template, method, document))
        # literal segments win over variables: /users/{name} must not swallow /users
        self.routes.sort(key=lambda route: -len(re.sub(r"\{[^}]+\}", "", route.path_template)))

    @staticmethod
    def _hosts(host: str, document: dict) -> list:
        prefixes = [host + "/"]
        if document["name"] == "compute":
            prefixes.append("www.googleapis.com/")
        return prefixes

    def match(self, http_method: str, host: str, path: str) -> Call | None:
        target = host + "/" + path.lstrip("/")
        for route in self.routes:
            if route.http_method != http_method:
                continue
            found = route.pattern.match(target)
            if found:
                relative = target.split("/", 1)[1]
                relative = relative[len(route.document["servicePath"]):] if route.document["servicePath"] else relative
                canonical = f"{route.api}:{_VERSION_PREFIX.sub('', relative)}"
                params = {name: found.group(_group(name)) for name in route.method.get("parameters", {})
                          if _group(name) in found.groupdict()}
                return Call(route, canonical, params)
        return None

    def validate(self, call: Call, query: dict, body) -> None:
        route = call.route
        known = set(route.method.get("parameters", {})) | set(route.document.get("parameters", {}))
        for name in query:
            if name not in known:
                raise RequestInvalid(f"Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. "
                                     f"Field '{name}' could not be found in request message.")
        request = route.method.get("request")
        if request is None:
            if body not in (None, {}, b""):
                raise RequestInvalid(f"{route.method_id} takes no request body")
            return
        if body is None:
            body = {}
        self._check(route.document, {"$ref": request["$ref"]}, body, "")

    def _check(self, document: dict, schema: dict, value, where: str) -> None:
        if "$ref" in schema:
            schema = document["schemas"][schema["$ref"]]
        kind = schema.get("type")
        label = where or "request body"
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                raise RequestInvalid(f"Invalid value at '{label}': expected an object, got {json.dumps(value)}")
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                path = f"{where}.{key}" if where else key
                if key in properties:
                    self._check(document, properties[key], item, path)
                elif extra is not None:
                    self._check(document, extra, item, path)
                else:
                    raise RequestInvalid(f"Invalid JSON payload received. Unknown name \"{key}\" at '{label}': Cannot find field.")
        elif kind == "array":
            if not isinstance(value, list):
                raise RequestInvalid(f"Invalid value at '{label}': expected a list, got {json.dumps(value)}")
            for index, item in enumerate(value):
                self._check(document, schema.get("items", {}), item, f"{where}[{index}]")
        elif kind == "string":
            self._check_string(schema, value, label)
        elif kind == "integer":
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))):
                raise RequestInvalid(f"Invalid value at '{label}' (TYPE_INT32), {json.dumps(value)}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RequestInvalid(f"Invalid value at '{label}' (TYPE_DOUBLE), {json.dumps(value)}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise RequestInvalid(f"Invalid value at '{label}' (TYPE_BOOL), {json.dumps(value)}")

    @staticmethod
    def _check_string(schema: dict, value, label: str) -> None:
        if schema.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
            return
        if not isinstance(value, str):
            raise RequestInvalid(f"Invalid value at '{label}' (TYPE_STRING), {json.dumps(value)}")
        if "enum" in schema and value not in schema["enum"]:
            raise RequestInvalid(f"Invalid value at '{label}' (TYPE_ENUM), \"{value}\"")
