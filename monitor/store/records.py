"""What goes into the store and what comes back: plain dataclasses, no Scrapy, no SQLite.

The extraction workers (``monitor.crawl.extractpool``) build ``ArticleRecord``s and the distributed workers
send them through Redis; importing this module loads nothing of the store itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from monitor.clock import utcnow_iso


@dataclass
class ArticleRecord:
    """An extracted article ready to store. ``url`` is canonical; ``variants`` every URL seen for it;
    ``redirects`` those of them that redirected to the page when it was fetched (``article_urls`` kind
    ``redirect``: a later crawl knows them without a request)."""

    url: str
    source: str
    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    word_count: int | None = None
    content_hash: str | None = None
    description: str | None = None
    image: str | None = None
    fetched_at: str = field(default_factory=utcnow_iso)
    variants: Sequence[str] = ()
    redirects: Sequence[str] = ()
    extra: dict = field(default_factory=dict)   # signals for dedup/stories (hreflang, og_image, ...)


@dataclass
class StoreResult:
    """What happened to one record: new, duplicate (of an existing story) or known (URL already stored)."""

    article_id: int
    status: str           # "new", "duplicate", "known", "updated"
    duplicate_of: int | None = None


@dataclass
class FetchError:
    """A page that could not be fetched or extracted: one ``fetch_errors`` row."""

    url: str
    source: str | None
    reason: str
    http_status: int | None = None
    detail: str | None = None
    at: str = field(default_factory=utcnow_iso)
