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

from monitor.dedup import fingerprints as dedup
from monitor.errors import DatabaseError, MonitorError
from monitor.settings import MONITOR_SQLITE_CACHE_MB as WRITER_CACHE_MB   # the writer's page cache default
from monitor.dedup.urls import url_keys

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


@migrations(name="m002_dedup")
def _m002_dedup(db: sqlite_utils.Database) -> None:
    """Near-duplicate fingerprints, text versions, language-edition stories, conditional-GET state."""
    db.executescript(
        """
        -- monitor.dedup.fingerprints.signature_to_bytes(): MinHash values + shingle count (no FK: written only by
        -- Storage, in the article's own transaction; the dedup benchmark bulk-loads it)
        CREATE TABLE article_fingerprints (
            article_id INTEGER PRIMARY KEY,
            signature BLOB NOT NULL
        );
        -- LSH bands: one row per (band key, article); the band number is folded into the key.  The
        -- primary key (key first) is the index: a near-duplicate lookup is one equality probe per band.
        CREATE TABLE lsh_buckets (
            key INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, article_id)
        ) WITHOUT ROWID;

        -- earlier texts of an article that a re-fetch found changed
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            title TEXT,
            text TEXT NOT NULL,
            content_hash TEXT,
            fetched_at TEXT,                     -- when this version was first fetched
            replaced_at TEXT NOT NULL            -- when a re-fetch found the next version
        );
        CREATE INDEX idx_article_versions_article ON article_versions(article_id, replaced_at);

        -- language editions of one story; story_id = id of the story's first stored article
        CREATE TABLE story_links (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            story_id INTEGER NOT NULL,
            language TEXT,
            via TEXT                             -- first, hreflang, og_image
        );
        CREATE INDEX idx_story_links_story ON story_links(story_id);

        -- conditional GET state of feeds, sitemaps and section pages
        CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            fetched_at TEXT
        );
        """
    )


# m002_dedup (dedup) registers above this line; m003_topics must stay after it.
@migrations(name="m003_topics")
def _m003_topics(db: sqlite_utils.Database) -> None:
    """The topic definitions last applied (monitor.topics), so the file says what each tag means."""
    db.executescript(
        """
        CREATE TABLE topics (
            name TEXT PRIMARY KEY,               -- the tag in article_topics.topic
            description TEXT,
            query TEXT NOT NULL,                 -- FTS5 MATCH query over articles_fts (title, text)
            updated_at TEXT NOT NULL,            -- when this definition was set (crawl start or retag)
            retagged_at TEXT                     -- last `monitor retag` over the whole database
        );
        """
    )


@migrations(name="m004_distributed")
def _m004_distributed(db: sqlite_utils.Database) -> None:
    """Distributed crawls (monitor.distributed.workers): run id -> crawls row, and the ingester's batch marker."""
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


@migrations(name="m005_schedule")
def _m005_schedule(db: sqlite_utils.Database) -> None:
    """`monitor schedule` (monitor.ops.schedule): per-source polling state for adaptive intervals."""
    db.executescript(
        """
        CREATE TABLE source_state (
            source TEXT PRIMARY KEY,
            next_due_at TEXT,                    -- ISO 8601 UTC: when the scheduler crawls it next
            interval_seconds INTEGER,            -- current (adapted) polling interval
            base_interval_seconds INTEGER,       -- the interval it adapts from (sources file `every` or the schedule's)
            last_new INTEGER,                    -- new articles (incl. duplicates) in its last scheduled crawl
            consecutive_new INTEGER DEFAULT 0,   -- scheduled crawls in a row that brought new articles
            consecutive_empty INTEGER DEFAULT 0, -- ... that brought nothing new (since the last interval change)
            consecutive_failures INTEGER DEFAULT 0,
            last_outcome TEXT,                   -- new, empty, failed, stopped
            last_crawl_id INTEGER,
            updated_at TEXT NOT NULL
        );
        """
    )


