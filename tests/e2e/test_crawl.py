"""End-to-end crawls: the real CLI (subprocess) against fixture news sites on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.support.fixtureserver import FixtureServer, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites import build_news_site

pytestmark = pytest.mark.slow


def _norm(url: str) -> str:
    return url.rstrip("/")


@pytest.fixture
def four_sites(tmp_path):
    """A feed-only, a sitemap-only, a discovery-only (url only) and a section-page source."""
    servers = [FixtureServer(Site()) for _ in range(4)]
    for s in servers:
        s.start()
    feed_site = build_news_site(servers[0].url, n_articles=5, with_feed="rss2", with_sitemap=None)
    sitemap_site = build_news_site(servers[1].url, n_articles=5, with_feed=None, with_sitemap="gnews",
                                   gzip_sitemap=True, language="ru")
    discovery_site = build_news_site(servers[2].url, n_articles=5, with_feed="atom", with_sitemap="index",
                                     language="pl")
    section_site = build_news_site(servers[3].url, n_articles=7, with_feed=None, with_sitemap=None,
                                   robots_sitemap=False, home_links_feed=False, language="kk")
    sites = [feed_site, sitemap_site, discovery_site, section_site]
    for server, site in zip(servers, sites):
        server.site.update(site)
    entries = [
        feed_site.source("feedsrc", declare_feeds=True),
        sitemap_site.source("sitemapsrc", declare_sitemaps=True),
        discovery_site.source("discoversrc"),
        section_site.source("sectionsrc", sections=[section_site.url_for("/section/world/"),
                                                    section_site.url_for("/section/business/")],
                            article_pattern=r"/\d{4}/\d{2}/\d{2}/"),
    ]
    sources = write_sources(tmp_path / "sources.toml", entries)
    yield servers, sites, sources
    for s in servers:
        s.stop()


def test_crawl_four_kinds_of_source(four_sites, tmp_path):
    servers, sites, sources = four_sites
    db = tmp_path / "m.db"
    result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Crawl 1 finished" in result.stdout

    stored = rows(db, "SELECT * FROM articles")
    by_source: dict[str, dict] = {}
    for r in stored:
        by_source.setdefault(r["source"], {})[_norm(r["url"])] = r
    names = ["feedsrc", "sitemapsrc", "discoversrc", "sectionsrc"]
    for name, server, site in zip(names, servers, sites):
        got = by_source.get(name, {})
        # sections only reach the articles linked from the declared section pages
        expected = site.articles if name != "sectionsrc" else [
            a for a in site.articles if a.section in ("world", "business")]
        assert expected, name
        for art in expected:
            row = got.get(_norm(art.url))
            assert row is not None, f"{name}: {art.url} not stored; stored: {sorted(got)}"
            assert row["title"] and art.title.split()[0] in row["title"]
            assert row["published"] and row["published"][:10] == art.published_date
            assert row["language"] == art.language
            assert art.text_snippet in row["text"], f"{name}: snippet missing from {art.url}"
            for sentence in site.boilerplate:
                assert sentence not in row["text"]
        # nothing but articles, each exactly once
        expected_urls = {_norm(a.url) for a in site.articles}
        assert set(got) <= expected_urls, f"{name}: non-articles stored: {set(got) - expected_urls}"
        # robots.txt: no disallowed URL requested
        requested = set(server.paths_requested())
        for path in site.disallowed:
            assert path not in requested, f"{name}: robots-disallowed {path} was requested"
    urls = [r["url"] for r in stored]
    assert len(urls) == len(set(urls))
    crawl = rows(db, "SELECT * FROM crawls")[0]
    assert crawl["status"] == "finished" and crawl["articles_new"] == len(stored)
    assert crawl["finished_at"]


def test_bad_sources_file_exit_2_names_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "x"\nurl = "https://x.example/"\narticle_pattern = "(["\n', encoding="utf-8")
    result = run_monitor("crawl", "--sources", bad, "--db", tmp_path / "m.db")
    assert result.returncode == 2
    assert "article_pattern" in result.stderr and "bad.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_bad_setting_exit_2(tmp_path):
    result = run_monitor("crawl", "--db", tmp_path / "m.db", "-s", "DOWNLOAD_DELAY=fast")
    assert result.returncode == 2
    assert "DOWNLOAD_DELAY" in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_scrapy_list_and_crawl(tmp_path):
    import os
    import subprocess
    import sys

    from tests.support.helpers import REPO_ROOT

    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=3, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        sources = write_sources(tmp_path / "s.toml", [site.source("onesite", declare_feeds=True)])
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MONITOR_SOURCES": str(sources)}
        listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr[-2000:]
        assert listed.stdout.split() == ["onesite"]
        db = tmp_path / "s.db"
        fast = [x for x in FAST_SETTINGS if x != "-s"]
        args = [sys.executable, "-m", "scrapy", "crawl", "onesite", "-s", f"MONITOR_DB={db}"]
        for setting in fast:
            args += ["-s", setting]
        crawled = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
        assert crawled.returncode == 0, crawled.stderr[-3000:]
    stored = {_norm(r["url"]) for r in rows(db, "SELECT url FROM articles")}
    assert stored == {_norm(a.url) for a in site.articles}
    crawl = rows(db, "SELECT status, sources FROM crawls")
    assert crawl == [{"status": "finished", "sources": '["onesite"]'}]
