"""What a fixture server answers: ``Resource`` (body, status, headers, delays, validators) and helpers that
build the usual ones (redirects, gzip, 304s, streams, slow, truncated and error answers), plus the request
as handlers and callable bodies see it (``LoggedRequest``).  Re-exported by ``tests.support.fixtureserver``.
"""

from __future__ import annotations

import gzip as _gzip
import hashlib
import itertools
import json
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from monitor.demoserver import ATOM, GZIP, HTML, JSON, JSON_FEED, RDF, RSS, TEXT, XML  # noqa: F401 (re-exported)


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
