"""The backfill run: archive records -> the crawl's extraction pool -> the writer, checkpoint by checkpoint.

``Backfill`` opens the writer and a ``crawls`` row of kind ``backfill``, takes the process's extraction pool
(``monitor.crawl.extractpool``: the same workers, time cap and crash containment as a crawl; the pool also
canonicalises URLs and fingerprints the text) and runs ``feed(unit, entries)`` for each unit of work: a WARC
file, or a month of Wayback captures.  Entries are extracted concurrently and written in order, in batches;
each batch goes in with the unit's checkpoint (``monitor.store.archive.write_with_checkpoint``), so a run
killed with kill -9 starts again after its last batch and stores every article exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from monitor.backfill.select import classify, page_for, redirect_target
from monitor.store.records import FetchError

logger = logging.getLogger(__name__)

COUNTERS = ("kept", "new", "duplicates", "known", "errors", "rejected")   # per source


class SettingsView:
    """``getint``/``getfloat``/``get`` over media-monitor settings and ``-s`` overrides (``monitor.config``),
    what ``ExtractConfig.from_settings`` and ``extractpool.acquire`` read; no Scrapy."""

    def __init__(self, overrides: dict | None = None):
        self.overrides = overrides or {}

    def get(self, name, default=None):
        from monitor.config import setting

        try:
            return setting(name, self.overrides)
        except AttributeError:
            return self.overrides.get(name, default)

    def getint(self, name, default=0):
        return int(self.get(name, default) or 0)

    def getfloat(self, name, default=0.0):
        return float(self.get(name, default) or 0.0)

    def getbool(self, name, default=False):
        return bool(self.get(name, default))


@dataclass
class BackfillSummary:
    crawl_id: int | None
    db_path: Path
    per_source: dict = field(default_factory=dict)   # source -> {counter: n}
    units: dict = field(default_factory=dict)        # file or query -> "done", "skipped (done before)", "failed: ..."
    skipped: dict = field(default_factory=dict)      # reason -> n (revisit, not_html, http_404 ...)
    error_reasons: dict = field(default_factory=dict)
    read: int = 0
    status: str = "finished"
    elapsed: float = 0.0

    def count(self, source: str | None, key: str, n: int = 1) -> None:
        if source is not None:
            c = self.per_source.setdefault(source, dict.fromkeys(COUNTERS, 0))
            c[key] += n

    @property
    def totals(self) -> dict:
        return {k: sum(v.get(k, 0) for v in self.per_source.values()) for k in COUNTERS}

    @property
    def exit_code(self) -> int:
        if self.status == "stopped":
            return 130
        return 1 if self.status == "failed" else 0

    def crawl_counts(self) -> dict:
        """The crawls table's counters (``monitor.outcomes.COUNT_KEYS``) of this run."""
        t = self.totals
        return {"pages_fetched": t["kept"], "articles_new": t["new"], "duplicates": t["duplicates"],
                "errors": sum(self.error_reasons.values()), "skipped_known": t["known"]}

    def render(self) -> str:
        head = f"{'source':<24} {'kept':>6} {'new':>5} {'dups':>5} {'known':>6} {'errors':>6} {'rejected':>8}"
        rate = self.read / self.elapsed if self.elapsed else 0.0
        lines = [f"Backfill {self.crawl_id} {self.status}: database {self.db_path}; {self.read} record(s) read "
                 f"in {self.elapsed:.1f} s ({rate:,.0f}/s)", head, "-" * len(head)]
        for name, c in sorted(self.per_source.items()):
            lines.append(f"{name:<24} {c['kept']:>6} {c['new']:>5} {c['duplicates']:>5} {c['known']:>6} "
                         f"{c['errors']:>6} {c['rejected']:>8}")
        t = self.totals
        lines.append("-" * len(head))
        lines.append(f"{'total':<24} {t['kept']:>6} {t['new']:>5} {t['duplicates']:>5} {t['known']:>6} "
                     f"{t['errors']:>6} {t['rejected']:>8}")
        for unit, state in self.units.items():
            lines.append(f"{unit}: {state}")
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())))
        if self.error_reasons:
            lines.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.error_reasons.items()))
                         + " (see the fetch_errors table)")
        return "\n".join(lines)


