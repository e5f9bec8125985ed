"""monitor.crawl.middlewares: Retry-After parsing, back-off schedule, mislabelled Content-Encoding, redirect loops
(unit tests; the crawl-level behaviour is in tests/test_reliability.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from monitor import settings as monitor_settings
from monitor.crawl.middlewares import (MislabelledEncodingMiddleware, RedirectGuardMiddleware, RedirectLoop,
                                 RetryPolicyMiddleware, parse_retry_after)


def _crawler(**overrides):
    base = {k: getattr(monitor_settings, k) for k in dir(monitor_settings) if k.startswith("MONITOR_RETRY")}
    return get_crawler(settings_dict={**base, **overrides})


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(b" 5 ") == 5.0
    assert parse_retry_after((now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 90.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0    # in the past: at once
    assert parse_retry_after("soon") is None and parse_retry_after("") is None and parse_retry_after(None) is None


def test_backoff_doubles_and_is_capped():
    mw = RetryPolicyMiddleware(_crawler(MONITOR_RETRY_BACKOFF=2.0, MONITOR_RETRY_BACKOFF_MAX=10.0))
    assert [mw.backoff_for(n) for n in range(5)] == [0.0, 2.0, 4.0, 8.0, 10.0]
    assert RetryPolicyMiddleware(_crawler(MONITOR_RETRY_BACKOFF=0)).backoff_for(3) == 0.0


def test_retry_after_too_long_is_not_retried():
    mw = RetryPolicyMiddleware(_crawler(MONITOR_RETRY_AFTER_MAX=60))
    req = Request("https://example.com/a")
    mw.process_response(req, Response(req.url, status=429, headers={"Retry-After": "3600"}, request=req))
    assert req.meta["dont_retry"] is True and req.meta["retry_after"] == 3600.0
    short = Request("https://example.com/b")
    mw.process_response(short, Response(short.url, status=503, headers={"Retry-After": "5"}, request=short))
    assert "dont_retry" not in short.meta and mw.paused_until["example.com"] > 0
    plain = Request("https://example.com/c")
    mw.process_response(plain, Response(plain.url, status=500, request=plain))
    assert "retry_after" not in plain.meta


def test_mislabelled_gzip_is_read_as_is():
    crawler = _crawler()
    mw = MislabelledEncodingMiddleware(crawler)
    req = Request("https://example.com/a")
    resp = HtmlResponse(req.url, body=b"<html>plain</html>", headers={"Content-Encoding": "gzip"}, request=req)
    out = mw.process_response(req, resp)
    assert b"Content-Encoding" not in out.headers and out.body == b"<html>plain</html>"
    real = HtmlResponse(req.url, body=b"\x1f\x8b\x08rest", headers={"Content-Encoding": "gzip"}, request=req)
    assert mw.process_response(req, real) is real


def test_redirect_loop_stopped_at_first_repeat():
    mw = RedirectGuardMiddleware(_crawler())
    req = Request("https://example.com/b", meta={"redirect_urls": ["https://example.com/a"]})
    to_a = Response(req.url, status=301, headers={"Location": "/a#top"}, request=req)
    with pytest.raises(RedirectLoop, match="a -> https://example.com/b -> https://example.com/a"):
        mw.process_response(req, to_a)
    onward = Response(req.url, status=302, headers={"Location": "/c"}, request=req)
    assert mw.process_response(req, onward) is onward
