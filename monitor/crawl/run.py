"""``run_crawl``: the Python API behind ``monitor crawl``.

Validates everything the user gave (sources, topics, settings, database) before any request is made,
opens one ``crawls`` row for the run, runs one spider per source in a single Scrapy process, then
completes the row and returns a ``CrawlSummary``.  A Twisted reactor starts once per process, so call
this once per process (tests run it in a subprocess).
"""

from __future__ import annotations

import json
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import MonitorError, UsageError
from monitor.sources.catalogue import load_sources, select_sources

logger = logging.getLogger(__name__)

COUNT_KEYS = ("pages_fetched", "articles_new", "duplicates", "errors", "skipped_known")


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
    from urllib.parse import urlsplit

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
    reason is built from the source's ``fetch_errors`` rows of the crawl when ``storage`` is given."""
    out = {"status": source_status(stats)}
    if out["status"] == "failed":
        reason = stats.get("finish_reason")
        if status_from_reason(reason) == "failed":
            out["failure"] = f"the spider ended with {reason} (see the log)"
        else:
            rows = storage.crawl_errors(crawl_id, name) if storage is not None and crawl_id else []
            out["failure"] = describe_source_failure(rows, stats)
    return out


def crawl_headline(per_source: dict) -> str | None:
    """What probably happened when every source of a crawl failed (None otherwise)."""
    if not per_source or any(c.get("status") != "failed" for c in per_source.values()):
        return None
    unreached = all(int(c.get("pages_fetched") or 0) == 0 for c in per_source.values())
    if len(per_source) == 1:
        name, c = next(iter(per_source.items()))
        verb = "could not be reached" if unreached else "failed"
        return f"the source {name} {verb}: {c.get('failure') or 'see above'}"
    if not unreached:
        return f"all {len(per_source)} sources failed (reasons above)"
    if all(str(c.get("failure", "")).startswith("DNS lookup failed") for c in per_source.values()):
        return "no source could be reached (every DNS lookup failed): is the network up?"
    return "no source could be reached: is the network up?"


@dataclass
class CrawlSummary:
    crawl_id: int | None
    db_path: Path
    per_source: dict = field(default_factory=dict)   # name -> counts + finish_reason + status (+ failure)
    status: str = "finished"
    error_reasons: dict = field(default_factory=dict)  # name -> {reason: n}
    problem: str | None = None   # why the crawl failed as a whole (e.g. the database could not be written)
    stop_signal: int | None = None   # the signal that stopped the crawl (SIGINT: exit 130)

    @property
    def totals(self) -> dict:
        return {k: sum(v.get(k, 0) for v in self.per_source.values()) for k in COUNT_KEYS}

    @property
    def exit_code(self) -> int:
        """1 when the crawl failed (every source failed, or the database could not be written), 130 when
        Ctrl-C (SIGINT) stopped it (the shell convention), else 0 (SIGTERM: a service manager's normal stop)."""
        import signal

        if self.status == "stopped" and self.stop_signal == signal.SIGINT:
            return 130
        return 1 if self.status == "failed" else 0

    def render(self) -> str:
        head = f"{'source':<24} {'pages':>6} {'new':>5} {'dups':>5} {'known':>6} {'errors':>6}  status"
        lines = [f"Crawl {self.crawl_id} {self.status}: database {self.db_path}", head, "-" * len(head)]
        for name, c in sorted(self.per_source.items()):
            status = c.get("status") or status_from_reason(c.get("finish_reason"))
            reason = c.get("finish_reason", "?")
            shown = status if reason in ("finished", "shutdown") else f"{status} ({reason})"
            lines.append(f"{name:<24} {c.get('pages_fetched', 0):>6} {c.get('articles_new', 0):>5} "
                         f"{c.get('duplicates', 0):>5} {c.get('skipped_known', 0):>6} {c.get('errors', 0):>6}  "
                         f"{shown}")
        t = self.totals
        lines.append("-" * len(head))
        lines.append(f"{'total':<24} {t['pages_fetched']:>6} {t['articles_new']:>5} {t['duplicates']:>5} "
                     f"{t['skipped_known']:>6} {t['errors']:>6}")
        for name, c in sorted(self.per_source.items()):
            if c.get("articles_updated") or c.get("not_modified"):
                lines.append(f"incremental in {name}: {c.get('articles_updated', 0)} stored article(s) changed "
                             f"(previous text in article_versions), {c.get('not_modified', 0)} feed/sitemap/section "
                             f"page(s) not modified (304)")
        for name, reasons in sorted(self.error_reasons.items()):
            if reasons:
                listed = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1]))
                lines.append(f"errors in {name}: {listed} (see the fetch_errors table)")
        for name, c in sorted(self.per_source.items()):
            if c.get("status") == "failed":
                lines.append(f"{name} failed: {c.get('failure') or 'see the errors above'}")
        if self.problem:
            lines.append(f"crawl failed: {self.problem}")
        return "\n".join(lines)


