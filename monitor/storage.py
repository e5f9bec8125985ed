"""The one module that writes the SQLite file.

Schema lives in versioned migrations (sqlite-utils ``Migrations``); writes are batched inside
transactions; the file runs in WAL mode so readers (``monitor search``, Datasette, sqlite3) can
query during a crawl.  A crawl process holds exactly one ``Storage`` writer per database file.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import sqlite_utils
from sqlite_utils.migrations import Migrations

from monitor.errors import DatabaseError

MIGRATION_SET = "media-monitor"
migrations = Migrations(MIGRATION_SET)
FTS_TOKENIZE = "unicode61 remove_diacritics 2"


def utcnow() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """--db FILE, else $MONITOR_DB, else ./monitor.db."""
    return Path(path or os.environ.get("MONITOR_DB") or "monitor.db")


# --------------------------------------------------------------------------- migrations
# Numbering: m001 foundation; later migrations append (never edit an applied one).

@migrations(name="m001_initial")
def _m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT UNIQUE NOT NULL,            -- canonical URL
            source TEXT NOT NULL,
            title TEXT,
            author TEXT,
            published TEXT,                      -- ISO 8601
            language TEXT,                       -- ISO 639-1
            text TEXT NOT NULL,
            word_count INTEGER,
            content_hash TEXT,
            duplicate_of INTEGER NULL REFERENCES articles(id),
            fetched_at TEXT NOT NULL,
            description TEXT,
            image TEXT,
            crawl_id INTEGER,
            modified_at TEXT                     -- when the stored text last changed
        );
        CREATE INDEX idx_articles_source ON articles(source);
        CREATE INDEX idx_articles_published ON articles(published);
        CREATE INDEX idx_articles_content_hash ON articles(content_hash);
        CREATE INDEX idx_articles_duplicate_of ON articles(duplicate_of);

        CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id)
        );
        CREATE INDEX idx_article_urls_article ON article_urls(article_id);

        CREATE TABLE article_topics (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            topic TEXT NOT NULL,
            PRIMARY KEY (article_id, topic)
        );
        CREATE INDEX idx_article_topics_topic ON article_topics(topic);

        CREATE TABLE crawls (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,                -- running, finished, failed, interrupted, stopped
            sources TEXT,                        -- JSON list of source names
            pages_fetched INTEGER DEFAULT 0,
            articles_new INTEGER DEFAULT 0,
            duplicates INTEGER DEFAULT 0,
            errors INTEGER DEFAULT 0,
            skipped_known INTEGER DEFAULT 0,
            pid INTEGER,
            summary TEXT                         -- JSON per-source counts
        );

        CREATE TABLE fetch_errors (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            source TEXT,
            reason TEXT NOT NULL,
            http_status INTEGER,
            at TEXT NOT NULL,
            crawl_id INTEGER,
            detail TEXT
        );
        CREATE INDEX idx_fetch_errors_source ON fetch_errors(source, at);

        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, text, content='articles', content_rowid='id', tokenize='{FTS_TOKENIZE}'
        );
        CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
        END;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        """
    )


@migrations(name="m004_distributed")
def _m004_distributed(db: sqlite_utils.Database) -> None:
    """Distributed crawls (monitor.distributed): run id -> crawls row, and the ingester's batch marker."""
    db.executescript(
        """
        CREATE TABLE redis_runs (
            run TEXT PRIMARY KEY,                -- run id made by the run's first worker ("key@time-rand")
            crawl_id INTEGER NOT NULL REFERENCES crawls(id),
            state TEXT NOT NULL                  -- JSON: workers (status, counts), per-source ingest counts
        );
        CREATE TABLE ingest_state (
            name TEXT PRIMARY KEY,               -- "last_batch": marker of the last committed Redis batch
            value TEXT
        );
        """
    )


KNOWN_MIGRATIONS = lambda: {m.name for m in migrations._migrations}  # noqa: E731


# --------------------------------------------------------------------------- records

@dataclass
class ArticleRecord:
    """An extracted article ready to store. ``url`` is canonical; ``variants`` every URL seen for it."""

    url: str
    source: str
    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    word_count: int | None = None
    content_hash: str | None = None
    description: str | None = None
    image: str | None = None
    fetched_at: str = field(default_factory=utcnow)
    variants: Sequence[str] = ()
    extra: dict = field(default_factory=dict)   # signals for dedup/stories (hreflang, og_image, ...)


@dataclass
class StoreResult:
    """What happened to one record: new, duplicate (of an existing story) or known (URL already stored)."""

    article_id: int
    status: str           # "new", "duplicate", "known", "updated"
    duplicate_of: int | None = None


