"""The clock: now, in UTC, to the second.

Every timestamp media-monitor stores (``fetched_at``, ``started_at``, fetch errors, run state) is
``utcnow_iso()``, ISO 8601 with ``+00:00``; date arithmetic (``monitor.query.reads``) starts from
``utcnow()``.  Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now in UTC, microseconds dropped."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def utcnow_iso() -> str:
    """Now in UTC as ISO 8601 text (``2026-03-01T12:00:00+00:00``): what the store writes."""
    return utcnow().isoformat()
