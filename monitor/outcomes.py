"""Crawl counters and outcome rules: the one list every side reads (no Scrapy, no SQLite).

A local crawl (``monitor.crawl.run``), a plain ``scrapy crawl`` (``monitor.crawl.pipelines``), a distributed
worker (``monitor.distributed.workers``), the ingester (``monitor.distributed.ingester``), the crawl log
(``monitor.store.crawllog``: the ``crawls`` columns) and ``monitor health`` (``monitor.ops.health``) count and
judge a source's part of a crawl with these functions, from the Scrapy stats of its spider (a plain dict).
"""

from __future__ import annotations

from urllib.parse import urlsplit

# the crawl counters: columns of the crawls table and the totals of a crawl (the per-source summary carries more)
COUNT_KEYS = ("pages_fetched", "articles_new", "duplicates", "errors", "skipped_known")


def zero_counts() -> dict:
    """``{counter: 0}`` for every key of COUNT_KEYS."""
    return dict.fromkeys(COUNT_KEYS, 0)


def counts_from_stats(stats: dict) -> dict:
    """Map Scrapy stats of one spider to the crawls-table counters."""
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_new": stats.get("monitor/new", 0),
        "duplicates": stats.get("monitor/duplicate", 0),
        "errors": stats.get("monitor/errors", 0),
        "skipped_known": stats.get("monitor/skipped_known", 0) + stats.get("monitor/known", 0),
        # incremental crawls (docs/dedup.md): stored articles re-fetched and found changed; 304 answers
        "articles_updated": stats.get("monitor/updated", 0),
        "not_modified": stats.get("monitor/not_modified", 0),
    }


def status_from_reason(reason: str | None) -> str:
    """``finished``, ``stopped``, ``failed`` or ``interrupted`` (no reason: the spider never closed) for a
    Scrapy ``finish_reason``."""
    if reason in ("finished", "max_articles", "closespider_itemcount", "closespider_pagecount"):
        return "finished"
    if reason == "shutdown":
        return "stopped"
    return "failed" if reason else "interrupted"


# --------------------------------------------------------------------------- honest outcomes (docs/reliability.md)

def usable_responses(stats: dict) -> int:
    """Responses of a source that could be read: any HTTP status below 400 (304 Not Modified included)."""
    total = 0
    for key, value in stats.items():
        if key.startswith("downloader/response_status_count/"):
            try:
                code = int(key.rsplit("/", 1)[1])
            except ValueError:
                continue
            if code < 400:
                total += int(value or 0)
    return total


def source_status(stats: dict) -> str:
    """``finished``, ``stopped``, ``interrupted`` or ``failed`` for one source's part of a crawl.

    A source whose spider finished is ``failed`` when none of its requests brought a readable response
    (nothing answered, or only 4xx/5xx answers): a host that cannot be resolved, refuses connections, times
    out, or rejects every request.  One usable response (even robots.txt) makes it ``finished``; its page
    errors are then counted, not fatal (``monitor health`` judges repeated partial failures)."""
    status = status_from_reason(stats.get("finish_reason"))
    if status != "finished":
        return status
    tried = (stats.get("downloader/response_count", 0) or stats.get("downloader/exception_count", 0)
             or stats.get("monitor/errors", 0))
    return "failed" if tried and usable_responses(stats) == 0 else "finished"


_REASON_PHRASES = {   # fetch_errors.reason -> phrases for one host, for n hosts, for unknown hosts
    "dns_error": ("DNS lookup failed for {host}", "DNS lookup failed for {n} hosts", "DNS lookup failed"),
    "connection_refused": ("connection refused by {host}", "connection refused by {n} hosts", "connection refused"),
    "timeout": ("timed out (no answer from {host} within DOWNLOAD_TIMEOUT)", "timed out ({n} hosts)", "timed out"),
    "connection_lost": ("connection lost ({host})", "connection lost ({n} hosts)", "connection lost"),
}
_HTTP_PHRASES = {"forbidden": "forbidden (HTTP 403)", "not_found": "not found (HTTP 404)", "gone": "gone (HTTP 410)",
                 "rate_limited": "rate limited (HTTP 429)", "server_error": "server error (HTTP 5xx)",
                 "http_error": "HTTP error"}


