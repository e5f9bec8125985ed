"""What spiders hand to pipelines: plain dicts with a ``kind`` key, so they cross process pools easily.

- ``page``: a downloaded candidate article (raw bytes + what discovery knew about it).
- ``fetch_error``: a request that failed (HTTP status, network error, unreadable feed ...).
- ``url_alias``: a URL variant seen for an article without fetching it (incremental crawls, dedup).
- ``fetch_state``: ETag / Last-Modified of a feed, sitemap or section page (conditional GET next time).
"""

from __future__ import annotations


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
    recorded in ``article_urls`` once that article is stored.  ``keys``: ``monitor.urls.url_keys(url)``."""
    return {"kind": "url_alias", "source": source, "url": url, "keys": list(keys)}


def fetch_state_item(*, source: str, url: str, etag: str | None, last_modified: str | None) -> dict:
    """Conditional-GET validators of a feed, sitemap or section page (saved when the spider finishes)."""
    return {"kind": "fetch_state", "source": source, "url": url, "etag": etag, "last_modified": last_modified}
