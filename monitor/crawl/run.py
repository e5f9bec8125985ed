"""``plan_crawl`` and ``run_crawl``: the Python API behind ``monitor crawl``.

``plan_crawl`` validates everything the user gave (sources, spider classes, topics, settings, database path)
before any request is made; ``run_crawl`` opens one ``crawls`` row for the run, runs one spider per source in a
single Scrapy process (``monitor.crawl.process``), then completes the row and returns a ``CrawlSummary``.  A
plan with a Redis URL is run by ``monitor.distributed.workers.run_worker`` instead (the CLI chooses: this
module knows nothing of Redis).  A Twisted reactor starts once per process, so call this once per process
(tests run it in a subprocess).
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from monitor.crawl import extractpool
from monitor.errors import MonitorError, UsageError
from monitor.outcomes import COUNT_KEYS, counts_from_stats, crawl_headline, source_outcome, source_status, \
    status_from_reason
from monitor.sources.catalogue import load_sources, select_sources
from monitor.topics import load_topics

logger = logging.getLogger(__name__)

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


def build_settings(*, db_path: Path, sources_path, topics_path, overrides: dict, max_articles: int | None,
                   refresh: bool, log_file=None):
    """Scrapy settings of a crawl: ``monitor.settings``, then what the command line gave."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.set("MONITOR_DB", str(db_path), priority="cmdline")
    if sources_path:
        settings.set("MONITOR_SOURCES", str(sources_path), priority="cmdline")
    if topics_path:
        settings.set("MONITOR_TOPICS", str(topics_path), priority="cmdline")
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


@dataclass
class CrawlPlan:
    """A crawl checked and ready: what ``monitor crawl`` runs, locally (``run_crawl``) or as one worker of a
    distributed crawl (``monitor.distributed.workers.run_worker``, when ``redis_url`` is set)."""

    sources: list                 # the chosen Source objects
    spider_classes: list          # their spider classes (monitor.crawl.spiderloader.spider_class_for)
    settings: object              # scrapy.settings.Settings
    db: Path                      # the database file (not used by a worker)
    redis_url: str | None = None  # --redis / -s MONITOR_REDIS_URL / $MONITOR_REDIS_URL

    @property
    def distributed(self) -> bool:
        return bool(self.redis_url)


def plan_crawl(source_names=(), *, sources_path=None, topics_path=None, db_path=None, tags=(), overrides=(),
               max_articles=None, refresh=False, log_file=None, redis_url=None, crawl_key=None) -> CrawlPlan:
    """Check everything the user gave (sources and their spider classes, topics, settings, database path)
    before any request is made or any file is opened; see ``CrawlPlan``."""
    from monitor.crawl.spiderloader import spider_class_for
    from monitor.store.db import resolve_db_path

    sources_file = sources_path or os.environ.get("MONITOR_SOURCES") or None
    sources = select_sources(load_sources(sources_file), names=source_names, tags=tags)
    if not sources:
        raise UsageError("no sources to crawl (the sources file lists none, or all are disabled)")
    spider_classes = [spider_class_for(s) for s in sources]
    topics_file = topics_path or os.environ.get("MONITOR_TOPICS") or None
    load_topics(topics_file)   # a bad topics file is refused now (the topics module owns the rules)
    parsed = parse_overrides(overrides)
    db = resolve_db_path(db_path).resolve()
    redis_url = redis_url or parsed.get("MONITOR_REDIS_URL") or os.environ.get("MONITOR_REDIS_URL") or None
    if redis_url and crawl_key:
        parsed["MONITOR_REDIS_CRAWL"] = crawl_key
    settings = build_settings(db_path=db, sources_path=sources_file, topics_path=topics_file, overrides=parsed,
                              max_articles=max_articles, refresh=refresh, log_file=log_file)
    return CrawlPlan(sources=sources, spider_classes=spider_classes, settings=settings, db=db, redis_url=redis_url)


