"""Health checks for configured sources: ``monitor sources check``.

For each source, from the user's own network: robots.txt, the home page, every declared feed, sitemap and
section page, feeds the home page announces (``<link rel="alternate">``), sitemaps robots.txt lists
(``Sitemap:``) or that answer at the usual places (``/sitemap.xml``, ``/sitemap_index.xml``,
``/wp-sitemap.xml``), then up to three article candidates (from feeds and sitemaps, else from links),
extracted exactly as a crawl would (``monitor.extract.extract_article``).  robots.txt is obeyed as the
crawler obeys it: a URL it forbids to ``USER_AGENT`` is reported, not fetched.

A source is *broken* (exit 1) when its site is unreachable, a declared feed/sitemap/section fails, robots.txt
forbids us the home page or every candidate, no candidate is found, or extraction fails on every candidate.
Lesser findings are warnings.  ``--suggest`` turns what was found into a corrected ``[[source]]`` entry.

A plain stdlib HTTP client (urllib: redirects, gzip, a size cap, the project's User-Agent; ``monitor.sources.fetch``)
fetches the pages; parsing is shared with the spider through ``monitor.crawl.discovery`` and
``monitor.crawl.sitemaps``.  Sources are checked a few at a time in a thread pool; the requests of one source go
one after the other.  The reports and their renderings (table, JSON, ``--suggest``) are ``monitor.sources.report``.
"""

from __future__ import annotations

import dataclasses
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

from monitor.config import setting
from monitor.crawl.discovery import (FeedError, alternate_feeds, feed_entries, looks_like_navigation, never_article,
                                     on_site, page_links, robots_sitemaps)
from monitor.extract import decode_body
from monitor.sources.catalogue import Source
from monitor.sources.fetch import Fetched, Fetcher, Robots
from monitor.sources.report import Candidate, Channel, CheckSummary, SourceReport

MAX_CANDIDATES = 3                 # article candidates fetched and extracted per source
MAX_LINK_TRIES = 10                # link-found pages tried to find MAX_CANDIDATES articles
MAX_DISCOVERED_FEEDS = 5           # <link rel=alternate> feeds checked per home page
MAX_CHILD_SITEMAPS = 2             # child sitemaps followed per sitemap index (and level)
MAX_SITEMAP_DEPTH = 2              # index -> child -> grandchild
MAX_LISTING_PAGES = 2              # listing pages read for links when the home page has no article links
SITEMAP_PROBES = ("/sitemap.xml", "/sitemap_index.xml", "/wp-sitemap.xml")
# link-found pages with these rejections are simply not articles (the crawler drops them quietly too)
_NOT_ARTICLE = {"not_article", "too_short", "no_main_text", "not_html"}
_SKIP_EXT = re.compile(r"\.(jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|zip|mp[34]|xml|rss|json|js|css)$", re.I)
_DATE_PATH = re.compile(r"/(19|20)\d\d/\d{1,2}/")


def article_score(url: str) -> int:
    """How much a URL looks like one story: dated paths, long hyphenated slugs, numeric ids, depth."""
    path = urlsplit(url).path
    if _SKIP_EXT.search(path):
        return -1
    segments = [s for s in path.split("/") if s]
    last = segments[-1] if segments else ""
    score = 0
    if _DATE_PATH.search(path):
        score += 2
    if last.count("-") >= 3:
        score += 2
    if re.search(r"\d{4,}", path):
        score += 1
    if len(segments) >= 2:
        score += 1
    return score


def _sort_key_date(entry) -> str:
    _url, hints = entry
    return hints.get("published") or hints.get("lastmod") or ""



