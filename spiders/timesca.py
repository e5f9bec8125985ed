"""The Times of Central Asia (timesca.com): the newest articles from the WordPress REST API, besides the feed.

Why code: the site's RSS feed (``/feed/``, WordPress's default of 10 items) holds a few hours of a busy news
day, and its article URLs carry no date, so neither an ``article_pattern`` nor link-following can tell
articles from other pages.  WordPress lists posts newest first at ``/wp-json/wp/v2/posts``, ``per_page`` up
to 100 a page, each with its ``link``, ``date_gmt``, ``modified_gmt`` and ``title.rendered`` (an HTML
fragment), and says how many pages there are in the ``X-WP-TotalPages`` header.  The spider reads the first
``MONITOR_API_PAGES`` pages of it (``_fields`` keeps the answer to those four fields, not whole posts) and
hands each post to the generic candidate step with its title and dates as hints: already stored articles
are skipped as usual, an edited one (``modified_gmt`` newer than when it was fetched) is fetched again like
a sitemap entry with a newer ``lastmod``.  Everything else (feed, robots.txt, extraction) is ``NewsSpider``'s.

Tested on a saved answer: ``tests/support/spider_fixtures/timesca/`` (``tests/e2e/test_site_spiders.py``).
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urljoin

from monitor.crawl.items import fetch_error_item
from monitor.crawl.spider import NewsSpider


class TimesCASpider(NewsSpider):
    """``NewsSpider`` plus the site's WordPress post list (``start`` adds it, ``parse_posts`` reads it)."""

    posts_path = "/wp-json/wp/v2/posts"
    per_page = 50
    api_pages = 2   # MONITOR_API_PAGES (from_crawler)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.api_pages = crawler.settings.getint("MONITOR_API_PAGES", cls.api_pages)
        return spider

    async def start(self):
        async for request in super().start():
            yield request
        if self.api_pages > 0:
            yield self._posts_request(1)

    def _posts_request(self, page: int):
        url = (f"{urljoin(self.source.url, self.posts_path)}?per_page={self.per_page}&page={page}"
               "&_fields=link,date_gmt,modified_gmt,title")
        return self._request(url, self.parse_posts, role="api", cb_kwargs={"page": page})

    def parse_posts(self, response, page: int = 1):
        try:
            posts = json.loads(response.body)
            if not isinstance(posts, list):
                raise ValueError(f"a JSON {type(posts).__name__}, not a list of posts")
        except ValueError as exc:   # JSONDecodeError, UnicodeDecodeError included
            yield fetch_error_item(source=self.name, url=response.url, reason="bad_feed", http_status=response.status,
                                   detail=f"WordPress post list could not be read: {exc}")
            return
        for post in posts:
            link = post.get("link") if isinstance(post, dict) else None
            if not isinstance(link, str) or not link:
                continue
            url = response.urljoin(link)
            if not self._on_site(url):
                self.crawler.stats.inc_value("monitor/offsite_links_skipped")
                continue
            hints = {"title": _title(post.get("title")), "published": _utc_iso(post.get("date_gmt")),
                     "lastmod": _utc_iso(post.get("modified_gmt"))}
            yield from self._candidate(url, via="api", hints={k: v for k, v in hints.items() if v})
        total = (response.headers.get("X-WP-TotalPages") or b"").decode("latin-1").strip()
        more = int(total) > page if total.isdigit() else len(posts) >= self.per_page
        if more and page < self.api_pages:
            yield self._posts_request(page + 1)


def _title(value) -> str | None:
    """``title.rendered`` is an HTML fragment ("Kazakhstan&#8217;s <em>new</em> ..."): plain text."""
    rendered = value.get("rendered") if isinstance(value, dict) else None
    if not isinstance(rendered, str):
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", rendered)).split()) or None


def _utc_iso(value) -> str | None:
    """WordPress's ``date_gmt`` ("2026-11-20T08:15:00", UTC without an offset) as ISO 8601 with ``+00:00``."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", value):
        return None
    return value + "+00:00"
