"""The one door to the SQLite file: every module that reads or writes the database opens it here.

``open_reader(path)``
    a read-only connection (``file:...?mode=ro``; ``immutable`` on a read-only file system, where no
    writer can exist and no WAL index can be made), checked to be a media-monitor database this version
    can read.  It can never change the file, so it runs while a crawl writes (WAL).  Rows are
    ``sqlite3.Row`` (by index or by name).
``open_writer(path, create=True, cache_mb=...)``
    the writer (``monitor.store.articles.Writer``): WAL, ``synchronous=NORMAL``, a ``cache_mb`` page
    cache, foreign keys, 30 s busy timeout; the file is checked and migrated (``monitor.store.schema``).
    One writer per file per process: a crawl shares it between its run and its spiders through
    ``acquire_writer`` / ``release_writer``.

Problems become ``monitor.errors`` exceptions with one line a person can act on: ``DatabaseError`` (exit 2:
a missing, unreadable, non-SQLite, foreign or newer file, or a path that cannot be written) and
``StorageWriteError`` (exit 1: the disk is full, an I/O error).  SQLite errors raised later by a
statement are ``SQLError`` (the DB-API base class) and ``SQLOperationalError`` (a bad FTS5 query, SQLite
built without JSON functions): catch those names, ``describe_sqlite_error`` words them.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote

from monitor.errors import DatabaseError, MonitorError
from monitor.settings import MONITOR_SQLITE_CACHE_MB as WRITER_CACHE_MB   # the writer's page cache default

if TYPE_CHECKING:
    from monitor.store.articles import Writer

Connection = sqlite3.Connection            # what open_reader returns
SQLError = sqlite3.Error                   # any error SQLite raises for a statement
SQLOperationalError = sqlite3.OperationalError


class StorageWriteError(MonitorError):
    """The database could not be written for a reason outside the user's input (disk full, I/O error): exit 1."""


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """--db FILE, else $MONITOR_DB, else ./monitor.db."""
    return Path(path or os.environ.get("MONITOR_DB") or "monitor.db")


def _unwritable(path) -> str:
    return (f"{path}: cannot be written (a read-only file, folder or file system); check its permissions "
            "and mount, or pass --db with a writable file")


def describe_sqlite_error(exc: BaseException, path) -> tuple[str, int]:
    """``(one line a person can act on, exit code)`` for an SQLite error while opening or writing ``path``.

    Exit 1 for the machine's problems (disk full, I/O error), 2 for a path the user gave that cannot be
    written (read-only file or file system, missing folder).  SQLite rolls back the failed transaction:
    what was committed before stays intact."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:   # ENOSPC on the -shm/-wal shows as I/O error
        try:
            st = os.statvfs(Path(path).parent)
            if st.f_bavail * st.f_frsize < 1024 * 1024:
                name = "SQLITE_FULL"
        except OSError:
            pass
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return (f"{path}: the disk is full, SQLite could not write; free some space and run the crawl again "
                "(articles stored before are intact; the rest is fetched next time)"), 1
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return _unwritable(path), 2
    target = Path(path)
    if target.exists() and (not os.access(target, os.W_OK) or not os.access(target.parent, os.W_OK)):
        return _unwritable(path), 2
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return (f"{path}: cannot be opened for writing (check that the folder exists and is writable, or pass "
                "--db with another file)"), 2
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return f"{path}: disk I/O error while writing ({text}); check the disk and run the crawl again", 1
    return f"{path}: {text}", 2


def _check_path(p: Path, *, create: bool) -> None:
    """The path's problems that need no SQLite (no open()/close() of the file: closing any descriptor on an
    SQLite file drops this process's POSIX locks on it, which can corrupt a connection already open on it)."""
    if p.exists():
        if p.is_dir():
            raise DatabaseError(f"{p}: is a directory, not a database file (pass --db FILE)")
        if not os.access(p, os.R_OK):
            raise DatabaseError(f"{p}: cannot be read (check its permissions)")
        return
    if not create:
        raise DatabaseError(f"{p}: no such database (run `monitor crawl --db {p}` first, or check --db / $MONITOR_DB)")
    if not p.parent.exists():
        raise DatabaseError(f"{p}: folder {p.parent} does not exist")
    if not p.parent.is_dir():
        raise DatabaseError(f"{p}: {p.parent} is a file, not a folder")


# --------------------------------------------------------------------------- readers

