"""Small fixture sites shaped like the catalogue's kinds of site, for `monitor sources check` tests.

Each builder takes the server's base URL and returns ``(resources, source_entry)``: a dict path -> Resource
for ``FixtureServer.site.update`` and the ``[[source]]`` dict a catalogue would hold for that site.

- ``wordpress_site``: ``/feed/`` announced on the home page, ``/wp-sitemap.xml`` index (posts, categories,
  users) listed in robots.txt, ``/sitemap.xml`` redirecting to it; the source declares the feed only.
- ``gnews_site``: only a Google News sitemap, named in robots.txt; the source declares nothing.
- ``links_site``: no feed, no sitemap (``/sitemap.xml`` is a soft-404 HTML page); articles are reachable
  only by links and say ``og:type=article``; the source declares nothing.
- ``broken_site``: home page 500, declared feed 404.
- ``forbidden_site``: robots.txt disallows everything; the feed and pages would work.
"""

from __future__ import annotations

import html
import random
from datetime import datetime, timedelta, timezone

from tests.support.fixtureserver import RSS, XML, Resource, error, redirect

_WORDS = (
    "Astana Washington delegation minister agreement uranium grain pipeline Caspian investment sanctions "
    "embassy trade corridor railway election parliament reform steppe harvest drought tariff treaty summit "
    "negotiators envoy consortium refinery wheat exports logistics customs border satellite launch Baikonur "
    "students scholarship university hospital vaccine inflation tenge budget bank regulator court ruling "
    "journalists newspaper broadcaster festival museum archive mountains glacier river reservoir irrigation "
    "farmers cattle wind solar turbines copper zinc lithium miners union wages strike airport airline route "
    "visa tourists hotel exhibition orchestra football stadium marathon athletes coach champion province "
    "governor mayor council district village school teachers textbook language census survey households").split()
_VERBS = ("announced", "signed", "discussed", "rejected", "approved", "reported", "expanded", "delayed",
          "reviewed", "welcomed", "criticised", "financed", "inspected", "proposed", "completed", "postponed")


def article_text(seed: int, paragraphs: int = 5) -> tuple[str, list[str]]:
    """A distinct pseudo-article (title, paragraphs) for a seed: random sentences from a word list."""
    rnd = random.Random(seed)

    def sentence() -> str:
        words = [rnd.choice(_WORDS) for _ in range(rnd.randint(9, 16))]
        words.insert(rnd.randint(2, len(words) - 2), rnd.choice(_VERBS))
        return " ".join(words).capitalize() + "."

    title = " ".join(rnd.choice(_WORDS) for _ in range(6)).capitalize()
    paras = [" ".join(sentence() for _ in range(rnd.randint(3, 5))) for _ in range(paragraphs)]
    return title, paras


def published(i: int) -> datetime:
    return datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc) - timedelta(days=i)


def article_page(url: str, seed: int, when: datetime, *, site: str, og_article: bool = True) -> str:
    title, paras = article_text(seed)
    og = '<meta property="og:type" content="article">' if og_article else ""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {site}</title>{og}
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{when.isoformat()}">
<link rel="canonical" href="{url}"></head>
<body><header><nav><a href="/">Home</a> <a href="/about/">About us</a></nav></header>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By Staff, {when:%d %B %Y}</p>{body}</article></main>
<footer>&copy; 2026 {site}. All rights reserved.</footer></body></html>"""


def home_page(site: str, links: list[tuple[str, str]], head: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{site}</title>{head}</head>
<body><header><nav><a href="/">Home</a> <a href="/about/">About us</a> <a href="/contact/">Contact</a></nav>
</header><main><h1>{site}</h1><ul>{items}</ul></main><footer>&copy; 2026 {site}</footer></body></html>"""


def simple_page(site: str, title: str, text: str) -> str:
    return (f'<!doctype html><html lang="en"><head><title>{title} | {site}</title></head>'
            f"<body><h1>{title}</h1><p>{html.escape(text)}</p></body></html>")