@dataclass
class FetchError:
    url: str
    source: str | None
    reason: str
    http_status: int | None = None
    detail: str | None = None
    at: str = field(default_factory=utcnow)


# --------------------------------------------------------------------------- storage

def _is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return head == b"SQLite format 3\x00" or head == b""


class Storage:
    """Owner of one SQLite file. ``Storage.open(path)`` checks the file and migrates it."""

    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db = db
        self.path = path
        self.crawl_id: int | None = None

    # ---- opening
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True, migrate: bool = True) -> "Storage":
        p = resolve_db_path(path)
        if p.exists():
            if p.is_dir():
                raise DatabaseError(f"{p}: is a directory, not a database file (pass --db FILE)")
            if not os.access(p, os.R_OK):
                raise DatabaseError(f"{p}: cannot be read (check its permissions)")
            if not _is_sqlite_file(p):
                raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor database, or a new file name)")
        elif not create:
            raise DatabaseError(f"{p}: no such database (run `monitor crawl --db {p}` first, or check --db / $MONITOR_DB)")
        elif not p.parent.exists():
            raise DatabaseError(f"{p}: folder {p.parent} does not exist")
        try:
            conn = sqlite3.connect(str(p), timeout=30, isolation_level=None, check_same_thread=False)
            db = sqlite_utils.Database(conn)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(db, p)
            store.check_schema_version()
            if migrate:
                db.enable_wal()
                conn.execute("PRAGMA synchronous = NORMAL")
                migrations.apply(db)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{p}: cannot be used as a database: {exc}") from None
        return store

    def check_schema_version(self) -> None:
        """Refuse a file written by a newer media-monitor (unknown migrations)."""
        if "_sqlite_migrations" not in self.db.table_names():
            others = [t for t in self.db.table_names() if not t.startswith("sqlite_")]
            if others and "articles" not in others:
                raise DatabaseError(f"{self.path}: is an SQLite file of another program (tables: {', '.join(others[:5])})")
            return
        applied = {m.name for m in migrations.applied(self.db)}
        unknown = applied - KNOWN_MIGRATIONS()
        if unknown:
            raise DatabaseError(
                f"{self.path}: was written by a newer media-monitor (schema {sorted(unknown)[-1]}); upgrade media-monitor")

    def close(self) -> None:
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- crawls
    def start_crawl(self, sources: Iterable[str]) -> int:
        import json
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT INTO crawls (started_at, status, sources, pid) VALUES (?, 'running', ?, ?)",
                [utcnow(), json.dumps(list(sources)), os.getpid()])
        self.crawl_id = cur.lastrowid
        return self.crawl_id

    def finish_crawl(self, crawl_id: int, status: str, counts: dict | None = None, summary: dict | None = None) -> None:
        import json
        counts = counts or {}
        cols = ["pages_fetched", "articles_new", "duplicates", "errors", "skipped_known"]
        sets = ", ".join(f"{c} = ?" for c in cols)
        with self.db.atomic():
            self.db.execute(
                f"UPDATE crawls SET finished_at = ?, status = ?, {sets}, summary = ? WHERE id = ?",
                [utcnow(), status, *[int(counts.get(c, 0)) for c in cols],
                 json.dumps(summary) if summary is not None else None, crawl_id])

    def mark_interrupted_crawls(self) -> int:
        """Crawls left 'running' by a process that no longer exists were interrupted (kill -9, crash)."""
        rows = self.db.execute("SELECT id, pid FROM crawls WHERE status = 'running'").fetchall()
        dead = [cid for cid, pid in rows if not _pid_alive(pid)]
        if dead:
            with self.db.atomic():
                for cid in dead:
                    self.db.execute("UPDATE crawls SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) "
                                    "WHERE id = ?", [utcnow(), cid])
        return len(dead)

    def running_crawls(self) -> list[tuple[int, int]]:
        """(crawl id, pid) of crawls still running in live processes other than this one."""
        rows = self.db.execute("SELECT id, pid FROM crawls WHERE status = 'running'").fetchall()
        return [(cid, pid) for cid, pid in rows if pid != os.getpid() and _pid_alive(pid)]

    # ---- URL knowledge (incremental crawls)
    def article_id_for_url(self, url: str) -> int | None:
        row = self.db.execute("SELECT article_id FROM article_urls WHERE url = ?", [url]).fetchone()
        return row[0] if row else None

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(dict.fromkeys(urls))
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            q = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(f"SELECT url FROM article_urls WHERE url IN ({q})", chunk))
        return found

    # ---- writing
    def write_batch(self, records: Sequence[ArticleRecord], errors: Sequence[FetchError] = ()) -> list[StoreResult]:
        """Store a batch of articles and errors in one transaction."""
        results = []
        with self.db.atomic():
            for rec in records:
                results.append(self._store_one(rec))
            for err in errors:
                self._insert_error(err)
        return results

    def record_errors(self, errors: Sequence[FetchError]) -> None:
        with self.db.atomic():
            for err in errors:
                self._insert_error(err)

    def _insert_error(self, err: FetchError) -> None:
        self.db.execute(
            "INSERT INTO fetch_errors (url, source, reason, http_status, at, crawl_id, detail) VALUES (?,?,?,?,?,?,?)",
            [err.url, err.source, err.reason, err.http_status, err.at, self.crawl_id, err.detail])

    def _store_one(self, rec: ArticleRecord) -> StoreResult:
        urls = list(dict.fromkeys([rec.url, *rec.variants]))
        existing = None
        for u in urls:
            existing = self.article_id_for_url(u)
            if existing:
                break
        if existing:
            self._add_variants(existing, urls)
            return StoreResult(existing, "known")
        duplicate_of = self._find_duplicate(rec)
        cur = self.db.execute(
            """INSERT INTO articles (url, source, title, author, published, language, text, word_count,
                   content_hash, duplicate_of, fetched_at, description, image, crawl_id, modified_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [rec.url, rec.source, rec.title, rec.author, rec.published, rec.language, rec.text, rec.word_count,
             rec.content_hash, duplicate_of, rec.fetched_at, rec.description, rec.image, self.crawl_id,
             rec.fetched_at])
        article_id = cur.lastrowid
        self._add_variants(article_id, urls)
        self._after_insert(article_id, rec)
        return StoreResult(article_id, "duplicate" if duplicate_of else "new", duplicate_of)

    def _add_variants(self, article_id: int, urls: Iterable[str]) -> None:
        for u in urls:
            self.db.execute("INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?, ?)", [u, article_id])

    def _find_duplicate(self, rec: ArticleRecord) -> int | None:
        """Id of the first article of rec's duplicate group (never a chain), or None."""
        if not rec.content_hash:
            return None
        row = self.db.execute(
            "SELECT COALESCE(duplicate_of, id) FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
            [rec.content_hash]).fetchone()
        return row[0] if row else None

    def _after_insert(self, article_id: int, rec: ArticleRecord) -> None:
        """Hook for per-article bookkeeping done in the same transaction (fingerprints, stories, topics)."""

    # ---- reading helpers used by the crawler and CLI
    def count(self, table: str = "articles") -> int:
        return self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]

    # ---- distributed crawls (monitor.distributed.Ingester is the writer)
    def run_state(self, run: str) -> tuple[int, dict] | None:
        """(crawls.id, state) of a distributed run id, or None."""
        import json
        row = self.db.execute("SELECT crawl_id, state FROM redis_runs WHERE run = ?", [run]).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def running_runs(self) -> list[tuple[str, int, dict]]:
        import json
        return [(r, c, json.loads(s)) for r, c, s in self.db.execute(
            "SELECT r.run, r.crawl_id, r.state FROM redis_runs r JOIN crawls c ON c.id = r.crawl_id "
            "WHERE c.finished_at IS NULL")]

    def save_run_state(self, run: str, crawl_id: int, state: dict, *, status: str, counts: dict,
                       summary: dict, finished: bool) -> None:
        """Store a run's state and bring its crawls row up to date (``finished``: set finished_at)."""
        import json
        cols = ["pages_fetched", "articles_new", "duplicates", "errors", "skipped_known"]
        with self.db.atomic():
            self.db.execute("INSERT INTO redis_runs (run, crawl_id, state) VALUES (?, ?, ?) ON CONFLICT(run) "
                            "DO UPDATE SET state = excluded.state", [run, crawl_id, json.dumps(state)])
            self.db.execute(
                f"UPDATE crawls SET status = ?, pid = ?, {', '.join(f'{c} = ?' for c in cols)}, summary = ?, "
                "finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?) ELSE NULL END WHERE id = ?",
                [status, os.getpid(), *[int(counts.get(c, 0)) for c in cols], json.dumps(summary),
                 int(finished), utcnow(), crawl_id])

    def ingest_marker(self) -> str | None:
        row = self.db.execute("SELECT value FROM ingest_state WHERE name = 'last_batch'").fetchone()
        return row[0] if row else None

    def set_ingest_marker(self, value: str) -> None:
        with self.db.atomic():
            self.db.execute("INSERT INTO ingest_state (name, value) VALUES ('last_batch', ?) "
                            "ON CONFLICT(name) DO UPDATE SET value = excluded.value", [value])


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie or a reused pid is possible; good enough for a local lock hint
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True
