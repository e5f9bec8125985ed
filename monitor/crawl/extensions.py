"""Progress lines while a crawl runs (logger ``monitor.progress``; the CLI prints them to stderr), one per
spider every ``MONITOR_PROGRESS_INTERVAL`` seconds when its counts changed."""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger("monitor.progress")


class CrawlProgress:
    def __init__(self, crawler):
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("MONITOR_PROGRESS_INTERVAL")
        self.task = None
        self.last = None   # the counts of the last line logged

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        if self.interval > 0:
            from twisted.internet import task

            self.task = task.LoopingCall(self.report, spider)
            self.task.start(self.interval, now=False)

    def report(self, spider, final=False):
        """Log the spider's counts, unless they are the ones last logged (a stuck page would otherwise repeat
        the same line every MONITOR_PROGRESS_INTERVAL seconds)."""
        st = self.crawler.stats.get_stats()
        counts = (st.get("downloader/response_count", 0), st.get("monitor/new", 0), st.get("monitor/duplicate", 0),
                  st.get("monitor/known", 0) + st.get("monitor/skipped_known", 0), st.get("monitor/errors", 0))
        if counts == self.last and not final:
            return
        self.last = counts
        logger.info("%s%s: %d pages fetched, %d new, %d duplicates, %d already known, %d errors",
                    spider.name, " (done)" if final else "", *counts)

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
