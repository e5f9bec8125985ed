"""JavaScript-only sites: ``render = "browser"`` sources are rendered by the system Chromium (scrapy-playwright).

A source whose articles exist only after its scripts ran sets ``render = "browser"`` in the sources file.
``BrowserAddon`` (in ``ADDONS``) looks at each crawler's source: for any other source it does nothing, so the
other sources keep Scrapy's own download handler and no browser is started for them.  For a browser source it
installs scrapy-playwright's download handler for http/https in that source's crawler only, launching the
machine's Chromium (``MONITOR_BROWSER_PATH``, else ``chromium``, ``chromium-browser`` or ``google-chrome`` on
PATH; never a browser Playwright downloads), and ``BrowserRequests``, which sends the source's HTML pages
(articles, the home page, sections and listings: their links are often drawn by the same scripts) through the
browser with ``meta["playwright"]``.  Feeds, sitemaps and robots.txt stay with Scrapy's handler (no script to
run; the sitemap reader streams the bytes); scrapy-playwright hands every request without the meta to it.

Without the ``browser`` extra, without Chromium, or with another reactor than asyncio, the source's spider
closes before its first request with ``browser_unavailable`` and one line saying what to install
(``BrowserUnavailable``; the other sources crawl on).

The network boundary (``monitor.crawl.addresses``, docs/security.md) holds inside the browser: every request the
page makes goes through a Playwright route (``SubrequestGuard``), which refuses internal addresses as
``NetGuardMiddleware`` does (the source's own addresses allowed, but only at its own ports) and images, fonts and
media (never needed for the text); the page's own navigations are fetched without following redirects, so every
hop passes the same check; WebSockets and service workers are blocked.  Pages are bounded: one browser context
per source, ``MONITOR_BROWSER_PAGES`` pages open at once, ``MONITOR_BROWSER_TIMEOUT`` per navigation,
``MONITOR_BROWSER_SETTLE`` for the scripts' own requests; scrapy-playwright closes each page once read.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import shutil
from urllib.parse import urlsplit

from scrapy.exceptions import CloseSpider, NotConfigured

from monitor.crawl.addresses import blocked_reason, check_addresses, is_metadata, own_addresses, resolve_blocking
from monitor.crawl.discovery import port_allowed

logger = logging.getLogger(__name__)

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
HANDLER = "monitor.crawl.browser_handler.PlaywrightHandler"   # scrapy-playwright's, one instance per crawler
# the spider's request roles (monitor.crawl.spider) that are HTML pages: rendered; feeds, sitemaps, robots.txt not
RENDERED_ROLES = frozenset({"article", "home", "section", "listing"})
# resource types a page may ask for that are never needed for its text (speed)
SKIPPED_RESOURCES = frozenset({"image", "media", "font", "texttrack", "manifest"})
CONTEXT_KWARGS = {"service_workers": "block", "java_script_enabled": True}
LOCATION_HEADER = "X-Monitor-Location"   # a redirect's Location while the page is in the browser (SubrequestGuard.route)
FAILURE_REASON = "browser_unavailable"   # the spider's finish_reason when it cannot render


def find_browser(configured: str = "") -> str | None:
    """The Chromium executable: ``configured`` (MONITOR_BROWSER_PATH) when it is an executable file, else the first of
    BROWSER_NAMES on PATH; None when there is none."""
    if configured:
        path = shutil.which(configured) if os.sep not in configured else configured
        return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_problem(settings) -> str | None:
    """Why a ``render = "browser"`` source cannot be rendered with these settings (one line saying what to install
    or set), None when it can."""
    need = 'render = "browser" needs'
    if importlib.util.find_spec("scrapy_playwright") is None:
        return (f"{need} the browser extra: pip install 'media-monitor[browser]' (scrapy-playwright; it drives the "
                "system Chromium, no browser download)")
    configured = (settings.get("MONITOR_BROWSER_PATH") or "").strip()
    if find_browser(configured) is None:
        if configured:
            return (f"{need} Chromium: MONITOR_BROWSER_PATH={configured} is not an executable file; install "
                    "Chromium (Debian: apt-get install chromium) or point MONITOR_BROWSER_PATH at it")
        return (f"{need} Chromium: none of {', '.join(BROWSER_NAMES)} is on PATH; install it (Debian: apt-get "
                "install chromium) or set MONITOR_BROWSER_PATH")
    reactor = settings.get("TWISTED_REACTOR") or ""
    if reactor != ASYNCIO_REACTOR:
        return f"{need} the asyncio reactor: set TWISTED_REACTOR={ASYNCIO_REACTOR} (the default)"
    return None


def launch_options(settings) -> dict:
    """Playwright's ``launch()`` options: the system Chromium, headless; its sandbox on unless we run as root
    (Chromium refuses to start sandboxed as root)."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return {"executable_path": find_browser((settings.get("MONITOR_BROWSER_PATH") or "").strip()),
            "headless": True, "chromium_sandbox": not as_root,
            # containers often have a small /dev/shm; no GPU in a headless crawl
            "args": ["--disable-dev-shm-usage", "--disable-gpu"]}


