"""A fixture news site: home, sections with pagination, articles, tag/author/about/archive pages, feeds,
sitemaps and robots.txt, plus the list of what a correct crawl stores, skips and never fetches.

Use::

    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, with_feed="atom", with_sitemap="gnews")
        server.site.update(site)        # a NewsSite is a mapping path -> Resource
        ...                             # crawl, then compare with site.articles / site.non_articles

Building again with the same base URL and a larger ``n_articles`` gives the same first articles plus
newer-numbered ones (``server.site.update(...)`` between two crawls to add pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone

from tests.support.fixtureserver import TEXT, XML, Resource, gzip_file
from tests.support.sites import common, syndication
from tests.support.sites.texts import LANGUAGES
from tests.support.sites.common import (Chrome, ExpectedArticle, NewsSite, article_head, article_main, esc, iso,
                                listing_head, page_resource, pick_text, render_page, slugify, snippet_of, strings,
                                teaser_list)

SECTIONS = ("world", "business")
TAGS = ("kazakhstan", "united-states", "economy", "society")


def _kinds(value, allowed, what) -> list[str]:
    if value is None:
        return []
    kinds = [value] if isinstance(value, str) else list(value)
    for k in kinds:
        if k not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)} (or None), not {k!r}")
    return kinds


def _default_newest() -> date:
    """Yesterday (UTC): recent enough for any max-age filter, never in the future."""
    return datetime.now(timezone.utc).date() - timedelta(days=1)


def build_news_site(base_url: str, *, n_articles: int = 6, with_feed: str | Iterable[str] | None = "rss2",
                    with_sitemap: str | Iterable[str] | None = "index", gzip_sitemap: bool = False,
                    robots_sitemap: bool = True, disallow: Iterable[str] = ("/private/",), sections: bool = True,
                    home_links_feed: bool = True, language: str = "en", corpus_pages: bool = True,
                    page_size: int = 2, newest: date | None = None, site_name: str | None = None,
                    comments: bool = True) -> NewsSite:
    """Build a news site served at ``base_url`` (absolute links everywhere).

    ``with_feed``: "rss2" | "atom" | "rdf" | "json" (or several); ``with_sitemap``: "index" (sitemapindex ->
    posts + pages urlsets) | "urlset" | "gnews" (or several).  Every third article (0, 3, ...) is about
    Kazakhstan and the US; the others are real corpus texts when ``corpus_pages`` and ../shared/corpus exist.
    Articles are two a day going back from ``newest`` (default: yesterday).
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    base = base_url.rstrip("/")
    s = strings(language)
    name = site_name or s["site"]
    feed_kinds = _kinds(with_feed, list(syndication.FEED_KINDS), "with_feed")
    sitemap_kinds = _kinds(with_sitemap, syndication.SITEMAP_KINDS, "with_sitemap")
    disallow = [d if d.startswith("/") else "/" + d for d in disallow]
    newest = newest or _default_newest()
    res: dict[str, Resource] = {}

    # ---- articles
    articles: list[ExpectedArticle] = []
    stamps: dict[str, datetime] = {}
    slugs: set[str] = set()

    def make(slot, text, dt: datetime, path_prefix: str, section: str, tags: tuple[str, ...], author: str):
        slug = slugify(text.title)
        while slug in slugs:
            slug += "-x"
        slugs.add(slug)
        path = f"{path_prefix}/{dt:%Y/%m/%d}/{slug}/"
        stamps[path] = dt
        return ExpectedArticle(path=path, url=base + path, title=text.title, published=iso(dt), language=language,
                               text_snippet=snippet_of(text), author=author, section=section, tags=tags,
                               body=text.body, topical=text.topical, origin=text.origin,
                               image=f"{base}/images/{slug}.jpg")

    for i in range(n_articles):
        topical = i % 3 == 0
        text = pick_text(base, i, language, topical, corpus_pages)
        day = newest - timedelta(days=i // 2)
        dt = datetime.combine(day, time(16 - (i % 2) * 7, (i * 17) % 60), tzinfo=timezone.utc)
        tags = ("kazakhstan", "united-states") if topical else (("economy",) if i % 2 else ("society",))
        articles.append(make(i, text, dt, "", SECTIONS[i % 2], tags, s["authors"][i % len(s["authors"])]))

    hidden: list[ExpectedArticle] = []  # article-looking pages under disallowed prefixes
    for j, prefix in enumerate(disallow):
        text = common._synthetic(base, f"disallowed:{prefix}", language, False)
        dt = datetime.combine(newest, time(12, j), tzinfo=timezone.utc)
        hidden.append(make(f"d{j}", text, dt, prefix.rstrip("/"), "world", ("society",), s["authors"][0]))

    # ---- chrome
    menu = [(s["home"], "/")]
    if sections:
        menu += [(s["world"], "/section/world/"), (s["business"], "/section/business/")]
    menu += [(s["kazakhstan"], "/tag/kazakhstan/"), (s["archive"], "/archive/"), (s["about"], "/about/")]
    feed_urls = [base + syndication.FEED_KINDS[k][0] for k in feed_kinds]
    alternates = [(syndication.FEED_KINDS[k][2], base + syndication.FEED_KINDS[k][0]) for k in feed_kinds]
    chrome = Chrome(base, language, name, menu, most_read=[(a.title, a.path) for a in articles[:5]],
                    feeds=alternates if home_links_feed else [])
    site_updated = max(stamps.values(), default=datetime.combine(newest, time(12), tzinfo=timezone.utc))

    def teasers(items):
        return teaser_list([(a, summary_of_article(a), stamps[a.path]) for a in items], base, language)

    def hidden_links():
        if not hidden:
            return ""
        links = "\n".join(f'    <li><a href="{base}{h.path}">{esc(h.title)}</a></li>' for h in hidden)
        return f'<section class="exclusive">\n  <h2>{esc(s["exclusive"])}</h2>\n  <ul>\n{links}\n  </ul>\n</section>'

    non_articles: list[str] = []

    def listing(path: str, title: str, main: str, *, ld_type="CollectionPage", rel_next=None, rel_prev=None):
        head = listing_head(url=base + path, title=title, description=title, ld_type=ld_type,
                            rel_next=rel_next and base + rel_next, rel_prev=rel_prev and base + rel_prev)
        res[path] = page_resource(render_page(chrome, title=f"{title} | {name}", main=main, head=head,
                                              body_class="listing"), site_updated)
        non_articles.append(path)

    # ---- home
    tag_cloud = " ".join(f'<a href="{base}/tag/{t}/">{esc(s["tag_names"][t])}</a>' for t in TAGS)
    home_items = articles if not sections else articles[:4]
    listing("/", name, f"""<section class="latest">
  <h1>{esc(s['latest'])}</h1>
{teasers(home_items)}
</section>
{hidden_links()}
<section class="topics"><h2>{esc(s['topics'])}</h2><p>{tag_cloud}</p></section>""", ld_type="WebSite")

    # ---- sections with pagination (rel=next / rel=prev)
    if sections:
        for sec in SECTIONS:
            items = [a for a in articles if a.section == sec]
            pages = [items[k:k + page_size] for k in range(0, len(items), page_size)] or [[]]
            for n, chunk in enumerate(pages, start=1):
                path = f"/section/{sec}/" if n == 1 else f"/section/{sec}/page/{n}/"
                prev = None if n == 1 else (f"/section/{sec}/" if n == 2 else f"/section/{sec}/page/{n - 1}/")
                nxt = f"/section/{sec}/page/{n + 1}/" if n < len(pages) else None
                nav = ""
                if prev:
                    nav += f'<a rel="prev" href="{base}{prev}">{esc(s["newer"])}</a> '
                nav += f'<span>{esc(s["page"])} {n}</span>'
                if nxt:
                    nav += f' <a rel="next" href="{base}{nxt}">{esc(s["older"])}</a>'
                title = s[sec] if n == 1 else f"{s[sec]} – {s['page']} {n}"
                intro = s["section_intro"].format(section=s[sec])
                listing(path, title, f"""<h1>{esc(title)}</h1>
<p class="intro">{esc(intro)}</p>
{teasers(chunk)}
{hidden_links() if sec == SECTIONS[0] and n == 1 else ""}
<nav class="pagination">{nav}</nav>""", rel_next=nxt, rel_prev=prev)

    # ---- tags, authors, about, archive
    for t in TAGS:
        label = s["tag_names"][t]
        listing(f"/tag/{t}/", label, f"""<h1>{esc(label)}</h1>
<p class="intro">{esc(s['tag_intro'].format(tag=label))}</p>
{teasers([a for a in articles if t in a.tags])}""")
    for author in dict.fromkeys(a.author for a in [*articles, *hidden]):
        written = [a for a in articles if a.author == author]
        listing(f"/author/{slugify(author)}/", author, f"""<h1>{esc(author)}</h1>
<p class="bio">{esc(s['author_bio'].format(name=author, site=name))}</p>
{teasers(written)}""", ld_type="ProfilePage")
    about = "\n".join(f"<p>{esc(p)}</p>" for p in s["about_paragraphs"])
    listing("/about/", s["about_title"],
            f'<h1>{esc(s["about_title"])}</h1>\n<div class="page-content">\n{about}\n</div>', ld_type="AboutPage")
    by_month: dict[tuple[int, int], list[ExpectedArticle]] = {}
    for a in articles:
        by_month.setdefault((stamps[a.path].year, stamps[a.path].month), []).append(a)
    blocks = []
    for (y, m), items in by_month.items():
        links = "\n".join(f'    <li><a href="{base}{a.path}">{esc(a.title)}</a></li>' for a in items)
        blocks.append(f'<h2>{esc(s["months"][m - 1])} {y}</h2>\n  <ul class="archive-list">\n{links}\n  </ul>')
    listing("/archive/", s["archive"], f'<h1>{esc(s["archive"])}</h1>\n<p>{esc(s["archive_intro"])}</p>\n'
            + "\n".join(blocks))

    # ---- article pages
    all_pages = [*articles, *hidden]
    for i, a in enumerate(all_pages):
        dt = stamps[a.path]
        modified = dt + timedelta(hours=1)
        others = [o for o in articles if o.path != a.path]
        related = [(o.title, o.path) for o in (others[i % len(others):] + others)[:3]] if others else []
        author_path = f"/author/{slugify(a.author)}/"
        head = article_head(url=a.url, title=a.title, summary=summary_of_article(a), image=a.image, published=dt,
                            modified=modified, author=a.author, author_url=base + author_path, section=s[a.section],
                            tags=[s["tag_names"][t] for t in a.tags], language=language, site_name=name,
                            base_url=base)
        main = article_main(title=a.title, paragraphs=a.body.split("\n\n"), author=a.author, author_path=author_path,
                            published=dt, base_url=base, language=language, image=a.image,
                            tags=[(s["tag_names"][t], f"/tag/{t}/") for t in a.tags], related=related,
                            comment_texts=s["comment_texts"] if comments else ())
        res[a.path] = page_resource(render_page(chrome, title=f"{a.title} | {name}", main=main, head=head,
                                                body_class="single-post"), modified)

    # ---- feeds
    channel = syndication.Channel(name, base + "/", "", s["latest"], language, site_updated)
    for kind, url in zip(feed_kinds, feed_urls):
        path, ctype, _ = syndication.FEED_KINDS[kind]
        body = syndication.FEED_RENDERERS[kind](
            syndication.Channel(channel.title, channel.home, url, channel.description, language, site_updated),
            articles)
        res[path] = page_resource(body, site_updated, ctype)

    # ---- sitemaps
    top_sitemaps: list[str] = []

    def sitemap(path: str, xml: str) -> str:
        if gzip_sitemap:
            path += ".gz"
            res[path] = gzip_file(xml, last_modified=site_updated)
        else:
            res[path] = page_resource(xml, site_updated, XML)
        return path

    page_entries = [(base + p, None) for p in non_articles]
    post_entries = [(a.url, stamps[a.path].isoformat(timespec="seconds")) for a in [*articles, *hidden]]
    for kind in sitemap_kinds:
        if kind == "urlset":
            top_sitemaps.append(base + sitemap("/sitemap.xml", syndication.urlset(post_entries + page_entries)))
        elif kind == "gnews":
            top_sitemaps.append(base + sitemap("/news-sitemap.xml",
                                               syndication.news_sitemap([*articles, *hidden], name)))
        else:
            posts = sitemap("/sitemap-posts.xml", syndication.urlset(post_entries))
            pages = sitemap("/sitemap-pages.xml", syndication.urlset(page_entries))
            lastmod = site_updated.isoformat(timespec="seconds")
            res["/sitemap_index.xml"] = page_resource(
                syndication.sitemap_index([(base + posts, lastmod), (base + pages, lastmod)]), site_updated, XML)
            top_sitemaps.append(base + "/sitemap_index.xml")

    # ---- robots.txt
    res["/robots.txt"] = Resource(syndication.robots_txt(disallow, top_sitemaps if robots_sitemap else []),
                                  content_type=TEXT)

    boilerplate = [s["newsletter"], s["footer"], *(s["comment_texts"] if comments else ())]
    return NewsSite(base_url=base, name=name, language=language, resources=res, articles=articles,
                    non_articles=non_articles, disallowed=[h.path for h in hidden], feeds=feed_urls,
                    sitemaps=top_sitemaps, boilerplate=boilerplate)


def summary_of_article(a: ExpectedArticle) -> str:
    first = a.body.split("\n\n", 1)[0]
    return first if len(first) <= 180 else first[:180].rsplit(" ", 1)[0].rstrip(",;:") + "…"

