"""Incremental crawls end to end: conditional GET of feeds/sitemaps/sections, no request for stored
articles, new articles stored, ``--refresh`` and sitemap ``lastmod`` re-fetches with article versions.

The real CLI runs in a subprocess against fixture sites on 127.0.0.1; assertions read the database and
the fixture server's request log.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

import pytest

from monitor.crawl.spider import is_newer
from monitor.crawl.urlmemory import UrlMemory
from tests.support.fixtureserver import XML, FixtureServer, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites import build_news_site, syndication
from tests.support.sites.common import page_resource

SETTINGS = [*FAST_SETTINGS, "-s", "MONITOR_EXTRACT_WORKERS=1"]


def _crawl(sources, db, *extra):
    result = run_monitor("crawl", "--sources", sources, "--db", db, *SETTINGS, *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def _summary_line(result, source):
    return next(ln for ln in result.stdout.splitlines() if ln.startswith(source + " ")).split()


def test_is_newer():
    assert is_newer("2026-03-02T10:00:00+00:00", "2026-03-02T09:59:59+00:00")
    assert is_newer("2026-03-02T12:00:00+02:00", "2026-03-02T09:59:59+00:00")
    assert not is_newer("2026-03-02T11:00:00+02:00", "2026-03-02T09:59:59+00:00")
    assert is_newer("2026-03-03", "2026-03-02T23:00:00+00:00")          # a date is midnight UTC
    assert not is_newer("2026-03-02", "2026-03-02T08:00:00+00:00")
    assert is_newer("2026-03-02T10:00:00Z", "2026-03-02T09:00:00")       # no zone = UTC
    assert not is_newer("yesterday", "2026-03-02T09:00:00+00:00")
    assert not is_newer(None, "2026-03-02T09:00:00+00:00")
    assert not is_newer("2026-03-02T10:00:00Z", None)


STORED = {"https://news.example/2026/03/01/a/": (1, "2026-03-01T10:00:00+00:00"),
          "https://news.example/2026/03/01/b/": (2, "2026-03-01T10:00:00+00:00")}
A, B = STORED


class StoredMemory(UrlMemory):
    """The crawl's URL memory over STORED instead of a database file."""

    def _stored(self, candidates):
        return {k for k in candidates if k in STORED}

    def _article(self, keys):
        return next((STORED[k] for k in keys if k in STORED), None)


def _unit_spider(memory=True, **settings):
    """A spider with the URL memory STORED (or none: ``memory=False``), no crawl: what _candidate decides for
    each entry.  The spider finds the memory as in a crawl, with ``crawler.get_extension``."""
    from scrapy.utils.test import get_crawler

    from monitor.sources.catalogue import Source
    from monitor.crawl.spider import NewsSpider

    cls = NewsSpider.for_source(Source(name="unit", url="https://news.example/"))
    spider = cls.from_crawler(get_crawler(cls, {**settings, "EXTENSIONS": {StoredMemory: 100} if memory else {}}))
    assert isinstance(spider.memory, StoredMemory) if memory else spider.memory is None
    return spider


def _decide(spider, url, **hints):
    out = list(spider._candidate(url, via="sitemap" if hints else "feed", hints=hints))
    return [("request", o.url, o.meta.get("known_article_id")) if hasattr(o, "meta") else (o["kind"], o["url"])
            for o in out]


def test_known_article_is_refetched_when_a_later_entry_has_a_newer_lastmod():
    spider = _unit_spider()
    assert _decide(spider, A) == []                                    # the feed: stored, skipped
    assert _decide(spider, A, lastmod="2026-03-01T09:00:00Z") == []    # sitemap: not changed since
    assert _decide(spider, A, lastmod="2026-03-02") == [("request", A, 1)]
    assert _decide(spider, A, lastmod="2026-03-03") == []              # requested once
    stats = spider.crawler.stats
    assert stats.get_value("monitor/skipped_known") == 0 and stats.get_value("monitor/refetch/lastmod") == 1
    spider = _unit_spider()                                            # the other order
    assert _decide(spider, A, lastmod="2026-03-02T00:00:00+00:00") == [("request", A, 1)]
    assert _decide(spider, A) == []