def run_crawl(source_names=(), *, sources_path=None, topics_path=None, db_path=None, tags=(), overrides=(),
              max_articles=None, refresh=False, echo=print, log_file=None, notify=None,
              plan: CrawlPlan | None = None) -> "CrawlSummary":
    """Crawl the chosen sources into the database; see module docstring.

    ``echo`` gets the progress lines; ``notify`` (default: ``echo``) the line printed when a stop signal
    arrives, which the CLI shows even with ``-q``.  ``plan``: a ``plan_crawl`` result (then the other
    arguments are not read).  A plan with a Redis URL (``-s MONITOR_REDIS_URL`` or ``$MONITOR_REDIS_URL``) is
    for ``monitor.distributed.workers.run_worker``: refused here, so no database is written behind it.
    """
    from monitor.store.db import acquire_writer, release_writer

    if plan is None:
        plan = plan_crawl(source_names, sources_path=sources_path, topics_path=topics_path, db_path=db_path,
                          tags=tags, overrides=overrides, max_articles=max_articles, refresh=refresh,
                          log_file=log_file)
    if plan.distributed:
        raise UsageError("MONITOR_REDIS_URL is set: this crawl is a worker of a distributed crawl "
                         "(`monitor crawl --redis`, monitor.distributed.workers.run_worker)")
    settings, db = plan.settings, plan.db
    extractpool.prestart(settings.getint("MONITOR_EXTRACT_WORKERS"))
    # the crawl's one writer: its spiders' StoragePipelines and URL memories share it (monitor.store.db)
    storage = acquire_writer(db, cache_mb=settings.getint("MONITOR_SQLITE_CACHE_MB"))
    try:
        storage.mark_interrupted_crawls()
        running = storage.running_crawls()
        if running:
            cid, pid = running[0]
            raise UsageError(f"{db}: crawl {cid} (process {pid}) is still running on this database; "
                             f"wait for it to finish or stop it first")
        crawl_id = storage.start_crawl([s.name for s in plan.sources])
    except BaseException:
        release_writer(storage)
        raise
    try:
        settings.set("MONITOR_CRAWL_ID", crawl_id, priority="cmdline")
        return _run_spiders(plan, storage, crawl_id, echo=echo, notify=notify)
    finally:
        release_writer(storage)


def _run_spiders(plan: CrawlPlan, storage, crawl_id, *, echo, notify) -> "CrawlSummary":
    """One spider per source in one CrawlerProcess, then the crawls row completed through ``storage``."""
    from monitor.crawl import terminal
    from monitor.crawl.process import (attach_progress, ignore_stop_signals, make_process, restore_signals,
                                       salvage, start_crawlers)

    settings, db = plan.settings, plan.db
    attach_progress(echo)
    echo(f"Crawl {crawl_id}: {len(plan.sources)} source(s) -> {db}")
    # the terminal gets no traceback for a page that could not be fetched (monitor/crawl/terminal.py); LOG_FILE all
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = make_process(settings, notify=notify or echo, stop_timeout=settings.getfloat("MONITOR_STOP_TIMEOUT"))
    handlers = terminal.install(settings)
    try:
        from scrapy.utils.log import log_scrapy_info

        log_scrapy_info(settings)   # (logged by CrawlerProcess before these handlers existed)
        crawlers = start_crawlers(process, plan.spider_classes)
        status = "finished"
        try:
            process.start()
        except KeyboardInterrupt:   # Ctrl-C while the process was being set up
            status = "stopped"
            process.stop_signal = process.stop_signal or signal.SIGINT
        except Exception as exc:  # noqa: BLE001 - reported and recorded, the CLI exits 1
            status = "failed"
            echo(f"crawl failed: {exc!r}")
        # the engine has stopped: a late SIGINT/SIGTERM must not kill the process before the crawls row is done
        previous = ignore_stop_signals()
        try:
            if process.stop_signal and status == "finished":
                status = "stopped"
            if process.forced:   # the reactor stopped under the spiders: commit what they hold
                salvage(crawlers)
            summary = _finish(crawlers, storage, crawl_id, db, status, echo, forced=process.forced)
            summary.stop_signal = process.stop_signal
            return summary
        finally:
            restore_signals(previous)
    finally:
        terminal.uninstall(handlers)


def _finish(crawlers, storage, crawl_id, db, status, echo, *, forced: bool = False) -> "CrawlSummary":
    """Summary of the finished crawlers; completes the crawls row (a database that cannot be written is
    reported, exit 1: the row stays 'running' and the next crawl marks it 'interrupted').

    Each source gets ``status`` (``source_status``) and, when it failed, ``failure`` (one human reason); the
    crawl is ``failed`` when every source failed (``crawl_headline`` says what probably happened)."""
    from monitor.crawl.scrapy_compat import engine_of, stats_of
    from monitor.store.db import SQLError

    summary = CrawlSummary(crawl_id=crawl_id, db_path=db)
    write_errors = []
    stats_by_name = {}
    for crawler in crawlers:
        stats = stats_of(crawler)
        if forced and "finish_reason" not in stats and engine_of(crawler) is not None:
            stats = {**stats, "finish_reason": "shutdown"}   # stopped under the spider: Scrapy never closed it
        name = crawler.spidercls.name
        stats_by_name[name] = stats
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
                counts.update(source_outcome(stats_by_name[name], storage, crawl_id, name))
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
