"""Two-phase search ranking (monitor.query.ranking) returns exactly what the one-statement reference does:
same ids in the same order, same ranks, dates and copies, over many queries, filters, sorts and limits, on a
fixture database with exact duplicates, hand-made duplicate groups (one whose root does not match, a chain),
equal bm25 ranks, missing and unparsable dates, several sources and languages."""

from __future__ import annotations

import random
import time

import pytest

from monitor.query import ranking
from monitor.query.reads import Filters, search
from monitor.store.db import QueryTimeout, ReaderConnection, open_reader, open_writer
from monitor.store.records import ArticleRecord

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "omicron",
         "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "river", "bridge", "market"]
SOURCES = ["wire", "daily", "weekly", "radio"]
LANGS = ["en", "de", "en-GB", None]


def _text(rng: random.Random) -> str:
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    return " ".join(rng.choices(WORDS, weights, k=rng.randint(8, 40)))


def _published(rng: random.Random, i: int):
    roll = rng.random()
    if roll < 0.1:
        return None                                   # falls back to fetched_at
    if roll < 0.15:
        return "sometime last week"                   # unparsable: falls back to fetched_at too
    if roll < 0.25:
        return "2025-03-01T12:00:00+00:00"            # many articles share one date: ties on date
    return f"2025-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}T{i % 24:02d}:{(i * 13) % 60:02d}:00+02:00"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ranking") / "ranking.db"
    rng = random.Random(16)
    writer = open_writer(path)
    recs, texts = [], []
    for i in range(360):
        published = _published(rng, i)
        if texts and rng.random() < 0.2:
            text, first_published = rng.choice(texts)  # an exact copy (folded by content hash), often same date
            published = first_published if rng.random() < 0.5 else published
        else:
            text = _text(rng)
            texts.append((text, published))
        recs.append(ArticleRecord(
            url=f"https://{SOURCES[i % 4]}.example/{i}", source=SOURCES[i % 4], text=text,
            title=" ".join(rng.choices(WORDS[:6], k=2)) if rng.random() < 0.7 else None,
            published=published, language=LANGS[i % len(LANGS)],
            fetched_at=f"2025-06-{1 + i % 28:02d}T08:00:00+00:00"))
    results = writer.write_batch(recs)
    assert sum(r.status == "duplicate" for r in results) > 30
    new = [r.article_id for r in results if r.status == "new"]
    # hand-made groups: texts unlike their root's (the root may not match where its members do), and a chain
    with writer.transaction():
        for root, members in ((new[0], new[40:46]), (new[1], new[50:53]), (new[46], new[60:62])):
            for m in members:
                writer.db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ?", [root, m])
    writer.close()
    return path


def _reference(path, query, *, sort, include_duplicates, limit, **filters):
    with open_reader(path) as conn:
        conds, params = Filters(query=query, **filters).where(conn, with_query=False)
        return [tuple(r) for r in conn.execute(
            ranking.reference_sql(conds, sort=sort, include_duplicates=include_duplicates, limit=limit),
            [query, *params])]


QUERIES = ["alpha", "omega", "psi OR chi", '"alpha beta"', "river NOT alpha", "gam*", "title:gamma",
           "NEAR(beta delta, 3)"]
FILTERS = [{}, {"sources": ["wire"]}, {"since": "2025-05-01", "until": "2025-10-31"},
           {"sources": ["daily", "radio"], "languages": ["de"]}, {"until": "2025-02-15"}]