class SourceChecker:
    """Checks one source; ``run()`` returns its SourceReport."""

    def __init__(self, source: Source, fetcher: Fetcher, *, user_agent: str | None = None,
                 max_candidates: int = MAX_CANDIDATES, min_text_chars: int | None = None,
                 extract_max_bytes: int | None = None):
        self.src, self.fetcher, self.max_candidates = source, fetcher.for_source(source), max_candidates
        self.min_text_chars = setting("MONITOR_MIN_TEXT_CHARS") if min_text_chars is None else min_text_chars
        self.extract_max_bytes = setting("MONITOR_EXTRACT_MAX_BYTES") if extract_max_bytes is None else extract_max_bytes
        self.robots = Robots(self.fetcher, user_agent or setting("USER_AGENT"))
        self.report = SourceReport(name=source.name, url=source.url)
        # candidate pools: per channel (feeds and sitemaps, declared first), then links
        self.pools: list[tuple[str, list[tuple[str, dict]]]] = []
        self.link_pool: list[str] = []
        self.listing_pool: list[str] = []

    # ---- helpers
    def on_site(self, url: str) -> bool:
        return on_site(url, self.src.domains, origins=self.src.origins)

    @staticmethod
    def _links(got: Fetched) -> list[str]:
        return page_links(decode_body(got.body, content_type=got.content_type), got.final_url)

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    def warn(self, text: str) -> None:
        self.report.warnings.append(text)

    def _fetch_channel(self, ch: Channel) -> Fetched | None:
        """robots.txt, then GET; fills status/final_url/problem. None when not fetched or failed."""
        if not self.robots.allowed(ch.url):
            ch.problem, ch.forbidden = "robots.txt forbids media-monitor to fetch it", True
            return None
        got = self.fetcher.get(ch.url)
        ch.status, ch.final_url = got.status, got.final_url
        if not got.ok:
            ch.problem = got.error
            return None
        if got.final_url != ch.url and not self.on_site(got.final_url):
            ch.problem = f"redirects off the site to {got.final_url}"
            return None
        return got

    # ---- steps
    def run(self) -> SourceReport:
        t0 = time.monotonic()
        try:
            if self.check_home():
                self.check_feeds()
                self.check_sitemaps()
                self.check_sections()
                self.check_candidates()
            else:  # the site is down: list what it declares, unchecked
                for kind, urls in (("feed", self.src.feeds), ("sitemap", self.src.sitemaps),
                                   ("section", self.src.sections)):
                    self.report.channels += [Channel(kind, u, "declared", problem="not checked: site unreachable")
                                             for u in urls]
            self.judge()
            self.report.suggested = self.suggest()
        except Exception as exc:  # noqa: BLE001 - one source's bug must not hide the others' reports
            self.problem(f"check failed: {type(exc).__name__}: {exc}"[:300])
        self.report.seconds = time.monotonic() - t0
        return self.report

    def check_home(self) -> bool:
        """robots.txt and the home page. False when the site cannot be reached at all (stop there)."""
        r, src = self.report, self.src
        robots = self.robots.fetch(src.url)
        if robots.ok:
            r.robots = str(robots.status)
        elif robots.status is not None:
            r.robots = f"none (HTTP {robots.status})"
            if robots.status >= 500:
                self.warn(f"robots.txt answered HTTP {robots.status} (the crawler then assumes everything is allowed)")
        else:
            r.robots = f"error: {robots.error}"
        self.home_html: Fetched | None = None
        if not self.robots.allowed(src.url):
            r.robots_ok = False
            r.reachable = robots.status is not None
            self.problem(f"robots.txt forbids media-monitor ({self.robots.user_agent.split()[0]}) to fetch the home "
                         f"page {src.url}")
            return r.reachable
        home = self.fetcher.get(src.url)
        r.home_status = home.status
        if not home.ok:
            r.reachable = False
            self.problem(f"unreachable: home page {src.url}: {home.error}")
            # a server that answers robots.txt (or the home page with an HTTP error) is still worth checking
            return not (home.connection_failed and robots.connection_failed)
        r.reachable = True
        self.home_html = home
        if not self.on_site(home.final_url):
            self.warn(f"home page redirects to another host: {home.final_url} (set url to it)")
        return True

    def check_feeds(self) -> None:
        src = self.src
        declared = list(dict.fromkeys(src.feeds))
        found = []
        if self.home_html is not None and self.home_html.body:
            html = decode_body(self.home_html.body, content_type=self.home_html.content_type)
            for url in alternate_feeds(html, self.home_html.final_url):
                if url in declared or url in found:
                    continue
                if not self.on_site(url):
                    self.warn(f"home page announces a feed on another host, not used: {url}")
                    continue
                found.append(url)
        for url, origin in [(u, "declared") for u in declared] + [(u, "home page") for u in
                                                                  found[:MAX_DISCOVERED_FEEDS]]:
            ch = Channel("feed", url, origin)
            self.report.channels.append(ch)
            got = self._fetch_channel(ch)
            if got is not None:
                try:
                    entries = feed_entries(got.body, got.final_url)
                except FeedError as exc:
                    ch.problem = str(exc)[:200]
                    entries = None
                if entries is not None:
                    ch.entries = len(entries)
                    pool = [(link, {k: v for k, v in hints.items() if v})
                            for link, hints in ((urljoin(got.final_url, l), h) for l, h in entries)
                            if self.on_site(link)]
                    if entries and not pool:
                        ch.problem = "every entry links to another host (the crawler skips them)"
                    else:
                        ch.ok = True
                        if not entries:
                            self.warn(f"feed {url} has no entries")
                        self.pools.append(("feed", pool))
            if not ch.ok:
                (self.problem if origin == "declared" else self.warn)(f"{origin} feed {url}: {ch.problem}")

    def check_sitemaps(self) -> None:
        src = self.src
        known: set[str] = set()
        todo = [(u, "declared") for u in dict.fromkeys(src.sitemaps)]
        robots = self.robots.answers.get(urlsplit(src.url).netloc.lower())
        if robots is not None and robots.ok:
            for url in robots_sitemaps(robots.body.decode("utf-8", "ignore"), robots.final_url):
                if not self.on_site(url):
                    self.warn(f"robots.txt lists a sitemap on another host, not used: {url}")
                elif url not in src.sitemaps:
                    todo.append((url, "robots.txt"))
        for url, origin in todo:
            known.add(url)
            ch = self._check_sitemap(url, origin)
            known.add(ch.final_url or url)
            if not ch.ok:
                (self.problem if origin == "declared" else self.warn)(f"{origin} sitemap {url}: {ch.problem}")
        root = "{0.scheme}://{0.netloc}".format(urlsplit(src.url))
        for path in SITEMAP_PROBES:
            url = root + path
            if url in known or not self.robots.allowed(url):
                continue
            got = self.fetcher.get(url)
            if not got.ok or got.final_url in known:
                continue  # nothing there (or the same file again): probes are silent
            known.add(got.final_url)
            ch = Channel("sitemap", url, "probe", status=got.status, final_url=got.final_url)
            if self._read_sitemap(ch, got, depth=0, quiet=True):
                self.report.channels.append(ch)

    def _check_sitemap(self, url: str, origin: str, depth: int = 0) -> Channel:
        ch = Channel("sitemap", url, origin)
        self.report.channels.append(ch)
        got = self._fetch_channel(ch)
        if got is not None:
            self._read_sitemap(ch, got, depth=depth)
        return ch

    def _read_sitemap(self, ch: Channel, got: Fetched, *, depth: int, quiet: bool = False) -> bool:
        """Parse a sitemap or index with the crawler's reader (gzip or not, the same caps); follow a few
        children of an index. True when it is a sitemap."""
        from monitor.crawl.sitemaps import SitemapStream

        stream = SitemapStream.read(got.body, max_bytes=setting("MONITOR_SITEMAP_MAX_BYTES"),
                                    max_urls=setting("MONITOR_MAX_SITEMAP_URLS"))
        if stream.error and not stream.entries:
            ch.problem = f"not a readable sitemap ({stream.error})"[:200]
            return False
        ch.problem = stream.problem   # malformed or cut after some entries; None when read whole
        urls, children = [], []
        for kind, loc, lastmod, news in stream.entries:
            loc = urljoin(got.final_url, loc)
            if kind == "sitemap":
                children.append((loc, lastmod or ""))
            else:
                hints = {k: v for k, v in news.items() if v}
                if lastmod:
                    hints["lastmod"] = lastmod
                urls.append((loc, hints))
        ch.entries = len(urls) + len(children)
        if not ch.entries and quiet:
            return False
        ch.ok = True
        if not ch.entries:
            self.warn(f"sitemap {ch.url} lists no URLs")
        pool = [(u, h) for u, h in urls if self.on_site(u)]
        if urls and not pool:
            self.warn(f"sitemap {ch.url} lists only URLs on other hosts")
        if pool:
            pool.sort(key=_sort_key_date, reverse=True)  # newest first where dates are given (stable otherwise)
            self.pools.append(("sitemap", pool))
        if children and depth < MAX_SITEMAP_DEPTH:
            for child in self._pick_children(children):
                sub = self._check_sitemap(child, "index", depth + 1)
                if not sub.ok:
                    self.warn(f"child sitemap {child} (of {ch.url}): {sub.problem}")
        return True

    def _pick_children(self, children: list[tuple[str, str]]) -> list[str]:
        """News/post sitemaps first, then the most recently modified; never taxonomies or users."""
        def kind(item):
            name = urlsplit(item[0]).path.lower()
            return 0 if "news" in name else 1 if re.search(r"post|article|story|stories", name) else \
                3 if re.search(r"tag|categor|taxonom|user|author|page-sitemap|pages", name) else 2
        ours = sorted((c for c in children if self.on_site(c[0])), key=lambda c: c[1], reverse=True)
        ranked = sorted(ours, key=kind)  # stable: newest first within a kind
        useful = [c for c in ranked if kind(c) < 3] or ranked
        return [u for u, _ in useful[:MAX_CHILD_SITEMAPS]]

    def check_sections(self) -> None:
        for url in dict.fromkeys(self.src.sections):
            ch = Channel("section", url, "declared")
            self.report.channels.append(ch)
            got = self._fetch_channel(ch)
            if got is None:
                self.problem(f"declared section {url}: {ch.problem}")
                continue
            ch.ok = True
            links = [u for u in self._links(got) if self.on_site(u)]
            ch.entries = len(links)
            self.link_pool.extend(links)
        if self.home_html is not None:
            self.link_pool.extend(u for u in self._links(self.home_html) if self.on_site(u))
        self.link_pool = list(dict.fromkeys(self.link_pool))

    # ---- candidates
    def _feed_sitemap_candidates(self) -> list[tuple[str, str, dict]]:
        """Round-robin over the channels' entries (each working channel contributes), never-articles out."""
        out, seen = [], set()
        iters = [(via, iter(pool)) for via, pool in self.pools]
        while iters and len(out) < self.max_candidates:
            for entry in list(iters):
                via, it = entry
                for url, hints in it:
                    if url in seen or never_article(url) or looks_like_navigation(url):
                        continue
                    seen.add(url)
                    out.append((url, via, hints))
                    break
                else:
                    iters.remove(entry)
                if len(out) >= self.max_candidates:
                    break
        return out

    def _link_candidates(self, links: list[str]) -> tuple[list[str], list[str]]:
        """(article-looking links best first, listing links) among a page's on-site links."""
        pattern = self.src.article_regex
        home = self.src.url.rstrip("/")
        articles, listings = [], []
        for url in links:
            if url.rstrip("/") == home or never_article(url) or _SKIP_EXT.search(urlsplit(url).path):
                continue
            if pattern is not None:
                (articles if pattern.search(url) else listings).append(url)
            elif looks_like_navigation(url):
                listings.append(url)
            elif article_score(url) >= 2:
                articles.append(url)
            else:
                listings.append(url)
        if pattern is None:
            articles.sort(key=article_score, reverse=True)
        return articles, listings

    def check_candidates(self) -> None:
        chosen = self._feed_sitemap_candidates()
        for url, via, hints in chosen:
            self._try(url, via, hints, require_signals=False)
        if self.report.candidates:
            return
        # no feed or sitemap entries: article links on the home/section pages, then one level deeper
        articles, listings = self._link_candidates(self.link_pool)
        tried = set()
        tries = self._try_links(articles, tried, 0)
        for listing in listings[:MAX_LISTING_PAGES] if len(self._ok()) < self.max_candidates else []:
            if not self.robots.allowed(listing):
                continue
            got = self.fetcher.get(listing)
            if not got.ok:
                continue
            more, _ = self._link_candidates([u for u in self._links(got) if self.on_site(u)])
            tries = self._try_links(more, tried, tries)
            if len(self._ok()) >= self.max_candidates:
                break

    def _ok(self) -> list[Candidate]:
        return [c for c in self.report.candidates if c.ok]

    def _try_links(self, urls: list[str], tried: set, tries: int) -> int:
        for url in urls:
            if len(self._ok()) >= self.max_candidates or tries >= MAX_LINK_TRIES:
                break
            if url in tried:
                continue
            tried.add(url)
            tries += 1
            self._try(url, "link", {}, require_signals=True)
        return tries

    def _try(self, url: str, via: str, hints: dict, *, require_signals: bool) -> None:
        from monitor.extract import Rejection, extract_article

        cand = Candidate(url, via)
        if not self.robots.allowed(url):
            cand.robots_ok = False
            cand.problem = "robots.txt forbids it"
            self.report.candidates.append(cand)
            return
        got = self.fetcher.get(url)
        cand.status = got.status
        if not got.ok:
            cand.problem = got.error
            self.report.candidates.append(cand)
            return
        result = extract_article(got.body, got.final_url, content_type=got.content_type, hints=hints,
                                 min_text_chars=self.min_text_chars, max_bytes=self.extract_max_bytes,
                                 require_article_signals=require_signals)
        if isinstance(result, Rejection):
            if via == "link" and result.reason.value in _NOT_ARTICLE:
                self.report.links_rejected += 1  # a listing or hub page: not a candidate after all
                return
            cand.problem = f"{result.reason.value}: {result.detail}"
        else:
            cand.ok, cand.title, cand.published, cand.text_chars = \
                True, result.title, result.published, len(result.text)
        self.report.candidates.append(cand)

    # ---- verdict and suggestion
    def judge(self) -> None:
        r = self.report
        cands = r.candidates
        if any(not c.robots_ok for c in cands):
            r.robots_ok = False
        if not r.reachable:
            return  # already a problem; the rest follows from it
        if getattr(self.src, "needs_browser", False) and not any(c.ok for c in cands) and r.robots_ok \
                and not (cands and all(not c.robots_ok for c in cands)):
            # render = "browser": its text (and often its links) exist only once a browser ran the page's scripts;
            # pages are read here without one, so finding no article is not a fault of the source
            self.warn('render = "browser": pages are read here without the browser, so article links and text are '
                      f"not checked ({len(cands)} candidate(s) found, none with text)")
            return
        if not cands and r.robots_ok:
            self.problem("no article candidates found (no feed or sitemap entries, no article-like links on the "
                         "home page); declare a feed, a sitemap, sections or an article_pattern")
        elif cands and all(not c.robots_ok for c in cands):
            self.problem(f"robots.txt forbids media-monitor every article candidate (e.g. {cands[0].url})")
        elif cands and not any(c.ok for c in cands):
            first = next(c for c in cands if c.robots_ok)
            self.problem(f"extraction failed on all {len(cands)} candidates (e.g. {first.url}: {first.problem})")
        else:
            for c in cands:
                if not c.robots_ok:
                    self.warn(f"robots.txt forbids article {c.url}")
                elif not c.ok:
                    self.warn(f"article {c.url}: {c.problem}")
                elif not c.published:
                    self.warn(f"no publication date found in {c.url}")
                elif not c.title:
                    self.warn(f"no title found in {c.url}")

    def suggest(self) -> Source:
        """The source with the feeds/sitemaps/sections that work and the ones the site declares."""
        src, chans = self.src, self.report.channels
        if not self.report.reachable:
            return src

        def good(kind, origins):
            # working ones (at their final URL), and declared ones robots.txt keeps us from checking
            return [c.final_url if c.ok and c.final_url and self.on_site(c.final_url) else c.url
                    for c in chans if c.kind == kind and c.origin in origins
                    and (c.ok or (c.forbidden and c.origin == "declared"))]

        feeds = good("feed", ("declared", "home page"))
        sitemaps = good("sitemap", ("declared", "robots.txt")) or good("sitemap", ("probe",))[:1]
        sections = good("section", ("declared",))
        changes = {"feeds": tuple(dict.fromkeys(feeds)), "sitemaps": tuple(dict.fromkeys(sitemaps)),
                   "sections": tuple(dict.fromkeys(sections))}
        home = getattr(self, "home_html", None)
        if home is not None and not self.on_site(home.final_url):
            changes["url"] = home.final_url
        return dataclasses.replace(src, **changes)



