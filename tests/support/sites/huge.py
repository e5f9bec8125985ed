"""Huge responses produced on the fly (benchmarks, size-limit tests): a sitemap of any size never sits in
memory on the server side, gzipped or not."""

from __future__ import annotations

from collections.abc import Iterator

from tests.support.fixtureserver import GZIP, XML, Resource, gzip_stream, stream

_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
_TAIL = b"</urlset>\n"


def _entry(base: str, i: int) -> bytes:
    return (f"  <url><loc>{base}/archive/{i // 1000}/story-{i}/</loc>"
            f"<lastmod>2026-01-{1 + i % 28:02d}</lastmod></url>\n").encode()


def sitemap_chunks(base_url: str, n_urls: int, batch: int = 500) -> Iterator[bytes]:
    """The sitemap as ~50 KB chunks: ``n_urls`` entries pointing at ``/archive/<k>/story-<i>/``."""
    base = base_url.rstrip("/")
    yield _HEAD
    for start in range(0, n_urls, batch):
        yield b"".join(_entry(base, i) for i in range(start, min(n_urls, start + batch)))
    yield _TAIL


def sitemap_size(base_url: str, n_urls: int) -> int:
    """Exact byte size of the uncompressed sitemap (for Content-Length or size-limit tests)."""
    base = base_url.rstrip("/")
    return len(_HEAD) + len(_TAIL) + sum(len(_entry(base, i)) for i in range(n_urls))


def huge_sitemap(base_url: str, n_urls: int, *, gzip: bool = False, with_length: bool = False) -> Resource:
    """A streamed urlset (chunked; ``with_length`` sends Content-Length instead); ``gzip``: a ``.xml.gz``
    body compressed on the fly.  About 90 bytes per URL: 2.3 million URLs make a 200 MB sitemap."""
    if gzip:
        return stream(lambda: gzip_stream(sitemap_chunks(base_url, n_urls)), GZIP)
    length = sitemap_size(base_url, n_urls) if with_length else None
    return stream(lambda: sitemap_chunks(base_url, n_urls), XML, length=length)
