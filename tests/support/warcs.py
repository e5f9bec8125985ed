"""WARC files written by hand for the backfill tests (no WARC library: the reader is checked against the format).

``response``, ``revisit``, ``request`` and ``warcinfo`` records, WARC/1.0 or WARC/1.1, each gzipped on its own (as
Common Crawl writes them) or plain; ``cut`` truncates a record's gzip member to half its length.
"""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass, field

from tests.support.sites.hostile import article_html, unique_text


@dataclass
class Rec:
    kind: str                       # response, revisit, request, warcinfo, metadata
    url: str = ""
    body: bytes = b""
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    date: str = "2024-03-05T10:00:00Z"
    version: str = "1.1"
    headers: list = field(default_factory=list)   # extra HTTP headers
    cut: bool = False                # write only half of this record's gzip member


def record_bytes(r: Rec) -> bytes:
    if r.kind in ("response", "revisit"):
        http = [f"HTTP/1.1 {r.status}", f"Content-Type: {r.content_type}", *[f"{k}: {v}" for k, v in r.headers]]
        block = ("\r\n".join(http) + "\r\n\r\n").encode() + (r.body if r.kind == "response" else b"")
        ctype = "application/http; msgtype=response"
    elif r.kind == "request":
        block = f"GET / HTTP/1.1\r\nHost: {r.url.split('/')[2] if r.url else 'x'}\r\n\r\n".encode()
        ctype = "application/http; msgtype=request"
    else:
        block = r.body or b"software: tests\r\nformat: WARC File Format 1.1\r\n"
        ctype = "application/warc-fields"
    head = [f"WARC/{r.version}", f"WARC-Type: {r.kind}", f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>",
            f"WARC-Date: {r.date}", f"Content-Type: {ctype}", f"Content-Length: {len(block)}"]
    if r.url:
        head.insert(2, f"WARC-Target-URI: {r.url}")
    if r.kind == "revisit":
        head.append("WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
        head.append("WARC-Refers-To-Target-URI: " + r.url)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def write_warc(path, records: list[Rec], *, compress: bool = True) -> list[int]:
    """Write ``records``; returns each record's offset."""
    offsets, out = [], bytearray()
    for r in records:
        offsets.append(len(out))
        data = record_bytes(r)
        if compress:
            data = gzip.compress(data)
            if r.cut:
                data = data[:len(data) // 2]
        elif r.cut:
            data = data[:len(data) // 2]
        out += data
    path.write_bytes(bytes(out))
    return offsets


def article(url: str, key: str, title: str | None = None, *, lang: str = "en", published="2024-03-01T08:00:00+00:00",
            lead: str = "") -> bytes:
    title = title or f"Story {key} about the steppe and the sea"
    return article_html(title, unique_text(key, lang, paragraphs=5, lead=lead), lang=lang,
                        published=published).encode("utf-8")
