"""Extraction in worker processes (monitor.crawl.extractpool): same results as inline extraction, bounded,
crashes and stuck pages contained.  Crawls run as subprocesses; pool unit tests run in-process."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import sqlite3
import time

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from monitor.crawl import extractpool
from monitor.crawl.extractpool import ExtractConfig, ExtractionPool
from tests.support.fixtureserver import HTML, XML, FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.hooked_extraction import crawl_args
from tests.support.sites import build_multilang_site, build_news_site

HOOK = "tests.support.extract_hooks.hooked"

_WORDS = ("river steppe council budget harvest railway school museum festival grain pipeline wind farm "
          "minister parliament village bridge winter airport freight cotton tariff court election doctor "
          "hospital teacher library orchestra mountain lake border caravan market ferry port bakery").split()


def article_html(i: int, marker: str = "") -> bytes:
    """A distinct English news article page (og:type article, JSON-LD date) of about 1,500 characters."""
    rnd = random.Random(i)
    title = f"Story {i}: the {rnd.choice(_WORDS)} of the {rnd.choice(_WORDS)} and the {rnd.choice(_WORDS)}"
    paras = []
    for p in range(5):
        words = [rnd.choice(_WORDS) for _ in range(45)]
        paras.append(f"Paragraph {p} of story {i}. " + " ".join(words).capitalize() + ".")
    body = "".join(f"<p>{t}</p>" for t in paras)
    return (f"<!doctype html><html lang='en'><head><title>{title}</title>"
            f"<meta property='og:type' content='article'><meta property='og:title' content='{title}'>"
            f"<meta property='article:published_time' content='2026-11-{1 + i % 27:02d}T10:00:00+00:00'>"
            f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}"
            f"<p>{marker}</p></article><footer>All rights reserved.</footer></body></html>").encode()


def page_item(i: int, marker: str = "") -> dict:
    url = f"http://127.0.0.1:9/{i}/story"
    return {"kind": "page", "source": "unit", "url": url, "request_urls": [url], "body": article_html(i, marker),
            "encoding": None, "content_type": HTML, "status": 200, "via": "sitemap", "hints": {},
            "require_signals": False}


def sitemap(urls) -> Resource:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{u}</loc></url>" for u in urls) + "</urlset>")
    return Resource(body.encode(), content_type=XML)


# --------------------------------------------------------------------------- the pool, in-process
# Tests run on the asyncio loop of Twisted's reactor, as the pipeline does inside a crawl.

def aio(coro) -> Deferred:
    return Deferred.fromFuture(asyncio.ensure_future(coro))


async def extract_all(pool: ExtractionPool, items, config: ExtractConfig, close: bool = True) -> list:
    try:
        return await asyncio.gather(*(pool.extract(it, config) for it in items))
    finally:
        if close:
            pool.close()


@pytest_twisted.ensureDeferred
async def test_pool_results_equal_inline_and_fingerprint_is_set():
    items = [page_item(i) for i in range(6)]
    config = ExtractConfig(timeout=30)
    inline = await aio(extract_all(ExtractionPool(1), items, config))
    pooled = await aio(extract_all(ExtractionPool(2), items, config))
    assert [o[0] for o in inline] == ["article"] * 6
    for a, b in zip(inline, pooled):
        ra, rb = a[1], b[1]
        assert ra.extra["minhash"] and ra.extra["minhash"] == rb.extra["minhash"]
        assert {**vars(ra), "fetched_at": None} == {**vars(rb), "fetched_at": None}


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_pool_contains_crashes_and_keeps_going():
    items = [page_item(i) for i in range(8)]
    items[2] = page_item(2, "HOOK:segv")
    items[5] = page_item(5, "HOOK:exit")
    pool = ExtractionPool(2, queue=4)
    outcomes = await aio(extract_all(pool, items, ExtractConfig(timeout=30, function=HOOK)))
    assert outcomes[2][:2] == ("error", "extraction_crashed") and "SIGSEGV" in outcomes[2][2]
    assert outcomes[5][:2] == ("error", "extraction_crashed") and "status 3" in outcomes[5][2]
    assert [o[0] for i, o in enumerate(outcomes) if i not in (2, 5)] == ["article"] * 6
    assert pool.restarts >= 1


@pytest_twisted.ensureDeferred
async def test_pool_soft_timeout_inline_and_in_worker():
    short = ExtractConfig(timeout=0.5, function=HOOK)
    normal = ExtractConfig(timeout=30, function=HOOK)    # a busy machine may take 0.5 s over a normal page
    for workers in (1, 2):
        pool = ExtractionPool(workers)
        try:
            slow, fine = await aio(asyncio.gather(pool.extract(page_item(1, "HOOK:sleep"), short),
                                                  pool.extract(page_item(2), normal)))
        finally:
            pool.close()
        assert slow[:2] == ("error", "extraction_timeout"), workers
        assert "MONITOR_EXTRACT_TIMEOUT" in slow[2]
        assert fine[0] == "article"


@pytest.mark.slow
@pytest_twisted.ensureDeferred
async def test_pool_kills_a_stuck_worker_and_resubmits_the_others():
    short = ExtractConfig(timeout=0.5, function=HOOK)    # the stuck page is killed after 2 x 0.5 + 5 s
    normal = ExtractConfig(timeout=30, function=HOOK)
    pool = ExtractionPool(2, queue=4)
    try:
        outcomes = await aio(asyncio.gather(pool.extract(page_item(0, "HOOK:hang"), short),
                                            *(pool.extract(page_item(i), normal) for i in range(1, 7))))
    finally:
        pool.close()
    assert outcomes[0][:2] == ("error", "extraction_timeout") and "killed" in outcomes[0][2]
    assert [o[0] for o in outcomes[1:]] == ["article"] * 6
    assert pool.restarts == 1


@pytest_twisted.ensureDeferred
async def test_pool_bounds_pages_in_flight():
    pool = ExtractionPool(2, queue=3)
    outcomes = await aio(extract_all(pool, [page_item(i) for i in range(12)], ExtractConfig(timeout=30)))
    assert [o[0] for o in outcomes] == ["article"] * 12
    assert pool.peak_in_flight == 3


class _Settings(dict):
    def getint(self, k):
        return int(self.get(k, 0))

    def getfloat(self, k):
        return float(self.get(k, 0))


def test_one_shared_pool_per_process_refcounted():
    settings = _Settings(MONITOR_EXTRACT_WORKERS=1, LOG_LEVEL="WARNING")
    a = extractpool.acquire(settings)
    b = extractpool.acquire(_Settings(MONITOR_EXTRACT_WORKERS=3))
    assert a is b and a.workers == 1 and a.inline
    extractpool.release(a)
    assert extractpool._shared is a
    extractpool.release(b)
    assert extractpool._shared is None
    c = extractpool.acquire(settings)
    assert c is not a
    extractpool.release(c)


def test_retired_workers_are_replaced_at_once():
    """CPython gh-115634: the standard executor often left a worker retired by max_tasks_per_child unreplaced
    (the pool then ran on one worker of two; here it stayed short after every wave)."""
    executor = extractpool.FullPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"),
                                            max_tasks_per_child=3)
    pids, short_after = set(), []
    try:
        for wave in range(8):
            pids.update(f.result(timeout=30) for f in [executor.submit(os.getpid) for _ in range(3)])
            deadline = time.monotonic() + 5
            while len(executor._processes) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            if len(executor._processes) < 2:
                short_after.append(wave)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    assert short_after == []
    assert len(pids) >= 8          # workers really were retired and replaced


def test_default_workers_is_the_core_count():
    assert ExtractionPool(0).workers == extractpool.default_workers() >= 1
    assert ExtractionPool(0, queue=0).queue == 2 * ExtractionPool(0).workers


# --------------------------------------------------------------------------- whole crawls

def _snapshot(db) -> dict:
    """Everything a crawl stored, keyed by URL (row ids and timestamps differ between runs)."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        url_of = {r["id"]: r["url"] for r in conn.execute("SELECT id, url FROM articles")}
        skip = {"id", "fetched_at", "modified_at", "crawl_id", "duplicate_of"}
        articles = {r["url"]: {k: r[k] for k in r.keys() if k not in skip}
                    | {"duplicate_of": url_of.get(r["duplicate_of"])}
                    for r in conn.execute("SELECT * FROM articles")}
        variants = sorted((r[0], url_of[r[1]]) for r in conn.execute("SELECT url, article_id FROM article_urls"))
        topics = sorted((url_of[r[0]], r[1]) for r in conn.execute("SELECT article_id, topic FROM article_topics"))
        prints = {url_of[r[0]]: r[1] for r in conn.execute("SELECT article_id, signature FROM article_fingerprints")}
        stories: dict[int, set] = {}
        for aid, sid, lang, via in conn.execute("SELECT article_id, story_id, language, via FROM story_links"):
            stories.setdefault(sid, set()).add((url_of[aid], lang))
        errors = sorted((r[0], r[1]) for r in conn.execute("SELECT url, reason FROM fetch_errors"))
        fts = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'kazakhstan'").fetchone()[0]
    finally:
        conn.close()
    return {"articles": articles, "variants": variants, "topics": topics, "fingerprints": prints,
            "stories": sorted(sorted(s) for s in stories.values()), "errors": errors, "fts_kazakhstan": fts}


