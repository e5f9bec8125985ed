"""monitor.crawl.sitemaps: sitemaps read while they download, bounded, safe (unit tests; the crawl-level
behaviour is in tests/test_reliability.py)."""

from __future__ import annotations

import gzip
import zlib

from monitor.crawl.sitemaps import SitemapStream
from tests.support.sites.hostile import BILLION_LAUGHS_DTD, XXE_DTD, urlset
from tests.support.sites.huge import sitemap_chunks

LOCS = [f"https://example.com/news/{i}/" for i in range(10)]


def _feed(stream: SitemapStream, data: bytes, size: int = 7) -> SitemapStream:
    for i in range(0, len(data), size):
        if stream.feed(data[i:i + size]):
            break
    return stream.close()


def test_plain_and_gzip_read_alike_in_any_chunking():
    body = urlset(LOCS).encode()
    for data in (body, gzip.compress(body)):
        for size in (1, 7, 4096):
            s = _feed(SitemapStream(), data, size)
            assert [e[1] for e in s.entries] == LOCS and s.problem is None and s.gzipped == (data != body)


def test_url_cap_stops_the_download_early():
    s = SitemapStream(max_urls=500)
    fed = 0
    for chunk in sitemap_chunks("https://example.com", 2_300_000):   # a 200 MB sitemap
        fed += len(chunk)
        if s.feed(chunk):
            break
    s.close()
    assert len(s.entries) == 500 and s.stopped == "max_urls" and fed < 200_000
    assert s.problem is None   # a cap on purpose, not a problem of the file


def test_byte_cap_and_gzip_bomb():
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = comp.compress(urlset(LOCS[:1]).encode().replace(b"</urlset>", b""))
    pad = b"<!-- " + b"x" * (1 << 20) + b" -->"
    for _ in range(200):                                   # 200 MB of XML in ~200 KB of gzip
        bomb += comp.compress(pad)
    bomb += comp.flush()
    s = _feed(SitemapStream(max_bytes=5 << 20), bomb, 64 * 1024)
    assert s.stopped == "max_bytes" and s.xml_bytes == 5 << 20
    assert [e[1] for e in s.entries] == LOCS[:1] and "MONITOR_SITEMAP_MAX_BYTES" in s.problem


def test_truncated_and_malformed_keep_what_came_before():
    body = urlset(LOCS).encode()
    cut = body.index(LOCS[4].encode()) + 5
    s = SitemapStream.read(body[:cut])
    assert [e[1] for e in s.entries] == LOCS[:4] and "4 entries read" in s.problem
    broken = body.replace(b"<url><loc>" + LOCS[6].encode(), b"<url><loc>a & b</lox>")
    s = SitemapStream.read(broken)
    assert [e[1] for e in s.entries] == LOCS[:6] and "malformed" in s.problem
    s = SitemapStream.read(gzip.compress(body)[:40])
    assert s.problem and "gzip" in s.problem


def test_entity_bomb_refused_external_entity_not_read():
    bomb = ('<?xml version="1.0"?>\n' + BILLION_LAUGHS_DTD
            + urlset(LOCS[:1]).split("?>", 1)[1].replace("2026-11-20", "&lol9;")).encode()
    s = SitemapStream.read(bomb)
    assert s.entries == [] and "entity bomb" in s.problem
    xxe = ('<?xml version="1.0"?>\n' + XXE_DTD + urlset([LOCS[0] + "&xxe;"]).split("?>", 1)[1]).encode()
    xxe = xxe.replace(b"&amp;xxe;", b"&xxe;")
    s = SitemapStream.read(xxe)
    assert [e[1] for e in s.entries] == [LOCS[0]]


def test_empty_and_not_xml():
    assert "empty" in SitemapStream.read(b"").problem
    assert "malformed" in SitemapStream.read(b"<html><body>Not found</body>").problem
    assert SitemapStream.read(b"<html><body>Not found</body></html>").entries == []


def test_an_entry_cut_off_is_never_an_entry():
    """lxml 6.2 hands over the element it was inside when the data ended, with the part of <loc> that came:
    neither a bare scheme nor a plausible-looking URL cut in its path may become an entry."""
    body = urlset(LOCS).encode()
    start = body.index(LOCS[3].encode())
    for cut in (start + 5, start + len("https://example.com/ne"), start + len(LOCS[3]),
                start + len(LOCS[3]) + len("</loc>")):
        for size in (7, 1 << 20):
            s = _feed(SitemapStream(), body[:cut], size)
            assert [e[1] for e in s.entries] == LOCS[:3], (cut, size)
            assert "3 entries read" in s.problem
    # cut right after an entry's closing tag: that entry is whole and kept
    whole = body.index(b"</url>", start) + len(b"</url>")
    assert [e[1] for e in SitemapStream.read(body[:whole]).entries] == LOCS[:4]


def test_only_http_urls_or_relative_paths_are_entries():
    odd = ["https", "a", "javascript:alert(1)", "ftp://example.com/x", "http://", "//"]
    s = SitemapStream.read(urlset([*odd, "/news/rel/", "//example.com/news/proto/", LOCS[0]]).encode())
    assert [e[1] for e in s.entries] == ["/news/rel/", "//example.com/news/proto/", LOCS[0]]