# --------------------------------------------------------------------------- entry point

def _warm_up() -> None:
    """Load trafilatura's and py3langid's lazy parts once, before threads would all wait for them."""
    from monitor.extract import extract_article

    text = " ".join(["The delegation discussed the railway corridor and the grain harvest in detail."] * 6)
    extract_article(f"<html><head><title>Warm up</title></head><body><article><p>{text}</p></article></body>"
                    "</html>", "http://localhost/warm-up", content_type="text/html")


def check_sources(sources: list[Source], *, timeout: float | None = None, concurrency: int | None = None,
                  progress=None) -> CheckSummary:
    """Check sources, ``concurrency`` at a time; reports keep the sources' order."""
    timeout = timeout or setting("MONITOR_CHECK_TIMEOUT")
    concurrency = max(1, concurrency or setting("MONITOR_CHECK_CONCURRENCY"))
    fetcher = Fetcher(timeout=timeout)
    t0 = time.monotonic()
    if sources:
        _warm_up()

    def one(src: Source) -> SourceReport:
        report = SourceChecker(src, fetcher).run()
        if progress:
            progress(f"{src.name}: {report.status} ({report.seconds:.1f} s)")
        return report

    if len(sources) <= 1 or concurrency == 1:
        reports = [one(s) for s in sources]
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(sources)), thread_name_prefix="check") as pool:
            reports = list(pool.map(one, sources))
    return CheckSummary(reports, time.monotonic() - t0)


def run_check(source_names=(), *, sources_path=None, tags=(), timeout: float | None = None,
              concurrency: int | None = None, progress=None) -> CheckSummary:
    """`monitor sources check`: load and select sources (SourcesError on bad input), check them."""
    from monitor.sources.catalogue import load_sources, select_sources

    chosen = select_sources(load_sources(sources_path), names=source_names, tags=tags)
    return check_sources(chosen, timeout=timeout, concurrency=concurrency, progress=progress)
