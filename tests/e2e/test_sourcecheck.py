"""`monitor sources check`: health checks against offline fixture sites shaped like the catalogue's kinds of
site (tests/support/sourcecheck_sites.py), the `--suggest` round trip into a real crawl, and the HTTP/discovery
helpers underneath."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.crawl.discovery import FeedError, alternate_feeds, feed_entries, robots_sitemaps
from tests.support.fixtureserver import FixtureServer, Resource, Site, gzip_encoded, gzip_file, redirect, slow
from monitor.sources.check import Fetcher, article_score, check_sources
from monitor.sources.catalogue import Source, parse_sources, source_from_dict
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.helpers import free_port as _free_port
from tests.support.sourcecheck_sites import BUILDERS, article_page, published, urlset

NAMES = list(BUILDERS)  # wp, gnews, links, broken, forbidden


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """One fixture server per kind of site, and a sources file declaring them as a catalogue would."""
    servers, entries, sites = {}, [], {}
    for name, build in BUILDERS.items():
        server = FixtureServer(Site()).start()
        resources, entry = build(server.url, name=name)
        server.site.update(resources)
        servers[name], sites[name] = server, resources
        entries.append(entry)
    path = write_sources(tmp_path_factory.mktemp("check") / "sources.toml", entries)
    yield servers, path
    for server in servers.values():
        server.stop()


def invoke(*args):
    return CliRunner().invoke(cli, ["sources", "check", *map(str, args)])


def table_rows(stdout: str) -> dict[str, dict]:
    """The report table as {source: {column: value}} (columns are separated by two or more spaces)."""
    lines = stdout.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    out = {}
    for line in lines[2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=len(header) - 1)
        out[cells[0]] = dict(zip(header, cells + [""] * (len(header) - len(cells))))
    return out


def test_table_reports_healthy_and_broken_sources(fleet):
    _servers, path = fleet
    result = invoke("--sources", path, "-q")
    assert result.exit_code == 1, result.output
    got = table_rows(result.stdout)
    assert set(got) == set(NAMES)
    assert got["wp"] | {"secs": ""} == {
        "source": "wp", "status": "ok", "reachable": "yes", "feeds": "1/1 +0", "sitemaps": "0/0 +1",
        "candidates": "3", "extracted": "3/3", "robots": "ok", "secs": "", "problems": ""}
    assert (got["gnews"]["status"], got["gnews"]["feeds"], got["gnews"]["sitemaps"], got["gnews"]["extracted"]) \
        == ("ok", "0/0 +0", "0/0 +1", "3/3")
    assert (got["links"]["status"], got["links"]["feeds"], got["links"]["sitemaps"], got["links"]["extracted"]) \
        == ("ok", "0/0 +0", "0/0 +0", "3/3")
    assert (got["broken"]["status"], got["broken"]["reachable"], got["broken"]["feeds"]) == ("BROKEN", "NO", "0/1 +0")
    assert (got["forbidden"]["status"], got["forbidden"]["robots"]) == ("BROKEN", "NO")
    assert "3 ok, 2 broken (broken, forbidden)" in result.stdout
    # the full problems are listed under the table
    assert re.search(r"^broken: BROKEN: unreachable: home page http://\S+: HTTP 500$", result.stdout, re.M)
    assert re.search(r"^broken: BROKEN: declared feed http://\S+/feed/: HTTP 404$", result.stdout, re.M)
    assert re.search(r"^forbidden: BROKEN: robots.txt forbids media-monitor .* home page", result.stdout, re.M)


def test_json_report_details(fleet):
    servers, path = fleet
    servers["forbidden"].clear_log()
    result = invoke("--sources", path, "--format", "json", "-q")
    assert result.exit_code == 1, result.output
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    assert [r["name"] for r in json.loads(result.stdout)] == NAMES  # the sources' order

    wp = reports["wp"]
    channels = {(c["kind"], c["origin"], c["url"].rsplit("/", 2)[-2] or c["url"].rsplit("/", 1)[-1])
                for c in wp["channels"]}
    assert ("feed", "declared", "feed") in channels
    assert any(c["origin"] == "robots.txt" and c["url"].endswith("/wp-sitemap.xml") and c["ok"] and c["entries"] == 3
               for c in wp["channels"])
    # the /sitemap.xml probe redirects to the same file: not counted twice; comment feeds are never used
    assert not [c for c in wp["channels"] if c["origin"] == "probe"]
    assert not [c for c in wp["channels"] if "comments" in c["url"]]
    # the index is followed into posts, not into taxonomies or users
    children = [c["url"] for c in wp["channels"] if c["origin"] == "index"]
    assert children and all("posts" in u for u in children)
    assert {c["via"] for c in wp["candidates"]} == {"feed", "sitemap"}
    assert all(c["ok"] and c["title"] and c["published"] and c["text_chars"] > 1000 for c in wp["candidates"])

    gnews = reports["gnews"]
    assert [c["via"] for c in gnews["candidates"]] == ["sitemap"] * 3
    assert [c["published"][:10] for c in gnews["candidates"]] == [published(i).date().isoformat() for i in range(3)]

    links = reports["links"]
    assert {c["via"] for c in links["candidates"]} == {"link"} and len(links["candidates"]) == 3
    assert all("/stories/" in c["url"] and c["ok"] for c in links["candidates"])
    assert links["links_rejected"] >= 1  # the hyphenated terms page is no article
    assert not [c for c in links["channels"] if c["kind"] == "sitemap"]  # soft-404 /sitemap.xml is ignored

    broken = reports["broken"]
    assert broken["broken"] and not broken["reachable"] and broken["home_status"] == 500
    assert [(c["kind"], c["ok"], c["status"]) for c in broken["channels"]] == [("feed", False, 404)]

    forbidden = reports["forbidden"]
    assert forbidden["broken"] and not forbidden["robots_ok"] and forbidden["reachable"]
    assert forbidden["channels"][0]["forbidden"] is True
    # robots.txt is obeyed: nothing but robots.txt was fetched from that site
    assert set(servers["forbidden"].paths_requested()) == {"/robots.txt"}


def test_healthy_sources_exit_zero_and_tag_selection(fleet):
    _servers, path = fleet
    result = invoke("--sources", path, "wp", "gnews", "links", "-q")
    assert result.exit_code == 0, result.output
    assert set(table_rows(result.stdout)) == {"wp", "gnews", "links"}
    assert "3 ok, 0 broken" in result.stdout

    result = invoke("--sources", path, "--tag", "regional", "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert set(table_rows(result.stdout)) == {"gnews"}
    assert "gnews: ok" in result.stderr  # progress line


def test_group_level_sources_option_is_honoured(fleet):
    _servers, path = fleet
    result = CliRunner().invoke(cli, ["sources", "--sources", str(path), "check", "gnews", "-q"])
    assert result.exit_code == 0, result.output
    assert set(table_rows(result.stdout)) == {"gnews"}


def test_unknown_source_is_a_usage_error(fleet):
    _servers, path = fleet
    result = invoke("--sources", path, "nope")
    assert result.exit_code == 2
    assert "unknown source 'nope'" in result.stderr


@pytest.mark.slow
def test_suggest_output_is_a_sources_file_that_crawls(fleet, tmp_path):
    servers, path = fleet
    result = invoke("--sources", path, "--suggest", "-q")
    assert result.exit_code == 1, result.output  # still says that two sources are broken
    suggested_text = result.stdout
    suggested = {s.name: s for s in parse_sources(suggested_text)}
    assert list(suggested) == NAMES
    base = {n: servers[n].url for n in NAMES}
    assert suggested["wp"].feeds == (base["wp"] + "/feed/",)
    assert suggested["wp"].sitemaps == (base["wp"] + "/wp-sitemap.xml",)
    assert suggested["gnews"].sitemaps == (base["gnews"] + "/sitemaps/news.xml",) and not suggested["gnews"].feeds
    assert suggested["links"].needs_discovery
    assert suggested["broken"].feeds == (base["broken"] + "/feed/",)  # site down: left as it was
    assert suggested["forbidden"].feeds == (base["forbidden"] + "/feed/",)  # not failing, only forbidden
    assert suggested["wp"].description and suggested["wp"].tags == ("kz",)  # the rest is kept
    assert "# wp: ok" in suggested_text and "added (robots.txt)" in suggested_text

    sources_file = tmp_path / "suggested.toml"
    sources_file.write_text(suggested_text, encoding="utf-8")
    db = tmp_path / "m.db"
    crawl = run_monitor("crawl", "wp", "gnews", "links", "--sources", sources_file, "--db", db, *FAST_SETTINGS)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    stored = rows(db, "SELECT source, url FROM articles")
    by_source = {}
    for r in stored:
        by_source.setdefault(r["source"], set()).add(r["url"].rstrip("/").rsplit("/", 1)[-1])
    assert len(by_source.get("wp", ())) == 4, by_source
    assert len(by_source.get("gnews", ())) == 4, by_source
    assert len(by_source.get("links", ())) == 4, by_source
    # the crawl of the suggested wp entry read the sitemap it adds
    assert servers["wp"].count("/wp-sitemap.xml") >= 1


# --------------------------------------------------------------------------- more broken shapes

def test_site_down_reports_unreachable_and_declared_unchecked():
    port = _free_port()
    src = source_from_dict({"name": "down", "url": f"http://127.0.0.1:{port}/",
                            "feeds": [f"http://127.0.0.1:{port}/feed/"]})
    (report,) = check_sources([src], timeout=2).reports
    assert report.broken and not report.reachable
    assert "connection refused" in report.problems[0]
    assert [(c.kind, c.ok, c.problem) for c in report.channels] == [("feed", False, "not checked: site unreachable")]
    assert report.suggested == src


def test_declared_sitemap_failing_and_gzip_sitemap_working():
    with FixtureServer(Site()) as server:
        base = server.url
        path = "/2026/03/a-story-about-the-wheat-export-corridor/"
        server.site.update({
            "/": Resource("<html><body><p>home</p></body></html>"),
            "/bad-sitemap.xml": Resource("<html><body>not xml", content_type="text/html"),
            "/sitemap.xml.gz": gzip_file(urlset(base, [(path, published(0))])),
            path: Resource(article_page(base + path, 7, published(0), site="S")),
        })
        src = source_from_dict({"name": "s", "url": base + "/",
                                "sitemaps": [base + "/bad-sitemap.xml", base + "/sitemap.xml.gz"]})
        (report,) = check_sources([src]).reports
    assert report.broken
    assert len(report.problems) == 1 and "declared sitemap" in report.problems[0] and "bad-sitemap" in report.problems[0]
    assert [(c.url.rsplit("/", 1)[-1], c.ok, c.entries) for c in report.channels] == [
        ("bad-sitemap.xml", False, 0), ("sitemap.xml.gz", True, 1)]
    assert [c.ok for c in report.candidates] == [True]
    assert report.suggested.sitemaps == (base + "/sitemap.xml.gz",)


def test_extraction_failing_on_all_candidates_is_broken():
    with FixtureServer(Site()) as server:
        base = server.url
        links = "".join(f'<a href="/2026/03/story-number-{i}-about-the-harvest/">s</a>' for i in range(3))
        server.site.update({
            "/": Resource(f"<html><body>{links}</body></html>"),
            "/feed/": Resource(f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
                {"".join(f"<item><title>s{i}</title><link>{base}/2026/03/story-number-{i}-about-the-harvest/</link>"
                         "</item>" for i in range(3))}</channel></rss>""", content_type="application/rss+xml"),
            **{f"/2026/03/story-number-{i}-about-the-harvest/": Resource("<html><body><p>Too short.</p></body></html>")
               for i in range(3)},
        })
        src = source_from_dict({"name": "s", "url": base + "/", "feeds": [base + "/feed/"]})
        (report,) = check_sources([src]).reports
    assert report.broken
    assert len(report.candidates) == 3 and not any(c.ok for c in report.candidates)
    assert report.problems[0].startswith("extraction failed on all 3 candidates")
    assert "too_short" in report.problems[0]


