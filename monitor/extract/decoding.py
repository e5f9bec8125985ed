"""Bytes to HTML text: sniffing what a body really is, and decoding it.

``page_html`` is the gate before any parsing: an empty body, a declared or sniffed non-HTML type (PDF, images,
archives, binary), an oversized page, a feed or sitemap, or text without markup become a ``Rejection``;
anything else comes back as text.  ``decode_body`` picks the encoding (BOM, declared, ``<meta charset>``,
UTF-8, detection) and never raises.
"""

from __future__ import annotations

import codecs
import re

from monitor.extract.results import RejectReason, Rejection

_MAGIC = (  # prefixes of formats that are never an HTML page, whatever the Content-Type says
    (b"%PDF-", "a PDF file"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"PK\x03\x04", "a zip archive (or docx/xlsx)"),
    (b"\x1f\x8b", "gzip data (the response was not decompressed)"), (b"BZh", "bzip2 data"),
    (b"7z\xbc\xaf", "a 7z archive"), (b"\xd0\xcf\x11\xe0", "an MS Office file"), (b"OggS", "an Ogg file"),
    (b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"wOFF", "a web font"), (b"wOF2", "a web font"),
    (b"%!PS", "a PostScript file"), (b"\x00\x00\x01\x00", "an icon"), (b"{\\rtf", "an RTF file"),
)
_RIFF_KINDS = {b"WEBP": "a WebP image", b"WAVE": "a WAV file", b"AVI ": "an AVI video"}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "application/html", "text/xhtml"}
_MAYBE_HTML_TYPES = {"", "text/plain", "application/octet-stream", "binary/octet-stream", "text/xml",
                     "application/xml", "application/x-httpd-php", "unknown/unknown", "text/*", "*/*"}
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))  # 27: ISO-2022 escapes
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_FEED_ROOT = re.compile(r"\A(?:\s|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(rss|feed|urlset|sitemapindex|rdf:RDF)\b",
                        re.I | re.S)
_MARKUP = re.compile(r"<(?:[a-zA-Z!?/])")
# single-byte Western charsets (as w3lib resolves them): bytes that decode as strict UTF-8 are not in one of them
_LATIN = {"cp1252", "iso8859-15", "latin-1", "iso8859-1"}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset_param(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    return m.group(1) if m else None


def _codec(name: str | None) -> str | None:
    """Python codec for a declared charset, WHATWG-style (latin-1 means windows-1252), None if unknown."""
    if not name:
        return None
    from w3lib.encoding import resolve_encoding

    return resolve_encoding(name.strip().strip("\"'"))


def _sniff_binary(body: bytes) -> str | None:
    """What the bytes are if they are clearly not a text document, else None."""
    head = body[:16].lstrip()
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(b"RIFF") and body[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[body[8:12]]
    if any(body.startswith(bom) for bom, enc in _BOMS if enc.startswith("utf-16") or enc.startswith("utf-32")):
        return None  # UTF-16/32 text legitimately has NUL bytes
    sample = body[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(sample) // 100):
        return f"binary data ({controls} control bytes in the first {len(sample)})"
    return None


def decode_body(body: bytes, *, encoding: str | None = None, content_type: str | None = None) -> str:
    """Bytes to text: BOM, else declared encoding (argument, then Content-Type charset), else
    ``<meta charset>``, else UTF-8 if it decodes cleanly, else charset detection.

    A BOM wins because it cannot be there by accident (HTML standard). A declared encoding that fails
    strict decoding loses to the meta one (servers that label every page utf-8); a declared
    latin-1/windows-1252 (a frequent server default) loses to the meta one, and any single-byte Western
    label (header or meta) loses to bytes that are valid UTF-8 (pages re-saved as UTF-8 keep their old meta).
    Pass as ``encoding`` only a charset the server declared, not Scrapy's ``response.encoding`` guess
    (it falls back to cp1252, wrong for undeclared koi8-r/windows-1251 pages). Never raises: undecodable bytes become U+FFFD.
    """
    if isinstance(body, str):
        return body
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, "replace")
    from w3lib.encoding import html_body_declared_encoding

    declared = _codec(encoding) or _codec(_charset_param(content_type))
    meta = _codec(html_body_declared_encoding(body[:8192]))
    if meta in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        meta = "utf-8"  # a meta tag readable as ASCII means the page is not UTF-16 (HTML standard)
    order = (declared, meta, "utf-8")
    if declared == "cp1252":  # "ISO-8859-1" is a common server default: the page's meta, or valid UTF-8, knows better
        order = (meta, "utf-8", declared)
    candidates = list(dict.fromkeys(c for c in order if c))
    if candidates and candidates[0] in _LATIN and "utf-8" in candidates and not body.isascii():
        candidates.remove("utf-8")   # bytes that decode as UTF-8 are UTF-8, whatever a Western label says
        candidates.insert(0, "utf-8")
    for candidate in candidates:
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    for candidate in candidates:  # a few stray bytes in an otherwise right encoding
        text = body.decode(candidate, "replace")
        if text.count("\ufffd") <= len(body) // 1000:
            return text
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        guess = best.encoding if best else None
    except Exception:  # detection is best effort
        guess = None
    return body.decode(guess or declared or meta or "windows-1252", "replace")


def page_html(body: bytes | str | None, *, encoding: str | None, content_type: str | None,
              max_raw_bytes: int) -> str | Rejection:
    """The page as HTML text (NUL characters dropped), or why it is not an HTML page worth extracting.

    ``max_raw_bytes`` only guards against absurd bodies (the crawl's DOWNLOAD_MAXSIZE level): what extraction
    costs is capped on the page without its scripts (``monitor.extract.prune``)."""
    if body is None or (isinstance(body, (bytes, bytearray, memoryview)) and not bytes(body).strip()) \
            or (isinstance(body, str) and not body.strip()):
        return Rejection(RejectReason.EMPTY, "empty response body (the server sent nothing, or only whitespace)")
    media = _media_type(content_type)
    if media not in _HTML_TYPES and media not in _MAYBE_HTML_TYPES:
        return Rejection(RejectReason.NOT_HTML, f"Content-Type is {media!r}, not an HTML page; "
                                                "leave such links out of the source's URL patterns")
    if isinstance(body, str):
        size = len(body)   # characters: a lower bound of its bytes, enough for a guard against absurd bodies
    else:
        body = bytes(body)
        size = len(body)
        what = _sniff_binary(body)
        if what:
            return Rejection(RejectReason.NOT_HTML,
                             f"body is {what}, not HTML (Content-Type said {media or 'nothing'!r})")
    if max_raw_bytes and size > max_raw_bytes:
        return Rejection(RejectReason.TOO_LARGE, f"page is {size:,} bytes, above max_raw_bytes={max_raw_bytes:,} "
                         "(DOWNLOAD_MAXSIZE); not extracted")

    html = decode_body(body, encoding=encoding, content_type=content_type)
    if "\x00" in html:
        html = html.replace("\x00", "")
    feed = _FEED_ROOT.match(html[:4096])
    if feed:
        return Rejection(RejectReason.NOT_HTML, f"body is an XML <{feed.group(1)}> document (a feed or sitemap), "
                                                "not an article page")
    if not _MARKUP.search(html[:65536]):
        return Rejection(RejectReason.NOT_HTML, "body has no HTML markup in its first 64 KB (plain text or JSON?)")
    return html
