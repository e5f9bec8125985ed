"""A wall-clock cap on a block of Python code, with SIGALRM: the one way extraction is stopped in time.

Used by ``extract_article(timeout=...)`` and by the extraction pool's workers (``monitor.crawl.extractpool``).
A signal only reaches a process's main thread, so elsewhere (a thread of ``monitor sources check``) there is
no cap and the caller must bound the time itself; C code that blocks the signal is not stopped either (the
pool kills such a worker).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TimeLimitExceeded(BaseException):
    """Raised inside the block when its time is up; a BaseException so that ``except Exception`` blocks
    (trafilatura has many) cannot swallow it."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``TimeLimitExceeded`` in the block after ``seconds`` (None or 0: no cap; not the main thread or no
    ``setitimer``: no cap).  The previous SIGALRM handler is put back afterwards."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    if previous is None:                # a handler installed outside Python
        previous = signal.SIG_DFL
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
