"""Near-duplicate band rows kept in memory (monitor.dedup.bandtier, monitor.store.bands) find the same
duplicates as rows written at once: across merges, after a crash, after a rolled-back batch, between two
writers of one file, and in a file converted from before m012."""

from __future__ import annotations

import logging
import random
from collections import Counter

import numpy as np
import pytest
import sqlite_utils

from monitor.dedup import fingerprints as dedup
from monitor.dedup.bandtier import BandFilter, BandTier, PartFilters
from monitor.store import bands
from monitor.store.articles import Writer
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.store.schema import migrations
from tests.support.dedup_samples import EXACT_COPY, NEAR_COPY, OTHER_TOPIC, SAME_TOPIC, STORY


# --------------------------------------------------------------------------- BandTier against a plain model

def test_band_tier_matches_a_plain_multimap():
    rnd = random.Random(7)
    tier = BandTier(fold_rows=37)             # folded often: the sorted arrays and the pending dict both serve
    model: dict[int, list[int]] = {}
    key_pool = [rnd.getrandbits(63) - 2 ** 62 for _ in range(300)]
    next_id = 1
    for step in range(600):
        op = rnd.random()
        if op < 0.6:
            keys = rnd.sample(key_pool, 6)
            tier.add(next_id, keys)
            model[next_id] = keys
            next_id += 1
        elif op < 0.7 and model:
            aid = rnd.choice(list(model))
            tier.remove(aid)
            del model[aid]
        elif op < 0.75 and model:
            cut = rnd.choice(list(model))
            tier.drop_upto(cut)
            model = {a: k for a, k in model.items() if a > cut}
        elif op < 0.8:
            ids = np.arange(next_id, next_id + 4, dtype=np.int64)
            keys = np.array([rnd.sample(key_pool, 6) for _ in ids], dtype=np.int64)
            tier.add_bulk(ids, keys)
            model.update({int(a): k.tolist() for a, k in zip(ids, keys)})
            next_id += 4
        if tier.needs_fold or op > 0.95:
            tier.fold()
        probe = rnd.sample(key_pool, 10)
        expected = Counter(a for a, keys in model.items() for k in keys if k in probe)
        assert tier.candidates(probe) == expected, step
        assert tier.articles == len(model)
    rows = tier.sorted_rows()
    assert [k for k, _ in rows] == sorted(k for k, _ in rows)
    assert sorted(rows) == sorted((k, a) for a, keys in model.items() for k in keys)


def test_band_filter_has_no_false_negatives_and_few_false_positives():
    rng = np.random.default_rng(3)
    keys = rng.integers(-2 ** 63, 2 ** 63 - 1, size=200_000, dtype=np.int64)
    made = BandFilter(capacity_keys=100_000)
    made.add(keys[:100_000])
    assert made.might_contain(keys[:100_000]).all()
    assert made.might_contain(keys[100_000:]).mean() < 0.01
    full = BandFilter()                                  # at its intended load (8 bits a key)
    full.add(keys[:full.capacity])
    assert full.might_contain(keys[:full.capacity]).all()
    assert full.might_contain(rng.integers(-2 ** 63, 2 ** 63 - 1, size=100_000, dtype=np.int64)).mean() < 0.03
    again = BandFilter.from_bytes(made.to_bytes(), made.keys)
    assert (again.might_contain(keys) == made.might_contain(keys)).all() and again.keys == 100_000


def test_band_tier_keeps_article_ids_past_32_bits():
    tier = BandTier(fold_rows=2)
    tier.add(7, [1, 2])
    tier.add(2 ** 33 + 5, [2, 3])                       # folded: the ids widen to 64 bits
    tier.add_bulk(np.array([2 ** 40]), np.array([[3, 4]]))
    assert tier.candidates([1, 2, 3, 4]) == Counter({7: 2, 2 ** 33 + 5: 2, 2 ** 40: 2})
    assert sorted(tier.sorted_rows()) == [(1, 7), (2, 7), (2, 2 ** 33 + 5), (3, 2 ** 33 + 5), (3, 2 ** 40), (4, 2 ** 40)]