def test_no_candidates_is_broken_and_partial_robots_is_a_warning():
    with FixtureServer(Site()) as server:
        base = server.url
        server.site.update({"/": Resource('<html><body><a href="/about/">About</a></body></html>')})
        src = source_from_dict({"name": "empty", "url": base + "/"})
        (report,) = check_sources([src]).reports
        assert report.broken and report.problems[0].startswith("no article candidates found")

        ok_path, private = "/2026/03/an-open-story-about-grain/", "/private/2026/03/a-closed-story-about-grain/"
        server.site.update({
            "/robots.txt": Resource("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
            "/feed/": Resource(f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
                <item><title>a</title><link>{base}{private}</link></item>
                <item><title>b</title><link>{base}{ok_path}</link></item></channel></rss>""",
                               content_type="application/rss+xml"),
            ok_path: Resource(article_page(base + ok_path, 11, published(0), site="S")),
            private: Resource(article_page(base + private, 12, published(1), site="S")),
        })
        src = source_from_dict({"name": "partial", "url": base + "/", "feeds": [base + "/feed/"]})
        server.clear_log()
        (report,) = check_sources([src]).reports
        assert server.count(private) == 0
    assert not report.broken and not report.robots_ok
    assert [(c.robots_ok, c.ok) for c in report.candidates] == [(False, False), (True, True)]
    assert any("robots.txt forbids article" in w for w in report.warnings)


# --------------------------------------------------------------------------- HTTP client and helpers

def test_fetcher_gzip_redirect_size_cap_and_timeout():
    big = "x" * 5000
    with FixtureServer(Site({
        "/gz": gzip_encoded("<html><body>compressed page</body></html>"),
        "/moved": redirect("/gz"),
        "/big": Resource(big, content_type="text/plain"),
        "/big-gz": gzip_encoded(big),
        "/slow": slow("late", delay=3),
    })) as server:
        fetcher = Fetcher(timeout=0.5, max_bytes=1000, allowed={ipaddress.ip_address("127.0.0.1")})
        got = fetcher.get(server.url_for("/moved"))
        assert got.ok and got.body == b"<html><body>compressed page</body></html>"
        assert got.final_url == server.url_for("/gz") and got.status == 200
        assert "larger than 1,000 bytes" in fetcher.get(server.url_for("/big")).error
        assert "once decompressed" in fetcher.get(server.url_for("/big-gz")).error
        late = fetcher.get(server.url_for("/slow"))
        assert not late.ok and late.connection_failed and late.status is None
        missing = fetcher.get(server.url_for("/missing"))
        assert (missing.ok, missing.status, missing.error, missing.connection_failed) == (False, 404, "HTTP 404", False)
        assert server.requests[0].headers["User-Agent"].startswith("media-monitor/")


def test_fetcher_network_boundary():
    """`sources check` refuses internal addresses like the crawl: a bare fetcher reaches no loopback address, a
    fetcher for a source on 127.0.0.1 reaches 127.0.0.1 but no redirect hop to 127.0.0.2 (nor its decimal
    spelling), and a metadata address never."""
    with FixtureServer(Site({"/ok": "fine"})) as inside, FixtureServer(Site(), host="127.0.0.2") as other:
        inside.site.update({"/to-other": redirect(f"http://127.0.0.2:{other.port}/ok"),
                            "/to-decimal": redirect(f"http://2130706434:{other.port}/ok"),
                            "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/")})
        other.site["/ok"] = Resource("secret")
        bare = Fetcher(timeout=2)
        refused = bare.get(inside.url_for("/ok"))
        assert not refused.ok and "loopback" in refused.error and "MONITOR_ALLOW_PRIVATE_ADDRESSES" in refused.error
        source = Source(name="intranet", url=inside.url + "/")
        bound = bare.for_source(source)
        assert bound.get(inside.url_for("/ok")).body == b"fine"
        for path in ("/to-other", "/to-decimal", "/to-metadata"):
            got = bound.get(inside.url_for(path))
            assert not got.ok and got.error.startswith("not fetched:"), (path, got.error)
        assert "127.0.0.2" in bound.get(inside.url_for("/to-decimal")).error
        assert other.requests == []
        loosened = Fetcher(timeout=2, allow_private=True)
        assert loosened.get(f"http://127.0.0.2:{other.port}/ok").body == b"secret"
        assert "cloud metadata" in loosened.get("http://169.254.169.254/").error


def test_discovery_helpers():
    html = """<html><head><base href="/news/">
      <link rel="alternate" type="application/rss+xml" href="feed/">
      <link rel="alternate" type="application/rss+xml" href="/comments/feed/">
      <link rel="alternate" type="application/atom+xml" href="https://example.com/atom.xml">
      <link rel="alternate" hreflang="ru" href="/ru/">
      <link rel="stylesheet alternate" type="text/css" href="/a.css"></head></html>"""
    assert alternate_feeds(html, "https://example.com/") == ["https://example.com/news/feed/",
                                                             "https://example.com/atom.xml"]
    assert alternate_feeds("", "https://example.com/") == []
    robots = "User-agent: *\nDisallow: /x\nSitemap: /s1.xml\nsitemap:https://example.com/s2.xml\nSitemap: /s1.xml\n"
    assert robots_sitemaps(robots, "https://example.com/robots.txt") == ["https://example.com/s1.xml",
                                                                         "https://example.com/s2.xml"]
    assert feed_entries(b'{"items": [{"url": "/a", "title": "A", "date_published": "2026-03-01"}]}', "https://e/") \
        == [("/a", {"title": "A", "published": "2026-03-01", "author": None, "language": None})]
    with pytest.raises(FeedError):
        feed_entries(b"{not json", "https://e/")
    with pytest.raises(FeedError):
        feed_entries(b"<html><body>no feed here", "https://e/")
    assert article_score("https://e.com/2026/03/some-story-about-grain/") > article_score("https://e.com/world/") \
        >= 0 > article_score("https://e.com/files/report-2026-03-01.pdf")
