"""The crawl log: what the crawls did, and the state the next crawl starts from.

Tables ``crawls`` (one row per crawl: status, counters, per-source summary), ``fetch_errors``,
``fetch_state`` (conditional GET validators of feeds, sitemaps and section pages), ``source_state``
(``monitor schedule``'s polling state), ``redis_runs`` and ``ingest_state`` (distributed crawls: run id ->
crawls row, the ingester's batch marker).

``CrawlLog`` is mixed into the writer (``monitor.store.articles.Writer``: one connection, ``self.db``);
``read_source_states`` serves readers (``monitor.ops.health``) on a read-only connection.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

from monitor.clock import utcnow_iso
from monitor.outcomes import COUNT_KEYS
from monitor.store.records import FetchError

# the crawls table's counter columns are monitor.outcomes.COUNT_KEYS (the per-source summary JSON carries more)
SOURCE_STATE_COLUMNS = ("next_due_at", "interval_seconds", "base_interval_seconds", "last_new", "consecutive_new",
                        "consecutive_empty", "consecutive_failures", "last_outcome", "last_crawl_id")


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie does not)."""
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


def read_source_states(conn) -> dict[str, dict]:
    """source name -> its ``source_state`` row (all columns) as a dict, on any connection to the file."""
    cur = conn.execute("SELECT * FROM source_state ORDER BY source")
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def _counter_values(counts: dict | None) -> list[int]:
    return [int((counts or {}).get(c, 0)) for c in COUNT_KEYS]


