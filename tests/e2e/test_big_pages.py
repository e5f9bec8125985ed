"""Issue 14: the caps of extraction apply to what costs.  One real `monitor crawl` (subprocess) of a fixture
site whose sitemap lists a 3 MB article that is ~90 % inline script (stored) and four pathological pages
(huge table, deep nesting, one 3 MB text node, a span bomb: each a recorded ``too_large`` error within the
time cap), and whose home page links to a long story without any article markup (stored: its URL is
story-shaped)."""

from __future__ import annotations

import time

import pytest

from monitor.extract.prune import strip_markup
from tests.support.fixtureserver import HTML, TEXT, XML, FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites.hostile import unique_text, urlset
from tests.support.sites.huge import pathological_pages, script_heavy_page

TIMEOUT = 10   # MONITOR_EXTRACT_TIMEOUT of the crawl
UNMARKED = "/world/council-approves-railway-budget-after-long-debate"


def _unmarked_page(paragraphs) -> bytes:
    """A story page with no og:type, no JSON-LD, no microdata and no date: only its text and its URL."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>Council approves railway budget</title></head><body><div class='menu'>"
            f"<a href='/'>Home</a></div><div class='story'><h1>Council approves railway budget</h1>{body}</div>"
            "</body></html>").encode()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    heavy_text = unique_text("script-heavy", paragraphs=6, lead="The heavy page keeps its story.")
    unmarked_text = unique_text("unmarked", paragraphs=8, lead="The unmarked page is a story too.")
    with FixtureServer(Site()) as server:
        base = server.url
        heavy = script_heavy_page("A story wrapped in three megabytes of script", heavy_text)
        paths = {"/news/2026/11/20/heavy-story/": heavy}
        paths.update({f"/news/2026/11/20/{name}/": body for name, body in pathological_pages().items()})
        site = {path: Resource(body, content_type=HTML) for path, body in paths.items()}
        site["/robots.txt"] = Resource(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n", content_type=TEXT)
        site["/sitemap.xml"] = Resource(urlset([base + p for p in paths]), content_type=XML)
        site["/"] = Resource(f"<html><body><a href='{UNMARKED}'>Council approves railway budget</a>"
                             "<a href='/world/'>World</a></body></html>", content_type=HTML)
        site["/world/"] = Resource(b"<html><body><p>World news</p></body></html>", content_type=HTML)
        site[UNMARKED] = Resource(_unmarked_page(unmarked_text), content_type=HTML)
        server.site.update(site)
        sources = write_sources(tmp / "sources.toml", [{"name": "big", "url": base + "/"}])
        db = tmp / "m.db"
        start = time.monotonic()
        result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS,
                             "-s", "MONITOR_EXTRACT_WORKERS=2", "-s", f"MONITOR_EXTRACT_TIMEOUT={TIMEOUT}")
        seconds = time.monotonic() - start
        script_share = 1 - len(strip_markup(heavy.decode()).encode()) / len(heavy)
        yield {"result": result, "db": db, "base": base, "sizes": {p: len(b) for p, b in paths.items()},
               "script_share": script_share,
               "seconds": seconds, "heavy_text": heavy_text, "unmarked_text": unmarked_text}


def test_crawl_finishes(crawl):
    assert crawl["result"].returncode == 0, crawl["result"].stderr[-3000:]


def test_a_3_mb_page_of_inline_script_is_stored(crawl):
    path = "/news/2026/11/20/heavy-story/"
    assert crawl["sizes"][path] > 3_000_000 and crawl["script_share"] > 0.85
    found = rows(crawl["db"], "SELECT title, text FROM articles WHERE url = ?", (crawl["base"] + path,))
    assert found, rows(crawl["db"], "SELECT url, reason, detail FROM fetch_errors")
    assert found[0]["title"] == "A story wrapped in three megabytes of script"
    assert found[0]["text"].split("\n") == crawl["heavy_text"]


def test_pathological_pages_are_recorded_errors_within_the_time_cap(crawl):
    errors = {r["url"].removeprefix(crawl["base"]): r for r in rows(crawl["db"], "SELECT * FROM fetch_errors")}
    cap = {"huge-table": "MONITOR_EXTRACT_MAX_BYTES", "text-node": "MONITOR_EXTRACT_MAX_BYTES",
           "deep-nesting": "MONITOR_EXTRACT_MAX_ELEMENTS", "span-bomb": "MONITOR_EXTRACT_MAX_ELEMENTS"}
    for name, setting in cap.items():
        err = errors.get(f"/news/2026/11/20/{name}/")
        assert err is not None, (name, errors)
        assert err["reason"] == "too_large" and setting in err["detail"], (name, err)
    # refused before parsing: the whole crawl takes less than one extraction's time cap per page
    assert crawl["seconds"] < 4 * TIMEOUT, crawl["seconds"]


def test_a_long_story_without_article_markup_is_stored_from_a_link(crawl):
    found = rows(crawl["db"], "SELECT text FROM articles WHERE url = ?", (crawl["base"] + UNMARKED,))
    assert found and found[0]["text"].split("\n") == crawl["unmarked_text"]
    assert not rows(crawl["db"], "SELECT url FROM articles WHERE url LIKE ?", ("%/world/",))
