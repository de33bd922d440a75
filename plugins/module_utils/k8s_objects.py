# -*- coding: utf-8 -*-
# Copyright: aibang.gke_platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read several groups of Kubernetes objects in one run: each query names a kind, the namespaces to look in, and a
name or label selectors; the answer is every object found, in query order, as kubernetes.core.k8s_info returns them
(list items carry their apiVersion and kind; a missing named object or an API the server does not serve is none),
but a Secret's values are masked.

The HTTP call is injected: `request(method, path, query, body, content_type) -> (status, body or None)` (the one
app_workload_client.requester builds), so the unit tests pass a fake API server in. Kinds app_workload knows are
mapped to their REST paths without a round trip; any other kind is looked up once in its API group's resource list.
"""

from __future__ import annotations

from ansible_collections.aibang.gke_platform.plugins.module_utils.app_workload_apply import RESOURCES, masked

QUERY_FIELDS = ("api_version", "kind", "namespaces", "name", "label_selectors")


class QueryError(ValueError):
    """Bad input or an API server error: the message names the query and the field."""


def check_queries(queries: list) -> list:
    """The queries, checked before anything is read: api_version and kind are set, a name or selectors (not both)."""
    for index, query in enumerate(queries):
        where = f"queries[{index}]"
        if not isinstance(query, dict):
            raise QueryError(f"{where}: {query!r} is not a mapping")
        unknown = sorted(set(query) - set(QUERY_FIELDS))
        if unknown:
            raise QueryError(f"{where}.{unknown[0]}: not a query field (fields: {', '.join(QUERY_FIELDS)})")
        for field in ("api_version", "kind"):
            if not isinstance(query.get(field), str) or not query[field]:
                raise QueryError(f"{where}.{field}: {query.get(field)!r} is not a non-empty string")
        namespaces = query.get("namespaces") or []
        if not isinstance(namespaces, list) or not all(isinstance(item, str) and item for item in namespaces):
            raise QueryError(f"{where}.namespaces: {namespaces!r} is not a list of namespace names")
        selectors = query.get("label_selectors") or []
        if not isinstance(selectors, list) or not all(isinstance(item, str) for item in selectors):
            raise QueryError(f"{where}.label_selectors: {selectors!r} is not a list of strings")
        if query.get("name") and selectors:
            raise QueryError(f"{where}: name {query['name']!r} and label_selectors {selectors!r} together; give one")
    return queries


def api_prefix(api_version: str) -> str:
    return "/api/v1" if api_version == "v1" else f"/apis/{api_version}"


def resource_of(request, api_version: str, kind: str, known: dict) -> tuple | None:
    """(prefix, plural, namespaced) of a kind, from RESOURCES or the group's resource list (cached in ``known``);
    None when the server does not serve it."""
    if (api_version, kind) in RESOURCES:
        return RESOURCES[(api_version, kind)]
    if api_version not in known:
        status, answer = request("GET", api_prefix(api_version), {}, None, None)
        if status == 404:
            known[api_version] = []
        elif status >= 400 or not isinstance(answer, dict):
            raise QueryError(f"Failed to list the resources of {api_version}: HTTP {status}: {reason_of(answer)}")
        else:
            known[api_version] = answer.get("resources") or []
    for resource in known[api_version]:
        if resource.get("kind") == kind and "/" not in resource.get("name", "/"):
            return api_prefix(api_version), resource["name"], bool(resource.get("namespaced"))
    return None


def reason_of(answer) -> str:
    return (answer or {}).get("message") if isinstance(answer, dict) else str(answer)


def path_of(resource: tuple, namespace: str | None, name: str | None) -> str:
    prefix, plural, namespaced = resource
    parts = [prefix] + (["namespaces", namespace] if namespaced and namespace else []) + [plural] + ([name] if name else [])
    return "/".join(parts)


def read_one(request, query: dict, namespace: str | None, resource: tuple) -> list:
    """The objects one query finds in one namespace."""
    name = query.get("name")
    selectors = query.get("label_selectors") or []
    params = {"labelSelector": ",".join(selectors)} if selectors and not name else {}
    status, answer = request("GET", path_of(resource, namespace, name), params, None, None)
    if status == 404:
        return []
    if status >= 400:
        where = f"{namespace}/" if namespace else ""
        raise QueryError(f"Failed to read {query['kind']} {where}{name or ','.join(selectors) or '*'}: HTTP {status}: "
                         f"{reason_of(answer)}")
    if name:
        return [answer]
    kind = answer.get("kind", "")
    item_kind = kind[:-4] if kind.endswith("List") else query["kind"]
    return [{"apiVersion": answer.get("apiVersion", query["api_version"]), "kind": item_kind, **item}
            for item in answer.get("items") or []]


def read_all(request, queries: list) -> list:
    """Every object the queries find, in query order (per query, in its namespaces' order)."""
    known = {}
    found = []
    for query in check_queries(queries):
        resource = resource_of(request, query["api_version"], query["kind"], known)
        if resource is None:
            continue
        for namespace in query.get("namespaces") or [None]:
            found += [masked(obj) for obj in read_one(request, query, namespace, resource)]
    return found
