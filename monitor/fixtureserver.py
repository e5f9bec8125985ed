"""A small threaded HTTP server on 127.0.0.1 that serves fixture sites and logs every request.

Why: tests, the demo and benchmarks need real HTTP (robots.txt, redirects, gzip, 304s, slow or broken
responses) without touching the network, and tests need to see what a crawl asked for.  Standard library
only, so importing it never pulls in Scrapy.

Typical test::

    with FixtureServer(Site()) as server:                   # bound at construction: server.url is known
        server.site.update(build_news_site(server.url))     # tests/sites builders return path -> Resource
        run_monitor("crawl", ...)                           # crawl in a subprocess
        assert server.count("/robots.txt") == 1

A ``Site`` is a thread-safe mutable mapping, so pages can be added between two crawls.  ``log_file=``
appends one JSON line per request (read it back with ``read_log``), useful when the server runs in
another process or several servers should be inspected together.

Demo (``monitor demo``): ``start_demo_servers()`` serves each directory of ``monitor/demo_site/`` on its
own port and returns ``[(name, server, language), ...]`` (started; call ``server.stop()`` when done);
``demo_sources(servers)`` gives matching ``[[source]]`` dicts for a sources file.  The demo files use
root-relative links, and feeds/sitemaps/robots.txt contain ``{BASE}``, which ``serve_directory`` replaces
with the server's base URL at serve time.

Manual use: ``python -m monitor.fixtureserver DIR [--port N] [--log-file F]`` serves a directory tree;
``python -m monitor.fixtureserver --demo`` serves the demo sites.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip as _gzip
import hashlib
import itertools
import json
import mimetypes
import socket
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
GZIP = "application/x-gzip"

DEMO_DIR = Path(__file__).resolve().with_name("demo_site")


# --------------------------------------------------------------------------- requests and resources

class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers (first value wins; ``get_all`` for repeats)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        self._pairs = [(str(k), str(v)) for k, v in pairs]
        self._first: dict[str, str] = {}
        for k, v in self._pairs:
            self._first.setdefault(k.lower(), v)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for k, _ in self._pairs:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self) -> int:
        return len(self._first)

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k.lower() == name.lower()]

    def to_dict(self) -> dict[str, str]:
        return {k: self[k] for k in self}

    def __repr__(self) -> str:
        return f"Headers({self.to_dict()!r})"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it.  ``path`` keeps the query string; ``server`` is the base URL."""

    method: str
    path: str
    headers: Headers
    time: float
    status: int = 0
    server: str = ""

    @property
    def url_path(self) -> str:
        """The path without the query string."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def url(self) -> str:
        return self.server + self.path

    def to_json(self) -> str:
        return json.dumps({"time": self.time, "server": self.server, "method": self.method, "path": self.path,
                           "status": self.status, "headers": self.headers.to_dict()}, ensure_ascii=False)


Request = LoggedRequest  # what a callable body receives
Body = bytes | str | Callable[[LoggedRequest], "bytes | str | Iterable[bytes] | Resource"]


@dataclass
class Resource:
    """What the server answers for one path.

    ``body`` may be a callable taking the request and returning bytes, str, an iterable of bytes chunks
    (streamed, chunked when no ``length`` is given: a huge body never sits in memory) or another
    ``Resource`` (dynamic status).  ``etag``/``last_modified`` enable 304 answers to conditional GETs.
    ``delay`` waits before the status line; ``chunk_delay`` trickles the body; ``truncate_at`` closes the
    connection after that many body bytes while promising more.
    """

    body: Body = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = HTML
    delay: float = 0.0
    etag: str | None = None
    last_modified: datetime | str | None = None
    chunk_delay: float = 0.0
    chunk_size: int = 64 * 1024
    truncate_at: int | None = None
    length: int | None = None


def _coerce(value: Resource | bytes | str) -> Resource:
    if isinstance(value, Resource):
        return value
    if isinstance(value, (bytes, str)):
        return Resource(value)
    raise TypeError(f"a site maps paths to Resource (or str/bytes), got {type(value).__name__}")


# --------------------------------------------------------------------------- resource helpers

def redirect(to: str, status: int = 301) -> Resource:
    """A redirect to ``to`` (absolute URL or path)."""
    return Resource(f'<html><body><a href="{to}">moved</a></body></html>', status=status, headers={"Location": to})


def gzip_file(data: bytes | str, content_type: str = GZIP, **kw) -> Resource:
    """A gzipped file such as ``sitemap.xml.gz``: the bytes are gzip, no Content-Encoding header."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return Resource(_gzip.compress(raw, mtime=0), content_type=content_type, **kw)


