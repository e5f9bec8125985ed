"""What users type into the reading commands, checked before any query runs: dates (``--since``/``--until``),
``--limit`` and FTS5 search queries (syntax, and a cap on their size: docs/security.md).

Dates accept ``YYYY-MM-DD``, ISO 8601 datetimes (``2024-05-01T10:00``, ``...+06:00``, ``...Z``; no zone = UTC)
and relative durations back from now (``30m``, ``24h``, ``7d``, ``2w``; at most 100 years); they become SQLite
UTC timestamps 'YYYY-MM-DD HH:MM:SS'.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from monitor.clock import utcnow
from monitor.durations import duration_seconds
from monitor.errors import UsageError

MAX_LIMIT = 1_000_000                   # the most rows --limit (search, feed) and --max-stories (digest) ask for

SQL_TS = "%Y-%m-%d %H:%M:%S"


def parse_when(text: str, *, end: bool = False, now: datetime | None = None, option: str = "date") -> str:
    """A user date -> SQLite UTC timestamp 'YYYY-MM-DD HH:MM:SS'.

    ``end=True`` makes a bare date inclusive (``--until 2024-05-01`` means up to 23:59:59 that day).
    """
    raw = (text or "").strip()
    now = now or utcnow()
    try:
        seconds = duration_seconds(raw)
    except ValueError as exc:            # more than 100 years
        raise UsageError(f"{option} {exc}") from None
    if seconds is not None:
        return _sql_ts(now - timedelta(seconds=seconds))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            d = date.fromisoformat(raw)
            when = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
            if end:
                when += timedelta(days=1, seconds=-1)
        else:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
        return _sql_ts(when)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date; write YYYY-MM-DD, an ISO datetime such as "
                         "2024-05-01T10:00+06:00, or a duration back from now such as 24h, 7d, 2w") from None
    except OverflowError:               # a date at the edge of the calendar moved by its time zone
        raise UsageError(f"{option} {text!r} is out of range; give a date between the years 1 and 9999") from None


def _sql_ts(when: datetime) -> str:
    """UTC 'YYYY-MM-DD HH:MM:SS' with a four-digit year (strftime writes year 5 as '5')."""
    return when.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def parse_ts(text: str | None) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' -> aware UTC datetime; None for NULL or what Python cannot represent (year 0)."""
    try:
        return datetime.strptime(text, SQL_TS).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def iso_utc(sql_ts: str | None) -> str | None:
    """'YYYY-MM-DD HH:MM:SS' (UTC) -> RFC 3339 'YYYY-MM-DDTHH:MM:SSZ'."""
    return f"{sql_ts.replace(' ', 'T')}Z" if sql_ts else None


def check_limit(limit: int | None) -> None:
    """--limit is 1 to MAX_LIMIT (SQLite takes 64-bit integers; a million rows is already more than a reader)."""
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit {limit}: give 1 to {MAX_LIMIT}")


# --------------------------------------------------------------------------- FTS5 queries

_WORD = re.compile(r"\w+")
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def query_terms(query: str) -> int:
    """Words in an FTS5 query (phrase words each count; the operators AND, OR, NOT, NEAR do not)."""
    return sum(1 for w in _WORD.findall(query) if w not in _OPERATORS)


def check_query_size(query: str) -> None:
    """UsageError when ``query`` is longer than MONITOR_QUERY_MAX_CHARS characters or has more than
    MONITOR_QUERY_MAX_TERMS words: its cost grows with both (each prefix term* and NEAR group is a scan)."""
    from monitor.config import env_setting

    max_chars, max_terms = env_setting("MONITOR_QUERY_MAX_CHARS"), env_setting("MONITOR_QUERY_MAX_TERMS")
    if len(query) > max_chars:
        raise UsageError(f"search query is {len(query):,} characters long; the most is {max_chars:,} "
                         "(MONITOR_QUERY_MAX_CHARS): shorten it, or put a long list of words in a topic")
    terms = query_terms(query)
    if terms > max_terms:
        raise UsageError(f"search query has {terms:,} words; the most is {max_terms:,} (MONITOR_QUERY_MAX_TERMS): "
                         "shorten it, or put a long list of words in a topic")


def check_query(query: str) -> None:
    """UsageError when ``query`` is too long (``check_query_size``) or, with SQLite's message and a hint, when
    it is not valid FTS5 syntax."""
    from monitor.store.schema import fts_query_error

    if isinstance(query, str):
        check_query_size(query)
    message = fts_query_error(query)
    if message:
        raise UsageError(f"search query {query!r} is not valid FTS5 syntax: {message}. {query_hint(message)}")


def query_hint(message: str) -> str:
    if message.startswith("no such column"):
        return ("A word followed by ':' or '-' is read as a column name: put hyphenated words and phrases in "
                'double quotes, e.g. \'"kz-us"\' or \'"united states"\'.')
    if "unterminated" in message:
        return "Close every double quote."
    if message == "empty query":
        return "Give at least one word."
    return ('Quote phrases and words with punctuation in double quotes (\'"U.S."\'); AND, OR, NOT and NEAR are '
            "operators only in upper case; balance parentheses. See docs/querying.md.")