class BrowserAddon:
    """Per crawler: nothing for a source without ``render = "browser"``; for one with it, scrapy-playwright's download
    handler and ``BrowserRequests``, or ``BrowserUnavailable`` when that cannot work (see the module docstring)."""

    def __init__(self, crawler):
        source = getattr(crawler.spidercls, "source", None)
        if source is None or not getattr(source, "needs_browser", False):
            raise NotConfigured   # (no message: nothing is logged for the sources that need no browser)
        self.crawler = crawler
        self.source = source

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def update_settings(self, settings) -> None:
        if browser_problem(settings):
            settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", BrowserUnavailable, 0)
            return
        timeout = settings.getfloat("MONITOR_BROWSER_TIMEOUT")
        for name, value in {
            "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(settings),
            "PLAYWRIGHT_MAX_CONTEXTS": 1,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, settings.getint("MONITOR_BROWSER_PAGES")),
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000 if timeout > 0 else None,
            "PLAYWRIGHT_DOWNLOAD_TIMEOUT": int((timeout or 30) * 1000),
        }.items():
            settings.set(name, value, priority="addon")
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", BrowserRequests, 950)


class BrowserUnavailable:
    """Spider middleware of a browser source that cannot be rendered: the spider closes before its first request
    (``browser_unavailable``), the reason in the stats for the crawl's summary (``monitor.outcomes``)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.problem = browser_problem(crawler.settings) or "the browser cannot be used"

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        self.crawler.stats.set_value("monitor/failure", self.problem)
        logger.info("%s: not crawled: %s", getattr(self.crawler.spidercls, "name", "?"), self.problem)
        raise CloseSpider(FAILURE_REASON)
        yield  # an async generator, as process_start must be


async def settle(page, timeout_ms: float) -> None:
    """After the load event, wait up to ``timeout_ms`` for the page's scripts to finish their own requests (network
    idle for 0.5 s): an article fetched as JSON arrives after ``load``.  A page that never goes quiet is read as it
    is then."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except PlaywrightTimeout:
        pass


