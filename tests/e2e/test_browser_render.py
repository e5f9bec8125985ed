"""``render = "browser"`` (issue 18, monitor/crawl/browser.py): real `monitor crawl` runs of a JavaScript-only
fixture site (tests/support/sites/scripted.py: article text, titles and section links exist only after the page's
scripts ran) through scrapy-playwright and the system Chromium.

- rendered: both articles are stored with their text (one filled from the page's script, one fetched as JSON after
  the load event), the section's script-drawn links are followed, the page's requests to internal services (another
  port of the source's host, another loopback address, a script that redirects there) and its images are never
  made, and a redirect of an article to an internal service is refused like any other;
- the same site without ``render``: nothing stored, the article page recorded as having no main text;
- ``MONITOR_BROWSER_PATH`` pointing at no file: the browser source fails with one line saying what to install, and
  the other source of the crawl still crawls.

One browser launch for the module (one crawl); skipped where Chromium or the ``browser`` extra is missing (CI
installs both: .ci/run, pyproject's ``test`` extra).
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from monitor.crawl.browser import find_browser
from tests.support.fixtureserver import FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites.scripted import ARTICLE_PATTERN, FIRST, MOVED, SECOND, build_scripted_site

if importlib.util.find_spec("scrapy_playwright") is None:
    pytest.skip("the browser extra (scrapy-playwright) is not installed: pip install -e '.[browser]'",
                allow_module_level=True)
if find_browser() is None:
    pytest.skip("no Chromium on PATH (chromium, chromium-browser, google-chrome): apt-get install chromium",
                allow_module_level=True)

SECRET = "INTERNAL SERVICE that a rendered page must never reach"


def _source(name, server, **extra):
    return {"name": name, "url": server.url + "/", "feeds": [server.url_for("/feed.xml")],
            "sections": [server.url_for("/news/")], "article_pattern": ARTICLE_PATTERN, **extra}


@pytest.fixture(scope="module")
def servers():
    site = FixtureServer(Site())                                             # the source, 127.0.0.1:A
    same_host = FixtureServer(Site({"/secret/": Resource(SECRET)}))          # a service on 127.0.0.1:B
    other_loopback = FixtureServer(Site({"/secret/": Resource(SECRET)}), host="127.0.0.2")
    all_ = [site, same_host, other_loopback]
    for s in all_:
        s.start()
    try:
        probes = [same_host.url_for("/leak"), other_loopback.url_for("/leak")]
        resources, expected = build_scripted_site(site.url, probe_urls=probes,
                                                  redirect_to=same_host.url_for("/secret/"),
                                                  script_redirect_to=same_host.url_for("/secret.js"))
        site.site.update(resources)
        yield site, same_host, other_loopback, expected
    finally:
        for s in all_:
            s.stop()


@pytest.fixture(scope="module")
def rendered(servers, tmp_path_factory):
    """One crawl: the scripted site as a browser source, and a copy of it on another port as a plain source of the
    same crawl (which must keep Scrapy's own downloader)."""
    site, same_host, other_loopback, expected = servers
    tmp = tmp_path_factory.mktemp("rendered")
    plain = FixtureServer(Site())
    plain.start()
    try:
        plain.site.update(build_scripted_site(plain.url)[0])
        sources = write_sources(tmp / "sources.toml", [_source("scripted", site, render="browser"),
                                                       _source("plain", plain)])
        db = tmp / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, "--log-file", tmp / "crawl.log",
                             *FAST_SETTINGS)
        plain_requests = list(plain.requests)
    finally:
        plain.stop()
    requests = [r.url_path for r in site.requests]
    yield result, db, requests, (tmp / "crawl.log").read_text(encoding="utf-8"), plain_requests


def test_rendered_articles_are_stored_with_their_script_made_text(servers, rendered):
    site, _, _, expected = servers
    result, db, requests, _, _ = rendered
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    stored = {r["url"]: r for r in rows(db, "SELECT url, title, text FROM articles WHERE source = 'scripted'")}
    assert set(stored) == {site.url_for(FIRST), site.url_for(SECOND)}
    for path, (title, first_paragraph) in expected.items():
        article = stored[site.url_for(path)]
        assert article["title"] == title
        assert first_paragraph in article["text"]
    # the second article's text came from /api/second-story.json, fetched by its script after the load event;
    # the section's links exist only once its script ran: SECOND is in no feed
    assert "/api/second-story.json" in requests and SECOND in requests


