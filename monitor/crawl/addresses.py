"""The network boundary (docs/security.md): which addresses a crawl may connect to.

A page, a feed or a sitemap is written by a stranger and may list any URL, so the crawler refuses to connect to
addresses inside the network: loopback, private, link-local (the cloud metadata service ``169.254.169.254``),
multicast, reserved and unspecified addresses, IPv4 and IPv6 (an IPv4-mapped IPv6 address counts as its IPv4
address).  A host is read the way resolvers read it, so ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and
``[::ffff:127.0.0.1]`` are all loopback; a host name is checked on the address it resolves to.

Two exceptions: a source whose own URLs are on such addresses (the demo, the tests, an intranet outlet) may
reach exactly those addresses, and ``MONITOR_ALLOW_PRIVATE_ADDRESSES = True`` lifts the rule.  The metadata
addresses (``169.254.169.254``, ``fd00:ec2::254``) are refused always.

This module is pure (no Scrapy): the crawl's ``monitor.crawl.netguard.NetGuardMiddleware``, ``monitor sources
check`` (``monitor.sources.fetch``) and the sources file's validation (``monitor.sources.catalogue``) share it.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


def normalise(address: Address) -> Address:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as its IPv4 address; any other unchanged."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_host_address(host: str | None) -> Address | None:
    """The address a URL's host stands for when it is an address literal, in any spelling a resolver accepts
    (``127.0.0.1``, ``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::ffff:7f00:1]``, ``fe80::1%eth0``);
    None for a host name."""
    if not host:
        return None
    text = host.strip().lower().strip("[]").rstrip(".")
    if not text:
        return None
    try:
        return normalise(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        pass
    if ":" in text or not all(c in "0123456789abcdefx." for c in text):
        return None
    try:   # the legacy inet_aton forms getaddrinfo accepts too: decimal, octal, hex, fewer than four parts
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def is_metadata(address: Address) -> bool:
    """A cloud metadata service address (refused always)."""
    return normalise(address) in METADATA_ADDRESSES


def blocked_reason(address: Address) -> str | None:
    """Why a crawl may not connect to ``address`` ("loopback", "private", ...), None for a public address."""
    a = normalise(address)
    if a in METADATA_ADDRESSES:
        return "cloud metadata"
    for attr, what in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                       ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                       ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(a, attr):
            return what
    if isinstance(a, ipaddress.IPv6Address) and a.sixtofour is not None:   # 2002::/16 wraps an IPv4 address
        return blocked_reason(a.sixtofour)
    if not a.is_global:   # shared (100.64.0.0/10), documentation, benchmarking ... ranges
        return "not public"
    return None



def source_hosts(source) -> list[str]:
    """The hosts of a source's own URLs (url, feeds, sitemaps, sections), in order, without repeats."""
    urls = [source.url, *source.feeds, *source.sitemaps, *source.sections]
    return list(dict.fromkeys((urlsplit(u).hostname or "").lower() for u in urls if urlsplit(u).hostname))


def resolve_blocking(host: str) -> list[Address]:
    """Every address ``host`` resolves to (getaddrinfo, blocking); [] when it does not resolve."""
    literal = parse_host_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(normalise(ipaddress.ip_address(info[4][0].split("%", 1)[0])))
        except ValueError:
            continue
    return list(dict.fromkeys(out))


def check_addresses(host: str, addresses, allowed=frozenset()) -> str | None:
    """None when ``host`` may be connected to at ``addresses``, else a one-line reason."""
    for a in addresses:
        why = blocked_reason(a)
        if why is None or (why != "cloud metadata" and a in allowed):
            continue
        shown = host if host.strip("[]") == str(a) else f"{host} ({a})"
        return f"{shown} is a {why} address"
    return None




def own_addresses(source, resolve=resolve_blocking) -> frozenset:
    """The internal addresses a source's own URLs are on (the exception above: its crawl may reach them)."""
    found = set()
    for host in source_hosts(source):
        found.update(a for a in resolve(host) if blocked_reason(a) not in (None, "cloud metadata"))
    return frozenset(found)
