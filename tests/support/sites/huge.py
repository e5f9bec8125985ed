"""Huge responses produced on the fly (benchmarks, size-limit tests): a sitemap of any size never sits in
memory on the server side, gzipped or not; big article pages, some only big in script (kept), some costly to
parse (refused)."""

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


# --- big article pages (issue 14): what costs extraction and what only looks big ---------------------------

def script_heavy_page(title: str, paragraphs: list[str], total_bytes: int = 3 * 1024 * 1024) -> bytes:
    """An ordinary article page blown up to ``total_bytes`` by inline ``<script>`` state and code (about 90 % of
    it), as big US news sites serve them: a hydration blob with other stories' teasers, many small scripts,
    an inline style sheet."""
    import json

    from tests.support.sites.hostile import article_html

    page = article_html(title, paragraphs)
    style = "<style>" + ".grid .card{margin:0 auto;padding:4px}" * 2000 + "</style>"
    room = total_bytes - len(page.encode()) - len(style)
    items, size, i = [], 0, 0
    while size < room * 0.75:
        item = {"id": i, "headline": f"Another story number {i}", "teaser": "teaser words for the grid " * 12}
        size += len(json.dumps(item)) + 2
        items.append(item)
        i += 1
    blob = f"<script>window.__INITIAL_STATE__ = {json.dumps({'stories': items})};</script>"
    code = "<script>(function(){var w=window;w.track&&w.track('<p>not text</p>');})();</script>\n"
    extra = blob + code * (max(0, room - len(blob)) // len(code) + 1)
    return page.replace("</head>", extra + style + "</head>", 1).encode()


def pathological_pages(total_bytes: int = 3 * 1024 * 1024) -> dict[str, bytes]:
    """Pages whose cost is real (name -> body): a huge table, deep nesting, one giant text node, a paragraph
    of tens of thousands of ``<span>``.  Each must end as a recorded error, not a stuck worker."""
    head = b"<!DOCTYPE html><html><head><title>Big page</title><meta property='og:type' content='article'></head>" \
           b"<body><main><article><h1>Big page</h1>"
    tail = b"</article></main></body></html>"
    row = b"<tr>" + b"<td>cell value</td>" * 10 + b"</tr>"
    depth = 60_000
    return {
        "huge-table": head + b"<table>" + row * (total_bytes // len(row)) + b"</table>" + tail,
        "deep-nesting": head + b"<div>" * depth + b"deep" + b"</div>" * depth + tail,
        "text-node": head + b"<p>" + b"word " * (total_bytes // 5) + b"</p>" + tail,
        "span-bomb": head + b"<p>" + b"<span>w</span> " * 40_000 + b"</p>" + tail,
    }
