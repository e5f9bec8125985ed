"""Which spider class crawls a source, and Scrapy's spider loader that offers one spider per source.

``spider_class_for(source)`` is the one answer to "which spider class for this source": the generic
``NewsSpider``, or the per-site class the source names (``spider = "monitor_spiders.timesca.TimesCASpider"``,
a ``NewsSpider`` subclass in ``spiders/``), made concrete for the source with ``for_source``.  ``monitor crawl``,
distributed workers and ``scrapy list`` / ``scrapy crawl NAME`` all ask it.

``SourceSpiderLoader`` (``SPIDER_LOADER_CLASS`` in ``monitor.settings``) implements Scrapy's spider-loader
interface (``from_settings``, ``load``, ``list``, ``find_by_request``): Scrapy's own ``SpiderLoader`` finds the
spider classes with their own ``name`` in ``SPIDER_MODULES``, and every source in the sources file
(``MONITOR_SOURCES`` setting, else ``$MONITOR_SOURCES``, else the bundled catalogue) is a spider named after
it (a source wins over a module spider of the same name).

A bad sources file: the file is read on the first ``list()`` / ``load()``, not in ``from_settings``, so the
error reaches Scrapy's command line inside the command, where Scrapy reports its ``UsageError`` as one
``error:`` line (after the command's usage line) and exits 2 (``scrapy list``, ``scrapy crawl NAME``, Scrapyd's
``scrapy list``); Python callers get a ``SourcesError`` (``SourcesFileError`` is both).
"""

from __future__ import annotations

from scrapy.exceptions import UsageError as ScrapyUsageError
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object

from monitor.crawl.scrapy_compat import declare_spider_loader
from monitor.errors import SourcesError
from monitor.sources.catalogue import Source, load_sources


def spider_class_for(source: Source) -> type:
    """The spider class that crawls ``source``: ``NewsSpider``, or the ``NewsSpider`` subclass its ``spider``
    names, made for the source (``for_source``).  A class that cannot be imported or is no ``NewsSpider`` is
    a ``SourcesError`` naming the source and the field."""
    from monitor.crawl.spider import NewsSpider

    base = NewsSpider
    if source.spider:
        try:
            base = load_object(source.spider)
        except (ImportError, AttributeError, NameError, ValueError) as exc:
            raise SourcesError(f"{source.spider!r} cannot be imported: {exc}", source=source.name,
                               field="spider") from None
        if not (isinstance(base, type) and issubclass(base, NewsSpider)):
            raise SourcesError(f"{source.spider!r} is not a NewsSpider subclass", source=source.name, field="spider")
    return base.for_source(source)


class SourcesFileError(SourcesError, ScrapyUsageError):
    """A sources file the spider loader cannot use: a ``SourcesError`` for Python callers, Scrapy's
    ``UsageError`` for its command line (one ``error:`` line, exit 2, no help text)."""

    def __init__(self, error: SourcesError):
        super().__init__(str(error))
        self.path, self.source, self.field = error.path, error.source, error.field
        self.print_help = False


@declare_spider_loader
class SourceSpiderLoader:
    """Scrapy's spider-loader interface: the spiders of ``SPIDER_MODULES`` plus one per configured source."""

    def __init__(self, settings):
        self.modules = SpiderLoader.from_settings(settings)   # Scrapy's own loader for SPIDER_MODULES
        self.sources_path = settings.get("MONITOR_SOURCES") or None
        self._by_source: dict[str, type] | None = None

    @classmethod
    def from_settings(cls, settings) -> "SourceSpiderLoader":
        return cls(settings)

    def _sources(self) -> dict[str, type]:
        """source name -> spider class, read from the sources file on first use."""
        if self._by_source is None:
            try:
                self._by_source = {s.name: spider_class_for(s) for s in load_sources(self.sources_path)}
            except SourcesError as exc:
                raise SourcesFileError(exc) from None
        return self._by_source

    def load(self, spider_name: str) -> type:
        """The spider class named ``spider_name``; KeyError when there is none (Scrapy's contract)."""
        spiders = self._sources()
        if spider_name in spiders:
            return spiders[spider_name]
        return self.modules.load(spider_name)

    def list(self) -> list[str]:
        return list(dict.fromkeys([*self.modules.list(), *self._sources()]))

    def find_by_request(self, request) -> list[str]:
        """Names of the spiders whose domains cover the request's URL (``scrapy fetch`` / ``scrapy shell`` URL)."""
        spiders = self._sources()
        found = [n for n in self.modules.find_by_request(request) if n not in spiders]
        return [*found, *(n for n, cls in spiders.items() if cls.handles_request(request))]
