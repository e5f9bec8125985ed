"""The store: the SQLite file and the only code that touches it (``sqlite3`` / ``sqlite_utils`` stay here).

- ``db``: the one door.  ``open_reader(path)`` (read-only connection), ``open_writer(path)`` (the writer,
  migrated), ``acquire_writer`` / ``release_writer`` (one writer per file per process),
  ``resolve_db_path``, the errors (``StorageWriteError``, ``SQLError``, ``describe_sqlite_error``).
- ``articles``: ``Writer``, the writer: articles, URL memory, duplicates, versions, stories, topics.
- ``crawllog``: the crawl log mixed into the writer: crawls rows, fetch errors and state, scheduler and
  distributed-run state.
- ``schema``: migrations, the full-text index, the schema-version check, FTS5 query checks.
- ``records``: ``ArticleRecord``, ``FetchError``, ``StoreResult`` (no SQLite: what the extraction workers import).

The names below load their module on first use, so ``from monitor.store import ArticleRecord`` stays light.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "open_reader": "db", "open_writer": "db", "acquire_writer": "db", "release_writer": "db", "reading": "db",
    "has_table": "db", "resolve_db_path": "db", "describe_sqlite_error": "db", "StorageWriteError": "db",
    "SQLError": "db", "SQLOperationalError": "db",
    "Writer": "articles",
    "ArticleRecord": "records", "FetchError": "records", "StoreResult": "records",
    "KNOWN_MIGRATIONS": "schema", "FTS_TOKENIZE": "schema", "fts_query_error": "schema",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'monitor.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"monitor.store.{_WHERE[name]}"), name)
