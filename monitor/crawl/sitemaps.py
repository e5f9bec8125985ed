"""Sitemaps parsed while they download: bounded in bytes and URLs, safe against XML and gzip bombs.

Why: a sitemap may be 200 MB (or a gzip bomb, or an endless stream).  Scrapy would buffer the whole body
before the callback sees it, and ``DOWNLOAD_MAXSIZE`` would throw all of it away.  Instead the spider feeds
each received chunk (Scrapy's ``bytes_received`` signal) to a ``SitemapStream``, which

- un-gzips on the fly when the bytes start with the gzip magic (a ``.xml.gz`` file or
  ``Content-Encoding: gzip``), at most ``CHUNK`` bytes of output at a time, so a gzip bomb never
  inflates in memory;
- parses with an lxml pull parser (entities not resolved, no network, no DTD loading, libxml2's
  entity-amplification guard on), keeping only the ``(kind, loc, lastmod, news)`` of each entry and
  clearing the tree as it goes;
- tells the caller to stop the download (``feed`` returns True) once ``max_urls`` entries were read or
  ``max_bytes`` of XML went through, or the XML / gzip is broken.

The entries read before a stop or an error are kept (``entries``); ``problem`` says what went wrong in
words a person can act on.  An entry is kept only if it was read whole: libxml2 (lxml 6.2+) hands over the
element it was inside when the data ended early or broke, with whatever part of ``<loc>`` had arrived, so
such an entry is dropped, and a ``<loc>`` must be an absolute http(s) URL with a host or a root- or
protocol-relative path (``plausible_loc``).  No Scrapy here: the spider owns the signal wiring.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlsplit

CHUNK = 1 << 20          # most bytes un-gzipped (and parsed) per step
GZIP_MAGIC = b"\x1f\x8b"
TAIL = 8192              # bytes of XML kept to tell whether the data ended inside an entry
_ENTRY_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(?:url|sitemap)(?=[\s/>])")


def plausible_loc(loc: str) -> bool:
    """An absolute http(s) URL with a host, or a root- or protocol-relative reference (resolved against the
    sitemap's URL by the caller).  Anything else (``https``, ``a``, ``javascript:``) is not an entry."""
    if loc.startswith("/"):
        return not loc.startswith("//") or bool(urlsplit("http:" + loc).hostname)
    try:
        parts = urlsplit(loc)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _ends_inside_entry(tail: bytes) -> bool:
    """Whether the XML seen last opens a ``<url>``/``<sitemap>`` that it never closes."""
    last = None
    for m in _ENTRY_TAG.finditer(tail):
        last = m
    return last is not None and not last.group(1)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class SitemapStream:
    """Incremental reader of one sitemap (or sitemap index) download."""

    def __init__(self, *, max_bytes: int = 50 * 1024 * 1024, max_urls: int = 50_000):
        from lxml import etree

        self.max_bytes = max_bytes
        self.max_urls = max_urls
        self._parser = etree.XMLPullParser(events=("end",), tag=("{*}url", "{*}sitemap"), resolve_entities=False,
                                           no_network=True, load_dtd=False, huge_tree=False, recover=False)
        self._gunzip = None
        self._started = False
        self._head = b""             # the first byte, while it is too early to tell gzip from XML
        self.received = 0            # bytes received (compressed, when gzipped)
        self.xml_bytes = 0           # bytes of XML parsed
        self._tail = b""             # the last TAIL bytes of XML parsed
        self.entries: list[tuple[str, str, str | None, dict]] = []
        self.gzipped = False
        self.stopped: str | None = None    # "max_urls" or "max_bytes": cut on purpose
        self.error: str | None = None      # malformed XML, broken gzip
        self.closed = False

    # ------------------------------------------------------------------ feeding
    @property
    def done(self) -> bool:
        return self.stopped is not None or self.error is not None or self.closed

    def feed(self, data: bytes) -> bool:
        """Take the next received chunk; True when the download should stop (cap reached or broken)."""
        if self.done:
            return True
        if not data:
            return False
        self.received += len(data)
        if not self._started:
            data = self._head + data
            if len(data) < len(GZIP_MAGIC):   # too short to tell gzip from XML yet
                self._head = data
                return False
            self._started = True
            if data[:2] == GZIP_MAGIC:
                self.gzipped = True
                self._gunzip = zlib.decompressobj(zlib.MAX_WBITS | 32)
        if self._gunzip is None:
            self._parse(data)
            return self.done
        try:
            out = self._gunzip.decompress(data, CHUNK)
            while True:
                self._parse(out)
                if self.done:
                    return True
                tail = self._gunzip.unconsumed_tail
                if not tail:
                    break
                out = self._gunzip.decompress(tail, CHUNK)
        except zlib.error as exc:
            self.error = f"the file starts like gzip but cannot be decompressed ({exc})"
        return self.done

    def _parse(self, xml: bytes) -> None:
        from lxml import etree

        if not xml:
            return
        room = self.max_bytes - self.xml_bytes
        if room <= 0:
            self.stopped = "max_bytes"
            return
        if len(xml) > room:
            xml = xml[:room]
            self.stopped = "max_bytes"
        self.xml_bytes += len(xml)
        self._tail = (self._tail + xml)[-TAIL:]
        try:
            self._parser.feed(xml)
        except etree.XMLSyntaxError as exc:
            self._drain()
            self.error = self._describe(exc)
            return
        self._drain()

    def _drain(self) -> None:
        for _, elem in self._parser.read_events():
            tag = _local(elem.tag)
            if tag not in ("url", "sitemap"):
                continue
            if len(self.entries) >= self.max_urls:
                self.stopped = self.stopped or "max_urls"
                break
            entry = _entry(tag, elem)
            if entry is not None:
                self.entries.append(entry)
            elem.clear()
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
        if len(self.entries) >= self.max_urls and not self.error:
            self.stopped = self.stopped or "max_urls"

    # ------------------------------------------------------------------ end
    def close(self) -> "SitemapStream":
        """The download ended (whole body received, or stopped): finish parsing (idempotent)."""
        from lxml import etree

        if self.closed:
            return self
        if self._gunzip is not None and not self.done:
            try:
                rest = self._gunzip.flush()
            except zlib.error as exc:
                rest = b""
                self.error = f"the file starts like gzip but cannot be decompressed ({exc})"
            self._parse(rest)
            if not self.done and not self._gunzip.eof and self.received:
                self.error = "the gzip data ends early (the file is truncated)"
        if not self.done:
            if not self._started and self._head:   # a one-byte body
                self._started = True
                self._parse(self._head)
            if not self._started:
                self.error = "the file is empty"
            else:
                try:
                    self._parser.close()
                except etree.XMLSyntaxError as exc:
                    before = len(self.entries)
                    self._drain()
                    if len(self.entries) > before and _ends_inside_entry(self._tail):
                        self.entries.pop()   # the data ended inside it: closed by the parser's recovery
                    self.error = self._describe(exc)
                else:
                    self._drain()
        self.closed = True
        return self

    def _describe(self, exc) -> str:
        msg = str(exc).split(" (<string>", 1)[0]
        if "amplification" in msg or "entity" in msg.lower() and "loop" in msg.lower():
            return f"refused: the XML defines entities that expand without bound (an entity bomb): {msg}"
        return f"the XML is malformed: {msg}"

    @property
    def problem(self) -> str | None:
        """What a person should know about this file (None when it was read whole)."""
        n = len(self.entries)
        if self.error:
            return f"{self.error}; {n} entr{'y' if n == 1 else 'ies'} read before it"
        if self.stopped == "max_bytes":
            return (f"larger than MONITOR_SITEMAP_MAX_BYTES ({self.max_bytes:,} bytes of XML): read up to there, "
                    f"{n} entr{'y' if n == 1 else 'ies'} kept, the rest ignored")
        return None

    @classmethod
    def read(cls, body: bytes, **kw) -> "SitemapStream":
        """Parse a whole body at once (responses that did not stream: cache, file://)."""
        stream = cls(**kw)
        for i in range(0, len(body), CHUNK):
            if stream.feed(body[i:i + CHUNK]):
                break
        return stream.close()


def _entry(tag: str, elem) -> tuple[str, str, str | None, dict] | None:
    loc = lastmod = None
    news: dict = {}
    for child in elem.iter():
        if not isinstance(child.tag, str):
            continue
        ctag = _local(child.tag)
        text = (child.text or "").strip()
        if ctag == "loc" and loc is None and child.getparent() is elem:
            loc = text
        elif ctag == "lastmod":
            lastmod = text or None
        elif ctag == "publication_date":
            news["published"] = text or None
        elif ctag == "title" and child.getparent() is not None and _local(child.getparent().tag) == "news":
            news["title"] = text or None
        elif ctag == "language":
            news["language"] = text or None
    return (tag, loc, lastmod, news) if loc and plausible_loc(loc) else None