def test_only_html_pages_go_through_the_browser(servers, rendered):
    site = servers[0]
    _, db, requests, log, plain_requests = rendered
    assert requests.count("/robots.txt") == 1 and requests.count("/feed.xml") == 1
    assert "/photo.jpg" not in requests and "/pixel.png" not in requests    # images never loaded
    dumps = [part.split("Spider closed", 1)[0] for part in log.split("Dumping Scrapy stats:")[1:]]
    assert len(dumps) == 2                                          # the two sources' spiders
    stats = next(d for d in dumps if "'playwright/" in d)           # the browser source's
    assert not any("'playwright/" in d for d in dumps if d is not stats)
    # the section, the two articles and the article that redirects (its hop is refused before the browser)
    assert "'monitor/browser/pages': 4" in stats, stats
    assert "'playwright/page_count/closed': 4" in stats, stats      # every page closed once read
    assert "'monitor/browser/skipped_resources': 2" in stats, stats  # <img> and new Image()
    # the plain source of the same crawl: Scrapy's downloader (no browser headers, no script ran), nothing stored
    browser_made = [r for r in site.requests if "sec-ch-ua" in r.headers]
    assert {r.url_path for r in browser_made} >= {FIRST, SECOND, "/news/", "/api/second-story.json"}
    assert "/feed.xml" not in {r.url_path for r in browser_made}
    assert plain_requests and not any("sec-ch-ua" in r.headers for r in plain_requests)
    assert "/api/second-story.json" not in [r.url_path for r in plain_requests]
    assert rows(db, "SELECT id FROM articles WHERE source = 'plain'") == []


def test_rendered_pages_cannot_reach_internal_services(servers, rendered):
    site, same_host, other_loopback, _ = servers
    _, db, _, log, _ = rendered
    # the page's fetch() calls are refused by the route; its <script src="/js/moved.js"> redirects to the service, a
    # hop the browser follows without any route: Chromium refuses it (Local Network Access: the page, handed to the
    # browser by the route, counts as public)
    assert "/js/moved.js" in [r.url_path for r in site.requests]
    assert same_host.requests == [] and other_loopback.requests == []
    assert f"refused {same_host.url_for('/leak')}: 127.0.0.1:{same_host.port}: a port the source does not use" in log
    assert f"refused {other_loopback.url_for('/leak')}: 127.0.0.2 is a loopback address" in log
    blocked = rows(db, "SELECT url, reason FROM fetch_errors WHERE reason = 'blocked_address'")
    assert blocked == [{"url": site.url_for(MOVED), "reason": "blocked_address"}]   # its redirect hop refused
    assert not rows(db, "SELECT id FROM articles WHERE text LIKE ?", (f"%{SECRET[:20]}%",))


def test_without_render_nothing_is_stored_and_a_missing_browser_fails_that_source_alone(servers, tmp_path):
    site, *_ = servers
    other = FixtureServer(Site())
    other.start()
    try:
        resources, _ = build_scripted_site(other.url)
        other.site.update(resources)
        sources = write_sources(tmp_path / "sources.toml", [
            _source("plain", site),                                   # the same site, not rendered
            _source("needs-browser", other, render="browser"),       # no browser: fails, makes no request
        ])
        db = tmp_path / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS,
                             "-s", f"MONITOR_BROWSER_PATH={tmp_path / 'no-such-chromium'}")
        other_requests = list(other.requests)
    finally:
        other.stop()
    assert result.returncode == 0, result.stderr[-3000:]   # one source crawled
    assert "Traceback" not in result.stderr
    line = (f'needs-browser failed: render = "browser" needs Chromium: MONITOR_BROWSER_PATH={tmp_path / "no-such-chromium"}'
            " is not an executable file; install Chromium (Debian: apt-get install chromium) or point "
            "MONITOR_BROWSER_PATH at it")
    assert line in result.stdout.splitlines(), result.stdout
    assert other_requests == []
    assert rows(db, "SELECT url FROM articles") == []
    reasons = {r["url"]: r["reason"] for r in rows(db, "SELECT url, reason FROM fetch_errors WHERE source = 'plain'")}
    assert reasons.get(site.url_for(FIRST)) in ("no_main_text", "too_short", "not_article")
    assert site.url_for(SECOND) not in reasons                 # its link exists only after the section's script ran
    per_source = json.loads(rows(db, "SELECT summary FROM crawls")[0]["summary"])
    assert per_source["needs-browser"]["status"] == "failed"
    assert per_source["needs-browser"]["failure"].startswith('render = "browser" needs Chromium')
    assert per_source["plain"]["status"] == "finished"


def test_sources_check_does_not_call_a_browser_source_broken(servers):
    """`monitor sources check` reads pages without the browser: for a render = "browser" source an article without
    text is a warning, not a broken source (the same site without render is broken)."""
    from monitor.sources.catalogue import source_from_dict
    from monitor.sources.check import check_sources

    site = servers[0]
    rendered, plain = check_sources([source_from_dict(_source("scripted", site, render="browser")),
                                     source_from_dict(_source("plain", site))], timeout=10).reports
    assert not rendered.broken, rendered.problems
    assert any('render = "browser": pages are read here without the browser' in w for w in rendered.warnings)
    assert plain.broken and any("extraction failed" in p for p in plain.problems), plain.problems


