"""Which articles a search returns, in which order: two-phase ranking over the full-text index.

``ranked_hits(conn, query, conds, params, ...)`` returns the hits ``monitor.query.reads.search`` shows, as
``(id, rank, date_key, copies)`` rows, best first.  What they are is defined by ``reference_sql`` (one SQL
statement over every hit): every article matching the FTS5 query and the filters, ranked by
``bm25(articles_fts, 2.0, 1.0)`` (title counts double); duplicates (``COALESCE(duplicate_of, id)``) folded
into their group's lowest-id matching article, with the group's best rank and ``copies`` = the other matching
members; ordered by rank, newest date, id (``sort="rank"``) or newest date, rank, id (``sort="date"``).

That statement joins every hit to its article row and ranks all of them before the limit applies: at 1M
articles a ~1 % query (10,000 hits) costs a second.  With a limit, ``ranked_hits`` gets the same rows in
two phases:

1. **Top K from the index alone.**  ``sort="rank"``: the K best hits by bm25, straight from
   ``articles_fts`` (SQLite keeps only K rows while it sorts); ``sort="date"``: the K newest hits, their
   dates read from the covering index ``idx_articles_fold (id, duplicate_of, published, fetched_at)``
   (m008), not from the wide article rows.  The hits strictly ahead of the K-th (by rank, or by date) are a
   *certain prefix*: no hit outside it can come before any of them.  The filters (sources, languages,
   topics, dates) are applied to these rows only, through the same covering index.
2. **Fold and finish.**  For the duplicate groups of the prefix, all their members are read
   (``idx_articles_duplicate_of``), filtered, and checked against the FTS5 query (rank of each); a group's
   rank is its best member's, its date and id its lowest-id member's, as in the reference.  The groups that
   are certain to come first are sorted; when fewer than ``limit`` are certain (filters dropped most of the
   prefix, many duplicates), K grows (at least doubling) and phase 1 runs again.

Ties are broken exactly as in the reference (rank, date, id), so both give the same ids in the same order
(``tests/unit/test_search_ranking.py`` compares them on a fixture database over many queries and filters).
A database written before m008 has no covering index: the same steps read the article rows instead.
"""

from __future__ import annotations

from typing import Sequence

DATE_SQL = "COALESCE(datetime(a.published), datetime(a.fetched_at))"
RANK_SQL = "bm25(articles_fts, 2.0, 1.0)"
FOLD_INDEX = "idx_articles_fold"
FIRST_K = 200          # hits of the first phase-1 round, at least ...
K_PER_LIMIT = 4        # ... this many times the limit
CHUNK = 500            # ids per IN (...) list
PARALLEL_MIN_HITS = 50_000   # phase 1 ranks in several id ranges at once only for about this many hits or more
SAMPLE_IDS = 20_000          # ... estimated from the hits among the newest this many ids


def _and(conds: Sequence[str]) -> str:
    return " AND ".join(conds) if conds else "1"


def _order(sort: str) -> str:
    return "rank, date_key DESC, id" if sort == "rank" else "date_key DESC, rank, id"


