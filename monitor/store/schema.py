"""The schema of the SQLite file: versioned migrations, the full-text index, the version check.

Migrations are sqlite-utils ``Migrations`` (set ``media-monitor``); each runs in its own transaction
and is recorded in ``_sqlite_migrations``.  ``check_schema`` refuses a file this version cannot use: one
written by a newer media-monitor (a migration not in ``KNOWN_MIGRATIONS``) or another program's SQLite
file.  Only ``monitor.store.db`` applies migrations (when it opens the writer).

The full-text index ``articles_fts`` (title, text; tokenizer ``FTS_TOKENIZE``) is declared here, with
``fts_query_error`` (is a query valid FTS5 for that index?) and ``matching_topics`` (which topic queries
match one document?), both run on an in-memory table of the same declaration.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Iterable

import sqlite_utils
from sqlite_utils.migrations import Migrations

from monitor.errors import DatabaseError

MIGRATION_SET = "media-monitor"
migrations = Migrations(MIGRATION_SET)
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
FTS_COLUMNS = ("title", "text")   # in this order: bm25 weights (monitor.query.reads) rely on it


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
# (monitor.query.reads) and the in-memory probe below rely on title, text (FTS_COLUMNS).
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


# what an article_urls row is (m007_article_url_kinds), lowest rank first: a URL met again in a stronger role
# is upgraded, never downgraded (``Writer._add_urls``)
URL_KINDS = ("alias", "variant", "redirect", "canonical")


@migrations(name="m007_article_url_kinds")
def _m007_article_url_kinds(db: sqlite_utils.Database) -> None:
    """article_urls.kind: ``canonical`` (the article's own URL), ``redirect`` (a URL that redirected to the
    article when it was fetched), ``variant`` (another URL it was fetched at, a canonical form of one) or
    ``alias`` (a URL seen in a feed, sitemap or link, not requested: a variant of a stored article).  Rows
    written before have no record of their role: the article's own URL becomes ``canonical``, the others
    ``variant`` (redirect sources among them included)."""
    db.executescript(
        """
        ALTER TABLE article_urls ADD COLUMN kind TEXT NOT NULL DEFAULT 'variant';
        UPDATE article_urls SET kind = 'canonical'
            WHERE url IN (SELECT a.url FROM articles a WHERE a.id = article_urls.article_id);
        """
    )




@migrations(name="m008_search_keys")
def _m008_search_keys(db: sqlite_utils.Database) -> None:
    """What search and dedup read, kept out of the wide article rows (issue 16):

    - ``idx_articles_fold (id, duplicate_of, published, fetched_at)``: a covering index, so ranking reads an
      article's duplicate group and date (``monitor.query.ranking``) without its row (the text, and the
      columns after it, sit on overflow pages);
    - ``idx_articles_content_key`` on the first 16 hex digits of ``content_hash`` instead of the whole 64
      (``idx_articles_content_hash``): a third of the size, the writer compares the full hash on the rows found;
    - ``idx_articles_duplicate_of`` partial (``WHERE duplicate_of IS NOT NULL``): most articles are no
      duplicate, their NULLs were most of the index.
    """
    db.executescript(
        """
        CREATE INDEX idx_articles_fold ON articles(id, duplicate_of, published, fetched_at);
        DROP INDEX IF EXISTS idx_articles_content_hash;
        CREATE INDEX idx_articles_content_key ON articles(substr(content_hash, 1, 16));
        DROP INDEX IF EXISTS idx_articles_duplicate_of;
        CREATE INDEX idx_articles_duplicate_of ON articles(duplicate_of) WHERE duplicate_of IS NOT NULL;
        """
    )


# the key of an article's publication time in idx_articles_published_key (m009): its first 16 characters
# (YYYY-MM-DDTHH:MM); the writer's og_image edition lookup compares the whole value on the rows found
PUBLISHED_KEY_SQL = "substr(published, 1, 16)"
# the exact-duplicate lookup key in idx_articles_content_key (m009; m008 had 16): the first 12 hex digits
# (48 bits) of articles.content_hash; the writer compares the whole hash on the rows found (a few at 1M)
CONTENT_KEY_SQL = "substr(content_hash, 1, 12)"
CONTENT_KEY_DIGITS = 12


@migrations(name="m009_published_key")
def _m009_published_key(db: sqlite_utils.Database) -> None:
    """``idx_articles_published`` (the whole ISO 8601 string, ~25 characters) becomes
    ``idx_articles_published_key`` on its first 16 (to the minute): the one query that used it (language
    editions by og:image and publication time, ``Writer.link_story``) finds the same rows, and the index
    shrinks; ``idx_articles_content_key`` keeps 12 hex digits of the hash instead of 16.  Together they pay
    for m008's covering index (bytes per article must not grow, issue 16)."""
    db.executescript(
        f"""
        DROP INDEX IF EXISTS idx_articles_published;
        CREATE INDEX idx_articles_published_key ON articles({PUBLISHED_KEY_SQL});
        DROP INDEX IF EXISTS idx_articles_content_key;
        CREATE INDEX idx_articles_content_key ON articles({CONTENT_KEY_SQL});
        """
    )