def test_variants_of_known_or_scheduled_articles_are_aliases_not_requests():
    spider = _unit_spider()
    assert _decide(spider, A + "?utm_source=x&fbclid=1") == [("url_alias", A + "?utm_source=x&fbclid=1")]
    assert _decide(spider, A + "amp/") == [("url_alias", A + "amp/")]
    new = "https://news.example/2026/03/02/c/"
    assert _decide(spider, new + "?utm_medium=rss") == [("request", new + "?utm_medium=rss", None)]
    assert _decide(spider, new) == []              # its canonical form: recorded with the fetched page
    assert _decide(spider, new + "amp/") == [("url_alias", new + "amp/")]
    assert _decide(spider, new + "amp/") == []
    assert spider.crawler.stats.get_value("monitor/skipped_known") == 1


def test_articles_waiting_in_the_pending_batch_are_known():
    """The storage pipeline tells the URL memory about articles not written yet: not fetched a second time."""
    new = "https://news.example/2026/03/02/c/"
    spider = _unit_spider()
    spider.memory.add_pending([new])
    assert _decide(spider, new + "?utm_source=x") == [("url_alias", new + "?utm_source=x")]
    spider.memory.clear_pending()                  # written: the store answers for it from now on (here: not stored)
    assert _decide(_unit_spider(), new + "?utm_source=x") == [("request", new + "?utm_source=x", None)]


def test_refresh_and_refetch_budget():
    spider = _unit_spider(MONITOR_REFRESH=True)
    assert _decide(spider, A) == [("request", A, 1)]
    assert _decide(spider, B, lastmod="2020-01-01") == [("request", B, 2)]
    # no URL memory (EXTENSIONS without it): nothing is known, every candidate is fetched, nothing is versioned
    spider = _unit_spider(memory=False, MONITOR_REFRESH=True)
    assert _decide(spider, A) == [("request", A, None)]
    spider = _unit_spider(memory=False)
    assert _decide(spider, A, lastmod="2026-03-02") == [("request", A, None)]
    spider = _unit_spider(MONITOR_MAX_REFETCHES=1)
    assert _decide(spider, A, lastmod="2026-03-02") == [("request", A, 1)]
    assert _decide(spider, B, lastmod="2026-03-02") == []             # over the budget: stays stored
    assert spider.crawler.stats.get_value("monitor/refetch/lastmod_over_budget") == 1