@pytest.mark.slow
def test_scrapy_parse_renders_the_page(servers, tmp_path):
    """`scrapy parse --spider NAME URL` of a browser source shows what the rendered page gives."""
    import os
    import subprocess
    import sys

    from tests.support.helpers import REPO_ROOT
    from tests.e2e.test_scrapy_cli import parsed_items

    site, _, _, expected = servers
    sources = write_sources(tmp_path / "sources.toml", [_source("scripted", site, render="browser")])
    result = subprocess.run([sys.executable, "-m", "scrapy", "parse", "--spider", "scripted", site.url_for(FIRST),
                             "-s", f"MONITOR_DB={tmp_path / 'never.db'}"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=240,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "MONITOR_SOURCES": str(sources)})
    assert result.returncode == 0, result.stderr[-3000:]
    [shown] = parsed_items(result.stdout)
    title, first_paragraph = expected[FIRST]
    assert shown["title"] == title and first_paragraph in shown["text"]
    assert not (tmp_path / "never.db").exists()


@pytest.mark.slow
def test_distributed_worker_renders_too(tmp_path):
    """A `monitor crawl --redis` worker renders a browser source the same way (its own Chromium); `monitor ingest`
    stores what it pushed."""
    from tests.support.redis_server import RedisServer, redis_binary

    if redis_binary() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    site = FixtureServer(Site())
    site.start()
    try:
        resources, expected = build_scripted_site(site.url)
        site.site.update(resources)
        sources = write_sources(tmp_path / "sources.toml", [_source("scripted", site, render="browser")])
        with RedisServer(tmp_path) as redis:
            worker = run_monitor("crawl", "--sources", sources, "--redis", redis.url, *FAST_SETTINGS)
            ingest = run_monitor("ingest", "--redis", redis.url, "--db", tmp_path / "m.db", "--until-empty")
    finally:
        site.stop()
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    stored = {r["url"]: r["title"] for r in rows(tmp_path / "m.db", "SELECT url, title FROM articles")}
    assert stored == {site.url_for(path): title for path, (title, _) in expected.items()}


@pytest.mark.slow
def test_ctrl_c_twice_leaves_no_browser_behind(tmp_path):
    """Ctrl-C twice while a rendered page hangs: exit 130, the crawl recorded as stopped, and Chromium and the
    Playwright driver are gone with the crawl."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from tests.support.fixtureserver import HTML
    from tests.support.helpers import REPO_ROOT

    site = FixtureServer(Site())
    site.start()
    try:
        resources, _ = build_scripted_site(site.url)
        resources[SECOND] = Resource(resources[SECOND].body, content_type=HTML, delay=30)   # hangs
        site.site.update(resources)
        sources = write_sources(tmp_path / "sources.toml", [_source("scripted", site, render="browser")])
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--sources", str(sources), "--db",
                                 str(tmp_path / "m.db"), *FAST_SETTINGS], cwd=REPO_ROOT, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        browser = []
        while time.monotonic() < deadline and not any(r.url_path == SECOND for r in site.requests):
            time.sleep(0.2)
        browser = [k for k in psutil.Process(proc.pid).children(recursive=True)
                   if "chrom" in k.name() or "node" in k.name()]
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        site.stop()
    assert browser, "no Chromium or Playwright driver process was seen"
    assert proc.returncode == 130, (out, err[-3000:])
    assert "Traceback" not in err
    # the article rendered before the stop is kept unless it was still being extracted (lost, fetched next time)
    assert rows(tmp_path / "m.db", "SELECT url FROM articles") in ([], [{"url": site.url_for(FIRST)}])
    assert rows(tmp_path / "m.db", "SELECT status FROM crawls") == [{"status": "stopped"}]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                              for p in browser):
        time.sleep(0.2)
    assert not [p.pid for p in browser if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_a_browser_that_cannot_start_fails_the_source_with_one_line(servers, tmp_path):
    site = servers[0]
    sources = write_sources(tmp_path / "sources.toml", [_source("scripted", site, render="browser")])
    result = run_monitor("crawl", "--sources", sources, "--db", tmp_path / "m.db", *FAST_SETTINGS,
                         "-s", "MONITOR_BROWSER_PATH=/bin/false")   # an executable that is no browser
    assert result.returncode == 1, result.stderr[-3000:]   # its only source failed
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stdout.splitlines() if x.startswith("scripted failed: ")]
    assert line.startswith("scripted failed: Chromium could not be started: BrowserType.launch")
    assert line.endswith("check MONITOR_BROWSER_PATH (docs/sources.md)")
    details = [r["detail"] for r in rows(tmp_path / "m.db", "SELECT detail FROM fetch_errors")]
    assert details and all("Chromium could not be started" in d and "\n" not in d for d in details)
