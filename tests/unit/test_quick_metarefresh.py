"""QuickMetaRefreshMiddleware answers as Scrapy's MetaRefreshMiddleware does, without decoding pages that cannot
declare a refresh (monitor/crawl/middlewares.py)."""

from __future__ import annotations

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from monitor.crawl.middlewares import QuickMetaRefreshMiddleware

URL = "https://example.com/news/1/"
FILLER = "<p>" + "Long paragraph of a story. " * 800 + "</p>"   # ~21 KB


def page(head: str, body: str = "<p>Text</p>", encoding: str = "utf-8") -> bytes:
    return f"<html><head><meta charset='{encoding}'>{head}</head><body>{body}</body></html>".encode(encoding)


CASES = {
    "no refresh": page("<title>A story</title>", FILLER),
    "refresh": page("<meta http-equiv='refresh' content='0; url=/news/2/'>"),
    "REFRESH upper case": page("<META HTTP-EQUIV='REFRESH' CONTENT='0;URL=/news/3/'>"),
    "refresh with a delay above METAREFRESH_MAXDELAY": page("<meta http-equiv='refresh' content='500; url=/x/'>"),
    "the word refresh in the text only": page("", "<p>Refresh your browser.</p>" + FILLER),
    "refresh after the first 4,096 characters": page("", FILLER + "<meta http-equiv='refresh' content='0;url=/y/'>"),
    "utf-16 refresh": page("<meta http-equiv='refresh' content='0; url=/news/4/'>", encoding="utf-16"),
    "cyrillic page with refresh": page("<title>Новости Казахстана</title>" * 300
                                       + "<meta http-equiv='refresh' content='0; url=/kz/'>"),
}


def outcome(result):
    return ("request", result.url) if isinstance(result, Request) else ("response", result.url)


@pytest.mark.parametrize("name", list(CASES))
def test_same_answer_as_scrapy(name):
    crawler = get_crawler()
    ours, scrapys = QuickMetaRefreshMiddleware.from_crawler(crawler), MetaRefreshMiddleware.from_crawler(crawler)
    body = CASES[name]
    headers = {"Content-Type": "text/html"}
    got = ours.process_response(Request(URL), HtmlResponse(URL, body=body, headers=headers))
    want = scrapys.process_response(Request(URL), HtmlResponse(URL, body=body, headers=headers))
    assert outcome(got) == outcome(want)
    if name in ("refresh", "REFRESH upper case", "utf-16 refresh"):
        assert isinstance(got, Request)   # the cases exercise both answers


def test_a_page_without_refresh_is_not_decoded():
    crawler = get_crawler()
    response = HtmlResponse(URL, body=CASES["no refresh"], headers={"Content-Type": "text/html"})
    assert QuickMetaRefreshMiddleware.from_crawler(crawler).process_response(Request(URL), response) is response
    assert getattr(response, "_cached_ubody", None) is None   # Scrapy's decoded text was never made
