"""Incremental crawling benchmark: what a second and a third `monitor crawl` cost, and what skipping a
stored article costs the spider.

    python benchmarks/incremental_crawl.py                        # both parts (about 1 min on 2 cores)
    python benchmarks/incremental_crawl.py --articles 60 --grow 6 --lookups 50000 --stored 100000

Part 1 (crawls): a fixture news site (``tests.support.sites.build_news_site``: RSS feed, sitemap index, two
section pages, every page answers conditional GETs) with ``--articles`` articles is crawled three times
into one database through the real CLI (a subprocess per crawl): run 1 from scratch, run 2 after
``--grow`` more articles appeared, run 3 with nothing changed.  Reported per run, from the fixture
server's request log: requests, article pages requested, stored articles fetched again (must be 0),
answers 304, bytes sent by the server; wall time of the `monitor crawl` process (includes about 4-5 s of
Python/Scrapy start-up).

Part 2 (spider-side cost of a known URL): a database with ``--stored`` articles (synthetic rows, 2 URL
variants each) and ``--lookups`` sitemap entries of stored articles (half canonical, half with tracking
parameters) run through ``UrlMemory.known_urls`` (``monitor.crawl.urlmemory``: what ``NewsSpider._candidate``
asks before any request: ``url_keys`` + one indexed ``IN`` query) and ``known_articles`` (the ``fetched_at`` look-up made
for entries with a ``lastmod``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def crawls(n_articles: int, grow: int) -> list[dict]:
    from tests.support.fixtureserver import FixtureServer, Site
    from tests.support.helpers import FAST_SETTINGS, run_monitor, write_sources
    from tests.support.sites import build_news_site

    out = []
    with tempfile.TemporaryDirectory() as tmp, FixtureServer(Site()) as server:
        db = Path(tmp) / "bench.db"
        for run, n in enumerate((n_articles, n_articles + grow, n_articles + grow), start=1):
            site = build_news_site(server.url, n_articles=n, with_feed="rss2", with_sitemap="index",
                                   page_size=10)
            server.site.update(site)
            sources = write_sources(Path(tmp) / "s.toml", [site.source(
                "bench", declare_feeds=True, declare_sitemaps=True,
                sections=[site.url_for("/section/world/"), site.url_for("/section/business/")])])
            stored_before = set()
            if db.exists():
                conn = sqlite3.connect(db)
                stored_before = {u for (u,) in conn.execute("SELECT url FROM articles")}
                conn.close()
            article_paths = {a.path for a in site.articles}
            server.clear_log()
            t0 = time.perf_counter()
            result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS)
            wall = time.perf_counter() - t0
            if result.returncode != 0:
                raise SystemExit(result.stdout + result.stderr)
            log = server.requests
            sizes = 0
            for r in log:
                res = server.site.lookup(r.path)
                if res is not None and r.status == 200 and isinstance(res.body, (bytes, str)):
                    sizes += len(res.body)
            stored_paths = {u.split(server.url, 1)[1] for u in stored_before}
            conn = sqlite3.connect(db)
            crawl = dict(zip(("articles_new", "skipped_known"), conn.execute(
                "SELECT articles_new, skipped_known FROM crawls ORDER BY id DESC LIMIT 1").fetchone()))
            total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            conn.close()
            out.append({
                "run": run, "site_articles": n, "requests": len(log),
                "article_pages_requested": sum(1 for r in log if r.url_path in article_paths),
                "stored_articles_refetched": sum(1 for r in log if r.url_path in stored_paths),
                "answers_304": sum(1 for r in log if r.status == 304),
                "bytes_sent": sizes, "crawl_wall_s": round(wall, 1), **crawl, "articles_in_db": total,
            })
    return out


def known_lookups(stored: int, lookups: int) -> dict:
    from monitor.crawl.urlmemory import UrlMemory, url_keys_cached
    from monitor.store.db import open_writer

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "known.db"
        store = open_writer(db)
        now = "2026-01-01T00:00:00+00:00"
        base = "https://news.example.com/2026/01/01/story-{}/"
        with store.db.atomic():
            store.db.conn.executemany(
                "INSERT INTO articles (id, url, source, text, fetched_at) VALUES (?, ?, 'bench', 'x', ?)",
                [(i, base.format(i), now) for i in range(1, stored + 1)])
            store.db.conn.executemany(
                "INSERT INTO article_urls (url, article_id) VALUES (?, ?)",
                [(u, i) for i in range(1, stored + 1)
                 for u in (base.format(i), base.format(i) + "?utm_source=rss")])

        memory = UrlMemory(crawler=None)   # no crawl: the look-up methods on this writer
        memory.storage = store
        step = max(1, stored // lookups)
        urls = [base.format(1 + (i * step) % stored) + ("?utm_medium=feed&fbclid=x" if i % 2 else "")
                for i in range(lookups)]
        url_keys_cached.cache_clear()
        t0 = time.perf_counter()
        for u in urls:
            url_keys_cached(u)                  # _candidate's seen check (canonicalize: the cold cost)
        keys_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits = sum(1 for u in urls if memory.known_urls([u]))
        known_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = sum(1 for u in urls if memory.known_articles([u]))
        articles_s = time.perf_counter() - t0
        store.close()
    us = lambda s: round(s / lookups * 1e6, 1)  # noqa: E731
    return {"stored_articles": stored, "lookups": lookups, "known": hits, "known_articles_found": found,
            "url_keys_us": us(keys_s), "known_urls_us": us(known_s), "known_articles_us": us(articles_s),
            "per_candidate_us": us(keys_s + known_s), "per_candidate_with_lastmod_us": us(keys_s + known_s + articles_s)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--grow", type=int, default=4)
    ap.add_argument("--stored", type=int, default=100_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--skip-crawls", action="store_true")
    args = ap.parse_args(argv)
    report = {}
    if not args.skip_crawls:
        report["crawls"] = crawls(args.articles, args.grow)
        for r in report["crawls"]:
            print(json.dumps(r), flush=True)
    report["known_lookups"] = known_lookups(args.stored, args.lookups)
    print(json.dumps(report["known_lookups"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
