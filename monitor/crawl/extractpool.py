"""Extraction off the reactor: a shared pool of worker processes fed asynchronously.

``ExtractionPipeline`` (``monitor.crawl.pipelines``) awaits ``ExtractionPool.extract(item, config)`` for every
downloaded page.  The page goes to a worker process, which runs ``monitor.extract.extract_article``,
fills an ``ArticleRecord`` (canonical URL, URL variants, content hash) and computes the near-duplicate
fingerprint (``monitor.dedup.fingerprints.fingerprint`` -> ``record.extra["minhash"]``), so the crawl process only
downloads and writes.  No Scrapy here: this module is imported by the workers.

- **One pool per process.**  Several spiders (one per source) run in one crawl process, each with its own
  pipeline instance; they share one pool through ``acquire()`` / ``release()`` (refcounted).
- **Workers.** ``MONITOR_EXTRACT_WORKERS`` (0 = one per core).  With 1 the page is extracted inline in the
  crawl process (no pool, no process start-up; a page that crashes lxml then ends the crawl).
- **Bounded.**  At most ``MONITOR_EXTRACT_QUEUE`` pages (0 = 2 x workers) are in the pool at once
  (an ``asyncio.Semaphore``); the rest wait in Scrapy's scraper, whose
  ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` (5 MB of responses per spider by default) stops the downloader while
  extraction lags, so memory stays flat when downloads outpace extraction.
- **Time cap.**  ``MONITOR_EXTRACT_TIMEOUT`` seconds per page: inside the worker a ``SIGALRM``
  (``monitor.extract.timelimit``) stops the extraction (``extraction_timeout``, the worker lives on); a worker
  stuck where the alarm cannot reach it (in C code) is killed when the page has waited ``2 x timeout + 5`` s
  in the pool, the pool is replaced, and the page is recorded as ``extraction_timeout``; the other pages in
  flight are resubmitted.
- **Crashes.**  A worker that dies (segfault in lxml, ``os._exit``, OOM killer) breaks the pool
  (``BrokenProcessPool``); the pool is replaced and each page that was in it is retried alone in a fresh
  one-worker pool, so only the page that kills its worker again is recorded, as ``extraction_crashed``.
- **Recycling.**  Workers are replaced after ``MONITOR_EXTRACT_MAX_TASKS_PER_CHILD`` pages (lxml and
  trafilatura caches grow); they are forked from a ``forkserver`` that has already imported trafilatura,
  so a new worker is ready in milliseconds, though its first pages cost ~30 % more (its heap and caches
  are new; benchmarks/crawl_throughput.py: 1.29-1.31 x plain with 100 pages a worker, 1.30-1.37 x with 200,
  for 8 MB more memory at 20,000 pages).  ``FullPoolExecutor`` replaces a retired worker at once: the
  standard executor (before the fix of CPython gh-115634, not in 3.11/3.12) often did not, and ran on fewer
  workers until a later submit happened to spawn one.

``ExtractConfig.function`` can name another function with ``extract_article``'s signature: the tests give one
that sleeps, hangs or kills its process on marked pages (``tests/support/extract_hooks.py``; for a whole crawl
``tests/support/hooked_extraction.py`` swaps the pipeline).  No setting exposes it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_FUNCTION = "monitor.extract.extract_article"
# imported once in the forkserver (it extracts a page), so every worker and replacement starts warm
PRELOAD = ["monitor.crawl.extractpool_preload"]
HARD_GRACE = 5.0          # seconds added to the in-worker alarm before a stuck worker is killed
MAX_RESUBMITS = 3         # a page whose pool was replaced under it is resubmitted at most this often


# --------------------------------------------------------------------------- what workers run

@dataclass(frozen=True)
class ExtractConfig:
    """Per-page extraction parameters (picklable; sent with every page)."""

    max_bytes: int = 2_000_000    # the page without scripts, styles, svg and comments (0 = no cap)
    max_elements: int = 30_000    # ... its elements (0 = no cap)
    max_raw_bytes: int = 20 * 1024 * 1024   # the body as received: DOWNLOAD_MAXSIZE (0 = no cap)
    min_text_chars: int = 250
    timeout: float = 20.0         # seconds; 0 = no cap
    function: str = ""            # dotted path of the extraction function ("" = monitor.extract.extract_article)

    @classmethod
    def from_settings(cls, settings) -> "ExtractConfig":
        return cls(max_bytes=settings.getint("MONITOR_EXTRACT_MAX_BYTES"),
                   max_elements=settings.getint("MONITOR_EXTRACT_MAX_ELEMENTS"),
                   max_raw_bytes=settings.getint("DOWNLOAD_MAXSIZE"),
                   min_text_chars=settings.getint("MONITOR_MIN_TEXT_CHARS"),
                   timeout=settings.getfloat("MONITOR_EXTRACT_TIMEOUT"))


def article_to_record(article, item: dict):
    """Fill an ArticleRecord from the extracted article; canonical URL and all variants."""
    from monitor.dedup.fingerprints import content_hash
    from monitor.store.records import ArticleRecord
    from monitor.dedup.urls import canonicalize, pick_canonical

    sig = article.signals
    url = pick_canonical(item["request_urls"][0], item["url"], sig.canonical_url, sig.og_url)
    variants = [canonicalize(u) for u in item["request_urls"]] + list(item["request_urls"])
    return ArticleRecord(
        url=url, source=item["source"], text=article.text, title=article.title, author=article.author,
        published=article.published, language=article.language, word_count=article.word_count,
        content_hash=content_hash(article.text), description=article.description, image=article.image,
        variants=[v for v in dict.fromkeys(variants) if v != url],
        redirects=[u for u in dict.fromkeys(item["request_urls"][:-1]) if u != url],   # the chain before the page
        extra={"hreflang": list(sig.hreflang), "og_image": sig.og_image, "via": item.get("via"),
               "lastmod": (item.get("hints") or {}).get("lastmod")},
    )


_functions: dict[str, Any] = {}


def add_writer_keys(record, sig=None) -> None:
    """What the writer would compute from the text, computed here in the worker: the content hash, the MinHash
    signature (or ``sig``) and its LSH band keys (``extra["minhash"]``, ``extra["bands"]``).  Topic tags are not:
    an FTS5 topic query costs about 0.4 ms to parse, once per page here but once per batch in the writer."""
    from monitor.dedup import fingerprints as dedup

    sig = dedup.minhash(record.text) if sig is None else sig
    if not record.content_hash:
        record.content_hash = dedup.content_hash(record.text)
    record.extra["minhash"] = dedup.signature_to_bytes(sig)
    keys = dedup.band_keys(sig)
    if keys:
        record.extra["bands"] = dedup.band_keys_to_bytes(keys)


def _function(path: str):
    path = path or DEFAULT_FUNCTION
    fn = _functions.get(path)
    if fn is None:
        module, _, name = path.rpartition(".")
        fn = _functions[path] = getattr(importlib.import_module(module), name)
    return fn


def extract_page(item: dict, config: ExtractConfig) -> tuple:
    """The worker task (top-level, picklable): one page item -> outcome.

    Outcomes: ``("article", ArticleRecord)`` with ``extra["minhash"]`` set; ``("rejected", Rejection)``;
    ``("error", reason, detail)`` for ``extraction_timeout``.  Never raises for a bad page.
    """
    try:
        return _extract_page(item, config)
    finally:
        if len(item.get("body") or b"") > TRIM_ABOVE:
            _trim_heap()


def _extract_page(item: dict, config: ExtractConfig) -> tuple:
    from monitor.extract import Article, RejectReason, Rejection
    from monitor.extract.timelimit import TimeLimitExceeded, time_limit

    try:
        try:
            with time_limit(config.timeout):
                result = _function(config.function)(
                    item["body"], item["url"], encoding=item.get("encoding"), content_type=item.get("content_type"),
                    hints=item.get("hints"), min_text_chars=config.min_text_chars, max_bytes=config.max_bytes,
                    max_elements=config.max_elements, max_raw_bytes=config.max_raw_bytes,
                    require_article_signals=item.get("require_signals", False))
        except TimeLimitExceeded:
            return timeout_outcome(config.timeout)
        if isinstance(result, Rejection):
            if result.reason == RejectReason.TIMEOUT:
                return ("error", "extraction_timeout", result.detail)
            return ("rejected", result)
        if not isinstance(result, Article):
            return ("rejected", Rejection(RejectReason.ERROR, f"extraction returned {type(result).__name__}"))
        record = article_to_record(result, item)
        add_writer_keys(record)
        return ("article", record)
    except TimeLimitExceeded:           # the alarm fired after the extraction, while building the record
        return timeout_outcome(config.timeout)
    except Exception as exc:  # noqa: BLE001 - a hook or record-building bug must not end the crawl
        return ("rejected", Rejection(RejectReason.ERROR, f"unexpected {type(exc).__name__} while extracting: {exc}"[:500]))


# After a big page, hand the C heap's free memory (lxml trees) back to the OS, or every worker keeps the
# high-water mark of the biggest page it ever parsed (~100 MB after a few 1-3 MB pages).  Not after every
# page: the next page then faults its memory in again (+10-15 % CPU when trimming above 100 KB).
TRIM_ABOVE = 500_000
_libc: Any = None


def _trim_heap() -> None:
    global _libc
    if _libc is None:
        try:
            import ctypes

            _libc = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):   # not glibc
            _libc = False
    if _libc:
        _libc(0)


def timeout_outcome(timeout: float, killed: bool = False) -> tuple:
    how = "its worker process was killed" if killed else "stopped"
    return ("error", "extraction_timeout",
            f"extraction took longer than {timeout:g} s ({how}); lower MONITOR_EXTRACT_MAX_ELEMENTS or "
            "MONITOR_EXTRACT_MAX_BYTES, or raise MONITOR_EXTRACT_TIMEOUT")


def crashed_outcome(exitcode: int | None) -> tuple:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    elif exitcode is not None:
        how = f"exited with status {exitcode}"
    else:
        how = "died"
    return ("error", "extraction_crashed",
            f"the extraction worker process {how} on this page, twice (a page that crashes lxml?); "
            "the crawl went on with a new worker")


def _worker_init(log_level: str, log_file: str | None, crawl_pid: int | None = None) -> None:
    """Workers log like the crawl: same level, to the crawl's log file or stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C stops the crawl process, which stops the pool
    logging.basicConfig(level=log_level or "WARNING", filename=log_file or None,
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s (extraction worker %(process)d)")
    if crawl_pid:
        threading.Thread(target=_exit_with, args=(crawl_pid,), name="crawl-watchdog", daemon=True).start()


def _exit_with(crawl_pid: int, every: float = 1.0) -> None:
    """Exit when the crawl process is gone (kill -9): a worker waits for pages on a queue whose write end
    every worker also holds, so it would never see EOF; it would keep the forkserver alive too (each worker
    holds the forkserver's liveness pipe), leaving ~150 MB processes behind per killed crawl."""
    import time

    while True:
        time.sleep(every)
        try:
            os.kill(crawl_pid, 0)
            with open(f"/proc/{crawl_pid}/stat", "rb") as fh:   # killed but not yet reaped: a zombie
                if fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    os._exit(0)
        except (ProcessLookupError, PermissionError):   # gone (or the pid now belongs to another user)
            os._exit(0)
        except OSError:   # no /proc (not Linux): os.kill alone decides
            pass


def _noop() -> None:
    return None


def prestart(workers: int) -> None:
    """Start the forkserver now if a pool of ``workers`` (0 = one per core) will be used: it imports and warms
    up trafilatura (~2.5 s of CPU), which then runs on the other core while the crawl process is still
    setting up Scrapy, instead of after it.  Returns at once; the pool's workers fork from it later."""
    if (workers if workers > 0 else default_workers()) <= 1:
        return
    try:
        import multiprocessing
        from multiprocessing import forkserver

        multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
        forkserver.ensure_running()
    except (OSError, ValueError, ImportError):   # no forkserver here: the pool finds out and extracts inline
        pass


def default_workers() -> int:
    from monitor.config import usable_cpus

    return usable_cpus()


# --------------------------------------------------------------------------- the pool (crawl process)

class FullPoolExecutor(ProcessPoolExecutor):
    """A ``ProcessPoolExecutor`` that replaces a worker retired by ``max_tasks_per_child`` at once.

    The standard one replaces it only when its idle-worker semaphore has no token, but that semaphore gains a
    token with every result once the pool is full (CPython gh-115634, fixed in 3.13.x and later): after a
    retirement the pool often ran on one worker of two until a later submit found no token.  The crawl
    benchmark showed it as dips to 1.2-1.5 busy cores every few seconds, and a 2,000-page crawl took 33 s
    instead of 30.  The fix here is upstream's: the process count decides, not the semaphore.  Submits spawn
    up to ``max_workers`` at once too; the pool starts every worker at start-up anyway."""

    def _adjust_process_count(self) -> None:
        processes = self._processes          # None once shut down (3.12+)
        if processes is not None and len(processes) < self._max_workers:
            self._spawn_process()


class ExtractionPool:
    """Pages -> outcomes on ``workers`` processes (inline when workers <= 1); see module docstring."""

    def __init__(self, workers: int = 0, *, queue: int = 0, max_tasks_per_child: int = 200,
                 log_level: str = "WARNING", log_file: str | None = None):
        self.workers = workers if workers > 0 else default_workers()
        self.inline = self.workers <= 1
        self.queue = queue if queue > 0 else 2 * self.workers
        self.max_tasks_per_child = max_tasks_per_child if max_tasks_per_child > 0 else None
        self.log_level, self.log_file = log_level, log_file
        self.restarts = 0                 # pools replaced after a crash or a stuck worker
        self.in_flight = 0
        self.peak_in_flight = 0
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._killed: set[int] = set()    # generations we killed on purpose (stuck worker)
        self._sem: asyncio.Semaphore | None = None
        self._isolation: asyncio.Lock | None = None
        self._closed = False
        self._ready: Future | None = None

    # ---- executors
    def _context(self):
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)   # no effect once the forkserver runs; it runs with these
        return ctx

    def _new_executor(self, workers: int, max_tasks: int | None) -> ProcessPoolExecutor:
        return FullPoolExecutor(workers, mp_context=self._context(), max_tasks_per_child=max_tasks,
                                initializer=_worker_init, initargs=(self.log_level, self.log_file, os.getpid()))

    def _current(self) -> tuple[ProcessPoolExecutor, int]:
        if self._executor is None:
            self._executor = self._new_executor(self.workers, self.max_tasks_per_child)
            self._generation += 1
        return self._executor, self._generation

    def start(self) -> None:
        """Start the forkserver and the workers in a thread (about 4 s: it imports and warms up
        trafilatura) while the crawl fetches robots.txt, feeds and sitemaps; pages wait for it."""
        if self.inline or self._ready is not None:
            return
        try:
            executor, _ = self._current()
        except (OSError, ValueError, ImportError, NotImplementedError) as exc:
            # no forkserver (Windows) or no working semaphores (/dev/shm missing in some containers)
            logger.warning("extraction worker processes unavailable (%s): extracting in the crawl process", exc)
            self.inline = True
            return
        self._ready = Future()

        def warm():
            try:
                for f in [executor.submit(_noop) for _ in range(self.workers)]:
                    f.result()
            except BaseException:  # noqa: BLE001 - a broken start shows up (and is handled) on first use
                pass
            self._ready.set_result(None)

        threading.Thread(target=warm, name="extraction-pool-start", daemon=True).start()

    def _replace(self, generation: int, *, kill: bool) -> None:
        """Retire pool ``generation`` (once): kill its processes when asked, start afresh on next use."""
        if generation != self._generation or self._executor is None:
            return
        old, self._executor = self._executor, None
        self.restarts += 1
        if kill:
            self._killed.add(generation)
        # Kill its processes even after a crash: the executor terminates the survivors itself, but a worker
        # that a submit() spawned while the crash was being noticed escapes that, and the executor then
        # waits for it forever (CPython 3.11 race; seen as a hang at interpreter exit).
        _kill_processes(old)
        # no cancel_futures: pages still queued in it must fail with BrokenProcessPool (and be resubmitted),
        # not be cancelled
        old.shutdown(wait=False)

    # ---- public
    async def extract(self, item: dict, config: ExtractConfig) -> tuple:
        """Outcome of one page (see ``extract_page``), plus ``("error", "extraction_crashed", ...)``."""
        if not self.inline and self._ready is None:
            self.start()
        if self.inline:
            return extract_page(item, config)
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.queue)
            self._isolation = asyncio.Lock()
        async with self._sem:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await self._submit(item, config)
            finally:
                self.in_flight -= 1

    async def _submit(self, item: dict, config: ExtractConfig) -> tuple:
        loop = asyncio.get_running_loop()
        if self._ready is not None and not self._ready.done():
            await asyncio.wrap_future(self._ready)   # submitting now would block the reactor on the start
        deadline = 2 * config.timeout + HARD_GRACE if config.timeout else None
        for _attempt in range(MAX_RESUBMITS + 1):
            executor, generation = self._current()
            try:
                future = loop.run_in_executor(executor, extract_page, item, config)
            except (BrokenProcessPool, RuntimeError, OSError):   # broke (or was retired, or its forkserver died)
                # before this page went in; a new pool restarts a dead forkserver
                self._replace(generation, kill=False)
                continue
            try:
                return await asyncio.wait_for(future, deadline)
            except asyncio.TimeoutError:
                logger.warning("extraction of %s took over %.0f s: killing the stuck worker", item.get("url"),
                               deadline)
                self._replace(generation, kill=True)
                return timeout_outcome(config.timeout, killed=True)
            except BrokenProcessPool:
                if generation in self._killed:      # we killed that pool for another page: just resubmit
                    continue
                self._replace(generation, kill=False)
                logger.warning("an extraction worker died; retrying %s alone", item.get("url"))
                return await self._isolated(item, config)
        return ("error", "extraction_crashed", "the extraction pool kept failing under this page")

    async def _isolated(self, item: dict, config: ExtractConfig) -> tuple:
        """Retry a page that was in a pool when a worker died, alone in a fresh one-worker pool."""
        loop = asyncio.get_running_loop()
        async with self._isolation:
            executor = self._new_executor(1, None)
            try:
                future = loop.run_in_executor(executor, extract_page, item, config)
                processes = list((getattr(executor, "_processes", None) or {}).values())
                try:
                    return await asyncio.wait_for(future, config.timeout + HARD_GRACE if config.timeout else None)
                except asyncio.TimeoutError:
                    _kill_processes(executor)
                    return timeout_outcome(config.timeout, killed=True)
                except BrokenProcessPool:
                    # the executor's manager thread reaps the dead worker; joining it here too would race it
                    # for the forkserver's status pipe (the loser reads EOF: exit code 255).  Its processes
                    # are dead, so waiting for the shutdown is quick; then exitcode is the cached one.
                    executor.shutdown(wait=True)
                    exitcode = None
                    for p in processes:
                        exitcode = p.exitcode if p.exitcode is not None else exitcode
                    logger.warning("extraction worker died again on %s: recorded as extraction_crashed",
                                   item.get("url"))
                    return crashed_outcome(exitcode)
            finally:
                executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (pages still in flight are abandoned: call when the spiders are done)."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            if self.in_flight:
                _kill_processes(executor)
            executor.shutdown(wait=True, cancel_futures=True)


