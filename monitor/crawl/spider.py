"""The generic news spider: discovery through robots.txt, feeds, sitemaps and section pages.

One subclass per source is made by ``NewsSpider.for_source`` (see ``monitor.crawl.spiderloader``).  The
spider only finds and downloads candidate article pages; extraction, deduplication, topics and
storage happen in the pipelines.  Feeds go through feedparser (JSON Feed through ``json``), sitemaps
through lxml with entity resolution and network access off, so robots.txt, throttling and retries
stay in play for every request.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor

from monitor.crawl.discovery import (  # noqa: F401  (pure helpers, shared with `monitor sources check`)
    NAVIGATION_RE, NEVER_ARTICLE_RE, PAGINATION_RE, FeedError, alternate_feeds, feed_entries, looks_like_navigation,
    never_article, on_site, read_feed, robots_sitemaps)
from monitor.crawl.frontier import FrontierFeeder
from monitor.crawl.items import fetch_error_item, fetch_state_item, page_item, url_alias_item
from monitor.crawl.scrapy_compat import is_scrapy_parse
from monitor.crawl.sitemaps import SitemapStream
from monitor.crawl.urlmemory import UrlMemory, url_keys_cached
from monitor.sources.catalogue import Source


class NewsSpider(scrapy.Spider):
    """Generic spider for one ``Source``; ``for_source`` makes the concrete class."""

    name = None  # set per source
    source: Source | None = None
    refresh = False
    max_refetches = 200   # MONITOR_MAX_REFETCHES (from_crawler)
    frontier = None       # monitor.crawl.frontier.FrontierFeeder of article candidates (from_crawler)

    @classmethod
    def for_source(cls, source: Source) -> type["NewsSpider"]:
        camel = "".join(p.capitalize() for p in re.split(r"[-_]", source.name))
        return type(f"{camel}Spider", (cls,), {
            "name": source.name, "source": source, "allowed_domains": list(source.domains),
            "__module__": cls.__module__,
        })

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.link_requests = 0
        self.counts = {"feeds": 0, "sitemaps": 0, "candidates": 0, "skipped_known": 0}
        self.seen_candidates: set[str] = set()
        self.skipped_known: set[str] = set()   # canonical URLs of stored articles skipped in this crawl
        self.lastmod_refetches = 0
        # domain filtering is done by _on_site (hostname based: LinkExtractor's allow_domains trips on ports)
        self.link_extractor = LinkExtractor(unique=True)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.max_depth = s.getint("MONITOR_MAX_DEPTH")
        spider.max_link_pages = s.getint("MONITOR_MAX_PAGES_PER_SOURCE")
        spider.max_section_pages = s.getint("MONITOR_MAX_SECTION_PAGES")
        spider.max_feed_entries = s.getint("MONITOR_MAX_FEED_ENTRIES")
        spider.max_sitemap_urls = s.getint("MONITOR_MAX_SITEMAP_URLS")
        spider.max_sitemap_depth = s.getint("MONITOR_MAX_SITEMAP_DEPTH")
        spider.sitemap_max_age = s.getint("MONITOR_SITEMAP_MAX_AGE_DAYS")
        spider.refresh = s.getbool("MONITOR_REFRESH")
        spider.max_refetches = s.getint("MONITOR_MAX_REFETCHES")
        extra = [d.strip().lower() for d in s.get("MONITOR_ALLOWED_DOMAINS", "").split(",") if d.strip()]
        if extra:
            spider.allowed_domains = list(dict.fromkeys([*spider.allowed_domains, *extra]))
        # reliability (docs/reliability.md): sitemaps parsed while they download, pages cut at DOWNLOAD_MAXSIZE
        spider.sitemap_max_bytes = s.getint("MONITOR_SITEMAP_MAX_BYTES")
        spider.page_maxsize = s.getint("DOWNLOAD_MAXSIZE")
        # Request -> SitemapStream of its download in progress (weak: a redirected or dropped request's goes away)
        from weakref import WeakKeyDictionary

        spider.sitemap_streams = WeakKeyDictionary()
        spider.frontier = FrontierFeeder.for_spider(spider, spider._article_request)   # None: off
        from scrapy import signals

        crawler.signals.connect(spider._on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider._on_bytes, signal=signals.bytes_received)
        if is_scrapy_parse(crawler):
            # Scrapy 2.19's `scrapy parse` wraps our callback in one of its own that returns a Deferred, then
            # warns that the callback (named after ours) returned a Deferred: not our code, not the user's
            import warnings

            from scrapy.exceptions import ScrapyDeprecationWarning

            warnings.filterwarnings("ignore", message=r".* returned a Deferred\. Returning Deferreds from spider",
                                    category=ScrapyDeprecationWarning)
        return spider

    @cached_property
    def memory(self) -> UrlMemory | None:
        """The crawl's URL memory (``monitor.crawl.urlmemory``: stored articles, validators), None when the
        extension is off (``scrapy parse``, or not in EXTENSIONS): every candidate is new then."""
        return self.crawler.get_extension(UrlMemory)

    def _on_headers(self, headers, body_length, request, spider):
        """A download starts: a fresh sitemap parser, or a fresh byte count for the size guard."""
        if request.meta.get("role") == "sitemap":
            self.sitemap_streams[request] = SitemapStream(max_bytes=self.sitemap_max_bytes,
                                                          max_urls=self.max_sitemap_urls)
            if headers.get(b"Content-Encoding"):   # HttpCompressionMiddleware inflates the body again: bound it
                request.meta["download_maxsize"] = self.sitemap_max_bytes
        else:
            request.meta["received_bytes"] = 0

    def _on_bytes(self, data, request, spider):
        """Each received chunk: fed to the sitemap parser (stopped at its caps), or counted against
        DOWNLOAD_MAXSIZE so an oversized page ends as a recorded ``too_large`` (Scrapy would only log it)."""
        from scrapy.exceptions import StopDownload

        stream = self.sitemap_streams.get(request)
        if stream is not None:
            if stream.feed(data):
                raise StopDownload(fail=False)
            return
        limit = request.meta.get("download_maxsize", self.page_maxsize)
        if limit:
            received = request.meta.get("received_bytes", 0) + len(data)
            request.meta["received_bytes"] = received
            if received > limit:
                request.meta["too_large"] = received
                raise StopDownload(fail=True)

    # ------------------------------------------------------------------ start
    async def start(self):
        src = self.source
        for url in src.feeds:
            yield self._request(url, self.parse_feed, role="feed")
        for url in src.sitemaps:
            yield self._request(url, self.parse_sitemap, role="sitemap", sitemap_depth=0)
        for url in src.sections:
            yield self._request(url, self.parse_listing, role="section", depth=1, section_page=1)
        if src.needs_discovery:
            root = f"{urlsplit(src.url).scheme}://{urlsplit(src.url).netloc}"
            yield self._request(urljoin(root, "/robots.txt"), self.parse_robots, role="robots")
            yield self._request(src.url, self.parse_home, role="home", depth=0)

    # pages asked for with If-None-Match / If-Modified-Since (fetch_state table); a 304 means nothing new
    CONDITIONAL_ROLES = ("feed", "sitemap", "section")

    def _request(self, url, callback, *, role, priority=0, cb_kwargs=None, **meta):
        meta["role"] = role
        if role == "sitemap":   # bounded by MONITOR_SITEMAP_MAX_BYTES while streaming (_on_bytes), not cancelled
            meta.setdefault("download_maxsize", 0)
            meta.setdefault("download_warnsize", 0)
        headers = None
        if role in self.CONDITIONAL_ROLES:
            meta.setdefault("handle_httpstatus_list", [304])
            headers = self._conditional_headers(url)
        return scrapy.Request(url, callback=callback, errback=self.on_error, priority=priority,
                              cb_kwargs=cb_kwargs or {}, meta=meta, headers=headers,
                              dont_filter=role in ("feed", "sitemap", "robots", "home", "section"))

    def _conditional_headers(self, url) -> dict | None:
        memory = self.memory
        if self.refresh or memory is None or not memory.conditional_get:   # --refresh reads every feed in full
            return None
        state = memory.validators(url)
        if not state:
            return None
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        if headers:
            self.crawler.stats.inc_value("monitor/conditional_requests")
        return headers or None

    def _not_modified(self, response: Response) -> bool:
        """A 304 to a conditional GET: the feed/sitemap/section is unchanged since the last crawl."""
        if response.status != 304:
            return False
        self.crawler.stats.inc_value("monitor/not_modified")
        return True

    def _fetch_state(self, response: Response):
        """The validators of a feed/sitemap/section page read in full (saved if the spider finishes)."""
        if response.status != 200 or self.memory is None or not self.memory.conditional_get:
            return
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            yield fetch_state_item(source=self.name, url=(response.meta.get("redirect_urls") or [response.url])[0],
                                   etag=etag.decode("latin-1") if etag else None,
                                   last_modified=modified.decode("latin-1") if modified else None)

    # ------------------------------------------------------------------ discovery
    def parse_robots(self, response: Response):
        for url in robots_sitemaps(response.text, response.url):
            if self._on_site(url):
                yield self._request(url, self.parse_sitemap, role="sitemap", sitemap_depth=0)

    def parse_home(self, response: Response):
        if not hasattr(response, "css"):
            return
        for url in alternate_feeds(response.text, response.url):
            if self._on_site(url):
                yield self._request(url, self.parse_feed, role="feed")
        yield from self._follow_links(response, depth=response.meta.get("depth_mm", 0))

    def parse_listing(self, response: Response):
        """A section or other listing page: follow article candidates, pagination, deeper listings."""
        if self._not_modified(response) or not hasattr(response, "css"):
            return
        yield from self._follow_links(response, depth=response.meta.get("depth_mm", 1),
                                      section_page=response.meta.get("section_page", 1))
        if response.meta.get("role") == "section":
            yield from self._fetch_state(response)

    def _follow_links(self, response: Response, *, depth: int, section_page: int = 1):
        pattern = self.source.article_regex
        next_urls = {response.urljoin(h) for h in response.css('a[rel~="next"]::attr(href), '
                                                               'link[rel~="next"]::attr(href)').getall()}
        for link in self.link_extractor.extract_links(response):
            url = link.url.split("#", 1)[0]
            if not url or url == response.url.split("#", 1)[0] or not self._on_site(url):
                continue
            if url in next_urls or PAGINATION_RE.search(url):
                if section_page < self.max_section_pages and self._budget():
                    yield self._request(url, self.parse_listing, role="section", depth_mm=depth,
                                        section_page=section_page + 1)
                continue
            if pattern is not None:
                if pattern.search(url):
                    yield from self._candidate(url, via="link")
                elif depth < self.max_depth and self._budget():
                    yield self._request(url, self.parse_listing, role="listing", depth_mm=depth + 1)
            elif looks_like_navigation(url):
                if depth < self.max_depth and self._budget():
                    yield self._request(url, self.parse_listing, role="listing", depth_mm=depth + 1)
            elif depth < self.max_depth + 1 and self._budget():
                yield from self._candidate(url, via="link", require_signals=True, depth_mm=depth + 1)

    def _budget(self) -> bool:
        """Link-following is bounded per source so a calendar or pagination trap cannot run away."""
        if self.link_requests >= self.max_link_pages:
            self.crawler.stats.inc_value("monitor/link_budget_exhausted")
            return False
        self.link_requests += 1
        return True

    def _on_site(self, url: str) -> bool:
        """An absolute http(s) URL on one of the source's domains, at a port the source uses on that host (every
        discovered URL passes here; redirect hops pass ``monitor.crawl.netguard``)."""
        return on_site(url, self.allowed_domains, origins=self.source.origins if self.source is not None else None)

    # ------------------------------------------------------------------ feeds
    def parse_feed(self, response: Response):
        if self._not_modified(response):
            return
        self.counts["feeds"] += 1
        try:
            entries, problem = read_feed(response.body, response.url)
        except FeedError as exc:
            yield fetch_error_item(source=self.name, url=response.url, reason="bad_feed",
                                   http_status=response.status, detail=str(exc))
            return
        if problem:   # take what could be read, record the rest
            yield fetch_error_item(source=self.name, url=response.url, reason="bad_feed", http_status=response.status,
                                   detail=f"{problem}; {len(entries)} entries read from it, the rest is lost")
        if len(entries) > self.max_feed_entries:
            self.crawler.stats.inc_value("monitor/feed_entries_truncated", len(entries) - self.max_feed_entries)
            entries = entries[: self.max_feed_entries]
        for link, hints in entries:
            url = response.urljoin(link)
            if self._on_site(url):
                yield from self._candidate(url, via="feed", hints={k: v for k, v in hints.items() if v})
            else:
                self.crawler.stats.inc_value("monitor/offsite_links_skipped")
        if not problem:   # a feed read only in part gets no validators: read it in full next time
            yield from self._fetch_state(response)

    # ------------------------------------------------------------------ sitemaps
    def parse_sitemap(self, response: Response):
        if self._not_modified(response):
            self.sitemap_streams.pop(response.request, None)
            return
        self.counts["sitemaps"] += 1
        # parsed while it downloaded (_on_bytes); a response that did not stream (cache) is parsed here
        stream = self.sitemap_streams.pop(response.request, None) or SitemapStream.read(
            response.body, max_bytes=self.sitemap_max_bytes, max_urls=self.max_sitemap_urls)
        stream.close()
        is_index = yield from self._sitemap_entries(stream, response.url, response.meta.get("sitemap_depth", 0))
        if stream.error:
            yield fetch_error_item(source=self.name, url=response.url, reason="bad_sitemap",
                                   http_status=response.status, detail=f"sitemap: {stream.problem}")
        elif stream.stopped == "max_bytes":
            yield fetch_error_item(source=self.name, url=response.url, reason="too_large",
                                   http_status=response.status, detail=f"sitemap: {stream.problem}")
        elif not is_index and stream.stopped is None:   # an index is always read in full: its children may change
            yield from self._fetch_state(response)

    def _sitemap_entries(self, stream: SitemapStream, base_url: str, depth: int):
        """Requests for the entries a sitemap stream read; returns whether it was a sitemap index."""
        is_index = False
        if stream.stopped == "max_urls":
            self.crawler.stats.inc_value("monitor/sitemap_urls_truncated")
        for kind, loc, lastmod, news in stream.entries:
            url = urljoin(base_url, loc)
            if not self._on_site(url):
                self.crawler.stats.inc_value("monitor/offsite_links_skipped")
                continue
            if kind == "sitemap":
                is_index = True
                if depth < self.max_sitemap_depth:
                    yield self._request(url, self.parse_sitemap, role="sitemap", sitemap_depth=depth + 1)
                continue
            if self._too_old(news.get("published") or lastmod):
                continue
            hints = {k: v for k, v in news.items() if v}
            if lastmod:
                hints["lastmod"] = lastmod
            yield from self._candidate(url, via="sitemap", hints=hints)
        return is_index

    def _too_old(self, date_text: str | None) -> bool:
        if not self.sitemap_max_age or not date_text:
            return False
        try:
            when = datetime.fromisoformat(date_text.strip().replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return (datetime.now(timezone.utc) - when).days > self.sitemap_max_age

    # ------------------------------------------------------------------ articles
    def _candidate(self, url: str, *, via: str, hints: dict | None = None, require_signals: bool = False,
                   **meta):
        """Schedule an article page unless it was already stored (incremental crawls).

        Candidates are compared by canonical URL (``monitor.dedup.urls.url_keys``): a tracking, AMP or ``www.``
        variant of a candidate already scheduled, or of a stored article, is not requested; it is recorded
        in ``article_urls`` (a ``url_alias`` item).  A stored article is requested again with ``--refresh``,
        or when its sitemap ``lastmod`` is newer than its ``fetched_at``.
        """
        keys = list(url_keys_cached(url)) or [url]
        if url in self.seen_candidates or any(k in self.seen_candidates for k in keys):
            refetch = None
            if (hints or {}).get("lastmod") and keys[0] in self.skipped_known:
                # skipped as stored when met without a lastmod (in a feed); this sitemap entry may say more
                refetch = self._refetch(url, hints)
            if refetch is None:
                if url not in self.seen_candidates:   # another variant (same canonical URL) of a candidate
                    self.seen_candidates.add(url)
                    self.crawler.stats.inc_value("monitor/variants_skipped")
                    yield url_alias_item(source=self.name, url=url, keys=keys)
                return
            self.skipped_known.discard(keys[0])
            self.counts["skipped_known"] -= 1
            self.crawler.stats.inc_value("monitor/skipped_known", -1)
        else:
            self.seen_candidates.update([url, *keys])
            if never_article(url):
                self.crawler.stats.inc_value("monitor/non_article_skipped")
                return
            known = self.memory.known_urls([url]) if self.memory is not None else None
            refetch = self._refetch(url, hints or {}) if known else None
            if known and refetch is None:
                self.counts["skipped_known"] += 1
                self.crawler.stats.inc_value("monitor/skipped_known")
                self.skipped_known.add(keys[0])
                if url not in known:   # a new variant (tracking parameters, AMP, www.) of a stored article
                    yield url_alias_item(source=self.name, url=url, keys=keys)
                return
        if refetch is not None:
            meta["known_article_id"], why = refetch
            self.crawler.stats.inc_value(f"monitor/refetch/{why}")
        self.counts["candidates"] += 1
        entry = (url, via, hints or None, require_signals, meta or None)
        if self.frontier is not None:   # handed to the scheduler as it drains (monitor.crawl.frontier)
            self.frontier.add(entry)
            return
        yield self._article_request(entry)

    def _article_request(self, entry: tuple) -> scrapy.Request:
        url, via, hints, require_signals, meta = entry
        return self._request(url, self.parse_article, role="article", cb_kwargs={
            "via": via, "hints": hints or {}, "require_signals": require_signals}, **(meta or {}))

    def _refetch(self, url: str, hints: dict) -> tuple[int, str] | None:
        """``(article_id, "refresh" | "lastmod")`` when the stored article at url is to be fetched again."""
        lastmod = hints.get("lastmod")
        if self.memory is None or not (self.refresh or lastmod):
            return None
        found = self.memory.known_articles([url])
        if not found:   # stored earlier in this crawl (not yet written): nothing to refresh
            return None
        article_id, fetched_at = next(iter(found.values()))
        if self.refresh:
            return article_id, "refresh"
        if is_newer(lastmod, fetched_at):
            if self.max_refetches and self.lastmod_refetches >= self.max_refetches:
                # a sitemap stamping every entry with the time it was generated would have every stored
                # article fetched on every crawl: bounded by MONITOR_MAX_REFETCHES
                self.crawler.stats.inc_value("monitor/refetch/lastmod_over_budget")
                return None
            self.lastmod_refetches += 1
            return article_id, "lastmod"
        return None

    def parse_article(self, response: Response, via: str = "parse", hints: dict | None = None,
                      require_signals: bool = False):   # defaults: `scrapy parse -c parse_article URL`
        ctype = response.headers.get("Content-Type", b"").decode("latin-1") or None
        encoding = getattr(response, "encoding", None) if ctype and "charset=" in ctype.lower() else None
        yield page_item(source=self.name, url=response.url,
                        request_urls=[*response.meta.get("redirect_urls", []), response.url],
                        body=response.body, encoding=encoding, content_type=ctype, status=response.status,
                        via=via, hints=hints, require_signals=require_signals,
                        known_article_id=response.meta.get("known_article_id"))
        depth = response.meta.get("depth_mm")
        if require_signals and depth is not None and depth < self.max_depth and hasattr(response, "css"):
            # a page found by link-following may itself be a listing: follow its links too
            yield from self._follow_links(response, depth=depth)

    def parse(self, response: Response, **kwargs):
        """``scrapy parse --spider NAME URL``: what the spider extracts from one page, extracted here (not stored).

        An article page gives one ``ArticleItem`` (``id``, ``topics``, ``duplicate_of`` and ``story`` stay
        empty: they come from the database); any other page logs why it is not an article and gives the
        requests for the article candidates and listings it links to, parsed the same way with ``--depth 2``.
        Crawls never call it: every request of the spider names its own callback.
        """
        from monitor.extract import Rejection, extract_article
        from monitor.crawl.extractpool import ExtractConfig, article_to_record
        from monitor.crawl.items import record_item

        config = ExtractConfig.from_settings(self.crawler.settings)
        ctype = response.headers.get("Content-Type", b"").decode("latin-1") or None
        encoding = getattr(response, "encoding", None) if ctype and "charset=" in ctype.lower() else None
        urls = [*response.meta.get("redirect_urls", []), response.url]
        result = extract_article(response.body, response.url, encoding=encoding, content_type=ctype,
                                 min_text_chars=config.min_text_chars, max_bytes=config.max_bytes,
                                 timeout=config.timeout)
        if not isinstance(result, Rejection):
            page = {"source": self.name, "url": response.url, "request_urls": urls}
            yield record_item(article_to_record(result, page), response.url)
            return
        self.logger.warning("%s is not stored as an article: %s: %s", response.url, result.reason.value,
                            result.detail)
        if hasattr(response, "css"):
            for request in self._follow_links(response, depth=0):
                yield request.replace(callback=self.parse, cb_kwargs={}) if isinstance(request, scrapy.Request) \
                    else request

    # ------------------------------------------------------------------ errors
    def on_error(self, failure):
        request = failure.request
        role = request.meta.get("role", "page")
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        reason, detail = describe_failure(failure, role)
        if role == "sitemap":   # a sitemap that broke off mid-download: use the entries read before
            stream = self.sitemap_streams.pop(request, None)
            if stream is not None and stream.entries and (status is None or 200 <= status < 300):
                stream.close()
                yield from self._sitemap_entries(stream, request.url, request.meta.get("sitemap_depth", 0))
                detail += f" ({len(stream.entries)} entries read before, followed)"
        if role == "robots" and status == 404:
            return  # no robots.txt is normal
        if reason == "robots_disallowed" and (role == "listing" or request.cb_kwargs.get("via") == "link"):
            self.crawler.stats.inc_value("monitor/robots_disallowed_links")
            return  # a link the site asks us not to follow: obeyed, nothing for the user to fix
        chain = request.meta.get("redirect_urls") or []
        if chain and reason not in ("redirect_loop", "too_many_redirects"):   # record the URL the feed/sitemap gave
            detail += f" (reached through redirects from {chain[0]}; last URL {request.url})"
        yield fetch_error_item(source=self.name, url=chain[0] if chain else request.url, reason=reason,
                               http_status=status, detail=detail)


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def is_newer(lastmod: str | None, fetched_at: str | None) -> bool:
    """Whether a sitemap ``lastmod`` (W3C datetime or date; no zone = UTC) is after ``fetched_at``."""
    a, b = _utc(lastmod), _utc(fetched_at)
    return a is not None and b is not None and a > b


def describe_failure(failure, role: str) -> tuple[str, str]:
    """Turn a Twisted failure into (reason, detail a person can act on)."""
    import zlib

    from scrapy import exceptions as sx
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError, TCPTimedOutError

    from monitor.crawl.middlewares import RedirectLoop
    from monitor.crawl.netguard import BlockedAddress

    value = failure.value
    request = getattr(failure, "request", None)
    meta = request.meta if request is not None else {}
    what = {"feed": "feed", "sitemap": "sitemap", "robots": "robots.txt", "home": "home page",
            "section": "section page", "listing": "listing page", "article": "article page"}.get(role, "page")
    retried = meta.get("retry_times", 0)
    tries = f" (tried {retried + 1} times)" if retried else ""
    if isinstance(value, HttpError):
        status = value.response.status
        reason = {404: "not_found", 410: "gone", 403: "forbidden", 429: "rate_limited"}.get(
            status, "server_error" if status >= 500 else "http_error")
        detail = f"{what} answered HTTP {status}{tries}"
        wait = meta.get("retry_after")
        if status in (429, 503) and wait is not None and meta.get("dont_retry"):
            detail += (f"; it asked to wait {wait:.0f} s (Retry-After), more than MONITOR_RETRY_AFTER_MAX, so it is "
                       "not retried in this crawl")
        elif status == 429:
            detail += "; the site limits our rate: raise DOWNLOAD_DELAY or lower CONCURRENT_REQUESTS_PER_DOMAIN"
        elif status in (404, 410):
            detail += "; the page is gone (not retried)"
        return reason, detail
    if meta.get("too_large") or (isinstance(value, sx.DownloadCancelledError) and "max size" in str(value)):
        size = meta.get("too_large")
        got = f" ({size:,} bytes received when it was cut)" if size else ""
        return "too_large", (f"{what}: larger than DOWNLOAD_MAXSIZE{got}; skipped (raise DOWNLOAD_MAXSIZE only for "
                             "sites known to need it)")
    if isinstance(value, (DNSLookupError, sx.CannotResolveHostError)):
        return "dns_error", f"{what}: the host name could not be resolved (check the URL or your network){tries}"
    if isinstance(value, (TimeoutError, TCPTimedOutError, sx.DownloadTimeoutError)):
        return "timeout", f"{what}: no answer within DOWNLOAD_TIMEOUT (the site is slow or down){tries}"
    if isinstance(value, (ConnectionRefusedError, sx.DownloadConnectionRefusedError)):
        return "connection_refused", f"{what}: connection refused (the site is down or blocks us){tries}"
    if isinstance(value, BlockedAddress):
        return "blocked_address", f"{what}: not fetched: {value}"
    if isinstance(value, RedirectLoop):
        return "redirect_loop", f"{what}: {value} (the site redirects in a circle; check the URL)"
    if type(value).__module__.startswith("playwright"):   # a page rendered by the browser (render = "browser")
        from monitor.crawl.browser import describe_browser_error

        return describe_browser_error(value, what, tries)
    name = type(value).__name__
    if isinstance(value, sx.IgnoreRequest):
        text = str(value)
        if "robots" in text.lower():
            return "robots_disallowed", f"{what}: robots.txt forbids it"
        if "max redirections" in text:
            hops = len(meta.get("redirect_urls") or ())
            return "too_many_redirects", (f"{what}: more than REDIRECT_MAX_TIMES redirects ({hops} followed, "
                                          f"last {request.url if request is not None else '?'})")
        if "DOWNLOAD_MAXSIZE" in text:
            return "too_large", f"{what}: larger than DOWNLOAD_MAXSIZE once decompressed; skipped"
    if isinstance(value, (sx.ResponseDataLossError, sx.DownloadFailedError)) or name in (
            "ResponseFailed", "ResponseNeverReceived", "ConnectionLost", "ConnectionDone", "PotentialDataLoss"):
        return "connection_lost", f"{what}: the connection closed before the whole page arrived{tries}"
    if isinstance(value, (zlib.error, EOFError)) or name in ("BadGzipFile", "DecompressionError"):
        return "bad_encoding", (f"{what}: the server says the body is compressed (Content-Encoding) but it cannot "
                                f"be decompressed: {value}")
    if "maxsize" in str(value).lower() or "cancelled" in str(value).lower():
        return "too_large", f"{what}: larger than DOWNLOAD_MAXSIZE"
    return "fetch_failed", f"{what}: {name}: {value}"
