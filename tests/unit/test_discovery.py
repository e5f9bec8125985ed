"""monitor.crawl.discovery: the one host check (`on_site`) and the page links of the spider and `monitor sources check`."""

from __future__ import annotations

import pytest

from monitor.crawl.discovery import alternate_feeds, on_site, page_links

DOMAINS = ("example.com", "cdn.example.org")


@pytest.mark.parametrize("url, expected", [
    ("https://example.com/news/1", True),
    ("http://EXAMPLE.com:8080/news/1", True),          # host compared lower-case, port ignored
    ("https://www.example.com/a", True),               # below a domain
    ("https://img.cdn.example.org/a.jpg", True),
    ("https://notexample.com/a", False),               # a suffix of the name is not a subdomain
    ("https://example.com.evil.net/a", False),
    ("https://example.org/a", False),
    ("ftp://example.com/a", False),                    # only http(s)
    ("mailto:someone@example.com", False),
    ("/relative/path", False),                         # absolute URLs only
    ("https://[::1/broken", False),                    # urlsplit raises ValueError
    ("", False),
])
def test_on_site(url, expected):
    assert on_site(url, DOMAINS) is expected


def test_no_domains_no_site():
    assert on_site("https://example.com/", ()) is False


def test_page_links_and_alternate_feeds_read_one_page_alike():
    html = ('<html><head><base href="https://cdn.example.com/en/">'
            '<link rel="alternate" type="application/rss+xml" href="feed.xml">'
            '<link rel="alternate" type="application/rss+xml" href="/comments/feed">'
            '<link rel="stylesheet" href="site.css"></head><body>'
            '<a href="story-1#top">1</a><a href="/story-2">2</a><a href="story-1">again</a><a href="#x">x</a>'
            '<a href="mailto:a@example.com">m</a><a href="ftp://example.com/f">f</a><a href="  ">blank</a>'
            '</body></html>')
    assert page_links(html, "https://example.com/") == ["https://cdn.example.com/en/story-1",
                                                       "https://cdn.example.com/story-2"]
    assert alternate_feeds(html, "https://example.com/") == ["https://cdn.example.com/en/feed.xml"]
    for nothing in ("", "   ", b""):
        assert page_links(nothing, "https://example.com/") == [] == alternate_feeds(nothing, "https://example.com/")