class Progress:
    """A progress line every few seconds: records read, kept, stored, duplicates, errors, rate, ETA."""

    def __init__(self, echo, summary: BackfillSummary, every: float = 2.0):
        self.echo, self.summary, self.every = echo, summary, every
        self.start = self.last = time.monotonic()
        self.unit, self.size = "", 0

    def tick(self, position: int = 0, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        s, t = self.summary, self.summary.totals
        rate = s.read / max(now - self.start, 1e-9)
        eta = ""
        if self.size and position and rate:
            done = position / self.size
            eta = f", {done:.0%} of {self.unit}"
            if done > 0:
                eta += f", ETA {(now - self.start) * (1 - done) / done:,.0f} s"
        self.echo(f"read {s.read:,} ({rate:,.0f}/s), kept {t['kept']:,}, stored {t['new']:,}, duplicates "
                  f"{t['duplicates']:,}, known {t['known']:,}, errors {sum(s.error_reasons.values()):,}{eta}")


class Backfill:
    """One backfill run (see module doc).  Use as a context manager; ``feed`` each unit of work."""

    def __init__(self, db_path, *, sources: list[str], topics_path=None, overrides: dict | None = None,
                 echo=lambda m: None, via: str = "warc"):
        self.db_path = Path(db_path)
        self.settings = SettingsView(overrides)
        self.sources, self.topics_path, self.echo, self.via = sources, topics_path, echo, via
        self.batch_size = max(1, self.settings.getint("MONITOR_BATCH_SIZE"))
        self.summary = BackfillSummary(None, self.db_path)
        self.progress = Progress(echo, self.summary)
        self.writer = self.pool = self.config = None
        self.aliases: list[tuple[str, list[str]]] = []
        self.reads = [0]   # records read, kept or not (raised by the producers: monitor.backfill.warcfile, cdx)
        self.batch_seconds = self.settings.getfloat("MONITOR_BATCH_SECONDS")
        self.last_flush = time.monotonic()

    # ---- lifecycle
    def __enter__(self):
        from monitor.crawl.extractpool import ExtractConfig
        from monitor.store.archive import start_backfill
        from monitor.store.db import open_writer
        from monitor.topics import load_topics

        topics = load_topics(self.topics_path)
        self.writer = open_writer(self.db_path, cache_mb=self.settings.getint("MONITOR_SQLITE_CACHE_MB"))
        self.writer.set_topics(topics)
        self.writer.near_dup_threshold = self.settings.getfloat("MONITOR_NEAR_DUP_THRESHOLD")
        self.writer.band_memory_articles = self.settings.getint("MONITOR_LSH_MEMORY")
        self.summary.crawl_id = start_backfill(self.writer, self.sources)
        self.config = ExtractConfig.from_settings(self.settings)
        self.window = 4   # until the pool starts (at the first page to extract: a run that keeps nothing needs none)
        self.loop = asyncio.new_event_loop()
        return self

    def __exit__(self, exc_type, exc, tb):
        from monitor.crawl import extractpool

        s = self.summary
        s.elapsed = time.monotonic() - self.progress.start
        if exc_type is KeyboardInterrupt:
            s.status = "stopped"
        elif exc_type is not None:
            s.status = "failed"
        try:
            self._cancel_pending()   # pages still in the pool after Ctrl-C or an error: not written, read again
            if self.pool is not None:
                extractpool.release(self.pool)
            if self.writer is not None:
                self._resolve_aliases(final=True)
                self.writer.finish_crawl(s.crawl_id, s.status, s.crawl_counts(),
                                         {"kind": "backfill", "sources": self.sources,
                                          "per_source": s.per_source, "units": s.units,
                                          "skipped": s.skipped, "errors": s.error_reasons, "read": s.read})
        finally:
            if self.writer is not None:
                self.writer.close()
            if getattr(self, "loop", None) is not None:
                self.loop.close()
        return False

    def _cancel_pending(self) -> None:
        loop = getattr(self, "loop", None)
        if loop is None or loop.is_closed():
            return
        for _ in range(5):   # a cancelled page task may wake another one waiting for the pool
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if not tasks:
                return
            for t in tasks:
                t.cancel()
            try:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            except (asyncio.CancelledError, KeyboardInterrupt):
                pass

    def _pool(self):
        if self.pool is None:
            from monitor.crawl import extractpool

            self.pool = extractpool.acquire(self.settings)
            self.window = max(self.pool.queue * 2, 4)
        return self.pool

    # ---- units of work
    def checkpoint(self, unit: str) -> tuple[int, bool]:
        from monitor.store.archive import checkpoint

        return checkpoint(self.writer, unit)

    def record_error(self, unit: str, url: str | None, source: str | None, reason: str, detail: str,
                     status: int | None = None, position: int | None = None) -> None:
        """A fetch_errors row at once (with the unit's checkpoint when ``position`` is given)."""
        from monitor.store.archive import write_with_checkpoint

        self.summary.error_reasons[reason] = self.summary.error_reasons.get(reason, 0) + 1
        err = FetchError(url=url or unit, source=source, reason=reason, http_status=status, detail=detail)
        if position is None:
            self.writer.record_errors([err])
        else:
            write_with_checkpoint(self.writer, [], [err], [], unit, position)

    def finish_unit(self, unit: str, position: int) -> None:
        from monitor.store.archive import write_with_checkpoint

        write_with_checkpoint(self.writer, [], [], [], unit, position, done=True)
        self.summary.units[unit] = "done"

    def feed(self, unit: str, entries, *, source_of, errors: list | None = None, size: int = 0,
             complete: bool = True) -> None:
        """Extract and store ``entries`` (``WarcEntry``s in order; ``entry.offset`` is the unit's checkpoint
        position of that entry) of one unit; ``source_of(url)`` names the source.  ``errors`` collects
        ``(position, url, reason, detail)`` the producer found (corrupt records); they are written with the
        next batch.  The unit is marked done at the end (``complete``), else its checkpoint goes back to 0."""
        self.progress.unit, self.progress.size = unit, size
        # one event loop for the whole run: the pool's semaphore belongs to the loop it was first used in
        self.loop.run_until_complete(self._feed(unit, entries, source_of, errors if errors is not None else [],
                                                complete))

    async def _feed(self, unit, entries, source_of, found_errors, complete=True) -> None:
        pending: deque = deque()   # (entry, source, future | None, kind), in file order
        batch = {"records": [], "errors": [], "origins": [], "last": None}
        s = self.summary
        end = None
        for entry in entries:
            s.read = self.reads[0]
            source = source_of(entry.url)
            kind = classify(entry)
            s.count(source, "kept")
            fut = None
            if kind == "page":
                fut = asyncio.ensure_future(self._pool().extract(page_for(entry, source, self.via), self.config))
            else:
                entry.body = None
            pending.append((entry, source, fut, kind))
            while pending and (len(pending) > self.window or pending[0][2] is None or pending[0][2].done()):
                await self._settle(pending.popleft(), batch)
                self._take_errors(found_errors, batch, source)
                if len(batch["records"]) >= self.batch_size or (
                        batch["records"] and time.monotonic() - self.last_flush >= self.batch_seconds):
                    self._flush(unit, batch, pending)
            self.progress.tick(entry.offset)
            await asyncio.sleep(0)
        while pending:
            await self._settle(pending.popleft(), batch)
        s.read = self.reads[0]
        self._take_errors(found_errors, batch, None)
        end = batch["last"]
        self._flush(unit, batch, pending, done=complete, position=end if complete else 0)
        self.summary.units[unit] = "done" if complete else "read (not over yet: read again by the next run)"
        self.progress.tick(force=True)

    def _take_errors(self, found, batch, source) -> None:
        while found:
            position, url, reason, detail, *more = found.pop(0)   # more: (source, http status)
            src, status = (more + [source, None])[:2] if more else (source, None)
            batch["errors"].append(FetchError(url=url, source=src, reason=reason, http_status=status, detail=detail))
            self.summary.error_reasons[reason] = self.summary.error_reasons.get(reason, 0) + 1

    async def _settle(self, item, batch) -> None:
        entry, source, fut, kind = item
        s = self.summary
        batch["last"] = entry.offset
        if fut is None:
            s.skipped[kind] = s.skipped.get(kind, 0) + 1
            if kind == "redirect":
                from monitor.dedup.urls import url_keys

                self.aliases.append((entry.url, url_keys(redirect_target(entry))))
            return
        outcome = await fut
        if outcome[0] == "article":
            rec = outcome[1]
            if entry.date:
                rec.fetched_at = entry.date
            batch["records"].append(rec)
            batch["origins"].append(entry.origin or "")
        elif outcome[0] == "error":
            _, reason, detail = outcome
            batch["errors"].append(FetchError(url=entry.url, source=source, reason=reason, detail=detail))
            s.error_reasons[reason] = s.error_reasons.get(reason, 0) + 1
            s.count(source, "errors")
        else:
            s.count(source, "rejected")
            key = f"rejected_{outcome[1].reason.value}"
            s.skipped[key] = s.skipped.get(key, 0) + 1

    def _flush(self, unit, batch, pending, *, done: bool = False, position: int | None = None) -> None:
        from monitor.store.archive import write_with_checkpoint

        if position is None:   # the first entry not written yet; else the last written one (read again: known)
            position = pending[0][0].offset if pending else batch["last"]
        records, origins = batch["records"], batch["origins"]
        if records or batch["errors"] or done or position is not None:
            results = write_with_checkpoint(self.writer, records, batch["errors"], origins, unit,
                                            position or 0, done=done)
            for rec, res in zip(records, results):
                key = {"new": "new", "duplicate": "duplicates"}.get(res.status, "known")
                self.summary.count(rec.source, key)
        batch["records"], batch["errors"], batch["origins"] = [], [], []
        self.last_flush = time.monotonic()
        self._resolve_aliases()

    def _resolve_aliases(self, final: bool = False) -> None:
        if self.aliases and self.writer is not None:
            left = self.writer.add_url_aliases(self.aliases)
            self.aliases = [] if final else left[-10_000:]
