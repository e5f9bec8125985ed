"""Which archive records a backfill keeps, and the page items they become.

``HostFilter`` maps a record's target URL to the configured source it belongs to: the same site as the
source's URL or one of its ``allowed_domains`` (registered domain, ``www.`` ignored: ``monitor.dedup.urls.site_key``),
or any host with ``--all-hosts`` (the source is then named after the site).  The check is a dict look-up per
host after the first record of that host, so reading and dropping records costs next to nothing next to
extraction.  ``classify`` says what to do with a kept record; ``page_for`` builds the page item the crawl's
extraction pool takes (``monitor.crawl.items.page_item``).
"""

from __future__ import annotations

from urllib.parse import urljoin

from monitor.crawl.items import page_item
from monitor.dedup.urls import site_key

HTML_TYPES = ("text/html", "application/xhtml+xml")


class HostFilter:
    """``source_for(url)``: the name of the source a URL belongs to, or None (see module doc)."""

    def __init__(self, sources, all_hosts: bool = False):
        self.all_hosts = all_hosts
        self.by_site: dict[str, str] = {}
        for s in sources:
            for domain in (s.url, *(f"http://{d}/" for d in s.allowed_domains)):
                key = site_key(domain)
                if key:
                    self.by_site.setdefault(key, s.name)
        self._hosts: dict[str, str | None] = {}

    def source_for(self, url: str) -> str | None:
        # the authority between "//" and the next "/": cheap, no urlsplit for records that are dropped
        start = url.find("//")
        if start < 0:
            return None
        end = url.find("/", start + 2)
        authority = url[start + 2:end if end >= 0 else None]
        key = url[:start] + authority   # scheme matters for default ports
        try:
            return self._hosts[key]
        except KeyError:
            pass
        site = site_key(url)
        name = self.by_site.get(site) if not self.all_hosts else (self.by_site.get(site) or site or None)
        if len(self._hosts) < 100_000:
            self._hosts[key] = name
        return name

    def keep(self, url: str) -> bool:
        return self.source_for(url) is not None


def classify(entry) -> str:
    """``page`` (extract it), ``redirect`` (a 3xx with a Location: an alias of its target), ``revisit``,
    ``truncated``, ``not_html`` or ``http_STATUS`` (skipped)."""
    if entry.record_type == "revisit":
        return "revisit"
    status = entry.status
    if status is not None and 300 <= status < 400 and entry.location:
        return "redirect"
    if status != 200:
        return f"http_{status}"
    ctype = (entry.content_type or "").split(";", 1)[0].strip().lower()
    if ctype and ctype not in HTML_TYPES:
        return "not_html"
    if entry.truncated:
        return "truncated"
    return "page"


def redirect_target(entry) -> str:
    return urljoin(entry.url, entry.location.strip())


def page_for(entry, source: str, via: str) -> dict:
    """The extraction pool's page item for an archived response (link-found pages' rules: a page without
    article markup is kept only when its URL looks like a story's)."""
    ctype = entry.content_type or "text/html"
    encoding = None
    if "charset=" in ctype.lower():
        encoding = ctype.lower().split("charset=", 1)[1].split(";", 1)[0].strip().strip('"\'') or None
    return page_item(source=source, url=entry.url, request_urls=[entry.url], body=entry.body, encoding=encoding,
                     content_type=ctype, status=entry.status or 200, via=via, require_signals=True)
