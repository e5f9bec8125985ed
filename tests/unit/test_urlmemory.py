"""monitor/crawl/urlmemory.py: the URL memory extension on a real SQLite file (the Redis one is in
tests/e2e/test_distributed.py), found by the spider with crawler.get_extension, off for `scrapy parse`."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from monitor import settings as monitor_settings
from monitor.crawl.spider import NewsSpider
from monitor.crawl.urlmemory import UrlMemory
from monitor.sources.catalogue import source_from_dict
from monitor.store.db import acquire_writer, release_writer
from monitor.store.records import ArticleRecord

URL = "https://news.example/2026/03/01/a/"


def _crawler(db, spidercls=None):
    cls = spidercls or NewsSpider.for_source(source_from_dict({"name": "unit", "url": "https://news.example/"}))
    return get_crawler(cls, {"MONITOR_DB": str(db), "EXTENSIONS": monitor_settings.EXTENSIONS})


def test_memory_answers_from_the_database_and_the_pending_batch(tmp_path):
    db = tmp_path / "m.db"
    writer = acquire_writer(db)
    try:
        [stored] = writer.write_batch([ArticleRecord(url=URL, source="unit", text="text " * 80,
                                                     fetched_at="2026-03-01T10:00:00+00:00")])
        writer.save_fetch_state("https://news.example/feed/", '"v1"', None)
        crawler = _crawler(db)
        memory = crawler.get_extension(UrlMemory)
        assert memory is not None and memory.known_urls([URL]) == set()   # not open yet: no database read
        memory.open()
        assert memory.storage is writer                                    # the process's one writer
        tracked = URL + "?utm_source=rss"
        assert memory.known_urls([tracked]) == {URL}                       # by its canonical form
        assert memory.known_articles([tracked]) == {tracked: (stored.article_id, "2026-03-01T10:00:00+00:00")}
        assert memory.validators("https://news.example/feed/")["etag"] == '"v1"'
        assert memory.validators("https://news.example/other/") is None and memory.conditional_get
        fresh = "https://news.example/2026/03/02/b/"
        memory.add_pending([fresh])
        assert memory.known_urls([fresh + "?fbclid=1"]) == {fresh} and memory.known_articles([fresh]) == {}
        memory.clear_pending()
        assert memory.known_urls([fresh]) == set()
        memory.close()
        assert memory.storage is None and memory.known_urls([URL]) == set()
    finally:
        release_writer(writer)


def test_the_spider_finds_the_memory_and_scrapy_parse_has_none(tmp_path):
    crawler = _crawler(tmp_path / "m.db")
    spider = crawler.spidercls.from_crawler(crawler)
    assert spider.memory is crawler.get_extension(UrlMemory) and not hasattr(spider, "known_urls")

    async def start(spider):   # `scrapy parse` puts a start() of its own module on the spider class
        yield None

    start.__module__ = "scrapy.commands.parse"
    parsed = type("ParsedSpider", (crawler.spidercls,), {"start": start})
    with pytest.raises(NotConfigured):
        UrlMemory.from_crawler(get_crawler(parsed, {"MONITOR_DB": str(tmp_path / "m.db")}))
    crawler = _crawler(tmp_path / "m.db", parsed)
    assert crawler.get_extension(UrlMemory) is None and crawler.spidercls.from_crawler(crawler).memory is None
    assert not (tmp_path / "m.db").exists()                               # nothing opened the file
