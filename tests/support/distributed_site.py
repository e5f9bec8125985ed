"""A bulk fixture site for distributed-crawl tests and benchmarks: N small distinct articles in one sitemap.

``build_bulk_site(base_url, n)`` returns ``path -> Resource`` for ``tests.support.fixtureserver``: robots.txt
(pointing at nothing), ``/sitemap.xml`` listing every article, and ``/news/NNNN.html`` article pages
whose texts are distinct (no near duplicates), every fifth about Kazakhstan.  ``delay`` makes every
path answer after that many seconds (network-bound crawls).
"""

from __future__ import annotations

import random
from html import escape

from tests.support.fixtureserver import TEXT, XML, Resource

WORDS = ("river steppe market council harvest railway festival museum bridge school clinic winter summer "
         "grain pipeline uranium election minister parliament trade export import currency bank reform "
         "court journalist village city mountain lake border treaty airline airport factory workers union "
         "teachers doctors farmers students scientists engineers musicians library theatre stadium season "
         "budget report survey forecast storm drought flood energy solar wind coal oil gas price index").split()


def article_path(i: int) -> str:
    return f"/news/{i:04d}.html"


def article_text(i: int) -> tuple[str, list[str]]:
    rng = random.Random(i * 7919 + 17)
    title = f"Story {i}: " + " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
    paras = []
    for p in range(4):
        sentences = []
        for _ in range(4):
            words = [rng.choice(WORDS) for _ in range(rng.randint(9, 14))]
            sentences.append(" ".join(words).capitalize() + f" ({i}.{p}).")
        paras.append(" ".join(sentences))
    if i % 5 == 0:
        paras[0] = "Kazakhstan and the United States signed an agreement in Astana. " + paras[0]
    return title, paras


def article_html(base_url: str, i: int) -> str:
    title, paras = article_text(i)
    url = base_url + article_path(i)
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<link rel="canonical" href="{url}"><meta property="og:type" content="article">'
            f'<meta property="og:title" content="{escape(title)}">'
            f'<meta property="article:published_time" content="2026-01-{1 + i % 28:02d}T08:00:00+00:00">'
            f'</head><body><header><a href="{base_url}/">Bulk Times</a></header><main><article>'
            f'<h1>{escape(title)}</h1><p class="byline">By Staff Writer</p>{body}</article></main>'
            f'<footer>Bulk Times</footer></body></html>')


def sitemap_xml(base_url: str, n: int) -> str:
    urls = "".join(f"<url><loc>{base_url}{article_path(i)}</loc><lastmod>2026-01-{1 + i % 28:02d}</lastmod></url>"
                   for i in range(n))
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def build_bulk_site(base_url: str, n: int, *, delay: float = 0.0) -> dict[str, Resource]:
    site: dict[str, Resource] = {
        "/robots.txt": Resource("User-agent: *\nDisallow: /private/\n", content_type=TEXT, delay=delay),
        "/sitemap.xml": Resource(sitemap_xml(base_url, n), content_type=XML, delay=delay),
        "/": Resource("<html><body><h1>Bulk Times</h1></body></html>", delay=delay),
    }
    for i in range(n):
        site[article_path(i)] = Resource(article_html(base_url, i), delay=delay)
    return site


def bulk_source(base_url: str, name: str = "bulk") -> dict:
    """A ``[[source]]`` entry reading only the sitemap (no home page or link-following)."""
    return {"name": name, "url": base_url + "/", "language": "en", "sitemaps": [base_url + "/sitemap.xml"]}


def cheap_extract(body, url, **_kw):
    """A stand-in for ``monitor.extract.extract_article`` on bulk pages (``hooked_extraction.crawl_args``):
    regexes instead of trafilatura, so a benchmark measures fetching and sharing, not extraction CPU."""
    import re
    from html import unescape

    from monitor.extract import Article, PageSignals

    html = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    title = re.search(r"<h1>(.*?)</h1>", html)
    paras = [unescape(p) for p in re.findall(r"<p>(.*?)</p>", html)]
    text = "\n".join(paras)
    return Article(url=url, title=unescape(title.group(1)) if title else None, author=None, published=None,
                   language="en", text=text, word_count=len(text.split()), canonical_url=url, description=None,
                   image=None, signals=PageSignals(canonical_url=url, og_type="article"))
