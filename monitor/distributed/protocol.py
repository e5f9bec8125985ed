"""What crawler processes and the ingester of a distributed crawl agree on (no Scrapy, no SQLite).

Redis keys (``{prefix}`` is ``MONITOR_REDIS_PREFIX`` / ``monitor ingest --prefix``):

- ``{prefix}:items``: the list workers push JSON messages to (``message``), ``{prefix}:items:processing`` the
  batch the ingester is writing;
- ``{prefix}:known``: hash URL -> ``"ARTICLE_ID FETCHED_AT"`` of stored articles (``known_value``), ``""`` for a
  URL a worker pushed and the ingester has not stored yet;
- ``{prefix}:{crawl key}`` (``crawl_base``): the base of one crawl's queue, dupefilter, workers and run id.

Messages carry ``"v": MESSAGE_VERSION``; an ``article`` message holds an ``ArticleRecord`` as JSON
(``record_to_json`` / ``record_from_json``).  URLs shown to people go through ``redact_url`` (no password).
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import asdict

from monitor.clock import utcnow_iso
from monitor.errors import MonitorError, UsageError

DEFAULT_PREFIX = "monitor"
MESSAGE_VERSION = 1


# --------------------------------------------------------------------------- keys and connections

def redis_client(url: str):
    """A redis-py client for ``url`` (bytes replies), or a UsageError naming the problem."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=60,
                                      health_check_interval=30)
    except ValueError as exc:
        raise UsageError(f"--redis {url!r}: not a Redis URL ({exc}); write redis://HOST:PORT/DB") from None
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        raise MonitorError(f"Redis at {redact_url(url)} cannot be reached: {exc}") from None
    return client


def redis_url_from(settings) -> str:
    """``MONITOR_REDIS_URL`` of a settings mapping, else ``$MONITOR_REDIS_URL``, else ``""``."""
    return (settings.get("MONITOR_REDIS_URL") or os.environ.get("MONITOR_REDIS_URL") or "").strip()


def check_crawl_key(crawl_key: str) -> str:
    """A crawl key is part of Redis key names: letters, digits, ``-``, ``_`` and ``.`` only."""
    if not re.fullmatch(r"[\w.-]+", crawl_key):
        raise UsageError(f"crawl key {crawl_key!r}: use letters, digits, '-', '_' or '.'")
    return crawl_key


def crawl_base(prefix: str, crawl_key: str) -> str:
    return f"{prefix}:{crawl_key}"


def items_key(prefix: str) -> str:
    return f"{prefix}:items"


def processing_key(prefix: str) -> str:
    return f"{prefix}:items:processing"


def known_key(prefix: str) -> str:
    return f"{prefix}:known"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def redact_url(url: str) -> str:
    """The URL without a password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --------------------------------------------------------------------------- messages

def message(kind: str, *, run, crawl, worker, spider, **data) -> str:
    """One message for ``{prefix}:items``: ``article``, ``alias``, ``error``, ``start`` or ``finish``."""
    return json.dumps({"v": MESSAGE_VERSION, "type": kind, "run": run, "crawl": crawl, "worker": worker,
                       "spider": spider, "at": utcnow_iso(), **data}, ensure_ascii=False)


def known_value(article_id: int, fetched_at: str) -> str:
    """The ``{prefix}:known`` value of a stored article."""
    return f"{article_id} {fetched_at}"


def parse_known(value) -> tuple[int, str] | None:
    """``(article_id, fetched_at)`` of a ``{prefix}:known`` value; None for ``""`` (pushed, not stored yet)."""
    if not value:
        return None
    aid, _, fetched = (value.decode() if isinstance(value, bytes) else value).partition(" ")
    return int(aid), fetched


def record_to_json(rec) -> dict:
    """An ArticleRecord as JSON-safe data (bytes in ``extra`` become ``{"__b64__": ...}``)."""
    import base64

    data = asdict(rec)
    data["variants"] = list(rec.variants)
    data["redirects"] = list(rec.redirects)

    def safe(v):
        if isinstance(v, bytes):
            return {"__b64__": base64.b64encode(v).decode("ascii")}
        if isinstance(v, dict):
            return {k: safe(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [safe(x) for x in v]
        return v

    data["extra"] = safe(rec.extra or {})
    return data


def record_from_json(data: dict):
    import base64

    from monitor.store.records import ArticleRecord

    def back(v):
        if isinstance(v, dict):
            if set(v) == {"__b64__"}:
                return base64.b64decode(v["__b64__"])
            return {k: back(x) for k, x in v.items()}
        if isinstance(v, list):
            return [back(x) for x in v]
        return v

    known = {f for f in ArticleRecord.__dataclass_fields__}
    kwargs = {k: v for k, v in data.items() if k in known}
    kwargs["extra"] = back(kwargs.get("extra") or {})
    kwargs["variants"] = tuple(kwargs.get("variants") or ())
    kwargs["redirects"] = tuple(kwargs.get("redirects") or ())   # absent in messages of older workers
    return ArticleRecord(**kwargs)
