"""``render = "browser"`` (monitor/crawl/browser.py): the sources-file field, what is missing when a source cannot be
rendered, the settings a browser source's crawler gets (and the others do not), and the network boundary the
rendered page's own requests pass.  The real browser is in tests/e2e/test_browser_render.py."""

from __future__ import annotations

import asyncio
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from monitor.crawl import browser
from monitor.errors import SourcesError
from monitor.outcomes import source_outcome
from monitor.sources.catalogue import parse_sources
from monitor.sources.render import source_to_toml


def _run(coro):
    """Run a coroutine on a fresh event loop (the test process's asyncio reactor already runs one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _settings(**values) -> Settings:
    s = Settings()
    s.setmodule("monitor.settings", priority="project")
    for k, v in values.items():
        s.set(k, v, priority="cmdline")
    return s


def _source(render=None, url="http://127.0.0.1:8080/"):
    extra = f'render = "{render}"\n' if render else ""
    return parse_sources(f'[[source]]\nname = "s"\nurl = "{url}"\n{extra}')[0]


def test_render_field_default_browser_and_bad_value():
    assert _source().render == "http" and not _source().needs_browser
    src = _source("browser")
    assert src.render == "browser" and src.needs_browser
    assert 'render = "browser"' in source_to_toml(src)
    assert "render" not in source_to_toml(_source())
    with pytest.raises(SourcesError) as exc:
        _source("chrome")
    assert exc.value.field == "render" and "'chrome' is not a render mode" in str(exc.value)


def test_find_browser_from_setting_and_path(tmp_path, monkeypatch):
    exe = tmp_path / "chromium-browser"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.find_browser() == str(exe)                      # the second name on the list, found on PATH
    assert browser.find_browser(str(exe)) == str(exe)
    assert browser.find_browser(str(tmp_path / "nothing")) is None
    plain = tmp_path / "notexec"
    plain.write_text("")
    assert browser.find_browser(str(plain)) is None                 # not executable
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert browser.find_browser() is None


def test_browser_problem_says_what_to_install(tmp_path, monkeypatch):
    real_find_spec = browser.importlib.util.find_spec
    monkeypatch.setattr(browser.importlib.util, "find_spec",
                        lambda name: None if name == "scrapy_playwright" else real_find_spec(name))
    problem = browser.browser_problem(_settings())
    assert "pip install 'media-monitor[browser]'" in problem and "\n" not in problem
    monkeypatch.setattr(browser.importlib.util, "find_spec", lambda name: object())

    problem = browser.browser_problem(_settings(MONITOR_BROWSER_PATH=str(tmp_path / "no-chromium")))
    assert f"MONITOR_BROWSER_PATH={tmp_path / 'no-chromium'} is not an executable file" in problem
    assert "apt-get install chromium" in problem

    monkeypatch.setenv("PATH", str(tmp_path))
    problem = browser.browser_problem(_settings())
    assert "none of chromium, chromium-browser, google-chrome is on PATH" in problem

    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert browser.browser_problem(_settings()) is None
    problem = browser.browser_problem(_settings(TWISTED_REACTOR="twisted.internet.epollreactor.EPollReactor"))
    assert "asyncio reactor" in problem


def test_launch_options_use_the_system_browser(tmp_path, monkeypatch):
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    options = browser.launch_options(_settings(MONITOR_BROWSER_PATH=str(exe)))
    assert options["executable_path"] == str(exe) and options["headless"] is True
    assert options["chromium_sandbox"] is (os.geteuid() != 0)   # no sandbox only as root


def _crawler(source):
    return SimpleNamespace(spidercls=SimpleNamespace(source=source, name="s"))


def test_addon_leaves_other_sources_alone():
    with pytest.raises(NotConfigured):
        browser.BrowserAddon.from_crawler(_crawler(_source()))
    with pytest.raises(NotConfigured):
        browser.BrowserAddon.from_crawler(SimpleNamespace(spidercls=object))   # a spider of SPIDER_MODULES


def test_addon_installs_playwright_for_a_browser_source(tmp_path, monkeypatch):
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setattr(browser.importlib.util, "find_spec", lambda name: object())
    settings = _settings(MONITOR_BROWSER_PATH=str(exe), MONITOR_BROWSER_PAGES=3, MONITOR_BROWSER_TIMEOUT=12)
    browser.BrowserAddon.from_crawler(_crawler(_source("browser"))).update_settings(settings)
    assert settings.getdict("DOWNLOAD_HANDLERS") == {"http": browser.HANDLER, "https": browser.HANDLER}
    assert settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["executable_path"] == str(exe)
    assert settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT") == 3 and settings.getint("PLAYWRIGHT_MAX_CONTEXTS") == 1
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 12000
    assert browser.BrowserRequests in settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert browser.BrowserUnavailable not in settings.getdict("SPIDER_MIDDLEWARES")


def test_addon_without_browser_closes_the_spider_with_the_reason(tmp_path):
    settings = _settings(MONITOR_BROWSER_PATH=str(tmp_path / "missing"))
    browser.BrowserAddon.from_crawler(_crawler(_source("browser"))).update_settings(settings)
    assert "DOWNLOAD_HANDLERS" not in settings or not settings.getdict("DOWNLOAD_HANDLERS")
    assert browser.BrowserUnavailable in settings.getdict("SPIDER_MIDDLEWARES")

    stats = {}
    crawler = SimpleNamespace(settings=settings, spidercls=SimpleNamespace(name="s"),
                              stats=SimpleNamespace(set_value=stats.__setitem__))
    from scrapy.exceptions import CloseSpider

    async def first():
        async for _ in browser.BrowserUnavailable.from_crawler(crawler).process_start(None):
            pass

    with pytest.raises(CloseSpider) as exc:
        _run(first())
    assert exc.value.reason == browser.FAILURE_REASON
    outcome = source_outcome({**stats, "finish_reason": exc.value.reason})
    assert outcome["status"] == "failed"
    assert outcome["failure"].startswith('render = "browser" needs Chromium: MONITOR_BROWSER_PATH=')


@pytest.mark.parametrize("url, refused", [
    ("http://127.0.0.1:8080/news/a/", None),                              # the source's own address and port
    ("https://93.184.216.34/lib.js", None),                               # a public address (a CDN)
    ("data:text/plain,x", None),
    ("http://127.0.0.1:6379/", "a port the source does not use"),         # a service next to the site
    ("http://127.0.0.2:8080/", "127.0.0.2 is a loopback address"),
    ("http://[::ffff:10.1.2.3]/", "private address"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("ftp://93.184.216.34/x", "a ftp URL"),
])
def test_guard_applies_the_network_boundary(url, refused):
    guard = browser.SubrequestGuard(_source("browser"), _settings())
    problem = _run(guard.refusal(url))
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem


def test_guard_with_private_addresses_allowed_still_refuses_metadata():
    guard = browser.SubrequestGuard(_source("browser"), _settings(MONITOR_ALLOW_PRIVATE_ADDRESSES=True))
    assert _run(guard.refusal("http://127.0.0.2:8080/")) is None
    assert "cloud metadata" in _run(guard.refusal("http://169.254.169.254/"))


def test_browser_errors_become_the_usual_reasons():
    class TimeoutError(Exception):   # noqa: A001 - named as Playwright's
        pass

    assert browser.describe_browser_error(TimeoutError("Timeout 30000ms exceeded"), "article page")[0] == "timeout"
    err = Exception("Page.goto: net::ERR_CONNECTION_REFUSED at http://x/\nCall log:\n  - navigating")
    assert browser.describe_browser_error(err, "article page") == (
        "connection_refused", "article page: connection refused (the site is down or blocks us)")
    reason, detail = browser.describe_browser_error(Exception("BrowserType.launch: boom\nlong log"), "section page")
    assert reason == "fetch_failed" and "Chromium could not be started (BrowserType.launch: boom)" in detail
    reason, detail = browser.describe_browser_error(Exception("Page.goto: weird\nmore"), "article page")
    assert (reason, detail) == ("fetch_failed", "article page: the browser could not load it: Page.goto: weird")


def test_only_html_pages_are_marked_and_the_meta_stays_serializable():
    import pickle

    from scrapy import Request
    from scrapy.http import HtmlResponse

    settings = _settings()
    counted = {}
    crawler = SimpleNamespace(settings=settings, spidercls=SimpleNamespace(source=_source("browser"), name="s"),
                              stats=SimpleNamespace(inc_value=lambda k, n=1: counted.update({k: counted.get(k, 0) + n})))
    mw = browser.BrowserRequests.from_crawler(crawler)
    for role in ("feed", "sitemap", None):
        request = Request("http://127.0.0.1:8080/x", meta={"role": role} if role else {})
        mw.process_request(request)
        assert "playwright" not in request.meta
    request = Request("http://127.0.0.1:8080/news/a/", meta={"role": "article"})
    mw.process_request(request)
    assert request.meta["playwright"] is True and request.meta["playwright_page_methods"]
    assert counted == {"monitor/browser/pages": 1}
    response = HtmlResponse(request.url, status=302, request=request, flags=["playwright"],
                            headers={browser.LOCATION_HEADER: "/news/b/"})
    out = _run(mw.process_response(request, response))
    assert out.headers["Location"] == b"/news/b/" and browser.LOCATION_HEADER not in out.headers
    pickle.dumps(request.to_dict())   # a redirect or retry of it can go to a disk or Redis queue


def test_the_documented_examples_are_valid_sources_files():
    """The README's sources-file example and docs/sources.md's render example parse, and say render = "browser"."""
    import re

    from tests.support.helpers import REPO_ROOT

    for doc, heading in (("README.md", "## Sources file"), ("docs/sources.md", '## JavaScript-only sites')):
        text = (REPO_ROOT / doc).read_text(encoding="utf-8")
        section = text[text.index(heading):]
        block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
        [source] = parse_sources(block, path=doc)
        assert source.needs_browser, doc
