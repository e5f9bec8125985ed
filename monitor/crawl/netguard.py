"""``NetGuardMiddleware``: the network boundary of a crawl (``monitor.crawl.addresses``, docs/security.md).

Every request (so every redirect hop: each hop is a new request through the middlewares) has its host resolved
and checked before it goes out; a redirect hop must also stay on the ports the source uses on its own hosts
(``monitor.crawl.discovery.port_allowed``: Scrapy's OffsiteMiddleware compares host names only).  Refusals raise ``BlockedAddress``, recorded in ``fetch_errors`` with
reason ``blocked_address``.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from monitor.crawl.addresses import (Address, blocked_reason, check_addresses, is_metadata, normalise,
                                     parse_host_address, source_hosts)
from monitor.crawl.discovery import port_allowed

logger = logging.getLogger(__name__)


class BlockedAddress(IgnoreRequest):
    """A request refused by the network boundary (recorded as ``blocked_address``)."""


class NetGuardMiddleware:
    """Refuse requests to internal addresses and redirect hops off the source's scheme+host+port set.

    The host is resolved here, through the reactor's resolver (Scrapy's ``DNS_RESOLVER``, whose cache the
    connection then reads: the address checked is the address connected to, see docs/security.md for the
    limits), before the request reaches the download handler.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow_all = crawler.settings.getbool("MONITOR_ALLOW_PRIVATE_ADDRESSES")
        self.cache: dict[str, list[Address]] = {}
        self._allowed: dict[str, frozenset] = {}   # spider name -> its source's own internal addresses

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def resolve(self, host: str) -> list[Address]:
        """The addresses the connection will use for ``host``.  A name that does not resolve raises Twisted's
        ``DNSLookupError`` here (retried and recorded as ``dns_error`` like Scrapy's own): letting the request go on
        would let the connection resolve it again, unchecked."""
        literal = parse_host_address(host)
        if literal is not None:
            return [literal]
        if host in self.cache:
            return self.cache[host]
        from twisted.internet import reactor

        from scrapy.utils.defer import maybe_deferred_to_future

        from twisted.internet.error import DNSLookupError

        try:
            found = await maybe_deferred_to_future(reactor.resolve(host))
            addresses = [normalise(ipaddress.ip_address(found))]
        except DNSLookupError:
            raise
        except Exception as exc:  # noqa: BLE001 - a timeout, an answer that is no address ...
            raise DNSLookupError(f"{host}: {exc}") from None
        if len(self.cache) > 10000:
            self.cache.clear()
        self.cache[host] = addresses
        return addresses

    async def allowed_for(self, spider) -> frozenset:
        """The internal addresses the spider's source is itself on (the exception of the module docstring)."""
        name = getattr(spider, "name", None) or ""
        if name not in self._allowed:
            source = getattr(spider, "source", None)
            found = set()
            for host in (source_hosts(source) if source is not None else ()):
                try:
                    resolved = await self.resolve(host)
                except Exception:  # noqa: BLE001 - a host of the source that does not resolve allows nothing
                    continue
                found.update(a for a in resolved if blocked_reason(a) not in (None, "cloud metadata"))
            self._allowed[name] = frozenset(found)
        return self._allowed[name]

    def _refuse(self, request, message: str):
        self.stats.inc_value("monitor/blocked_address")
        logger.warning("refused %s: %s", request.url, message)
        raise BlockedAddress(message)

    async def process_request(self, request):
        spider = self.crawler.spider
        if request.meta.get("redirect_urls") and getattr(spider, "source", None) is not None:
            # Scrapy's OffsiteMiddleware compares host names only: a redirect to another port of the source's host
            # (an internal service next to the site) would pass it
            if not port_allowed(request.url, spider.source.origins):
                self._refuse(request, f"redirect to {request.url}: a port (or scheme) the source does not use on "
                                      "that host")
        host = (urlsplit(request.url).hostname or "").lower()
        if not host:
            return None
        addresses = await self.resolve(host)
        if self.allow_all:
            addresses = [a for a in addresses if is_metadata(a)]
        message = check_addresses(host, addresses, await self.allowed_for(spider))
        if message:
            self._refuse(request, message + " (internal addresses are refused; see MONITOR_ALLOW_PRIVATE_ADDRESSES)")
        return None
