"""The crawl's URL memory: which candidate URLs are stored articles, and the conditional-GET validators.

One Scrapy extension per crawler (``EXTENSIONS`` in ``monitor.settings``), fetched by whoever needs it with
``crawler.get_extension(UrlMemory)``: the spider asks it before requesting a candidate (incremental crawls,
docs/dedup.md) and for the ``If-None-Match`` / ``If-Modified-Since`` of a feed, sitemap or section page; the
storage pipeline tells it which articles wait in its pending batch (``add_pending``) and when that batch was
written (``clear_pending``), so an article met twice before its batch is written is not fetched twice.

``UrlMemory`` reads the SQLite file through the process's shared writer (``monitor.store.db.acquire_writer``,
the same connection the storage pipeline writes with).  In a distributed crawl the Redis add-on puts its
subclass ``monitor.distributed.workers.RedisUrlMemory`` in its place (the ``{prefix}:known`` hash the
ingester keeps; no SQLite on a crawler machine).  Off for ``scrapy parse`` (nothing is stored then).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from monitor.crawl.scrapy_compat import is_scrapy_parse
from monitor.dedup.urls import url_keys


# a candidate's look-up keys are needed up to three times (seen check, known check, lastmod check): canonicalize
# costs 0.1-0.4 ms per URL, so big sitemaps would spend seconds on the reactor thread without this cache.  The
# three look-ups follow each other, so a small cache does: 65,536 entries held ~30 MB once a crawl had met that many
@lru_cache(maxsize=4096)
def url_keys_cached(url: str) -> tuple[str, ...]:
    return tuple(url_keys(url))


class UrlMemory:
    """Known URLs, known articles and validators of one crawler, backed by the SQLite file (``MONITOR_DB``)."""

    conditional_get = True   # keeps ETag / Last-Modified of feeds, sitemaps and section pages

    def __init__(self, crawler):
        self.crawler = crawler
        self.pending: set[str] = set()   # URLs (and variants) of articles in the pipeline's unwritten batch
        self.storage = None              # the process's writer of MONITOR_DB while the spider is open

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if is_scrapy_parse(crawler):
            raise NotConfigured("scrapy parse stores nothing")
        memory = cls(crawler)
        crawler.signals.connect(memory.open, signal=signals.spider_opened)
        crawler.signals.connect(memory.close, signal=signals.spider_closed)
        return memory

    # ---- lifecycle (signals)
    def open(self, spider=None) -> None:
        from monitor.store.db import acquire_writer

        s = self.crawler.settings
        self.storage = acquire_writer(Path(s.get("MONITOR_DB")).resolve(), cache_mb=s.getint("MONITOR_SQLITE_CACHE_MB"))

    def close(self, spider=None, reason=None) -> None:
        if self.storage is not None:
            from monitor.store.db import release_writer

            release_writer(self.storage)
            self.storage = None

    # ---- what the spider asks
    def known_urls(self, urls) -> set[str]:
        """Which of ``urls`` and their canonical forms (``url_keys``) belong to a stored article, or to one
        waiting in the pending batch."""
        candidates = list(dict.fromkeys([*urls, *(k for u in urls for k in url_keys_cached(u))]))
        return (self.pending.intersection(candidates)) | self._stored(candidates)

    def known_articles(self, urls) -> dict:
        """``url -> (article_id, fetched_at)`` of stored articles these URLs (or their canonical forms) are
        variants of; keys are the URLs asked for (articles not written yet are not there)."""
        out = {}
        for u in urls:
            found = self._article([u, *url_keys_cached(u)])
            if found is not None:
                out[u] = found
        return out

    def validators(self, url: str) -> dict | None:
        """Stored ``{"etag", "last_modified", ...}`` of a feed, sitemap or section page, or None."""
        return self.storage.fetch_state(url) if self.storage is not None else None

    # ---- what the storage pipeline tells
    def add_pending(self, urls) -> None:
        """These URLs belong to an article handed to the store, not written yet."""
        self.pending.update(urls)

    def clear_pending(self) -> None:
        """The pending batch was written: the store answers for its articles now."""
        self.pending.clear()

    # ---- the store behind it (RedisUrlMemory overrides these)
    def _stored(self, candidates: list[str]) -> set[str]:
        return self.storage.known_urls(candidates) if self.storage is not None else set()

    def _article(self, keys: list[str]) -> tuple[int, str] | None:
        found = self.storage.known_articles(keys) if self.storage is not None else None
        return next(iter(found.values())) if found else None
