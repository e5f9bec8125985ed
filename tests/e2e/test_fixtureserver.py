"""The fixture server (log, 404, gzip, 304, redirects, streaming, broken/slow responses, live edits) and the
fixture site builders (everything reachable, feeds parse, sitemaps are valid, robots rules, demo sites)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.robotparser
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from monitor.demo import demo_sources, start_demo_servers
from monitor.demoserver import StaticServer
from tests.support.fixtureserver import (GZIP, FixtureServer, Resource, Site, conditional, gzip_encoded, gzip_file,
                                         read_log, redirect, sequence, serve_directory, slow, stream,
                                         too_many_requests, truncated)
from tests.support.helpers import REPO_ROOT
from tests.support.sites.huge import huge_sitemap, sitemap_size
from tests.support.sites.multilang import build_multilang_site
from tests.support.sites.newssite import build_news_site
from tests.support.sites.texts import CORPUS_DIR

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def fetch(url: str, headers: dict | None = None, method: str = "GET", timeout: float = 10):
    """(status, headers, body) without following redirects or raising on 4xx/5xx."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def xml(data: bytes):
    return lxml.etree.fromstring(data, lxml.etree.XMLParser(resolve_entities=False, no_network=True))


# ----------------------------------------------------------------------------------------- server

def test_serves_logs_and_404s():
    with FixtureServer({"/": "<p>home</p>", "/feed/": Resource("<rss/>", content_type="application/rss+xml")}) as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}" and srv.url_for("feed/") == srv.url + "/feed/"
        status, headers, body = fetch(srv.url + "/", {"User-Agent": "probe/1"})
        assert (status, body) == (200, b"<p>home</p>")
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert fetch(srv.url + "/feed/?utm_source=x")[0] == 200  # query falls back to the bare path
        assert fetch(srv.url + "/missing/?a=1")[0] == 404
        log = srv.requests
        assert [(r.method, r.path, r.status) for r in log] == [
            ("GET", "/", 200), ("GET", "/feed/?utm_source=x", 200), ("GET", "/missing/?a=1", 404)]
        assert log[0].headers["user-agent"] == "probe/1" and log[0].time <= log[1].time
        assert log[2].url_path == "/missing/" and log[2].query == {"a": ["1"]}
        assert srv.paths_requested() == ["/", "/feed/?utm_source=x", "/missing/?a=1"]
        assert srv.count("/feed/") == 1 and srv.count("/feed/?utm_source=x") == 1 and srv.count("/nope") == 0
        srv.clear_log()
        assert srv.requests == [] and srv.count("/") == 0


def test_log_file_collects_several_servers(tmp_path):
    log = tmp_path / "requests.jsonl"
    with FixtureServer({"/a": "a"}, log_file=log) as one, FixtureServer({"/b": "b"}, log_file=log) as two:
        fetch(one.url + "/a")
        fetch(two.url + "/b?x=1", {"User-Agent": "crawler"})
        fetch(two.url + "/zzz")
    entries = read_log(log)
    assert [(e.server, e.path, e.status) for e in entries] == [
        (one.url, "/a", 200), (two.url, "/b?x=1", 200), (two.url, "/zzz", 404)]
    assert entries[1].headers["User-Agent"] == "crawler" and entries[1].url == two.url + "/b?x=1"


