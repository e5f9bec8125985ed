"""media-monitor's settings outside a running Scrapy crawler: the one way to read them.

The defaults are the ``MONITOR_*`` (and Scrapy) values of ``monitor/settings.py``, a plain Scrapy settings
module without logic.  Inside a crawl, Scrapy components read ``crawler.settings`` (which holds that module
plus ``-s`` overrides).  Everything else (``monitor sources check``, ``health``, ``schedule``, the near-duplicate
threshold) calls ``setting(NAME, overrides)``: the ``-s NAME=VALUE`` the user gave, as ``parse_overrides``
checked it, cast to the type of the default; else the default.  No Scrapy here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from monitor import settings as _defaults
from monitor.errors import UsageError

_TRUE = ("1", "true", "yes", "on")
_BOOLEAN = (*_TRUE, "0", "false", "no", "off")

_HOUR, _DAY, _YEAR = 3600, 86400, 366 * 86400
_GIB = 1024 ** 3
# The allowed range (inclusive) of every number media-monitor relies on: an ``-s NAME=VALUE`` outside it is
# refused with the range in the message (``-s DOWNLOAD_DELAY=1e400`` would make a crawl that never ends).
# Every number whose default is known (monitor/settings.py, and Scrapy's for a crawl) must be finite (no inf, no
# nan) and fit 64 bits, whether listed here or not.  Each numeric MONITOR_* setting must be listed (a test checks
# it); 0 keeps the meaning monitor/settings.py gives it (often "no limit").
RANGES: dict[str, tuple[float, float]] = {
    # Scrapy's
    "DOWNLOAD_DELAY": (0, _HOUR), "DOWNLOAD_DELAY_JITTER": (0, 1), "DOWNLOAD_TIMEOUT": (1, _HOUR),
    "DNS_TIMEOUT": (1, _HOUR), "CONCURRENT_REQUESTS": (1, 10_000), "CONCURRENT_REQUESTS_PER_DOMAIN": (1, 10_000),
    "CONCURRENT_ITEMS": (1, 10_000),
    "AUTOTHROTTLE_START_DELAY": (0, _HOUR), "AUTOTHROTTLE_MAX_DELAY": (0, _HOUR),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": (0.1, 10_000), "DOWNLOAD_MAXSIZE": (0, 64 * _GIB),
    "DOWNLOAD_WARNSIZE": (0, 64 * _GIB), "RETRY_TIMES": (0, 100), "REDIRECT_MAX_TIMES": (0, 100),
    "DEPTH_LIMIT": (0, 10_000), "CLOSESPIDER_TIMEOUT": (0, _YEAR), "CLOSESPIDER_ITEMCOUNT": (0, 10 ** 12),
    "CLOSESPIDER_PAGECOUNT": (0, 10 ** 12), "CLOSESPIDER_ERRORCOUNT": (0, 10 ** 12),
    "REACTOR_THREADPOOL_MAXSIZE": (1, 1000), "LOGSTATS_INTERVAL": (0, _DAY), "MEMUSAGE_LIMIT_MB": (0, 2 ** 30),
    "URLLENGTH_LIMIT": (0, 10 ** 6), "METAREFRESH_MAXDELAY": (0, _DAY),
    # media-monitor's
    "MONITOR_CRAWL_ID": (0, 2 ** 63 - 1), "MONITOR_MAX_ARTICLES": (0, 10 ** 12), "MONITOR_MAX_REFETCHES": (0, 10 ** 9),
    "MONITOR_MAX_DEPTH": (0, 100), "MONITOR_MAX_PAGES_PER_SOURCE": (0, 10 ** 9),
    "MONITOR_MAX_SECTION_PAGES": (0, 10 ** 6), "MONITOR_MAX_FEED_ENTRIES": (0, 10 ** 7), "MONITOR_API_PAGES": (0, 10_000),
    "MONITOR_MAX_SITEMAP_URLS": (0, 10 ** 9), "MONITOR_MAX_SITEMAP_DEPTH": (0, 100),
    "MONITOR_SITEMAP_MAX_BYTES": (0, 64 * _GIB), "MONITOR_SITEMAP_MAX_AGE_DAYS": (0, 36525),
    "MONITOR_EXTRACT_MAX_BYTES": (0, 4 * _GIB), "MONITOR_EXTRACT_MAX_ELEMENTS": (0, 10 ** 9),
    "MONITOR_EXTRACT_TIMEOUT": (0, _HOUR),
    "MONITOR_EXTRACT_WORKERS": (0, 1024), "MONITOR_EXTRACT_QUEUE": (0, 100_000),
    "MONITOR_QUEUED_REQUESTS": (0, 1_000_000), "MONITOR_FRONTIER_MEMORY": (1, 10 ** 8),
    "MONITOR_EXTRACT_MAX_TASKS_PER_CHILD": (0, 10 ** 9), "MONITOR_MIN_TEXT_CHARS": (0, 10 ** 7),
    "MONITOR_BATCH_SIZE": (1, 10 ** 7), "MONITOR_BATCH_SECONDS": (0, _YEAR), "MONITOR_SQLITE_CACHE_MB": (0, 1024 ** 2),
    "MONITOR_RETRY_AFTER_MAX": (0, _DAY), "MONITOR_RETRY_BACKOFF": (0, _HOUR), "MONITOR_RETRY_BACKOFF_MAX": (0, _DAY),
    "MONITOR_PROGRESS_INTERVAL": (0, _DAY), "MONITOR_STOP_TIMEOUT": (0, _HOUR),
    "MONITOR_CHECK_TIMEOUT": (0.1, _HOUR), "MONITOR_CHECK_CONCURRENCY": (1, 1000),
    "MONITOR_BROWSER_PAGES": (1, 1000), "MONITOR_BROWSER_TIMEOUT": (1, _HOUR), "MONITOR_BROWSER_SETTLE": (0, _HOUR),
    "MONITOR_NEAR_DUP_THRESHOLD": (0, 1), "MONITOR_LSH_MEMORY": (0, 10 ** 8), "MONITOR_REDIS_HEARTBEAT": (0.1, _HOUR),
    "MONITOR_REDIS_WORKER_TIMEOUT": (1, _DAY), "MONITOR_POLL_MIN_INTERVAL": (1, _YEAR),
    "MONITOR_POLL_MAX_INTERVAL": (1, _YEAR), "MONITOR_POLL_EMPTY_RUNS": (1, 10_000),
    "MONITOR_POLL_BUSY_RUNS": (1, 10_000), "MONITOR_HEALTH_MAX_FAILURES": (1, 10_000),
    "MONITOR_HEALTH_EMPTY_RUNS": (1, 10_000), "MONITOR_HEALTH_EXPECTED_NEW": (0, 10 ** 9),
    "MONITOR_HEALTH_HISTORY_DAYS": (1, 36525), "MONITOR_QUERY_TIMEOUT": (0, _DAY),
    "MONITOR_QUERY_MAX_CHARS": (1, 10 ** 6), "MONITOR_QUERY_MAX_TERMS": (1, 100_000),
    "MONITOR_SEARCH_THREADS": (0, 64),
}


def setting(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """``overrides[name]`` (a string from ``-s``) cast to the type of the default in monitor/settings.py,
    else that default.  An unknown name is a programming error (AttributeError)."""
    default = getattr(_defaults, name)
    if not overrides or name not in overrides:
        return default
    raw = overrides[name]
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in _TRUE
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise UsageError(f"-s {name}={raw}: {name} takes a number (default {default})") from None
    return raw


def parse_overrides(pairs: Iterable[str] | None, fallback_defaults: Any = None) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs -> ``{NAME: VALUE}``, each checked against the type of its default: the one in
    monitor/settings.py, else the attribute of ``fallback_defaults`` (the crawl passes Scrapy's
    ``default_settings`` module).  An unknown ``MONITOR_*`` name or a value of the wrong type is a UsageError."""
    out = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not name.replace("_", "").isalnum() or name.upper() != name:
            raise UsageError(f"-s {pair!r}: write settings as NAME=VALUE, e.g. -s DOWNLOAD_DELAY=2")
        default = getattr(_defaults, name, getattr(fallback_defaults, name, None))
        if isinstance(default, bool):
            if value.lower() not in _BOOLEAN:
                raise UsageError(f"-s {name}={value}: {name} takes true or false")
        elif isinstance(default, int):
            try:
                number: float = int(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a whole number{_range_text(name)} "
                                 f"(default {default})") from None
            _check_range(name, value, number, default)
        elif isinstance(default, float):
            try:
                number = float(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a number{_range_text(name)} "
                                 f"(default {default})") from None
            _check_range(name, value, number, default)
        elif default is None and name.startswith("MONITOR_"):
            raise UsageError(f"-s {name}: no such media-monitor setting (see README, 'Settings')")
        out[name] = value
    return out


