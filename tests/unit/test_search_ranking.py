"""Two-phase search ranking (monitor.query.ranking) returns exactly what the one-statement reference does:
same ids in the same order, same ranks, dates and copies, over many queries, filters, sorts and limits, on a
fixture database with exact duplicates, hand-made duplicate groups (one whose root does not match, a chain),
equal bm25 ranks, missing and unparsable dates, several sources and languages."""

from __future__ import annotations

import random

import pytest

from monitor.query import ranking
from monitor.query.reads import Filters, search
from monitor.store.db import open_reader, open_writer
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


@pytest.mark.parametrize("first_k", [None, 1])
def test_two_phase_search_equals_the_reference(db, monkeypatch, first_k):
    if first_k:                                        # K starts at the limit and must widen, often
        monkeypatch.setattr(ranking, "FIRST_K", first_k)
        monkeypatch.setattr(ranking, "K_PER_LIMIT", 1)
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


def test_no_limit_is_the_reference(db):
    for sort in ("rank", "date"):
        want = _reference(db, "alpha", sort=sort, include_duplicates=False, limit=None)
        got = search(db, "alpha", sort=sort, limit=None)
        assert [r["id"] for r in got] == [r[0] for r in want] and len(want) > 50


def test_the_fixture_has_rank_and_date_ties(db):
    # exact copies share one bm25 rank, and many articles one date: the tie-breaks are exercised above
    rows = _reference(db, "alpha", sort="rank", include_duplicates=True, limit=None)
    assert sum(1 for a, b in zip(rows, rows[1:]) if a[1] == b[1]) > 10
    assert sum(1 for a, b in zip(rows, rows[1:]) if a[1] == b[1] and a[2] == b[2]) > 3
