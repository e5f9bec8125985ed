"""Fixture news sites served by ``tests.support.fixtureserver``: builders return a ``NewsSite`` (a mapping
path -> Resource) plus what a correct crawl should store (``articles``), skip (``non_articles``) and never
fetch (``disallowed``).

- ``newssite.build_news_site(base_url, ...)``: home, paginated sections, articles, tag/author/about/archive
  pages, RSS 2.0/Atom/RDF/JSON feeds, sitemaps (index, urlset, Google News, gzipped) and robots.txt.
- ``multilang.build_multilang_site(base_url)``: one story in en/pl/de/ru editions (hreflang, same og:image).
- ``huge.huge_sitemap(base_url, n_urls, gzip=False)``: a streamed sitemap of any size.
"""

from tests.support.sites.common import ExpectedArticle, NewsSite
from tests.support.sites.huge import huge_sitemap
from tests.support.sites.multilang import build_multilang_site
from tests.support.sites.newssite import build_news_site

__all__ = ["ExpectedArticle", "NewsSite", "build_multilang_site", "build_news_site", "huge_sitemap"]
