"""A fixture web archive on 127.0.0.1 for the backfill tests, in a thread of the test process.

- ``/cdx``: a CDX server answering like the Internet Archive's (``output=json``: a JSON table whose first row
  names the fields; an empty body past the last page), filtered by ``from``/``to`` (timestamp prefixes);
  ``cdx_failures`` answers that many requests first with an HTML 404 (a misconfigured or failing index).
- ``/web/{timestamp}id_/{url}``: the capture's archived bytes (a replay server).
- ``/files/{name}``: a file (WARC files, a CC-NEWS ``warc.paths.gz``), with ``Range: bytes=N-`` support.

Every request path is logged in ``requests`` (with the query).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


@dataclass
class Capture:
    url: str
    timestamp: str            # YYYYMMDDhhmmss
    body: bytes = b""
    status: str = "200"
    mime: str = "text/html"
    lost: bool = False        # listed by the CDX server, but the replay server answers 404


@dataclass
class Archive:
    captures: list = field(default_factory=list)
    files: dict = field(default_factory=dict)       # name -> bytes
    cdx_failures: int = 0
    cdx_delay: float = 0.0    # seconds the CDX server waits before answering (a timeout for a short --timeout)
    requests: list = field(default_factory=list)

    def cdx_rows(self, query: dict) -> list[list[str]]:
        pattern = query.get("url", [""])[0].rstrip("*").rstrip("/")
        start, end = query.get("from", [""])[0], query.get("to", [""])[0]
        rows = []
        for c in self.captures:
            host_path = c.url.split("://", 1)[1]
            if not host_path.startswith(pattern):
                continue
            if start and c.timestamp[:len(start)] < start or end and c.timestamp[:len(end)] > end:
                continue
            rows.append([host_path, c.timestamp, c.url, c.mime, c.status, "SHA1", str(len(c.body))])
        return rows


def _handler(archive: Archive):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/html", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            archive.requests.append(self.path)
            parts = urlsplit(self.path)
            if parts.path == "/cdx":
                if archive.cdx_delay:
                    time.sleep(archive.cdx_delay)
                if archive.cdx_failures > 0:
                    archive.cdx_failures -= 1
                    return self._send(404, b"<html>Not Found</html>")
                query = parse_qs(parts.query)
                if query.get("page", ["0"])[0] not in ("0", "-1"):
                    return self._send(200, b"", "text/plain")
                rows = archive.cdx_rows(query)
                body = json.dumps([FIELDS, *rows]).encode() if rows else b"[]"
                return self._send(200, body, "application/json")
            if parts.path.startswith("/web/"):
                stamp, _, url = self.path[len("/web/"):].partition("id_/")
                url = unquote(url)
                for c in archive.captures:
                    if c.url == url and c.timestamp == stamp and not c.lost:
                        return self._send(int(c.status), c.body, c.mime + "; charset=utf-8")
                return self._send(404, b"no such capture")
            if parts.path.startswith("/files/"):
                data = archive.files.get(parts.path[len("/files/"):])
                if data is None:
                    return self._send(404, b"no such file")
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and rng[6:].rstrip("-").isdigit():
                    start = int(rng[6:].rstrip("-"))
                    return self._send(206, data[start:], "application/octet-stream",
                                      [("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
                return self._send(200, data, "application/octet-stream")
            return self._send(404, b"not found")

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):   # a client that gave up (a timeout test): not news
        pass


class ArchiveServer:
    """``with ArchiveServer(archive) as base:`` serves ``archive`` at ``base`` (http://127.0.0.1:PORT)."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self.server = _QuietServer(("127.0.0.1", 0), _handler(archive))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
