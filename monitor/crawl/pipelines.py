"""Thin Scrapy adapters: page items -> extraction -> storage.

``ExtractionPipeline`` turns a downloaded page into an ``ArticleRecord`` (or drops it with the typed
rejection as reason); ``StoragePipeline`` hands records and fetch errors to the process's single
SQLite writer in batches.  The real work lives in ``monitor.extract``, ``monitor.dedup.urls``,
``monitor.dedup.fingerprints`` and ``monitor.store``, which know nothing of Scrapy.

What Scrapy's feed exports see (``scrapy crawl NAME -O items.jsonl``): one ``ArticleItem`` per article the
run stored, nothing else.  In a ``scrapy crawl`` run, with a feed configured (``FEEDS``, ``-o``/``-O``) or with
``MONITOR_ARTICLE_ITEMS``, ``StoragePipeline`` holds each article item until its batch is written, then passes on
the stored row
(statuses ``new``, ``duplicate`` and ``updated``; a ``known`` article changed nothing and is dropped);
``DropInternalItems`` (last) quietly drops every internal dict (``monitor.crawl.items``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from scrapy.exceptions import DropItem

from monitor.crawl.extractpool import ExtractConfig
from monitor.crawl.items import ArticleItem, is_internal, record_item
from monitor.crawl.scrapy_compat import close_spider_later, downloads_in_flight, is_scrapy_parse, scraper_backed_up
from monitor.crawl.urlmemory import UrlMemory
from monitor.extract import RejectReason, Rejection
from monitor.extract.titles import RepeatedTitleText
from monitor.store.records import ArticleRecord, FetchError

logger = logging.getLogger(__name__)

# Rejections of pages found by link-following are expected (listings, hubs): not errors.
QUIET_REJECTIONS = {RejectReason.NOT_ARTICLE, RejectReason.TOO_SHORT, RejectReason.NO_MAIN_TEXT}


class ExtractionPipeline:
    """Runs trafilatura (through monitor.extract) on each page item, in the process's worker pool
    (``monitor.crawl.extractpool``: MONITOR_EXTRACT_WORKERS, time cap, crash containment)."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.config = ExtractConfig.from_settings(s)
        self.max_raw_bytes = self.config.max_raw_bytes   # DOWNLOAD_MAXSIZE: the other caps apply in the worker
        self.min_text_chars = self.config.min_text_chars
        self.pool = None
        # a site name no page declares, learnt from the titles of the source's earlier pages (issue 14)
        self.repeated_title_text = RepeatedTitleText()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        if is_scrapy_parse(self.crawler):   # `scrapy parse`: a pool only if --pipelines sends a page
            return
        from monitor.crawl import extractpool

        self.pool = extractpool.acquire(self.crawler.settings)

    def close_spider(self):
        if self.pool is not None:
            from monitor.crawl import extractpool

            self.crawler.stats.set_value("monitor/extraction/workers", self.pool.workers)
            self.crawler.stats.set_value("monitor/extraction/pool_restarts", self.pool.restarts)
            extractpool.release(self.pool)
            self.pool = None

    async def process_item(self, item):
        if not is_internal(item) or item.get("kind") != "page":
            return item
        if self.pool is None:   # used without open_spider (e.g. a unit test)
            self.open_spider()
        size = len(item.get("body") or b"")
        if self.max_raw_bytes and size > self.max_raw_bytes:   # an absurd body is never copied to a worker
            outcome = ("rejected", Rejection(RejectReason.TOO_LARGE, f"page is {size:,} bytes, above "
                                             f"DOWNLOAD_MAXSIZE={self.max_raw_bytes:,}; not extracted"))
        else:
            outcome = await self.pool.extract(item, self.config)
        stats = self.crawler.stats
        if outcome[0] == "article":
            outcome[1].title = self.repeated_title_text.clean(item["source"], outcome[1].title)
            if item.get("known_article_id"):   # an intended re-fetch of a stored article (incremental crawls)
                outcome[1].extra["refetch"] = item["known_article_id"]
            return {"kind": "article", "record": outcome[1], "url": item["url"]}
        if outcome[0] == "error":   # extraction_timeout, extraction_crashed
            _, reason, detail = outcome
            stats.inc_value(f"monitor/rejected/{reason}")
            return {"kind": "fetch_error", "source": item["source"], "url": item["url"], "reason": reason,
                    "http_status": item.get("status"), "detail": detail}
        result = outcome[1]
        stats.inc_value(f"monitor/rejected/{result.reason.value}")
        if item.get("require_signals") and result.reason in QUIET_REJECTIONS:
            raise DropItem(f"not stored: {result.reason.value}: {result.detail}", log_level="DEBUG")
        return {"kind": "fetch_error", "source": item["source"], "url": item["url"],
                "reason": result.reason.value, "http_status": item.get("status"), "detail": result.detail}


class StoragePipeline:
    """Batches articles and fetch errors into the process's single SQLite writer.

    With ``emit`` (``scrapy crawl``, a feed export, or MONITOR_ARTICLE_ITEMS), an article item waits until its
    batch is written and comes out as the stored ``ArticleItem``; articles not stored by this run (``known``)
    are dropped quietly.  Waiting keeps the page's response in Scrapy's scraper slot, so a batch is also
    written as soon as the downloader is idle or the slot is full (see ``_tick``).
    """

    STORED = ("new", "duplicate", "updated")   # write_batch statuses of rows this run wrote

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.db_path = Path(s.get("MONITOR_DB")).resolve()
        self.batch_size = max(1, s.getint("MONITOR_BATCH_SIZE"))
        self.batch_seconds = s.getfloat("MONITOR_BATCH_SECONDS")
        self.max_articles = s.getint("MONITOR_MAX_ARTICLES")
        self.crawl_id = s.getint("MONITOR_CRAWL_ID") or None
        self.own_crawl = False
        self.records: list[ArticleRecord] = []
        self.errors: list[FetchError] = []
        self.aliases: list[tuple[str, list[str], int]] = []   # url_alias items not yet resolved (url, keys, tries)
        self.fetch_states: dict[str, tuple] = {}              # fetch_state items, saved when the spider finishes
        self.near_dup_threshold = s.getfloat("MONITOR_NEAR_DUP_THRESHOLD")
        self.stored = 0
        self.last_flush = time.monotonic()
        self.storage = None   # the process's writer of MONITOR_DB (monitor.store.db.acquire_writer)
        self.memory: UrlMemory | None = None   # the crawl's URL memory: told which articles wait in the batch
        self.loop = None
        self.write_error: str | None = None   # set when a batch could not be written (disk full ...)
        # items out for Scrapy: a feed export, MONITOR_ARTICLE_ITEMS, or a plain `scrapy crawl` (no MONITOR_CRAWL_ID:
        # its item_scraped_count, CLOSESPIDER_ITEMCOUNT and scrapyd's item count are stored articles); `monitor
        # crawl` does not hold pages for it
        self.emit = bool(s.getdict("FEEDS")) or s.getbool("MONITOR_ARTICLE_ITEMS") or self.crawl_id is None
        self.waiters: list = []   # per record in self.records: a Deferred fired with its ArticleItem | None
        self.urls: dict[int, str] = {}   # id(record) -> the URL its page was fetched at (emit only)
        self.active = not is_scrapy_parse(crawler)   # `scrapy parse` never writes the database

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        pipe = cls(crawler)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    # ---- lifecycle
    def open_spider(self):
        if not self.active:
            return
        from monitor.store.db import acquire_writer

        self.storage = acquire_writer(self.db_path, cache_mb=self.crawler.settings.getint("MONITOR_SQLITE_CACHE_MB"))
        if self.storage.topics is None:   # the first spider of this writer
            self._set_topics(self.storage)
        spider = self.crawler.spider
        if self.crawl_id is None:
            # `scrapy crawl NAME` without `monitor crawl`: one crawls row for this spider's run
            self.storage.mark_interrupted_crawls()
            self.crawl_id = self.storage.start_crawl([spider.name])
            self.own_crawl = True
        self.storage.crawl_id = self.crawl_id
        self.storage.near_dup_threshold = self.near_dup_threshold
        self.storage.band_memory_articles = self.crawler.settings.getint("MONITOR_LSH_MEMORY")
        self.memory = self.crawler.get_extension(UrlMemory)
        from twisted.internet import task

        self.loop = task.LoopingCall(self._tick)
        self.loop.start(0.5 if self.emit else max(self.batch_seconds, 0.5), now=False)

    def _set_topics(self, storage) -> None:
        """Tag articles written by this crawl (new ones, and re-fetched ones that changed) with the topics
        of MONITOR_TOPICS (empty: the bundled file); ``run_crawl`` validated the file before starting."""
        from monitor.topics import load_topics

        storage.set_topics(load_topics(self.crawler.settings.get("MONITOR_TOPICS") or None))

    def close_spider(self):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.flush()

    def spider_closed(self, spider, reason):
        """After the engine stopped (finish_reason known): complete our own crawls row, release the writer."""
        if self.storage is None:
            return
        if self.write_error is None:
            self._save_fetch_states(reason)
        if self.own_crawl and self.write_error is None:   # `scrapy crawl NAME`: the same outcome as `monitor crawl`
            from monitor.outcomes import counts_from_stats, source_outcome

            stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}   # (Scrapy sets it after this signal)
            counts = counts_from_stats(stats)
            outcome = source_outcome(stats, self.storage, self.crawl_id, spider.name)
            self.storage.finish_crawl(self.crawl_id, outcome["status"], counts,
                                      {spider.name: {**counts, "finish_reason": reason, **outcome}})
        from monitor.store.db import release_writer

        release_writer(self.storage)
        self.storage = None

    # ---- items
    # fetch_state is not saved when a page failed for a reason that may pass: a 304 next time would
    # hide the articles that could not be fetched this time
    TRANSIENT_ERRORS = ("server_error", "timeout", "connection_refused", "connection_lost", "rate_limited",
                        "dns_error", "fetch_failed", "extraction_timeout", "extraction_crashed")

    def _save_fetch_states(self, reason) -> None:
        stats = self.crawler.stats
        if not self.fetch_states or self.storage is None:
            return
        transient = sum(stats.get_value(f"monitor/errors/{r}", 0) for r in self.TRANSIENT_ERRORS)
        if reason != "finished" or transient:
            stats.set_value("monitor/fetch_state_not_saved", len(self.fetch_states))
            self.fetch_states.clear()
            return
        n = self.storage.save_fetch_states((u, e, lm) for u, (e, lm) in self.fetch_states.items())
        stats.set_value("monitor/fetch_state_saved", n)
        self.fetch_states.clear()

    async def process_item(self, item):
        if not is_internal(item):
            return item
        kind = item.get("kind")
        if not self.active:   # `scrapy parse --pipelines`: an article is shown, nothing is stored
            return record_item(item["record"], item.get("url")) if kind == "article" else item
        if kind == "article":
            rec = item["record"]
            self.records.append(rec)
            waiter = None
            if self.emit:
                from twisted.internet.defer import Deferred

                waiter = Deferred()
                self.urls[id(rec)] = item.get("url")
            self.waiters.append(waiter)
            if self.memory is not None:   # known from now on: not fetched again before the batch is written
                self.memory.add_pending([rec.url, *rec.variants])
            if self.max_articles and self.stored + len(self.records) >= self.max_articles:
                self.flush()
            else:
                self._flush_if_due()
            if waiter is None:
                return item
            from scrapy.utils.defer import maybe_deferred_to_future

            stored = await maybe_deferred_to_future(waiter)
            if stored is None:
                raise DropItem(f"not stored by this run: {rec.url}", log_level="DEBUG")
            return stored
        if kind == "url_alias":
            self.aliases.append((item["url"], item.get("keys") or [], 0))
        elif kind == "fetch_state":
            self.fetch_states[item["url"]] = (item.get("etag"), item.get("last_modified"))
        elif kind == "fetch_error":
            self.errors.append(FetchError(url=item["url"], source=item.get("source"), reason=item["reason"],
                                          http_status=item.get("http_status"), detail=item.get("detail")))
            self.crawler.stats.inc_value("monitor/errors")
            self.crawler.stats.inc_value(f"monitor/errors/{item['reason']}")
        self._flush_if_due()
        return item

    def _flush_if_due(self):
        if (len(self.records) >= self.batch_size or len(self.errors) >= self.batch_size
                or (self.records or self.errors) and time.monotonic() - self.last_flush >= self.batch_seconds):
            self.flush()

    def _tick(self):
        """Timer: the time-based flush; with items waiting for their batch, also flush when the downloader has
        nothing in flight (the crawl's last pages) or Scrapy's scraper slot is full (it would stop fetching)."""
        if any(w is not None for w in self.waiters):
            if not downloads_in_flight(self.crawler) or scraper_backed_up(self.crawler):
                self.flush()
                return
        self._flush_if_due()

    def _release(self, waiters, records=None, results=None, urls=None) -> None:
        """Fire each waiting article item: its stored ArticleItem, or None (not stored by this run)."""
        items = {}
        if results and any(w is not None for w in waiters):
            try:
                items = self._stored_items(records, results, urls or {})
            except Exception:   # the batch is written; a failed read-back only costs the export
                logger.exception("cannot read back the stored articles for the feed export")
        for i, waiter in enumerate(waiters):
            if waiter is not None and not waiter.called:
                waiter.callback(items.get(i))

    def _stored_items(self, records, results, urls: dict) -> dict[int, ArticleItem]:
        """``{index in batch: ArticleItem}`` of the records this batch stored, read back from their rows."""
        wanted = {i: res.article_id for i, res in enumerate(results) if res.status in self.STORED}
        if not wanted:
            return {}
        rows = self.storage.stored_articles(wanted.values())
        out = {}
        for i, aid in wanted.items():
            row = rows.get(aid)
            if row is None:
                continue
            out[i] = ArticleItem(id=aid, url=urls.get(id(records[i])) or row["url"], canonical_url=row["url"],
                                 source=row["source"], title=row["title"], author=row["author"],
                                 published=row["published"], language=row["language"], text=row["text"],
                                 topics=row["topics"], duplicate_of=row["duplicate_of"], story=row["story"])
        return out

    def flush(self):
        if self.write_error is not None:   # the database cannot be written: the spider is closing, drop
            waiters = self.waiters
            self.records, self.errors, self.aliases, self.waiters, self.urls = [], [], [], [], {}
            self._release(waiters)
            return
        from monitor.store.db import SQLError, describe_sqlite_error

        try:
            self._flush()
        except SQLError as exc:   # disk full, I/O error: SQLite rolled the batch back, the file is intact

            self.write_error = describe_sqlite_error(exc, self.db_path)[0]
            waiters = self.waiters
            self.records, self.errors, self.aliases, self.waiters, self.urls = [], [], [], [], {}
            self._release(waiters)
            logger.error("cannot write the database, stopping: %s", self.write_error)
            self.crawler.stats.set_value("monitor/storage_error", self.write_error)
            self._close("storage_error")

    def _flush(self):
        self.last_flush = time.monotonic()
        if not self.records and not self.errors:
            self._resolve_aliases()
            return
        records, errors, waiters, urls = self.records, self.errors, self.waiters, self.urls
        self.records, self.errors, self.waiters, self.urls = [], [], [], {}
        self.storage.crawl_id = self.crawl_id
        results = None
        try:
            results = self.storage.write_batch(records, errors)
        finally:   # written or not, no article item waits for this batch any longer
            self._release(waiters, records, results, urls)
        if self.memory is not None:
            self.memory.clear_pending()
        self._resolve_aliases()
        stats = self.crawler.stats
        for res in results:
            stats.inc_value(f"monitor/{res.status}")
            if res.status in ("new", "duplicate"):
                self.stored += 1
        if self.max_articles and self.stored >= self.max_articles:
            self._close("max_articles")

    MAX_ALIAS_TRIES = 20   # flushes an unresolved variant waits for its article (rejected pages never come)

    def _resolve_aliases(self):
        """URL variants seen but not fetched -> article_urls, once their article is stored."""
        if not self.aliases or self.storage is None:
            return
        tries = {u: n for u, _k, n in self.aliases}
        left = self.storage.add_url_aliases([(u, k) for u, k, _n in self.aliases])
        self.crawler.stats.inc_value("monitor/url_aliases", len(self.aliases) - len(left))
        self.aliases = [(u, k, tries[u] + 1) for u, k in left if tries[u] + 1 < self.MAX_ALIAS_TRIES]

    def _close(self, reason):
        if not getattr(self, "_closing", False):
            self._closing = close_spider_later(self.crawler, reason)


class DropInternalItems:
    """Last pipeline: drops the internal bookkeeping dicts (``monitor.crawl.items``: pages, fetch errors, URL aliases,
    conditional-GET state, article records) quietly, so feed exports and ``item_scraped`` see only
    ``ArticleItem``s.  Also after ``RedisPushPipeline`` (``--redis``), where nothing is stored locally."""

    async def process_item(self, item):
        if is_internal(item):
            raise DropItem(f"internal {item.get('kind')} item", log_level="DEBUG")
        return item
