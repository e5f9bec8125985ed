"""The network boundary (issue 15, docs/security.md): one real `monitor crawl` of a source on 127.0.0.1 whose feeds
and pages point at an "internal service" on another port of the same host and at another loopback address
(127.0.0.2, also spelt in decimal): nothing of them is fetched, the refusals are recorded as ``blocked_address``,
and the source's own pages (on its own loopback address: the exception) are still crawled.
"""

from __future__ import annotations

import pytest

from monitor.crawl.addresses import parse_host_address
from tests.support.fixtureserver import RSS, TEXT, FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.resources import redirect
from tests.support.sites.hostile import _page

SECRET = "INTERNAL SECRET of a service that must stay unreachable"


def _rss(links):
    items = "".join(f"<item><title>{i}</title><link>{u}</link></item>" for i, u in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def _internal_site():
    secret = _page("secret", lead=SECRET)
    return Site({"/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT),
                 "/secret/": Resource(secret), "/feed.xml": Resource(_rss(["/secret/"]), content_type=RSS)})


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("boundary")
    site = FixtureServer(Site())                                 # the source, on 127.0.0.1:A
    same_host = FixtureServer(_internal_site())                  # an internal service on 127.0.0.1:B
    other_loopback = FixtureServer(_internal_site(), host="127.0.0.2")   # ... and on 127.0.0.2:C
    servers = [site, same_host, other_loopback]
    for s in servers:
        s.start()
    try:
        b, c = same_host.port, other_loopback.port
        site.site.update({
            "/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT),
            "/feed.xml": Resource(_rss([
                "/a/one/",                                  # the source's own article: stored
                "/a/moved/",                                # redirects to 127.0.0.1:B (another port)
                f"http://127.0.0.1:{b}/secret/",            # a link to another port: off site, never requested
                f"http://127.0.0.2:{c}/secret/",            # a link to another host: off site
            ]), content_type=RSS),
            "/a/one/": Resource(_page("one")),
            "/a/moved/": redirect(f"http://127.0.0.1:{b}/secret/"),
            "/feed-port.xml": redirect(f"http://127.0.0.1:{b}/feed.xml"),
            "/feed-private.xml": redirect(f"http://127.0.0.2:{c}/feed.xml"),
            "/feed-decimal.xml": redirect(f"http://{int(parse_host_address('127.0.0.2'))}:{c}/feed.xml"),
        })
        feeds = ["/feed.xml", "/feed-port.xml", "/feed-private.xml", "/feed-decimal.xml"]
        sources = write_sources(tmp / "sources.toml", [
            {"name": "outlet", "url": site.url + "/", "feeds": [site.url_for(f) for f in feeds]}])
        db = tmp / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS)
        yield result, db, site, same_host, other_loopback
    finally:
        for s in servers:
            s.stop()


def test_own_site_crawled_internal_services_never_reached(crawl):
    result, db, site, same_host, other_loopback = crawl
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert rows(db, "SELECT status FROM crawls") == [{"status": "finished"}]
    stored = {r["url"] for r in rows(db, "SELECT url FROM articles")}
    assert stored == {site.url_for("/a/one/")}   # the exception: the source's own loopback address is crawled
    assert same_host.requests == [] and other_loopback.requests == []   # not even robots.txt
    assert not rows(db, "SELECT id FROM articles WHERE text LIKE ?", (f"%{SECRET[:15]}%",))


def test_refusals_recorded_as_blocked_address(crawl):
    result, db, site, *_ = crawl
    blocked = {r["url"]: r["detail"] for r in rows(db, "SELECT url, detail FROM fetch_errors "
                                                      "WHERE reason = 'blocked_address'")}
    assert set(blocked) == {site.url_for(p) for p in
                            ("/a/moved/", "/feed-port.xml", "/feed-private.xml", "/feed-decimal.xml")}, blocked
    assert "port" in blocked[site.url_for("/feed-port.xml")]
    assert "loopback" in blocked[site.url_for("/feed-private.xml")]
    assert "127.0.0.2" in blocked[site.url_for("/feed-decimal.xml")]