@pytest.mark.slow
def test_crawl_with_one_worker_stores_exactly_what_the_pool_stores(tmp_path):
    with FixtureServer(Site()) as news, FixtureServer(Site()) as multi:
        news_site = build_news_site(news.url, n_articles=8, with_feed="rss2", with_sitemap="index")
        multi_site = build_multilang_site(multi.url)
        news.site.update(news_site)
        multi.site.update(multi_site)
        sources = write_sources(tmp_path / "sources.toml", [news_site.source("news", declare_feeds=True),
                                                            multi_site.source("multi")])
        snaps = {}
        for workers in (1, 2):
            db = tmp_path / f"w{workers}.db"
            result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS,
                                 "-s", f"MONITOR_EXTRACT_WORKERS={workers}")
            assert result.returncode == 0, result.stderr[-3000:]
            snaps[workers] = _snapshot(db)
    inline, pooled = snaps[1], snaps[2]
    assert len(inline["articles"]) >= 8 and inline["fts_kazakhstan"] and inline["stories"]
    assert len(inline["fingerprints"]) == len(inline["articles"])
    for key in inline:
        assert inline[key] == pooled[key], key


@pytest.mark.slow
def test_crawl_records_crashed_and_stuck_pages_and_stores_the_rest(tmp_path):
    markers = {3: "HOOK:segv", 6: "HOOK:sleep", 9: "HOOK:hang"}
    with FixtureServer(Site()) as server:
        urls = [server.url_for(f"/news/2026/11/{i}/story-{i}/") for i in range(12)]
        server.site["/sitemap.xml"] = sitemap(urls)
        server.site["/robots.txt"] = Resource(f"Sitemap: {server.url}/sitemap.xml\n".encode(), content_type="text/plain")
        server.site["/"] = Resource(b"<html><body>home</body></html>")
        for i, url in enumerate(urls):
            server.site[url.removeprefix(server.url)] = Resource(article_html(i, markers.get(i, "")))
        sources = write_sources(tmp_path / "sources.toml", [{"name": "hooked", "url": server.url + "/",
                                                             "sitemaps": [server.url + "/sitemap.xml"]}])
        db = tmp_path / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS,
                             "-s", "MONITOR_EXTRACT_WORKERS=2", *crawl_args(HOOK),
                             "-s", "MONITOR_EXTRACT_TIMEOUT=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "finished" in result.stdout
    stored = {r["url"] for r in rows(db, "SELECT url FROM articles")}
    assert stored == {u for i, u in enumerate(urls) if i not in markers}
    errors = {r["url"]: r for r in rows(db, "SELECT url, reason, detail FROM fetch_errors")}
    assert errors[urls[3]]["reason"] == "extraction_crashed" and "SIGSEGV" in errors[urls[3]]["detail"]
    assert errors[urls[6]]["reason"] == "extraction_timeout"
    assert errors[urls[9]]["reason"] == "extraction_timeout" and "killed" in errors[urls[9]]["detail"]
    assert set(errors) == {urls[i] for i in markers}
