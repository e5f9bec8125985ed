"""m008_search_keys and m009_published_key convert a database written before them (m001-m007): the covering
index for search, the short content-hash and publication-time keys and the partial duplicate_of index replace
the old indexes, and search, dedup and edition links give the same answers before and after."""

from __future__ import annotations

import sqlite_utils

from monitor.query.reads import search
from monitor.store.articles import Writer
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.store.schema import migrations
from tests.support.dedup_samples import EXACT_COPY, NEAR_COPY, OTHER_TOPIC, SAME_TOPIC, STORY


def _indexes(path) -> dict[str, str]:
    db = sqlite_utils.Database(path)
    try:
        return {r[0]: r[1] for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                               "AND tbl_name = 'articles' AND sql IS NOT NULL")}
    finally:
        db.close()


def _searches(path):
    out = {}
    for q in ("talks", "minister OR ministers", "weather"):
        for sort in ("rank", "date"):
            out[q, sort] = [(r["id"], r["copies"], r["date"]) for r in search(path, q, sort=sort, limit=10)]
    return out


def test_m008_converts_an_m007_database(tmp_path):
    p = tmp_path / "old.db"
    db = sqlite_utils.Database(p)
    migrations.apply(db, stop_before="m008_search_keys")        # what media-monitor up to m007 created
    assert [m.name for m in migrations.applied(db)][-1] == "m007_article_url_kinds"
    old = Writer(db, p)                                          # writes as before: no m008 index exists
    texts = [STORY, EXACT_COPY, OTHER_TOPIC, SAME_TOPIC, NEAR_COPY]
    results = old.write_batch([
        ArticleRecord(url=f"https://s{i % 3}.example/{i}", source=f"s{i % 3}", text=t, title=f"Title {i}",
                      published=f"2026-0{1 + i % 9}-1{i % 10}T10:00:00Z", language="en")
        for i, t in enumerate(texts * 4)])
    assert {r.status for r in results} == {"new", "duplicate"}
    old.close()
    assert "idx_articles_content_hash" in _indexes(p) and "idx_articles_fold" not in _indexes(p)
    before = _searches(p)                                        # search reads an m007 file (no covering index)
    assert any(copies for rows in before.values() for _, copies, _ in rows)

    with open_writer(p) as w:                                    # converts
        assert "m008_search_keys" in [m.name for m in migrations.applied(w.db)]
        idx = _indexes(p)
        assert "idx_articles_content_hash" not in idx
        assert "substr(content_hash, 1, 12)" in idx["idx_articles_content_key"]
        assert "WHERE duplicate_of IS NOT NULL" in idx["idx_articles_duplicate_of"]
        assert "(id, duplicate_of, published, fetched_at)" in idx["idx_articles_fold"]
        assert "idx_articles_published" not in idx and "substr(published, 1, 16)" in idx["idx_articles_published_key"]
        roots = {r.article_id for r in results if r.status == "new"}
        # dedup after the conversion: an exact and a near copy still find the stored roots
        exact, near = w.write_batch([ArticleRecord(url="https://late.example/1", source="late", text=STORY),
                                     ArticleRecord(url="https://late.example/2", source="late", text=NEAR_COPY)])
        assert exact.status == near.status == "duplicate"
        # an edition of a stored article (same source, og:image and minute, another language) joins its story
        first = w.db.execute("SELECT id, source, published, image FROM articles WHERE id = ?",
                             [results[0].article_id]).fetchone()
        w.db.execute("UPDATE articles SET image = 'https://s0.example/i.jpg' WHERE id = ?", [first[0]])
        [pl] = w.write_batch([ArticleRecord(url="https://s0.example/pl/0", source=first[1], text=OTHER_TOPIC + " pl",
                                            published=first[2], language="pl", image="https://s0.example/i.jpg")])
        assert w.db.execute("SELECT story_id, via FROM story_links WHERE article_id = ?",
                            [pl.article_id]).fetchone() == (first[0], "og_image")
        assert exact.duplicate_of == results[0].article_id and near.duplicate_of in roots
        plan = w.db.execute("EXPLAIN QUERY PLAN SELECT id FROM articles WHERE substr(content_hash, 1, 12) = ?",
                            ["0" * 12]).fetchall()
        assert "idx_articles_content_key" in plan[0][-1]
    after = _searches(p)
    for key, rows in before.items():       # the two late copies fold into groups: same ids and order, more copies
        assert [r[0] for r in after[key]] == [r[0] for r in rows], key
        assert [r[2] for r in after[key]] == [r[2] for r in rows], key