@pytest.mark.parametrize("first_k,threads", [(None, 1), (1, 1), (None, 3), (1, 2)])
def test_two_phase_search_equals_the_reference(db, monkeypatch, first_k, threads):
    if first_k:                                        # K starts at the limit and must widen, often
        monkeypatch.setattr(ranking, "FIRST_K", first_k)
        monkeypatch.setattr(ranking, "K_PER_LIMIT", 1)
    monkeypatch.setenv("MONITOR_SEARCH_THREADS", str(threads))
    monkeypatch.setattr(ranking, "PARALLEL_MIN_HITS", 0)  # the fixture's few hits are ranked in `threads` ranges
    opened = []
    sibling = ReaderConnection.sibling
    monkeypatch.setattr(ReaderConnection, "sibling", lambda self: opened.append(1) or sibling(self))
    compared = with_copies = 0
    for query in QUERIES:
        for filters in FILTERS:
            for sort in ("rank", "date"):
                for include_duplicates in (False, True):
                    for limit in (3, 50):
                        want = _reference(db, query, sort=sort, include_duplicates=include_duplicates,
                                          limit=limit, **filters)
                        got = search(db, query, sort=sort, include_duplicates=include_duplicates, limit=limit,
                                     **filters)
                        assert [(r["id"], r["copies"], r["date"], r["rank"]) for r in got] == \
                            [(i, c, d, round(rk, 4)) for i, rk, d, c in want], (query, filters, sort, limit)
                        compared += len(want)
                        with_copies += sum(1 for r in want if r[3])
    assert compared > 2000 and with_copies > 100      # the fixture exercises folding, not only single hits
    assert len(opened) >= (threads - 1) * 100 if threads > 1 else not opened


def test_bm25_of_an_id_range_is_the_whole_index_rank(db):
    # what ranking several id ranges at once rests on: bm25's statistics do not depend on the rowid constraint
    ranked = 0
    with open_reader(db) as conn:
        for query in QUERIES:
            whole = dict(conn.execute(f"SELECT rowid, {ranking.RANK_SQL} FROM articles_fts WHERE articles_fts "
                                      "MATCH ?", [query]).fetchall())
            parts = {}
            for lo, hi in ((1, 90), (91, 200), (201, 400)):
                parts.update(conn.execute(f"SELECT rowid, {ranking.RANK_SQL} FROM articles_fts WHERE articles_fts "
                                          "MATCH ? AND rowid BETWEEN ? AND ?", [query, lo, hi]).fetchall())
            assert parts == whole, query
            ranked += len(whole)
    assert ranked > 500


def test_only_queries_with_many_hits_are_ranked_in_threads(db, monkeypatch):
    monkeypatch.setattr(ranking, "PARALLEL_MIN_HITS", 120)
    monkeypatch.setattr(ranking, "SAMPLE_IDS", 150)
    with open_reader(db) as conn:
        def ranges(query):
            plan = ranking._Plan(conn, query, [], [], "rank", threads=2)
            try:
                return len(plan.id_ranges())
            finally:
                plan.close()

        count = lambda q: conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",  # noqa: E731
                                       [q]).fetchone()[0]
        assert count("alpha") >= 240 and ranges("alpha") == 2
        assert count("title:gamma") <= 70 and ranges("title:gamma") == 0
        monkeypatch.setattr(ranking, "PARALLEL_MIN_HITS", 10_000)   # more than the file's ids: no count at all
        assert ranges("alpha") == 0


def test_a_search_ranked_in_threads_stops_at_its_time_budget(db, monkeypatch):
    from monitor.store import db as store_db

    monkeypatch.setenv("MONITOR_SEARCH_THREADS", "2")
    monkeypatch.setattr(ranking, "PARALLEL_MIN_HITS", 0)
    monkeypatch.setattr(store_db, "PROGRESS_STEPS", 1)
    best = ranking._Plan.best_by_rank
    opened = []

    def late(plan, k):                                 # the budget runs out as the ranges are ranked
        assert len(plan.id_ranges()) == 2
        plan.conn.deadline = time.monotonic() - 1
        sibling = plan.conn.sibling
        plan.conn.sibling = lambda: opened.append(1) or sibling()
        return best(plan, k)

    monkeypatch.setattr(ranking._Plan, "best_by_rank", late)
    with pytest.raises(QueryTimeout, match="MONITOR_QUERY_TIMEOUT"):
        search(db, "alpha", limit=5)
    assert opened
