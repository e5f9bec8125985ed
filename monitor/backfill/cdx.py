"""Archives found through indexes: a source's Wayback Machine captures (CDX, cdx-toolkit) and CC-NEWS months.

``wayback_backfill`` asks the CDX server (cdx-toolkit's ``CDXFetcher.iter``: paging and both answer formats,
the Internet Archive's JSON table and pywb's JSON lines) for the captures of the source's site, one month at a
time, keeps the HTML captures with status 200 of article-like URLs of the source (its ``article_pattern``, else
``monitor.extract.urlshape.article_like_url``) that the database does not hold yet (one per URL), and fetches
each from the replay server (``{replay}/{timestamp}id_/{url}``: the archived bytes, no replay rewriting).
Each month is a unit of work with its own checkpoint (captures done), so a killed run resumes inside the month.

cdx-toolkit's own HTTP layer retries a 5xx answer forever and sleeps 60 s after a connection error; it is
swapped for ``monitor.backfill.net.Http`` while the query runs (``_transport``): the crawl's network boundary,
``--delay`` between requests, a bounded number of retries.  A CDX answer that stays 404, 5xx or silent is
recorded (``cdx_error`` in fetch_errors) and the month is left for the next run.

``cc_news_files`` lists a month of Common Crawl News: CC-NEWS has no CDX index, its WARC files are listed in
``crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz``; each file is then read like a local one (streamed).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import time
from urllib.parse import quote, urlencode

from monitor.backfill.net import FetchFailed
from monitor.clock import utcnow
from monitor.backfill.warcfile import WarcEntry

IA_CDX = "https://web.archive.org/cdx/search/cdx"
IA_REPLAY = "https://web.archive.org/web"


class _Response:
    """What cdx-toolkit reads of a ``requests`` response."""

    def __init__(self, status: int, body: bytes):
        self.status_code, self.content = status, body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


@contextlib.contextmanager
def _transport(http):
    import cdx_toolkit

    def get(url, params=None, headers=None, cdx=False, **_kw):
        if params:
            params = {k: v for k, v in params.items() if v is not None}
            if "from_ts" in params:
                params["from"] = params.pop("from_ts")
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"
        status, body = http.fetch(url)
        if status == 404 and not body.lstrip().startswith(b"{"):
            raise FetchFailed(f"{url}: HTTP 404 (not a CDX server's 'no captures' answer)", "cdx_error", 404)
        return _Response(status, body)

    saved = cdx_toolkit.myrequests_get
    cdx_toolkit.myrequests_get = get
    try:
        yield
    finally:
        cdx_toolkit.myrequests_get = saved


def _site_pattern(source) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(source.url).netloc
    return f"{host}/*"


def is_article_url(source, url: str) -> bool:
    from monitor.dedup.urls import same_site
    from monitor.extract.urlshape import article_like_url

    if not same_site(url, source.url) and not any(same_site(url, f"http://{d}/") for d in source.allowed_domains):
        return False
    regex = source.article_regex
    return bool(regex.search(url)) if regex is not None else article_like_url(url)


def month_captures(http, cdx_url: str, source, month: str, retries: int) -> list[dict]:
    """The month's captures of the source's site from the CDX server (see module doc), retried."""
    import cdx_toolkit

    stamp = month.replace("-", "")
    last = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(0.5 * 2 ** (attempt - 1), 30))
        try:
            with _transport(http):
                fetcher = cdx_toolkit.CDXFetcher(source=cdx_url)
                return [dict(c.data) for c in fetcher.iter(_site_pattern(source), from_ts=stamp, to=stamp)]
        except (FetchFailed, ValueError, RuntimeError, KeyError) as exc:
            last = exc
            if isinstance(exc, FetchFailed) and exc.reason != "cdx_error":
                break   # a timeout, a 5xx, a refused connection: Http retried it already
    raise FetchFailed(f"CDX query of {source.name} {month} at {cdx_url} failed after {retries + 1} tries: {last}",
                      "cdx_error", getattr(last, "status", None))


def wanted_captures(bf, source, captures: list[dict]) -> tuple[list[dict], set[int]]:
    """HTML captures with status 200 of the source's article-like URLs, one per canonical URL (the earliest),
    in CDX order (the same list for the same CDX answer: checkpoints count in it), and the indexes of those
    whose URL the database holds already (not fetched)."""
    from monitor.dedup.urls import canonicalize, url_keys

    seen, out = set(), []
    for c in captures:
        url, status = c.get("url") or c.get("original") or "", str(c.get("status") or c.get("statuscode") or "")
        mime = (c.get("mime") or c.get("mimetype") or "text/html").lower()
        if status != "200" or "html" not in mime or not is_article_url(source, url):
            continue
        key = canonicalize(url)
        if key in seen:
            continue
        seen.add(key)
        out.append({**c, "url": url})
    known = bf.writer.known_urls(k for c in out for k in url_keys(c["url"]))
    return out, {i for i, c in enumerate(out) if known.intersection(url_keys(c["url"]))}


def _iso(timestamp: str) -> str | None:
    t = (timestamp or "").ljust(14, "0")
    if not t[:14].isdigit():
        return None
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}+00:00"


def _fetch_capture(http, replay_url: str, capture: dict, index: int) -> WarcEntry:
    url = capture["url"]
    replay = f"{replay_url.rstrip('/')}/{capture.get('timestamp', '')}id_/{quote(url, safe=':/?&=%#;@+,~')}"
    resp, _ = http.open(replay)
    with resp:
        body = resp.read()
        ctype = resp.headers.get("Content-Type")
    entry = WarcEntry(index, index + 1, url, "response", _iso(capture.get("timestamp", "")), 200, ctype, None, body)
    entry.origin = replay
    return entry


def wayback_backfill(bf, source, months: list[str], *, cdx_url=None, replay_url=None, http, delay=None,
                     retries: int = 3) -> None:
    """Backfill ``source`` from the Wayback Machine, month by month (see module doc)."""
    cdx_url, replay_url = cdx_url or IA_CDX, replay_url or IA_REPLAY
    http.delay = 1.0 if delay is None else delay
    http.guard.check(cdx_url)
    http.guard.check(replay_url)
    for month in months:
        unit = f"wayback:{source.name}:{month}"
        start, done = bf.checkpoint(unit)
        if done:
            bf.summary.units[unit] = "skipped (done by an earlier backfill)"
            continue
        try:
            captures, stored = wanted_captures(bf, source, month_captures(http, cdx_url, source, month, retries))
        except FetchFailed as exc:
            bf.record_error(unit, cdx_url, source.name, exc.reason, str(exc), exc.status)
            bf.summary.units[unit] = f"failed (next run tries again): {exc}"
            continue
        errors: list = []

        def entries(captures=captures, start=start, errors=errors, stored=stored):
            for i in range(start, len(captures)):
                bf.reads[0] += 1
                if i in stored:
                    bf.summary.skipped["stored_before"] = bf.summary.skipped.get("stored_before", 0) + 1
                    continue
                try:
                    yield _fetch_capture(http, replay_url, captures[i], i)
                except FetchFailed as exc:
                    errors.append((i, captures[i]["url"], "capture_" + exc.reason, str(exc), source.name, exc.status))

        bf.echo(f"{unit}: {len(captures) - len(stored)} article capture(s) to fetch ({len(stored)} stored before)"
                + (f", resuming at {start}" if start else ""))
        bf.feed(unit, entries(), source_of=lambda _u: source.name, errors=errors, size=len(captures),
                complete=month < utcnow().strftime("%Y-%m"))   # the current month gets new captures


def cc_news_files(bf, month: str, *, base: str, http) -> list[str]:
    """The WARC file URLs of a CC-NEWS month (``[]`` with a recorded error when the list cannot be had)."""
    y, m = month.split("-")
    listing = f"{base.rstrip('/')}/crawl-data/CC-NEWS/{y}/{m}/warc.paths.gz"
    try:
        data = http.get(listing)
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    except (FetchFailed, OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "reason", "fetch_failed")
        bf.record_error(listing, listing, None, reason if isinstance(reason, str) else "fetch_failed", str(exc))
        bf.summary.units[listing] = f"failed: {exc}"
        return []
    return [f"{base.rstrip('/')}/{line.strip().lstrip('/')}" for line in text.splitlines() if line.strip()]