@pytest.mark.slow
def test_second_and_third_crawl_are_incremental(tmp_path):
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=4, with_feed="rss2", with_sitemap="index")
        server.site.update(site)
        entry = site.source("inc", declare_feeds=True, declare_sitemaps=True,
                            sections=[site.url_for("/section/world/")])
        sources = write_sources(tmp_path / "s.toml", [entry])
        conditional = ["/feed/", "/sitemap-posts.xml", "/sitemap-pages.xml", "/section/world/"]

        # ---- run 1: everything new; validators of feeds, child sitemaps and sections kept
        _crawl(sources, db)
        first = {a.path for a in site.articles}
        assert {r["url"] for r in rows(db, "SELECT url FROM articles")} == {a.url for a in site.articles}
        state = {r["url"]: r for r in rows(db, "SELECT * FROM fetch_state")}
        assert {site.url_for(p) for p in conditional} <= set(state)
        assert site.url_for("/sitemap_index.xml") not in state      # an index is always read in full

        # ---- run 2: two more articles on the site
        site = build_news_site(server.url, n_articles=6, with_feed="rss2", with_sitemap="index")
        server.site.update(site)
        new = {a.path for a in site.articles} - first
        assert len(new) == 2
        server.clear_log()
        second = _crawl(sources, db)
        log = server.requests
        for path in conditional:
            hits = [r for r in log if r.path == path and "If-None-Match" in r.headers]
            assert hits, f"{path} not asked with a conditional GET: {[(r.path, dict(r.headers)) for r in log]}"
            assert hits[0].headers["If-None-Match"] == state[site.url_for(path)]["etag"]
            assert hits[0].headers["If-Modified-Since"] == state[site.url_for(path)]["last_modified"]
        requested = {r.url_path for r in log}
        assert not requested & first, f"stored articles fetched again: {requested & first}"
        assert new <= requested
        assert {r["url"] for r in rows(db, "SELECT url FROM articles")} == {a.url for a in site.articles}
        crawl2 = rows(db, "SELECT * FROM crawls WHERE id = 2")[0]
        assert crawl2["articles_new"] == 2 and crawl2["skipped_known"] == 4
        assert _summary_line(second, "inc")[2:5] == ["2", "0", "4"]        # new, dups, known

        # ---- run 3: nothing changed: 304s, no article page, nothing stored
        server.clear_log()
        third = _crawl(sources, db)
        log = server.requests
        for path in conditional:
            assert [r.status for r in log if r.path == path] == [304], (path, [(r.path, r.status) for r in log])
        all_articles = {a.path for a in site.articles}
        assert not {r.url_path for r in log} & all_articles
        assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 6
        assert "4 feed/sitemap/section page(s) not modified (304)" in third.stdout
        crawl3 = rows(db, "SELECT * FROM crawls WHERE id = 3")[0]
        assert crawl3["status"] == "finished" and crawl3["articles_new"] == 0


def _edit_article(server, site, article, *, lead: str, extra_paragraph: str):
    """Change an article page in place: a sentence before the first paragraph and a new last paragraph."""
    page = site.resources[article.path]
    body = page.body.decode("utf-8")
    paragraphs = article.body.split("\n\n")
    first, last = f"<p>{html.escape(paragraphs[0])}</p>", f"<p>{html.escape(paragraphs[-1])}</p>"
    assert body.count(first) == 1 and body.count(last) == 1
    body = body.replace(first, f"<p>{html.escape(lead)} {html.escape(paragraphs[0])}</p>")
    body = body.replace(last, f"{last}\n    <p>{html.escape(extra_paragraph)}</p>")
    server.site[article.path] = page_resource(body, page.last_modified + timedelta(days=1))


