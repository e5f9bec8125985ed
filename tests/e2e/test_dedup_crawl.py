"""Deduplication end to end: the real CLI (subprocess) against fixture sites on 127.0.0.1.

Two crawls share one database (module fixture):

1. ``variants`` (one article listed through a tracking-parameter link, an AMP URL, a redirecting old URL and
   a share URL whose ``<link rel=canonical>`` points at it; another listed only by its AMP URL), ``origin``
   (the article later copied) and ``multilang`` (one story in four language editions).
2. ``variants`` again, its feed now carrying a new tracking variant, and ``copies``: an exact copy and a near
   copy (new title, editor's note, other byline, republishing note) of the origin article, plus an
   unrelated article of its own.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.fixtureserver import XML, FixtureServer, Site, redirect
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites import build_multilang_site, build_news_site
from tests.support.sites import syndication
from tests.support.sites.common import Chrome, article_head, article_main, page_resource, render_page

pytestmark = pytest.mark.slow

SETTINGS = [*FAST_SETTINGS, "-s", "MONITOR_EXTRACT_WORKERS=1"]
TRACKING = "?utm_source=rss&utm_medium=feed&fbclid=IwAR0abc"
NEW_TRACKING = "?utm_campaign=later&gclid=Cj0KCQ&mc_cid=42"
EDITOR_NOTE = ("Editor's note: this report was first published by Origin Daily and is republished here with "
               "permission; the headline was changed by our desk.")
REPUBLISHED = "Republished under an agreement with Origin Daily. Steppe Herald does not edit partner content."


def _feed(base: str, articles, path: str = "/variants-feed/") -> str:
    ch = syndication.Channel("Variants", base + "/", base + path, "latest", "en",
                             datetime(2026, 1, 1, tzinfo=timezone.utc))
    return syndication.rss2(ch, articles)


def _copy_page(base: str, path: str, origin, *, title: str, author: str, paragraphs: list[str]):
    chrome = Chrome(base, "en", "Steppe Herald", [("Home", "/")])
    dt = datetime.fromisoformat(origin.published) + timedelta(hours=3)
    url = base + path
    head = article_head(url=url, title=title, summary=paragraphs[0][:150], image=base + "/images/copy.jpg",
                        published=dt, modified=dt, author=author, author_url=base + "/", section="World",
                        tags=[], language="en", site_name="Steppe Herald", base_url=base)
    main = article_main(title=title, paragraphs=paragraphs, author=author, author_path="/", published=dt,
                        base_url=base, language="en", image=base + "/images/copy.jpg", tags=[], related=[])
    return page_resource(render_page(chrome, title=f"{title} | Steppe Herald", main=main, head=head,
                                     body_class="single-post"), dt)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dedupcrawl")
    db = tmp / "m.db"
    servers = {name: FixtureServer(Site()).start() for name in ("variants", "origin", "multilang", "copies")}
    try:
        # ---- variants: X through four variant URLs, Y only through its AMP URL, Z nowhere
        v = servers["variants"]
        vsite = build_news_site(v.url, n_articles=3, with_feed=None, with_sitemap=None, site_name="Variant Times")
        v.site.update(vsite)
        x, y = vsite.articles[0], vsite.articles[1]
        page_x = vsite.resources[x.path]
        urls = {
            "tracking": x.url + TRACKING,
            "amp": x.url + "amp/",
            "old": v.url + "/old/story-101/",
            "share": v.url + "/share/101/",
            "y_amp": y.url + "amp/",
        }
        v.site[x.path + "amp/"] = page_x                       # canonical -> X (the AMP edition)
        v.site["/share/101/"] = page_x                         # canonical -> X
        v.site["/old/story-101/"] = redirect(x.url)
        v.site[y.path + "amp/"] = vsite.resources[y.path]
        v.site["/variants-feed/"] = page_resource(_feed(v.url, [dataclasses.replace(x, url=urls["tracking"])]),
                                                  datetime(2026, 1, 1, tzinfo=timezone.utc))
        v.site["/variants-sitemap.xml"] = page_resource(syndication.urlset(
            [(urls["amp"], None), (urls["old"], None), (urls["share"], None), (urls["y_amp"], None)]),
            datetime(2026, 1, 1, tzinfo=timezone.utc), XML)
        variants_source = {"name": "variants", "url": v.url + "/", "language": "en",
                           "feeds": [v.url + "/variants-feed/"], "sitemaps": [v.url + "/variants-sitemap.xml"]}

        # ---- origin: the article copied later; multilang: four editions of one story
        o = servers["origin"]
        osite = build_news_site(o.url, n_articles=2, with_feed="rss2", with_sitemap=None, sections=False,
                                site_name="Origin Daily")
        o.site.update(osite)
        m = servers["multilang"]
        msite = build_multilang_site(m.url)
        m.site.update(msite)

        sources1 = write_sources(tmp / "s1.toml", [
            variants_source, osite.source("origin", declare_feeds=True),
            msite.source("multilang", declare_feeds=True, declare_sitemaps=True)])
        r1 = run_monitor("crawl", "--sources", sources1, "--db", db, *SETTINGS)
        assert r1.returncode == 0, r1.stdout[-2000:] + r1.stderr[-3000:]
        log1 = {name: list(s.requests) for name, s in servers.items()}

        # ---- crawl 2: a new tracking variant in the variants feed; the copies source
        v.clear_log()
        v.site["/variants-feed/"] = page_resource(
            _feed(v.url, [dataclasses.replace(x, url=urls["tracking"]),
                          dataclasses.replace(x, url=x.url + NEW_TRACKING, title=x.title + " (again)")]),
            datetime(2026, 1, 2, tzinfo=timezone.utc))
        v.site["/variants-sitemap.xml"] = page_resource(syndication.urlset(        # same entries, new order
            [(urls["y_amp"], None), (urls["share"], None), (urls["old"], None), (urls["amp"], None)]),
            datetime(2026, 1, 2, tzinfo=timezone.utc), XML)
        c = servers["copies"]
        csite = build_news_site(c.url, n_articles=1, with_feed=None, with_sitemap=None, site_name="Steppe Herald")
        c.site.update(csite)
        origin = osite.articles[0]
        paragraphs = origin.body.split("\n\n")
        c.site["/reprints/exact/"] = _copy_page(c.url, "/reprints/exact/", origin, title=origin.title,
                                                author=origin.author, paragraphs=paragraphs)
        c.site["/reprints/near/"] = _copy_page(c.url, "/reprints/near/", origin,
                                               title="Astana talks: what was agreed", author="Jan Nowak",
                                               paragraphs=[EDITOR_NOTE, *paragraphs, REPUBLISHED])
        c.site["/reprints-sitemap.xml"] = page_resource(syndication.urlset(
            [(c.url + "/reprints/exact/", None), (c.url + "/reprints/near/", None), (csite.articles[0].url, None)]),
            datetime(2026, 1, 1, tzinfo=timezone.utc), XML)
        sources2 = write_sources(tmp / "s2.toml", [
            variants_source, {"name": "copies", "url": c.url + "/", "language": "en",
                              "sitemaps": [c.url + "/reprints-sitemap.xml"]}])
        r2 = run_monitor("crawl", "--sources", sources2, "--db", db, *SETTINGS)
        assert r2.returncode == 0, r2.stdout[-2000:] + r2.stderr[-3000:]
        yield {"db": db, "r1": r1, "r2": r2, "urls": urls, "x": x, "y": y, "z": vsite.articles[2],
               "origin": origin, "osite": osite, "msite": msite, "csite": csite, "servers": servers,
               "log1": log1, "log2": {name: list(s.requests) for name, s in servers.items()}}
    finally:
        for s in servers.values():
            s.stop()


def _variants(db, article_id):
    return {r["url"] for r in rows(db, "SELECT url FROM article_urls WHERE article_id = ?", [article_id])}


def test_url_variants_collapse_into_one_row(crawled):
    db, urls, x, y, z = crawled["db"], crawled["urls"], crawled["x"], crawled["y"], crawled["z"]
    stored = rows(db, "SELECT id, url FROM articles WHERE source = 'variants' ORDER BY id")
    assert sorted(r["url"] for r in stored) == sorted([x.url, y.url]), stored   # Z was never listed
    x_id = next(r["id"] for r in stored if r["url"] == x.url)
    y_id = next(r["id"] for r in stored if r["url"] == y.url)
    assert {x.url, urls["tracking"], urls["amp"], urls["old"], urls["share"]} <= _variants(db, x_id)
    assert {y.url, urls["y_amp"]} <= _variants(db, y_id)
    # the tracking and AMP forms of X share one canonical URL: only one of them was requested
    paths = [r.path for r in crawled["log1"]["variants"]]
    tracking_path = urls["tracking"].split(crawled["servers"]["variants"].url, 1)[1]
    amp_path = x.path + "amp/"
    assert (tracking_path in paths) + (amp_path in paths) == 1, paths
    assert paths.count(amp_path) <= 1 and paths.count(tracking_path) <= 1


def test_known_variants_are_not_requested_and_new_variant_recorded(crawled):
    db, urls, x = crawled["db"], crawled["urls"], crawled["x"]
    log2 = crawled["log2"]["variants"]
    paths = [r.path for r in log2]
    # only robots.txt, the feed and the sitemap: no stored article, old, share, AMP or tracking URL
    assert set(paths) <= {"/robots.txt", "/variants-feed/", "/variants-sitemap.xml"}, paths
    assert not any("gclid" in p or "utm_" in p for p in paths)
    x_id = rows(db, "SELECT id FROM articles WHERE url = ?", [x.url])[0]["id"]
    assert x.url + NEW_TRACKING in _variants(db, x_id)       # seen in the feed, recorded, never fetched
    assert rows(db, "SELECT count(*) AS n FROM articles WHERE source = 'variants'")[0]["n"] == 2
    crawl2 = rows(db, "SELECT * FROM crawls WHERE id = 2")[0]
    # one per stored article URL met: X's tracking-or-AMP form (the other is a variant of it), old, share,
    # Y's AMP (the summary's "known" column)
    assert crawl2["skipped_known"] == 4


def test_exact_and_near_copies_on_another_source(crawled):
    db, origin, csite = crawled["db"], crawled["origin"], crawled["csite"]
    orig = rows(db, "SELECT id, duplicate_of, content_hash FROM articles WHERE url = ?", [origin.url])[0]
    assert orig["duplicate_of"] is None
    copies = {r["url"].rsplit("/", 2)[-2]: r for r in rows(
        db, "SELECT id, url, duplicate_of, content_hash, title, author FROM articles WHERE source = 'copies'")}
    assert set(copies) >= {"exact", "near"}, copies
    assert copies["exact"]["duplicate_of"] == orig["id"]
    assert copies["exact"]["content_hash"] == orig["content_hash"]       # an exact copy, found by hash
    assert copies["near"]["duplicate_of"] == orig["id"]
    assert copies["near"]["content_hash"] != orig["content_hash"]        # a near copy, found by MinHash-LSH
    assert copies["near"]["title"] == "Astana talks: what was agreed"    # stored as it was published
    own = [r for k, r in copies.items() if k not in ("exact", "near")]
    assert len(own) == 1 and own[0]["duplicate_of"] is None              # its own article is not a copy
    # the crawl summary counts the copies as duplicates, not as new stories
    crawl2 = rows(db, "SELECT * FROM crawls WHERE id = 2")[0]
    assert crawl2["duplicates"] == 2 and crawl2["articles_new"] == 1
    line = next(ln for ln in crawled["r2"].stdout.splitlines() if ln.startswith("copies "))
    assert line.split()[2:5] == ["1", "2", "0"], line          # new, dups, known


def test_language_editions_linked_and_listed(crawled):
    from monitor.query.reads import story_editions

    db, msite = crawled["db"], crawled["msite"]
    group = {msite.url_for(p) for p in msite.story_groups[0]}
    stored = rows(db, "SELECT a.id, a.url, a.language, s.story_id, s.via FROM articles a "
                      "LEFT JOIN story_links s ON s.article_id = a.id WHERE a.source = 'multilang'")
    assert len(stored) == 5
    editions = [r for r in stored if r["url"] in group]
    assert len(editions) == 4 and {r["language"] for r in editions} == {"en", "pl", "de", "ru"}
    story_ids = {r["story_id"] for r in editions}
    assert len(story_ids) == 1 and story_ids == {min(r["id"] for r in editions)}
    unrelated = next(r for r in stored if r["url"] not in group)
    assert unrelated["story_id"] is None
    for ed in editions:
        listed = story_editions(db, ed["id"])
        assert {r["url"] for r in listed} == group
        assert listed[0]["id"] == listed[0]["story_id"]          # the story's first article first
    assert [r["id"] for r in story_editions(db, unrelated["id"])] == [unrelated["id"]]
    assert story_editions(db, 10_000) == []
