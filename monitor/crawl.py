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
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import MonitorError, UsageError
from monitor.sources import load_sources, select_sources

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


@dataclass
class CrawlSummary:
    crawl_id: int | None
    db_path: Path
    per_source: dict = field(default_factory=dict)   # name -> counts + finish_reason
    status: str = "finished"
    error_reasons: dict = field(default_factory=dict)  # name -> {reason: n}
    problem: str | None = None   # why the crawl failed as a whole (e.g. the database could not be written)

    @property
    def totals(self) -> dict:
        return {k: sum(v.get(k, 0) for v in self.per_source.values()) for k in COUNT_KEYS}

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "failed" else 0

    def render(self) -> str:
        head = f"{'source':<24} {'pages':>6} {'new':>5} {'dups':>5} {'known':>6} {'errors':>6}  finish"
        lines = [f"Crawl {self.crawl_id} {self.status}: database {self.db_path}", head, "-" * len(head)]
        for name, c in sorted(self.per_source.items()):
            lines.append(f"{name:<24} {c.get('pages_fetched', 0):>6} {c.get('articles_new', 0):>5} "
                         f"{c.get('duplicates', 0):>5} {c.get('skipped_known', 0):>6} {c.get('errors', 0):>6}  "
                         f"{c.get('finish_reason', '?')}")
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
        if self.problem:
            lines.append(f"crawl failed: {self.problem}")
        return "\n".join(lines)


def parse_overrides(overrides) -> dict:
    """``-s NAME=VALUE`` pairs, checked against the type of the setting's default."""
    from scrapy.settings import default_settings

    from monitor import settings as monitor_settings

    out = {}
    for pair in overrides or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not name.replace("_", "").isalnum() or name.upper() != name:
            raise UsageError(f"-s {pair!r}: write settings as NAME=VALUE, e.g. -s DOWNLOAD_DELAY=2")
        default = getattr(monitor_settings, name, getattr(default_settings, name, None))
        if isinstance(default, bool):
            if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise UsageError(f"-s {name}={value}: {name} takes true or false")
        elif isinstance(default, int):
            try:
                int(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a whole number (default {default})") from None
        elif isinstance(default, float):
            try:
                float(value)
            except ValueError:
                raise UsageError(f"-s {name}={value}: {name} takes a number (default {default})") from None
        elif default is None and name.startswith("MONITOR_"):
            raise UsageError(f"-s {name}: no such media-monitor setting (see README, 'Settings')")
        out[name] = value
    return out


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
              max_articles=None, refresh=False, echo=print, log_file=None, redis_url=None, crawl_key=None):
    """Crawl the chosen sources into the database; see module docstring.

    With ``redis_url`` (or ``-s MONITOR_REDIS_URL=...`` / ``$MONITOR_REDIS_URL``) this process is one worker
    of a distributed crawl (``monitor.distributed.run_worker``): no database access, returns a WorkerSummary.
    """
    from monitor.storage import Storage, resolve_db_path

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
        from monitor.distributed import run_worker

        if crawl_key:
            parsed_overrides["MONITOR_REDIS_CRAWL"] = crawl_key
        settings = build_settings(db_path=db, sources_path=sources_file, topics_path=topics_file,
                                  overrides=parsed_overrides, crawl_id=None, max_articles=max_articles,
                                  refresh=refresh, log_file=log_file)
        _attach_progress(echo)
        return run_worker(sources, settings=settings, redis_url=redis_url, echo=echo)

    storage = Storage.open(db)
    try:
        storage.mark_interrupted_crawls()
        running = storage.running_crawls()
        if running:
            cid, pid = running[0]
            raise UsageError(f"{db}: crawl {cid} (process {pid}) is still running on this database; "
                             f"wait for it to finish or stop it first")
        crawl_id = storage.start_crawl([s.name for s in sources])
    finally:
        storage.close()

    settings = build_settings(db_path=db, sources_path=sources_file, topics_path=topics_file,
                              overrides=parsed_overrides, crawl_id=crawl_id, max_articles=max_articles,
                              refresh=refresh, log_file=log_file)
    _attach_progress(echo)
    echo(f"Crawl {crawl_id}: {len(sources)} source(s) -> {db}")

    from scrapy.crawler import CrawlerProcess

    from monitor.spider import NewsSpider
    from scrapy.utils.misc import load_object

    settings.set("LOG_INSTALL_ROOT_HANDLER", True, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = []
    for source in sources:
        base = load_object(source.spider) if source.spider else NewsSpider
        crawler = process.create_crawler(base.for_source(source))
        crawlers.append(crawler)
        process.crawl(crawler)
    status = "finished"
    try:
        process.start()
    except KeyboardInterrupt:
        status = "stopped"
    except Exception as exc:  # noqa: BLE001 - reported and recorded, the CLI exits 1
        status = "failed"
        echo(f"crawl failed: {exc!r}")
    # the engine has stopped: a late SIGINT/SIGTERM must not kill the process before the crawls row is done
    previous = _ignore_stop_signals()
    try:
        return _finish(crawlers, crawl_id, db, status, echo)
    finally:
        _restore_signals(previous)


def _ignore_stop_signals() -> dict:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: dict) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _finish(crawlers, crawl_id, db, status, echo) -> "CrawlSummary":
    """Summary of the finished crawlers; completes the crawls row (a database that cannot be written is
    reported, exit 1: the row stays 'running' and the next crawl marks it 'interrupted')."""
    import sqlite3

    from monitor.storage import Storage

    summary = CrawlSummary(crawl_id=crawl_id, db_path=db)
    write_errors = []
    for crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        counts = counts_from_stats(stats)
        counts["finish_reason"] = stats.get("finish_reason", "not started")
        summary.per_source[crawler.spidercls.name] = counts
        summary.error_reasons[crawler.spidercls.name] = {
            k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("monitor/errors/")}
        if status == "finished" and status_from_reason(stats.get("finish_reason")) != "finished":
            status = status_from_reason(stats.get("finish_reason"))
        if stats.get("monitor/storage_error"):
            write_errors.append(stats["monitor/storage_error"])
    if write_errors:
        status = "failed"
        summary.problem = write_errors[0]   # (the pipeline logged it when it happened)
    summary.status = status
    try:
        with Storage.open(db) as storage:
            storage.finish_crawl(crawl_id, status, summary.totals,
                                 {name: c for name, c in summary.per_source.items()})
    except (MonitorError, sqlite3.Error) as exc:
        summary.status = "failed"
        if not write_errors:
            summary.problem = f"could not record the end of crawl {crawl_id}: {exc}"
            echo(f"Error: {summary.problem}")
    return summary


def _validate_topics(topics_file) -> None:
    """Refuse a bad topics file before crawling (the topics module owns the rules)."""
    try:
        from monitor.topics import load_topics
    except ImportError:  # topics support not installed in this build
        return
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
