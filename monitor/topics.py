"""Topics: named SQLite FTS5 queries that tag stored articles (``article_topics``).

A topics file is TOML with one ``[[topic]]`` table per topic::

    [[topic]]
    name = "kz-us"
    description = "Kazakhstan and the United States"
    query = '(kazakhstan* OR казахстан*) AND ("united states" OR сша)'

The query language is FTS5 ``MATCH`` syntax, the same as ``monitor search``, run against the
``articles_fts`` index (title + extracted text, tokenizer ``unicode61 remove_diacritics 2``).  Every
query is compiled against an in-memory FTS5 table with the same columns and tokenizer when the file is
loaded (``monitor.store.schema.fts_query_error``), so a bad query is refused before a crawl or a retag
starts (``TopicsError``, CLI exit 2).  To try a query on sample text: ``monitor.store.schema.matching_topics``.

No Scrapy, no database file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import TopicsError
from monitor.store.schema import fts_query_error

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FIELDS = {"name": True, "description": False, "query": True}


@dataclass(frozen=True)
class Topic:
    """One topic: ``name`` is the tag stored in ``article_topics.topic``; ``query`` is FTS5 MATCH syntax."""

    name: str
    description: str
    query: str


def bundled_topics_path() -> Path:
    from monitor.package_data import package_file  # also inside a zipped egg (Scrapyd)

    return package_file("topics.toml")


def resolve_topics_path(path: str | os.PathLike | None = None) -> Path:
    """--topics FILE, else $MONITOR_TOPICS, else the bundled ``monitor/topics.toml``."""
    chosen = path or os.environ.get("MONITOR_TOPICS")
    return Path(chosen) if chosen else bundled_topics_path()


# --------------------------------------------------------------------------- loading

def _where(path, name=None) -> str:
    parts = [str(path)] if path else []
    if name:
        parts.append(f"topic {name!r}")
    return ", ".join(parts) + ": " if parts else ""


def topic_from_dict(raw, *, path=None, index: int = 0) -> Topic:
    """Validate one ``[[topic]]`` table (fields, name, FTS5 query) and return a frozen Topic."""
    if not isinstance(raw, dict):
        raise TopicsError(f"{_where(path)}each [[topic]] must be a table")
    label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise TopicsError(f"{_where(path, label)}unknown key {unknown[0]!r}; known keys: {', '.join(_FIELDS)}")
    for key, required in _FIELDS.items():
        if key not in raw:
            if required:
                raise TopicsError(f"{_where(path, label)}field {key!r} is missing (every topic needs a name and a query)")
            continue
        if not isinstance(raw[key], str):
            raise TopicsError(f"{_where(path, label)}field {key!r} must be a string, got {type(raw[key]).__name__}")
    name = raw["name"]
    if not NAME_RE.match(name):
        raise TopicsError(f"{_where(path, label)}name {name!r} may only contain a-z, 0-9, '_' and '-'")
    query = raw["query"].strip()
    message = fts_query_error(query)
    if message:
        raise TopicsError(
            f"{_where(path, name)}query {query!r} is not valid FTS5 syntax: {message} "
            "(quote phrases and hyphenated words with double quotes; AND, OR, NOT must be upper case)")
    description = " ".join((raw.get("description") or "").split())
    return Topic(name=name, description=description, query=query)


def parse_topics(text: str, *, path=None) -> list[Topic]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TopicsError(f"{_where(path)}is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"topic"})
    if unknown:
        raise TopicsError(f"{_where(path)}unknown top-level key {unknown[0]!r}; write each topic as a [[topic]] table")
    raw_topics = data.get("topic", [])
    if not isinstance(raw_topics, list):
        raise TopicsError(f"{_where(path)}'topic' must be an array of tables ([[topic]])")
    topics: list[Topic] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_topics):
        topic = topic_from_dict(raw, path=path, index=i)
        if topic.name in seen:
            raise TopicsError(f"{_where(path, topic.name)}duplicate name; every topic needs its own")
        seen.add(topic.name)
        topics.append(topic)
    return topics


def load_topics(path: str | os.PathLike | None = None) -> list[Topic]:
    """Read and validate a topics file (``--topics FILE``, else ``$MONITOR_TOPICS``, else the bundled one)."""
    p = resolve_topics_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopicsError(f"{p}: file not found (pass --topics FILE or set $MONITOR_TOPICS)") from None
    except IsADirectoryError:
        raise TopicsError(f"{p}: is a directory, not a topics file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopicsError(f"{p}: cannot be read: {exc}") from None
    return parse_topics(text, path=p)
