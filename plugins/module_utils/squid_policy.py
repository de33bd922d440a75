# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress policy: one source for both Squid tiers.

``parse_policy(raw)`` turns user input into a :class:`Policy`, or raises :class:`PolicyError` naming the field and
the value. Normalisations it makes (case, trailing dot, IDNA, entries covered by a wildcard) come back as warnings.
Pure Python, standard library only: it runs on the controller and on managed hosts alike.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # Python < 3.9 on a managed host: time zone names are checked where zoneinfo exists
    ZoneInfo = None

TIERS = ("gke", "vm")
DAY_LETTERS = "SMTWHFA"  # Squid's `time` ACL: Sunday, Monday, ... Thursday is H, Saturday is A
DEFAULT_PROXY_PORT = 3128
DEFAULT_ALLOWED_PORTS = (443,)
PLAIN_HTTP_PORTS = (80,)
# Destinations no allowed name may resolve to, at either tier (policy.denied_destinations when it is absent).
DEFAULT_DENIED_DESTINATIONS = (
    "127.0.0.0/8", "::1/128",  # loopback: the proxy host itself
    "0.0.0.0/8", "::/128",  # unspecified, "this host"
    "169.254.0.0/16", "fe80::/10",  # link-local, the metadata server 169.254.169.254 among them
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",  # private: the VPC, its peers, fd20:ce::254
    "100.64.0.0/10",  # shared address space (carrier-grade NAT, GKE pod ranges on some clusters)
    # NAT64 (RFC 6052 well-known prefix, RFC 8215 local use): an address here is an IPv4 address behind a translator,
    # 64:ff9b::a9fe:a9fe is 169.254.169.254; a DNS64 resolver makes them up for any IPv4-only name.
    "64:ff9b::/96", "64:ff9b:1::/48",
    # 6to4 (RFC 3056) and Teredo (RFC 4380): IPv4 addresses embedded in IPv6 ones, reached through a relay;
    # 2002:a9fe:a9fe:: is 169.254.169.254's 6to4 network. No service of today is reached only this way.
    "2002::/16", "2001::/32",
)

# Patterns are applied with fullmatch: `$` would also accept a trailing newline, a line break in squid.conf.
_NAME = re.compile(r"[a-z0-9-]+")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_IPV4_CHARS = frozenset("0123456789.")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_NAME_OF_ZONE = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*")

_TOP_KEYS = {"name", "proxy_port", "allowed_domains", "allowed_ports", "allow_plain_http", "denied_destinations", "gke", "vm"}
_TIER_KEYS = {
    "gke": {"client_cidrs", "allowed_domains"},
    "vm": {"address", "client_cidrs", "allowed_domains", "business_hours"},
}
_HOURS_KEYS = {"days", "start", "end", "timezone"}


class PolicyError(ValueError):
    """Invalid policy input. ``field`` is the path of the offending entry, e.g. ``policy.gke.client_cidrs[1]``."""

    def __init__(self, field: str, value: object, problem: str):
        self.field = field
        self.value = value
        super().__init__(f"{field}: {value!r} {problem}")


def config_word(raw: object, field: str, what: str) -> str:
    """``raw`` as one word of a squid.conf line: a string without whitespace, '%' or control characters.

    Every value the renderer writes passes here (or a stricter pattern), so no input can start a new directive.
    """
    if not isinstance(raw, str) or not raw or "%" in raw or not raw.isprintable() or any(char.isspace() for char in raw):
        raise PolicyError(field, raw, f"must be {what}: one word without whitespace, '%' or control characters")
    return raw


def parse_ip(raw: object, field: str, what: str = "an IP address"):
    """An IPv4 or IPv6 address without a scope id (Python accepts any text after '%', newlines included)."""
    text = config_word(str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw, field, what)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise PolicyError(field, raw, f"must be {what}") from None