def gzip_encoded(data: bytes | str, content_type: str = HTML, **kw) -> Resource:
    """A body sent with ``Content-Encoding: gzip`` (transport compression the client must undo)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    headers = {"Content-Encoding": "gzip", **kw.pop("headers", {})}
    return Resource(_gzip.compress(raw, mtime=0), content_type=content_type, headers=headers, **kw)


def conditional(body: bytes | str, *, etag: str | None = None, last_modified: datetime | str | None = None,
                **kw) -> Resource:
    """A resource answering 304 to a matching If-None-Match / If-Modified-Since.

    Without arguments the ETag is a hash of the body and Last-Modified is a fixed date.
    """
    if etag is None and last_modified is None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        etag = hashlib.sha1(raw).hexdigest()[:16]
        last_modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return Resource(body, etag=etag, last_modified=last_modified, **kw)


def stream(factory: Callable[[], Iterable[bytes]], content_type: str = XML, *, length: int | None = None,
           **kw) -> Resource:
    """A body produced chunk by chunk by ``factory()`` on every request (chunked unless ``length``)."""
    return Resource(lambda req: factory(), content_type=content_type, length=length, **kw)


def gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Gzip-compress an iterable of chunks lazily (for huge ``.xml.gz`` bodies)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


def truncated(body: bytes | str, after: int, **kw) -> Resource:
    """Promise the whole body (Content-Length) but close the connection after ``after`` bytes."""
    return Resource(body, truncate_at=after, **kw)


def slow(body: bytes | str, delay: float = 2.0, *, chunk_delay: float = 0.0, chunk_size: int = 1024,
         **kw) -> Resource:
    """Wait ``delay`` seconds before answering, then optionally trickle the body."""
    return Resource(body, delay=delay, chunk_delay=chunk_delay, chunk_size=chunk_size, **kw)


def too_many_requests(retry_after: int | str = 1, body: str = "Too Many Requests") -> Resource:
    """429 with a Retry-After header."""
    return Resource(body, status=429, headers={"Retry-After": str(retry_after)}, content_type=TEXT)


def error(status: int = 500, body: str | None = None) -> Resource:
    """A plain-text error response."""
    return Resource(body if body is not None else f"error {status}", status=status, content_type=TEXT)


def sequence(*resources: Resource | bytes | str) -> Resource:
    """Answer with the n-th resource on the n-th request; the last one repeats (e.g. 429 then 200)."""
    items = [_coerce(r) for r in resources]
    if not items:
        raise ValueError("sequence() needs at least one resource")
    counter = itertools.count()
    lock = threading.Lock()

    def pick(req: LoggedRequest) -> Resource:
        with lock:
            n = next(counter)
        return items[min(n, len(items) - 1)]

    return Resource(pick)


# --------------------------------------------------------------------------- sites

class Site(MutableMapping[str, Resource]):
    """Paths -> Resources, safe to change while the server runs (add pages between two crawls).

    Lookup tries the path with its query string, then without.  Values may be given as str/bytes.
    """

    def __init__(self, resources: Mapping[str, Resource | bytes | str] | None = None):
        self._lock = threading.RLock()
        self._resources: dict[str, Resource] = {}
        if resources:
            self.update(resources)

    def __getitem__(self, path: str) -> Resource:
        with self._lock:
            return self._resources[path]

    def __setitem__(self, path: str, value: Resource | bytes | str) -> None:
        if not path.startswith("/"):
            raise ValueError(f"site paths start with '/', got {path!r}")
        with self._lock:
            self._resources[path] = _coerce(value)

    def __delitem__(self, path: str) -> None:
        with self._lock:
            del self._resources[path]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._resources))

    def __len__(self) -> int:
        with self._lock:
            return len(self._resources)

    def lookup(self, path: str) -> Resource | None:
        """The resource for a request path (query string optional), or None for a 404."""
        with self._lock:
            found = self._resources.get(path)
            if found is None and "?" in path:
                found = self._resources.get(path.split("?", 1)[0])
            return found


class DirectorySite(Site):
    """Serves files under ``root`` (``dir/`` -> ``dir/index.html``); explicit entries win.

    With ``substitutions``, ``{BASE}`` in text files (and in gzipped text files) becomes the server's base
    URL, so static files can hold absolute links although the port is only known at serve time.
    Files are read on every request, so files added or edited while serving show up.
    """

    TEXT_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".json", ".rss", ".atom", ".rdf", ".css", ".js", ".svg"}
    TYPES = {".html": HTML, ".htm": HTML, ".xml": XML, ".txt": TEXT, ".json": JSON, ".rss": RSS, ".atom": ATOM,
             ".rdf": RDF, ".gz": GZIP}

    def __init__(self, root: str | Path, substitutions: bool = True):
        super().__init__()
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"{root}: not a directory")
        self.substitutions = substitutions

    def lookup(self, path: str) -> Resource | None:
        found = super().lookup(path)
        if found is not None:
            return found
        url_path = unquote(path.split("?", 1)[0])
        target = (self.root / url_path.lstrip("/")).resolve()
        if target != self.root and self.root not in target.parents:
            return None
        if target.is_dir():
            if not url_path.endswith("/"):
                return redirect(url_path + "/")
            target = target / "index.html"
        if not target.is_file():
            return None
        return Resource(lambda req, p=target: self._file(p, req.server))

    def _file(self, path: Path, base: str) -> Resource:
        data = path.read_bytes()
        suffixes = path.suffixes
        if self.substitutions and suffixes and suffixes[-1] in self.TEXT_SUFFIXES:
            data = data.replace(b"{BASE}", base.encode())
        elif self.substitutions and len(suffixes) >= 2 and suffixes[-1] == ".gz" and suffixes[-2] in self.TEXT_SUFFIXES:
            data = _gzip.compress(_gzip.decompress(data).replace(b"{BASE}", base.encode()), mtime=0)
        ctype = self.TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        mtime = datetime.fromtimestamp(int(path.stat().st_mtime), tz=timezone.utc)
        return Resource(data, content_type=ctype, etag=hashlib.sha1(data).hexdigest()[:16], last_modified=mtime)


# --------------------------------------------------------------------------- server

def _http_date(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return email.utils.format_datetime(value.astimezone(timezone.utc), usegmt=True)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _not_modified(res: Resource, headers: Headers) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None and res.etag is not None:
        wanted = {t.strip().removeprefix("W/").strip('"') for t in inm.split(",")}
        return "*" in wanted or res.etag.strip('"') in wanted
    ims = _parse_http_date(headers.get("If-Modified-Since"))
    if ims is not None and res.last_modified is not None:
        lm = _parse_http_date(_http_date(res.last_modified))
        return lm is not None and lm <= ims
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    server: _HTTPServer

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.connections.discard(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.server.fixture.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self):
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def _serve(self):
        fixture = self.server.fixture
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = Headers(self.headers.items())
        probe = LoggedRequest(self.command, self.path, headers, time.time(), server=fixture.url)
        res = fixture.site.lookup(self.path)
        if res is None:
            res = Resource("Not Found", status=404, content_type=TEXT)
        body: object = res.body
        try:
            for _ in range(10):
                if not callable(body):
                    break
                out = body(probe)
                if isinstance(out, Resource):
                    res, body = out, out.body
                else:
                    body = out
        except Exception:  # a broken fixture: answer 500 and show why
            detail = traceback.format_exc()
            sys.stderr.write(f"fixtureserver: {self.path}: {detail}")
            res = Resource(detail, status=500, content_type=TEXT)
            body = res.body
        status = res.status
        if 200 <= status < 300 and _not_modified(res, headers):
            status = 304
        fixture._record(LoggedRequest(self.command, self.path, headers, probe.time, status, fixture.url))
        if res.delay and fixture._stopping.wait(res.delay):
            self.close_connection = True
            return
        self._respond(res, status, body)

    def _respond(self, res: Resource, status: int, body: object) -> None:
        self.send_response(status)
        if res.content_type and status != 304:
            self.send_header("Content-Type", res.content_type)
        if res.etag is not None:
            self.send_header("ETag", '"%s"' % res.etag.strip('"'))
        if res.last_modified is not None:
            self.send_header("Last-Modified", _http_date(res.last_modified))
        for k, v in res.headers.items():
            self.send_header(k, v)
        if status == 304 or status < 200 or status == 204:
            self.end_headers()
            return
        if isinstance(body, str):
            charset = "utf-8"
            if res.content_type and "charset=" in res.content_type:
                charset = res.content_type.split("charset=", 1)[1].split(";")[0].strip()
            body = body.encode(charset)
        head = self.command == "HEAD"
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                step = max(1, res.chunk_size)
                self._write_chunks(res, (data[i:i + step] for i in range(0, len(data), step)), chunked=False)
            return
        chunks = iter(body)  # an iterable of bytes
        chunked = res.length is None and self.request_version >= "HTTP/1.1"
        if res.length is not None:
            self.send_header("Content-Length", str(res.length))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self._write_chunks(res, chunks, chunked=chunked)
        close = getattr(body, "close", None)
        if close:
            close()

    def _write_chunks(self, res: Resource, chunks: Iterator[bytes], *, chunked: bool) -> None:
        sent = 0
        stopping = self.server.fixture._stopping
        try:
            for chunk in chunks:
                if not chunk:
                    continue
                if res.truncate_at is not None and sent + len(chunk) >= res.truncate_at:
                    chunk = chunk[:res.truncate_at - sent]
                    self._write(chunk, chunked)
                    self.wfile.flush()
                    self._drop_connection()
                    return
                self._write(chunk, chunked)
                sent += len(chunk)
                if res.chunk_delay:
                    self.wfile.flush()
                    if stopping.wait(res.chunk_delay):
                        self._drop_connection()
                        return
            if res.truncate_at is not None:
                self.wfile.flush()
                self._drop_connection()
                return
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (ConnectionError, socket.timeout):
            self.close_connection = True

    def _write(self, chunk: bytes, chunked: bool) -> None:
        if not chunk:
            return
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            self.wfile.write(chunk)

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fixture: FixtureServer

    def __init__(self, *args, **kw):
        self.connections: set[socket.socket] = set()
        super().__init__(*args, **kw)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, OSError)):
            return  # clients that hang up (timeouts, cancelled downloads) are normal in tests
        super().handle_error(request, client_address)


class FixtureServer:
    """Serve one ``Site`` on ``host:port`` (port 0: any free port) from a daemon thread.

    The socket is bound at construction, so ``url`` is known before ``start()``.  Use as a context
    manager (starts, and stops on exit).  Every request lands in ``requests`` (and ``log_file``).
    """

    def __init__(self, site: Site | Mapping[str, Resource | bytes | str] | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, log_file: str | Path | None = None, verbose: bool = False):
        self.site: Site = site if isinstance(site, Site) else Site(site or {})
        self.log_file = Path(log_file) if log_file else None
        self.verbose = verbose
        self._requests: list[LoggedRequest] = []
        self._cond = threading.Condition()
        self._file_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.fixture = self
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"

    # lifecycle
    def start(self) -> FixtureServer:
        """Start serving (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"fixtureserver-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port (idempotent)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        for conn in list(self._httpd.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<FixtureServer {self.url} {len(self.site)} paths>"

    def url_for(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.url + (path if path.startswith("/") else "/" + path)

    # request log
    def _record(self, entry: LoggedRequest) -> None:
        with self._cond:
            self._requests.append(entry)
            self._cond.notify_all()
        if self.log_file:
            line = entry.to_json() + "\n"
            with self._file_lock, open(self.log_file, "a", encoding="utf-8") as fh:
                fh.write(line)

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the requests so far, oldest first."""
        with self._cond:
            return list(self._requests)

    def paths_requested(self) -> list[str]:
        """Requested paths (with query strings) in order, repeats included."""
        return [r.path for r in self.requests]

    def count(self, path: str, method: str | None = None) -> int:
        """How often ``path`` was requested; a path without '?' also counts requests with any query."""
        def hit(r: LoggedRequest) -> bool:
            same = r.path == path or ("?" not in path and r.url_path == path)
            return same and (method is None or r.method == method)
        return sum(1 for r in self.requests if hit(r))

    def clear_log(self) -> None:
        """Forget logged requests (the log file is left alone)."""
        with self._cond:
            self._requests.clear()

    def wait_for(self, predicate: Callable[[list[LoggedRequest]], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(requests)`` is true or ``timeout`` passes; returns the last result."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


def read_log(path: str | Path) -> list[LoggedRequest]:
    """Read a ``log_file`` back (all servers that wrote to it, in order)."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(LoggedRequest(d["method"], d["path"], Headers(d.get("headers", {}).items()), d["time"],
                                     d.get("status", 0), d.get("server", "")))
    return out