def open_reader(path: str | os.PathLike | None = None) -> Connection:
    """A read-only connection to a media-monitor database (see module doc); DatabaseError (exit 2) for
    anything else.  Close it when done (or use ``reading``)."""
    p = resolve_db_path(path)
    _check_path(p, create=False)
    size = p.stat().st_size
    if size == 0:
        raise DatabaseError(f"{p}: is empty (pass --db with a media-monitor database)")
    if size < 100:   # shorter than the SQLite header
        raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor database)")
    # on a read-only file system (a backup, a read-only volume) no writer can exist and SQLite cannot create
    # the WAL index beside the file: open it as immutable
    try:
        read_only_fs = bool(os.statvfs(p.parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only_fs = False
    conn = None
    try:
        conn = sqlite3.connect(f"file:{quote(str(p.resolve()))}?mode=ro{'&immutable=1' if read_only_fs else ''}",
                               uri=True, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        from monitor.store import schema

        schema.check_schema(_wrap(conn), p, need_articles=True)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or "not a database" in str(exc):
            raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor database)") from None
        raise DatabaseError(f"{p}: cannot be read as a database: {exc}") from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn


@contextmanager
def reading(path: str | os.PathLike | None = None) -> Iterator[Connection]:
    """``with reading(path) as conn:`` an ``open_reader`` connection, closed afterwards."""
    conn = open_reader(path)
    try:
        yield conn
    finally:
        conn.close()


def has_table(conn, name: str) -> bool:
    """Whether the file has table ``name`` (an older file may lack later migrations' tables)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def _wrap(conn: sqlite3.Connection):
    import sqlite_utils

    return sqlite_utils.Database(conn)


# --------------------------------------------------------------------------- the writer

def open_writer(path: str | os.PathLike | None = None, *, create: bool = True,
                cache_mb: int = WRITER_CACHE_MB) -> "Writer":
    """The writer of the file at ``path`` (``$MONITOR_DB`` or ./monitor.db), checked and migrated.

    ``create``: a missing file is made (else DatabaseError, as for readers).  ``cache_mb``: the page cache
    (the FTS and dedup indexes are updated at random places once the file outgrows SQLite's default 2 MB)."""
    from monitor.store import schema
    from monitor.store.articles import Writer

    p = resolve_db_path(path)
    _check_path(p, create=create)
    conn = None
    try:
        conn = sqlite3.connect(str(p), timeout=30, isolation_level=None, check_same_thread=False)
        db = _wrap(conn)
        conn.execute("PRAGMA busy_timeout = 30000")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "encrypted" in str(exc):
                raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor "
                                    "database, or a new file name)") from None
            raise
        conn.execute("PRAGMA foreign_keys = ON")
        schema.check_schema(db, p)
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        if cache_mb > 0:
            conn.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
        schema.apply_migrations(db)
    except BaseException as exc:
        if conn is not None:   # closed now: a refused file keeps no -wal/-shm beside it
            conn.close()
        if not isinstance(exc, sqlite3.DatabaseError):
            raise
        message, code = describe_sqlite_error(exc, p)
        if code == 1:   # the disk, not the user's input: disk full, I/O error
            raise StorageWriteError(message) from None
        if message.endswith(str(exc)):
            message = f"{p}: cannot be used as a database: {exc}"
        raise DatabaseError(message) from None
    return Writer(db, p)


# One writer per file per process: `monitor crawl` opens it before its spiders start and closes it after
# the crawls row is complete; each spider's StoragePipeline shares it (a `scrapy crawl` run opens it in its
# first pipeline).  path -> [Writer, holders]
_shared: dict[Path, list] = {}


def acquire_writer(path: str | os.PathLike, *, cache_mb: int = WRITER_CACHE_MB) -> "Writer":
    """This process's writer of ``path``, opened by the first holder (``cache_mb`` applies then); give it
    back with ``release_writer``."""
    key = Path(path).resolve()
    entry = _shared.get(key)
    if entry is None:
        entry = _shared[key] = [open_writer(key, cache_mb=cache_mb), 0]
    entry[1] += 1
    return entry[0]


def release_writer(writer: "Writer") -> None:
    """One holder less; the last one closes the writer."""
    key = Path(writer.path).resolve()
    entry = _shared.get(key)
    if entry is None or entry[0] is not writer:   # not shared (opened with open_writer): the caller's own
        writer.close()
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _shared[key]
        writer.close()