@pytest.mark.slow
def test_lastmod_and_refresh_refetch_and_keep_versions(tmp_path):
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=3, with_feed="rss2", with_sitemap="urlset", sections=False)
        server.site.update(site)
        sources = write_sources(tmp_path / "s.toml", [site.source("upd", declare_feeds=True, declare_sitemaps=True)])
        _crawl(sources, db)
        before = {r["url"]: r for r in rows(db, "SELECT * FROM articles")}
        assert set(before) == {a.url for a in site.articles}
        c, a, b = site.articles          # a: edited with a newer lastmod; b: edited silently; c: unchanged
        tagged = {r["topic"] for r in rows(db, "SELECT topic FROM article_topics WHERE article_id = ?",
                                           [before[c.url]["id"]])}
        assert "kz-us" in tagged                 # c is the Kazakhstan-US story: topics tagged at crawl time
        tagged = {r["topic"] for r in rows(db, "SELECT topic FROM article_topics WHERE article_id = ?",
                                           [before[a.url]["id"]])}
        assert "kz-us" not in tagged             # a is about US politics only

        # ---- a changes and the sitemap says so (lastmod after its fetched_at); b changes silently
        _edit_article(server, site, a, lead="Updated: officials in Astana and Washington commented on the result.",
                      extra_paragraph="Correction: an earlier version of this article misstated the turnout figure.")
        _edit_article(server, site, b, lead="Quietly changed opening sentence.",
                      extra_paragraph="A paragraph added without touching the sitemap.")
        lastmod_a = (datetime.fromisoformat(before[a.url]["fetched_at"]) + timedelta(seconds=1)).isoformat()
        entries = [(x.url, lastmod_a if x is a else x.published) for x in site.articles]
        server.site["/sitemap.xml"] = page_resource(syndication.urlset(entries), datetime.fromisoformat(lastmod_a),
                                                    XML)
        # the feed (no lastmod) is read in full too: whichever of feed and sitemap comes first, a is fetched
        feed = site.resources["/feed/"]
        server.site["/feed/"] = page_resource(feed.body.decode() + "\n", feed.last_modified + timedelta(hours=1),
                                              feed.content_type)
        server.clear_log()
        second = _crawl(sources, db)
        requested = [r.url_path for r in server.requests]
        assert [r.status for r in server.requests if r.path == "/feed/"] == [200]
        assert requested.count(a.path) == 1
        assert b.path not in requested and c.path not in requested
        after = {r["url"]: r for r in rows(db, "SELECT * FROM articles")}
        assert len(after) == 3
        row_a = after[a.url]
        assert "misstated the turnout figure" in row_a["text"] and row_a["id"] == before[a.url]["id"]
        assert row_a["modified_at"] == row_a["fetched_at"] > before[a.url]["fetched_at"]
        versions = rows(db, "SELECT * FROM article_versions ORDER BY id")
        assert len(versions) == 1 and versions[0]["article_id"] == row_a["id"]
        assert versions[0]["text"] == before[a.url]["text"]
        assert versions[0]["replaced_at"] == row_a["fetched_at"]
        assert versions[0]["fetched_at"] == before[a.url]["fetched_at"]
        # FTS follows the new text; topics re-tagged (Astana + Washington now in the text)
        hits = rows(db, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'misstated'")
        assert [h["rowid"] for h in hits] == [row_a["id"]]
        assert "kz-us" in {r["topic"] for r in rows(db, "SELECT topic FROM article_topics WHERE article_id = ?",
                                                    [row_a["id"]])}
        assert after[b.url]["text"] == before[b.url]["text"]               # not re-fetched: unchanged row
        crawl2 = rows(db, "SELECT * FROM crawls WHERE id = 2")[0]
        assert crawl2["articles_new"] == 0 and crawl2["skipped_known"] == 2
        assert "incremental in upd: 1 stored article(s) changed" in second.stdout

        # ---- --refresh: every stored article fetched again; b updated, a and c unchanged (known)
        server.clear_log()
        third = _crawl(sources, db, "--refresh")
        requested = [r.url_path for r in server.requests]
        assert all(requested.count(x.path) == 1 for x in site.articles), requested
        assert not any("If-None-Match" in r.headers for r in server.requests)   # read in full
        final = {r["url"]: r for r in rows(db, "SELECT * FROM articles")}
        assert "without touching the sitemap" in final[b.url]["text"]
        assert final[c.url]["text"] == before[c.url]["text"]
        assert final[c.url]["modified_at"] == before[c.url]["modified_at"]
        versions = rows(db, "SELECT article_id, text FROM article_versions ORDER BY id")
        assert [v["article_id"] for v in versions] == [row_a["id"], after[b.url]["id"]]
        assert versions[1]["text"] == before[b.url]["text"]
        crawl3 = rows(db, "SELECT * FROM crawls WHERE id = 3")[0]
        assert crawl3["articles_new"] == 0 and crawl3["duplicates"] == 0 and crawl3["skipped_known"] == 2
        assert json_updated(crawl3) == 1
        assert _summary_line(third, "upd")[2:5] == ["0", "0", "2"]


def json_updated(crawl_row) -> int:
    import json

    return sum(c.get("articles_updated", 0) for c in json.loads(crawl_row["summary"]).values())


def test_validators_saved_only_after_a_clean_finish(tmp_path):
    """A 304 next time must not hide articles this crawl could not fetch: no fetch_state after an early
    stop or a temporary failure."""
    from scrapy.utils.test import get_crawler

    from monitor.crawl.pipelines import StoragePipeline
    from monitor.store.db import open_writer

    db = tmp_path / "m.db"
    cases = [("max_articles", None, 0), ("shutdown", None, 0), ("finished", "timeout", 0),
             ("finished", "server_error", 0), ("finished", "not_found", 1), ("finished", None, 1)]
    for reason, error, saved in cases:
        crawler = get_crawler(settings_dict={"MONITOR_DB": str(db)})
        pipe = StoragePipeline(crawler)
        pipe.storage = open_writer(db)
        pipe.fetch_states = {f"https://news.example/feed/{reason}/{error}": ('"e1"', None)}
        if error:
            crawler.stats.inc_value(f"monitor/errors/{error}")
        pipe._save_fetch_states(reason)
        found = pipe.storage.fetch_state(f"https://news.example/feed/{reason}/{error}")
        assert (found is not None) == bool(saved), (reason, error)
        assert crawler.stats.get_value("monitor/fetch_state_saved" if saved else "monitor/fetch_state_not_saved") == 1
        pipe.storage.close()


@pytest.mark.slow
def test_redirecting_feed_entries_are_remembered(tmp_path):
    """Feed entries that reach their article through two 301s (entry -> hop -> article): the first crawl
    stores every URL of each chain in article_urls (kind 'redirect'), the second requests none of them."""
    import dataclasses
    from datetime import timezone

    from tests.support.fixtureserver import redirect

    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=2, with_feed=None, with_sitemap=None, sections=False,
                               home_links_feed=False)
        server.site.update(site)
        entries, hops = {}, {}
        for i, a in enumerate(site.articles):
            entries[a.url] = f"/go/{i}/"
            hops[a.url] = f"/r/{i}/"
            server.site[f"/go/{i}/"] = redirect(server.url + f"/r/{i}/")
            server.site[f"/r/{i}/"] = redirect(a.url)
        when = datetime(2026, 1, 1, tzinfo=timezone.utc)
        ch = syndication.Channel("Redirects", server.url + "/", server.url + "/rfeed/", "latest", "en", when)
        linked = [dataclasses.replace(a, url=server.url + entries[a.url]) for a in site.articles]
        server.site["/rfeed/"] = page_resource(syndication.rss2(ch, linked), when, XML)
        sources = write_sources(tmp_path / "s.toml", [{"name": "redir", "url": server.url + "/", "language": "en",
                                                        "feeds": [server.url + "/rfeed/"]}])

        _crawl(sources, db)
        first = {r.path for r in server.requests}
        assert set(entries.values()) | set(hops.values()) <= first
        assert {r["url"] for r in rows(db, "SELECT url FROM articles")} == {a.url for a in site.articles}
        kinds = {r["url"]: (r["article_id"], r["kind"]) for r in rows(db, "SELECT * FROM article_urls")}
        for a in site.articles:
            aid = rows(db, "SELECT id FROM articles WHERE url = ?", [a.url])[0]["id"]
            assert kinds[a.url] == (aid, "canonical")
            for path in (entries[a.url], hops[a.url]):
                assert kinds[server.url + path] == (aid, "redirect"), (path, kinds)

        # ---- crawl 2: the feed was rebuilt (read in full, not a 304) with the same entries: no entry, hop or
        # article requested again
        later = when + timedelta(days=1)
        server.site["/rfeed/"] = page_resource(syndication.rss2(dataclasses.replace(ch, updated=later), linked),
                                               later, XML)
        server.clear_log()
        second = _crawl(sources, db)
        requested = {r.path for r in server.requests}
        chains = set(entries.values()) | set(hops.values()) | {a.path for a in site.articles}
        assert not requested & chains, f"requested again: {sorted(requested & chains)}"
        assert "/rfeed/" in requested
        assert _summary_line(second, "redir")[2:5] == ["0", "0", "2"]        # new, dups, known

        # ---- --refresh asks for the entries again (and follows their redirects)
        server.clear_log()
        _crawl(sources, db, "--refresh")
        assert set(entries.values()) <= {r.path for r in server.requests}
        assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 2
