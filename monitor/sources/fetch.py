"""HTTP for ``monitor sources check``: a plain stdlib client and robots.txt as the crawler reads it.

``Fetcher`` is urllib with the project's User-Agent, a timeout, redirects, gzip/deflate, a size cap (a zip
bomb cannot fill memory) and the crawl's network boundary (``monitor.crawl.addresses``: internal addresses are
refused on every hop unless they are the source's own, ``Fetcher.for_source``); ``Robots`` parses robots.txt with protego like Scrapy's RobotsTxtMiddleware.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.config import setting
from monitor.crawl.addresses import check_addresses, is_metadata, own_addresses, resolve_blocking


@dataclass
class Fetched:
    """One GET: the final URL after redirects, the status, the (decoded) body, or what went wrong."""

    url: str
    final_url: str
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    error: str | None = None         # None when a 2xx body arrived whole
    connection_failed: bool = False  # no HTTP answer at all (DNS, refused, timeout, TLS)

    @property
    def ok(self) -> bool:
        return self.error is None


class BlockedAddressError(OSError):
    """A URL (or a redirect hop) on an internal address the check may not reach."""


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect hop passes the request's ``address_guard`` before it is followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        guard = getattr(req, "address_guard", None)
        if new is not None and guard is not None:
            guard(new.full_url)
            new.address_guard = guard
        return new


class Fetcher:
    """Stdlib HTTP GET with the project's User-Agent, a timeout, redirects, gzip/deflate, a size cap and the
    network boundary (``allowed``: the internal addresses it may reach, see ``for_source``)."""

    def __init__(self, *, user_agent: str | None = None, timeout: float = 15.0, max_bytes: int | None = None,
                 allowed=frozenset(), allow_private: bool | None = None):
        self.user_agent = user_agent or setting("USER_AGENT")
        self.timeout = timeout
        self.max_bytes = max_bytes or setting("DOWNLOAD_MAXSIZE")
        self.allowed = frozenset(allowed)
        self.allow_private = setting("MONITOR_ALLOW_PRIVATE_ADDRESSES") if allow_private is None else allow_private
        self.opener = urllib.request.build_opener(_GuardedRedirects)

    def for_source(self, source) -> "Fetcher":
        """This fetcher for one source: it may reach the internal addresses the source's own URLs are on."""
        import copy

        bound = copy.copy(self)
        bound.allowed = own_addresses(source)
        return bound

    def check_address(self, url: str) -> None:
        """BlockedAddressError when ``url``'s host is (or resolves to) an address this fetcher may not reach.
        (The address is resolved here and again by urllib when it connects: see docs/security.md.)"""
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            return
        addresses = resolve_blocking(host)
        if self.allow_private:
            addresses = [a for a in addresses if is_metadata(a)]
        message = check_addresses(host, addresses, self.allowed)
        if message:
            raise BlockedAddressError(f"{url}: {message} (internal addresses are refused; see "
                                      "MONITOR_ALLOW_PRIVATE_ADDRESSES)")

    def get(self, url: str) -> Fetched:
        req = urllib.request.Request(url, headers={
            "User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
        req.address_guard = self.check_address
        try:
            self.check_address(url)
            with self.opener.open(req, timeout=self.timeout) as resp:
                return self._read(url, resp)
        except BlockedAddressError as exc:
            return Fetched(url, url, error=f"not fetched: {exc}")
        except urllib.error.HTTPError as exc:
            final = exc.geturl() or url
            exc.close()
            return Fetched(url, final, status=exc.code, error=f"HTTP {exc.code}")
        except urllib.error.URLError as exc:
            return Fetched(url, url, error=_describe_network_error(exc.reason), connection_failed=True)
        except (TimeoutError, socket.timeout):
            return Fetched(url, url, error=f"no answer within {self.timeout:g} s", connection_failed=True)
        except (ConnectionError, OSError, ValueError) as exc:  # reset mid-body, bad URL, http.client errors
            return Fetched(url, url, error=_describe_network_error(exc), connection_failed=True)
        except http.client.IncompleteRead:
            return Fetched(url, url, error="the connection closed before the whole page arrived",
                           connection_failed=True)
        except http.client.HTTPException as exc:  # BadStatusLine, RemoteDisconnected ...
            return Fetched(url, url, error=f"broken HTTP answer: {type(exc).__name__}: {exc}"[:200],
                           connection_failed=True)

    def _read(self, url: str, resp) -> Fetched:
        final = resp.geturl() or url
        ctype = resp.headers.get("Content-Type")
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            return Fetched(url, final, resp.status, ctype, error=f"larger than {self.max_bytes:,} bytes")
        raw = resp.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            return Fetched(url, final, resp.status, ctype, error=f"larger than {self.max_bytes:,} bytes")
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            try:
                raw = _decompress(raw, self.max_bytes, wbits=47 if encoding != "deflate" else zlib.MAX_WBITS)
            except zlib.error:
                if encoding != "deflate":
                    return Fetched(url, final, resp.status, ctype, error="gzip body could not be decompressed")
                try:  # raw deflate without zlib header
                    raw = _decompress(raw, self.max_bytes, wbits=-zlib.MAX_WBITS)
                except zlib.error:
                    return Fetched(url, final, resp.status, ctype, error="deflate body could not be decompressed")
            except OverflowError:
                return Fetched(url, final, resp.status, ctype,
                               error=f"larger than {self.max_bytes:,} bytes once decompressed")
        return Fetched(url, final, resp.status, ctype, raw)


def _decompress(data: bytes, max_bytes: int, *, wbits: int) -> bytes:
    """zlib/gzip decompression that stops at ``max_bytes`` (OverflowError) so a zip bomb cannot fill memory."""
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, max_bytes + 1)
    if len(out) > max_bytes or d.unconsumed_tail:
        raise OverflowError(max_bytes)
    return out + d.flush()


def _describe_network_error(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return "host name could not be resolved (check the URL or your network)"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer in time (the site is slow or down)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (the site is down or blocks us)"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {getattr(reason, 'reason', None) or reason}"
    if isinstance(reason, ConnectionError):
        return "the connection closed before the page arrived"
    return str(reason)[:200]



class Robots:
    """robots.txt per host, parsed with protego like Scrapy's RobotsTxtMiddleware (non-2xx: allow all)."""

    def __init__(self, fetcher: Fetcher, user_agent: str):
        self.fetcher, self.user_agent = fetcher, user_agent
        self.parsers: dict[str, object] = {}
        self.answers: dict[str, Fetched] = {}

    def fetch(self, url: str) -> Fetched:
        parts = urlsplit(url)
        netloc = parts.netloc.lower()
        if netloc not in self.answers:
            got = self.fetcher.get(f"{parts.scheme}://{parts.netloc}/robots.txt")
            self.answers[netloc] = got
            parser = None
            if got.ok:
                from protego import Protego

                try:
                    parser = Protego.parse(got.body.decode("utf-8", "ignore"))
                except Exception:  # noqa: BLE001 - an unparsable robots.txt allows everything (as Scrapy does)
                    parser = None
            self.parsers[netloc] = parser
        return self.answers[netloc]

    def allowed(self, url: str) -> bool:
        self.fetch(url)
        parser = self.parsers[urlsplit(url).netloc.lower()]
        return True if parser is None else bool(parser.can_fetch(url, self.user_agent))
