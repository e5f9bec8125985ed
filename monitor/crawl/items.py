"""What spiders hand to pipelines: plain dicts with a ``kind`` key, so they cross process pools easily.

- ``page``: a downloaded candidate article (raw bytes + what discovery knew about it).
- ``fetch_error``: a request that failed (HTTP status, network error, unreadable feed ...).
- ``url_alias``: a URL variant seen for an article without fetching it (incremental crawls, dedup).
- ``fetch_state``: ETag / Last-Modified of a feed, sitemap or section page (conditional GET next time).

What leaves the last pipeline is different: an ``ArticleItem`` per article stored by the run (feed exports,
``scrapy parse``); the internal dicts are dropped before exporters see them (``monitor.crawl.pipelines``).
"""

from __future__ import annotations

from dataclasses import dataclass


def page_item(*, source: str, url: str, request_urls: list[str], body: bytes, encoding: str | None,
              content_type: str | None, status: int, via: str, hints: dict | None = None,
              require_signals: bool = False, known_article_id: int | None = None) -> dict:
    return {
        "kind": "page", "source": source, "url": url, "request_urls": request_urls, "body": body,
        "encoding": encoding, "content_type": content_type, "status": status, "via": via,
        "hints": hints or {}, "require_signals": require_signals, "known_article_id": known_article_id,
    }


def fetch_error_item(*, source: str, url: str, reason: str, http_status: int | None = None,
                     detail: str | None = None) -> dict:
    return {"kind": "fetch_error", "source": source, "url": url, "reason": reason, "http_status": http_status,
            "detail": detail}


def url_alias_item(*, source: str, url: str, keys: list[str]) -> dict:
    """A URL seen for an article but not fetched (a variant of a stored or already scheduled article):
    recorded in ``article_urls`` once that article is stored.  ``keys``: ``monitor.dedup.urls.url_keys(url)``."""
    return {"kind": "url_alias", "source": source, "url": url, "keys": list(keys)}


def fetch_state_item(*, source: str, url: str, etag: str | None, last_modified: str | None) -> dict:
    """Conditional-GET validators of a feed, sitemap or section page (saved when the spider finishes)."""
    return {"kind": "fetch_state", "source": source, "url": url, "etag": etag, "last_modified": last_modified}


@dataclass
class ArticleItem:
    """What leaves the pipelines for Scrapy's feed exports (``scrapy crawl NAME -O items.jsonl``) and what
    ``scrapy parse`` shows: one stored article, plain JSON-serialisable values, a stable field order (CSV columns).

    ``url`` is the URL the page was fetched at (after redirects), ``canonical_url`` the article's URL in the
    database (``articles.url``).  ``id``, ``topics``, ``duplicate_of`` (id of the first article of its
    duplicate group) and ``story`` (id of its story: the duplicate group joined with its language editions,
    as in ``monitor digest``) are known once the article is stored: ``None`` from ``scrapy parse``.
    """

    id: int | None = None
    url: str | None = None
    canonical_url: str | None = None
    source: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    text: str | None = None
    topics: list[str] | None = None
    duplicate_of: int | None = None
    story: int | None = None


def record_item(rec, url: str | None = None) -> ArticleItem:
    """An extracted article (``monitor.store.records.ArticleRecord``) not stored by this process (``scrapy parse``)."""
    return ArticleItem(url=url or rec.url, canonical_url=rec.url, source=rec.source, title=rec.title,
                       author=rec.author, published=rec.published, language=rec.language, text=rec.text)


def is_internal(item) -> bool:
    """A bookkeeping dict (``kind`` key) that only the monitor pipelines read, never exported."""
    return isinstance(item, dict) and "kind" in item