def serve_directory(path: str | Path, substitutions: bool = True, *, host: str = "127.0.0.1", port: int = 0,
                    log_file: str | Path | None = None, verbose: bool = False) -> FixtureServer:
    """A server (not started yet: use ``with`` or ``.start()``) for a directory tree.

    ``{BASE}`` in text files becomes the server's base URL when ``substitutions`` is true.
    """
    return FixtureServer(DirectorySite(path, substitutions), host, port, log_file=log_file, verbose=verbose)


# --------------------------------------------------------------------------- demo

class DemoSite(NamedTuple):
    name: str
    server: FixtureServer
    language: str


# name -> (language, feed paths, sitemap paths, description); directories live in monitor/demo_site/
DEMO_SITES = {
    "steppe-herald": ("en", ("/feed.xml",), (), "The Steppe Herald (demo): English-language news, RSS feed"),
    "dala-news": ("ru", (), ("/sitemap.xml",), "Dala News (demo): Russian and Kazakh news, sitemap only"),
}


def start_demo_servers(log_file: str | Path | None = None, port: int = 0) -> list[DemoSite]:
    """Start one server per demo site (offline sample data); the caller stops them.  ``port``: the sites
    listen on port, port + 1, ... (0: any free ports)."""
    started: list[DemoSite] = []
    try:
        for i, (name, (language, *_rest)) in enumerate(DEMO_SITES.items()):
            server = serve_directory(DEMO_DIR / name, port=port + i if port else 0, log_file=log_file).start()
            started.append(DemoSite(name, server, language))
    except BaseException:
        for demo in started:
            demo.server.stop()
        raise
    return started


