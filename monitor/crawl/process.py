"""The Scrapy process of a crawl: one ``CrawlerProcess``, one crawler per source, stop signals, progress lines.

``make_process`` and ``start_crawlers`` serve ``monitor crawl`` (``monitor.crawl.run``) and a distributed worker
(``monitor.distributed.workers.run_worker``) alike; ``salvage`` commits what the pipelines of spiders stopped
under their feet hold.  Scrapy is imported lazily (``monitor crawl --help`` must not load it).
"""

from __future__ import annotations

import logging
import signal

from monitor.crawl.scrapy_compat import downloads_in_flight, engine_of, item_pipelines, root_handler_kwargs

logger = logging.getLogger(__name__)


def make_process(settings, *, notify=print, stop_timeout: float | None = None):
    """A ``CrawlerProcess`` for ``settings``.

    With ``stop_timeout`` (``monitor crawl``: MONITOR_STOP_TIMEOUT) it stops like a mature CLI on Ctrl-C /
    SIGTERM (docs/reliability.md, "Ctrl-C and SIGTERM"): Scrapy's own handlers log the first signal, then wait
    for every request in flight, however slow (up to DOWNLOAD_TIMEOUT and its retries); a second signal stops
    the reactor.  Here the first signal calls ``notify`` with one line, stops taking new pages and gives the
    pages in flight ``stop_timeout`` seconds; then, or at a second signal, the reactor is stopped (``forced``)
    and the caller commits what the pipelines hold (``salvage``).  Without it (a distributed worker, whose
    graceful stop puts its unfinished requests back in the shared queue) Scrapy's own handling stays.

    Scrapy's root log handler is installed as ``LOG_INSTALL_ROOT_HANDLER`` says, in every supported Scrapy
    (``scrapy_compat.root_handler_kwargs``)."""
    from scrapy.crawler import CrawlerProcess

    if stop_timeout is None:
        return CrawlerProcess(settings, **root_handler_kwargs(settings))
    return _graceful_process_class()(settings, notify=notify, stop_timeout=stop_timeout)


_GRACEFUL = None


def _graceful_process_class():
    global _GRACEFUL
    if _GRACEFUL is not None:
        return _GRACEFUL
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.ossignal import install_shutdown_handlers

    class GracefulCrawlerProcess(CrawlerProcess):
        """Public API only: the signal handlers are installed before ``start(install_signal_handlers=False)``,
        the graceful stop is ``stop()``, the forced one ``reactor.stop()``."""

        def __init__(self, settings, *, notify=print, stop_timeout: float = 3.0):
            super().__init__(settings, **root_handler_kwargs(settings))
            self.notify = notify
            self.stop_timeout = stop_timeout
            self.stop_signal: int | None = None   # the first stop signal
            self.forced = False                   # the reactor was stopped with requests still in flight

        def start(self, stop_after_crawl: bool = True, install_signal_handlers: bool = True) -> None:
            if install_signal_handlers:   # before the reactor runs: no Ctrl-C falls between two handlers
                install_shutdown_handlers(self._on_first_signal)
            super().start(stop_after_crawl=stop_after_crawl, install_signal_handlers=False)

        def _on_first_signal(self, signum, _frame):   # a signal handler: no I/O here, only scheduling
            from twisted.internet import reactor

            install_shutdown_handlers(self._on_second_signal)
            self.stop_signal = signum
            reactor.callFromThread(self._stop_gracefully, signum)

        def _on_second_signal(self, signum, _frame):
            from twisted.internet import reactor

            install_shutdown_handlers(signal.SIG_IGN)
            reactor.callFromThread(self._stop_now, f"{signal.Signals(signum).name} again")

        def in_flight(self) -> int:
            """Requests in the downloaders of the crawls still running."""
            return sum(downloads_in_flight(c) for c in list(self.crawlers))

        def _stop_gracefully(self, signum):
            from twisted.internet import reactor

            n = self.in_flight()
            again = "Ctrl-C again" if signum == signal.SIGINT else f"{signal.Signals(signum).name} again"
            pages = f"finishing {n} page{'s' if n != 1 else ''} in flight" if n else "no page in flight"
            self.notify(f"stopping: {pages}, {again} to stop now")
            logger.info("%s: stopping; the %d page(s) in flight get %.1f s (MONITOR_STOP_TIMEOUT)",
                        signal.Signals(signum).name, n, self.stop_timeout)
            reactor.callLater(self.stop_timeout, self._stop_now, "MONITOR_STOP_TIMEOUT reached")
            self.stop()   # every crawl closes its spider ("shutdown"); start() stops the reactor after the last

        def _stop_now(self, why: str):
            from twisted.internet import reactor
            from twisted.internet.error import ReactorNotRunning

            n = self.in_flight()
            try:   # some crawl has not ended (the reactor stops when the last one has): stop under it
                reactor.stop()
            except ReactorNotRunning:   # stopped or stopping already
                return
            self.forced = True
            logger.info("%s: stopping now; %d page(s) still in flight are left for the next crawl", why, n)

    _GRACEFUL = GracefulCrawlerProcess
    return _GRACEFUL


def start_crawlers(process, spider_classes) -> list:
    """One crawler per spider class (``monitor.crawl.spiderloader.spider_class_for`` of each source), each
    scheduled on ``process``; returns the crawlers (their stats make the summary)."""
    crawlers = []
    for spidercls in spider_classes:
        crawler = process.create_crawler(spidercls)
        crawlers.append(crawler)
        process.crawl(crawler)
    return crawlers


def salvage(crawlers) -> None:
    """After the reactor was stopped under running spiders (a second Ctrl-C, or MONITOR_STOP_TIMEOUT): close
    their pipelines as Scrapy would have, so the pending batch of articles and fetch errors is committed (one
    transaction) and the extraction workers are stopped.  Pages still downloading or being extracted are
    lost; they are fetched again next time."""
    for crawler in crawlers:
        engine = engine_of(crawler)
        if engine is None or engine.spider is None:   # never started, or closed normally
            continue
        for pipe in item_pipelines(crawler):
            try:
                if hasattr(pipe, "close_spider"):
                    pipe.close_spider()
                if hasattr(pipe, "spider_closed"):
                    pipe.spider_closed(engine.spider, "shutdown")
            except Exception:  # noqa: BLE001 - one pipeline's failure must not keep the others from closing
                logger.exception("closing %s after the forced stop failed", type(pipe).__name__)


def ignore_stop_signals() -> dict:
    """SIGINT/SIGTERM ignored (the engine has stopped: a late signal must not kill the process before the
    crawls row is done); returns the previous handlers for ``restore_signals``."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}


def restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


class _EchoHandler(logging.Handler):
    def __init__(self, echo):
        super().__init__(logging.INFO)
        self.echo = echo

    def emit(self, record):
        try:
            self.echo(record.getMessage())
        except Exception:  # noqa: BLE001 - progress must never break a crawl
            pass


def attach_progress(echo) -> None:
    """Send the progress lines (logger ``monitor.progress``, ``monitor.crawl.extensions.CrawlProgress``) to
    ``echo``."""
    log = logging.getLogger("monitor.progress")
    log.setLevel(logging.INFO)
    log.propagate = True
    log.addHandler(_EchoHandler(echo))