@migrations(name="m011_alerts")
def _m011_alerts(db: sqlite_utils.Database) -> None:
    """`monitor alert` (monitor.alerts, monitor.store.alerts): each (rule, channel, story) sent at most once, and
    how far each rule has read the articles."""
    db.executescript(
        """
        CREATE TABLE alerts_sent (
            id INTEGER PRIMARY KEY,
            rule TEXT NOT NULL,                  -- [[rule]] name in the alerts file
            channel TEXT NOT NULL,               -- [[channel]] name
            article_id INTEGER NOT NULL REFERENCES articles(id),   -- the article the alert shows
            story_id INTEGER NOT NULL,           -- its story when matched (copies and editions fold into it)
            status TEXT NOT NULL,                -- pending (recorded, being sent), sent, failed (retried next run)
            attempts INTEGER NOT NULL DEFAULT 0, -- deliveries tried
            matched_at TEXT NOT NULL,
            sent_at TEXT,
            error TEXT,                          -- why the last delivery failed
            UNIQUE (rule, channel, article_id)
        );
        CREATE INDEX idx_alerts_sent_rule ON alerts_sent(rule, channel, status);
        CREATE TABLE alert_state (
            rule TEXT PRIMARY KEY,
            last_article_id INTEGER NOT NULL,    -- articles up to this id were matched against the rule
            last_run_at TEXT NOT NULL
        );
        """
    )


@migrations(name="m010_backfill")
def _m010_backfill(db: sqlite_utils.Database) -> None:
    """Archive backfill (``monitor backfill``, monitor.backfill): ``crawls.kind`` (``crawl`` or ``backfill``),
    ``articles.origin`` (where a backfilled article was read: ``WARC-FILE@OFFSET`` or a capture URL) and
    ``backfill_checkpoints`` (per WARC file or CDX query: how far a backfill got, so a killed run resumes)."""
    db.executescript(
        """
        ALTER TABLE crawls ADD COLUMN kind TEXT NOT NULL DEFAULT 'crawl';
        ALTER TABLE articles ADD COLUMN origin TEXT;
        CREATE TABLE backfill_checkpoints (
            name TEXT PRIMARY KEY,               -- a WARC file (path or URL) or a CDX query (wayback:SOURCE:YYYY-MM)
            position INTEGER NOT NULL DEFAULT 0, -- WARC: offset of the first record not yet written; CDX: captures done
            done INTEGER NOT NULL DEFAULT 0,     -- 1 when the whole file / query was read
            crawl_id INTEGER,                    -- the backfill run that wrote it last
            updated_at TEXT NOT NULL
        );
        """
    )