class CrawlLog:
    """Rows about crawls, written in the writer's connection (``self.db``: a sqlite_utils Database;
    ``self.crawl_id``: the crawl new rows belong to)."""

    db = None
    crawl_id: int | None = None

    # ---- crawls
    def start_crawl(self, sources: Iterable[str]) -> int:
        """Open a ``running`` crawls row owned by this process; returns (and remembers) its id."""
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT INTO crawls (started_at, status, sources, pid) VALUES (?, 'running', ?, ?)",
                [utcnow_iso(), json.dumps(list(sources)), os.getpid()])
        self.crawl_id = cur.lastrowid
        return self.crawl_id

    def finish_crawl(self, crawl_id: int, status: str, counts: dict | None = None, summary: dict | None = None) -> None:
        """Close a crawls row: status, counters (``COUNT_KEYS`` of ``counts``), per-source ``summary``."""
        sets = ", ".join(f"{c} = ?" for c in COUNT_KEYS)
        with self.db.atomic():
            self.db.execute(
                f"UPDATE crawls SET finished_at = ?, status = ?, {sets}, summary = ? WHERE id = ?",
                [utcnow_iso(), status, *_counter_values(counts),
                 json.dumps(summary) if summary is not None else None, crawl_id])

    def mark_interrupted_crawls(self) -> int:
        """Crawls left 'running' by a process that no longer exists were interrupted (kill -9, crash)."""
        rows = self.db.execute("SELECT id, pid FROM crawls WHERE status = 'running'").fetchall()
        dead = [cid for cid, pid in rows if not pid_alive(pid)]
        if dead:
            with self.db.atomic():
                for cid in dead:
                    self.db.execute("UPDATE crawls SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) "
                                    "WHERE id = ?", [utcnow_iso(), cid])
        return len(dead)

    def running_crawls(self) -> list[tuple[int, int]]:
        """(crawl id, pid) of crawls still running in live processes other than this one."""
        rows = self.db.execute("SELECT id, pid FROM crawls WHERE status = 'running'").fetchall()
        return [(cid, pid) for cid, pid in rows if pid != os.getpid() and pid_alive(pid)]

    def crawl_row(self, crawl_id: int) -> dict | None:
        """One ``crawls`` row as a dict (``summary`` and ``sources`` still JSON text), or None."""
        cur = self.db.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id])
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def last_crawl_id(self, pid: int | None = None) -> int:
        """Highest ``crawls.id`` (of process ``pid`` when given), 0 when none."""
        sql, args = ("SELECT max(id) FROM crawls WHERE pid = ?", [pid]) if pid else ("SELECT max(id) FROM crawls", [])
        return self.db.execute(sql, args).fetchone()[0] or 0

    # ---- fetch errors
    def record_errors(self, errors: Iterable[FetchError]) -> None:
        with self.db.atomic():
            for err in errors:
                self._insert_error(err)

    def _insert_error(self, err: FetchError) -> None:
        self.db.execute(
            "INSERT INTO fetch_errors (url, source, reason, http_status, at, crawl_id, detail) VALUES (?,?,?,?,?,?,?)",
            [err.url, err.source, err.reason, err.http_status, err.at, self.crawl_id, err.detail])

    def crawl_errors(self, crawl_id: int, source: str) -> list[tuple[str, str]]:
        """(reason, url) of a source's fetch_errors rows in one crawl."""
        return [(r, u) for r, u in self.db.execute(
            "SELECT reason, url FROM fetch_errors WHERE crawl_id = ? AND source = ?", [crawl_id, source]).fetchall()]

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
                [url, etag, last_modified, fetched_at or utcnow_iso()])

    def save_fetch_states(self, states: Iterable[tuple[str, str | None, str | None]]) -> int:
        """Store ``(url, etag, last_modified)`` of feeds, sitemaps and section pages in one transaction
        (see :meth:`save_fetch_state`); returns how many."""
        now, n = utcnow_iso(), 0
        with self.db.atomic():
            for url, etag, last_modified in states:
                self.save_fetch_state(url, etag, last_modified, now)
                n += 1
        return n

    # ---- scheduled crawls (monitor.ops.schedule): per-source polling state
    SOURCE_STATE_COLUMNS = SOURCE_STATE_COLUMNS

    def source_states(self) -> dict[str, dict]:
        """source name -> its ``source_state`` row (all columns) as a dict."""
        return read_source_states(self.db.conn)

    def save_source_states(self, states: Iterable[dict]) -> None:
        """Upsert ``source_state`` rows (dicts with ``source`` and any of SOURCE_STATE_COLUMNS), one transaction."""
        now = utcnow_iso()
        with self.db.atomic():
            for st in states:
                cols = [c for c in SOURCE_STATE_COLUMNS if c in st]
                self.db.execute(
                    f"INSERT INTO source_state (source, {', '.join(cols)}, updated_at) "
                    f"VALUES (?, {', '.join('?' * len(cols))}, ?) ON CONFLICT(source) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in [*cols, "updated_at"]),
                    [st["source"], *[st[c] for c in cols], now])

    # ---- distributed crawls (monitor.distributed.ingester.Ingester is the writer)
    def run_state(self, run: str) -> tuple[int, dict] | None:
        """(crawls.id, state) of a distributed run id, or None."""
        row = self.db.execute("SELECT crawl_id, state FROM redis_runs WHERE run = ?", [run]).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def running_runs(self) -> list[tuple[str, int, dict]]:
        """(run id, crawls.id, state) of the distributed runs whose crawls row is not finished."""
        return [(r, c, json.loads(s)) for r, c, s in self.db.execute(
            "SELECT r.run, r.crawl_id, r.state FROM redis_runs r JOIN crawls c ON c.id = r.crawl_id "
            "WHERE c.finished_at IS NULL")]

    def save_run_state(self, run: str, crawl_id: int, state: dict, *, status: str, counts: dict,
                       summary: dict, finished: bool) -> None:
        """Store a run's state and bring its crawls row up to date (``finished``: set finished_at)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO redis_runs (run, crawl_id, state) VALUES (?, ?, ?) ON CONFLICT(run) "
                            "DO UPDATE SET state = excluded.state", [run, crawl_id, json.dumps(state)])
            self.db.execute(
                f"UPDATE crawls SET status = ?, pid = ?, {', '.join(f'{c} = ?' for c in COUNT_KEYS)}, summary = ?, "
                "finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?) ELSE NULL END WHERE id = ?",
                [status, os.getpid(), *_counter_values(counts), json.dumps(summary),
                 int(finished), utcnow_iso(), crawl_id])

    def ingest_marker(self) -> str | None:
        """The marker of the last Redis batch the ingester committed, or None."""
        row = self.db.execute("SELECT value FROM ingest_state WHERE name = 'last_batch'").fetchone()
        return row[0] if row else None

    def set_ingest_marker(self, value: str) -> None:
        with self.db.atomic():
            self.db.execute("INSERT INTO ingest_state (name, value) VALUES ('last_batch', ?) "
                            "ON CONFLICT(name) DO UPDATE SET value = excluded.value", [value])