def demo_sources(servers: Iterable[tuple[str, FixtureServer, str]]) -> list[dict]:
    """``[[source]]`` tables (as dicts) for running demo servers; feeds/sitemaps are given explicitly."""
    entries = []
    for name, server, language in servers:
        _lang, feeds, sitemaps, description = DEMO_SITES[name]
        entry = {"name": name, "url": server.url + "/", "language": language, "description": description}
        if feeds:
            entry["feeds"] = [server.url_for(p) for p in feeds]
        if sitemaps:
            entry["sitemaps"] = [server.url_for(p) for p in sitemaps]
        entries.append(entry)
    return entries


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.fixtureserver",
                                     description="Serve a directory (or the demo sites) on 127.0.0.1.")
    parser.add_argument("directory", nargs="?", help="directory to serve ('dir/' serves dir/index.html)")
    parser.add_argument("--demo", action="store_true", help="serve the bundled demo sites instead")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument("--log-file", help="append one JSON line per request")
    parser.add_argument("--no-substitutions", action="store_true", help="do not replace {BASE} in text files")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each request")
    args = parser.parse_args(argv)
    if bool(args.directory) == args.demo:
        parser.error("give a DIRECTORY or --demo")
    if args.demo:
        servers = [d.server for d in start_demo_servers(log_file=args.log_file, port=args.port)]
        for name, server in zip(DEMO_SITES, servers):
            print(f"{name}: {server.url}/", flush=True)
    else:
        try:
            server = serve_directory(args.directory, not args.no_substitutions, host=args.host, port=args.port,
                                     log_file=args.log_file, verbose=args.verbose).start()
        except FileNotFoundError as exc:
            parser.error(str(exc))
        servers = [server]
        print(f"serving {args.directory} at {server.url}/ (Ctrl-C stops)", flush=True)
    for s in servers:
        s.verbose = args.verbose
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for s in servers:
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