def rss(base: str, site: str, items: list[tuple[str, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{base}{p}</link>"
        f"<pubDate>{d.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate><guid>{base}{p}</guid></item>"
        for p, t, d in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{site}</title>'
            f"<link>{base}/</link><description>{site}</description><language>en</language>{entries}"
            "</channel></rss>")


def urlset(base: str, paths: list[tuple[str, datetime | None]]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc>" + (f"<lastmod>{d.isoformat()}</lastmod>" if d else "") + "</url>"
                   for p, d in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def sitemap_index(base: str, paths: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>" for p in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>')


def gnews_sitemap(base: str, site: str, items: list[tuple[str, str, datetime]]) -> str:
    urls = "".join(
        f"<url><loc>{base}{p}</loc><news:news><news:publication><news:name>{site}</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{d.isoformat()}</news:publication_date>"
        f"<news:title>{html.escape(t)}</news:title></news:news></url>" for p, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')


def _articles(base: str, site: str, seed0: int, paths: list[str], resources: dict) -> list[tuple[str, str, datetime]]:
    out = []
    for i, path in enumerate(paths):
        when = published(i)
        resources[path] = Resource(article_page(base + path, seed0 + i, when, site=site))
        out.append((path, article_text(seed0 + i)[0], when))
    return out


def wordpress_site(base: str, name: str = "wp", n: int = 4) -> tuple[dict, dict]:
    site = "Steppe Times"
    res: dict = {}
    paths = [f"/2026/03/{name}-story-{i}-about-the-new-railway-corridor/" for i in range(n)]
    items = _articles(base, site, 100, paths, res)
    head = (f'<link rel="alternate" type="application/rss+xml" title="{site} Feed" href="{base}/feed/">'
            f'<link rel="alternate" type="application/rss+xml" title="Comments" href="{base}/comments/feed/">')
    res["/"] = Resource(home_page(site, [(p, t) for p, t, _ in items] + [("/category/news/", "News")], head))
    res["/robots.txt"] = Resource(f"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
                                  f"Sitemap: {base}/wp-sitemap.xml\n", content_type="text/plain")
    res["/feed/"] = Resource(rss(base, site, items), content_type=RSS)
    res["/comments/feed/"] = Resource(rss(base, site + " comments", []), content_type=RSS)
    res["/wp-sitemap.xml"] = Resource(sitemap_index(base, ["/wp-sitemap-posts-post-1.xml",
                                                           "/wp-sitemap-taxonomies-category-1.xml",
                                                           "/wp-sitemap-users-1.xml"]), content_type=XML)
    res["/wp-sitemap-posts-post-1.xml"] = Resource(urlset(base, [(p, d) for p, _, d in items]), content_type=XML)
    res["/wp-sitemap-taxonomies-category-1.xml"] = Resource(urlset(base, [("/category/news/", None)]),
                                                            content_type=XML)
    res["/wp-sitemap-users-1.xml"] = Resource(urlset(base, [("/author/staff/", None)]), content_type=XML)
    res["/sitemap.xml"] = redirect("/wp-sitemap.xml")
    res["/category/news/"] = Resource(home_page(site + ": News", [(p, t) for p, t, _ in items]))
    res["/about/"] = Resource(simple_page(site, "About us", "A newspaper."))
    entry = {"name": name, "url": base + "/", "feeds": [base + "/feed/"], "language": "en", "tags": ["kz"],
             "description": "WordPress-like fixture: feed declared, sitemaps left to discovery"}
    return res, entry


def gnews_site(base: str, name: str = "gnews", n: int = 4) -> tuple[dict, dict]:
    site = "Caspian Wire"
    res: dict = {}
    paths = [f"/news/{5000 + i}-{name}-wire-report-on-caspian-trade/" for i in range(n)]
    items = _articles(base, site, 200, paths, res)
    res["/"] = Resource(home_page(site, [(p, t) for p, t, _ in items]))
    res["/robots.txt"] = Resource(f"User-agent: *\nDisallow: /search\nSitemap: {base}/sitemaps/news.xml\n",
                                  content_type="text/plain")
    res["/sitemaps/news.xml"] = Resource(gnews_sitemap(base, site, items), content_type=XML)
    entry = {"name": name, "url": base + "/", "language": "en", "tags": ["regional"],
             "description": "Google News sitemap only, named in robots.txt"}
    return res, entry


def links_site(base: str, name: str = "links", n: int = 4) -> tuple[dict, dict]:
    site = "Dala Review"
    res: dict = {}
    paths = [f"/stories/{name}-long-read-on-steppe-farming-{i}" for i in range(n)]
    items = _articles(base, site, 300, paths, res)
    # a hyphenated page that is no article: the check must skip it, as the crawler does
    res["/pages/terms-of-use-and-privacy-notice"] = Resource(simple_page(site, "Terms", "Terms of use."))
    links = [("/pages/terms-of-use-and-privacy-notice", "Terms")] + [(p, t) for p, t, _ in items[:2]] \
        + [("/section/farming/", "Farming"), ("/about/", "About")]
    res["/"] = Resource(home_page(site, links))
    res["/section/farming/"] = Resource(home_page(site + ": Farming", [(p, t) for p, t, _ in items]))
    res["/about/"] = Resource(simple_page(site, "About us", "A magazine."))
    res["/sitemap.xml"] = Resource(simple_page(site, "Not found", "This page does not exist."))  # soft 404
    entry = {"name": name, "url": base + "/", "language": "en", "tags": ["kz"],
             "description": "no feed, no sitemap: articles only by links"}
    return res, entry


def broken_site(base: str, name: str = "broken") -> tuple[dict, dict]:
    res = {"/": error(500), "/feed/": error(404)}
    entry = {"name": name, "url": base + "/", "feeds": [base + "/feed/"], "language": "en", "tags": ["kz"],
             "description": "home page 500, declared feed 404"}
    return res, entry


def forbidden_site(base: str, name: str = "forbidden") -> tuple[dict, dict]:
    site = "Closed Gazette"
    res: dict = {}
    items = _articles(base, site, 400, ["/2026/03/closed-story-about-the-grain-harvest/"], res)
    res["/"] = Resource(home_page(site, [(p, t) for p, t, _ in items]))
    res["/feed/"] = Resource(rss(base, site, items), content_type=RSS)
    res["/robots.txt"] = Resource("User-agent: *\nDisallow: /\n", content_type="text/plain")
    entry = {"name": name, "url": base + "/", "feeds": [base + "/feed/"], "language": "en", "tags": ["kz"],
             "description": "robots.txt disallows everything"}
    return res, entry


BUILDERS = {"wp": wordpress_site, "gnews": gnews_site, "links": links_site, "broken": broken_site,
            "forbidden": forbidden_site}
