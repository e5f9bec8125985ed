"""HTTP for backfills: remote WARC files, CC-NEWS file lists, CDX and replay servers, behind the crawl's
network boundary (``monitor.crawl.addresses``: loopback, private, link-local ... addresses are refused unless
MONITOR_ALLOW_PRIVATE_ADDRESSES; cloud metadata always).  Redirects are not followed (an archive's answer is
the file itself); a timeout or a connection error is retried, then raised as ``FetchFailed``."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from monitor import __version__
from monitor.crawl.addresses import check_addresses, resolve_blocking
from monitor.errors import MonitorError, UsageError

USER_AGENT = f"media-monitor/{__version__} (archive backfill)"


class FetchFailed(MonitorError):
    """A remote file or index could not be fetched (after retries); ``reason`` goes to fetch_errors."""

    exit_code = 1

    def __init__(self, message: str, reason: str = "fetch_failed", status: int | None = None):
        super().__init__(message)
        self.reason, self.status, self.body = reason, status, b""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Guard:
    """Refuses hosts on internal addresses (see module doc); remembers the hosts it checked."""

    def __init__(self, allow_private: bool, allowed=frozenset()):
        self.allow_private, self.allowed = allow_private, allowed
        self._checked: dict[str, str | None] = {}

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url}: not an http(s) URL")
        host = parts.hostname
        if host not in self._checked:
            addresses = resolve_blocking(host)
            if not addresses:
                self._checked[host] = f"{host} does not resolve"
            else:
                why = check_addresses(host, addresses, self.allowed)
                if why and self.allow_private and "metadata" not in why:
                    why = None
                self._checked[host] = why and (why + " (internal addresses are refused; see "
                                                     "MONITOR_ALLOW_PRIVATE_ADDRESSES)")
        why = self._checked[host]
        if why:
            raise FetchFailed(f"{url}: {why}", reason="blocked_address" if "resolve" not in why else "dns_error")


class Http:
    """GETs with the guard, a timeout, retries with backoff and a minimum delay between requests."""

    def __init__(self, guard: Guard, *, timeout: float = 30.0, retries: int = 3, delay: float = 0.0,
                 backoff: float = 1.0):
        self.guard, self.timeout, self.retries, self.delay, self.backoff = guard, timeout, retries, delay, backoff
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._last = 0.0

    def _wait(self) -> None:
        if self.delay:
            gap = self._last + self.delay - time.monotonic()
            if gap > 0:
                time.sleep(gap)
        self._last = time.monotonic()

    def open(self, url: str, start: int = 0):
        """``(response, offset its body starts at)``: a Range request from ``start`` (0 when the server
        ignored the Range).  4xx is final; 5xx, timeouts and connection errors are retried."""
        self.guard.check(url)
        headers = {"User-Agent": USER_AGENT}
        if start:
            headers["Range"] = f"bytes={start}-"
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self._wait()
            try:
                resp = self._opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                try:
                    body = exc.read(1 << 20)
                except OSError:
                    body = b""
                exc.close()
                if exc.code in (429,) or exc.code >= 500:
                    last = FetchFailed(f"{url}: HTTP {exc.code}", reason="server_error", status=exc.code)
                    continue
                failed = FetchFailed(f"{url}: HTTP {exc.code}", reason="http_error", status=exc.code)
                failed.body = body
                raise failed from None
            except (TimeoutError, OSError) as exc:   # URLError is an OSError
                reason = "timeout" if "timed out" in str(exc) else "fetch_failed"
                last = FetchFailed(f"{url}: {getattr(exc, 'reason', exc)}", reason=reason)
                continue
            return resp, (start if resp.status == 206 else 0)
        raise last

    def fetch(self, url: str) -> tuple[int, bytes]:
        """``(status, body)`` of a GET: 2xx and 4xx answers are returned, 5xx and network failures retried
        then raised (``FetchFailed``)."""
        try:
            resp, _ = self.open(url)
        except FetchFailed as exc:
            if exc.reason == "http_error" and exc.status is not None:
                return exc.status, exc.body
            raise
        with resp:
            return resp.status, resp.read()

    def get(self, url: str) -> bytes:
        resp, _ = self.open(url)
        with resp:
            return resp.read()
