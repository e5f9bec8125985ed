"""Feeds (RSS 2.0, Atom, RDF/RSS 1.0, JSON Feed), sitemaps (urlset, sitemapindex, Google News) and robots.txt
for fixture sites, written by hand so tests control every field a crawler reads."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from tests.support.fixtureserver import ATOM, JSON_FEED, RDF, RSS
from tests.support.sites.common import ExpectedArticle

# kind -> (path, Content-Type, MIME type for <link rel=alternate>)
FEED_KINDS = {
    "rss2": ("/feed/", RSS, "application/rss+xml"),
    "atom": ("/feed/atom/", ATOM, "application/atom+xml"),
    "rdf": ("/feed/rdf/", RDF, "application/rdf+xml"),
    "json": ("/feed.json", JSON_FEED, "application/feed+json"),
}
SITEMAP_KINDS = ("index", "urlset", "gnews")


@dataclass(frozen=True)
class Channel:
    title: str
    home: str  # absolute home URL
    feed_url: str
    description: str
    language: str
    updated: datetime


def _summary(a: ExpectedArticle, limit: int = 200) -> str:
    first = a.body.split("\n\n", 1)[0]
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + "…"


def _dt(a: ExpectedArticle) -> datetime:
    return datetime.fromisoformat(a.published)


def rss2(ch: Channel, articles: Iterable[ExpectedArticle]) -> str:
    items = []
    for a in articles:
        cats = "".join(f"<category>{escape(t)}</category>" for t in a.tags)
        items.append(f"""  <item>
    <title>{escape(a.title)}</title>
    <link>{escape(a.url)}</link>
    <guid isPermaLink="true">{escape(a.url)}</guid>
    <pubDate>{email.utils.format_datetime(_dt(a))}</pubDate>
    <dc:creator>{escape(a.author)}</dc:creator>
    {cats}
    <description>{escape(_summary(a))}</description>
  </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>{escape(ch.title)}</title>
  <link>{escape(ch.home)}</link>
  <description>{escape(ch.description)}</description>
  <language>{ch.language}</language>
  <lastBuildDate>{email.utils.format_datetime(ch.updated)}</lastBuildDate>
  <atom:link href={quoteattr(ch.feed_url)} rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""


def atom(ch: Channel, articles: Iterable[ExpectedArticle]) -> str:
    entries = []
    for a in articles:
        cats = "".join(f"<category term={quoteattr(t)}/>" for t in a.tags)
        entries.append(f"""  <entry>
    <title>{escape(a.title)}</title>
    <link rel="alternate" type="text/html" href={quoteattr(a.url)}/>
    <id>{escape(a.url)}</id>
    <published>{a.published}</published>
    <updated>{a.published}</updated>
    <author><name>{escape(a.author)}</name></author>
    {cats}
    <summary>{escape(_summary(a))}</summary>
  </entry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{ch.language}">
  <title>{escape(ch.title)}</title>
  <subtitle>{escape(ch.description)}</subtitle>
  <id>{escape(ch.home)}</id>
  <link rel="self" type="application/atom+xml" href={quoteattr(ch.feed_url)}/>
  <link rel="alternate" type="text/html" href={quoteattr(ch.home)}/>
  <updated>{ch.updated.isoformat(timespec="seconds")}</updated>
{chr(10).join(entries)}
</feed>
"""


def rdf(ch: Channel, articles: Iterable[ExpectedArticle]) -> str:
    articles = list(articles)
    seq = "\n".join(f"        <rdf:li rdf:resource={quoteattr(a.url)}/>" for a in articles)
    items = "\n".join(f"""  <item rdf:about={quoteattr(a.url)}>
    <title>{escape(a.title)}</title>
    <link>{escape(a.url)}</link>
    <description>{escape(_summary(a))}</description>
    <dc:date>{a.published}</dc:date>
    <dc:creator>{escape(a.author)}</dc:creator>
    <dc:language>{a.language}</dc:language>
  </item>""" for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about={quoteattr(ch.feed_url)}>
    <title>{escape(ch.title)}</title>
    <link>{escape(ch.home)}</link>
    <description>{escape(ch.description)}</description>
    <dc:language>{ch.language}</dc:language>
    <items>
      <rdf:Seq>
{seq}
      </rdf:Seq>
    </items>
  </channel>
{items}
</rdf:RDF>
"""


def json_feed(ch: Channel, articles: Iterable[ExpectedArticle]) -> str:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": ch.title, "home_page_url": ch.home,
        "feed_url": ch.feed_url, "description": ch.description, "language": ch.language,
        "items": [{"id": a.url, "url": a.url, "title": a.title, "summary": _summary(a),
                   "date_published": a.published, "authors": [{"name": a.author}], "tags": list(a.tags),
                   "language": a.language, **({"image": a.image} if a.image else {})} for a in articles],
    }, ensure_ascii=False, indent=1)


FEED_RENDERERS = {"rss2": rss2, "atom": atom, "rdf": rdf, "json": json_feed}


def urlset(entries: Iterable[tuple[str, str | None]], alternates: dict[str, list[tuple[str, str]]] | None = None
           ) -> str:
    """A plain sitemap; ``alternates`` maps a URL to its (hreflang, url) editions (xhtml:link)."""
    rows = []
    for loc, lastmod in entries:
        extra = f"\n    <lastmod>{lastmod}</lastmod>" if lastmod else ""
        for lang, href in (alternates or {}).get(loc, []):
            extra += f'\n    <xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(href)}/>'
        rows.append(f"  <url>\n    <loc>{escape(loc)}</loc>{extra}\n  </url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
            + "\n".join(rows) + "\n</urlset>\n")


def sitemap_index(entries: Iterable[tuple[str, str | None]]) -> str:
    rows = []
    for loc, lastmod in entries:
        extra = f"\n    <lastmod>{lastmod}</lastmod>" if lastmod else ""
        rows.append(f"  <sitemap>\n    <loc>{escape(loc)}</loc>{extra}\n  </sitemap>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</sitemapindex>\n")


def news_sitemap(articles: Iterable[ExpectedArticle], publication: str) -> str:
    """A Google News sitemap: publication name/language, publication_date and title per URL."""
    rows = []
    for a in articles:
        rows.append(f"""  <url>
    <loc>{escape(a.url)}</loc>
    <news:news>
      <news:publication>
        <news:name>{escape(publication)}</news:name>
        <news:language>{a.language}</news:language>
      </news:publication>
      <news:publication_date>{a.published}</news:publication_date>
      <news:title>{escape(a.title)}</news:title>
      <news:keywords>{escape(", ".join(a.tags))}</news:keywords>
    </news:news>
  </url>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
            '        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n")


def robots_txt(disallow: Iterable[str], sitemaps: Iterable[str]) -> str:
    lines = ["# fixture site", "User-agent: *"]
    rules = list(disallow)
    lines += [f"Disallow: {d}" for d in rules] or ["Disallow:"]
    lines.append("")
    lines += [f"Sitemap: {s}" for s in sitemaps]
    return "\n".join(lines) + "\n"
