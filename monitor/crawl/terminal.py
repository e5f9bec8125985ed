"""Where a crawl's log goes: everything to ``--log-file`` (LOG_FILE), a few plain lines to the terminal.

``run_crawl`` installs these handlers instead of Scrapy's root handler (docs/reliability.md, "What you see"):

- the log file (when given) gets every record at ``LOG_LEVEL`` (INFO with ``--log-file``), tracebacks included;
- the terminal (stderr) gets warnings and errors, filtered by ``TerminalFilter``: records about a page that
  could not be fetched (a network exception, or Scrapy's "Gave up retrying" line) are left out, because each
  such page is recorded in ``fetch_errors`` and summed up per source in the crawl summary; any other
  exception (a real bug) still shows, as one line that says where its traceback is.

No Scrapy import here (Twisted and Scrapy exception classes are looked up lazily).
"""

from __future__ import annotations

import copy
import logging

# loggers whose records are about single requests that failed; each such page has a fetch_errors row
REQUEST_FAILURE_LOGGERS = ("scrapy.downloadermiddlewares.retry",)

# exceptions (by module and class name, matched along the MRO) that mean a host could not be reached or a
# download broke off
NETWORK_EXCEPTIONS = {
    # Scrapy 2.15+ wraps Twisted's download exceptions in these
    "scrapy.exceptions": {"CannotResolveHostError", "DownloadConnectionRefusedError", "DownloadTimeoutError",
                          "DownloadFailedError", "ResponseDataLossError", "DownloadCancelledError"},
    "twisted.internet.error": {"ConnectError", "DNSLookupError", "ConnectionRefusedError", "TCPTimedOutError",
                               "TimeoutError", "ConnectionLost", "ConnectionDone", "ConnectionAborted",
                               "ConnectingCancelledError", "NoRouteError", "UnknownHostError"},
    "twisted.internet.defer": {"CancelledError"},   # a download cancelled by DOWNLOAD_TIMEOUT
    "twisted.web._newclient": {"ResponseFailed", "ResponseNeverReceived", "RequestTransmissionFailed"},
    "twisted.web.http": {"PotentialDataLoss"},
    "OpenSSL.SSL": {"Error"},
    "ssl": {"SSLError"},
}
_NETWORK_NAMES = {n for names in NETWORK_EXCEPTIONS.values() for n in names} - {"Error"}


def _network_class(cls: type) -> bool:
    return any(k.__name__ in NETWORK_EXCEPTIONS.get(k.__module__, ()) for k in cls.__mro__)


def is_network_error(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says that a host could not be reached or a download
    broke off: DNS, refused or reset connections, timeouts, TLS, a connection lost mid-body."""
    import socket

    for _ in range(8):
        if exc is None:
            return False
        if _network_class(type(exc)) or isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        reasons = getattr(exc, "reasons", None)   # ResponseFailed / ResponseNeverReceived: a list of Failures
        if isinstance(reasons, list) and reasons and is_network_error(getattr(reasons[0], "value", None)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


_TRACEBACK = "Traceback (most recent call last)"


def _message_network_failure(message: str) -> bool:
    """A Twisted failure logged as text (no exc_info): its last line names the exception."""
    if _TRACEBACK not in message:
        return False
    last = message.rstrip().splitlines()[-1]
    name = last.split(":", 1)[0].rsplit(".", 1)[-1].strip()
    return name in _NETWORK_NAMES


class TerminalFilter(logging.Filter):
    """Leaves out of the terminal what the crawl summary already reports per source: requests that failed
    for network reasons (any level) and Scrapy's per-request retry lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in REQUEST_FAILURE_LOGGERS:
            return False
        if record.exc_info and record.exc_info[1] is not None and is_network_error(record.exc_info[1]):
            return False
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call is still shown (by the formatter)
            return True
        return not _message_network_failure(message)


class OneLineFormatter(logging.Formatter):
    """Scrapy's LOG_FORMAT, but an exception is one line (its type and message) plus where the traceback is."""

    def __init__(self, fmt=None, datefmt=None, *, hint: str = ""):
        super().__init__(fmt, datefmt)
        self.hint = hint

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None and _TRACEBACK not in message:
            return super().format(record)
        r = copy.copy(record)   # the record is shared with the log file's handler: leave it whole
        if exc is not None:
            what = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        else:   # a Twisted failure logged as text: keep its first line and the exception line
            lines = message.rstrip().splitlines()
            what = lines[-1].strip()
            message = lines[0].split(_TRACEBACK)[0].strip() or "unhandled error"
        first = " ".join(message.split())
        r.msg = f"{first} ({' '.join(what.split())[:300]}{'; ' + self.hint if self.hint else ''})"
        r.args = None
        r.exc_info = None
        r.exc_text = None
        r.stack_info = None
        return super().format(r)


def install(settings) -> list[logging.Handler]:
    """Root handlers for one crawl from Scrapy settings (LOG_ENABLED, LOG_FILE, LOG_FILE_APPEND, LOG_ENCODING,
    LOG_LEVEL, LOG_FORMAT, LOG_DATEFORMAT); returns them for ``uninstall``.  Use with
    ``LOG_INSTALL_ROOT_HANDLER = False`` so Scrapy does not add its own."""
    import sys

    if not settings.getbool("LOG_ENABLED", True):
        return []
    fmt, datefmt = settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")
    level = settings.get("LOG_LEVEL") or "WARNING"
    handlers: list[logging.Handler] = []
    filename = settings.get("LOG_FILE")
    if filename:
        fh = logging.FileHandler(filename, mode="a" if settings.getbool("LOG_FILE_APPEND", True) else "w",
                                 encoding=settings.get("LOG_ENCODING") or "utf-8")
        fh.setFormatter(logging.Formatter(fmt, datefmt))
        fh.setLevel(level)
        handlers.append(fh)
        hint = f"traceback in {filename}"
        terminal_level = max(logging.WARNING, logging.getLevelName(level) if isinstance(level, str) else level)
    else:
        hint = "run again with --log-file FILE to keep the traceback"
        terminal_level = level
    th = logging.StreamHandler(sys.stderr)
    th.setLevel(terminal_level)
    th.addFilter(TerminalFilter())
    th.setFormatter(OneLineFormatter(fmt, datefmt, hint=hint))
    handlers.append(th)
    root = logging.getLogger()
    root.setLevel(logging.NOTSET)
    for h in handlers:
        root.addHandler(h)
    return handlers


def uninstall(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    for h in handlers:
        root.removeHandler(h)
        h.close()
