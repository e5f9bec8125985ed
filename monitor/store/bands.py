"""The LSH band index of near-duplicate detection: stored rows plus the newest rows held in memory.

``lsh_buckets`` holds ``(band key, article)`` rows for every article up to ``store_state.lsh_merged_upto``;
the band rows of later articles live in the writer's memory (``monitor.dedup.bandtier.BandTier``) and are
merged into ``lsh_buckets`` in key order once ``MONITOR_LSH_MEMORY`` articles have gathered (see bandtier for
why: band keys are hashes, so rows written as they come rewrite most of the index with every batch).
Nothing is lost when the process dies: the memory part is rebuilt from ``article_fingerprints`` (written
with each article, in its transaction) for the articles after ``lsh_merged_upto`` and those listed in
``lsh_unmerged`` (older articles whose text changed).  A writer also takes in the fingerprints another
process wrote since its last batch, so two writers of one file still see each other's articles.

``lsh_part_filters`` holds a Bloom filter of each part's stored keys (``PartFilters``: one size, enough for a
full part), saved with each merge that adds rows to that part (m015; before, one filter of every row in
``lsh_filter`` was rewritten whole by every merge).  A lookup reads the tier (its dict and sorted arrays) for
every key, and the index only for the (part, key) pairs the filters may hold: most keys of a new article are
in no row at all, and a near copy's keys sit in one part.  ``lsh_buckets`` changes only in a merge (and loses
rows when a text changes), so the saved filters always cover it.

``lsh_buckets`` is keyed by ``(part, key, article_id)`` with ``part = article_id >> PART_BITS`` (m013): a merge
adds the rows of the newest articles to the newest part only, so its cost follows the size of a part, not of
the whole index (band keys are hashes: keyed by key alone, each merge rewrote pages all over the index).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import contextmanager

import numpy as np

from monitor.dedup import fingerprints as dedup
from monitor.dedup.bandtier import BandTier, PartFilters, filter_bits

logger = logging.getLogger(__name__)

MERGED_UPTO = "lsh_merged_upto"
PART_BITS = 16           # article ids per part of lsh_buckets: 65,536 (2.75M band rows, ~65 MB); see m013
_LOAD_CHUNK = 20_000


def part_of(article_id: int) -> int:
    return article_id >> PART_BITS


def part_filter_bits() -> int:
    """Bits of each part's filter: enough for a full part (65,536 articles of BANDS rows: 12.2 bits a row, 4 MiB)."""
    return filter_bits((1 << PART_BITS) * dedup.BANDS)


