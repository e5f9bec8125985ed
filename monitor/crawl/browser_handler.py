"""scrapy-playwright's download handler, one instance per crawler (``monitor.crawl.browser``).

Scrapy builds one handler per URL scheme, so naming scrapy-playwright's handler for http and https would start two
Playwright drivers (and, when both schemes are rendered, two Chromiums) per browser source.  This subclass hands
Scrapy the same instance for both and closes it once.  Imported only through ``DOWNLOAD_HANDLERS`` when
``BrowserAddon`` found scrapy-playwright installed (the ``browser`` extra).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

_BY_CRAWLER: WeakKeyDictionary = WeakKeyDictionary()


class PlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """One scrapy-playwright handler for every scheme of a crawler (see the module docstring)."""

    @classmethod
    def from_crawler(cls, crawler):
        handler = _BY_CRAWLER.get(crawler)
        if handler is None:
            handler = _BY_CRAWLER[crawler] = cls(crawler)
        return handler

    async def close(self) -> None:
        if getattr(self, "_monitor_closed", False):   # asked once per scheme
            return
        self._monitor_closed = True
        await super().close()
