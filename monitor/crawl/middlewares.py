"""Downloader middlewares that keep a crawl polite and readable when sites misbehave (docs/reliability.md).

- ``RetryPolicyMiddleware`` (560, just outside Scrapy's ``RetryMiddleware`` at 550): honours
  ``Retry-After`` on 429 and 503 answers (the retry, and every other request to that host, waits that long,
  without blocking the reactor; an answer asking for more than ``MONITOR_RETRY_AFTER_MAX`` seconds is not
  retried but recorded as ``rate_limited``), and spaces the retries of 5xx answers, timeouts and broken
  connections with exponential back-off (``MONITOR_RETRY_BACKOFF``, doubling, at most
  ``MONITOR_RETRY_BACKOFF_MAX``).  Scrapy's ``RetryMiddleware`` still decides *whether* to retry
  (``RETRY_TIMES``, ``RETRY_HTTP_CODES``: 404 and 410 are never retried).
- ``MislabelledEncodingMiddleware`` (595, before ``HttpCompressionMiddleware`` at 590 sees the answer):
  a body labelled ``Content-Encoding: gzip``/``deflate`` that is not compressed at all is taken as it is.
- ``RedirectGuardMiddleware`` (610, before ``RedirectMiddleware`` at 600): a redirect back to a URL of the
  same chain is a loop: stopped at once (``RedirectLoop``, recorded as ``redirect_loop``) instead of being
  dropped silently by the duplicate filter or followed ``REDIRECT_MAX_TIMES`` times.
- ``QuickMetaRefreshMiddleware`` (580, replaces Scrapy's ``MetaRefreshMiddleware``): the same, without decoding
  pages that cannot declare a refresh (docs/performance.md).
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import datetime, timezone
from urllib.parse import urljoin, urldefrag

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (429, 503)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), None if unreadable."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():   # ("²".isdigit() is true too)
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


async def _sleep(seconds: float) -> None:
    """Wait without blocking the reactor (works with the asyncio and the default Twisted reactors)."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    from scrapy.utils.defer import maybe_deferred_to_future

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class _Middleware:
    """A downloader middleware Scrapy builds from the crawler; it counts in the crawler's stats."""

    def __init__(self, crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class RetryPolicyMiddleware(_Middleware):
    """Retry-After and exponential back-off around Scrapy's RetryMiddleware (see the module docstring)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        s = crawler.settings
        self.enabled = s.getbool("RETRY_ENABLED")
        self.max_retry_times = s.getint("RETRY_TIMES")
        self.retry_codes = {int(c) for c in s.getlist("RETRY_HTTP_CODES")}
        self.retry_after_max = s.getfloat("MONITOR_RETRY_AFTER_MAX")
        self.backoff = s.getfloat("MONITOR_RETRY_BACKOFF")
        self.backoff_max = s.getfloat("MONITOR_RETRY_BACKOFF_MAX")
        self.paused_until: dict[str, float] = {}    # host -> time.monotonic() before which nothing is sent

    def backoff_for(self, retry_times: int) -> float:
        """Seconds before retry number ``retry_times`` (1, 2, ...): BACKOFF, 2 x BACKOFF, ... capped."""
        if retry_times <= 0 or self.backoff <= 0:
            return 0.0
        return min(self.backoff_max, self.backoff * 2 ** (retry_times - 1))

    async def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        wait = 0.0
        until = self.paused_until.get(host)
        if until is not None:
            wait = until - time.monotonic()
            if wait <= 0:
                self.paused_until.pop(host, None)
                wait = 0.0
        retry_times = request.meta.get("retry_times", 0)
        if retry_times and request.meta.get("backoff_done") != retry_times:
            request.meta["backoff_done"] = retry_times
            wait = max(wait, self.backoff_for(retry_times))
        if wait > 0:
            self.stats.inc_value("monitor/retry_wait_count")
            self.stats.inc_value("monitor/retry_wait_seconds", round(wait, 3))
            await _sleep(wait)
        return None

    def process_response(self, request, response):
        if (response.status not in RETRY_AFTER_STATUSES or not self.enabled
                or request.meta.get("dont_retry") or b"Retry-After" not in response.headers):
            return response
        delay = parse_retry_after(response.headers.get(b"Retry-After"))
        if delay is None:
            return response
        request.meta["retry_after"] = delay
        host = urlparse_cached(request).hostname or ""
        if delay > self.retry_after_max:
            # honoured by not asking again in this crawl: recorded as rate_limited (the errback reads retry_after)
            request.meta["dont_retry"] = True
            self.stats.inc_value("monitor/retry_after_too_long")
            logger.info("%s asks to wait %.0f s (Retry-After), more than MONITOR_RETRY_AFTER_MAX=%.0f: not retried",
                        request.url, delay, self.retry_after_max)
            return response
        if delay > 0:
            self.paused_until[host] = max(self.paused_until.get(host, 0.0), time.monotonic() + delay)
            self.stats.inc_value("monitor/retry_after_honoured")
            logger.info("%s asks to wait %.1f s (Retry-After): requests to %s paused", request.url, delay, host)
        return response


class MislabelledEncodingMiddleware(_Middleware):
    """``Content-Encoding: gzip`` (or deflate) on a body that is plainly not compressed: drop the header."""

    def process_response(self, request, response):
        encodings = [e.strip().lower() for v in response.headers.getlist(b"Content-Encoding") for e in v.split(b",")]
        if len(encodings) != 1 or encodings[0] not in (b"gzip", b"x-gzip", b"deflate"):
            return response
        body = response.body
        if not body:
            return response
        if encodings[0] == b"deflate":
            compressed = body[:1] in (b"\x78", b"\x58", b"\x68", b"\x08", b"\x18", b"\x28", b"\x38", b"\x48")
            looks_plain = body.lstrip()[:1] in (b"<", b"{", b"[")
            if compressed or not looks_plain:
                return response
        elif body[:2] == b"\x1f\x8b":
            return response
        self.stats.inc_value("monitor/mislabelled_content_encoding")
        logger.info("%s: Content-Encoding says %s but the body is not compressed; read as it is",
                    response.url, encodings[0].decode())
        headers = response.headers.copy()
        del headers[b"Content-Encoding"]
        return response.replace(headers=headers)


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already in the request's redirect chain."""


class RedirectGuardMiddleware(_Middleware):
    """Stop a redirect loop at the first repeated URL (see the module docstring)."""

    def process_response(self, request, response):
        if response.status not in REDIRECT_STATUSES or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        target = urldefrag(urljoin(request.url, location.decode("latin-1").strip()))[0]
        chain = [urldefrag(u)[0] for u in (*request.meta.get("redirect_urls", ()), request.url)]
        if target in chain:
            self.stats.inc_value("monitor/redirect_loops")
            hops = " -> ".join([*chain[chain.index(target):], target])
            raise RedirectLoop(f"redirect loop: {hops}")
        return response


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware`` (580, in its place), without decoding every page to look for a
    ``<meta http-equiv="refresh">``: Scrapy reads ``response.text[:4096]``, which decodes the whole body first
    (a 250 KB page: ~5 % of the crawl process's CPU).  A page whose first 16 KB of bytes do not contain
    ``refresh`` (any case) cannot declare one in its first 4,096 characters, so it is passed on unread; any
    other page (and any page in a UTF-16/32 encoding, where ASCII is not spelled byte for byte) goes to
    Scrapy's code as before."""

    SCAN = 4 * 4096   # 4,096 characters are at most 16 KB in UTF-8

    def process_response(self, request, response):
        head = response.body[:self.SCAN]
        if b"\x00" not in head[:1024] and b"refresh" not in head.lower():
            return response
        return super().process_response(request, response)
