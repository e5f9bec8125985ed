"""Hostile and broken sites (issue #5): one real `monitor crawl` (subprocess) over three fixture servers,
then what ended in the database (articles, fetch_errors) and what the servers were asked (request log).

One crawl for all cases keeps the suite fast: the sources run concurrently in one Scrapy process.
- ``hostile``: every HTTP and content failure (tests/support/sites/hostile.py build_hostile_site);
- ``feeds``: broken feeds and sitemaps (build_feed_site), with links to another host name not followed;
- ``feeds-allowed``: the same off-site feed, with ``allowed_domains = ["localhost"]``: followed.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.support.fixtureserver import TEXT, FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites.hostile import _page, build_feed_site, build_hostile_site

pytestmark = pytest.mark.slow

TIMEOUT = 2           # DOWNLOAD_TIMEOUT of the crawl; the slow page answers after 3 s
MAXSIZE = 1 << 20     # DOWNLOAD_MAXSIZE of the crawl; the huge pages are 3 MB
BACKOFF = 1.0         # MONITOR_RETRY_BACKOFF
RETRY_AFTER = 2       # the 429 page asks for this many seconds
MAX_REDIRECTS = 5
MAX_FEED_ENTRIES = 40   # above the hostile feed's ~35 entries, far below the 3000 of feeds/many.xml


class Crawl:
    def __init__(self, result, db, hostile, feeds, servers):
        self.result, self.db, self.hostile, self.feeds = result, db, hostile, feeds
        self.hostile_server, self.feed_server, self.offsite_server = servers
        self.errors = {}
        for e in rows(db, "SELECT * FROM fetch_errors"):
            self.errors.setdefault(e["url"], []).append(e)
        self.articles = rows(db, "SELECT * FROM articles")
        self.by_variant = {r["url"]: r["article_id"] for r in rows(db, "SELECT url, article_id FROM article_urls")}
        self.by_id = {a["id"]: a for a in self.articles}

    def article(self, url):
        aid = self.by_variant.get(url) or self.by_variant.get(url.rstrip("/"))
        return self.by_id.get(aid)

    def requests(self, server, path):
        return [r for r in server.requests if r.url_path == path]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    servers = [FixtureServer(Site()), FixtureServer(Site()), FixtureServer(Site(), host="localhost")]
    for s in servers:
        s.start()
    try:
        hostile_server, feed_server, offsite_server = servers
        offsite_url = f"http://localhost:{offsite_server.port}"
        hostile = build_hostile_site(hostile_server.url, slow_delay=TIMEOUT + 1, huge_bytes=3 * MAXSIZE,
                                     retry_after=RETRY_AFTER)
        feeds = build_feed_site(feed_server.url, offsite_url=offsite_url)
        hostile_server.site.update(hostile.resources)
        feed_server.site.update(feeds.resources)
        offsite_server.site.update({"/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT),
                                    "/f/offsite/0/": Resource(_page("offsite-0")),
                                    "/f/offsite/1/": Resource(_page("offsite-1"))})
        sources = write_sources(tmp / "sources.toml", [
            hostile.source("hostile"),
            feeds.source("feeds"),
            {"name": "feeds-allowed", "url": feeds.base_url + "/", "feeds": [feeds.url_for("/feeds/offsite.xml")],
             "allowed_domains": ["localhost"]},
        ])
        db = tmp / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS,
                             "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}",
                             "-s", f"REDIRECT_MAX_TIMES={MAX_REDIRECTS}", "-s", f"MONITOR_RETRY_BACKOFF={BACKOFF}",
                             "-s", f"MONITOR_MAX_FEED_ENTRIES={MAX_FEED_ENTRIES}")
        yield Crawl(result, db, hostile, feeds, servers)
    finally:
        for s in servers:
            s.stop()


def _check_expectations(crawl, site, server):
    problems = []
    for path, expected in site.expect.items():
        url = site.url_for(path)
        errors = crawl.errors.get(url, [])
        if expected == "article":
            if crawl.article(url) is None:
                problems.append(f"{path}: not stored (errors: {[(e['reason'], e['detail']) for e in errors]})")
            elif errors:
                problems.append(f"{path}: stored, but also an error {[e['reason'] for e in errors]}")
        else:
            reasons = [e["reason"] for e in errors]
            if expected not in reasons:
                problems.append(f"{path}: expected {expected}, got {reasons or 'no fetch_errors row'}; "
                                f"requests {len(crawl.requests(server, path))}")
            elif not all(e["detail"] for e in errors):
                problems.append(f"{path}: fetch_errors row without a detail")
    return problems


def test_crawl_survives_and_exits_0(crawl):
    assert crawl.result.returncode == 0, crawl.result.stderr[-3000:]
    assert "Traceback" not in crawl.result.stderr, crawl.result.stderr[-3000:]
    status = rows(crawl.db, "SELECT status FROM crawls")
    assert status == [{"status": "finished"}]


def test_every_hostile_page_is_stored_or_recorded(crawl):
    problems = _check_expectations(crawl, crawl.hostile, crawl.hostile_server)
    assert not problems, "\n".join(problems)


def test_every_feed_and_sitemap_case(crawl):
    problems = _check_expectations(crawl, crawl.feeds, crawl.feed_server)
    assert not problems, "\n".join(problems)


def test_404_410_not_retried_5xx_and_timeouts_retried_with_backoff(crawl):
    srv = crawl.hostile_server
    for path in ("/a/not-found/", "/a/gone/"):
        assert len(crawl.requests(srv, path)) == 1, path
    # RETRY_TIMES=1: the first try and one retry, spaced by the back-off
    for path in ("/a/server-error/", "/a/slow/", "/a/truncated/", "/a/flaky/"):
        tries = crawl.requests(srv, path)
        assert len(tries) == 2, (path, len(tries))
        assert tries[1].time - tries[0].time >= BACKOFF, path
    assert "server_error" in crawl.errors[srv.url + "/a/server-error/"][0]["reason"]
    assert crawl.errors[srv.url + "/a/slow/"][0]["detail"].count("DOWNLOAD_TIMEOUT") == 1


def test_retry_after_is_honoured(crawl):
    srv = crawl.hostile_server
    tries = crawl.requests(srv, "/a/rate-limited/")
    assert [t.status for t in tries] == [429, 200]
    assert tries[1].time - tries[0].time >= RETRY_AFTER
    # a Retry-After longer than MONITOR_RETRY_AFTER_MAX: not retried in this crawl, recorded with the reason
    assert len(crawl.requests(srv, "/a/rate-limited-long/")) == 1
    (err,) = crawl.errors[srv.url + "/a/rate-limited-long/"]
    assert err["reason"] == "rate_limited" and err["http_status"] == 429 and "Retry-After" in err["detail"]


def test_redirects_bounded(crawl):
    srv = crawl.hostile_server
    # a chain ends at the article, stored once under its final URL, the first URL kept as a variant
    landed = crawl.article(srv.url + "/a/landed/")
    assert landed is not None and crawl.article(srv.url + "/a/redirect-chain/") == landed
    # a loop is stopped at the first repeated URL
    assert len(crawl.requests(srv, "/a/redirect-loop/")) == 1 and len(crawl.requests(srv, "/r/loop-b/")) == 1
    # an endless chain is cut after REDIRECT_MAX_TIMES hops
    hops = [r for r in srv.requests if r.url_path.startswith("/r/endless/")]
    assert len(hops) == MAX_REDIRECTS
    assert srv.url + "/a/redirect-endless/" in crawl.errors   # recorded under the URL the feed listed


def test_oversized_pages_skipped_and_recorded(crawl):
    srv = crawl.hostile_server
    for path in ("/a/huge/", "/a/huge-declared/"):
        (err,) = crawl.errors[srv.url + path]
        assert err["reason"] == "too_large" and "DOWNLOAD_MAXSIZE" in err["detail"]
        assert len(crawl.requests(srv, path)) == 1          # not retried


def test_non_html_and_empty_pages_rejected_with_reason(crawl):
    srv = crawl.hostile_server
    details = {p: crawl.errors[srv.url + p][0]["detail"] for p in ("/a/pdf/", "/a/image/", "/a/binary/")}
    assert "application/pdf" in details["/a/pdf/"]
    assert "image/png" in details["/a/image/"]
    assert "binary" in details["/a/binary/"]
    # a page labelled text/plain that is HTML, and a body labelled gzip that is not: read as they are
    assert crawl.article(srv.url + "/a/text-plain/") is not None
    assert crawl.article(srv.url + "/a/bad-gzip/") is not None


@pytest.mark.parametrize("path", ["/enc/cp1251/header/", "/enc/cp1251/meta/", "/enc/cp1251/none/",
                                  "/enc/koi8_r/header/", "/enc/koi8_r/meta/", "/enc/koi8_r/none/",
                                  "/enc/cp1250/header/", "/enc/cp1250/meta/", "/enc/cp1250/none/",
                                  "/a/kk-ru/", "/a/rtl/"])
def test_text_decoded_right(crawl, path):
    srv = crawl.hostile_server
    art = crawl.article(srv.url + path)
    assert art is not None, path
    marker = crawl.hostile.markers[path]
    assert marker in art["text"], (path, art["text"][:300])
    assert "\ufffd" not in art["text"]


def test_mixed_script_and_rtl_titles(crawl):
    srv = crawl.hostile_server
    kk = crawl.article(srv.url + "/a/kk-ru/")
    assert kk["language"] in ("kk", "ru") and kk["title"] == "Шекара бекеті / Пограничный пост"
    rtl = crawl.article(srv.url + "/a/rtl/")
    # (trafilatura drops a trailing emoji from titles; the text keeps every one)
    assert rtl["title"].startswith("الميزانية") and "🇰🇿🇺🇸" in rtl["text"] and "📈" in rtl["text"]
    # and the full-text index finds both scripts
    hits = rows(crawl.db, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ["Пограничный"])
    assert {h["rowid"] for h in hits} == {kk["id"]}


def test_feeds_and_sitemaps_take_what_can_be_read(crawl):
    srv = crawl.feed_server
    (err,) = crawl.errors[srv.url + "/sitemaps/cut.xml"]
    assert err["reason"] == "connection_lost" and "20 entries read before" in err["detail"]
    assert "2 entries read" in crawl.errors[srv.url + "/feeds/truncated.xml"][0]["detail"]
    assert "2 entries read" in crawl.errors[srv.url + "/sitemaps/malformed.xml"][0]["detail"]
    # the truncated entry itself is never requested
    assert not crawl.requests(srv, "/f/truncated-sitemap/2/") and not crawl.requests(srv, "/f/truncated-feed/2/")


def test_thousands_of_feed_entries_bounded(crawl):
    asked = {r.url_path for r in crawl.feed_server.requests if r.url_path.startswith("/f/many/")}
    assert asked == {f"/f/many/{i}/" for i in range(MAX_FEED_ENTRIES)}


def test_entity_bombs_and_external_entities_refused(crawl):
    srv = crawl.feed_server
    assert "entity bomb" in crawl.errors[srv.url + "/sitemaps/bomb.xml"][0]["detail"]
    # the external entity is never read: no line of /etc/passwd anywhere in the database file
    with open("/etc/passwd", encoding="utf-8", errors="replace") as fh:
        secret = fh.readline().strip()
    assert secret and secret.encode() not in crawl.db.read_bytes()
    for table, col in (("articles", "text"), ("articles", "title"), ("fetch_errors", "detail"), ("article_urls", "url")):
        for r in rows(crawl.db, f"SELECT {col} AS v FROM {table}"):
            assert "root:" not in (r["v"] or ""), (table, col)
            assert "lollol" not in (r["v"] or ""), (table, col)
    # the entity in a <loc> is dropped, not expanded: the URL asked for is the bare prefix
    assert [r.path for r in srv.requests if r.url_path.startswith("/f/xxe-loc")] == ["/f/xxe-loc/"]


def test_relative_and_protocol_relative_links(crawl):
    srv = crawl.feed_server
    for path in ("/f/relative/0/", "/f/relative/1/", "/f/gz-relative/0/", "/f/gz-relative/1/"):
        assert crawl.article(srv.url + path) is not None, path


def test_offsite_links_followed_only_when_allowed(crawl):
    offsite = crawl.offsite_server
    asked = Counter(r.url_path for r in offsite.requests)
    assert asked["/f/offsite/0/"] == 1 and asked["/f/offsite/1/"] == 1     # once: by feeds-allowed only
    host = f"http://localhost:{offsite.port}"
    stored = {a["url"]: a["source"] for a in crawl.articles if a["url"].startswith(host)}
    assert set(stored.values()) == {"feeds-allowed"} and len(stored) == 2


def test_summary_and_stats_show_errors_per_source(crawl):
    out = crawl.result.stdout
    assert "errors in hostile:" in out and "not_found 1" in out and "too_large 2" in out
    assert "errors in feeds:" in out and "bad_sitemap" in out
    from click.testing import CliRunner

    from monitor.cli import cli

    res = CliRunner().invoke(cli, ["stats", "--db", str(crawl.db), "--format", "json"])
    assert res.exit_code == 0, res.output
    last = {c["source"]: c for c in json.loads(res.output)["last_crawls"]}
    hostile_errors = sum(len(v) for k, v in crawl.errors.items() if k.startswith(crawl.hostile_server.url))
    assert last["hostile"]["errors"] == hostile_errors > 10
    table = CliRunner().invoke(cli, ["stats", "--db", str(crawl.db)])
    assert table.exit_code == 0 and "not_found" in table.output


# --------------------------------------------------------------------------- memory (acceptance 3)

def _padded_sitemap(n_bytes: int):
    """A sitemap with one entry and ``n_bytes`` of XML comments after it (huge, valid, almost empty)."""
    yield (b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
           b"<url><loc>http://elsewhere.invalid/p/</loc></url>\n")
    pad = b"<!-- " + b"padding " * 8000 + b" -->\n"
    total = 0
    while total < n_bytes:
        yield pad
        total += len(pad)
    yield b"</urlset>\n"


def _watch(popen, interval: float = 0.02, pss_every: float = 0.5) -> dict:
    """Poll a process tree until it exits: peak RSS per process, peak sum of PSS (shared pages split)."""
    import time

    import psutil

    root = psutil.Process(popen.pid)
    peaks: dict[int, tuple[str, int]] = {}
    pss_peak = 0
    next_pss = 0.0
    while popen.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        pss_total = 0
        want_pss = time.monotonic() >= next_pss
        for p in procs:
            try:
                rss = p.memory_info().rss
                if want_pss:
                    pss_total += p.memory_full_info().pss
                name = peaks.get(p.pid, ("", 0))[0] or ("crawl" if p.pid == root.pid else " ".join(p.cmdline())[:80])
            except psutil.Error:
                continue
            peaks[p.pid] = (name, max(rss, peaks.get(p.pid, ("", 0))[1]))
        if want_pss:
            pss_peak = max(pss_peak, pss_total)
            next_pss = time.monotonic() + pss_every
        time.sleep(interval)
    return {"per_process": peaks, "pss_sum": pss_peak}


def test_huge_sitemap_and_page_memory_flat(tmp_path):
    """A 200 MB sitemap stream, 200 MB and 1 GB (gzip bomb) almost-empty sitemaps and two 50 MB pages: the
    crawl process and each extraction worker stay under 300 MB RSS (psutil, polled every 20 ms)."""
    import os
    import subprocess
    import sys

    from tests.support.fixtureserver import GZIP, RSS, XML, gzip_stream, stream
    from tests.support.helpers import REPO_ROOT
    from tests.support.sites.hostile import huge_page, rss
    from tests.support.sites.huge import sitemap_chunks

    sent: dict[str, int] = {}

    def counted(name, chunks):
        sent[name] = 0
        for chunk in chunks:
            sent[name] += len(chunk)
            yield chunk

    with FixtureServer(Site()) as server:
        base = server.url
        server.site.update({
            "/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT),
            # 2.3 million entries, about 200 MB; they point to another host, so none is requested
            "/sitemap.xml": stream(lambda: counted("sitemap", sitemap_chunks("http://elsewhere.invalid", 2_300_000)),
                                   XML),
            "/padded.xml": stream(lambda: counted("padded", _padded_sitemap(200 << 20)), XML),
            "/padded.xml.gz": stream(lambda: counted("padded_gz", gzip_stream(_padded_sitemap(1 << 30))), GZIP),
            "/big/": huge_page(50 << 20),
            "/big-declared/": huge_page(50 << 20, with_length=True),
            "/news/small-story/": Resource(_page("memory-ok")),
            "/news/other-name/": Resource(_page("memory-other-host")),
            # the last link names this server as "localhost": another domain, allowed by MONITOR_ALLOWED_DOMAINS
            "/feed.xml": Resource(rss(base, [base + "/big/", base + "/big-declared/", base + "/news/small-story/",
                                             f"http://localhost:{server.port}/news/other-name/"]), content_type=RSS),
        })
        sources = write_sources(tmp_path / "s.toml", [{
            "name": "memory", "url": base + "/", "feeds": [base + "/feed.xml"],
            "sitemaps": [base + "/sitemap.xml", base + "/padded.xml", base + "/padded.xml.gz"]}])
        db = tmp_path / "m.db"
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        # default caps: DOWNLOAD_MAXSIZE 20 MiB, MONITOR_SITEMAP_MAX_BYTES 50 MiB, MONITOR_MAX_SITEMAP_URLS 50000
        popen = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--sources", str(sources), "--db", str(db),
                                  *FAST_SETTINGS, "-s", "MONITOR_ALLOWED_DOMAINS=localhost"], cwd=REPO_ROOT,
                                 env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            memory = _watch(popen)
            out, err = popen.communicate(timeout=240)
        finally:
            if popen.poll() is None:
                popen.kill()
    assert popen.returncode == 0, err[-3000:]
    mb = {pid: (name, round(rss / 2**20)) for pid, (name, rss) in memory["per_process"].items()}
    report = (f"peak RSS MB per process: {sorted(mb.values(), key=lambda x: -x[1])}; "
              f"peak PSS sum {memory['pss_sum'] / 2**20:.0f} MB; server sent MB "
              f"{ {k: round(v / 2**20, 1) for k, v in sent.items()} }")
    print(report)
    assert max(r for _, r in mb.values()) < 300, report
    # streamed and cut: the server was never asked for the whole file
    assert sent["sitemap"] < 30 << 20 and sent["padded"] < 80 << 20 and sent["padded_gz"] < 10 << 20, report
    errors = {e["url"].replace(base, ""): e for e in rows(db, "SELECT * FROM fetch_errors")}
    assert {p for p, e in errors.items() if e["reason"] == "too_large"} == {
        "/big/", "/big-declared/", "/padded.xml", "/padded.xml.gz"}, errors
    assert "MONITOR_SITEMAP_MAX_BYTES" in errors["/padded.xml"]["detail"]
    assert sorted(a["url"] for a in rows(db, "SELECT url FROM articles")) == [
        base + "/news/small-story/", f"http://localhost:{server.port}/news/other-name/"]