@migrations(name="m012_band_memory")
def _m012_band_memory(db: sqlite_utils.Database) -> None:
    """Near-duplicate band rows kept in memory until merged (monitor.store.bands).  ``store_state``: named values
    of the store itself; ``lsh_merged_upto``: the band rows of articles up to this id are in ``lsh_buckets``,
    those of later articles (and of the articles in ``lsh_unmerged``) wait in the writer's memory and are
    rebuilt from ``article_fingerprints`` when a writer opens.  Every existing fingerprint has its rows stored
    already.  ``lsh_filter``: a Bloom filter of the stored keys, so most lookups skip the index."""
    db.executescript(
        """
        CREATE TABLE store_state (
            name TEXT PRIMARY KEY,
            value
        );
        INSERT INTO store_state (name, value)
            SELECT 'lsh_merged_upto', coalesce(max(article_id), 0) FROM article_fingerprints;
        -- articles up to lsh_merged_upto whose text changed since: their new band rows wait in memory too
        CREATE TABLE lsh_unmerged (
            article_id INTEGER PRIMARY KEY
        );
        -- a Bloom filter of the keys in lsh_buckets (monitor.dedup.bandtier.BandFilter), saved with each merge;
        -- made from lsh_buckets when missing
        CREATE TABLE lsh_filter (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            keys INTEGER NOT NULL,               -- keys added (what its size is judged by)
            bits BLOB NOT NULL
        );
        """
    )



@migrations(name="m013_band_parts")
def _m013_band_parts(db: sqlite_utils.Database) -> None:
    """``lsh_buckets`` keyed by ``(part, key, article_id)``, ``part = article_id >> PART_BITS`` (16: 65,536
    article ids a part).  Band keys are hashes: keyed by key alone, every merge of the newest rows rewrote pages
    all over the index, so a merge cost grew with the whole file (9.8 s at 1M articles).  Now the newest
    articles' rows go to the newest part only; a lookup probes each part (one B-tree descent per part and key
    the filter lets through).  Rows are copied in key order, once (about a minute per 10M rows)."""
    db.executescript(
        """
        ALTER TABLE lsh_buckets RENAME TO lsh_buckets_m012;
        CREATE TABLE lsh_buckets (
            part INTEGER NOT NULL,               -- article_id >> 16 (monitor.store.bands.PART_BITS)
            key INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (part, key, article_id)
        ) WITHOUT ROWID;
        INSERT INTO lsh_buckets (part, key, article_id)
            SELECT article_id >> 16, key, article_id FROM lsh_buckets_m012 ORDER BY article_id >> 16, key, article_id;
        DROP TABLE lsh_buckets_m012;
        -- the filter then held (part, key) pairs: made again when first needed (m015: one filter per part)
        DELETE FROM lsh_filter;
        """
    )


@migrations(name="m014_fts_automerge")
def _m014_fts_automerge(db: sqlite_utils.Database) -> None:
    """FTS5 merges index segments 8 at a time, not 4 (its ``automerge`` option, kept in ``articles_fts_config``):
    each indexed term is rewritten about a third less often as the index grows.  Measured on 100,000 articles
    (``benchmarks/storage.py``): 5-13 % more articles a second, search times unchanged."""
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8)")


@migrations(name="m015_band_part_filters")
def _m015_band_part_filters(db: sqlite_utils.Database) -> None:
    """One Bloom filter per part of ``lsh_buckets`` (``lsh_part_filters``, monitor.store.bands), in place of one
    filter of every row (``lsh_filter``).  A merge adds rows to the newest part only, so it saves that part's
    filter (4 MB), where the one filter (64 MB at 1M articles) was rewritten whole by every merge (1.7 s at 1M
    articles) and made again from every stored row each time it filled up.  The filters are made from
    ``lsh_buckets`` when a writer first needs them (24-33 s for a 1M-article file, measured)."""
    db.executescript(
        """
        CREATE TABLE lsh_part_filters (
            part INTEGER PRIMARY KEY,            -- lsh_buckets.part
            keys INTEGER NOT NULL,               -- keys added (with repeats: what its fill is judged by)
            bits BLOB NOT NULL                   -- monitor.dedup.bandtier.BandFilter bits
        );
        DROP TABLE lsh_filter;
        """
    )