def _kill_processes(executor: ProcessPoolExecutor) -> None:
    for p in list((getattr(executor, "_processes", None) or {}).values()):
        try:
            p.kill()
        except (OSError, AttributeError, ValueError):
            pass


# --------------------------------------------------------------------------- one pool per process

_shared: ExtractionPool | None = None
_refs = 0


def acquire(settings) -> ExtractionPool:
    """The process's pool (created by the first caller, from its settings); pair with ``release()``."""
    global _shared, _refs
    if _shared is None:
        _shared = ExtractionPool(settings.getint("MONITOR_EXTRACT_WORKERS"),
                                 queue=settings.getint("MONITOR_EXTRACT_QUEUE"),
                                 max_tasks_per_child=settings.getint("MONITOR_EXTRACT_MAX_TASKS_PER_CHILD"),
                                 log_level=str(settings.get("LOG_LEVEL") or "WARNING"),
                                 log_file=settings.get("LOG_FILE") or None)
        _shared.start()
        if not _shared.inline:
            logger.info("extraction: %d worker processes, %d pages in flight at most",
                        _shared.workers, _shared.queue)
    _refs += 1
    return _shared


def release(pool: ExtractionPool) -> None:
    """Drop one reference; the last one stops the workers."""
    global _shared, _refs
    if pool is not _shared:
        pool.close()
        return
    _refs -= 1
    if _refs <= 0:
        _shared, _refs = None, 0
        pool.close()
