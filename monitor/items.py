"""What spiders hand to pipelines: plain dicts with a ``kind`` key, so they cross process pools easily.

- ``page``: a downloaded candidate article (raw bytes + what discovery knew about it).
- ``fetch_error``: a request that failed (HTTP status, network error, unreadable feed ...).
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
