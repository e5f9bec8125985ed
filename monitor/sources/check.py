"""Health checks for configured sources: ``monitor sources check``.

For each source, from the user's own network: robots.txt, the home page, every declared feed, sitemap and
section page, feeds the home page announces (``<link rel="alternate">``), sitemaps robots.txt lists
(``Sitemap:``) or that answer at the usual places (``/sitemap.xml``, ``/sitemap_index.xml``,
``/wp-sitemap.xml``), then up to three article candidates (from feeds and sitemaps, else from links),
extracted exactly as a crawl would (``monitor.extract.article.extract_article``).  robots.txt is obeyed as the
crawler obeys it: a URL it forbids to ``USER_AGENT`` is reported, not fetched.

A source is *broken* (exit 1) when its site is unreachable, a declared feed/sitemap/section fails, robots.txt
forbids us the home page or every candidate, no candidate is found, or extraction fails on every candidate.
Lesser findings are warnings.  ``--suggest`` turns what was found into a corrected ``[[source]]`` entry.

A plain stdlib HTTP client (urllib: redirects, gzip, a size cap, the project's User-Agent) fetches the pages;
parsing is shared with the spider through ``monitor.crawl.discovery``.  Sources are checked a few at a time in a
thread pool; the requests of one source go one after the other.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from monitor import settings as _settings
from monitor.crawl.discovery import (FeedError, alternate_feeds, feed_entries, iter_sitemap, looks_like_navigation,
                               never_article, robots_sitemaps)
from monitor.sources.catalogue import Source

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


# --------------------------------------------------------------------------- HTTP

@dataclass
class Fetched:
    """One GET: the final URL after redirects, the status, the (decoded) body, or what went wrong."""

    url: str
    final_url: str
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    error: str | None = None         # None when a 2xx body arrived whole
    connection_failed: bool = False  # no HTTP answer at all (DNS, refused, timeout, TLS)

    @property
    def ok(self) -> bool:
        return self.error is None


class Fetcher:
    """Stdlib HTTP GET with the project's User-Agent, a timeout, redirects, gzip/deflate and a size cap."""

    def __init__(self, *, user_agent: str = _settings.USER_AGENT, timeout: float = 15.0,
                 max_bytes: int = _settings.DOWNLOAD_MAXSIZE):
        self.user_agent, self.timeout, self.max_bytes = user_agent, timeout, max_bytes
        self.opener = urllib.request.build_opener()

    def get(self, url: str) -> Fetched:
        req = urllib.request.Request(url, headers={
            "User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return self._read(url, resp)
        except urllib.error.HTTPError as exc:
            final = exc.geturl() or url
            exc.close()
            return Fetched(url, final, status=exc.code, error=f"HTTP {exc.code}")
        except urllib.error.URLError as exc:
            return Fetched(url, url, error=_describe_network_error(exc.reason), connection_failed=True)
        except (TimeoutError, socket.timeout):
            return Fetched(url, url, error=f"no answer within {self.timeout:g} s", connection_failed=True)
        except (ConnectionError, OSError, ValueError) as exc:  # reset mid-body, bad URL, http.client errors
            return Fetched(url, url, error=_describe_network_error(exc), connection_failed=True)
        except http.client.IncompleteRead:
            return Fetched(url, url, error="the connection closed before the whole page arrived",
                           connection_failed=True)
        except http.client.HTTPException as exc:  # BadStatusLine, RemoteDisconnected ...
            return Fetched(url, url, error=f"broken HTTP answer: {type(exc).__name__}: {exc}"[:200],
                           connection_failed=True)

    def _read(self, url: str, resp) -> Fetched:
        final = resp.geturl() or url
        ctype = resp.headers.get("Content-Type")
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            return Fetched(url, final, resp.status, ctype, error=f"larger than {self.max_bytes:,} bytes")
        raw = resp.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            return Fetched(url, final, resp.status, ctype, error=f"larger than {self.max_bytes:,} bytes")
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            try:
                raw = _decompress(raw, self.max_bytes, wbits=47 if encoding != "deflate" else zlib.MAX_WBITS)
            except zlib.error:
                if encoding != "deflate":
                    return Fetched(url, final, resp.status, ctype, error="gzip body could not be decompressed")
                try:  # raw deflate without zlib header
                    raw = _decompress(raw, self.max_bytes, wbits=-zlib.MAX_WBITS)
                except zlib.error:
                    return Fetched(url, final, resp.status, ctype, error="deflate body could not be decompressed")
            except OverflowError:
                return Fetched(url, final, resp.status, ctype,
                               error=f"larger than {self.max_bytes:,} bytes once decompressed")
        return Fetched(url, final, resp.status, ctype, raw)


def _decompress(data: bytes, max_bytes: int, *, wbits: int) -> bytes:
    """zlib/gzip decompression that stops at ``max_bytes`` (OverflowError) so a zip bomb cannot fill memory."""
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, max_bytes + 1)
    if len(out) > max_bytes or d.unconsumed_tail:
        raise OverflowError(max_bytes)
    return out + d.flush()


def _describe_network_error(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return "host name could not be resolved (check the URL or your network)"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer in time (the site is slow or down)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (the site is down or blocks us)"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {getattr(reason, 'reason', None) or reason}"
    if isinstance(reason, ConnectionError):
        return "the connection closed before the page arrived"
    return str(reason)[:200]


def _maybe_gunzip(body: bytes, max_bytes: int) -> bytes:
    """Sitemap files like ``sitemap.xml.gz`` are gzip bytes without Content-Encoding."""
    if body[:2] == b"\x1f\x8b":
        return _decompress(body, max_bytes, wbits=47)
    return body


# --------------------------------------------------------------------------- report

@dataclass
class Channel:
    """A feed, sitemap or section page of a source, as checked."""

    kind: str                  # feed | sitemap | section
    url: str
    origin: str                # declared | home page | robots.txt | probe | index
    ok: bool = False
    status: int | None = None
    final_url: str | None = None
    entries: int = 0           # feed entries, sitemap <url>s + child <sitemap>s, section links
    problem: str | None = None
    forbidden: bool = False    # robots.txt forbids it to USER_AGENT (not fetched)


@dataclass
class Candidate:
    """An article page tried: where it came from and what extraction made of it."""

    url: str
    via: str                   # feed | sitemap | link
    robots_ok: bool = True
    status: int | None = None
    ok: bool = False
    title: str | None = None
    published: str | None = None
    text_chars: int = 0
    problem: str | None = None


@dataclass
class SourceReport:
    name: str
    url: str
    reachable: bool = False
    home_status: int | None = None
    robots: str = ""           # what robots.txt said: "200", "none (404)", "error: ..."
    robots_ok: bool = True     # home page and all candidates allowed for USER_AGENT
    channels: list[Channel] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    links_rejected: int = 0    # link-found pages that turned out not to be articles
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)   # what makes the source broken
    warnings: list[str] = field(default_factory=list)
    suggested: Source | None = None

    @property
    def broken(self) -> bool:
        return bool(self.problems)

    @property
    def status(self) -> str:
        return "BROKEN" if self.problems else ("warn" if self.warnings else "ok")

    def _count(self, kind: str) -> str:
        mine = [c for c in self.channels if c.kind == kind and c.origin != "index"]
        declared = [c for c in mine if c.origin == "declared"]
        found = [c for c in mine if c.origin != "declared" and c.ok]
        return f"{sum(c.ok for c in declared)}/{len(declared)} +{len(found)}"

    def row(self) -> dict:
        return {
            "source": self.name, "status": self.status, "reachable": "yes" if self.reachable else "NO",
            "feeds": self._count("feed"), "sitemaps": self._count("sitemap"),
            "candidates": len(self.candidates),
            "extracted": f"{sum(c.ok for c in self.candidates)}/{len(self.candidates)}",
            "robots": "ok" if self.robots_ok else "NO", "secs": f"{self.seconds:.1f}",
            "problems": "; ".join(self.problems + self.warnings),
        }

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("suggested")
        d.update(status=self.status, broken=self.broken, seconds=round(self.seconds, 2))
        if self.suggested is not None:
            from monitor.sources.render import source_to_toml

            d["suggested_toml"] = source_to_toml(self.suggested)
        return d


COLUMNS = ["source", "status", "reachable", "feeds", "sitemaps", "candidates", "extracted", "robots", "secs",
           "problems"]


@dataclass
class CheckSummary:
    reports: list[SourceReport]
    seconds: float = 0.0

    @property
    def broken(self) -> list[SourceReport]:
        return [r for r in self.reports if r.broken]

    @property
    def exit_code(self) -> int:
        return 1 if self.broken else 0

    def render(self, fmt: str = "table") -> str:
        if fmt == "json":
            return json.dumps([r.to_dict() for r in self.reports], ensure_ascii=False, indent=2)
        from monitor.sources.render import table

        lines = [table([r.row() for r in self.reports], COLUMNS), ""]
        for r in self.reports:
            for p in r.problems:
                lines.append(f"{r.name}: BROKEN: {p}")
            for w in r.warnings:
                lines.append(f"{r.name}: warning: {w}")
        lines.append(f"{len(self.reports)} source(s) checked in {self.seconds:.1f} s: "
                     f"{len(self.reports) - len(self.broken)} ok, {len(self.broken)} broken"
                     + (f" ({', '.join(r.name for r in self.broken)})" if self.broken else ""))
        lines.append("feeds/sitemaps: declared working/declared +discovered working")
        return "\n".join(lines)

    def render_suggestions(self) -> str:
        """A sources file: the report as comments, then one corrected [[source]] entry per source."""
        from monitor.sources.render import source_to_toml

        out = ["# media-monitor: sources as `monitor sources check --suggest` found them", "#"]
        out += ["# " + line if line else "#" for line in self.render("table").splitlines()]
        for r in self.reports:
            out.append("")
            out.append(f"# {r.name}: {r.status}" + (f": {'; '.join(r.problems)}" if r.problems else ""))
            for note in _suggestion_notes(r):
                out.append(f"#   {note}")
            out.append(source_to_toml(r.suggested or _unchanged(r)))
        return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- checking one source

class _Robots:
    """robots.txt per host, parsed with protego like Scrapy's RobotsTxtMiddleware (non-2xx: allow all)."""

    def __init__(self, fetcher: Fetcher, user_agent: str):
        self.fetcher, self.user_agent = fetcher, user_agent
        self.parsers: dict[str, object] = {}
        self.answers: dict[str, Fetched] = {}

    def fetch(self, url: str) -> Fetched:
        parts = urlsplit(url)
        netloc = parts.netloc.lower()
        if netloc not in self.answers:
            got = self.fetcher.get(f"{parts.scheme}://{parts.netloc}/robots.txt")
            self.answers[netloc] = got
            parser = None
            if got.ok:
                from protego import Protego

                try:
                    parser = Protego.parse(got.body.decode("utf-8", "ignore"))
                except Exception:  # noqa: BLE001 - an unparsable robots.txt allows everything (as Scrapy does)
                    parser = None
            self.parsers[netloc] = parser
        return self.answers[netloc]

    def allowed(self, url: str) -> bool:
        self.fetch(url)
        parser = self.parsers[urlsplit(url).netloc.lower()]
        return True if parser is None else bool(parser.can_fetch(url, self.user_agent))


def _on_site(url: str, domains) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def _links(html: bytes, base_url: str, content_type: str | None) -> list[str]:
    """Absolute http(s) links of a page (fragments dropped, in order, unique)."""
    import lxml.html

    from monitor.extract import decode_body

    try:
        tree = lxml.html.fromstring(decode_body(html, content_type=content_type).encode("utf-8"))
    except (ValueError, TypeError, lxml.etree.ParserError):
        return []
    base = next((b.get("href") for b in tree.iter("base") if b.get("href")), None)
    if base:
        base_url = urljoin(base_url, base.strip())
    out = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https"):
            out.append(url)
    return list(dict.fromkeys(out))


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

    def __init__(self, source: Source, fetcher: Fetcher, *, user_agent: str = _settings.USER_AGENT,
                 max_candidates: int = MAX_CANDIDATES, min_text_chars: int = _settings.MONITOR_MIN_TEXT_CHARS,
                 extract_max_bytes: int = _settings.MONITOR_EXTRACT_MAX_BYTES):
        self.src, self.fetcher = source, fetcher
        self.max_candidates, self.min_text_chars, self.extract_max_bytes = \
            max_candidates, min_text_chars, extract_max_bytes
        self.robots = _Robots(fetcher, user_agent)
        self.report = SourceReport(name=source.name, url=source.url)
        # candidate pools: per channel (feeds and sitemaps, declared first), then links
        self.pools: list[tuple[str, list[tuple[str, dict]]]] = []
        self.link_pool: list[str] = []
        self.listing_pool: list[str] = []

    # ---- helpers
    def on_site(self, url: str) -> bool:
        return _on_site(url, self.src.domains)

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
            self.problem(f"robots.txt forbids media-monitor ({_settings.USER_AGENT.split()[0]}) to fetch the home "
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
            from monitor.extract import decode_body

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
        """Parse a sitemap or index; follow a few children of an index. True when it is a sitemap."""
        from lxml import etree

        try:
            body = _maybe_gunzip(got.body, self.fetcher.max_bytes)
        except (zlib.error, OverflowError):
            ch.problem = "gzip file could not be decompressed (or is too large)"
            return False
        urls, children = [], []
        try:
            for kind, loc, lastmod, news in iter_sitemap(body):
                loc = urljoin(got.final_url, loc)
                if kind == "sitemap":
                    children.append((loc, lastmod or ""))
                elif len(urls) < 50_000:
                    hints = {k: v for k, v in news.items() if v}
                    if lastmod:
                        hints["lastmod"] = lastmod
                    urls.append((loc, hints))
        except etree.XMLSyntaxError as exc:
            if not urls and not children:
                ch.problem = f"not a readable sitemap (XML: {exc})"[:200]
                return False
            ch.problem = f"XML is malformed after {len(urls) + len(children)} entries"
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
        on_site = sorted((c for c in children if self.on_site(c[0])), key=lambda c: c[1], reverse=True)
        ranked = sorted(on_site, key=kind)  # stable: newest first within a kind
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
            links = [u for u in _links(got.body, got.final_url, got.content_type) if self.on_site(u)]
            ch.entries = len(links)
            self.link_pool.extend(links)
        if self.home_html is not None:
            self.link_pool.extend(u for u in _links(self.home_html.body, self.home_html.final_url,
                                                    self.home_html.content_type) if self.on_site(u))
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
            more, _ = self._link_candidates([u for u in _links(got.body, got.final_url, got.content_type)
                                             if self.on_site(u)])
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


def _unchanged(r: SourceReport) -> Source:
    from monitor.sources.catalogue import source_from_dict

    return source_from_dict({"name": r.name, "url": r.url})


def _suggestion_notes(r: SourceReport) -> list[str]:
    notes = []
    if r.suggested is None:
        return ["(no suggestion)"]
    before = {c.url for c in r.channels if c.origin == "declared"}
    after = set(r.suggested.feeds) | set(r.suggested.sitemaps) | set(r.suggested.sections)
    for url in sorted(before - after):
        notes.append(f"dropped (failing): {url}")
    for url in sorted(after - before):
        origin = next((c.origin for c in r.channels if url in (c.url, c.final_url)), "")
        notes.append(f"added ({origin or 'found'}): {url}")
    if not r.reachable:
        notes.append("left as it was: the home page failed, so there is nothing to correct it from")
    if any(c.forbidden for c in r.channels) or not r.robots_ok:
        notes.append("robots.txt forbids media-monitor here: ask the site, or disable the source (enabled = false)")
    return notes


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
    timeout = timeout or _settings.MONITOR_CHECK_TIMEOUT
    concurrency = max(1, concurrency or _settings.MONITOR_CHECK_CONCURRENCY)
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