@dataclass(frozen=True)
class DomainList:
    """Squid ``dstdomain`` semantics: ``exact`` hosts, and ``wildcard`` bases that match themselves and subdomains."""

    exact: frozenset
    wildcard: frozenset

    def match(self, host: str):
        """Return the entry (as written in squid.conf) that matches ``host``, or None."""
        if host in self.exact:
            return host
        base = _covering_wildcard(host, self.wildcard, include_self=True)
        return None if base is None else "." + base

    def entries(self) -> list:
        """Entries as Squid reads them, grouped by parent domain so that related names sit together."""
        names = [(name, name) for name in self.exact] + [(name, "." + name) for name in self.wildcard]
        return [entry for name, entry in sorted(names, key=lambda pair: pair[0].split(".")[::-1])]


@dataclass(frozen=True)
class BusinessHours:
    days: str  # letters from DAY_LETTERS, in that order
    start: int  # minutes after midnight
    end: int
    timezone: str

    def squid_spec(self) -> str:
        return f"{self.days} {_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True)
class Tier:
    name: str
    client_cidrs: tuple
    domains: DomainList
    address: str | None = None
    business_hours: BusinessHours | None = None


@dataclass(frozen=True)
class Policy:
    name: str
    proxy_port: int
    allowed_ports: tuple
    allow_plain_http: bool
    gke: Tier
    vm: Tier
    denied_destinations: tuple = ()  # ip_network objects; empty: the destination guard is off
    warnings: tuple = ()

    def denied_range(self, address):
        """The first denied_destinations range holding ``address`` (an ip_address), or None."""
        address = getattr(address, "ipv4_mapped", None) or address  # Squid compares ::ffff:a.b.c.d as IPv4
        return next((network for network in self.denied_destinations if address in network), None)

    def tier(self, name: str) -> Tier:
        if name not in TIERS:
            raise PolicyError("tier", name, f"is not one of {', '.join(TIERS)}")
        return self.gke if name == "gke" else self.vm


def parse_policy(raw: object, field: str = "policy") -> Policy:
    warnings: list = []
    data = _mapping(raw, field, _TOP_KEYS)
    name = _require(data, "name", field)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PolicyError(f"{field}.name", name, "must match [a-z0-9-]+")
    proxy_port = parse_port(data.get("proxy_port", DEFAULT_PROXY_PORT), f"{field}.proxy_port")
    allowed_ports = _ports(data.get("allowed_ports", list(DEFAULT_ALLOWED_PORTS)), f"{field}.allowed_ports")
    allow_plain_http = _bool(data.get("allow_plain_http", False), f"{field}.allow_plain_http")
    shared_domains = parse_domains(_require(data, "allowed_domains", field), f"{field}.allowed_domains", warnings)
    denied = _denied_destinations(data.get("denied_destinations"), f"{field}.denied_destinations", warnings)
    tiers = {}
    for tier_name in TIERS:
        tier_field = f"{field}.{tier_name}"
        tier_data = _mapping(_require(data, tier_name, field), tier_field, _TIER_KEYS[tier_name])
        tiers[tier_name] = _tier(tier_name, tier_data, shared_domains, tier_field, warnings)
    return Policy(name, proxy_port, allowed_ports, allow_plain_http, tiers["gke"], tiers["vm"], denied, tuple(warnings))


def _denied_destinations(raw: object, field: str, warnings: list) -> tuple:
    if raw is None:
        raw = list(DEFAULT_DENIED_DESTINATIONS)
    if not isinstance(raw, list):
        raise PolicyError(field, raw, "must be a list of CIDR ranges (an empty list turns the destination guard off)")
    if not raw:
        warnings.append(f"{field} is empty: the destination guard is off, so an allowed name that resolves to the "
                        "metadata server, loopback or a private address passes both tiers")
    networks = [parse_cidr(entry, f"{field}[{index}]") for index, entry in enumerate(raw)]
    kept = []
    for index, network in enumerate(networks):
        # Squid ignores a range inside another one of the same ACL (with a warning): say so here, once.
        cover = next((other for position, other in enumerate(networks) if position != index and other.version == network.version
                      and network.subnet_of(other) and (other != network or position < index)), None)
        if cover is None:
            kept.append(network)
        else:
            warnings.append(f"{field}[{index}]: {raw[index]!r} is covered by {str(cover)!r}; dropped")
    return tuple(kept)


