"""Archive backfill in the store: backfill runs, article origins, per-file checkpoints, coverage by month.

``monitor.backfill`` writes through these functions and the writer (``monitor.store.articles.Writer``), never
SQL of its own.  ``write_with_checkpoint`` stores a batch (``Writer.write_batch``), the origin of each article it
inserted and the checkpoint of the file the batch came from in ONE transaction: a backfill killed at any
point restarts from the last checkpoint with exactly the articles of the batches before it (no loss, and no
duplicate, since a re-read record is then ``known``).  ``coverage_by_month`` serves readers (``monitor stats``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from monitor.clock import utcnow_iso
from monitor.store.records import ArticleRecord, FetchError, StoreResult


def start_backfill(writer, sources: Iterable[str]) -> int:
    """Open a ``running`` crawls row of kind ``backfill`` (see ``CrawlLog.start_crawl``); returns its id.

    Its ``sources`` column stays empty (the sources go in its summary): ``monitor health``, ``stats`` and the
    scheduler judge a source by its crawls of the live site, which a backfill is not."""
    writer.mark_interrupted_crawls()
    crawl_id = writer.start_crawl([])
    with writer.transaction():
        writer.db.execute("UPDATE crawls SET kind = 'backfill' WHERE id = ?", [crawl_id])
    return crawl_id


def checkpoint(writer, name: str) -> tuple[int, bool]:
    """``(position, done)`` recorded for a WARC file or CDX query (``(0, False)`` when never started)."""
    row = writer.db.execute("SELECT position, done FROM backfill_checkpoints WHERE name = ?", [name]).fetchone()
    return (int(row[0]), bool(row[1])) if row else (0, False)


def _save_checkpoint(writer, name: str, position: int, done: bool) -> None:
    writer.db.execute(
        "INSERT INTO backfill_checkpoints (name, position, done, crawl_id, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET position = excluded.position, done = excluded.done, "
        "crawl_id = excluded.crawl_id, updated_at = excluded.updated_at",
        [name, int(position), int(done), writer.crawl_id, utcnow_iso()])


def write_with_checkpoint(writer, records: Sequence[ArticleRecord], errors: Sequence[FetchError],
                          origins: Sequence[str], name: str, position: int, done: bool = False) -> list[StoreResult]:
    """Store ``records`` and ``errors`` (``Writer.write_batch``), set ``articles.origin`` of the rows this batch
    inserted (``origins[i]`` for ``records[i]``) and move the checkpoint of ``name`` to ``position``, in one
    transaction."""
    with writer.transaction():
        results = writer.write_batch(records, errors)
        writer.db.conn.executemany(
            "UPDATE articles SET origin = ? WHERE id = ? AND origin IS NULL",
            [(origin, res.article_id) for res, origin in zip(results, origins) if res.status in ("new", "duplicate")])
        _save_checkpoint(writer, name, position, done)
    return results


def coverage_by_month(conn, months: int = 12) -> dict:
    """Articles per source and month (``published``, else ``fetched_at``; copies included: each outlet's own
    coverage) over the last ``months`` calendar months up to the newest article, gaps as 0, on any connection to
    the file: ``{"months": ["YYYY-MM", ...], "per_source": [{"source", "articles": [n per month]}]}``."""
    rows = conn.execute(
        "SELECT source, substr(COALESCE(published, fetched_at), 1, 7) AS month, count(*) FROM articles "
        "GROUP BY source, month").fetchall()
    found = sorted({m for _s, m, _n in rows if m and len(m) == 7 and m[:4].isdigit() and m[5:].isdigit()})
    if not found:
        return {"months": [], "per_source": []}
    y, m = int(found[-1][:4]), int(found[-1][5:])
    span = []
    for _ in range(months):
        span.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    span = [x for x in reversed(span) if x >= found[0]]
    counts: dict[str, dict[str, int]] = {}
    for source, month, n in rows:
        counts.setdefault(source, {})[month] = n
    return {"months": span, "per_source": [{"source": src, "articles": [c.get(x, 0) for x in span]}
                                           for src, c in sorted(counts.items())]}
