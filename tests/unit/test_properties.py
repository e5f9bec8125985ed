"""Property-based tests (hypothesis) for everything that reads input from outside (issue #5):

- the sources and topics parsers: any text, and TOML-ish text built from the real keys, gives parsed
  objects or ``SourcesError`` / ``TopicsError``, never another exception;
- extraction on arbitrary bytes (and arbitrary content types / encodings): an ``Article`` or a typed
  ``Rejection``, never an exception;
- the streaming sitemap reader and the feed reader on arbitrary and mangled XML: entries or a problem,
  bounded by their caps, never an exception (other than ``FeedError`` for an unreadable feed);
- ``Retry-After`` parsing on arbitrary header values.
(URL canonicalisation properties live in tests/test_urls.py.)
"""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from monitor.errors import SourcesError, TopicsError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])

# --------------------------------------------------------------------------- TOML-ish text

_SOURCE_KEYS = ["name", "url", "feeds", "sitemaps", "sections", "article_pattern", "language", "tags", "every",
                "description", "allowed_domains", "spider", "enabled", "unknown_key", "Name", "url "]
_TOPIC_KEYS = ["name", "query", "description", "other", "QUERY"]


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)   # a JSON string is a valid TOML basic string


_scalar = st.one_of(
    st.text(max_size=30).map(_toml_string),
    st.sampled_from(['"https://example.com/"', '"http://127.0.0.1:8080/feed.xml"', '"ftp://x/"', '"not a url"',
                     '"(["', '"^/news/\\\\d+"', '"30m"', '"0s"', '"-5h"', '"en"', '"english"', '"kk"',
                     '"monitor.crawl.spider.NewsSpider"', '"no dots"', '""', '" "']),
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("inf", "inf").lower()),
    st.sampled_from(["true", "false", "nan", "inf", "1979-05-27T07:32:00Z", "{}", '{ a = 1 }']),
)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"))


def _tables(header: str, keys: list[str]):
    pair = st.tuples(st.one_of(st.sampled_from(keys), st.text(alphabet=string.ascii_letters + "_-", min_size=1,
                                                               max_size=10)), _value)
    table = st.lists(pair, max_size=8).map(lambda ps: header + "\n" + "\n".join(f"{k} = {v}" for k, v in ps))
    return st.lists(table, max_size=4).map("\n\n".join)


def _mangled(text_strategy):
    """Valid-looking documents, sometimes cut or with a junk line spliced in."""
    return st.tuples(text_strategy, st.integers(min_value=0, max_value=400), st.sampled_from(
        ["", "[[", "]]", "= 1", "\x00", "name = ", "[source]", "source = 1", "[[topic]]\n", '"""', "\ufeff"])).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:] if t[1] % 3 else t[0])


@FAST
@given(st.one_of(st.text(max_size=300), _mangled(_tables("[[source]]", _SOURCE_KEYS))))
@example('[[source]]\nname = "ok"\nurl = "https://example.com/"\n')
@example('[[source]]\nname = "a"\nurl = "https://a.example/"\narticle_pattern = "(["\n')
@example("source = 5")
def test_sources_parser_raises_only_sources_error(text):
    from monitor.sources.catalogue import parse_sources

    try:
        sources = parse_sources(text, path="prop.toml")
    except SourcesError as exc:
        assert str(exc)   # a message a person can read
        return
    for s in sources:
        assert s.name and s.url.startswith(("http://", "https://"))
        assert s.domain


@FAST
@given(st.one_of(st.text(max_size=300), _mangled(_tables("[[topic]]", _TOPIC_KEYS))))
@example('[[topic]]\nname = "kz"\nquery = "kazakhstan*"\n')
@example('[[topic]]\nname = "bad"\nquery = "AND ("\n')
@example('[[topic]]\nname = "us"\nquery = "\\"united states\\" OR NEAR(a b, -1)"\n')
def test_topics_parser_raises_only_topics_error(text):
    from monitor.topics import fts_query_error, parse_topics

    try:
        topics = parse_topics(text, path="prop.toml")
    except TopicsError as exc:
        assert str(exc)
        return
    for t in topics:
        assert t.name and fts_query_error(t.query) is None   # every accepted query is valid FTS5


# --------------------------------------------------------------------------- extraction on arbitrary bytes

_HTMLISH = st.lists(st.sampled_from([
    b"<html>", b"<head>", b"<meta charset='koi8-r'>", b"<meta charset=utf-16>", b"<meta charset=bogus>",
    b"<title>", b"</title>", b"<body>", b"<article>", b"<p>", b"</p>", b"<script>", b"<!--", b"-->",
    b"<![CDATA[", b"]]>", b"<!DOCTYPE html>", b"&amp;", b"&#0;", b"&#xD800;", b"&lol;", b"\x00", b"\xff\xfe",
    b"\xef\xbb\xbf", b"\xd0\x9a\xd0\xb0\xd0\xb7", b"\xca\xc1\xda", b"<div" * 3, b"</div>" * 3,
    b"<script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":", b"}</script>",
    b"<meta property='og:type' content='article'>", b"Kazakhstan and the United States " * 10,
    b"\xf0\x9f\x87\xb0\xf0\x9f\x87\xbf", b"\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
]), max_size=40).map(b"".join)