def _tier(name: str, data: dict, shared_domains: DomainList, field: str, warnings: list) -> Tier:
    if "allowed_domains" in data:
        domains = parse_domains(data["allowed_domains"], f"{field}.allowed_domains", warnings)
    else:
        domains = shared_domains
    cidrs = _cidrs(_require(data, "client_cidrs", field), f"{field}.client_cidrs")
    if name == "gke":
        return Tier(name, cidrs, domains)
    address = _address(_require(data, "address", field), f"{field}.address")
    hours = data.get("business_hours")
    hours = None if hours is None else _business_hours(hours, f"{field}.business_hours")
    return Tier(name, cidrs, domains, address, hours)


def parse_domains(raw: object, field: str, warnings: list) -> DomainList:
    """Validate and normalise an allow-list; drop entries a wildcard covers, so Squid never sees overlaps."""
    if not isinstance(raw, list) or not raw:
        raise PolicyError(field, raw, "must be a non-empty list of domain names")
    exact: dict = {}
    wildcard: dict = {}
    for index, entry in enumerate(raw):
        entry_field = f"{field}[{index}]"
        name, is_wildcard = normalize_domain(entry, entry_field)
        written = "." + name if is_wildcard else name
        if written != entry:
            warnings.append(f"{entry_field}: {entry!r} normalised to {written!r}")
        seen = wildcard if is_wildcard else exact
        if name in seen:
            warnings.append(f"{entry_field}: {written!r} is listed twice (first at {seen[name]}); kept once")
            continue
        seen[name] = entry_field
    return DomainList(_uncovered(exact, wildcard, False, warnings), _uncovered(wildcard, wildcard, True, warnings))


def _uncovered(entries: dict, wildcard: dict, are_wildcards: bool, warnings: list) -> frozenset:
    """The names of ``entries`` that no (other) wildcard covers; a warning for each one dropped."""
    kept = set()
    for name, entry_field in entries.items():
        cover = _covering_wildcard(name, wildcard, include_self=not are_wildcards)
        if cover:
            written = "." + name if are_wildcards else name
            warnings.append(f"{entry_field}: {written!r} is covered by '.{cover}'; dropped")
        else:
            kept.add(name)
    return frozenset(kept)


def normalize_domain(entry: object, field: str) -> tuple:
    """Return (name, is_wildcard) for one allow-list entry, ``name`` in lowercase ASCII without dots at either end."""
    if not isinstance(entry, str):
        raise PolicyError(field, entry, "must be a domain name string")
    text = entry.strip()
    if not text:
        raise PolicyError(field, entry, "is empty")
    if "*" in text:
        raise PolicyError(field, entry, "uses a '*' wildcard; write '.example.com' to allow example.com and its subdomains")
    if "://" in text or "/" in text:
        raise PolicyError(field, entry, "looks like a URL or a path; give the host name only")
    if _is_ip_literal(text.strip("[]")):
        raise PolicyError(field, entry, "is an IP address; domain lists take names only (dstdomain -n never matches an IP)")
    if ":" in text:
        raise PolicyError(field, entry, "contains ':'; give the host name only and list ports in allowed_ports")
    is_wildcard = text.startswith(".")
    name = text[1:] if is_wildcard else text
    if name.endswith("."):
        name = name[:-1]
    name = _to_ascii(name.lower(), field, entry)
    _check_host_name(name, field, entry)
    if is_wildcard and "." not in name:
        raise PolicyError(field, entry, "would allow a whole top-level domain")
    return name, is_wildcard