def test_band_tier_ignores_an_article_added_twice():
    tier = BandTier()
    tier.add(1, [5, 6])
    tier.add(1, [5, 6])
    tier.add_bulk(np.array([1, 2]), np.array([[5, 6], [6, 7]]))
    assert tier.candidates([5, 6, 7]) == Counter({1: 2, 2: 2})
    assert tier.rows == 4


# --------------------------------------------------------------------------- the writer

TEXTS = [STORY, OTHER_TOPIC, EXACT_COPY, SAME_TOPIC, NEAR_COPY]


def records(start: int, n: int) -> list[ArticleRecord]:
    return [ArticleRecord(url=f"https://s{i % 4}.example/a/{i}", source=f"s{i % 4}", title=f"Title {i}",
                          text=TEXTS[i % len(TEXTS)] + ("" if i % 3 else f" Update {i // 5}."))
            for i in range(start, start + n)]


def outcome(writer: Writer, batches) -> list[tuple[str, int | None]]:
    return [(r.status, r.duplicate_of) for b in batches for r in writer.write_batch(b)]


@pytest.mark.parametrize("memory,fold", [(0, 200_000), (3, 200_000), (10_000, 200_000), (10_000, 50), (7, 100)],
                         ids=["merge-every-batch", "merge-often", "never-merge", "never-merge-fold-often",
                              "merge-and-fold"])
def test_same_duplicates_whatever_is_kept_in_memory(tmp_path, memory, fold):
    batches = [records(i, 4) for i in range(0, 40, 4)]
    with open_writer(tmp_path / "ref.db") as ref:
        ref.band_memory_articles = 0              # every batch's rows stored at once: the former behaviour
        expected = outcome(ref, batches)
    assert sum(s == "duplicate" for s, _ in expected) > 20
    with open_writer(tmp_path / "m.db") as w:
        w.band_memory_articles, w.band_fold_rows = memory, fold
        assert outcome(w, batches) == expected
        stored = w.count("lsh_buckets")
    assert (stored == 0) == (memory == 10_000)


@pytest.mark.parametrize("memory", [0, 6], ids=["merge-every-batch", "merge-often"])
def test_same_duplicates_with_rows_in_many_parts(tmp_path, monkeypatch, memory):
    """lsh_buckets is keyed by part first (m013): rows of old parts are found, and a changed text leaves its
    old part, as when every row was in one key order."""
    monkeypatch.setattr(bands, "PART_BITS", 2)          # 4 article ids a part: 40 articles in 11 parts
    batches = [records(i, 4) for i in range(0, 40, 4)]
    with open_writer(tmp_path / "ref.db") as ref:
        ref.band_memory_articles = 10_000                # never merged: the rows stay in one sorted tier
        expected = outcome(ref, batches)
    with open_writer(tmp_path / "m.db") as w:
        w.band_memory_articles = memory
        assert outcome(w, batches) == expected
        w.merge_bands(force=True)
        rows = w.db.execute("SELECT part, article_id FROM lsh_buckets").fetchall()
        assert all(part == aid >> 2 for part, aid in rows)
        assert len({part for part, _ in rows}) >= 10
        assert w._stored_parts() == sorted({part for part, _ in rows})   # what a lookup names
        first = 2                                        # OTHER_TOPIC, in part 0
        assert [a for a, _ in w.near_duplicates(dedup.minhash(OTHER_TOPIC))][:1] == [first]
        assert w.update_article(first, ArticleRecord(url="https://s1.example/a/1", source="s1",
                                                     text=SAME_TOPIC + " Rewritten.")).status == "updated"
        assert w.db.execute("SELECT count(*) FROM lsh_buckets WHERE article_id = ?", [first]).fetchone()[0] == 0
        w.merge_bands(force=True)
        assert w.band_rows(first) == set(dedup.band_keys(dedup.minhash(SAME_TOPIC + " Rewritten.")))
        assert w.db.execute("SELECT DISTINCT part FROM lsh_buckets WHERE article_id = ?", [first]).fetchall() == [(0,)]


def test_lookups_probe_only_the_parts_the_filter_names(tmp_path, monkeypatch):
    monkeypatch.setattr(bands, "PART_BITS", 2)
    with open_writer(tmp_path / "m.db") as w:
        w.band_memory_articles = 0
        outcome(w, [records(i, 4) for i in range(0, 24, 4)])       # 24 articles in parts 0-6
        keys = dedup.band_keys(dedup.minhash(OTHER_TOPIC))
        sql, params = w._stored_probe(keys)
        named, at = set(), 0
        for select in sql.split(" UNION ALL "):                     # params: part, then its keys, per select
            named.add(params[at])
            at += select.count("?")
        holding = {p for (p,) in w.db.execute(
            f"SELECT DISTINCT part FROM lsh_buckets WHERE key IN ({','.join('?' * len(keys))})", keys)}
        plan = " ".join(r[-1] for r in w.db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "PRIMARY KEY (part=? AND key=?)" in plan and "SCAN" not in plan, plan
        assert holding and holding <= named                           # no false negatives
        assert len(named) < len(w._stored_parts())                    # the other parts are not probed


def test_m013_keys_an_older_database_by_part(tmp_path):
    p = tmp_path / "old.db"
    db = sqlite_utils.Database(p)
    migrations.apply(db, stop_before="m012_band_memory")   # its rows in lsh_buckets at once, keyed by key
    old = Writer(db, p)
    written = old.write_batch(records(0, 6))
    before = sorted(old.db.execute("SELECT key, article_id FROM lsh_buckets").fetchall())
    old.close()
    assert len(before) > 4 * dedup.BANDS
    with open_writer(p) as w:
        rows = w.db.execute("SELECT part, key, article_id FROM lsh_buckets").fetchall()
        assert sorted((k, a) for _, k, a in rows) == before and all(part == a >> bands.PART_BITS for part, _, a in rows)
        [again] = w.write_batch([ArticleRecord(url="https://c.example/1", source="c", text=NEAR_COPY)])
        assert again.status == "duplicate" and again.duplicate_of in {r.article_id for r in written}
        automerge = w.db.execute("SELECT v FROM articles_fts_config WHERE k = 'automerge'").fetchone()
        assert automerge == (8,)


def test_rows_in_memory_survive_a_crash(tmp_path):
    path = tmp_path / "m.db"
    w = open_writer(path)
    w.band_memory_articles = 10_000
    [first] = w.write_batch([records(0, 1)[0]])
    assert w.count("lsh_buckets") == 0
    w.db.conn.close()                             # gone without a merge: as after kill -9
    with open_writer(path) as again:              # rebuilt from article_fingerprints
        [copy] = again.write_batch([ArticleRecord(url="https://other.example/x", source="other", text=NEAR_COPY)])
        assert (copy.status, copy.duplicate_of) == ("duplicate", first.article_id)
        assert again.band_rows(first.article_id) == set(dedup.band_keys(dedup.minhash(records(0, 1)[0].text)))


def test_a_rolled_back_batch_leaves_no_rows_behind(tmp_path, monkeypatch):
    with open_writer(tmp_path / "m.db") as w:
        w.write_batch(records(0, 1))
        monkeypatch.setattr(w, "_tag_articles", lambda *a: (_ for _ in ()).throw(RuntimeError("disk gone")))
        with pytest.raises(RuntimeError):
            w.write_batch([ArticleRecord(url="https://x.example/1", source="x", text=OTHER_TOPIC)])
        monkeypatch.undo()
        assert w.count() == 1
        # the rolled-back article's id is used again by an unrelated text: not its near duplicate
        [res] = w.write_batch([ArticleRecord(url="https://y.example/2", source="y", text=SAME_TOPIC)])
        [probe] = w.write_batch([ArticleRecord(url="https://z.example/3", source="z", text=OTHER_TOPIC)])
        assert res.status == "new" and probe.status == "new" and probe.duplicate_of is None


def test_two_writers_of_one_file_see_each_other(tmp_path):
    path = tmp_path / "m.db"
    a, b = open_writer(path), open_writer(path)
    try:
        for w in (a, b):
            w.band_memory_articles = 10_000
        [first] = a.write_batch([ArticleRecord(url="https://a.example/1", source="a", text=STORY)])
        [copy] = b.write_batch([ArticleRecord(url="https://b.example/1", source="b", text=NEAR_COPY)])
        assert (copy.status, copy.duplicate_of) == ("duplicate", first.article_id)
        [other] = b.write_batch([ArticleRecord(url="https://b.example/2", source="b", text=OTHER_TOPIC)])
        assert b.merge_bands(force=True) == 3 * dedup.BANDS       # a's STORY (taken in by b) and b's two
        # a's memory still holds STORY: it drops what b merged instead of counting it twice
        assert [aid for aid, _ in a.near_duplicates(dedup.minhash(OTHER_TOPIC))] == [other.article_id]
        assert a.band_rows(first.article_id) == set(dedup.band_keys(dedup.minhash(STORY)))
        assert a.band_candidates(dedup.band_keys(dedup.minhash(STORY)), 10) == [first.article_id, copy.article_id]
    finally:
        a.close()
        b.close()


def test_m012_converts_an_m011_database(tmp_path):
    p = tmp_path / "old.db"
    db = sqlite_utils.Database(p)
    migrations.apply(db, stop_before="m012_band_memory")
    old = Writer(db, p)                          # before m012: band rows written to lsh_buckets at once
    [first, second] = old.write_batch([ArticleRecord(url="https://a.example/1", source="a", text=STORY),
                                       ArticleRecord(url="https://a.example/2", source="a", text=OTHER_TOPIC)])
    assert old.count("lsh_buckets") == 2 * dedup.BANDS
    old.close()
    with open_writer(p) as w:
        assert w.db.execute("SELECT value FROM store_state WHERE name = 'lsh_merged_upto'").fetchone()[0] == 2
        [copy] = w.write_batch([ArticleRecord(url="https://b.example/1", source="b", text=NEAR_COPY)])
        assert (copy.status, copy.duplicate_of) == ("duplicate", first.article_id)
        assert w.count("lsh_buckets") == 2 * dedup.BANDS          # the new rows wait in memory
        assert w.band_rows(copy.article_id) == set(dedup.band_keys(dedup.minhash(NEAR_COPY)))
        assert w.merge_bands(force=True) == dedup.BANDS
        assert w.count("lsh_buckets") == 3 * dedup.BANDS


def test_the_saved_filters_are_overwritten_in_place(tmp_path):
    """A merge saves its part's filter over the saved one (same size): the old blob's pages are reused."""
    with open_writer(tmp_path / "m.db") as w:
        w.write_batch(records(0, 5))
        w.merge_bands(force=True)
        [(part, size)] = w.db.execute("SELECT part, length(bits) FROM lsh_part_filters").fetchall()
        assert part == 0 and size * 8 == bands.part_filter_bits()
        before = w.db.execute("PRAGMA page_count").fetchone()[0]
        for start in (5, 10, 15):
            w.write_batch(records(start, 5))
            w.merge_bands(force=True)
        assert w.db.execute("SELECT part, length(bits) FROM lsh_part_filters").fetchall() == [(0, size)]
        grown = w.db.execute("PRAGMA page_count").fetchone()[0] - before
        assert grown * 4096 < size / 2, grown
        keys, bits = w.db.execute("SELECT keys, bits FROM lsh_part_filters").fetchone()
        saved = BandFilter.from_bytes(bits, keys)
        assert keys == 20 * dedup.BANDS and saved.might_contain(
            [k for r in records(0, 20) for k in dedup.band_keys(dedup.minhash(r.text))]).all()


def test_part_filters_answer_as_one_filter_per_part():
    rng = np.random.default_rng(5)
    filters = PartFilters(1 << 16)
    added = {part: rng.integers(-2 ** 63, 2 ** 63 - 1, size=2_000, dtype=np.int64) for part in (3, 0, 9, 4, 7, 1)}
    for part, keys in added.items():           # six parts: the bits array grows past its first four rows
        filters.get(part).add(keys)
    parts = [0, 1, 3, 4, 7, 9]
    probe = np.concatenate([added[p][:50] for p in parts] + [rng.integers(-2 ** 63, 2 ** 63 - 1, 500, dtype=np.int64)])
    got = filters.might_contain(probe, parts)
    assert got.shape == (len(parts), len(probe))
    for row, part in zip(got, parts):
        alone = BandFilter(bits=np.zeros(1 << 13, dtype=np.uint8))
        alone.add(added[part])
        assert (row == alone.might_contain(probe)).all()          # as a filter of that part alone
        own = np.isin(probe, added[part])
        assert row[own].all() and row[~own].mean() < 0.01          # no false negatives, few false positives
    again = PartFilters(1 << 16)
    assert again.load(9, filters.get(9).to_bytes(), 2_000) and not again.load(1, b"\0" * 16, 0)
    assert (again.might_contain(probe, [9]) == got[parts.index(9)]).all() and 1 not in again
    assert filters.clear(9).keys == 0 and not filters.might_contain(added[9], [9]).any()


def test_a_merge_saves_the_filters_of_the_parts_it_added_rows_to(tmp_path, monkeypatch):
    monkeypatch.setattr(bands, "PART_BITS", 2)          # 4 article ids a part
    saved = []
    with open_writer(tmp_path / "m.db") as w:
        w.band_memory_articles = 10_000
        outcome(w, [records(0, 8)])                       # articles 1-8: parts 0, 1, 2
        w.merge_bands(force=True)
        monkeypatch.setattr(type(w), "_save_part_filter", lambda self, part: (saved.append(part),
                            bands.BandIndex._save_part_filter(self, part)))
        outcome(w, [records(8, 4)])                       # articles 9-12: parts 2 and 3
        w.merge_bands(force=True)
        assert sorted(saved) == [2, 3]
        first = 2                                         # in part 0: its text changes, its new rows go there
        w.update_article(first, ArticleRecord(url="https://s1.example/a/1", source="s1", text=SAME_TOPIC + " New."))
        saved.clear()
        w.merge_bands(force=True)
        assert saved == [0]
        stored = dict(w.db.execute("SELECT part, keys FROM lsh_part_filters"))
        # part 0: articles 1-3 and the changed text's new rows (a Bloom filter keeps the old ones' bits)
        assert sorted(stored) == [0, 1, 2, 3] and stored[0] == 4 * dedup.BANDS


def test_m015_makes_one_filter_per_part_from_the_stored_rows(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(bands, "PART_BITS", 2)
    p = tmp_path / "old.db"
    with open_writer(p) as w:
        w.band_memory_articles = 0
        written = w.write_batch(records(0, 10))              # merged at once: rows in parts 0-2
    db = sqlite_utils.Database(p)                            # as m012-m014 left it: one filter of every row
    db.executescript("""
        DROP TABLE lsh_part_filters;
        CREATE TABLE lsh_filter (id INTEGER PRIMARY KEY CHECK (id = 1), keys INTEGER NOT NULL, bits BLOB NOT NULL);
        INSERT INTO lsh_filter VALUES (1, 420, zeroblob(131072));
        DELETE FROM _sqlite_migrations WHERE name = 'm015_band_part_filters';
    """)
    db.conn.close()
    with open_writer(p) as w:
        assert "lsh_filter" not in w.db.table_names() and w.count("lsh_part_filters") == 0
        with caplog.at_level(logging.INFO, logger="monitor.store.bands"):
            [copy] = w.write_batch([ArticleRecord(url="https://c.example/1", source="c", text=NEAR_COPY)])
        # the one-time pause is said (24-33 s on a 1M file), with the number of parts it makes
        assert "filters of 3 part(s)" in caplog.text and "filters made in" in caplog.text
        assert copy.status == "duplicate" and copy.duplicate_of in {r.article_id for r in written}
        stored = dict(w.db.execute("SELECT part, keys FROM lsh_part_filters"))
        assert stored == dict(w.db.execute("SELECT part, count(*) FROM lsh_buckets GROUP BY part"))
        assert sorted(stored) == [0, 1, 2]