# The full-text index declared exactly as sqlite-utils' ``Table.enable_fts(["title", "text"], tokenize=...)``
# writes it: ``content="articles"`` (double quotes) is what sqlite-utils' and Datasette's ``detect_fts`` look
# for, so `sqlite-utils search monitor.db articles ...` and Datasette's search box work with no configuration.
# The rowid of the content table is articles.id (INTEGER PRIMARY KEY).  Columns in this order: bm25 weights
# (monitor.query.reads) and topic probes (monitor.topics) rely on title, text.
ARTICLES_FTS_SQL = f"""CREATE VIRTUAL TABLE "articles_fts" USING FTS5 (
    "title", "text",
    tokenize='{FTS_TOKENIZE}',
    content="articles"
)"""
# sqlite-utils' trigger names and quoting (so `sqlite-utils disable-fts` finds and drops them), except the
# update trigger: it fires only when title or text change, not on every bookkeeping update of a row.
ARTICLES_FTS_TRIGGERS_SQL = """
CREATE TRIGGER "articles_ai" AFTER INSERT ON "articles" BEGIN
  INSERT INTO "articles_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");
END;
CREATE TRIGGER "articles_ad" AFTER DELETE ON "articles" BEGIN
  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text") VALUES('delete', old.rowid, old."title", old."text");
END;
CREATE TRIGGER "articles_au" AFTER UPDATE OF "title", "text" ON "articles" BEGIN
  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text") VALUES('delete', old.rowid, old."title", old."text");
  INSERT INTO "articles_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");
END;
"""