def parse_overrides(overrides) -> dict:
    """``-s NAME=VALUE`` pairs for a crawl: ``monitor.config.parse_overrides`` with Scrapy's own settings known too."""
    from scrapy.settings import default_settings

    from monitor.config import parse_overrides as parse

    return parse(overrides, default_settings)


def build_settings(*, db_path: Path, sources_path, topics_path, overrides: dict, crawl_id: int | None,
                   max_articles: int | None, refresh: bool, log_file=None):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.set("MONITOR_DB", str(db_path), priority="cmdline")
    if sources_path:
        settings.set("MONITOR_SOURCES", str(sources_path), priority="cmdline")
    if topics_path:
        settings.set("MONITOR_TOPICS", str(topics_path), priority="cmdline")
    if crawl_id:
        settings.set("MONITOR_CRAWL_ID", crawl_id, priority="cmdline")
    if max_articles:
        settings.set("MONITOR_MAX_ARTICLES", max_articles, priority="cmdline")
    if refresh:
        settings.set("MONITOR_REFRESH", True, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    if log_file:
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
        settings.set("LOG_LEVEL", "INFO", priority="cmdline")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawl(source_names=(), *, sources_path=None, topics_path=None, db_path=None, tags=(), overrides=(),
              max_articles=None, refresh=False, echo=print, log_file=None, redis_url=None, crawl_key=None,
              notify=None):
    """Crawl the chosen sources into the database; see module docstring.

    ``echo`` gets the progress lines; ``notify`` (default: ``echo``) the line printed when a stop signal
    arrives, which the CLI shows even with ``-q``.

    With ``redis_url`` (or ``-s MONITOR_REDIS_URL=...`` / ``$MONITOR_REDIS_URL``) this process is one worker
    of a distributed crawl (``monitor.distributed.workers.run_worker``): no database access, returns a WorkerSummary.
    """
    from monitor.store.db import acquire_writer, release_writer, resolve_db_path

    sources_file = sources_path or os.environ.get("MONITOR_SOURCES") or None
    sources = select_sources(load_sources(sources_file), names=source_names, tags=tags)
    if not sources:
        raise UsageError("no sources to crawl (the sources file lists none, or all are disabled)")
    topics_file = topics_path or os.environ.get("MONITOR_TOPICS") or None
    _validate_topics(topics_file)
    parsed_overrides = parse_overrides(overrides)
    db = resolve_db_path(db_path).resolve()
    redis_url = redis_url or parsed_overrides.get("MONITOR_REDIS_URL") or os.environ.get("MONITOR_REDIS_URL")
    if redis_url:  # distributed worker: requests shared in Redis, articles pushed to Redis (docs/scaling.md)
        from monitor.distributed.workers import run_worker

        if crawl_key:
            parsed_overrides["MONITOR_REDIS_CRAWL"] = crawl_key
        settings = build_settings(db_path=db, sources_path=sources_file, topics_path=topics_file,
                                  overrides=parsed_overrides, crawl_id=None, max_articles=max_articles,
                                  refresh=refresh, log_file=log_file)
        _attach_progress(echo)
        return run_worker(sources, settings=settings, redis_url=redis_url, echo=echo)

    settings = build_settings(db_path=db, sources_path=sources_file, topics_path=topics_file,
                              overrides=parsed_overrides, crawl_id=None, max_articles=max_articles,
                              refresh=refresh, log_file=log_file)
    # the crawl's one writer: its spiders' StoragePipelines share it (monitor.store.db.acquire_writer)
    storage = acquire_writer(db, cache_mb=settings.getint("MONITOR_SQLITE_CACHE_MB"))
    try:
        storage.mark_interrupted_crawls()
        running = storage.running_crawls()
        if running:
            cid, pid = running[0]
            raise UsageError(f"{db}: crawl {cid} (process {pid}) is still running on this database; "
                             f"wait for it to finish or stop it first")
        crawl_id = storage.start_crawl([s.name for s in sources])
    except BaseException:
        release_writer(storage)
        raise
    try:
        settings.set("MONITOR_CRAWL_ID", crawl_id, priority="cmdline")
        return _run_spiders(sources, settings, storage, crawl_id, db, echo=echo, notify=notify)
    finally:
        release_writer(storage)


def _run_spiders(sources, settings, storage, crawl_id, db, *, echo, notify) -> "CrawlSummary":
    """One spider per source in one CrawlerProcess, then the crawls row completed through ``storage``."""
    _attach_progress(echo)
    echo(f"Crawl {crawl_id}: {len(sources)} source(s) -> {db}")

    from scrapy.utils.misc import load_object

    from monitor.crawl import terminal as crawllog
    from monitor.crawl.spider import NewsSpider

    # the terminal gets no traceback for a page that could not be fetched (monitor/crawl/terminal.py); LOG_FILE all
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = _process_class()(settings, notify=notify or echo,
                               stop_timeout=settings.getfloat("MONITOR_STOP_TIMEOUT"))
    handlers = crawllog.install(settings)
    try:
        from scrapy.utils.log import log_scrapy_info

        log_scrapy_info(settings)   # (logged by CrawlerProcess before these handlers existed)
        crawlers = []
        for source in sources:
            base = load_object(source.spider) if source.spider else NewsSpider
            crawler = process.create_crawler(base.for_source(source))
            crawlers.append(crawler)
            process.crawl(crawler)
        status = "finished"
        try:
            process.start()
        except KeyboardInterrupt:   # Ctrl-C before the reactor installed its handlers
            status = "stopped"
            process.stop_signal = process.stop_signal or signal.SIGINT
        except Exception as exc:  # noqa: BLE001 - reported and recorded, the CLI exits 1
            status = "failed"
            echo(f"crawl failed: {exc!r}")
        # the engine has stopped: a late SIGINT/SIGTERM must not kill the process before the crawls row is done
        previous = _ignore_stop_signals()
        try:
            if process.stop_signal and status == "finished":
                status = "stopped"
            if process.forced:   # the reactor stopped under the spiders: commit what they hold
                _salvage(crawlers)
            summary = _finish(crawlers, storage, crawl_id, db, status, echo, forced=process.forced)
            summary.stop_signal = process.stop_signal
            return summary
        finally:
            _restore_signals(previous)
    finally:
        crawllog.uninstall(handlers)


def _engine(crawler):
    """The crawler's engine, or None before its crawl started (Scrapy 2.19 raises on ``crawler.engine`` then)."""
    try:
        return crawler.engine
    except (RuntimeError, AttributeError):
        return None


def _stats(crawler) -> dict:
    try:
        return crawler.stats.get_stats() if crawler.stats else {}
    except (RuntimeError, AttributeError):
        return {}


_PROCESS_CLASS = None


def _process_class():
    """``CrawlerProcess`` with Ctrl-C handling like a mature CLI (docs/reliability.md, "Ctrl-C and SIGTERM").

    Scrapy's own handlers (``_signal_shutdown`` / ``_signal_kill``, installed when the reactor starts) log the
    first signal, then wait for every request in flight, however slow (up to DOWNLOAD_TIMEOUT and its retries);
    a second signal stops the reactor.  Here the first signal prints one line, stops taking new pages and
    gives the pages in flight ``MONITOR_STOP_TIMEOUT`` seconds; then, or at a second signal, the reactor is
    stopped and ``run_crawl`` commits what the pipelines hold (``_salvage``).  Made on first use: Scrapy is
    imported lazily."""
    global _PROCESS_CLASS
    if _PROCESS_CLASS is not None:
        return _PROCESS_CLASS
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.ossignal import install_shutdown_handlers

    class MonitorCrawlerProcess(CrawlerProcess):
        def __init__(self, settings, *, notify=print, stop_timeout: float = 3.0):
            super().__init__(settings)
            self.notify = notify
            self.stop_timeout = stop_timeout
            self.stop_signal: int | None = None   # the first stop signal
            self.forced = False                   # the reactor was stopped with requests still in flight

        def _signal_shutdown(self, signum, _frame):   # a signal handler: no I/O here, only scheduling
            from twisted.internet import reactor

            install_shutdown_handlers(self._signal_kill)
            self.stop_signal = signum
            reactor.callFromThread(self._stop_gracefully, signum)

        def _signal_kill(self, signum, _frame):
            from twisted.internet import reactor

            install_shutdown_handlers(signal.SIG_IGN)
            reactor.callFromThread(self._stop_now, f"{signal.Signals(signum).name} again")

        def in_flight(self) -> int:
            """Requests in the downloaders of the crawls still running."""
            return sum(len(getattr(e.downloader, "active", ()) or ())
                       for e in map(_engine, list(self.crawlers)) if e is not None)

        def _stop_gracefully(self, signum):
            from twisted.internet import reactor

            n = self.in_flight()
            again = "Ctrl-C again" if signum == signal.SIGINT else f"{signal.Signals(signum).name} again"
            pages = f"finishing {n} page{'s' if n != 1 else ''} in flight" if n else "no page in flight"
            self.notify(f"stopping: {pages}, {again} to stop now")
            logger.info("%s: stopping; the %d page(s) in flight get %.1f s (MONITOR_STOP_TIMEOUT)",
                        signal.Signals(signum).name, n, self.stop_timeout)
            reactor.callLater(self.stop_timeout, self._stop_now, "MONITOR_STOP_TIMEOUT reached")
            self._graceful_stop_reactor()

        def _stop_now(self, why: str):
            from twisted.internet import reactor

            if not reactor.running or getattr(reactor, "_stopped", False):   # stopped or stopping already
                return
            # some crawl has not ended (the reactor stops when the last one has): stop under it
            self.forced = True
            logger.info("%s: stopping now; %d page(s) still in flight are left for the next crawl", why,
                        self.in_flight())
            self._stop_reactor()

    _PROCESS_CLASS = MonitorCrawlerProcess
    return _PROCESS_CLASS


def _salvage(crawlers) -> None:
    """After the reactor was stopped under running spiders (a second Ctrl-C, or MONITOR_STOP_TIMEOUT): close
    their pipelines as Scrapy would have, so the pending batch of articles and fetch errors is committed (one
    transaction) and the extraction workers are stopped.  Pages still downloading or being extracted are
    lost; they are fetched again next time."""
    for crawler in crawlers:
        engine = _engine(crawler)
        if engine is None or engine.spider is None:   # never started, or closed normally
            continue
        spider = engine.spider
        pipelines = list(getattr(getattr(getattr(engine, "scraper", None), "itemproc", None), "middlewares", ()))
        for pipe in pipelines:
            try:
                if hasattr(pipe, "close_spider"):
                    pipe.close_spider()
                if hasattr(pipe, "spider_closed"):
                    pipe.spider_closed(spider, "shutdown")
            except Exception:  # noqa: BLE001 - one pipeline's failure must not keep the others from closing
                logger.exception("closing %s after the forced stop failed", type(pipe).__name__)


def _ignore_stop_signals() -> dict:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _finish(crawlers, storage, crawl_id, db, status, echo, *, forced: bool = False) -> "CrawlSummary":
    """Summary of the finished crawlers; completes the crawls row (a database that cannot be written is
    reported, exit 1: the row stays 'running' and the next crawl marks it 'interrupted').

    Each source gets ``status`` (``source_status``) and, when it failed, ``failure`` (one human reason); the
    crawl is ``failed`` when every source failed (``crawl_headline`` says what probably happened)."""
    from monitor.store.db import SQLError

    summary = CrawlSummary(crawl_id=crawl_id, db_path=db)
    write_errors = []
    stats_of = {}
    for crawler in crawlers:
        stats = _stats(crawler)
        if forced and "finish_reason" not in stats and _engine(crawler) is not None:
            stats = {**stats, "finish_reason": "shutdown"}   # stopped under the spider: Scrapy never closed it
        name = crawler.spidercls.name
        stats_of[name] = stats
        counts = counts_from_stats(stats)
        counts["finish_reason"] = stats.get("finish_reason", "not started")
        counts["status"] = source_status(stats)
        summary.per_source[name] = counts
        summary.error_reasons[name] = {
            k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("monitor/errors/")}
        if status == "finished" and counts["status"] in ("stopped", "interrupted"):
            status = counts["status"]
        if stats.get("monitor/storage_error"):
            write_errors.append(stats["monitor/storage_error"])
    if write_errors:
        status = "failed"
        summary.problem = write_errors[0]   # (the pipeline logged it when it happened)
    try:
        for name, counts in summary.per_source.items():
            if counts["status"] == "failed":
                counts.update(source_outcome(stats_of[name], storage, crawl_id, name))
        headline = crawl_headline(summary.per_source)
        if headline and status == "finished":
            status = "failed"
            summary.problem = headline
        summary.status = status
        storage.finish_crawl(crawl_id, status, summary.totals,
                             {name: c for name, c in summary.per_source.items()})
    except (MonitorError, SQLError) as exc:
        summary.status = "failed"
        if not write_errors:
            summary.problem = f"could not record the end of crawl {crawl_id}: {exc}"
            echo(f"Error: {summary.problem}")
    return summary


def _validate_topics(topics_file) -> None:
    """Refuse a bad topics file before crawling (the topics module owns the rules)."""
    from monitor.topics import load_topics

    load_topics(topics_file)


class _EchoHandler(logging.Handler):
    def __init__(self, echo):
        super().__init__(logging.INFO)
        self.echo = echo

    def emit(self, record):
        try:
            self.echo(record.getMessage())
        except Exception:  # noqa: BLE001 - progress must never break a crawl
            pass


def _attach_progress(echo) -> None:
    log = logging.getLogger("monitor.progress")
    log.setLevel(logging.INFO)
    log.propagate = True
    log.addHandler(_EchoHandler(echo))
