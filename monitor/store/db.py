"""The one door to the SQLite file: every module that reads or writes the database opens it here.

``open_reader(path, time_limit=None)``
    a read-only connection (``file:...?mode=ro``; ``immutable`` on a read-only file system, where no
    writer can exist and no WAL index can be made, and in a folder this user cannot write when SQLite
    cannot make its WAL index there), checked to be a media-monitor database this version can read.  It
    can never change the file, so it runs while a crawl writes (WAL); it never creates a database (the
    ``-wal``/``-shm`` files SQLite keeps beside a WAL database, where the folder is writable, hold no data).
    Rows are ``sqlite3.Row`` (by index or by name).  A time budget (``MONITOR_QUERY_TIMEOUT`` seconds by
    default) stops its queries through SQLite's progress handler: ``QueryTimeout`` (exit 2); the clock
    starts when the file is opened and again at ``conn.restart_clock()``.
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
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote

from monitor.errors import DatabaseError, MonitorError, UsageError
from monitor.settings import MONITOR_SQLITE_CACHE_MB as WRITER_CACHE_MB   # the writer's page cache default

if TYPE_CHECKING:
    from monitor.store.articles import Writer

Connection = sqlite3.Connection            # what open_reader returns
# The writer copies the WAL back into the file (and syncs it) once the WAL holds this many pages (4 KB each),
# not SQLite's default 1,000: the LSH, URL and hash indexes take random pages, a 500-article batch dirties
# ~20,000 of them, and a page dirtied again by the next batches is then copied and synced once, not per batch.
WAL_CHECKPOINT_PAGES = 50_000
SQLError = sqlite3.Error                   # any error SQLite raises for a statement
SQLOperationalError = sqlite3.OperationalError


def _sqlite_library():
    """The SQLite library Python's sqlite3 module runs on, through ctypes (None where it cannot be reached
    safely: only on Linux, where ``sqlite3_config``'s variable arguments pass like fixed ones)."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import _sqlite3
        import ctypes

        lib = ctypes.CDLL(_sqlite3.__file__)    # its symbols, and those of the libsqlite3 it links to
        lib.sqlite3_config.restype = ctypes.c_int
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return lib
    except (ImportError, OSError, AttributeError):
        return None


_statistics_off = False


def run_connections_in_parallel() -> bool:
    """Turn SQLite's memory statistics off for this process (``SQLITE_CONFIG_MEMSTATUS``, one of SQLite's
    recommended options for speed), so connections used from several threads run side by side: with them,
    every allocation of every connection takes one process-wide lock, and a search ranked in two threads took
    1.3 x one thread's time here (without the lock, 0.57 x).  SQLite takes this setting only while it is shut
    down, so it is done only when no connection, statement or other SQLite memory exists in the process
    (SQLite reports 0 bytes in use); call it at start-up, before any connection (the CLI does).  Returns
    whether the statistics are off (False where the library cannot be reached: not Linux)."""
    global _statistics_off
    if _statistics_off:
        return True
    lib = _sqlite_library()
    if lib is None or lib.sqlite3_memory_used() != 0:
        return False
    import ctypes

    if lib.sqlite3_shutdown() == 0:
        # 9: SQLITE_CONFIG_MEMSTATUS; SQLite starts again (with it) at its next use in any case
        _statistics_off = lib.sqlite3_config(9, ctypes.c_int(0)) == 0
        lib.sqlite3_initialize()
    return _statistics_off


def threads_run_in_parallel() -> bool:
    """Whether queries on several connections of this process run side by side (``run_connections_in_parallel``
    took effect)."""
    return _statistics_off


class StorageWriteError(MonitorError):
    """The database could not be written for a reason outside the user's input (disk full, I/O error): exit 1."""


class QueryTimeout(UsageError):
    """A reader's query ran longer than its time budget (MONITOR_QUERY_TIMEOUT) and was stopped: exit 2."""


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

class ReaderConnection(sqlite3.Connection):
    """``open_reader``'s connection: a time budget for its queries through SQLite's progress handler."""

    time_limit: float = 0.0
    deadline: float | None = None
    uri: str | None = None         # what it was opened with, for ``sibling``

    def sibling(self) -> "ReaderConnection":
        """Another read-only connection to the same file under the same time budget (the same deadline), for
        a query split across threads (``monitor.query.ranking``); the file was checked when this one opened."""
        other = _open_uri(self.uri)
        other.time_limit, other.deadline = self.time_limit, self.deadline
        other.set_progress_handler(other._over_budget, PROGRESS_STEPS)
        return other

    def restart_clock(self) -> None:
        """The budget starts again now (``export`` gives each batch of rows its own)."""
        self.deadline = time.monotonic() + self.time_limit if self.time_limit > 0 else None

    def _over_budget(self) -> int:
        return 1 if self.deadline is not None and time.monotonic() > self.deadline else 0

    def timeout_error(self, exc: BaseException) -> QueryTimeout | None:
        """The QueryTimeout to raise when ``exc`` is SQLite stopping a query of this connection over budget."""
        # "interrupted", or "vtable constructor failed" when the stop came while FTS5 opened its table
        if isinstance(exc, sqlite3.OperationalError) and self._over_budget():
            return QueryTimeout(
                f"the query ran longer than {self.time_limit:g} s and was stopped (MONITOR_QUERY_TIMEOUT): narrow "
                "it (fewer prefix terms* and NEAR groups, a phrase, --since, --source) or raise "
                "$MONITOR_QUERY_TIMEOUT (0 = no limit)")
        return None


