"""A small static HTTP server on 127.0.0.1, for ``monitor demo`` (standard library only, no Scrapy).

``StaticServer(root)`` serves a directory tree from a daemon thread: ``dir/`` answers ``dir/index.html``
(``dir`` redirects to ``dir/``), the content type follows the suffix (``.html``, ``.xml``, ``.txt``,
``.json`` ...), anything missing or outside the root is a 404, and ``{BASE}`` in text files (gzipped ones
too) becomes the server's base URL at serve time, so static files can hold absolute links although the
port is only known when the server binds.  GET and HEAD only; files are read on every request.

The test suite's fixture server (``tests/support/fixtureserver.py``: request log, redirects, 304s, slow and
broken answers) builds on the pieces here: ``BackgroundServer`` (bind, serve from a thread, stop) and
``resolve_path`` / ``read_static`` (a URL path to a file, and its bytes and content type).
"""

from __future__ import annotations

import gzip
import mimetypes
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
GZIP = "application/x-gzip"

CONTENT_TYPES = {".html": HTML, ".htm": HTML, ".xml": XML, ".txt": TEXT, ".json": JSON, ".rss": RSS, ".atom": ATOM,
                 ".rdf": RDF, ".gz": GZIP}
# files whose {BASE} is replaced (also inside NAME.SUFFIX.gz)
TEXT_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".json", ".rss", ".atom", ".rdf", ".css", ".js", ".svg"}


def resolve_path(root: Path, url_path: str) -> Path | str | None:
    """The file under ``root`` a request path (query string allowed) names: a ``Path``; a ``str``, the
    path to redirect to (a directory asked for without its trailing slash); or None (missing, or outside
    the root)."""
    path = unquote(url_path.split("?", 1)[0])
    target = (root / path.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return None
    if target.is_dir():
        if not path.endswith("/"):
            return path + "/"
        target = target / "index.html"
    return target if target.is_file() else None


def read_static(path: Path, base: str, substitutions: bool = True) -> tuple[bytes, str]:
    """``(body, content type)`` of a file, ``{BASE}`` replaced by ``base`` in text files when asked."""
    data = path.read_bytes()
    suffixes = path.suffixes
    if substitutions and suffixes and suffixes[-1] in TEXT_SUFFIXES:
        data = data.replace(b"{BASE}", base.encode())
    elif substitutions and len(suffixes) >= 2 and suffixes[-1] == ".gz" and suffixes[-2] in TEXT_SUFFIXES:
        data = gzip.compress(gzip.decompress(data).replace(b"{BASE}", base.encode()), mtime=0)
    ctype = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return data, ctype


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: BackgroundServer

    def __init__(self, *args, **kw):
        self.connections: set[socket.socket] = set()
        super().__init__(*args, **kw)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):   # ConnectionError, timeouts: a client that hung up
            return
        super().handle_error(request, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    """Base handler: HTTP/1.1, open connections known to the server (``stop()`` drops them), quiet."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    server: _ThreadingServer

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.connections.discard(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if getattr(self.server.owner, "verbose", False):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class BackgroundServer:
    """An HTTP server on ``host:port`` (port 0: any free port) served from a daemon thread.

    The socket is bound at construction, so ``url`` is known before ``start()``; the handler reaches this
    object as ``self.server.owner``.  Use as a context manager (starts, and stops on exit).
    """

    handler_class: type[TrackedHandler]
    verbose = False

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.stopping = threading.Event()   # set by stop(): handlers waiting on it give up
        self._thread: threading.Thread | None = None
        self._httpd = _ThreadingServer((host, port), self.handler_class)
        self._httpd.owner = self
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"

    def start(self):
        """Start serving (idempotent); returns the server."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{type(self).__name__}-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port (idempotent)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        for conn in list(self._httpd.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url_for(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.url + (path if path.startswith("/") else "/" + path)


class _StaticHandler(TrackedHandler):
    server: _ThreadingServer

    def do_GET(self):
        owner: StaticServer = self.server.owner
        found = resolve_path(owner.root, self.path)
        if isinstance(found, Path):
            status, headers = 200, {}
            body, ctype = read_static(found, owner.url, owner.substitutions)
        elif isinstance(found, str):
            status, headers, body, ctype = 301, {"Location": found}, b"moved", TEXT
        else:
            status, headers, body, ctype = 404, {}, b"Not Found", TEXT
        self.send_response(status)
        for name, value in {"Content-Type": ctype, "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET


class StaticServer(BackgroundServer):
    """Serve the files under ``root`` (see the module docstring); not started yet: ``with`` or ``start()``."""

    handler_class = _StaticHandler

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0, *, substitutions: bool = True):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"{root}: not a directory")
        self.substitutions = substitutions
        super().__init__(host, port)
