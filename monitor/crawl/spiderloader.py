"""Scrapy spider loader that makes one spider per configured source.

``scrapy list`` and ``scrapy crawl NAME`` see every source in the sources file (``MONITOR_SOURCES``
setting, else ``$MONITOR_SOURCES``, else the bundled catalogue) as a spider named after it.  A source
with ``spider = "spiders.site.Class"`` gets that class (a ``NewsSpider`` subclass) instead of the
generic one.  Spider classes with their own ``name`` in ``SPIDER_MODULES`` are loaded as usual.
"""

from __future__ import annotations

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object

import sys

from monitor.errors import SourcesError
from monitor.sources.catalogue import load_sources


class SourceSpiderLoader(SpiderLoader):
    def __init__(self, settings):
        super().__init__(settings)
        from monitor.crawl.spider import NewsSpider

        try:
            configured = load_sources(settings.get("MONITOR_SOURCES") or None)
        except SourcesError as exc:  # `scrapy list` / `scrapy crawl`: one clear line, exit 2
            sys.stderr.write(f"Error: {exc}\n")
            raise SystemExit(exc.exit_code) from None
        for source in configured:
            base = load_object(source.spider) if source.spider else NewsSpider
            if not (isinstance(base, type) and issubclass(base, NewsSpider)):
                raise SourcesError(f"{source.spider!r} is not a NewsSpider subclass", source=source.name,
                                   field="spider")
            self._spiders[source.name] = base.for_source(source)
            self._found[source.name].append(("sources", source.name))
