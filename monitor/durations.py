"""Durations as users write them: a whole number and a unit, ``s`` ``m`` ``h`` ``d`` or ``w`` (``30m``, ``24h``,
``7d``, ``2w``; any case, spaces allowed).  One reading for the sources file (``every``), ``monitor schedule
--every`` and the query commands (``--since 24h``, ``--silent-after 3d``).

A duration is at most ``MAX_SECONDS`` (100 years): anything longer is a typo, and would overflow the dates
and timestamps it is added to (``--since 999999w``, ``every = "99999999999999999999w"``)."""

from __future__ import annotations

import re

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DAYS = 36525                        # 100 years, also the most days `monitor stats --days` shows
MAX_SECONDS = MAX_DAYS * 86400


class DurationTooLong(ValueError):
    """A duration longer than MAX_SECONDS."""


def duration_seconds(text: str | None) -> int | None:
    """Seconds of a duration (zero included), or None when ``text`` is not one; DurationTooLong (a
    ValueError) when it is longer than 100 years."""
    m = DURATION_RE.match(text or "")
    if not m:
        return None
    digits = m.group(1).lstrip("0") or "0"
    seconds = int(digits) * UNITS[m.group(2).lower()] if len(digits) <= 12 else MAX_SECONDS + 1
    if seconds > MAX_SECONDS:
        raise DurationTooLong(f"{text.strip()!r} is too long; a duration is at most 100 years "
                              f"({MAX_DAYS}d, {MAX_DAYS // 7}w)")
    return seconds


def parse_duration(text: str) -> int:
    """'30m' -> 1800 seconds. Raises ValueError with a hint for anything else, for zero and for more than
    100 years."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit, e.g. '30m', '2h', '1d'")
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds
