"""The writer + dedup: duplicate_of roots, fingerprints and LSH buckets, stories of language editions, versions."""

from __future__ import annotations

import pytest

from monitor.dedup import fingerprints as dedup
from monitor.store.articles import Writer
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.store.schema import migrations
from tests.support.dedup_samples import EXACT_COPY, NEAR_COPY, OTHER_TOPIC, SAME_TOPIC, STORY


def rec(url, text=STORY, **kw):
    return ArticleRecord(url=url, source=kw.pop("source", "wire"), text=text, title=kw.pop("title", "Talks"), **kw)


def store(db, *records):
    return db.write_batch(list(records))


def dup_of(db, article_id):
    return db.db.execute("SELECT duplicate_of FROM articles WHERE id = ?", [article_id]).fetchone()[0]


def test_m002_tables(fresh_db):
    names = set(fresh_db.db.table_names())
    assert {"article_fingerprints", "lsh_buckets", "article_versions", "story_links", "fetch_state"} <= names
    applied = [m.name for m in migrations.applied(fresh_db.db)]
    assert "m002_dedup" in applied
    plan = fresh_db.db.execute("EXPLAIN QUERY PLAN SELECT article_id FROM lsh_buckets "
                               "WHERE part IN (0, 1) AND key IN (1, 2, 3)").fetchall()
    assert any("USING PRIMARY KEY" in row[-1] or "USING INDEX" in row[-1] for row in plan), plan


def test_new_article_gets_fingerprint_and_buckets(fresh_db):
    [res] = store(fresh_db, rec("https://a.example/story"))
    assert res.status == "new"
    blob = fresh_db.db.execute("SELECT signature FROM article_fingerprints WHERE article_id = ?",
                               [res.article_id]).fetchone()[0]
    assert dedup.signature_from_bytes(blob) == dedup.minhash(STORY)
    keys = set(dedup.band_keys(dedup.minhash(STORY)))
    assert fresh_db.band_rows(res.article_id) == keys          # in memory until MONITOR_LSH_MEMORY articles wait
    assert fresh_db.count("lsh_buckets") == 0
    assert fresh_db.merge_bands(force=True) == len(keys)
    stored = {k for (k,) in fresh_db.db.execute("SELECT key FROM lsh_buckets WHERE article_id = ?", [res.article_id])}
    assert stored == keys == fresh_db.band_rows(res.article_id)
    assert fresh_db.db.execute("SELECT value FROM store_state WHERE name = 'lsh_merged_upto'").fetchone()[0] == res.article_id
    assert fresh_db.db.execute("SELECT content_hash FROM articles").fetchone()[0] == dedup.content_hash(STORY)


def test_precomputed_minhash_is_used(fresh_db, monkeypatch):
    blob = dedup.fingerprint(STORY)
    calls = []
    monkeypatch.setattr(dedup, "minhash", lambda *a: calls.append(a) or pytest.fail("recomputed"))
    [res] = store(fresh_db, rec("https://a.example/story", extra={"minhash": blob}))
    assert calls == []
    assert fresh_db.db.execute("SELECT signature FROM article_fingerprints").fetchone()[0] == blob


def test_worker_band_keys_and_hash_are_used(fresh_db, monkeypatch):
    from monitor.crawl.extractpool import add_writer_keys

    worker = rec("https://a.example/story", extra={})
    add_writer_keys(worker)                                   # what an extraction worker sends
    assert worker.content_hash == dedup.content_hash(STORY) and "bands" in worker.extra
    monkeypatch.setattr(dedup, "content_hash", lambda *a: pytest.fail("hash recomputed"))
    monkeypatch.setattr(dedup, "band_keys", lambda *a: pytest.fail("band keys recomputed"))
    [res] = store(fresh_db, worker)
    monkeypatch.undo()
    assert fresh_db.band_rows(res.article_id) == set(dedup.band_keys(dedup.minhash(STORY)))
    assert fresh_db.db.execute("SELECT content_hash FROM articles").fetchone()[0] == dedup.content_hash(STORY)


@pytest.mark.parametrize("bands", [b"", b"\x00" * (1 + 8 * dedup.BANDS), None], ids=["short", "other-version", "none"])
def test_worker_band_keys_of_another_kind_are_recomputed(fresh_db, bands):
    extra = {"minhash": dedup.fingerprint(STORY), "bands": bands}
    [res] = store(fresh_db, rec("https://a.example/story", content_hash="not the hash", extra=extra))
    assert fresh_db.band_rows(res.article_id) == set(dedup.band_keys(dedup.minhash(STORY)))
    assert fresh_db.db.execute("SELECT content_hash FROM articles").fetchone()[0] == dedup.content_hash(STORY)


def test_band_keys_sent_with_a_refused_signature_are_not_used(fresh_db):
    other = dedup.band_keys_to_bytes(dedup.band_keys(dedup.minhash(OTHER_TOPIC)))
    [res] = store(fresh_db, rec("https://a.example/story", extra={"minhash": b"not a signature", "bands": other}))
    assert fresh_db.band_rows(res.article_id) == set(dedup.band_keys(dedup.minhash(STORY)))


def test_bad_precomputed_minhash_is_recomputed(fresh_db):
    [res] = store(fresh_db, rec("https://a.example/story", extra={"minhash": b"not a signature"}))
    blob = fresh_db.db.execute("SELECT signature FROM article_fingerprints").fetchone()[0]
    assert dedup.signature_from_bytes(blob) == dedup.minhash(STORY)


def test_exact_copy_on_other_source_points_at_root(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story"))
    [b] = store(fresh_db, rec("https://b.example/copy", EXACT_COPY, source="reprint"))
    assert (b.status, b.duplicate_of) == ("duplicate", a.article_id)
    assert dup_of(fresh_db, b.article_id) == a.article_id
    assert fresh_db.count() == 2                                   # still stored: reach counts


def test_near_copy_points_at_root(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story"))
    [b] = store(fresh_db, rec("https://b.example/copy", NEAR_COPY, title="Another headline", source="reprint",
                              author="Someone Else"))
    assert (b.status, b.duplicate_of) == ("duplicate", a.article_id)


def test_third_copy_points_at_root_not_chain(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story"))
    [b] = store(fresh_db, rec("https://b.example/copy", NEAR_COPY, source="b"))
    # c is closest to b (b's text plus more), but its group root is a
    [c] = store(fresh_db, rec("https://c.example/copy", NEAR_COPY + "\nRead more stories from Central Asia.",
                              source="c"))
    [d] = store(fresh_db, rec("https://d.example/copy", EXACT_COPY, source="d"))
    assert b.duplicate_of == c.duplicate_of == d.duplicate_of == a.article_id
    assert {dup_of(fresh_db, x.article_id) for x in (b, c, d)} == {a.article_id}


def test_root_even_if_a_stored_row_points_at_a_duplicate(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story"))
    [b] = store(fresh_db, rec("https://b.example/other", OTHER_TOPIC))
    # a chain made by hand (e.g. an older database): b -> a; a copy of b must still get a
    fresh_db.db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ?", [a.article_id, b.article_id])
    [c] = store(fresh_db, rec("https://c.example/other", OTHER_TOPIC + " Updated."))
    assert c.duplicate_of == a.article_id


def test_different_articles_are_not_duplicates(fresh_db):
    results = store(fresh_db, rec("https://a.example/1"), rec("https://a.example/2", SAME_TOPIC),
                    rec("https://a.example/3", OTHER_TOPIC))
    assert [r.status for r in results] == ["new", "new", "new"]
    assert fresh_db.db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0] == 0


def test_duplicates_in_one_batch(fresh_db):
    results = store(fresh_db, rec("https://a.example/1"), rec("https://b.example/1", NEAR_COPY),
                    rec("https://c.example/1", EXACT_COPY))
    assert [r.status for r in results] == ["new", "duplicate", "duplicate"]
    assert results[1].duplicate_of == results[2].duplicate_of == results[0].article_id


def _reworded(text, every=12):
    words = text.split()
    return " ".join("changed" if i % every == 5 else w for i, w in enumerate(words))


def test_threshold_is_per_instance(fresh_db, tmp_path):
    edited = _reworded(STORY)                                 # Jaccard about 0.6-0.8, nothing contained
    j = dedup.jaccard_estimate(dedup.minhash(STORY), dedup.minhash(edited))
    assert 0.5 < j < 0.95
    fresh_db.near_dup_threshold = min(j, dedup.NEAR_DUP_THRESHOLD)
    store(fresh_db, rec("https://a.example/1"))
    assert store(fresh_db, rec("https://b.example/1", edited))[0].status == "duplicate"
    strict = open_writer(tmp_path / "strict.db")
    try:
        strict.near_dup_threshold = 0.99
        store(strict, rec("https://a.example/1"))
        assert store(strict, rec("https://b.example/1", edited))[0].status == "new"
    finally:
        strict.close()
    assert Writer.near_dup_threshold == dedup.NEAR_DUP_THRESHOLD


def test_near_duplicate_lookup_uses_the_index(fresh_db):
    store(fresh_db, rec("https://a.example/1"), rec("https://a.example/2", SAME_TOPIC))
    sig = dedup.minhash(NEAR_COPY)
    found = fresh_db.near_duplicates(sig)
    assert [aid for aid, _ in found] == [1]
    keys = dedup.band_keys(sig)
    plan = fresh_db.db.execute(
        f"EXPLAIN QUERY PLAN SELECT article_id FROM lsh_buckets WHERE part IN (0, 1, 2) "
        f"AND key IN ({','.join('?' * len(keys))}) GROUP BY article_id", keys).fetchall()
    assert not any(row[-1].startswith("SCAN lsh_buckets") for row in plan), plan


# --------------------------------------------------------------------------- stories (language editions)

PL_TEXT = ("Kazachstan i Stany Zjednoczone przeprowadziły w Astanie doroczny dialog na temat praw człowieka. "
           "Delegacje rozmawiały o wolności słowa, niezależności sądów i prawach pracowników. ") * 4
DE_TEXT = ("Kasachstan und die Vereinigten Staaten führten in Astana ihren jährlichen Menschenrechtsdialog. "
           "Die Delegationen sprachen über Meinungsfreiheit, unabhängige Gerichte und Arbeitnehmerrechte. ") * 4

ALTS = [("en", "https://www.eureporter.co/world/kazakhstan/2024/05/03/dialogue/"),
        ("pl", "https://www.eureporter.co/pl/world/kazakhstan/2024/05/03/dialogue/"),
        ("de", "https://www.eureporter.co/de/world/kazakhstan/2024/05/03/dialogue/?utm_source=x"),
        ("x-default", "https://www.eureporter.co/world/kazakhstan/2024/05/03/dialogue/")]


def story_rows(db):
    return {r[0]: (r[1], r[2], r[3]) for r in
            db.db.execute("SELECT article_id, story_id, language, via FROM story_links ORDER BY article_id")}


def test_language_editions_linked_via_hreflang(fresh_db):
    [en] = store(fresh_db, rec(ALTS[0][1], language="en", source="eureporter", extra={"hreflang": ALTS}))
    assert story_rows(fresh_db) == {}                                  # alone: no story row yet
    [pl] = store(fresh_db, rec(ALTS[1][1], PL_TEXT, language="pl", source="eureporter", extra={"hreflang": ALTS}))
    [de] = store(fresh_db, rec("https://www.eureporter.co/de/world/kazakhstan/2024/05/03/dialogue/", DE_TEXT,
                               language="de", source="eureporter", extra={"hreflang": ALTS}))
    assert [r.status for r in (en, pl, de)] == ["new", "new", "new"]   # editions are not duplicates
    assert story_rows(fresh_db) == {en.article_id: (en.article_id, "en", "first"),
                                    pl.article_id: (en.article_id, "pl", "hreflang"),
                                    de.article_id: (en.article_id, "de", "hreflang")}
    # one story with all its editions
    editions = fresh_db.db.execute(
        "SELECT a.language FROM story_links s JOIN articles a ON a.id = s.article_id WHERE s.story_id = "
        "(SELECT story_id FROM story_links WHERE article_id = ?) ORDER BY a.id", [pl.article_id]).fetchall()
    assert [e[0] for e in editions] == ["en", "pl", "de"]


def test_hreflang_matches_stored_variants_and_www_twin(fresh_db):
    [pl] = store(fresh_db, rec("https://eureporter.co/pl/story", PL_TEXT, language="pl",
                               variants=["https://eureporter.co/pl/story?fbclid=1"]))
    [en] = store(fresh_db, rec("https://eureporter.co/story", language="en",
                               extra={"hreflang": [("pl", "https://www.eureporter.co/pl/story/amp")]}))
    # the www twin of the canonical AMP-stripped URL is the stored URL
    assert story_rows(fresh_db)[en.article_id] == (pl.article_id, "en", "hreflang")


def test_language_editions_linked_via_og_image(fresh_db):
    common = dict(source="eureporter", published="2024-05-03T10:15:00+00:00",
                  extra={"og_image": "https://www.eureporter.co/img/talks.jpg"})
    [en] = store(fresh_db, rec("https://www.eureporter.co/a", language="en", image="https://www.eureporter.co/img/talks.jpg",
                               **{**common, "extra": {}}))
    [pl] = store(fresh_db, rec("https://www.eureporter.co/pl/a", PL_TEXT, language="pl", **common))
    assert story_rows(fresh_db)[pl.article_id] == (en.article_id, "pl", "og_image")
    # same image and time but another source, or a date without time, or the same language: no link
    [x] = store(fresh_db, rec("https://other.example/de", DE_TEXT, language="de", **{**common, "source": "other"}))
    [y] = store(fresh_db, rec("https://www.eureporter.co/de/b", DE_TEXT + " x", language="de",
                              **{**common, "published": "2024-05-03"}))
    [z] = store(fresh_db, rec("https://www.eureporter.co/en/c", SAME_TOPIC, language="en", **common))
    rows = story_rows(fresh_db)
    assert x.article_id not in rows and y.article_id not in rows and z.article_id not in rows


def test_stories_merge_when_an_edition_links_both(fresh_db):
    [en] = store(fresh_db, rec("https://s.example/en", language="en"))
    [pl] = store(fresh_db, rec("https://s.example/pl", PL_TEXT, language="pl",
                               extra={"hreflang": [("en", "https://s.example/en")]}))
    [de] = store(fresh_db, rec("https://s.example/de", DE_TEXT, language="de"))
    [fr] = store(fresh_db, rec("https://s.example/fr", DE_TEXT + " Et en français.", language="fr",
                               extra={"hreflang": [("de", "https://s.example/de")]}))
    assert story_rows(fresh_db)[fr.article_id][0] == de.article_id
    [it] = store(fresh_db, rec("https://s.example/it", OTHER_TOPIC, language="it",
                               extra={"hreflang": [("fr", "https://s.example/fr"), ("pl", "https://s.example/pl")]}))
    assert {v[0] for v in story_rows(fresh_db).values()} == {en.article_id}


# --------------------------------------------------------------------------- versions (--refresh)

def test_update_article_keeps_previous_version(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story", title="Talks", fetched_at="2024-05-03T10:00:00+00:00"))
    changed = STORY.replace("next spring", "in March")
    res = fresh_db.update_article(a.article_id, rec("https://a.example/story", changed, title="Talks (updated)",
                                                    fetched_at="2024-05-04T08:00:00+00:00",
                                                    variants=["https://a.example/story?ref=x"]))
    assert res.status == "updated" and res.article_id == a.article_id
    row = fresh_db.db.execute("SELECT title, text, content_hash, fetched_at, modified_at FROM articles").fetchone()
    assert row == ("Talks (updated)", changed, dedup.content_hash(changed), "2024-05-04T08:00:00+00:00",
                   "2024-05-04T08:00:00+00:00")
    versions = fresh_db.db.execute(
        "SELECT article_id, title, text, content_hash, fetched_at, replaced_at FROM article_versions").fetchall()
    assert versions == [(a.article_id, "Talks", STORY, dedup.content_hash(STORY), "2024-05-03T10:00:00+00:00",
                         "2024-05-04T08:00:00+00:00")]
    # the fingerprint follows the new text; old bucket rows are gone
    blob = fresh_db.db.execute("SELECT signature FROM article_fingerprints").fetchone()[0]
    assert dedup.signature_from_bytes(blob) == dedup.minhash(changed)
    assert fresh_db.band_rows(a.article_id) == set(dedup.band_keys(dedup.minhash(changed)))
    fresh_db.merge_bands(force=True)
    keys = {k for (k,) in fresh_db.db.execute("SELECT key FROM lsh_buckets")}
    assert keys == set(dedup.band_keys(dedup.minhash(changed)))
    # FTS follows the text
    assert fresh_db.db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'march'").fetchall() == [(1,)]
    assert fresh_db.known_urls(["https://a.example/story?ref=x"]) == {"https://a.example/story?ref=x"}


def test_update_article_unchanged_moves_fetched_at_only(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story", fetched_at="2024-05-03T10:00:00+00:00"))
    res = fresh_db.update_article(a.article_id, rec("https://a.example/story", EXACT_COPY,
                                                    fetched_at="2024-05-05T00:00:00+00:00"))
    assert res.status == "known"
    assert fresh_db.count("article_versions") == 0
    assert fresh_db.db.execute("SELECT fetched_at, modified_at, text FROM articles").fetchone() == (
        "2024-05-05T00:00:00+00:00", "2024-05-03T10:00:00+00:00", STORY)


def test_update_article_twice_keeps_every_version(fresh_db):
    [a] = store(fresh_db, rec("https://a.example/story", fetched_at="t1"))
    fresh_db.update_article(a.article_id, rec("https://a.example/story", STORY + " Second.", fetched_at="t2"))
    fresh_db.update_article(a.article_id, rec("https://a.example/story", STORY + " Third.", fetched_at="t3"))
    rows = fresh_db.db.execute("SELECT fetched_at, replaced_at, text FROM article_versions ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("t1", "t2"), ("t2", "t3")]
    assert rows[1][2] == STORY + " Second."


@pytest.mark.parametrize("merged", [False, True], ids=["bands-in-memory", "bands-stored"])
def test_update_article_uses_precomputed_signature(fresh_db, merged):
    [a] = store(fresh_db, rec("https://a.example/story"))
    if merged:                        # the old rows are in lsh_buckets: the update deletes them there
        fresh_db.merge_bands(force=True)
    res = fresh_db.update_article(a.article_id, rec("https://a.example/story", OTHER_TOPIC,
                                                    extra={"minhash": dedup.fingerprint(OTHER_TOPIC)}))
    assert res.status == "updated"
    blob = fresh_db.db.execute("SELECT signature FROM article_fingerprints").fetchone()[0]
    assert dedup.signature_from_bytes(blob) == dedup.minhash(OTHER_TOPIC)
    # the old text's bands no longer find the article; the new text's do
    assert fresh_db.near_duplicates(dedup.minhash(STORY)) == []
    assert [aid for aid, _ in fresh_db.near_duplicates(dedup.minhash(OTHER_TOPIC))] == [a.article_id]
    assert fresh_db.band_rows(a.article_id) == set(dedup.band_keys(dedup.minhash(OTHER_TOPIC)))
    if merged:                        # the old rows left lsh_buckets; the new ones wait in memory, listed
        assert fresh_db.count("lsh_buckets") == 0
        assert fresh_db.db.execute("SELECT article_id FROM lsh_unmerged").fetchall() == [(a.article_id,)]
        fresh_db.merge_bands(force=True)
        assert {k for (k,) in fresh_db.db.execute("SELECT key FROM lsh_buckets")} == set(
            dedup.band_keys(dedup.minhash(OTHER_TOPIC)))
        assert fresh_db.count("lsh_unmerged") == 0


def test_update_unknown_article(fresh_db):
    with pytest.raises(KeyError):
        fresh_db.update_article(42, rec("https://a.example/x"))


# --------------------------------------------------------------------------- conditional GET state

def test_fetch_state_roundtrip(fresh_db):
    assert fresh_db.fetch_state("https://a.example/feed") is None
    fresh_db.save_fetch_state("https://a.example/feed", '"abc"', "Fri, 03 May 2024 10:00:00 GMT", "t1")
    fresh_db.save_fetch_state("https://a.example/feed", '"def"', None, "t2")
    assert fresh_db.fetch_state("https://a.example/feed") == {"etag": '"def"', "last_modified": None, "fetched_at": "t2"}