class BrowserRequests:
    """Downloader middleware of a browser source: its HTML pages go through the browser (``meta["playwright"]``), with
    the page guard and the settle wait; a rendered page whose redirects left the boundary is refused."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.guard = SubrequestGuard(crawler.spidercls.source, crawler.settings, crawler.stats)
        self.settle_ms = max(0.0, crawler.settings.getfloat("MONITOR_BROWSER_SETTLE")) * 1000
        self.launch_failed = False
        from monitor.crawl.scrapy_compat import is_scrapy_parse

        self.parse_mode = is_scrapy_parse(crawler)   # `scrapy parse --spider NAME URL`: its URL is rendered too

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def rendered(self, request) -> bool:
        """An HTML page of the source: a spider request of a RENDERED_ROLES role, or in ``scrapy parse`` the page asked
        for and the links it follows (requests without a role; robots.txt, marked ``dont_obey_robotstxt``, is not)."""
        if request.meta.get("playwright") is False:
            return False
        role = request.meta.get("role")
        if role is None and self.parse_mode:
            return not request.meta.get("dont_obey_robotstxt")
        return role in RENDERED_ROLES

    def process_request(self, request):
        if not self.rendered(request):
            return None
        from scrapy_playwright.page import PageMethod

        request.meta["playwright"] = True
        request.meta.setdefault("playwright_context_kwargs", dict(CONTEXT_KWARGS))
        request.meta.setdefault("playwright_page_goto_kwargs", {"wait_until": "load"})
        if self.settle_ms:
            request.meta.setdefault("playwright_page_methods", [PageMethod(settle, self.settle_ms)])
        request.meta["playwright_page_init_callback"] = self.guard.attach
        self.crawler.stats.inc_value("monitor/browser/pages")
        return None

    @staticmethod
    def _forget(request) -> None:
        """The page's callbacks leave the meta once the page is done: a redirect or retry copies the meta into a new
        request that may be serialized (JOBDIR, Redis); ``process_request`` sets them again."""
        request.meta.pop("playwright_page_init_callback", None)
        request.meta.pop("playwright_page_methods", None)

    async def process_response(self, request, response):
        self._forget(request)
        if "playwright" not in (response.flags or ()):
            return response
        location = response.headers.pop(LOCATION_HEADER, None)
        if location and 300 <= response.status < 400:   # for RedirectMiddleware (see SubrequestGuard.route)
            response.headers["Location"] = location
        for url in [*request.meta.get("redirect_urls", ()), response.url]:
            problem = await self.guard.refusal(url)
            if problem:
                from monitor.crawl.netguard import BlockedAddress

                self.crawler.stats.inc_value("monitor/blocked_address")
                raise BlockedAddress(f"rendered page reached {url}: {problem}")
        return response

    def process_exception(self, request, exception):
        """Chromium that cannot be started (a broken MONITOR_BROWSER_PATH): the source fails with one line instead of
        one error per page."""
        self._forget(request)
        if request.meta.get("playwright") and "BrowserType.launch" in str(exception) and not self.launch_failed:
            from monitor.crawl.scrapy_compat import close_spider_later

            self.launch_failed = True
            first = next((x.strip() for x in str(exception).splitlines() if x.strip()), "")[:300]
            self.crawler.stats.set_value("monitor/failure", f"Chromium could not be started: {first}; check "
                                                            "MONITOR_BROWSER_PATH (docs/sources.md)")
            close_spider_later(self.crawler, FAILURE_REASON)
        return None


class SubrequestGuard:
    """The network boundary for what a rendered page asks for (``monitor.crawl.addresses``' rules, as
    ``NetGuardMiddleware`` applies them to Scrapy's requests)."""

    def __init__(self, source, settings, stats=None):
        self.source = source
        self.allow_all = settings.getbool("MONITOR_ALLOW_PRIVATE_ADDRESSES")
        self.stats = stats
        self.timeout_ms = max(0.0, settings.getfloat("MONITOR_BROWSER_TIMEOUT")) * 1000
        self.cache: dict[str, list] = {}
        self._own = None

    async def _resolve(self, host: str) -> list:
        if host not in self.cache:
            if len(self.cache) > 10000:
                self.cache.clear()
            self.cache[host] = await asyncio.get_running_loop().run_in_executor(None, resolve_blocking, host)
        return self.cache[host]

    async def own(self) -> frozenset:
        if self._own is None:
            self._own = await asyncio.get_running_loop().run_in_executor(None, own_addresses, self.source)
        return self._own

    async def refusal(self, url: str) -> str | None:
        """None when the page may fetch ``url``, else why not (one line)."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return None
        if parts.scheme not in ("http", "https"):
            return f"a {parts.scheme or 'schemeless'} URL"
        host = (parts.hostname or "").lower()
        if not host:
            return "no host"
        addresses = await self._resolve(host)
        if self.allow_all:
            addresses = [a for a in addresses if is_metadata(a)]
        message = check_addresses(host, addresses, await self.own())
        if message:
            return message + " (internal addresses are refused; see MONITOR_ALLOW_PRIVATE_ADDRESSES)"
        internal = [a for a in addresses if blocked_reason(a)]
        if internal and not port_allowed(url, self.source.origins):
            # the source's own internal address, but another port: a service next to the site
            return f"{parts.netloc}: a port the source does not use on that host"
        return None

    async def attach(self, page, request) -> None:
        """scrapy-playwright's page init callback: the guard route (it runs before scrapy-playwright's own route,
        registered earlier) and no WebSockets."""
        ua = request.headers.get("User-Agent")
        headers = {"user-agent": ua.decode("latin-1")} if ua else {}

        async def route(route, pw_request):
            try:
                await self.route(route, pw_request, headers)
            except Exception as exc:  # noqa: BLE001 - a route left unanswered would hang the page
                logger.debug("rendered page: %s failed: %r", pw_request.url, exc)
                code = next((c for marker, c in _FETCH_ERRORS if marker in str(exc)), "failed")
                with contextlib.suppress(Exception):
                    await route.abort(code)

        await page.route("**", route)
        await page.route_web_socket("**", _refuse_websocket)

    async def route(self, route, request, headers: dict) -> None:
        if request.resource_type in SKIPPED_RESOURCES:
            self._count("monitor/browser/skipped_resources")
            await route.abort()
            return
        problem = await self.refusal(request.url)
        if problem:
            self._count("monitor/browser/blocked_requests")
            logger.info("rendered page: refused %s: %s", request.url, problem)
            await route.abort("blockedbyclient")
            return
        if not (request.is_navigation_request() and request.method == "GET"):
            await route.fallback()   # scrapy-playwright's route: Scrapy's User-Agent, then the network
            return
        # A navigation is fetched here without following redirects: the browser would follow them itself, and the
        # hops of a redirect pass no route.  A redirect is handed to the page without its Location (the browser
        # stops there); BrowserRequests puts the Location back for Scrapy's RedirectMiddleware, whose new request
        # passes NetGuardMiddleware and comes back here.
        response = await route.fetch(max_redirects=0, timeout=self.timeout_ms,
                                     headers={**(await request.all_headers()), **headers})
        location = response.headers.get("location")
        if 300 <= response.status < 400 and location:
            kept = {k: v for k, v in response.headers.items() if k.lower() not in ("location", "content-length")}
            kept[LOCATION_HEADER] = location
            await route.fulfill(status=response.status, headers=kept, body=b"")
            return
        await route.fulfill(response=response)

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)


# Chromium's net:: error of a page that did not load -> (fetch_errors.reason, what happened)
_NET_ERRORS = (
    ("ERR_BLOCKED_BY_CLIENT", "blocked_address", "not fetched: the network boundary refused the browser's request"),
    ("ERR_NAME_NOT_RESOLVED", "dns_error", "the host name could not be resolved (check the URL or your network)"),
    ("ERR_CONNECTION_REFUSED", "connection_refused", "connection refused (the site is down or blocks us)"),
    ("ERR_TIMED_OUT", "timeout", "no answer within MONITOR_BROWSER_TIMEOUT (the site is slow or down)"),
    ("ERR_CONNECTION_RESET", "connection_lost", "the connection closed before the whole page arrived"),
    ("ERR_CONNECTION_CLOSED", "connection_lost", "the connection closed before the whole page arrived"),
)
# what a failed fetch of a page's navigation (SubrequestGuard.route) reports -> route.abort() error code
_FETCH_ERRORS = (("ECONNREFUSED", "connectionrefused"), ("ENOTFOUND", "namenotresolved"),
                 ("EAI_AGAIN", "namenotresolved"), ("Timeout", "timedout"), ("ECONNRESET", "connectionreset"),
                 ("socket hang up", "connectionreset"))


def describe_browser_error(value, what: str, tries: str = "") -> tuple[str, str]:
    """``(reason, detail)`` for a Playwright error of a rendered page (``monitor.crawl.spider.describe_failure``):
    the usual reasons where Chromium says which, else ``fetch_failed`` with the error's first line."""
    text = str(value)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(value).__name__)[:300]
    if type(value).__name__ == "TimeoutError":
        return "timeout", f"{what}: the browser did not load it within MONITOR_BROWSER_TIMEOUT{tries}"
    if "BrowserType.launch" in text:
        return "fetch_failed", (f"{what}: Chromium could not be started ({first}); check MONITOR_BROWSER_PATH "
                                "(docs/sources.md)")
    for code, reason, detail in _NET_ERRORS:
        if code in text:
            return reason, f"{what}: {detail}{tries}"
    return "fetch_failed", f"{what}: the browser could not load it: {first}{tries}"


def _refuse_websocket(ws) -> None:
    """A page's WebSocket is never connected to its server (it would pass no route)."""
    ws.close()