# Every migration this version knows, read through the public API: all of them are pending on an empty database.
KNOWN_MIGRATIONS = frozenset(m.name for m in migrations.pending(sqlite_utils.Database(memory=True)))


def apply_migrations(db: sqlite_utils.Database) -> None:
    """Apply the pending migrations (``monitor.store.db.open_writer`` does, nothing else)."""
    migrations.apply(db)


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations applied to the file, in the order they were applied."""
    return [m.name for m in migrations.applied(db)]


def pending_migrations(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations this version would apply to the file."""
    return [m.name for m in migrations.pending(db)]


def check_schema(db: sqlite_utils.Database, path, *, need_articles: bool = False) -> None:
    """Refuse a file this version cannot use (``DatabaseError``, exit 2): another program's SQLite file, or
    one written by a newer media-monitor (a migration not in ``KNOWN_MIGRATIONS``).

    ``need_articles`` (readers): the file must have the articles and their full-text index already; the
    writer accepts a new, empty file and creates them."""
    tables = set(db.table_names())
    if need_articles and not {"articles", "articles_fts"} <= tables:
        raise DatabaseError(f"{path}: is an SQLite file but not a media-monitor database (no articles table)")
    if "_sqlite_migrations" not in tables:
        others = sorted(t for t in tables if not t.startswith("sqlite_"))
        if others and "articles" not in others:
            raise DatabaseError(f"{path}: is an SQLite file of another program (tables: {', '.join(others[:5])})")
        return
    unknown = set(applied_migrations(db)) - KNOWN_MIGRATIONS
    if unknown:
        raise DatabaseError(
            f"{path}: was written by a newer media-monitor (schema {sorted(unknown)[-1]}); upgrade media-monitor")


# --------------------------------------------------------------------------- FTS5 queries, in memory

_probe_lock = threading.Lock()
_probe: sqlite3.Connection | None = None


def _fts_probe() -> sqlite3.Connection:
    """An in-memory FTS5 table declared like articles_fts (same columns and tokenizer), made once."""
    global _probe
    if _probe is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        # contentless: emptied by 'delete-all' at once (a DELETE would tokenize the document again)
        conn.execute(f"CREATE VIRTUAL TABLE probe USING fts5({', '.join(FTS_COLUMNS)}, content='', "
                     f"tokenize='{FTS_TOKENIZE}')")
        _probe = conn
    return _probe


def fts_query_error(query: str) -> str | None:
    """SQLite's message if ``query`` is not valid FTS5 MATCH syntax for the articles index, else None."""
    if not isinstance(query, str) or not query.strip():
        return "empty query"
    with _probe_lock:
        try:
            _fts_probe().execute("SELECT rowid FROM probe WHERE probe MATCH ?", [query]).fetchall()
        except sqlite3.Error as exc:
            return str(exc)
    return None


def matching_topics(topics: Iterable, title: str | None, text: str) -> list[str]:
    """Names of the topics (``monitor.topics.Topic``) whose query matches one document (title + text), in
    topic order: the articles index's tokenizer and columns, so a topic query can be tried on sample text."""
    with _probe_lock:
        conn = _fts_probe()
        conn.execute("INSERT INTO probe (rowid, title, text) VALUES (1, ?, ?)", [title or "", text or ""])
        try:
            return [t.name for t in topics if conn.execute("SELECT 1 FROM probe WHERE probe MATCH ?", [t.query]).fetchone()]
        finally:
            conn.execute("INSERT INTO probe (probe) VALUES ('delete-all')")
