"""Every place the crawl reaches into Scrapy (or scrapy-redis) beyond its documented API: one small helper each.

A Scrapy upgrade that moves one of these breaks ``tests/unit/test_scrapy_compat.py``, which runs each helper
against a real crawler (``scrapy.utils.test.get_crawler``) and asserts the attribute is still there, instead
of a crawl that quietly behaves differently.  Nothing else in ``monitor/`` reads a private Scrapy attribute.

Checked on Scrapy 2.15 (the floor in pyproject.toml) to 2.19 and scrapy-redis 0.9.1.
"""

from __future__ import annotations


def engine_of(crawler):
    """The crawler's engine, or None before its crawl started (Scrapy 2.19 raises RuntimeError on
    ``crawler.engine`` then; older releases return None)."""
    try:
        return crawler.engine
    except (RuntimeError, AttributeError):
        return None


def stats_of(crawler) -> dict:
    """The crawler's stats as a dict; empty before the crawl set them up."""
    try:
        return crawler.stats.get_stats() if crawler.stats else {}
    except (RuntimeError, AttributeError):
        return {}


def scheduler_of(crawler):
    """The running crawl's scheduler, or None.  ``ExecutionEngine.scheduler`` is public in Scrapy 2.19; older
    releases (2.15 here) keep it only in the private ``engine._slot.scheduler``."""
    engine = engine_of(crawler)
    if engine is None:
        return None
    try:
        return engine.scheduler
    except AttributeError:
        return getattr(getattr(engine, "_slot", None), "scheduler", None)


def requests_in_progress(crawler):
    """The requests the engine is still working on (download, callback, items, follow-ups), or None without a
    running engine.  Private: ``ExecutionEngine._slot.inprogress`` (the engine's own bookkeeping; no public
    view exists).  The Redis scheduler acknowledges a request once it has left this set."""
    slot = getattr(engine_of(crawler), "_slot", None)
    return getattr(slot, "inprogress", None)


def wake_engine(crawler) -> None:
    """Ask the engine to pull from its scheduler now (a request another worker put back in the shared queue).
    Private: ``ExecutionEngine._slot.nextcall`` (a ``CallLaterOnce``), what Scrapy schedules itself after a
    download; without it an idle engine looks again only on its 5 s heartbeat."""
    nextcall = getattr(getattr(engine_of(crawler), "_slot", None), "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


def downloads_in_flight(crawler) -> int:
    """Requests in the crawler's downloader.  Undocumented: ``Downloader.active`` (a set of requests)."""
    engine = engine_of(crawler)
    return len(getattr(getattr(engine, "downloader", None), "active", ()) or ())


def scraper_backed_up(crawler) -> bool:
    """Whether Scrapy's scraper holds so many responses that it stops the downloader
    (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``).  Undocumented: ``Scraper.slot.needs_backout()``."""
    slot = getattr(getattr(engine_of(crawler), "scraper", None), "slot", None)
    return bool(slot is not None and slot.needs_backout())


def item_pipelines(crawler) -> list:
    """Every item pipeline instance of a running crawler, in order (``crawler.get_item_pipeline`` finds one
    class only).  Undocumented: ``Scraper.itemproc.middlewares``."""
    itemproc = getattr(getattr(engine_of(crawler), "scraper", None), "itemproc", None)
    return list(getattr(itemproc, "middlewares", ()))


def is_scrapy_parse(crawler) -> bool:
    """Whether this crawler runs ``scrapy parse``: that command replaces the spider class's ``start()`` with
    its own (scrapy/commands/parse.py, 2.13+); nothing is written to the database then.  Internal: there is
    no public flag for "run by scrapy parse"."""
    start = getattr(getattr(crawler, "spidercls", None), "start", None)
    return getattr(start, "__module__", "") == "scrapy.commands.parse"


def close_spider_later(crawler, reason: str) -> bool:
    """Close the crawler's spider with ``reason`` on the next reactor turn (never from inside a pipeline
    call); False without a running engine.  ``ExecutionEngine.close_spider_async`` is public since 2.14."""
    engine = engine_of(crawler)
    if engine is None:
        return False
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    reactor.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason=reason)))
    return True


def root_handler_kwargs(settings) -> dict:
    """Keyword arguments for ``CrawlerProcess`` so Scrapy's root log handler follows ``LOG_INSTALL_ROOT_HANDLER``:
    Scrapy 2.19 reads the setting itself (and deprecates the ``install_root_handler`` argument); older releases
    (2.15 here) default that argument to True whatever the setting."""
    import inspect

    from scrapy.crawler import CrawlerProcess

    param = inspect.signature(CrawlerProcess.__init__).parameters.get("install_root_handler")
    if param is None or param.default is None:
        return {}
    return {"install_root_handler": settings.getbool("LOG_INSTALL_ROOT_HANDLER", True)}


def declare_spider_loader(cls):
    """Class decorator: ``cls`` implements Scrapy's spider-loader interface.  Older Scrapy (2.14 here) checks
    ``SPIDER_LOADER_CLASS`` against the zope interface ``scrapy.interfaces.ISpiderLoader`` (``verifyClass`` in
    ``get_spider_loader``) and refuses a class that does not declare it; 2.19 deprecates that module and
    checks nothing.  So it is declared where it exists, without the deprecation warning."""
    import warnings

    from scrapy.exceptions import ScrapyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrapyDeprecationWarning)
        try:
            from scrapy.interfaces import ISpiderLoader
        except ImportError:   # gone in a later Scrapy: the Protocol alone counts
            return cls
    from zope.interface import classImplements

    classImplements(cls, ISpiderLoader)
    return cls


def decode_queued_request(queue, data: bytes):
    """A request back from its serialized form in a scrapy-redis queue.  Private: scrapy-redis 0.9's
    ``queue.Base._decode_request`` (its ``pop()`` would take the entry from Redis itself; the Redis
    scheduler pops with its own Lua script to keep the entry in flight)."""
    return queue._decode_request(data)
