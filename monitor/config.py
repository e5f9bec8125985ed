"""media-monitor's settings outside a running Scrapy crawler: the one way to read them.

The defaults are the ``MONITOR_*`` (and Scrapy) values of ``monitor/settings.py``, a plain Scrapy settings
module without logic.  Inside a crawl, Scrapy components read ``crawler.settings`` (which holds that module
plus ``-s`` overrides).  Everything else (``monitor sources check``, ``health``, ``schedule``, the near-duplicate
threshold) calls ``setting(NAME, overrides)``: the ``-s NAME=VALUE`` the user gave, as ``parse_overrides``
checked it, cast to the type of the default; else the default.  No Scrapy here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from monitor import settings as _defaults
from monitor.errors import UsageError

_TRUE = ("1", "true", "yes", "on")
_BOOLEAN = (*_TRUE, "0", "false", "no", "off")


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
                int(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a whole number (default {default})") from None
        elif isinstance(default, float):
            try:
                float(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a number (default {default})") from None
        elif default is None and name.startswith("MONITOR_"):
            raise UsageError(f"-s {name}: no such media-monitor setting (see README, 'Settings')")
        out[name] = value
    return out
