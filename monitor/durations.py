"""Durations as users write them: a whole number and a unit, ``s`` ``m`` ``h`` ``d`` or ``w`` (``30m``, ``24h``,
``7d``, ``2w``; any case, spaces allowed).  One reading for the sources file (``every``), ``monitor schedule
--every`` and the query commands (``--since 24h``, ``--silent-after 3d``)."""

from __future__ import annotations

import re

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str | None) -> int | None:
    """Seconds of a duration (zero included), or None when ``text`` is not one."""
    m = DURATION_RE.match(text or "")
    return int(m.group(1)) * UNITS[m.group(2).lower()] if m else None


def parse_duration(text: str) -> int:
    """'30m' -> 1800 seconds. Raises ValueError with a hint for anything else, and for zero."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit, e.g. '30m', '2h', '1d'")
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds
