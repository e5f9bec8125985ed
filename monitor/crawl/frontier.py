"""The crawl's frontier: article candidates handed to Scrapy's scheduler as it drains, the rest on disk.

Why: a sitemap hands over tens of thousands of URLs at once.  As Scrapy ``Request`` objects in the scheduler's
memory queue they cost about 5 KB each (meta, cb_kwargs, headers, the priority queues' bookkeeping): 20,000
sitemap URLs were ~100 MB of the crawl process (docs/performance.md, Memory).  Instead each candidate the spider
decides to fetch (``NewsSpider._candidate``: already-stored and duplicate URLs are filtered before) becomes a
small tuple in a ``Frontier``:

- at most ``MONITOR_FRONTIER_MEMORY`` tuples stay in memory; the others wait in a temporary file beside the
  database (unlinked at once: the OS frees it when the crawl ends, ``kill -9`` included), read back in order;
- ``FrontierFeeder`` turns tuples into requests and gives them to the engine (``engine.crawl``) whenever the
  scheduler holds fewer than ``MONITOR_QUEUED_REQUESTS`` requests: on Scrapy's ``scheduler_empty`` and
  ``spider_idle`` signals and after each candidate added.

What survives a ``kill -9``: the database.  The frontier is not resumed; the next crawl reads the feeds and
sitemaps again and skips the articles already stored (incremental crawls, docs/dedup.md), so every article is
fetched and stored once however the crawl ended (``tests/e2e/test_frontier.py``).  This is also why Scrapy's
``JOBDIR`` disk queues are not used: their state is written only at a clean shutdown.

Off (requests go straight to the scheduler, as before) for ``scrapy parse``, with ``MONITOR_QUEUED_REQUESTS = 0``
and in a distributed crawl (the Redis scheduler keeps its queue outside the process already).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import deque
from pathlib import Path

logger = logging.getLogger(__name__)

WRITE_BATCH = 512   # spilled entries buffered in memory before one write to the file


class Frontier:
    """FIFO of entries (JSON-serialisable tuples), at most ``memory_max`` of them in memory, the rest in a
    temporary file in ``spill_dir`` (memory only when the file cannot be made or written).  No Scrapy."""

    def __init__(self, memory_max: int = 2000, spill_dir: str | Path | None = None):
        self.memory_max = max(1, memory_max)
        self.spill_dir = spill_dir
        self.head: deque = deque()     # read first
        self.writes: list[bytes] = []  # spilled entries not written yet (read after the file's)
        self._file = None
        self._read_pos = 0             # offset of the first unread line of the file
        self._write_pos = 0            # end of the file
        self.on_disk = 0               # entries in the file not read back yet
        self.spilled = 0               # entries that went through the file (or its write buffer), in total
        self.disk_failed: str | None = None   # why the file could not be used (memory only from then on)

    def __len__(self) -> int:
        return len(self.head) + self.on_disk + len(self.writes)

    def push(self, entry) -> None:
        if len(self.head) < self.memory_max and not self.on_disk and not self.writes:
            self.head.append(entry)
            return
        self.spilled += 1
        self.writes.append(json.dumps(entry, separators=(",", ":"), default=str).encode() + b"\n")
        if len(self.writes) >= WRITE_BATCH and self.disk_failed is None:
            self._write()

    def pop(self):
        """The oldest entry; IndexError when empty."""
        if not self.head:
            self._refill()
        return self.head.popleft()

    def _refill(self) -> None:
        if self.on_disk:
            self._file.seek(self._read_pos)
            lines = []
            while len(lines) < self.memory_max and self.on_disk:
                line = self._file.readline()
                if not line:   # (cannot happen: on_disk counts whole lines written)
                    self.on_disk = 0
                    break
                lines.append(line)
                self.on_disk -= 1
            self._read_pos = self._file.tell()
            if not self.on_disk:   # read to the end: start the file afresh (its disk space is given back)
                self._file.seek(0)
                self._file.truncate()
                self._read_pos = self._write_pos = 0
            self.head.extend(tuple(json.loads(line)) for line in lines)
        elif self.writes:
            take, self.writes = self.writes[:self.memory_max], self.writes[self.memory_max:]
            self.head.extend(tuple(json.loads(line)) for line in take)

    def _write(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix=".monitor-frontier-", dir=self.spill_dir)
            self._file.seek(self._write_pos)
            self._file.write(b"".join(self.writes))
            self._file.flush()
            self._write_pos = self._file.tell()
        except OSError as exc:   # disk full, folder not writable: keep them in memory
            self.disk_failed = str(exc)
            logger.warning("cannot spill pending URLs to disk (%s): they stay in memory", exc)
            return
        self.on_disk += len(self.writes)
        self.writes = []

    def close(self) -> None:
        self.head.clear()
        self.writes = []
        self.on_disk = 0
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None


class FrontierFeeder:
    """One spider's frontier wired to its crawler: ``add`` a candidate, requests reach the scheduler as it
    drains.  ``build(entry) -> Request`` is the spider's (``NewsSpider._article_request``)."""

    def __init__(self, crawler, build, *, queued: int, memory_max: int, spill_dir):
        from scrapy import signals

        self.crawler = crawler
        self.build = build
        self.queued = queued
        self.frontier = Frontier(memory_max, spill_dir)
        self.scheduler = None
        crawler.signals.connect(self.pump, signal=signals.scheduler_empty)
        crawler.signals.connect(self.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def for_spider(cls, spider, build):
        """A feeder for ``spider``, or None where the frontier is off (see module docstring)."""
        from monitor.crawl.scrapy_compat import is_scrapy_parse

        crawler = spider.crawler
        s = crawler.settings
        queued = s.getint("MONITOR_QUEUED_REQUESTS")
        if queued <= 0 or is_scrapy_parse(crawler) or s.get("MONITOR_REDIS_URL"):
            return None
        spill_dir = Path(s.get("MONITOR_DB") or ".").resolve().parent
        return cls(crawler, build, queued=queued, memory_max=s.getint("MONITOR_FRONTIER_MEMORY"),
                   spill_dir=spill_dir if spill_dir.is_dir() else None)

    def add(self, entry) -> None:
        self.frontier.push(entry)
        self.pump()

    def _room(self) -> int:
        from monitor.crawl.scrapy_compat import scheduler_of

        if self.scheduler is None:
            self.scheduler = scheduler_of(self.crawler)
            if self.scheduler is None:   # not running (yet): nothing is handed over
                return 0
        return self.queued - len(self.scheduler)

    def pump(self, *args, **kwargs) -> int:
        """Hand entries to the engine until the scheduler holds ``queued`` requests; how many were handed."""
        frontier = self.frontier
        if not frontier:
            return 0
        room = self._room()
        if room <= 0:
            return 0
        from monitor.crawl.scrapy_compat import engine_of

        engine = engine_of(self.crawler)
        handed = 0
        try:
            while frontier and handed < room:
                engine.crawl(self.build(frontier.pop()))
                handed += 1
        except RuntimeError:   # the spider is closing: what is left is fetched by the next crawl
            frontier.close()
        return handed

    def on_idle(self, spider=None) -> None:
        """The scheduler and the downloader ran dry: more from the frontier, and the spider stays open."""
        if self.frontier and self.pump():
            from scrapy.exceptions import DontCloseSpider

            raise DontCloseSpider("the frontier has pending URLs")

    def close(self, spider=None, reason=None) -> None:
        stats = self.crawler.stats
        if self.frontier.spilled:
            stats.set_value("monitor/frontier/spilled", self.frontier.spilled)
        if self.frontier.disk_failed:
            stats.set_value("monitor/frontier/disk_failed", self.frontier.disk_failed)
        left = len(self.frontier)
        if left:
            stats.set_value("monitor/frontier/left", left)
        self.frontier.close()