def reference_sql(conds: Sequence[str], *, sort: str, include_duplicates: bool, limit: int | None) -> str:
    """The one-statement definition of a search's rows (parameters: the FTS5 query, then the filters')."""
    hits = (f"SELECT a.id, COALESCE(a.duplicate_of, a.id) AS grp, {RANK_SQL} AS rank, "
            f"{DATE_SQL} AS date_key FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            f"WHERE articles_fts MATCH ? AND {_and(conds)}")
    if include_duplicates:
        sql = f"SELECT id, rank, date_key, 0 AS copies FROM ({hits}) ORDER BY {_order(sort)}"
    else:
        sql = (f"WITH hits AS ({hits}), folded AS (SELECT id, date_key, "
               "ROW_NUMBER() OVER (PARTITION BY grp ORDER BY id) AS rn, COUNT(*) OVER (PARTITION BY grp) AS n, "
               "MIN(rank) OVER (PARTITION BY grp) AS rank FROM hits) "
               f"SELECT id, rank, date_key, n - 1 AS copies FROM folded WHERE rn = 1 ORDER BY {_order(sort)}")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql


def _has_fold_index(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [FOLD_INDEX]).fetchone() \
        is not None


def _chunks(ids: Sequence[int]):
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _marks(values) -> str:
    return ",".join("?" * len(values))


def _sort_rows(rows: list, sort: str) -> list:
    """Sort ``(id, rank, date_key, copies)`` like the reference's ORDER BY (SQLite: NULL dates last when
    newest first); stable sorts, least significant key first."""
    rows = sorted(rows, key=lambda r: r[0])
    by_date = lambda r: (r[2] is not None, r[2] or "")   # noqa: E731  (descending: NULL last)
    if sort == "rank":
        rows.sort(key=by_date, reverse=True)
        rows.sort(key=lambda r: r[1])
    else:
        rows.sort(key=lambda r: r[1])
        rows.sort(key=by_date, reverse=True)
    return rows


class _Plan:
    def __init__(self, conn, query: str, conds: Sequence[str], params: Sequence, sort: str, threads: int = 1):
        self.conn, self.query, self.conds, self.params, self.sort = conn, query, list(conds), list(params), sort
        self.indexed = f" INDEXED BY {FOLD_INDEX}" if _has_fold_index(conn) else ""
        self.threads = threads
        self.siblings: list = []
        self._ranges: list[tuple[int, int]] | None = None

    def attributes(self, ids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
        """``id -> (group, date_key)`` of those ids that pass the filters (covering index when present)."""
        out: dict[int, tuple[int, str | None]] = {}
        for chunk in _chunks(ids):
            for aid, grp, date in self.conn.execute(
                    f"SELECT a.id, COALESCE(a.duplicate_of, a.id), {DATE_SQL} FROM articles a{self.indexed} "
                    f"WHERE a.id IN ({_marks(chunk)}) AND {_and(self.conds)}", [*chunk, *self.params]):
                out[aid] = (grp, date)
        return out

    def members(self, groups: Sequence[int]) -> dict[int, tuple[int, str | None]]:
        """``id -> (group, date_key)`` of every article of these duplicate groups that passes the filters."""
        out: dict[int, tuple[int, str | None]] = {}
        for chunk in _chunks(groups):
            m = _marks(chunk)
            for sql in (f"SELECT a.id, COALESCE(a.duplicate_of, a.id), {DATE_SQL} FROM articles a "
                        f"WHERE a.duplicate_of IN ({m}) AND {_and(self.conds)}",
                        f"SELECT a.id, COALESCE(a.duplicate_of, a.id), {DATE_SQL} FROM articles a{self.indexed} "
                        f"WHERE a.id IN ({m}) AND a.duplicate_of IS NULL AND {_and(self.conds)}"):
                for aid, grp, date in self.conn.execute(sql, [*chunk, *self.params]):
                    out[aid] = (grp, date)
        return out

    def ranks(self, ids: Sequence[int]) -> dict[int, float]:
        """``id -> bm25 rank`` of those ids that match the FTS5 query."""
        out: dict[int, float] = {}
        for chunk in _chunks(sorted(set(ids))):
            out.update(self.conn.execute(
                f"SELECT rowid, {RANK_SQL} FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({_marks(chunk)})",
                [self.query, *chunk]).fetchall())
        return out

    # ---- phase 1
    def best_by_rank(self, k: int) -> list[tuple[int, float]]:
        """The k best ``(id, rank)`` hits (any k of them where ranks tie at the k-th).

        On a large file the hits are ranked in ``threads`` id ranges at once, one connection each (SQLite
        ranks without Python's lock), and the ranges' k best merged: the same rows, since every hit among
        the k best overall is among its range's k best, and bm25 takes its statistics (rows, hits per term,
        mean length) from the whole index whatever the id range (``tests/unit/test_search_ranking.py``)."""
        sql = f"SELECT rowid, {RANK_SQL} AS r FROM articles_fts WHERE articles_fts MATCH ?"
        ranges = self.id_ranges()
        if len(ranges) < 2:
            return [tuple(r) for r in self.conn.execute(f"{sql} ORDER BY r LIMIT ?", [self.query, k])]
        sql += " AND rowid BETWEEN ? AND ? ORDER BY r LIMIT ?"
        while len(self.siblings) < len(ranges) - 1:
            self.siblings.append(self.conn.sibling())
        conns = [self.conn, *self.siblings]

        def one(i: int) -> list[tuple[int, float]]:
            lo, hi = ranges[i]
            return [tuple(r) for r in conns[i].execute(sql, [self.query, lo, hi, k])]

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(ranges) - 1) as pool:
            others = [pool.submit(one, i) for i in range(1, len(ranges))]
            try:
                rows = one(0)
            except BaseException:
                for c in self.siblings:
                    c.interrupt()
                raise
            finally:
                for f in others:       # wait for every range (an error in one is raised after all stopped)
                    f.exception()
            for f in others:
                rows += f.result()
        rows.sort(key=lambda r: r[1])
        return rows[:k]

    def id_ranges(self) -> list[tuple[int, int]]:
        """The id ranges phase 1 ranks at once, one per thread (``threads``), when the query has about
        ``PARALLEL_MIN_HITS`` hits or more (counted in the newest ``SAMPLE_IDS`` ids); else none (an empty
        list: one query over the whole index), since a second connection costs a few ms and each range
        counts a phrase's hits over the whole index again."""
        if self._ranges is None:
            self._ranges = []
            if self.threads > 1 and getattr(self.conn, "uri", None):
                lo, hi = self.conn.execute(
                    "SELECT (SELECT min(id) FROM articles), (SELECT max(id) FROM articles)").fetchone()
                span = hi - lo + 1 if lo is not None else 0
                if span and span >= PARALLEL_MIN_HITS and self._estimated_hits(max(lo, hi - SAMPLE_IDS + 1), hi,
                                                                              span) >= PARALLEL_MIN_HITS:
                    step = -(-span // self.threads)
                    self._ranges = [(a, min(hi, a + step - 1)) for a in range(lo, hi + 1, step)]
        return self._ranges

    def _estimated_hits(self, first: int, last: int, span: int) -> float:
        if PARALLEL_MIN_HITS <= 0:
            return 0.0
        sample = self.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ? AND rowid "
                                   "BETWEEN ? AND ?", [self.query, first, last]).fetchone()[0]
        return sample * span / (last - first + 1)

    def close(self) -> None:
        for c in self.siblings:
            c.close()
        self.siblings.clear()

    def top(self, k: int) -> tuple[dict[int, tuple], bool]:
        """The certain prefix of the first k hits as ``id -> (rank or None, group, date_key)`` (filters
        applied), and whether the index had no more than k hits at all."""
        if self.sort == "rank":
            rows = self.best_by_rank(k)
            complete = len(rows) < k
            if not complete:
                cut = rows[-1][1]
                rows = [r for r in rows if r[1] < cut]
            attrs = self.attributes([r[0] for r in rows])
            return {aid: (rank, *attrs[aid]) for aid, rank in rows if aid in attrs}, complete
        rows = self.conn.execute(
            f"SELECT a.id, COALESCE(a.duplicate_of, a.id), {DATE_SQL} AS date_key FROM articles_fts "
            f"JOIN articles a{self.indexed} ON a.id = articles_fts.rowid WHERE articles_fts MATCH ? "
            f"AND {_and(self.conds)} ORDER BY date_key DESC LIMIT ?", [self.query, *self.params, k]).fetchall()
        complete = len(rows) < k
        if not complete:
            cut = rows[-1][2]
            rows = [r for r in rows if r[2] is not None and (cut is None or r[2] > cut)]
        return {aid: (None, grp, date) for aid, grp, date in rows}, complete

    # ---- phase 2
    def finish(self, prefix: dict[int, tuple], complete: bool, limit: int, include_duplicates: bool) -> list | None:
        """The first ``limit`` rows, or None when the prefix does not settle them (K must grow)."""
        if self.sort == "date":
            ranks = self.ranks(prefix)
            prefix = {aid: (ranks[aid], grp, date) for aid, (_, grp, date) in prefix.items() if aid in ranks}
        if include_duplicates:
            rows = _sort_rows([(aid, rank, date, 0) for aid, (rank, _, date) in prefix.items()], self.sort)
            return rows[:limit] if complete or len(rows) >= limit else None
        groups: dict[int, list[int]] = {}
        for aid, (_, grp, _) in prefix.items():
            groups.setdefault(grp, []).append(aid)
        if self.sort == "rank":
            # a group's rank is its best member's, which is in the prefix: the first `limit` groups by rank
            # (and every group tied with the last of them) are settled here; their dates and ids need all members
            best = sorted(groups, key=lambda g: min(prefix[a][0] for a in groups[g]))
            if len(best) > limit:
                edge = min(prefix[a][0] for a in groups[best[limit - 1]])
                best = [g for g in best if min(prefix[a][0] for a in groups[g]) <= edge]
            chosen = best
        else:
            chosen = list(groups)
        members = self.members(chosen)
        outside = [aid for aid in members if aid not in prefix]
        ranks = {} if complete or not outside else self.ranks(outside)
        hits: dict[int, list[tuple[int, float, str | None]]] = {}
        for aid, (grp, date) in members.items():
            rank = prefix[aid][0] if aid in prefix else ranks.get(aid)
            if rank is not None:
                hits.setdefault(grp, []).append((aid, rank, date))
        rows = []
        for grp in chosen:
            found = sorted(hits.get(grp, ()))
            if not found:
                continue
            first = found[0]
            rows.append((first[0], min(h[1] for h in found), first[2], len(found) - 1))
        if self.sort == "date" and not complete:
            # a group comes first for sure only when its date (its lowest-id hit's) is ahead of every hit
            # outside the prefix, i.e. its lowest-id hit is in the prefix
            rows = [r for r in rows if r[0] in prefix]
        rows = _sort_rows(rows, self.sort)
        return rows[:limit] if complete or len(rows) >= limit else None


def search_threads() -> int:
    """MONITOR_SEARCH_THREADS; 0: one per CPU core this process may use (at most 4) where SQLite's connections
    run side by side in threads (``monitor.store.db.threads_run_in_parallel``), else 1."""
    from monitor.config import env_setting, usable_cpus
    from monitor.store.db import threads_run_in_parallel

    n = int(env_setting("MONITOR_SEARCH_THREADS"))
    if n:
        return n
    cpus = min(usable_cpus(), 4)
    return cpus if cpus > 1 and threads_run_in_parallel() else 1


def ranked_hits(conn, query: str, conds: Sequence[str], params: Sequence, *, sort: str = "rank",
                include_duplicates: bool = False, limit: int | None = None, threads: int | None = None) -> list[tuple]:
    """The search's rows ``(id, rank, date_key, copies)``, best first (see the module doc).  ``threads``: how
    many id ranges phase 1 ranks at once on a large file (default MONITOR_SEARCH_THREADS)."""
    if not limit:
        return [tuple(r) for r in conn.execute(
            reference_sql(conds, sort=sort, include_duplicates=include_duplicates, limit=None), [query, *params])]
    plan = _Plan(conn, query, conds, params, sort, search_threads() if threads is None else threads)
    k = max(FIRST_K, K_PER_LIMIT * int(limit))
    try:
        while True:
            prefix, complete = plan.top(k)
            rows = plan.finish(prefix, complete, int(limit), include_duplicates)
            if rows is not None:
                return rows
            kept = max(1, len(prefix))
            k = int(k * max(2.0, min(64.0, 1.5 * limit / kept)))
    finally:
        plan.close()