_ANY = (-(2 ** 63), 2 ** 63 - 1)          # what SQLite and C can hold


def _range_text(name: str) -> str:
    low, high = RANGES.get(name, _ANY)
    fmt = lambda x: f"{x:,}" if isinstance(x, int) else f"{x:g}"   # noqa: E731
    return f" from {fmt(low)} to {fmt(high)}"


def _check_range(name: str, raw: str, number: float, default) -> None:
    """UsageError when ``number`` is inf, nan, not a 64-bit integer or outside ``RANGES[name]``."""
    low, high = RANGES.get(name, _ANY)
    if not math.isfinite(number) or not low <= number <= high:
        kind = "whole number" if isinstance(default, int) else "number"
        raise UsageError(f"-s {name}={raw}: {name} takes a {kind}{_range_text(name)} (default {default})")


def usable_cpus() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one): what the settings whose
    0 means "one per core" count (MONITOR_EXTRACT_WORKERS, MONITOR_SEARCH_THREADS)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def env_setting(name: str) -> Any:
    """``$NAME`` from the environment when set (checked like ``-s NAME=VALUE``), else the default of
    monitor/settings.py: for the few settings the reading commands take without ``-s``
    (MONITOR_QUERY_TIMEOUT, MONITOR_QUERY_MAX_CHARS, MONITOR_QUERY_MAX_TERMS, MONITOR_SEARCH_THREADS)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return setting(name)
    try:
        return setting(name, parse_overrides([f"{name}={raw.strip()}"]))
    except UsageError as exc:
        raise UsageError(str(exc).replace("-s ", "$", 1)) from None
