"""Coverage charts: the series (duplicates folded) against a count made by hand from the stored records, the
Datasette canned query against the series, `monitor stats --chart` (SVG with axis labels, errors, no pygal)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.errors import UsageError
from monitor.query.coverage import coverage
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.topics import Topic

TOPICS = [Topic("alpha", "Alpha things", "alpha*"), Topic("beta", "Beta things", "beta*")]
SOURCES = ["north", "south", "east"]
START = date(2026, 3, 2)                     # a Monday
DAYS = 21


def _text(rng: random.Random, n: int, words: list[str]) -> str:
    vocab = [f"v{i}" for i in range(3000)]
    body = [rng.choice(vocab) for _ in range(140)]
    for w in words:
        body.insert(rng.randrange(len(body)), w)
    return f"Story {n} " + " ".join(body)


def build_corpus(storage, seed: int = 3) -> list[dict]:
    """Articles over three weeks on three sources; some texts copied to another source later (exact
    duplicates), one copy dated before its original.  Returns what was stored: id, day, source, topics, group."""
    rng = random.Random(seed)
    storage.set_topics(TOPICS)
    stored: list[dict] = []
    n = 0
    for day in range(DAYS):
        for _ in range(rng.randrange(0, 4)):
            n += 1
            words = [w for w in ("alpha", "beta") if rng.random() < 0.5]
            text = _text(rng, n, words)
            when = START + timedelta(days=day)
            source = rng.choice(SOURCES)
            rec = ArticleRecord(url=f"https://{source}.example/{n}", source=source, language="en", title=f"S{n}",
                                text=text, published=f"{when.isoformat()}T{rng.randrange(0, 24):02d}:30:00+00:00")
            res = storage.write_batch([rec])[0]
            stored.append({"id": res.article_id, "day": when, "source": source, "topics": set(words),
                           "group": res.article_id})
            if rng.random() < 0.35:          # copied by another outlet, 0-3 days later
                other = rng.choice([s for s in SOURCES if s != source])
                later = min(day + rng.randrange(0, 4), DAYS - 1)
                copy_day = START + timedelta(days=later)
                rec = ArticleRecord(url=f"https://{other}.example/copy-{n}", source=other, language="en",
                                    title=f"S{n}", text=text, published=f"{copy_day.isoformat()}T23:00:00+00:00")
                res2 = storage.write_batch([rec])[0]
                assert res2.status == "duplicate" and res2.duplicate_of == res.article_id
                stored.append({"id": res2.article_id, "day": copy_day, "source": other, "topics": set(words),
                               "group": res.article_id})
    return stored


def reference(stored: list[dict], by: str, interval: str, first: date, last: date,
              topics=(), sources=()) -> Counter:
    """(period, key) -> count, made by hand: keep the articles in the window that pass the filters, keep the
    lowest id of each duplicate group, count it under its own day (or Monday) and source or topics."""
    kept = [a for a in stored if first <= a["day"] <= last and (not sources or a["source"] in sources)
            and (not topics or a["topics"] & set(topics))]
    firsts = {}
    for a in sorted(kept, key=lambda a: a["id"]):
        firsts.setdefault(a["group"], a)
    out: Counter = Counter()
    for a in firsts.values():
        period = a["day"] - timedelta(days=a["day"].weekday()) if interval == "week" else a["day"]
        keys = [a["source"]] if by == "source" else [t for t in a["topics"] if not topics or t in topics]
        for k in keys:
            out[(period.isoformat(), k)] += 1
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("coverage") / "cov.db"
    with open_writer(path) as storage:
        stored = build_corpus(storage)
    assert sum(1 for a in stored if a["group"] != a["id"]) >= 5    # the corpus has copies to fold
    return path, stored


def _cells(cov: dict) -> Counter:
    out: Counter = Counter()
    for s in cov["series"]:
        for period, n in zip(cov["periods"], s["counts"]):
            if n:
                out[(period, s["name"])] = n
    return out


@pytest.mark.parametrize("by, interval, topics, sources, window", [
    ("source", "day", (), (), (0, DAYS - 1)),
    ("topic", "day", (), (), (0, DAYS - 1)),
    ("source", "week", (), (), (0, DAYS - 1)),
    ("topic", "week", ("beta",), (), (3, 17)),
    ("source", "day", ("alpha",), ("north", "east"), (5, 12)),
])
def test_series_equal_a_reference_count_with_duplicates_folded(corpus, by, interval, topics, sources, window):
    path, stored = corpus
    first, last = START + timedelta(days=window[0]), START + timedelta(days=window[1])
    cov = coverage(path, by=by, interval=interval, since=first.isoformat(), until=last.isoformat(),
                   topics=topics, sources=sources)
    expected = reference(stored, by, interval, first, last, topics, sources)
    assert expected and _cells(cov) == expected
    # every period of the window is there, in order, zeros included
    step = 7 if interval == "week" else 1
    start = first - timedelta(days=first.weekday()) if interval == "week" else first
    assert cov["periods"][0] == start.isoformat() and cov["periods"][-1] <= last.isoformat()
    assert all((date.fromisoformat(b) - date.fromisoformat(a)).days == step
               for a, b in zip(cov["periods"], cov["periods"][1:]))
    assert all(len(s["counts"]) == len(cov["periods"]) for s in cov["series"])
    # folding matters here: counting every copy would give more
    unfolded = sum(1 for a in stored if first <= a["day"] <= last)
    if by == "source" and not topics and not sources:
        assert cov["total"] < unfolded


def test_bad_arguments(corpus):
    path, _ = corpus
    for kwargs, message in [({"by": "language"}, "--by 'language'"), ({"interval": "month"}, "--interval"),
                            ({"since": "2026-03-10", "until": "2026-03-01"}, "is after --until"),
                            ({"since": "1990-01-01", "until": "2026-01-01"}, "at most 1000"),
                            ({"topics": ["gamma"]}, "unknown topic 'gamma'"),
                            ({"sources": ["west"]}, "unknown source 'west'")]:
        with pytest.raises(UsageError, match=re.escape(message)):
            coverage(path, **kwargs)


@pytest.mark.skipif(importlib.util.find_spec("datasette") is None, reason="datasette not installed")
@pytest.mark.parametrize("params", [
    {"by": "source", "interval": "day"},
    {"by": "topic", "interval": "week", "topic": "alpha"},
    {"by": "source", "interval": "day", "topic": "alpha,beta", "source": "north,south"},
    {"by": "topic", "interval": "day", "since": "2026-03-05", "until": "2026-03-11"},
])
def test_datasette_canned_query_returns_the_chart_series(corpus, params):
    """The canned query `coverage` of `monitor serve`, run by a real Datasette (in process), gives the same
    non-zero cells as the chart's series."""
    from datasette.app import Datasette

    from monitor.query.datasette import build_metadata

    path, _ = corpus
    since = params.get("since", START.isoformat())
    until = params.get("until", (START + timedelta(days=DAYS - 1)).isoformat())
    query = {**params, "since": since, "until": until}
    ds = Datasette([str(path)], metadata=build_metadata(path.stem))

    async def fetch():
        return await ds.client.get(f"/{path.stem}/coverage.json", params={**query, "_shape": "array"})

    with ThreadPoolExecutor(1) as pool:      # a loop of its own: pytest-twisted's asyncio reactor runs one here
        response = pool.submit(asyncio.run, fetch()).result(timeout=60)
    assert response.status_code == 200, response.text
    got = Counter({(r["period"], r["key"]): r["articles"] for r in response.json()})
    cov = coverage(path, by=query["by"], interval=query["interval"], since=since, until=until,
                   topics=[t for t in params.get("topic", "").split(",") if t],
                   sources=[s for s in params.get("source", "").split(",") if s])
    assert got and got == _cells(cov)
    assert [dict(r) for r in response.json()] == cov["rows"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.skipif(importlib.util.find_spec("pygal") is None, reason="pygal not installed")
def test_stats_chart_writes_an_svg_with_axis_labels(corpus, tmp_path):
    path, stored = corpus
    out = tmp_path / "coverage.svg"
    r = run("stats", "--db", path, "--chart", out, "--by", "source", "--since", "2026-03-02", "--until", "2026-03-22")
    assert r.exit_code == 0, r.output
    assert "Wrote coverage chart to" in r.stderr and "3 sources, 21 days" in r.stderr
    assert "Per source:" in r.stdout                      # the stats are still printed
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<script" not in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "2026-03-02" in texts and "day (UTC)" in texts and "articles" in texts
    assert set(SOURCES) <= set(texts)                     # the legend
    peak = max(c for s in coverage(path, by="source", since="2026-03-02", until="2026-03-22")["series"]
               for c in s["counts"])
    assert str(peak) in texts and "0" in texts            # count labels on the y axis
    r = run("stats", "--db", path, "--chart", "-", "--interval", "week", "--topic", "beta", "--since", "2026-03-02",
            "--until", "2026-03-22")
    assert r.exit_code == 0 and r.stdout.startswith("<svg") and "Per source:" not in r.stdout
    assert "week starting (UTC)" in r.stdout and "2026-03-09" in r.stdout


def test_stats_chart_errors(corpus, tmp_path, monkeypatch):
    path, _ = corpus
    r = run("stats", "--db", path, "--interval", "week")
    assert r.exit_code == 2 and r.stderr == "Error: --interval shapes the coverage chart: give --chart FILE too\n"
    r = run("stats", "--db", path, "--chart", tmp_path / "x.svg", "--source", "west")
    assert r.exit_code == 2 and "unknown source 'west'" in r.stderr and not (tmp_path / "x.svg").exists()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pygal" else real(name, *a))
    r = run("stats", "--db", path, "--chart", tmp_path / "x.svg")
    assert r.exit_code == 2 and r.stdout == "" and not (tmp_path / "x.svg").exists()
    assert r.stderr.startswith("Error: --chart needs the plotting library pygal") and r.stderr.count("\n") == 1
    assert "pip install 'media-monitor[charts]'" in r.stderr
    data = json.loads(run("stats", "--db", path, "--format", "json").stdout)    # stats alone need no pygal
    assert data["articles"] == len(_stored_ids(path))


def _stored_ids(path) -> list[int]:
    from monitor.store.db import reading

    with reading(path) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM articles")]


@pytest.mark.skipif(importlib.util.find_spec("pygal") is None, reason="pygal not installed")
def test_html_digest_has_the_chart_and_works_without_pygal(corpus, monkeypatch):
    path, _ = corpus
    args = ["digest", "--db", path, "--since", "2026-03-02", "--until", "2026-03-22", "--format", "html"]
    html = run(*args).stdout
    assert html.count("<svg") == 1 and "Articles per day per topic, duplicates folded" in html
    assert "<script" not in html
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pygal" else real(name, *a))
    r = run(*args)
    assert r.exit_code == 0 and "<svg" not in r.stdout and "News digest" in r.stdout


@pytest.mark.skipif(importlib.util.find_spec("pygal") is None, reason="pygal not installed")
def test_chart_of_an_empty_window(corpus, tmp_path):
    path, _ = corpus
    out = tmp_path / "empty.svg"
    r = run("stats", "--db", path, "--chart", out, "--since", "2020-01-01", "--until", "2020-01-31")
    assert r.exit_code == 0 and "0 topics, 31 days" in r.stderr and "0 articles" in r.stderr
    assert "no articles in this window" in out.read_text(encoding="utf-8")