def normalize_host(host: str) -> str:
    """A request's host as Squid compares it: lowercase, IDNA, no trailing dot, no IPv6 brackets."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        return name[1:-1]
    name = name.rstrip(".")
    try:
        return _to_ascii(name, "host", host)
    except PolicyError:
        return name


def is_ip_literal(host: str) -> bool:
    return _is_ip_literal(host)


def _covering_wildcard(name: str, wildcard, include_self: bool):
    """The wildcard base (without its dot) covering ``name``; ``include_self``: a wildcard of the name itself counts."""
    labels = name.split(".")
    for start in range(0 if include_self else 1, len(labels)):
        base = ".".join(labels[start:])
        if base in wildcard:
            return base
    return None


def _to_ascii(name: str, field: str, entry: object) -> str:
    if name.isascii():
        return name
    try:
        return ".".join(label.encode("idna").decode("ascii") if not label.isascii() else label for label in name.split("."))
    except UnicodeError as exc:
        raise PolicyError(field, entry, f"is not a valid internationalised domain name ({exc})") from None


def _check_host_name(name: str, field: str, entry: object) -> None:
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise PolicyError(field, entry, "is not a valid domain name (letters, digits and '-' in dot-separated labels)")
    if labels[-1].isdigit():
        raise PolicyError(field, entry, "is not a valid domain name (its last label is numeric)")


def _is_ip_literal(text: str) -> bool:
    if ":" not in text and not _IPV4_CHARS.issuperset(text):
        return False  # what ipaddress would say, without its cost: names are checked on every decision
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _mapping(raw: object, field: str, allowed: set) -> dict:
    if not isinstance(raw, dict):
        raise PolicyError(field, raw, "must be a mapping")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise PolicyError(f"{field}.{unknown[0]}", raw[unknown[0]], f"is not a known key; known keys: {', '.join(sorted(allowed))}")
    return raw


def _require(data: dict, key: str, field: str) -> object:
    if data.get(key) is None:
        raise PolicyError(f"{field}.{key}", None, "is required")
    return data[key]


def parse_port(raw: object, field: str) -> int:
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 65535:
        raise PolicyError(field, raw, "must be a port number from 1 to 65535")
    return raw


def _ports(raw: object, field: str) -> tuple:
    if not isinstance(raw, list) or not raw:
        raise PolicyError(field, raw, "must be a non-empty list of port numbers")
    return tuple(sorted({parse_port(port, f"{field}[{index}]") for index, port in enumerate(raw)}))


def _bool(raw: object, field: str) -> bool:
    if not isinstance(raw, bool):
        raise PolicyError(field, raw, "must be true or false")
    return raw


def _cidrs(raw: object, field: str) -> tuple:
    if not isinstance(raw, list) or not raw:
        raise PolicyError(field, raw, "must be a non-empty list of CIDR ranges")
    return tuple(parse_cidr(entry, f"{field}[{index}]") for index, entry in enumerate(raw))


def parse_cidr(raw: object, field: str):
    text = config_word(raw, field, "a CIDR range such as 10.0.0.0/8")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise PolicyError(field, raw, f"is not a valid CIDR range ({exc})") from None


def _address(raw: object, field: str) -> str:
    what = "the tier-2 VM's IP address or host name"
    text = config_word(raw.strip() if isinstance(raw, str) else raw, field, what)
    if _is_ip_literal(text):
        return str(parse_ip(text, field, what))
    name = text.lower().rstrip(".")
    _check_host_name(name, field, raw)
    return name


def _business_hours(raw: object, field: str) -> BusinessHours:
    data = _mapping(raw, field, _HOURS_KEYS)
    days = _require(data, "days", field)
    if not isinstance(days, str) or not days or any(day not in DAY_LETTERS for day in days):
        raise PolicyError(f"{field}.days", days, f"must be letters from {DAY_LETTERS} (S=Sunday, H=Thursday, A=Saturday)")
    start = _minutes(_require(data, "start", field), f"{field}.start")
    end = _minutes(_require(data, "end", field), f"{field}.end")
    if start >= end:
        raise PolicyError(f"{field}.start", data["start"], f"must be before end ({data['end']!r}); windows cannot cross midnight")
    timezone = data.get("timezone", "UTC")
    if not isinstance(timezone, str) or not _NAME_OF_ZONE.fullmatch(timezone) or not _is_time_zone(timezone):
        raise PolicyError(f"{field}.timezone", timezone, "must be an IANA time zone name such as 'UTC' or 'Europe/London'")
    ordered_days = "".join(day for day in DAY_LETTERS if day in days)
    return BusinessHours(ordered_days, start, end, timezone)


def _is_time_zone(name: str) -> bool:
    if ZoneInfo is None:
        return bool(name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _minutes(raw: object, field: str) -> int:
    match = _CLOCK.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        raise PolicyError(field, raw, "must be a 24-hour time 'HH:MM' (quote it in YAML)")
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
