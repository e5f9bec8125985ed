"""monitor/crawl/scrapy_compat.py against a real crawler: every private or undocumented Scrapy (and scrapy-redis)
attribute the crawl relies on is still where the helper looks.  A Scrapy upgrade that moves one fails here,
by name, instead of a crawl that quietly stops acknowledging requests or waking its engine."""

from __future__ import annotations

import inspect

import pytest
import pytest_twisted
import scrapy
import scrapy.exceptions
import scrapy.signals
from scrapy.utils.test import get_crawler

from monitor.crawl import scrapy_compat as compat


class KeepPipeline:
    async def process_item(self, item):
        return item


class ProbeSpider(scrapy.Spider):
    """Reads every helper from inside a running crawl, then closes itself with close_spider_later."""

    name = "probe"
    seen: dict = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.keep_open, signal=scrapy.signals.spider_idle)
        return spider

    def keep_open(self):
        """Idle is no reason to close: only close_spider_later ends this crawl (its reason is then the stats')."""
        raise scrapy.exceptions.DontCloseSpider

    async def start(self):
        crawler = self.crawler
        engine = compat.engine_of(crawler)
        ProbeSpider.seen = {
            "engine": engine,
            # the private and undocumented attributes themselves, so a rename is named in the failure
            "engine._slot.inprogress": hasattr(getattr(engine, "_slot", None), "inprogress"),
            "engine._slot.nextcall.schedule": hasattr(getattr(getattr(engine, "_slot", None), "nextcall", None),
                                                      "schedule"),
            "engine.downloader.active": hasattr(engine.downloader, "active"),
            "engine.scraper.slot.needs_backout": hasattr(getattr(engine.scraper, "slot", None), "needs_backout"),
            "engine.scraper.itemproc.middlewares": hasattr(engine.scraper.itemproc, "middlewares"),
            "engine.close_spider_async": hasattr(engine, "close_spider_async"),
            "engine.scheduler or engine._slot.scheduler": compat.scheduler_of(crawler) is not None,
            # what the helpers make of them
            "requests_in_progress": compat.requests_in_progress(crawler),
            "downloads_in_flight": compat.downloads_in_flight(crawler),
            "scraper_backed_up": compat.scraper_backed_up(crawler),
            "item_pipelines": compat.item_pipelines(crawler),
            "is_scrapy_parse": compat.is_scrapy_parse(crawler),
        }
        compat.wake_engine(crawler)
        ProbeSpider.seen["closing"] = compat.close_spider_later(crawler, "probe_closed")
        return
        yield  # an async generator that yields nothing


@pytest_twisted.ensureDeferred
async def test_every_helper_finds_its_attribute_on_a_running_crawler():
    crawler = get_crawler(ProbeSpider, {"ITEM_PIPELINES": {KeepPipeline: 100}})
    assert compat.engine_of(crawler) is None and compat.requests_in_progress(crawler) is None
    assert compat.scheduler_of(crawler) is None
    assert compat.downloads_in_flight(crawler) == 0 and compat.item_pipelines(crawler) == []
    assert compat.close_spider_later(crawler, "x") is False          # no engine: nothing to close
    await crawler.crawl()
    seen = ProbeSpider.seen
    missing = [name for name, present in seen.items() if "." in name and present is not True]
    assert missing == [], f"Scrapy moved: {missing} (update monitor/crawl/scrapy_compat.py)"
    assert seen["engine"] is not None and isinstance(seen["requests_in_progress"], set)
    assert seen["downloads_in_flight"] == 0 and seen["scraper_backed_up"] is False
    assert [type(p) for p in seen["item_pipelines"]] == [KeepPipeline]
    assert seen["is_scrapy_parse"] is False and seen["closing"] is True
    stats = compat.stats_of(crawler)
    assert stats["finish_reason"] == "probe_closed"                  # close_spider_async closed it


def test_scrapy_parse_is_recognised_by_the_start_it_installs():
    """`scrapy parse` replaces the spider class's start() with a function defined in scrapy/commands/parse.py."""
    from scrapy.commands import parse

    source = inspect.getsource(parse.Command)
    assert ".start = start" in source, "scrapy parse no longer replaces start(): update is_scrapy_parse"

    async def start(spider):   # what the command installs: a function of that module
        yield None

    start.__module__ = parse.__name__
    spidercls = type("ParsedSpider", (scrapy.Spider,), {"name": "parsed", "start": start})
    assert compat.is_scrapy_parse(get_crawler(spidercls)) is True
    assert compat.is_scrapy_parse(get_crawler(ProbeSpider)) is False


def test_scrapy_redis_queue_decodes_what_it_encoded():
    queue_mod = pytest.importorskip("scrapy_redis.queue")
    assert hasattr(queue_mod.Base, "_decode_request"), "scrapy-redis moved _decode_request: update scrapy_compat"
    spider = ProbeSpider()
    queue = queue_mod.PriorityQueue(server=None, spider=spider, key="probe:requests")
    request = scrapy.Request("https://news.example/a", meta={"role": "article"}, priority=3)
    back = compat.decode_queued_request(queue, queue._encode_request(request))
    assert (back.url, back.meta["role"], back.priority) == (request.url, "article", 3)


def test_the_spider_loader_declares_scrapys_interface_where_scrapy_checks_it():
    import warnings

    from scrapy.exceptions import ScrapyDeprecationWarning
    from scrapy.utils.misc import load_object

    from monitor import settings as monitor_settings

    loader_cls = load_object(monitor_settings.SPIDER_LOADER_CLASS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrapyDeprecationWarning)
        interfaces = pytest.importorskip("scrapy.interfaces", reason="no zope interface in this Scrapy")
    from zope.interface.verify import verifyClass

    assert verifyClass(interfaces.ISpiderLoader, loader_cls)   # what get_spider_loader checks where it checks


def test_scrapys_root_log_handler_follows_the_setting():
    """`monitor crawl` installs its own log handlers (LOG_INSTALL_ROOT_HANDLER=False): a CrawlerProcess must not
    add Scrapy's on top (older Scrapy did, whatever the setting), nor warn about a deprecated argument."""
    import logging
    import warnings

    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.log import get_scrapy_root_handler

    before = list(logging.getLogger().handlers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CrawlerProcess(Settings({"LOG_INSTALL_ROOT_HANDLER": False}),
                       **compat.root_handler_kwargs(Settings({"LOG_INSTALL_ROOT_HANDLER": False})))
    assert get_scrapy_root_handler() is None and logging.getLogger().handlers == before