class BandIndex:
    """Mixin of ``monitor.store.articles.Writer``: band rows in, candidates out (``self.db``: its Database)."""

    band_memory_articles: int = 20_000     # MONITOR_LSH_MEMORY: articles whose band rows wait in memory
    band_fold_rows: int = 20_000           # rows the tier's dict gathers before they go to its sorted arrays (~140 bytes a row)
    _tier: BandTier | None = None
    _filter: PartFilters | None = None
    _band_memory_on: bool | None = None    # None: not looked up yet (the file has store_state: m012)
    _tier_merged_upto = 0                  # lsh_merged_upto when the tier was last in step with the file
    _tier_upto = 0                         # the highest article id whose fingerprint the tier has taken in
    _tier_unmerged = 0                     # lsh_unmerged rows the tier has taken in
    _in_transaction = False                # inside band_transaction(): only this writer changes the file
    _parts: list[int] | None = None        # the parts lsh_buckets has rows in (None: look them up)
    _synced_in_transaction = False

    # ---- reads
    def band_candidates(self, keys: list[int], limit: int, exclude: int | None = None) -> list[int]:
        """Articles sharing band keys with ``keys``, most shared keys first (then oldest), at most ``limit``."""
        if not keys:
            return []
        tier = self._synced_tier()
        if tier is None:                   # a file from before m012
            sql, params = f"SELECT article_id FROM lsh_buckets WHERE key IN ({','.join('?' * len(keys))})", keys
            counts = Counter()
        else:
            counts = tier.candidates(keys)
            sql, params = self._stored_probe(keys)
        if sql:
            for aid, n in self.db.execute(
                    f"SELECT article_id, count(*) FROM ({sql}) GROUP BY article_id "
                    "ORDER BY count(*) DESC, article_id LIMIT ?", [*params, limit + 1]):
                counts[aid] += n
        counts.pop(exclude, None)
        return [aid for aid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    def _stored_probe(self, keys: list[int]) -> tuple[str, list]:
        """The query of the stored rows for ``keys``: per part, only the keys the filter may hold there."""
        parts = self._stored_parts()
        if not parts:
            return "", []
        maybe = self._filter.might_contain(keys, parts)
        selects, params = [], []
        for part, row in zip(parts, maybe.tolist()):
            probe = [k for k, m in zip(keys, row) if m]
            if probe:
                selects.append(f"SELECT article_id FROM lsh_buckets WHERE part = ? AND key IN ({','.join('?' * len(probe))})")
                params += [part, *probe]
        return " UNION ALL ".join(selects), params

    def band_rows(self, article_id: int) -> set[int]:
        """The band keys recorded for an article, stored or in memory (for checks and tests)."""
        tier = self._synced_tier()
        if tier is None:
            return {k for (k,) in self.db.execute("SELECT key FROM lsh_buckets WHERE article_id = ?", [article_id])}
        if article_id in tier:
            return {k for rows in tier.sorted_chunks() for k, a in rows if a == article_id}
        return {k for (k,) in self.db.execute("SELECT key FROM lsh_buckets WHERE part = ? AND article_id = ?",
                                              [part_of(article_id), article_id])}

    # ---- writes (in the caller's transaction)
    def add_bands(self, article_id: int, keys: list[int]) -> None:
        """Record an article's band keys (in memory until the next merge)."""
        tier = self._synced_tier()
        if tier is None:                   # a file from before m012
            self.db.conn.executemany("INSERT OR IGNORE INTO lsh_buckets (key, article_id) VALUES (?, ?)",
                                     [(k, article_id) for k in keys])
            return
        if article_id <= self._tier_merged_upto:      # a changed text of an article merged before
            if self.db.execute("INSERT OR IGNORE INTO lsh_unmerged (article_id) VALUES (?)", [article_id]).rowcount:
                self._tier_unmerged += 1
        tier.add(article_id, keys)
        self._tier_upto = max(self._tier_upto, article_id)
        if tier.needs_fold:
            tier.fold()

    def drop_bands(self, article_id: int, keys: list[int] | None) -> None:
        """Forget an article's band keys (``keys``: its old keys; None when they cannot be computed)."""
        tier = self._synced_tier()
        if tier is not None and (article_id in tier or article_id > self._tier_merged_upto):
            tier.remove(article_id)
        elif tier is not None:
            part = part_of(article_id)
            if keys is None:
                self.db.execute("DELETE FROM lsh_buckets WHERE part = ? AND article_id = ?", [part, article_id])
            else:
                self.db.conn.executemany("DELETE FROM lsh_buckets WHERE part = ? AND key = ? AND article_id = ?",
                                         [(part, k, article_id) for k in keys])
        elif keys is None:                 # a file from before m012
            self.db.execute("DELETE FROM lsh_buckets WHERE article_id = ?", [article_id])
        else:
            self.db.conn.executemany("DELETE FROM lsh_buckets WHERE key = ? AND article_id = ?",
                                     [(k, article_id) for k in keys])

    def merge_bands(self, force: bool = False) -> int:
        """Move the in-memory band rows into ``lsh_buckets`` (in key order) when ``MONITOR_LSH_MEMORY`` articles
        have gathered, or always with ``force``; the filter is saved with them.  Runs in the caller's
        transaction; returns the rows moved."""
        tier = self._synced_tier()
        if tier is None or (not force and tier.articles < self.band_memory_articles):
            return 0
        upto = max(self._tier_upto, self._tier_merged_upto)
        moved = 0
        with self.db.atomic():
            # part by part, in key order, 20,000 rows as Python objects at a time (not millions)
            for rows in tier.sorted_part_chunks(PART_BITS):
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO lsh_buckets (part, key, article_id) VALUES (?, ?, ?)", rows)
                moved += len(rows)
            parts = tier.folded_ids >> PART_BITS
            for part in np.unique(parts).tolist():        # the newest part, and those of changed texts
                f = self._filter.get(part)
                f.add(tier.folded_keys[parts == part])
                if f.keys > f.capacity:                   # rows of changed texts: made again from its rows
                    self._fill_from_index(part)
                self._save_part_filter(part)
            self.db.execute("DELETE FROM lsh_unmerged")
            self.db.execute("INSERT INTO store_state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                            "SET value = excluded.value", [MERGED_UPTO, upto])
        tier.clear()
        self._tier_merged_upto, self._tier_unmerged = upto, 0
        self._parts = None
        return moved

    def forget_band_memory(self) -> None:
        """Drop the in-memory rows and filter (a failed transaction may have left rows of articles never
        stored); they are read again from the file when next needed."""
        self._tier = None
        self._filter = None
        self._parts = None

    # ---- the in-memory part, in step with the file
    @contextmanager
    def band_transaction(self):
        """Within one write transaction the file changes only through this writer (SQLite's write lock, and
        one snapshot for its reads), so the in-memory rows are brought in step with other writers once, not
        at every lookup and write (three queries each, two or three times an article)."""
        self._in_transaction = True
        try:
            yield
        finally:
            self._in_transaction = self._synced_in_transaction = False

    def _synced_tier(self) -> BandTier | None:
        """The in-memory rows, having taken in what other writers did since the last call (None: a file from
        before m012, written to ``lsh_buckets`` directly, as a writer then did)."""
        if self._synced_in_transaction and self._tier is not None:
            return self._tier
        if self._band_memory_on is None:
            self._band_memory_on = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_state'").fetchone() is not None
        if not self._band_memory_on:
            return None
        merged = self._merged_upto()
        if self._tier is None:
            self._tier = BandTier(self.band_fold_rows)
            self._tier_merged_upto = self._tier_upto = merged
            self._tier_unmerged = 0
            self._filter = self._saved_filters()
        elif merged > self._tier_merged_upto:        # another writer merged (its rows and ours)
            self._parts = None
            self._tier.drop_upto(merged)
            self._tier_merged_upto = merged
            self._tier_upto = max(self._tier_upto, merged)
            self._tier_unmerged = 0
            self._filter = self._saved_filters()
        newest = self.db.execute("SELECT max(article_id) FROM article_fingerprints").fetchone()[0] or 0
        if newest > self._tier_upto:
            self._load_fingerprints("article_id > ? AND article_id <= ?", [self._tier_upto, newest])
            self._tier_upto = newest
        unmerged = self.db.execute("SELECT count(*) FROM lsh_unmerged").fetchone()[0]
        if unmerged != self._tier_unmerged:
            self._load_fingerprints("article_id IN (SELECT article_id FROM lsh_unmerged)", [], reload=True)
            self._tier_unmerged = unmerged
        self._synced_in_transaction = self._in_transaction
        return self._tier

    def _stored_parts(self) -> list[int]:
        """The parts with rows in ``lsh_buckets``, one index seek each (ids need not be dense: a lookup names
        only these); looked up again after each merge."""
        if self._parts is None:
            self._parts = [p for (p,) in self.db.execute(
                "WITH RECURSIVE parts(p) AS (SELECT min(part) FROM lsh_buckets UNION ALL "
                "SELECT (SELECT min(part) FROM lsh_buckets WHERE part > p) FROM parts WHERE p IS NOT NULL) "
                "SELECT p FROM parts WHERE p IS NOT NULL")]
        return self._parts

    def _merged_upto(self) -> int:
        row = self.db.execute("SELECT value FROM store_state WHERE name = ?", [MERGED_UPTO]).fetchone()
        return int(row[0]) if row else 0

    def _load_fingerprints(self, where: str, params: list, reload: bool = False) -> None:
        """Take in the band keys of the fingerprints ``where`` selects (``reload``: replacing the rows the tier
        has for those articles)."""
        after = 0
        while True:
            rows = self.db.execute(
                f"SELECT article_id, signature FROM article_fingerprints WHERE {where} AND article_id > ? "
                "ORDER BY article_id LIMIT ?", [*params, after, _LOAD_CHUNK]).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            ids, values = [], []
            for aid, blob in rows:
                if reload:
                    self._tier.remove(aid)
                try:
                    sig = dedup.signature_from_bytes(blob)
                except (ValueError, TypeError):     # another signature version: no band rows (as when stored)
                    continue
                if not sig.empty:
                    ids.append(aid)
                    values.append(sig.hashvalues)
            if ids:
                self._tier.add_bulk(np.asarray(ids, dtype=np.int64), dedup.band_keys_bulk(np.stack(values)))

    # ---- the filters of the stored keys, one per part
    def _saved_filters(self) -> PartFilters:
        """The saved filters; a part without one (a file from before m015) gets one made from its rows."""
        self._filter = filters = PartFilters(part_filter_bits())
        for part, keys, bits in self.db.execute("SELECT part, keys, bits FROM lsh_part_filters"):
            filters.load(part, bits, keys)
        missing = [part for part in self._stored_parts() if part not in filters]
        if missing:   # once per file: 24-33 s at 1M articles, so say why the first batch waits
            logger.info("making the near-duplicate filters of %d part(s) of lsh_buckets from their rows "
                        "(a database from before m015; done once)", len(missing))
            started = time.monotonic()
            for part in missing:
                self._fill_from_index(part)
                self._save_part_filter(part)
            logger.info("near-duplicate filters made in %.1f s", time.monotonic() - started)
        return filters

    def _fill_from_index(self, part: int) -> None:
        """``part``'s filter made again from its rows of ``lsh_buckets``."""
        f = self._filter.clear(part)
        cur = self.db.execute("SELECT key FROM lsh_buckets WHERE part = ?", [part])
        while True:
            chunk = cur.fetchmany(65_536)
            if not chunk:
                return
            f.add(np.array(chunk, dtype=np.int64).reshape(-1))

    def _save_part_filter(self, part: int) -> None:
        """Save ``part``'s filter (over its saved one: the old blob's pages are reused, the file does not grow)."""
        f = self._filter.get(part)
        self.db.execute("INSERT INTO lsh_part_filters (part, keys, bits) VALUES (?, ?, ?) ON CONFLICT(part) "
                        "DO UPDATE SET keys = excluded.keys, bits = excluded.bits", [part, f.keys, f.to_bytes()])