PROGRESS_STEPS = 10_000   # SQLite virtual-machine steps between two looks at the clock


def _open_uri(uri: str) -> ReaderConnection:
    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False, factory=ReaderConnection)
    conn.uri = uri
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_ro(p: Path, *, immutable: bool, time_limit: float) -> ReaderConnection:
    conn = _open_uri(f"file:{quote(str(p.resolve()))}?mode=ro{'&immutable=1' if immutable else ''}")
    try:
        conn.row_factory = sqlite3.Row
        from monitor.store import schema

        schema.check_schema(_wrap(conn), p, need_articles=True)
    except BaseException:
        conn.close()
        raise
    conn.time_limit = time_limit
    conn.set_progress_handler(conn._over_budget, PROGRESS_STEPS)
    conn.restart_clock()
    return conn


def _read_only_folder(p: Path) -> bool:
    """Whether SQLite cannot make its WAL index beside ``p``: a read-only file system (a backup, a read-only
    volume), or a folder this user cannot write without the ``-shm`` file already there."""
    try:
        if os.statvfs(p.parent).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):
        pass
    return not os.access(p.parent, os.W_OK)


def open_reader(path: str | os.PathLike | None = None, *, time_limit: float | None = None) -> ReaderConnection:
    """A read-only connection to a media-monitor database (see module doc); DatabaseError (exit 2) for
    anything else.  ``time_limit``: seconds its queries may run (default MONITOR_QUERY_TIMEOUT, 0 = no limit).
    Close it when done (or use ``reading``)."""
    p = resolve_db_path(path)
    _check_path(p, create=False)
    size = p.stat().st_size
    if size == 0:
        raise DatabaseError(f"{p}: is empty (pass --db with a media-monitor database)")
    if size < 100:   # shorter than the SQLite header
        raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor database)")
    if time_limit is None:
        from monitor.config import env_setting

        time_limit = float(env_setting("MONITOR_QUERY_TIMEOUT"))
    try:
        read_only_fs = bool(os.statvfs(p.parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only_fs = False
    try:
        try:
            # on a read-only file system no writer can exist and SQLite cannot create the WAL index: immutable
            return _connect_ro(p, immutable=read_only_fs, time_limit=time_limit)
        except sqlite3.OperationalError:
            # a folder this user cannot write (a shared archive, another user's files): SQLite cannot make the
            # WAL index beside the file ("attempt to write a readonly database"); nobody can be writing there
            # through this folder either, so read the file as it is
            if read_only_fs or not _read_only_folder(p):
                raise
            return _connect_ro(p, immutable=True, time_limit=time_limit)
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or "not a database" in str(exc):
            raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor database)") from None
        raise DatabaseError(f"{p}: cannot be read as a database: {exc}") from None


@contextmanager
def reading(path: str | os.PathLike | None = None, *, time_limit: float | None = None) -> Iterator[ReaderConnection]:
    """``with reading(path) as conn:`` an ``open_reader`` connection, closed afterwards; a query stopped over
    its time budget becomes ``QueryTimeout``."""
    conn = open_reader(path, time_limit=time_limit)
    try:
        yield conn
    except sqlite3.OperationalError as exc:
        timeout = conn.timeout_error(exc)
        if timeout is None:
            raise
        raise timeout from None
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
    _check_writable(p, create=create)
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
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
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


def _check_writable(p: Path, *, create: bool) -> None:
    """Refuse what SQLite would open read-only without a word (a read-only file: the first write then fails
    deep inside a crawl or retag) or turn into a database (an empty file the caller did not ask to create)."""
    if not p.exists():
        if not os.access(p.parent, os.W_OK):
            raise DatabaseError(_unwritable(p))
        return
    if not create and p.is_file() and p.stat().st_size == 0:
        raise DatabaseError(f"{p}: is empty, not a media-monitor database (pass --db with the database a crawl "
                            "wrote)")
    if not os.access(p, os.W_OK):
        raise DatabaseError(_unwritable(p))
    if not os.access(p.parent, os.W_OK):     # SQLite needs the -wal and -shm files beside the database
        sidecars = [p.with_name(p.name + suffix) for suffix in ("-wal", "-shm")]
        if not all(s.exists() and os.access(s, os.W_OK) for s in sidecars):
            raise DatabaseError(_unwritable(p))


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