def describe_source_failure(errors, stats: dict | None = None) -> str:
    """One human reason for a source that failed completely, from its ``fetch_errors`` rows of the crawl
    (``(reason, url)`` pairs), e.g. "DNS lookup failed for 3 hosts", "connection refused by 10.0.0.1:80",
    "forbidden (HTTP 403) for 4 pages"; falls back on the Scrapy stats when no row is there."""
    stats = stats or {}
    by_reason: dict[str, list] = {}
    for reason, url in errors or ():
        parts = urlsplit(url or "")
        host = parts.hostname if reason == "dns_error" else parts.netloc
        by_reason.setdefault(reason, []).append(host or "?")
    if not by_reason:   # no rows (not written): the counters of the spider
        for key, value in stats.items():
            if key.startswith("monitor/errors/") and value:
                by_reason[key.split("/", 2)[2]] = [None] * int(value)
    if not by_reason:
        codes = sorted(k.rsplit("/", 1)[1] for k in stats if k.startswith("downloader/response_status_count/"))
        if codes:
            return f"every answer was an HTTP error ({', '.join(codes)})"
        return "no request got an answer"
    phrases = []
    for reason, hosts in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        named = sorted({h for h in hosts if h})
        if reason in _REASON_PHRASES:
            one, many, bare = _REASON_PHRASES[reason]
            phrases.append(one.format(host=named[0]) if len(named) == 1
                           else many.format(n=len(named)) if named else bare)
        else:
            what = _HTTP_PHRASES.get(reason, reason.replace("_", " "))
            phrases.append(f"{what} for {len(hosts)} page{'s' if len(hosts) != 1 else ''}")
    if len(phrases) > 3:
        phrases = [*phrases[:3], f"{len(phrases) - 3} other kind(s) of error"]
    return "; ".join(phrases)


def source_outcome(stats: dict, storage=None, crawl_id=None, name=None) -> dict:
    """``{"status": ...}`` of one source's part of a crawl, plus ``"failure"`` (one reason) when it failed; the
    reason is built from the source's ``fetch_errors`` rows of the crawl when ``storage`` (anything with
    ``crawl_errors(crawl_id, source)``, e.g. the store's writer) is given."""
    out = {"status": source_status(stats)}
    if out["status"] == "failed":
        reason = stats.get("finish_reason")
        if stats.get("monitor/failure"):   # the spider said why it could not crawl (e.g. monitor/crawl/browser.py)
            out["failure"] = str(stats["monitor/failure"])
        elif status_from_reason(reason) == "failed":
            out["failure"] = f"the spider ended with {reason} (see the log)"
        else:
            rows = storage.crawl_errors(crawl_id, name) if storage is not None and crawl_id else []
            out["failure"] = describe_source_failure(rows, stats)
    return out


def crawl_headline(per_source: dict) -> str | None:
    """What probably happened when every source of a crawl failed (None otherwise)."""
    if not per_source or any(c.get("status") != "failed" for c in per_source.values()):
        return None
    # (a spider that closed itself with a reason of its own, e.g. browser_unavailable, was not "unreached")
    unreached = all(int(c.get("pages_fetched") or 0) == 0 and c.get("finish_reason") in (None, "finished")
                    for c in per_source.values())
    if len(per_source) == 1:
        name, c = next(iter(per_source.items()))
        verb = "could not be reached" if unreached else "failed"
        return f"the source {name} {verb}: {c.get('failure') or 'see above'}"
    if not unreached:
        return f"all {len(per_source)} sources failed (reasons above)"
    if all(str(c.get("failure", "")).startswith("DNS lookup failed") for c in per_source.values()):
        return "no source could be reached (every DNS lookup failed): is the network up?"
    return "no source could be reached: is the network up?"