@SLOW
@given(body=st.one_of(st.binary(max_size=3000), _HTMLISH),
       content_type=st.one_of(st.none(), st.sampled_from([
           "text/html", "text/html; charset=utf-8", "text/html; charset=koi8-r", "text/html; charset=bogus",
           "text/html; charset=", "application/pdf", "image/png", "text/plain", "application/octet-stream", "",
           "text/html; charset=utf-16", "*/*"]), st.text(max_size=40)),
       encoding=st.one_of(st.none(), st.sampled_from(["utf-8", "cp1251", "koi8-r", "latin-1", "bogus", "utf-16"])))
@example(body=b"", content_type="text/html", encoding=None)
@example(body=b"%PDF-1.4 ...", content_type="text/html", encoding=None)
@example(body=b"<div>" * 5000, content_type="text/html", encoding=None)
def test_extraction_never_raises_on_arbitrary_bytes(body, content_type, encoding):
    from monitor.extract import Article, RejectReason, Rejection, extract_article

    result = extract_article(body, "https://example.com/news/1/", encoding=encoding, content_type=content_type,
                             max_bytes=100_000)
    assert isinstance(result, (Article, Rejection))
    if isinstance(result, Rejection):
        assert isinstance(result.reason, RejectReason) and result.detail
    else:
        assert result.text and "\x00" not in result.text


# --------------------------------------------------------------------------- sitemaps and feeds

_SITEMAP_PARTS = st.lists(st.sampled_from([
    b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="koi8-r"?>',
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', b"</urlset>", b"<sitemapindex>",
    b"</sitemapindex>", b"<url>", b"</url>", b"<sitemap>", b"</sitemap>", b"<loc>", b"</loc>",
    b"https://example.com/a/", b"/relative/", b"//example.com/p/", b"<lastmod>2026-01-01</lastmod>",
    b"<news:news><news:title>T</news:title></news:news>", b"&amp;", b"&", b"&xxe;", b"<!-- c -->", b"\x00",
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', b"&b;",
    b"\x1f\x8b", b"\xef\xbb\xbf", b"<url><loc>https://example.com/x/</loc></url>" * 5,
]), max_size=40).map(b"".join)


@SLOW
@given(body=st.one_of(st.binary(max_size=2000), _SITEMAP_PARTS), chunk=st.integers(min_value=1, max_value=64),
       gzipped=st.booleans(), max_urls=st.integers(min_value=1, max_value=10))
def test_sitemap_stream_never_raises_and_respects_caps(body, chunk, gzipped, max_urls):
    import gzip

    from monitor.crawl.sitemaps import SitemapStream

    if gzipped:
        body = gzip.compress(body)
    stream = SitemapStream(max_bytes=1500, max_urls=max_urls)
    for i in range(0, len(body), chunk):
        if stream.feed(body[i:i + chunk]):
            break
    stream.close()
    assert len(stream.entries) <= max_urls
    assert stream.xml_bytes <= 1500
    for kind, loc, _lastmod, news in stream.entries:
        assert kind in ("url", "sitemap") and loc and isinstance(news, dict)
        assert "root:" not in loc   # external entities are never read
    assert stream.problem is None or isinstance(stream.problem, str)
    # the same bytes in one piece give the same entries (chunking never changes what is read) when the XML is
    # well-formed; on malformed XML libxml2's push parser may see the error at another place, or not at all,
    # depending on the chunks (b'<A A="">&:;<url><loc>http://!</loc></url>' fed a byte at a time: one entry,
    # no error; in one piece: the error, no entry)
    whole = SitemapStream.read(body, max_bytes=1500, max_urls=max_urls)
    if whole.problem is None and stream.problem is None:
        assert [e[1] for e in whole.entries] == [e[1] for e in stream.entries]


@SLOW
@given(st.one_of(st.binary(max_size=2000), _SITEMAP_PARTS.map(lambda b: b.replace(b"urlset", b"rss")),
                 st.lists(st.sampled_from([b"<rss version='2.0'>", b"<channel>", b"<item>", b"<link>",
                                           b"https://example.com/a/", b"</link>", b"</item>", b"</channel>",
                                           b"</rss>", b"<title>&xxe;</title>", b"<feed>", b"<entry>",
                                           b"{\"items\": [", b"{\"url\": 5}", b"]}", b"&", b"\x00"]),
                          max_size=30).map(b"".join)))
def test_feed_reader_raises_only_feed_error(body):
    from monitor.crawl.discovery import FeedError, read_feed

    try:
        entries, problem = read_feed(body, "https://example.com/feed.xml")
    except FeedError as exc:
        assert str(exc)
        return
    assert problem is None or isinstance(problem, str)
    for link, hints in entries:
        assert isinstance(link, str) and isinstance(hints, dict)


# --------------------------------------------------------------------------- Retry-After

@FAST
@given(st.one_of(st.none(), st.text(max_size=40), st.binary(max_size=40), st.sampled_from(["²", "٣", "１２"]),
                 st.integers(min_value=0, max_value=10**9).map(str),
                 st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))))
def test_retry_after_parser(value):
    from monitor.crawl.middlewares import parse_retry_after

    delay = parse_retry_after(value)
    assert delay is None or delay >= 0
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        assert delay == float(value.strip())


@given(st.text(alphabet=string.digits, min_size=1, max_size=12))
def test_retry_after_seconds_roundtrip(digits):
    from monitor.crawl.middlewares import parse_retry_after

    assume(digits.strip())
    assert parse_retry_after(digits) == float(digits)