@migrations(name="m006_fts_sqlite_utils")
def _m006_fts_sqlite_utils(db: sqlite_utils.Database) -> None:
    """Re-declare articles_fts the way sqlite-utils does (m001 wrote ``content='articles'``, which
    sqlite-utils and Datasette do not detect) and rebuild its index from articles; one transaction."""
    db.executescript(
        f"""
        DROP TRIGGER IF EXISTS articles_ai;
        DROP TRIGGER IF EXISTS articles_ad;
        DROP TRIGGER IF EXISTS articles_au;
        DROP TABLE IF EXISTS articles_fts;
        {ARTICLES_FTS_SQL};
        {ARTICLES_FTS_TRIGGERS_SQL}
        INSERT INTO "articles_fts" ("articles_fts") VALUES ('rebuild');
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

class StorageWriteError(MonitorError):
    """The database could not be written for a reason outside the user's input (disk full, I/O error): exit 1."""


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
        return (f"{path}: cannot be written (a read-only file, folder or file system); check its permissions "
                "and mount, or pass --db with a writable file"), 2
    target = Path(path)
    if target.exists() and (not os.access(target, os.W_OK) or not os.access(target.parent, os.W_OK)):
        return (f"{path}: cannot be written (a read-only file, folder or file system); check its permissions "
                "and mount, or pass --db with a writable file"), 2
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return (f"{path}: cannot be opened for writing (check that the folder exists and is writable, or pass "
                "--db with another file)"), 2
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return f"{path}: disk I/O error while writing ({text}); check the disk and run the crawl again", 1
    return f"{path}: {text}", 2


class Storage:
    """Owner of one SQLite file. ``Storage.open(path)`` checks the file and migrates it."""

    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db = db
        self.path = path
        self.crawl_id: int | None = None

    # ---- opening
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True, migrate: bool = True,
             cache_mb: int = WRITER_CACHE_MB) -> "Storage":
        """The file at ``path`` (``$MONITOR_DB`` or ./monitor.db), checked and migrated (``migrate``: the
        writer; it gets a ``cache_mb`` MB page cache, as the FTS and dedup indexes are updated at random
        places once the file outgrows SQLite's default 2 MB cache)."""
        p = resolve_db_path(path)
        if p.exists():
            if p.is_dir():
                raise DatabaseError(f"{p}: is a directory, not a database file (pass --db FILE)")
            if not os.access(p, os.R_OK):
                raise DatabaseError(f"{p}: cannot be read (check its permissions)")
            # No open()/close() of the file here: closing any descriptor on an SQLite file drops this
            # process's POSIX locks on it, which can corrupt a connection already open on the same file.
        elif not create:
            raise DatabaseError(f"{p}: no such database (run `monitor crawl --db {p}` first, or check --db / $MONITOR_DB)")
        elif not p.parent.exists():
            raise DatabaseError(f"{p}: folder {p.parent} does not exist")
        elif not p.parent.is_dir():
            raise DatabaseError(f"{p}: {p.parent} is a file, not a folder")
        conn = None
        try:
            conn = sqlite3.connect(str(p), timeout=30, isolation_level=None, check_same_thread=False)
            db = sqlite_utils.Database(conn)
            conn.execute("PRAGMA busy_timeout = 30000")
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                conn.close()
                if "not a database" in str(exc) or "encrypted" in str(exc):
                    raise DatabaseError(f"{p}: is not an SQLite database (pass --db with a media-monitor "
                                        "database, or a new file name)") from None
                raise
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(db, p)
            store.check_schema_version()
            if migrate:
                db.enable_wal()
                conn.execute("PRAGMA synchronous = NORMAL")
                if cache_mb > 0:
                    conn.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
                migrations.apply(db)
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

    def known_articles(self, urls: Iterable[str]) -> dict[str, tuple[int, str]]:
        """``url -> (article_id, fetched_at)`` for the given URLs found in ``article_urls`` (exact match:
        pass canonical forms / ``url_keys`` as well).  Used by incremental crawls to decide a re-fetch."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, tuple[int, str]] = {}
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            q = ",".join("?" * len(chunk))
            for url, aid, fetched in self.db.execute(
                    f"SELECT u.url, a.id, a.fetched_at FROM article_urls u JOIN articles a ON a.id = u.article_id "
                    f"WHERE u.url IN ({q})", chunk):
                found[url] = (aid, fetched)
        return found

    def fetched_at_for(self, urls: Iterable[str]) -> dict[str, str]:
        """``url -> fetched_at`` (ISO 8601 UTC) of the stored articles these URLs are variants of."""
        return {u: f for u, (_aid, f) in self.known_articles(urls).items()}

    def add_url_aliases(self, aliases: Iterable[tuple[str, Sequence[str]]]) -> list[tuple[str, Sequence[str]]]:
        """Record URLs seen (not fetched) for stored articles: ``(url, keys)`` pairs, where ``keys`` are the
        look-up forms of the URL (``monitor.dedup.urls.url_keys``).  A pair whose URL or keys match a stored
        article's URL becomes an ``article_urls`` row of that article; the others are returned (their
        article is not stored yet)."""
        left = []
        with self.db.atomic():
            for url, keys in aliases:
                article_id = None
                for k in [url, *keys]:
                    article_id = self.article_id_for_url(k)
                    if article_id:
                        break
                if article_id:
                    self._add_variants(article_id, [url])
                else:
                    left.append((url, keys))
        return left

    def save_fetch_states(self, states: Iterable[tuple[str, str | None, str | None]]) -> int:
        """Store ``(url, etag, last_modified)`` of feeds, sitemaps and section pages in one transaction
        (see :meth:`save_fetch_state`); returns how many."""
        now, n = utcnow(), 0
        with self.db.atomic():
            for url, etag, last_modified in states:
                self.save_fetch_state(url, etag, last_modified, now)
                n += 1
        return n

    # ---- writing
    def write_batch(self, records: Sequence[ArticleRecord], errors: Sequence[FetchError] = ()) -> list[StoreResult]:
        """Store a batch of articles and errors in one transaction."""
        results = []
        with self.db.atomic():
            for rec in records:
                results.append(self._store_one(rec))
            for err in errors:
                self._insert_error(err)
            # "updated" rows were re-tagged by update_article
            self._tag_articles([r.article_id for r in results if r.status in ("new", "duplicate")])
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
            if (rec.extra or {}).get("refetch"):
                # an intended re-fetch (--refresh, newer sitemap lastmod): compare and keep versions; any
                # other page reaching a stored article (another variant) must not overwrite its text
                return self.update_article(existing, rec)
            self._add_variants(existing, urls)
            return StoreResult(existing, "known")
        sig = self._signature(rec)          # once: for the candidate lookup and the new rows
        keys = dedup.band_keys(sig)
        duplicate_of = self._find_duplicate(rec, sig, keys)
        cur = self.db.execute(
            """INSERT INTO articles (url, source, title, author, published, language, text, word_count,
                   content_hash, duplicate_of, fetched_at, description, image, crawl_id, modified_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [rec.url, rec.source, rec.title, rec.author, rec.published, rec.language, rec.text, rec.word_count,
             rec.content_hash, duplicate_of, rec.fetched_at, rec.description, rec.image, self.crawl_id,
             rec.fetched_at])
        article_id = cur.lastrowid
        self._add_variants(article_id, urls)
        self._after_insert(article_id, rec, sig, keys)
        return StoreResult(article_id, "duplicate" if duplicate_of else "new", duplicate_of)

    def _add_variants(self, article_id: int, urls: Iterable[str]) -> None:
        for u in urls:
            self.db.execute("INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?, ?)", [u, article_id])

    # ---- duplicates, fingerprints, versions, stories (monitor.dedup.fingerprints, monitor.dedup.urls)
    near_dup_threshold: float = dedup.NEAR_DUP_THRESHOLD   # MONITOR_NEAR_DUP_THRESHOLD; set per instance
    max_near_dup_candidates: int = 200                      # signatures compared per lookup, most bands first

    def _find_duplicate(self, rec: ArticleRecord, sig: "dedup.Signature | None" = None,
                        keys: list[int] | None = None) -> int | None:
        """Id of the first article of rec's duplicate group (never a chain), or None.

        Exact duplicates by ``content_hash`` (always recomputed here with ``dedup.content_hash`` so that
        every row uses one definition), then near duplicates: the LSH band keys of rec's MinHash select
        candidates through the ``lsh_buckets`` index (no scan), their signatures are compared, and the
        most similar match's group root is returned.  rec's signature is left in
        ``rec.extra["minhash"]`` for ``_after_insert``; ``sig`` and ``keys`` are that signature and its band
        keys when the caller has them already.
        """
        rec.content_hash = dedup.content_hash(rec.text)
        row = self.db.execute(
            "SELECT COALESCE(duplicate_of, id) FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
            [rec.content_hash]).fetchone()
        if row:
            return self._group_root(row[0])
        sig = self._signature(rec) if sig is None else sig
        for cand, _ in self.near_duplicates(sig, keys=keys):
            root = self._group_root(cand)
            if root is not None:
                return root
        return None

    def near_duplicates(self, signature: "dedup.Signature | bytes", exclude: int | None = None,
                        keys: list[int] | None = None) -> list[tuple[int, float]]:
        """``(article_id, estimated Jaccard)`` of stored near duplicates of a signature, best first
        (``keys``: the signature's band keys, when the caller has computed them already)."""
        keys = dedup.band_keys(signature) if keys is None else keys
        if not keys:
            return []
        q = ",".join("?" * len(keys))
        cands = [r[0] for r in self.db.execute(
            f"SELECT article_id FROM lsh_buckets WHERE key IN ({q}) GROUP BY article_id "
            f"ORDER BY count(*) DESC, article_id LIMIT ?", [*keys, self.max_near_dup_candidates])
            if r[0] != exclude]
        if not cands:
            return []
        q = ",".join("?" * len(cands))
        blobs = self.db.execute(
            f"SELECT article_id, signature FROM article_fingerprints WHERE article_id IN ({q})", cands).fetchall()
        return dedup.matches(signature, blobs, self.near_dup_threshold)

    def _group_root(self, article_id: int) -> int | None:
        """The article at the top of article_id's duplicate_of links (None: no such article)."""
        seen = set()
        while article_id not in seen:
            seen.add(article_id)
            row = self.db.execute("SELECT duplicate_of FROM articles WHERE id = ?", [article_id]).fetchone()
            if row is None:
                return None
            if row[0] is None:
                return article_id
            article_id = row[0]
        return article_id

    def _signature(self, rec: ArticleRecord) -> "dedup.Signature":
        """rec's MinHash: ``rec.extra["minhash"]`` when an extraction worker computed it, else from the text."""
        blob = rec.extra.get("minhash") if rec.extra else None
        if blob is not None:
            try:
                return dedup.signature_from_bytes(blob)
            except (ValueError, TypeError):
                pass
        sig = dedup.minhash(rec.text)
        if rec.extra is None:
            rec.extra = {}
        rec.extra["minhash"] = dedup.signature_to_bytes(sig)
        return sig

    def _save_fingerprint(self, article_id: int, sig: "dedup.Signature", keys: list[int] | None = None,
                          new: bool = False) -> None:
        """Store sig and its LSH band rows (``new``: article_id was just inserted, so it has none yet)."""
        if not new:
            old = self.db.execute("SELECT signature FROM article_fingerprints WHERE article_id = ?",
                                  [article_id]).fetchone()
            if old:
                try:
                    old_keys = dedup.band_keys(old[0])
                except ValueError:            # another signature version: find its rows the slow way
                    self.db.execute("DELETE FROM lsh_buckets WHERE article_id = ?", [article_id])
                else:
                    self.db.conn.executemany("DELETE FROM lsh_buckets WHERE key = ? AND article_id = ?",
                                             [(k, article_id) for k in old_keys])
        self.db.execute("INSERT OR REPLACE INTO article_fingerprints (article_id, signature) VALUES (?, ?)",
                        [article_id, dedup.signature_to_bytes(sig)])
        keys = dedup.band_keys(sig) if keys is None else keys
        self.db.conn.executemany("INSERT OR IGNORE INTO lsh_buckets (key, article_id) VALUES (?, ?)",
                                 [(k, article_id) for k in keys])

    def _after_insert(self, article_id: int, rec: ArticleRecord, sig: "dedup.Signature", keys: list[int]) -> None:
        """Per-article bookkeeping in the same transaction: fingerprint + LSH buckets, story links."""
        self._save_fingerprint(article_id, sig, keys, new=True)
        self.link_story(article_id, rec)

    def link_story(self, article_id: int, rec: ArticleRecord) -> int | None:
        """Link article_id to the story of its other language editions; returns the story id or None.

        Editions are found by ``rec.extra["hreflang"]`` (``(lang, url)`` pairs: an alternate URL that is a
        stored article's URL or variant, compared canonicalised, ``www.`` or not), else by a stored
        article of the same source with the same og:image (``rec.extra["og_image"]`` or ``rec.image``
        against ``articles.image``), the same publication time (a date alone is not enough) and another
        language.  ``story_id`` is the id of the story's first article; when one article joins two
        stories they are merged into the older one.  An article without editions gets no row.
        """
        extra = rec.extra or {}
        found: dict[int, str] = {}
        urls: list[str] = []
        for pair in extra.get("hreflang") or ():
            try:
                _lang, href = pair
            except (TypeError, ValueError):
                continue
            if isinstance(href, str) and href.strip():
                urls.extend([href.strip(), *url_keys(href)])
        for u in dict.fromkeys(urls):
            other = self.article_id_for_url(u)
            if other and other != article_id:
                found.setdefault(other, "hreflang")
        image = extra.get("og_image") or rec.image
        if not found and image and rec.published and len(rec.published) > 10:
            for (other,) in self.db.execute(
                    "SELECT id FROM articles WHERE published = ? AND source = ? AND image = ? AND id != ? "
                    "AND (language IS NULL OR ? IS NULL OR language != ?) ORDER BY id LIMIT 20",
                    [rec.published, rec.source, image, article_id, rec.language, rec.language]):
                found.setdefault(other, "og_image")
        if not found:
            return None
        stories: dict[int, None] = {}
        for other in found:
            row = self.db.execute("SELECT story_id FROM story_links WHERE article_id = ?", [other]).fetchone()
            if row:
                stories[row[0]] = None
            else:
                stories[other] = None
                lang = self.db.execute("SELECT language FROM articles WHERE id = ?", [other]).fetchone()
                self.db.execute("INSERT INTO story_links (article_id, story_id, language, via) VALUES (?, ?, ?, 'first')",
                                [other, other, lang[0] if lang else None])
        story_id = min(stories)
        for other_story in stories:
            if other_story != story_id:
                self.db.execute("UPDATE story_links SET story_id = ? WHERE story_id = ?", [story_id, other_story])
        via = "hreflang" if "hreflang" in found.values() else "og_image"
        self.db.execute("INSERT OR REPLACE INTO story_links (article_id, story_id, language, via) VALUES (?, ?, ?, ?)",
                        [article_id, story_id, rec.language, via])
        return story_id

    def update_article(self, article_id: int, rec: ArticleRecord) -> StoreResult:
        """Store a re-fetched article (``--refresh``, newer sitemap ``lastmod``) over its row.

        When the text or title changed (``content_hash``/title differ) the previous title and text go to
        ``article_versions`` (``fetched_at`` = when that version was first fetched, ``replaced_at`` = this
        fetch), the row gets the new text, ``modified_at`` and a new fingerprint: status ``"updated"``.
        Otherwise only ``fetched_at`` moves: status ``"known"``.  New URL variants are recorded either way.
        ``duplicate_of`` is left as it was (the group was decided by the first version).
        """
        row = self.db.execute("SELECT title, text, content_hash, fetched_at, modified_at, duplicate_of "
                              "FROM articles WHERE id = ?", [article_id]).fetchone()
        if row is None:
            raise KeyError(f"no article with id {article_id}")
        old_title, old_text, old_hash, old_fetched, old_modified, dup_of = row
        new_hash = dedup.content_hash(rec.text)
        rec.content_hash = new_hash
        with self.db.atomic():
            self._add_variants(article_id, [u for u in dict.fromkeys([rec.url, *rec.variants]) if u])
            if new_hash == (old_hash or dedup.content_hash(old_text)) and (rec.title or old_title) == old_title:
                self.db.execute("UPDATE articles SET fetched_at = ? WHERE id = ?", [rec.fetched_at, article_id])
                return StoreResult(article_id, "known", dup_of)
            self.db.execute(
                "INSERT INTO article_versions (article_id, title, text, content_hash, fetched_at, replaced_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [article_id, old_title, old_text, old_hash, old_modified or old_fetched, rec.fetched_at])
            self.db.execute(
                """UPDATE articles SET title = COALESCE(?, title), author = COALESCE(?, author),
                       text = ?, word_count = COALESCE(?, word_count), content_hash = ?,
                       description = COALESCE(?, description), image = COALESCE(?, image),
                       published = COALESCE(published, ?), language = COALESCE(language, ?),
                       fetched_at = ?, modified_at = ?
                   WHERE id = ?""",
                [rec.title, rec.author, rec.text, rec.word_count, new_hash, rec.description, rec.image,
                 rec.published, rec.language, rec.fetched_at, rec.fetched_at, article_id])
            if new_hash != old_hash:
                self._save_fingerprint(article_id, self._signature(rec))
            self._tag_articles([article_id])
        return StoreResult(article_id, "updated", dup_of)

    # ---- conditional GET state (feeds, sitemaps, section pages)
    def fetch_state(self, url: str) -> dict | None:
        """``{"etag", "last_modified", "fetched_at"}`` stored for url, or None."""
        row = self.db.execute("SELECT etag, last_modified, fetched_at FROM fetch_state WHERE url = ?", [url]).fetchone()
        return dict(zip(("etag", "last_modified", "fetched_at"), row)) if row else None

    def save_fetch_state(self, url: str, etag: str | None, last_modified: str | None,
                         fetched_at: str | None = None) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO fetch_state (url, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
                "fetched_at = excluded.fetched_at",
                [url, etag, last_modified, fetched_at or utcnow()])

    # ---- topics (monitor.topics): tags written through the FTS index, in the writer's transaction
    topics: tuple = ()

    def set_topics(self, topics) -> list[str]:
        """Tag every article written from now on with these topics (``write_batch``) and record them in
        the ``topics`` table.  Returns the names whose query differs from the recorded one (stored
        articles keep their old tags until ``monitor retag``)."""
        self.topics = tuple(topics)
        recorded = {n: q for n, q in self.db.execute("SELECT name, query FROM topics")}
        now = utcnow()
        with self.db.atomic():
            for t in self.topics:
                if recorded.get(t.name) != t.query:
                    self.db.execute(
                        "INSERT INTO topics (name, description, query, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET description = excluded.description, "
                        "query = excluded.query, updated_at = excluded.updated_at",
                        [t.name, t.description, t.query, now])
        return [t.name for t in self.topics if t.name in recorded and recorded[t.name] != t.query]

    def _tag_articles(self, article_ids: Iterable[int]) -> None:
        """(Re)tag these articles with the current topics, in the caller's transaction.

        The stored title and text of the batch are copied into a connection-private FTS5 table with the
        articles_fts tokenizer and each topic is one MATCH there: same semantics as articles_fts, but the
        cost does not grow with the database (``articles_fts MATCH ? AND rowid IN (...)`` re-runs the
        whole query per rowid: seconds per batch once prefix terms have many expansions)."""
        ids = sorted({i for i in article_ids if i})
        if not ids or not self.topics:
            return
        # contentless (content=''): emptied by 'delete-all' at once; a DELETE would re-tokenize every row
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.topic_probe USING fts5(title, text, content='', "
                        f"tokenize='{FTS_TOKENIZE}')")
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM article_topics WHERE article_id IN ({marks})", chunk)
            self.db.execute("INSERT INTO temp.topic_probe (rowid, title, text) "
                            f"SELECT id, title, text FROM articles WHERE id IN ({marks})", chunk)
            for t in self.topics:
                self.db.execute("INSERT OR IGNORE INTO article_topics (article_id, topic) "
                                "SELECT rowid, ? FROM temp.topic_probe WHERE topic_probe MATCH ?", [t.name, t.query])
            self.db.execute("INSERT INTO temp.topic_probe (topic_probe) VALUES ('delete-all')")

    def retag(self, topics) -> dict[str, int]:
        """Re-apply ``topics`` to the whole database in one transaction, through the FTS index.

        Tags of topics not in ``topics`` are removed, so the tags always match one topics file.
        Returns the number of articles tagged per topic."""
        topics = tuple(topics)
        counts: dict[str, int] = {}
        now = utcnow()
        with self.db.atomic():
            names = [t.name for t in topics]
            marks = ",".join("?" * len(names))
            self.db.execute(f"DELETE FROM article_topics WHERE topic NOT IN ({marks})" if names
                            else "DELETE FROM article_topics", names)
            self.db.execute(f"DELETE FROM topics WHERE name NOT IN ({marks})" if names else "DELETE FROM topics", names)
            for t in topics:
                self.db.execute("DELETE FROM article_topics WHERE topic = ?", [t.name])
                self.db.execute(
                    "INSERT OR IGNORE INTO article_topics (article_id, topic) "
                    "SELECT rowid, ? FROM articles_fts WHERE articles_fts MATCH ?", [t.name, t.query])
                counts[t.name] = self.db.execute(
                    "SELECT count(*) FROM article_topics WHERE topic = ?", [t.name]).fetchone()[0]
                self.db.execute(
                    "INSERT INTO topics (name, description, query, updated_at, retagged_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET description = excluded.description, query = excluded.query, "
                    "updated_at = excluded.updated_at, retagged_at = excluded.retagged_at",
                    [t.name, t.description, t.query, now, now])
        self.topics = topics
        return counts

    def tagged_topics(self) -> dict[str, int]:
        """Topic name -> number of tagged articles, as stored now."""
        return dict(self.db.execute("SELECT topic, count(*) FROM article_topics GROUP BY topic ORDER BY topic"))

    # ---- reading helpers used by the crawler and CLI
    def count(self, table: str = "articles") -> int:
        return self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]

    # ---- distributed crawls (monitor.distributed.workers.Ingester is the writer)
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

    # ---- scheduled crawls (monitor.ops.schedule): per-source polling state
    SOURCE_STATE_COLUMNS = ("next_due_at", "interval_seconds", "base_interval_seconds", "last_new", "consecutive_new",
                            "consecutive_empty", "consecutive_failures", "last_outcome", "last_crawl_id")

    def source_states(self) -> dict[str, dict]:
        """source name -> its ``source_state`` row (all columns) as a dict."""
        cur = self.db.execute("SELECT * FROM source_state ORDER BY source")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}

    def save_source_states(self, states: Iterable[dict]) -> None:
        """Upsert ``source_state`` rows (dicts with ``source`` and any of SOURCE_STATE_COLUMNS), one transaction."""
        now = utcnow()
        with self.db.atomic():
            for st in states:
                cols = [c for c in self.SOURCE_STATE_COLUMNS if c in st]
                self.db.execute(
                    f"INSERT INTO source_state (source, {', '.join(cols)}, updated_at) "
                    f"VALUES (?, {', '.join('?' * len(cols))}, ?) ON CONFLICT(source) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in [*cols, "updated_at"]),
                    [st["source"], *[st[c] for c in cols], now])

    def crawl_row(self, crawl_id: int) -> dict | None:
        """One ``crawls`` row as a dict (``summary`` and ``sources`` still JSON text), or None."""
        cur = self.db.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id])
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def last_crawl_id(self, pid: int | None = None) -> int:
        """Highest ``crawls.id`` (of process ``pid`` when given), 0 when none."""
        sql, args = ("SELECT max(id) FROM crawls WHERE pid = ?", [pid]) if pid else ("SELECT max(id) FROM crawls", [])
        return self.db.execute(sql, args).fetchone()[0] or 0


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
