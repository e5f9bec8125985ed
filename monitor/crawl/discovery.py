"""Pure discovery helpers shared by the spider and ``monitor sources check``.

Reading robots.txt ``Sitemap:`` lines, ``<link rel="alternate">`` feeds on a home page and feed entries
(RSS/Atom/RDF through feedparser, JSON Feed through ``json``), telling article URLs from navigation pages,
and whether a URL is on a source's site.  Sitemaps have their own reader, ``monitor.crawl.sitemaps``.
No Scrapy, no I/O: callers download.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

NAVIGATION_RE = re.compile(
    r"/(tag|tags|author|authors|category|categories|section|sections|topic|topics|about|contact|search|"
    r"page|archive|archives|login|subscribe|privacy|terms|rubric|rubrics|label|people)(/|$)|[?&](page|p|s)=",
    re.I)
PAGINATION_RE = re.compile(r"(/page/\d+/?$)|([?&]page=\d+)", re.I)
# Pages that are never articles even when a feed or sitemap lists them (sitemaps often list every page).
NEVER_ARTICLE_RE = re.compile(
    r"^/([a-z]{2}(-[a-z]{2})?/)?((tag|tags|author|authors|about|about-us|contact|contacts|search|login|"
    r"subscribe|privacy|privacy-policy|terms|advertising|reklama|o-nas|kontakty)(/.*)?|page/\d+/?)?$", re.I)
# <link rel="alternate" type=...> values that announce a feed
FEED_LINK_TYPES = ("rss", "atom", "feed+json", "rdf")


class FeedError(ValueError):
    """A feed body that cannot be read (the message says why)."""


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of an absolute http(s) URL, the port None when it is the scheme's default (so
    ``http://h/`` and ``https://h:443/`` are both ``("h", None)``); None for anything else or a bad port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:   # e.g. an invalid IPv6 literal or port in a feed link
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return host, (None if port in (None, DEFAULT_PORTS[scheme]) else port)


def port_allowed(url: str, origins) -> bool:
    """Whether ``url`` is at a port the source uses on that host: a host among ``origins`` (``(host, port)`` of
    the source's own URLs) only at those ports, a host below one (``news.example.com``) only at the default
    port.  Other hosts (extra ``allowed_domains``, named by whoever wrote the sources file) are not judged here
    (True); the address check (``monitor.crawl.netguard``) still applies to them."""
    found = origin(url)
    if found is None:
        return False
    host, port = found
    own = {p for h, p in origins if h == host}
    if own:
        return port in own
    if any(host.endswith("." + h) for h, _ in origins):
        return port is None
    return True


def on_site(url: str, domains, origins=None) -> bool:
    """An absolute http(s) URL whose host is one of ``domains`` or below one (``news.example.com`` is on
    ``example.com``), and, given the source's ``origins`` (``Source.origins``), at a port the source uses on
    that host (``port_allowed``; ports of extra allowed domains are not judged): the one site check of the spider and ``monitor sources check``.  A feed on
    ``127.0.0.1:18080`` linking to ``127.0.0.1:6379`` is off site."""
    found = origin(url)
    if found is None:
        return False
    host = found[0]
    if not any(host == d or host.endswith("." + d) for d in domains):
        return False
    return origins is None or port_allowed(url, origins)


def never_article(url: str) -> bool:
    """Home, about, contact, tag and author pages: skipped even when a sitemap lists them."""
    return bool(NEVER_ARTICLE_RE.match(urlsplit(url).path or "/"))


def looks_like_navigation(url: str) -> bool:
    """Tag, author, section, pagination and about pages: followed for links, never stored."""
    path = urlsplit(url).path or "/"
    if path in ("", "/"):
        return True
    return bool(NAVIGATION_RE.search(url))


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """Absolute URLs of the ``Sitemap:`` lines of a robots.txt, in order, without repeats."""
    out = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            out.append(urljoin(base_url, value.strip()))
    return list(dict.fromkeys(out))


def _hrefs(html: str | bytes, base_url: str, tag: str):
    """``(element, href, base)`` for each ``<tag>`` of a page with a non-empty ``href``; ``base`` is the URL the
    href resolves against (the page's ``<base href>`` if it has one).  Nothing for an unreadable page."""
    import lxml.html

    if not html or not html.strip():
        return
    try:
        tree = lxml.html.fromstring(html.encode("utf-8", "replace") if isinstance(html, str) else html)
    except (ValueError, TypeError, lxml.etree.ParserError):
        return
    base = next((b.get("href") for b in tree.iter("base") if b.get("href")), None)
    if base:
        base_url = urljoin(base_url, base.strip())
    for element in tree.iter(tag):
        href = (element.get("href") or "").strip()
        if href:
            yield element, href, base_url


def alternate_feeds(html: str, base_url: str) -> list[str]:
    """Feeds a page announces with ``<link rel="alternate" type="application/rss+xml" ...>`` (absolute
    URLs, in order, comment feeds left out)."""
    out = []
    for link, href, base in _hrefs(html, base_url, "link"):
        rel = (link.get("rel") or "").lower().split()
        ctype = (link.get("type") or "").lower()
        if "alternate" in rel and any(t in ctype for t in FEED_LINK_TYPES):
            url = urljoin(base, href)
            if "comments" not in url:
                out.append(url)
    return list(dict.fromkeys(out))


def page_links(html: str, base_url: str) -> list[str]:
    """Absolute http(s) links (``<a href>``) of a page, fragments dropped, in order, without repeats."""
    out = []
    for _a, href, base in _hrefs(html, base_url, "a"):
        if href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base, href).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https"):
            out.append(url)
    return list(dict.fromkeys(out))


def _iso_from_struct(value) -> str | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=timezone.utc).isoformat()
    except (TypeError, ValueError):
        return None


