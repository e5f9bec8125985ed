"""Declarative news sources: one validated, frozen record per outlet, read from TOML.

Adding an outlet is a ``[[source]]`` entry; a small spider class in ``spiders/`` (named by ``spider``)
only where a site truly needs custom code.  A bad file is refused before anything is crawled,
naming the file, the source and the field (``SourcesError``; the CLI exits 2).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from monitor.durations import parse_duration
from monitor.errors import SourcesError

NAME_RE = re.compile(r"^[a-z0-9_-]+$")

# key -> (python type(s), required)
_FIELDS = {
    "name": (str, True),
    "url": (str, True),
    "feeds": (list, False),
    "sitemaps": (list, False),
    "sections": (list, False),
    "article_pattern": (str, False),
    "language": (str, False),
    "tags": (list, False),
    "every": (str, False),
    "description": (str, False),
    "allowed_domains": (list, False),
    "spider": (str, False),
    "enabled": (bool, False),
    "render": (str, False),
}

# how a source's HTML pages are fetched: "http" (Scrapy's downloader) or "browser" (rendered by a headless
# Chromium through scrapy-playwright, for sites whose articles exist only after their scripts ran;
# monitor/crawl/browser.py)
RENDER_MODES = ("http", "browser")


@dataclass(frozen=True)
class Source:
    """One outlet to watch. ``url``'s host is the allowed domain."""

    name: str
    url: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    article_pattern: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    every: str | None = None
    description: str | None = None
    allowed_domains: tuple[str, ...] = ()
    spider: str | None = None
    enabled: bool = True
    render: str = "http"

    @property
    def needs_browser(self) -> bool:
        """``render = "browser"``: its article and listing pages are rendered by Chromium (monitor/crawl/browser.py)."""
        return self.render == "browser"

    @property
    def domain(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def domains(self) -> tuple[str, ...]:
        """The source's host plus any extra allowed domains."""
        return (self.domain, *self.allowed_domains)

    @property
    def origins(self) -> frozenset:
        """``(host, port)`` of the source's own URLs (url, feeds, sitemaps, sections), default ports as None:
        its crawl stays on these ports of these hosts (``monitor.crawl.discovery.on_site``)."""
        from monitor.crawl.discovery import origin

        return frozenset(o for o in map(origin, (self.url, *self.feeds, *self.sitemaps, *self.sections)) if o)

    @property
    def every_seconds(self) -> int | None:
        return parse_duration(self.every) if self.every else None

    @property
    def article_regex(self) -> re.Pattern | None:
        return re.compile(self.article_pattern) if self.article_pattern else None

    @property
    def needs_discovery(self) -> bool:
        """No declared feeds or sitemaps: find them (robots.txt, <link rel=alternate>, links)."""
        return not self.feeds and not self.sitemaps


def _check_url(value, *, path, source, field_name) -> str:
    if not isinstance(value, str):
        raise SourcesError(f"must be a URL string, got {type(value).__name__}", path=path, source=source, field=field_name)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourcesError(f"{value!r} is not an absolute http(s) URL (write e.g. 'https://example.com/feed/')",
                           path=path, source=source, field=field_name)
    try:
        parts.port
    except ValueError:
        raise SourcesError(f"{value!r} has an invalid port", path=path, source=source, field=field_name) from None
    from monitor.crawl.addresses import is_metadata, parse_host_address

    address = parse_host_address(parts.hostname)
    if address is not None and is_metadata(address):
        # loopback and private addresses are accepted (the source may then reach exactly its own addresses,
        # docs/security.md); a cloud metadata service is never a news site
        raise SourcesError(f"{value!r} is a cloud metadata address ({address}); it is never crawled",
                           path=path, source=source, field=field_name)
    return value


def source_from_dict(raw: dict, *, path: str | os.PathLike | None = None, index: int = 0) -> Source:
    """Validate one ``[[source]]`` table and return a frozen Source."""
    label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
    if not isinstance(raw, dict):
        raise SourcesError("each [[source]] must be a table", path=path, source=label)
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise SourcesError(f"unknown key {unknown[0]!r}; known keys: {', '.join(_FIELDS)}",
                           path=path, source=label, field=unknown[0])
    for key, (typ, required) in _FIELDS.items():
        if key not in raw:
            if required:
                raise SourcesError("is missing (every source needs a name and a url)", path=path, source=label, field=key)
            continue
        if not isinstance(raw[key], typ):
            raise SourcesError(f"must be a {typ.__name__}, got {type(raw[key]).__name__}", path=path, source=label, field=key)
    name = raw["name"]
    if not NAME_RE.match(name):
        raise SourcesError(f"{name!r} may only contain a-z, 0-9, '_' and '-'", path=path, source=label, field="name")
    _check_url(raw["url"], path=path, source=name, field_name="url")
    lists = {}
    for key in ("feeds", "sitemaps", "sections"):
        lists[key] = tuple(_check_url(u, path=path, source=name, field_name=key) for u in raw.get(key, []))
    for key in ("tags", "allowed_domains"):
        items = raw.get(key, [])
        if not all(isinstance(t, str) and t for t in items):
            raise SourcesError("must be a list of non-empty strings", path=path, source=name, field=key)
        lists[key] = tuple(t.lower() for t in items)
    pattern = raw.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SourcesError(f"{pattern!r} is not a valid regular expression: {exc}", path=path, source=name,
                               field="article_pattern") from None
    language = raw.get("language")
    if language is not None and not re.match(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", language):
        raise SourcesError(f"{language!r} is not a language code (write e.g. 'en', 'ru', 'kk')", path=path,
                           source=name, field="language")
    every = raw.get("every")
    if every is not None:
        try:
            parse_duration(every)
        except ValueError as exc:
            raise SourcesError(str(exc), path=path, source=name, field="every") from None
    spider = raw.get("spider")
    if spider is not None and not re.match(r"^[A-Za-z_][\w.]*$", spider):
        raise SourcesError(f"{spider!r} is not a dotted class path", path=path, source=name, field="spider")
    render = raw.get("render", "http")
    if render not in RENDER_MODES:
        raise SourcesError(f"{render!r} is not a render mode; write \"browser\" (pages rendered by Chromium) or "
                           f"\"http\" (the default)", path=path, source=name, field="render")
    return Source(name=name, url=raw["url"], article_pattern=pattern, language=language, every=every,
                  description=raw.get("description"), spider=spider, enabled=raw.get("enabled", True),
                  render=render, **lists)


def bundled_sources_path() -> Path:
    from monitor.package_data import package_file  # also inside a zipped egg (Scrapyd)

    return package_file("sources.toml")


def resolve_sources_path(path: str | os.PathLike | None = None) -> Path:
    """--sources FILE, else $MONITOR_SOURCES, else the bundled catalogue."""
    chosen = path or os.environ.get("MONITOR_SOURCES")
    return Path(chosen) if chosen else bundled_sources_path()


def parse_sources(text: str, *, path: str | os.PathLike | None = None) -> list[Source]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"is not valid TOML: {exc}", path=path) from None
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise SourcesError(f"unknown top-level key {unknown[0]!r}; write each outlet as a [[source]] table", path=path)
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        raise SourcesError("'source' must be an array of tables ([[source]])", path=path)
    sources, seen = [], set()
    for i, raw in enumerate(raw_sources):
        src = source_from_dict(raw, path=path, index=i)
        if src.name in seen:
            raise SourcesError("duplicate name; every source needs its own", path=path, source=src.name, field="name")
        seen.add(src.name)
        sources.append(src)
    return sources


def load_sources(path: str | os.PathLike | None = None) -> list[Source]:
    """Read and validate a sources file (see resolve_sources_path for which one)."""
    p = resolve_sources_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError("file not found (pass --sources FILE or set $MONITOR_SOURCES)", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"cannot be read: {exc}", path=p) from None
    return parse_sources(text, path=p)


def select_sources(sources: list[Source], names=(), tags=()) -> list[Source]:
    """Pick sources by name and/or tag; unknown names are an error listing what exists."""
    by_name = {s.name: s for s in sources}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SourcesError(f"unknown source {missing[0]!r}; configured: {', '.join(by_name) or '(none)'}")
    chosen = [by_name[n] for n in names] if names else [s for s in sources if s.enabled]
    if tags:
        wanted = {t.lower() for t in tags}
        chosen = [s for s in chosen if wanted & set(s.tags)]
        if not chosen:
            raise SourcesError(f"no source has tag {', '.join(sorted(wanted))}")
    return chosen