def test_gzip_file_and_gzip_transfer_encoding():
    sitemap = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>'
    with FixtureServer({"/sitemap.xml.gz": gzip_file(sitemap), "/page": gzip_encoded("<p>zipped</p>")}) as srv:
        status, headers, body = fetch(srv.url + "/sitemap.xml.gz")
        assert status == 200 and headers["Content-Type"] == GZIP and "Content-Encoding" not in headers
        assert gzip.decompress(body).decode() == sitemap
        status, headers, body = fetch(srv.url + "/page", {"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == b"<p>zipped</p>"


def test_conditional_get_answers_304():
    modified = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with FixtureServer({"/e": conditional("<p>v1</p>", etag="abc"),
                        "/m": conditional("<p>v1</p>", last_modified=modified),
                        "/auto": conditional("<p>auto</p>")}) as srv:
        status, headers, _ = fetch(srv.url + "/e")
        assert status == 200 and headers["ETag"] == '"abc"'
        assert fetch(srv.url + "/e", {"If-None-Match": '"abc"'})[:3:2] == (304, b"")
        assert fetch(srv.url + "/e", {"If-None-Match": 'W/"zzz", "abc"'})[0] == 304
        assert fetch(srv.url + "/e", {"If-None-Match": '"old"'})[0] == 200
        status, headers, _ = fetch(srv.url + "/m")
        assert headers["Last-Modified"] == "Sun, 01 Mar 2026 12:00:00 GMT"
        assert fetch(srv.url + "/m", {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        earlier = format_datetime(modified - timedelta(days=1), usegmt=True)
        assert fetch(srv.url + "/m", {"If-Modified-Since": earlier})[0] == 200
        etag = fetch(srv.url + "/auto")[1]["ETag"]
        assert fetch(srv.url + "/auto", {"If-None-Match": etag})[0] == 304
        assert [r.status for r in srv.requests][-2:] == [200, 304]


def test_redirects():
    with FixtureServer({"/old/": redirect("/new/"), "/tmp": redirect("/new/", 302), "/new/": "<p>new</p>"}) as srv:
        status, headers, _ = fetch(srv.url + "/old/")
        assert status == 301 and headers["Location"] == "/new/"
        assert fetch(srv.url + "/tmp")[0] == 302
        import urllib.request
        with urllib.request.urlopen(srv.url + "/old/") as resp:
            assert resp.url == srv.url + "/new/" and resp.read() == b"<p>new</p>"


def test_streams_a_large_body_without_holding_it():
    """32 MB go out in 64 KB chunks (chunked encoding): the server never builds the body."""
    chunk, n = b"x" * 65536, 512

    with FixtureServer({"/big": stream(lambda: (chunk for _ in range(n)))}) as srv:
        tracemalloc.start()
        try:
            parts = urlsplit(srv.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request("GET", "/big")
            resp = conn.getresponse()
            assert resp.headers["Transfer-Encoding"] == "chunked"
            total = 0
            while block := resp.read(1 << 16):
                total += len(block)
            conn.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert total == len(chunk) * n
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the body was held in memory"


def test_huge_sitemap_streams_valid_xml_plain_and_gzipped():
    with FixtureServer(Site()) as srv:
        srv.site["/sitemap.xml"] = huge_sitemap(srv.url, 3000, with_length=True)
        srv.site["/sitemap.xml.gz"] = huge_sitemap(srv.url, 3000, gzip=True)
        status, headers, body = fetch(srv.url + "/sitemap.xml")
        assert int(headers["Content-Length"]) == len(body) == sitemap_size(srv.url, 3000)
        locs = [e.text for e in xml(body).iter(SM + "loc")]
        assert len(locs) == 3000 and locs[0].startswith(srv.url + "/archive/0/story-0/")
        status, headers, gz = fetch(srv.url + "/sitemap.xml.gz")
        assert headers["Content-Type"] == GZIP and gzip.decompress(gz) == body


def test_site_can_change_between_requests():
    site = Site()
    with FixtureServer(site) as srv:
        assert fetch(srv.url + "/new/")[0] == 404
        site["/new/"] = "<p>first</p>"
        assert fetch(srv.url + "/new/")[2] == b"<p>first</p>"
        site.update({"/new/": "<p>second</p>", "/other/": Resource("gone", status=410)})
        assert fetch(srv.url + "/new/")[2] == b"<p>second</p>" and fetch(srv.url + "/other/")[0] == 410
        del site["/new/"]
        assert fetch(srv.url + "/new/")[0] == 404
    with pytest.raises(ValueError):
        site["no-slash"] = "x"


def test_connection_closed_mid_body():
    with FixtureServer({"/cut": truncated(b"a" * 10000, after=1000)}) as srv:
        parts = urlsplit(srv.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", "/cut")
        resp = conn.getresponse()
        assert resp.headers["Content-Length"] == "10000"
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert len(info.value.partial) == 1000
        conn.close()


def test_slow_responses_and_client_timeouts():
    with FixtureServer({"/slow": slow("ok", delay=0.3), "/trickle": slow("y" * 40, delay=0, chunk_delay=0.05,
                                                                          chunk_size=10),
                        "/stuck": slow("never", delay=30)}) as srv:
        start = time.monotonic()
        assert fetch(srv.url + "/slow")[2] == b"ok"
        assert time.monotonic() - start >= 0.3
        start = time.monotonic()
        assert fetch(srv.url + "/trickle")[2] == b"y" * 40
        assert time.monotonic() - start >= 0.15
        with pytest.raises((socket.timeout, TimeoutError)):
            fetch(srv.url + "/stuck", timeout=0.3)
        start = time.monotonic()
    assert time.monotonic() - start < 3  # stop() does not wait for the stuck handler


def test_retry_after_429_then_success_and_dynamic_bodies():
    seen = []

    def echo(req):
        seen.append(req.headers.get("X-Probe"))
        return f"you asked for {req.path}"

    def broken(req):
        raise RuntimeError("fixture bug")

    with FixtureServer({"/limited": sequence(too_many_requests(7), "<p>finally</p>"), "/echo": Resource(echo),
                        "/broken": Resource(broken)}) as srv:
        status, headers, _ = fetch(srv.url + "/limited")
        assert status == 429 and headers["Retry-After"] == "7"
        assert fetch(srv.url + "/limited")[:3:2] == (200, b"<p>finally</p>")
        assert fetch(srv.url + "/limited")[0] == 200
        assert fetch(srv.url + "/echo?q=1", {"X-Probe": "p"})[2] == b"you asked for /echo?q=1" and seen == ["p"]
        status, _, body = fetch(srv.url + "/broken")
        assert status == 500 and b"fixture bug" in body


def test_head_requests_get_headers_only():
    with FixtureServer({"/": "<p>hello</p>"}) as srv:
        status, headers, body = fetch(srv.url + "/", method="HEAD")
        assert status == 200 and headers["Content-Length"] == "12" and body == b""
        assert srv.count("/", method="HEAD") == 1


def test_wait_for_requests():
    with FixtureServer({"/": "x"}) as srv:
        assert not srv.wait_for(lambda reqs: len(reqs) >= 1, timeout=0.1)
        fetch(srv.url + "/")
        assert srv.wait_for(lambda reqs: any(r.path == "/" for r in reqs), timeout=1)


def test_serve_directory_substitutes_base(tmp_path):
    (tmp_path / "about").mkdir()
    (tmp_path / "index.html").write_text('<a href="/about/">about</a>')
    (tmp_path / "about" / "index.html").write_text('<link rel="canonical" href="{BASE}/about/">')
    (tmp_path / "feed.xml").write_text("<rss><channel><link>{BASE}/</link></channel></rss>")
    (tmp_path / "sitemap.xml.gz").write_bytes(gzip.compress(b"<urlset><url><loc>{BASE}/</loc></url></urlset>"))
    (tmp_path / "secret.txt").write_text("outside")
    with serve_directory(tmp_path / "about") as inner:
        assert fetch(inner.url + "/../secret.txt")[0] == 404  # no escape from the root
    with serve_directory(tmp_path) as srv:
        assert fetch(srv.url + "/")[2] == b'<a href="/about/">about</a>'
        status, headers, _ = fetch(srv.url + "/about")
        assert status == 301 and headers["Location"] == "/about/"
        assert fetch(srv.url + "/about/")[2].decode() == f'<link rel="canonical" href="{srv.url}/about/">'
        status, headers, body = fetch(srv.url + "/feed.xml")
        assert headers["Content-Type"].startswith("application/xml") and f"<link>{srv.url}/</link>" in body.decode()
        assert fetch(srv.url + "/feed.xml", {"If-None-Match": headers["ETag"]})[0] == 304
        _, headers, gz = fetch(srv.url + "/sitemap.xml.gz")
        assert headers["Content-Type"] == GZIP and srv.url.encode() in gzip.decompress(gz)
        (tmp_path / "late.html").write_text("added while serving")
        assert fetch(srv.url + "/late.html")[2] == b"added while serving"
        assert fetch(srv.url + "/nothing/")[0] == 404
    with serve_directory(tmp_path, substitutions=False) as raw:
        assert b"{BASE}" in fetch(raw.url + "/feed.xml")[2]


def test_demo_static_server_types_base_404_and_no_escape(tmp_path):
    """monitor.demoserver.StaticServer, the demo's own server: what `monitor demo` relies on."""
    site = tmp_path / "site"
    (site / "about").mkdir(parents=True)
    (site / "index.html").write_text('<a href="{BASE}/about/">about</a>')
    (site / "about" / "index.html").write_text("<p>about</p>")
    (site / "feed.xml").write_text("<rss><channel><link>{BASE}/</link></channel></rss>")
    (site / "robots.txt").write_text("Sitemap: {BASE}/sitemap.xml.gz\n")
    (site / "data.json").write_text('{"home": "{BASE}/"}')
    (site / "sitemap.xml.gz").write_bytes(gzip.compress(b"<urlset><url><loc>{BASE}/</loc></url></urlset>"))
    (tmp_path / "secret.txt").write_text("outside")
    with StaticServer(site) as srv:
        assert srv.host == "127.0.0.1" and srv.url == f"http://127.0.0.1:{srv.port}"
        status, headers, body = fetch(srv.url + "/")
        assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8",
                                                           f'<a href="{srv.url}/about/">about</a>'.encode())
        status, headers, _ = fetch(srv.url + "/about")
        assert status == 301 and headers["Location"] == "/about/"
        assert fetch(srv.url + "/about/")[2] == b"<p>about</p>"
        status, headers, body = fetch(srv.url + "/feed.xml?x=1")
        assert headers["Content-Type"] == "application/xml; charset=utf-8"
        assert f"<link>{srv.url}/</link>" in body.decode()
        status, headers, body = fetch(srv.url + "/robots.txt")
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert body.decode() == f"Sitemap: {srv.url}/sitemap.xml.gz\n"
        status, headers, body = fetch(srv.url + "/data.json")
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(body) == {"home": srv.url + "/"}
        _, headers, gz = fetch(srv.url + "/sitemap.xml.gz")
        assert headers["Content-Type"] == GZIP and srv.url.encode() in gzip.decompress(gz)
        status, headers, body = fetch(srv.url + "/feed.xml", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
        assert fetch(srv.url + "/missing.html")[0] == 404
        assert fetch(srv.url + "/../secret.txt")[0] == 404 and fetch(srv.url + "/%2e%2e/secret.txt")[0] == 404
        (site / "late.txt").write_text("added while serving")
        assert fetch(srv.url + "/late.txt")[2] == b"added while serving"
    with StaticServer(site, substitutions=False) as raw:
        assert b"{BASE}" in fetch(raw.url + "/feed.xml")[2]
    with pytest.raises(FileNotFoundError):
        StaticServer(tmp_path / "nothing")


def test_demo_module_serves_the_sample_sites_until_stopped():
    proc = subprocess.Popen([sys.executable, "-m", "monitor.demo"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        urls = [re.search(r"http://127\.0\.0\.1:\d+", line).group(0) for line in lines]
        assert [line.split(" ")[0] for line in lines] == ["steppe-herald", "dala-news"]
        assert b"<rss" in fetch(urls[0] + "/feed.xml")[2] and b"{BASE}" not in fetch(urls[1] + "/sitemap.xml")[2]
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_serves_a_directory(tmp_path):
    (tmp_path / "index.html").write_text("<p>cli</p>")
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.fixtureserver", str(tmp_path)], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        assert fetch(url + "/")[2] == b"<p>cli</p>"
    finally:
        proc.terminate()
        proc.wait(10)


# ----------------------------------------------------------------------------------------- builders

def crawl_links(srv: FixtureServer, start: str = "/") -> dict[str, bytes]:
    """Follow every same-site <a href> from ``start`` (ignoring robots.txt): path -> body."""
    seen: dict[str, bytes] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        status, _, body = fetch(srv.url + path)
        assert status == 200, f"{path} linked but answers {status}"
        seen[path] = body
        for href in lxml.html.fromstring(body).xpath("//a/@href"):
            url = urljoin(srv.url + path, href)
            parts = urlsplit(url)
            if url.startswith(srv.url) and not parts.fragment and parts.path not in seen:
                todo.append(parts.path)
    return seen


@pytest.fixture
def news():
    with FixtureServer(Site()) as srv:
        site = build_news_site(srv.url)
        srv.site.update(site)
        yield srv, site


def test_every_article_is_reachable_by_links(news):
    srv, site = news
    pages = crawl_links(srv)
    assert {a.path for a in site.articles} <= set(pages)
    assert set(site.non_articles) <= set(pages)
    assert set(site.disallowed) <= set(pages)
    home = lxml.html.fromstring(pages["/"])
    world = lxml.html.fromstring(pages["/section/world/"])
    for doc in (home, world):  # a careless crawler would fetch the disallowed page from here
        assert {srv.url + p for p in site.disallowed} <= set(doc.xpath("//a/@href"))
    # pagination: some article is only listed on page 2 of its section
    assert world.xpath('//link[@rel="next"]/@href') == [srv.url + "/section/world/page/2/"]
    only_on_page_2 = {a.path for a in site.articles} - set(
        urlsplit(h).path for p in ("/", "/section/world/", "/section/business/")
        for h in lxml.html.fromstring(pages[p]).xpath("//a/@href"))
    assert only_on_page_2


def test_article_pages_carry_article_metadata(news):
    srv, site = news
    assert len(site.articles) == 6 and any(a.topical for a in site.articles)
    bodies = [a.body for a in site.articles]
    assert len(set(bodies)) == len(bodies)
    for a in site.articles:
        status, _, raw = fetch(a.url)
        doc = lxml.html.fromstring(raw)
        assert status == 200 and doc.get("lang") == a.language
        assert doc.xpath('//meta[@property="og:type"]/@content') == ["article"]
        assert doc.xpath('//link[@rel="canonical"]/@href') == [a.url]
        assert doc.xpath('//meta[@property="article:published_time"]/@content') == [a.published]
        ld = json.loads(doc.xpath('//script[@type="application/ld+json"]/text()')[0])
        assert ld["@type"] == "NewsArticle" and ld["headline"] == a.title and ld["datePublished"] == a.published
        assert a.text_snippet in " ".join(doc.xpath("//div[@class='entry-content']//text()"))
        assert len(a.body) > (1500 if a.origin.startswith("aeb") else 800)
        assert "Kazakhstan" in doc.xpath("string(//nav)")
        assert re.fullmatch(r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/", a.path)
    if CORPUS_DIR.is_dir():
        assert any(a.origin.startswith("aeb:") for a in site.articles)
    for path in site.non_articles:
        doc = lxml.html.fromstring(fetch(srv.url + path)[2])
        assert doc.xpath('//meta[@property="og:type"]/@content') == ["website"], path
        assert "NewsArticle" not in " ".join(doc.xpath('//script[@type="application/ld+json"]/text()'))
        assert "Kazakhstan" in doc.xpath("string(//nav)") + doc.xpath("string(//aside)")
    menu_only = [a for a in site.articles if not a.mentions_kazakhstan]
    assert menu_only, "some articles mention Kazakhstan only in the menu"


def test_robots_txt_rules_and_sitemap_lines(news):
    srv, site = news
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetch(srv.url + "/robots.txt")[2].decode().splitlines())
    assert robots.site_maps() == site.sitemaps == [srv.url + "/sitemap_index.xml"]
    assert site.disallowed and not any(robots.can_fetch("media-monitor", srv.url + p) for p in site.disallowed)
    assert all(robots.can_fetch("media-monitor", a.url) for a in site.articles)
    plain = build_news_site(srv.url, disallow=(), robots_sitemap=False, with_sitemap="urlset")
    assert plain.disallowed == [] and "Sitemap:" not in plain["/robots.txt"].body


@pytest.mark.parametrize("kind", ["rss2", "atom", "rdf"])
def test_feeds_parse_with_feedparser(kind):
    with FixtureServer(Site()) as srv:
        site = build_news_site(srv.url, with_feed=kind, n_articles=5)
        srv.site.update(site)
        home = lxml.html.fromstring(fetch(srv.url + "/")[2])
        assert home.xpath('//link[@rel="alternate"]/@href') == site.feeds
        status, headers, body = fetch(site.feeds[0])
        parsed = feedparser.parse(body)
        assert status == 200 and not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == {"rss2": "rss20", "atom": "atom10", "rdf": "rss10"}[kind]
        assert [e.link for e in parsed.entries] == [a.url for a in site.articles]
        assert [e.title for e in parsed.entries] == [a.title for a in site.articles]
        assert all(e.get("published_parsed") or e.get("updated_parsed") for e in parsed.entries)


def test_json_feed_and_no_feed_link():
    with FixtureServer(Site()) as srv:
        site = build_news_site(srv.url, with_feed="json", home_links_feed=False)
        srv.site.update(site)
        assert lxml.html.fromstring(fetch(srv.url + "/")[2]).xpath('//link[@rel="alternate"]') == []
        status, headers, body = fetch(srv.url + "/feed.json")
        feed = json.loads(body)
        assert headers["Content-Type"].startswith("application/feed+json")
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert [i["url"] for i in feed["items"]] == [a.url for a in site.articles]


@pytest.mark.parametrize("kind,gz", [("index", False), ("index", True), ("urlset", False), ("urlset", True),
                                    ("gnews", False), ("gnews", True)])
def test_sitemaps_are_valid_and_complete(kind, gz):
    with FixtureServer(Site()) as srv:
        site = build_news_site(srv.url, with_sitemap=kind, gzip_sitemap=gz, with_feed=None)
        srv.site.update(site)
        found, todo = [], list(site.sitemaps)
        while todo:
            status, headers, body = fetch(todo.pop(0))
            assert status == 200
            if headers["Content-Type"] == GZIP:
                body = gzip.decompress(body)
            root = xml(body)
            locs = [e.text for e in root.iter(SM + "loc")]
            if root.tag == SM + "sitemapindex":
                todo += locs
            else:
                found += locs
            if kind == "gnews":
                news = "{http://www.google.com/schemas/sitemap-news/0.9}"
                dates = [e.text for e in root.iter(news + "publication_date")]
                titles = [e.text for e in root.iter(news + "title")]
                assert dates[:len(site.articles)] == [a.published for a in site.articles]
                assert titles[:len(site.articles)] == [a.title for a in site.articles]
        assert {a.url for a in site.articles} <= set(found)
        assert {site.url_for(p) for p in site.disallowed} <= set(found)  # robots.txt must still win
        assert any(p.endswith(".gz") for p in site) == gz


def test_rebuilding_keeps_articles_and_other_sites_get_other_texts():
    with FixtureServer(Site()) as srv, FixtureServer(Site()) as other:
        small = build_news_site(srv.url, n_articles=4)
        srv.site.update(small)
        assert fetch(srv.url + build_news_site(srv.url, n_articles=6).articles[5].path)[0] == 404
        bigger = build_news_site(srv.url, n_articles=6)
        srv.site.update(bigger)  # new pages between two crawls
        assert [a.path for a in bigger.articles[:4]] == [a.path for a in small.articles]
        assert fetch(srv.url + bigger.articles[5].path)[0] == 200
        elsewhere = build_news_site(other.url, n_articles=12, corpus_pages=False)
        assert not {a.body for a in elsewhere.articles} & {a.body for a in bigger.articles}
        assert len({a.body for a in elsewhere.articles}) == 12
        assert all(len(a.body) > 800 for a in elsewhere.articles)


@pytest.mark.parametrize("language,word", [("ru", "Казахстан"), ("kk", "Қазақстан"), ("pl", "Kazachstan")])
def test_other_languages_without_corpus(language, word):
    with FixtureServer(Site()) as srv:
        site = build_news_site(srv.url, language=language, corpus_pages=False, n_articles=4)
        srv.site.update(site)
        assert {a.language for a in site.articles} == {language}
        assert any(a.mentions_kazakhstan for a in site.articles)
        for a in site.articles:
            doc = lxml.html.fromstring(fetch(a.url)[2])
            assert doc.get("lang") == language and word in doc.xpath("string(//nav)")
            assert len(a.body) > 800 and a.text_snippet in a.body
    with pytest.raises(ValueError):
        build_news_site("http://127.0.0.1:1", language="xx")


def test_multilang_editions_link_each_other():
    with FixtureServer(Site()) as srv:
        site = build_multilang_site(srv.url)
        srv.site.update(site)
        group = site.story_groups[0]
        assert len(group) == 4 and len(site.articles) == 5
        images, langs = set(), set()
        for path in group:
            doc = lxml.html.fromstring(fetch(srv.url + path)[2])
            alternates = {link.get("hreflang"): link.get("href") for link in doc.xpath('//link[@hreflang]')}
            assert {urlsplit(u).path for k, u in alternates.items() if k != "x-default"} == set(group)
            images.update(doc.xpath('//meta[@property="og:image"]/@content'))
            langs.add(doc.get("lang"))
        assert langs == {"en", "pl", "de", "ru"} and len(images) == 1
        assert fetch(images.pop())[1]["Content-Type"] == "image/png"
        unrelated = [a for a in site.articles if a.path not in group][0]
        assert unrelated.image != site.article(group[0]).image
        assert all(a.mentions_kazakhstan for a in site.articles if a.path in group)
        assert "DZIELIĆ" in fetch(srv.url + group[1])[2].decode() and site.boilerplate
        assert not feedparser.parse(fetch(srv.url + "/feed/")[2]).bozo


# ----------------------------------------------------------------------------------------- demo

def test_demo_sites_are_complete_and_offline():
    demos = start_demo_servers()
    try:
        assert [(d.name, d.language) for d in demos] == [("steppe-herald", "en"), ("dala-news", "ru")]
        from monitor.sources.catalogue import source_from_dict
        sources = [source_from_dict(e) for e in demo_sources(demos)]
        assert sources[0].feeds and sources[1].sitemaps
        for (name, srv, language), source in zip(demos, sources):
            pages = crawl_links(srv)
            assert "{BASE}" not in b"".join(pages.values()).decode()
            article_urls = set()
            for url in [*source.feeds, *source.sitemaps]:
                body = fetch(url)[2]
                assert b"{BASE}" not in body
                if url.endswith("feed.xml"):
                    parsed = feedparser.parse(body)
                    assert not parsed.bozo and len(parsed.entries) == 5
                    article_urls |= {e.link for e in parsed.entries}
                else:
                    article_urls |= {e.text for e in xml(body).iter(SM + "loc") if "/2026/" in e.text}
            assert len(article_urls) == 5 and {urlsplit(u).path for u in article_urls} <= set(pages)
            for url in article_urls:
                doc = lxml.html.fromstring(fetch(url)[2])
                assert doc.xpath('//meta[@property="og:type"]/@content') == ["article"]
                assert doc.xpath('//link[@rel="canonical"]/@href') == [url]
                assert doc.xpath('//meta[@property="article:published_time"]/@content')[0].startswith("2026-")
                assert doc.get("lang") in ({"en"} if language == "en" else {"ru", "kk"})
                assert len(" ".join(doc.xpath("//article//p[not(@class)]//text()"))) >= 900
            about = lxml.html.fromstring(pages["/about/"])
            assert about.xpath('//meta[@property="og:type"]/@content') == ["website"]
            robots = fetch(srv.url + "/robots.txt")[2].decode()
            assert "User-agent: *" in robots and "{BASE}" not in robots
    finally:
        for d in demos:
            d.server.stop()