def feed_entries(body: bytes, url: str) -> list[tuple[str, dict]]:
    """``[(link, hints), ...]`` of an RSS/Atom/RDF feed or a JSON Feed; links may be relative to ``url``.

    hints: ``title``, ``published`` (ISO 8601), ``author``, ``language`` (None when absent).
    Raises ``FeedError`` when the body is not a readable feed.
    """
    return read_feed(body, url)[0]


def read_feed(body: bytes, url: str) -> tuple[list[tuple[str, dict]], str | None]:
    """``(feed_entries(body, url), problem)``: ``problem`` says the XML is malformed (truncated, undefined
    entities ...) when entries could still be read from it (feedparser's lenient parser), else None.
    Entities are never expanded (entity bombs and external entities stay inert text)."""
    if body.lstrip()[:1] in (b"{", b"["):
        return _json_feed_entries(body), None
    import xml.sax

    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"feed could not be read: {parsed.get('bozo_exception')}")
    problem = None
    if parsed.bozo and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        problem = f"feed XML is malformed ({parsed.get('bozo_exception')})"
    entries = []
    for e in parsed.entries:
        link = e.get("link") or next((l.get("href") for l in e.get("links", []) if l.get("href")), None)
        if not link:
            continue
        entries.append((link, {
            "title": e.get("title"),
            "published": _iso_from_struct(e.get("published_parsed") or e.get("updated_parsed")),
            "author": e.get("author"),
            "language": (parsed.feed.get("language") or None),
        }))
    return entries, problem


def _json_feed_entries(body: bytes) -> list[tuple[str, dict]]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise FeedError(f"JSON feed could not be read: {exc}") from None
    out = []
    for item in (data.get("items") or []) if isinstance(data, dict) else []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or item.get("id")
        if not isinstance(link, str):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = ", ".join(a.get("name", "") for a in authors if isinstance(a, dict) and a.get("name")) or None
        out.append((link, {"title": item.get("title"), "published": item.get("date_published"),
                           "author": author, "language": item.get("language") or data.get("language")}))
    return out
