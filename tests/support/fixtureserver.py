"""A threaded HTTP server on 127.0.0.1 that serves fixture sites and logs every request (tests, benchmarks).

Why: tests and benchmarks need real HTTP (robots.txt, redirects, gzip, 304s, slow or broken responses)
without touching the network, and tests need to see what a crawl asked for.  Standard library only (plus
``monitor.demoserver``, whose ``BackgroundServer`` it builds on), so importing it never pulls in Scrapy.

Typical test::

    with FixtureServer(Site()) as server:                   # bound at construction: server.url is known
        server.site.update(build_news_site(server.url))     # tests/support/sites builders: path -> Resource
        run_monitor("crawl", ...)                           # crawl in a subprocess
        assert server.count("/robots.txt") == 1

A ``Site`` is a thread-safe mutable mapping, so pages can be added between two crawls.  ``log_file=``
appends one JSON line per request (read it back with ``read_log``), useful when the server runs in
another process or several servers should be inspected together.  What a path answers is a ``Resource``
(``tests/support/resources.py``, re-exported here with its helpers: ``redirect``, ``gzip_file``, ``slow`` ...).

Manual use, from the repository root: ``python -m tests.support.fixtureserver DIR [--port N] [--log-file F]``
serves a directory tree (``{BASE}`` in text files becomes the server's URL).  The demo's sample sites are
served by ``python -m monitor.demo``.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import datetime, timezone
from pathlib import Path

from monitor.demoserver import BackgroundServer, TrackedHandler, read_static, resolve_path
from tests.support.resources import (  # noqa: F401  (re-exported: tests import everything from here)
    ATOM, GZIP, HTML, JSON, JSON_FEED, RDF, RSS, TEXT, XML, Body, Headers, LoggedRequest, Request, Resource, _coerce,
    conditional, error, gzip_encoded, gzip_file, gzip_stream, redirect, sequence, slow, stream, too_many_requests,
    truncated)


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
    URL (``monitor.demoserver.read_static``).  Files are read on every request, so files added or edited
    while serving show up; each answer carries an ETag and Last-Modified, so conditional GETs get 304s.
    """

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
        target = resolve_path(self.root, path)
        if isinstance(target, str):
            return redirect(target)
        if target is None:
            return None
        return Resource(lambda req, p=target: self._file(p, req.server))

    def _file(self, path: Path, base: str) -> Resource:
        data, ctype = read_static(path, base, self.substitutions)
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


class _Handler(TrackedHandler):
    def do_GET(self):
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def _serve(self):
        fixture: FixtureServer = self.server.owner
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
        if res.delay and fixture.stopping.wait(res.delay):
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
        stopping = self.server.owner.stopping
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


class FixtureServer(BackgroundServer):
    """Serve one ``Site`` on ``host:port`` (port 0: any free port) from a daemon thread.

    The socket is bound at construction, so ``url`` is known before ``start()``.  Use as a context
    manager (starts, and stops on exit).  Every request lands in ``requests`` (and ``log_file``).
    """

    handler_class = _Handler

    def __init__(self, site: Site | Mapping[str, Resource | bytes | str] | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, log_file: str | Path | None = None, verbose: bool = False):
        self.site: Site = site if isinstance(site, Site) else Site(site or {})
        self.log_file = Path(log_file) if log_file else None
        self.verbose = verbose
        self._requests: list[LoggedRequest] = []
        self._cond = threading.Condition()
        self._file_lock = threading.Lock()
        super().__init__(host, port)

    def __repr__(self) -> str:
        return f"<FixtureServer {self.url} {len(self.site)} paths>"

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


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fixtureserver",
                                     description="Serve a directory on 127.0.0.1 with a request log.")
    parser.add_argument("directory", help="directory to serve ('dir/' serves dir/index.html)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument("--log-file", help="append one JSON line per request")
    parser.add_argument("--no-substitutions", action="store_true", help="do not replace {BASE} in text files")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each request")
    args = parser.parse_args(argv)
    try:
        server = serve_directory(args.directory, not args.no_substitutions, host=args.host, port=args.port,
                                 log_file=args.log_file, verbose=args.verbose).start()
    except FileNotFoundError as exc:
        parser.error(str(exc))
    print(f"serving {args.directory} at {server.url}/ (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
