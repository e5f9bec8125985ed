"""spiders/timesca.py on answers its saved fixture does not hold: unreadable JSON, odd entries, no page count
(the crawl on the fixture is tests/e2e/test_site_spiders.py)."""

from __future__ import annotations

import json

import pytest_twisted
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from monitor.sources.catalogue import source_from_dict
from monitor_spiders.timesca import TimesCASpider, _title, _utc_iso

SITE = "https://timesca.example"


def _spider(**settings):
    cls = TimesCASpider.for_source(source_from_dict({"name": "timesca", "url": SITE + "/"}))
    crawler = get_crawler(cls, settings_dict=settings)
    crawler.spider = spider = cls.from_crawler(crawler)
    return spider


def _parse(spider, body, page=1, headers=None):
    """What ``parse_posts`` makes of an answer to the request for ``page``: (articles, next pages, items)."""
    url = f"{SITE}/wp-json/wp/v2/posts?page={page}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = TextResponse(url, body=raw, headers=headers or {}, request=Request(url), encoding="utf-8")
    results = list(spider.parse_posts(response, page=page))
    requests = [r for r in results if isinstance(r, Request)]
    return [r for r in requests if r.callback.__name__ == "parse_article"], \
        [r for r in requests if r.callback.__name__ == "parse_posts"], [r for r in results if isinstance(r, dict)]


def test_title_and_dates_as_hints():
    assert _title({"rendered": "Kazakhstan&#8217;s <em>new</em>\n budget"}) == "Kazakhstan\u2019s new budget"
    assert _title({"rendered": " "}) is None and _title("plain") is None and _title(None) is None
    assert _utc_iso("2026-11-20T08:15:00") == "2026-11-20T08:15:00+00:00"
    assert _utc_iso("2026-11-20") is None and _utc_iso(None) is None and _utc_iso(20261120) is None


def test_posts_become_candidates_with_hints_and_offsite_or_broken_entries_are_skipped():
    spider = _spider(MONITOR_API_PAGES=2)
    posts = [{"link": f"{SITE}/a-story/", "date_gmt": "2026-11-20T08:15:00", "modified_gmt": "2026-11-21T09:00:00",
              "title": {"rendered": "A &amp; B"}},
             {"link": "https://elsewhere.example/b/", "date_gmt": "2026-11-20T08:15:00"},
             {"title": {"rendered": "no link"}}, "not an object", {"link": "/relative-story/"}]
    articles, pages, errors = _parse(spider, posts, headers={"X-WP-TotalPages": "5"})
    assert [r.url for r in articles] == [f"{SITE}/a-story/", f"{SITE}/relative-story/"]
    assert articles[0].cb_kwargs["hints"] == {"title": "A & B", "published": "2026-11-20T08:15:00+00:00",
                                              "lastmod": "2026-11-21T09:00:00+00:00"}
    assert articles[0].cb_kwargs["via"] == "api" and articles[1].cb_kwargs["hints"] == {}
    assert [r.cb_kwargs["page"] for r in pages] == [2] and "page=2&" in pages[0].url and errors == []
    assert spider.crawler.stats.get_value("monitor/offsite_links_skipped") == 1


def test_paging_stops_at_the_last_page_the_setting_or_a_short_page():
    spider = _spider(MONITOR_API_PAGES=3)
    one = [{"link": f"{SITE}/s{i}/"} for i in range(2)]
    assert _parse(spider, one, 1, {"X-WP-TotalPages": "1"})[1] == []   # the last page
    assert len(_parse(spider, one, 2, {"X-WP-TotalPages": "9"})[1]) == 1
    assert _parse(spider, one, 3, {"X-WP-TotalPages": "9"})[1] == []   # MONITOR_API_PAGES
    # no X-WP-TotalPages header: a full page (per_page entries) means there may be more
    full = [{"link": f"{SITE}/f{i}/"} for i in range(TimesCASpider.per_page)]
    assert len(_parse(spider, full, 1)[1]) == 1
    assert _parse(spider, one, 1)[1] == []


def test_unreadable_answer_is_a_fetch_error_not_a_crash():
    spider = _spider()
    for body, why in [(b"<html>maintenance</html>", "could not be read"), ({"code": "rest_disabled"}, "not a list")]:
        articles, pages, errors = _parse(spider, body)
        assert articles == [] and pages == []
        assert [(e["kind"], e["reason"]) for e in errors] == [("fetch_error", "bad_feed")] and why in errors[0]["detail"]


@pytest_twisted.ensureDeferred
async def test_start_adds_the_post_list_to_the_generic_requests_unless_switched_off():
    source = source_from_dict({"name": "timesca", "url": SITE + "/", "feeds": [SITE + "/feed/"]})
    for pages, expected in [(2, [f"{SITE}/feed/", f"{SITE}/wp-json/wp/v2/posts?per_page=50&page=1"
                                                   "&_fields=link,date_gmt,modified_gmt,title"]),
                            (0, [f"{SITE}/feed/"])]:
        cls = TimesCASpider.for_source(source)
        crawler = get_crawler(cls, settings_dict={"MONITOR_API_PAGES": pages})
        spider = cls.from_crawler(crawler)
        assert [r.url async for r in spider.start()] == expected
