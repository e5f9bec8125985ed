"""Hostile and broken sites for the reliability tests (issue #5): every way a page, a feed or a sitemap can
go wrong, each at its own path, with what a correct crawl must record for it.

- ``build_hostile_site(base_url, ...)``: HTTP failures (404, 410, 5xx, 429 + Retry-After, redirect chains,
  loops and endless redirects, truncated bodies, slow answers, pages over ``DOWNLOAD_MAXSIZE``), content
  that is not an article (PDF, image, binary labelled text/html, empty, no main text), pages in
  windows-1251 / koi8-r / windows-1250 declared in the header, in ``<meta>`` or nowhere, mixed
  Kazakh/Russian, right-to-left text with emoji.  One RSS feed (``/feed.xml``) lists every page.
- ``build_feed_site(base_url, ...)``: broken feeds and sitemaps (truncated, malformed, wrong content type,
  gzip that is not gzip, entity-expansion bombs, external entities, thousands of entries, relative,
  protocol-relative and off-site links).
- ``article_html(...)`` / ``unique_text(...)``: a plain article page with a distinct body (no two pages
  share text, so deduplication never merges them).

Each builder returns a ``HostileSite``: ``resources`` (path -> Resource, for ``server.site.update``) and
``expect`` (path -> "article" or the ``fetch_errors.reason`` the page must end with).
"""

from __future__ import annotations

import html as _html
import json
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.fixtureserver import RSS, TEXT, XML, Resource, error, redirect, sequence, slow, stream, \
    too_many_requests, truncated

_WORDS = {
    "en": ("council regional budget water pipeline farmers harvest ministry report minister energy grid winter "
           "prices railway freight corridor border customs officials schools teachers hospital doctors election "
           "turnout observers court ruling journalists newspaper bank loan interest inflation wheat export "
           "drought reservoir engineers contract tender audit committee hearing protest square residents "
           "district mayor transport buses airport runway airline tourists museum festival").split(),
    "ru": ("совет областной бюджет вода трубопровод фермеры урожай министерство отчёт министр энергия сеть зима "
           "цены железная дорога грузы коридор граница таможня чиновники школы учителя больница врачи выборы "
           "явка наблюдатели суд решение журналисты газета банк кредит ставка инфляция пшеница экспорт засуха "
           "водохранилище инженеры контракт тендер аудит комитет слушания жители район аким транспорт автобусы "
           "аэропорт полоса туристы музей фестиваль").split(),
    "kk": ("кеңес облыстық бюджет су құбыры фермерлер егін министрлік есеп министр энергия желі қыс бағалар "
           "теміржол жүк дәліз шекара кеден шенеуніктер мектептер мұғалімдер аурухана дәрігерлер сайлау "
           "байқаушылар сот шешім журналистер газет банк несие пайыз бидай экспорт құрғақшылық су қоймасы "
           "инженерлер келісімшарт тендер аудит комитет тұрғындар аудан әкім көлік автобустар әуежай").split(),
    "pl": ("rada budżet wojewódzki woda rurociąg rolnicy żniwa ministerstwo raport minister energia sieć zima ceny "
           "kolej ładunki korytarz granica cło urzędnicy szkoły nauczyciele szpital lekarze wybory frekwencja "
           "obserwatorzy sąd wyrok dziennikarze gazeta bank kredyt odsetki inflacja pszenica eksport susza "
           "zbiornik inżynierowie umowa przetarg kontrola komisja przesłuchanie mieszkańcy dzielnica "
           "burmistrz autobusy lotnisko źrebię żółw łódź").split(),
    "cs": ("rada rozpočet krajský voda potrubí zemědělci sklizeň ministerstvo zpráva ministr energie síť zima ceny "
           "železnice náklad koridor hranice clo úředníci školy učitelé nemocnice lékaři volby účast "
           "pozorovatelé soud rozsudek novináři noviny banka úvěr úrok inflace pšenice vývoz sucho nádrž "
           "inženýři smlouva zakázka kontrola výbor slyšení obyvatelé čtvrť starosta autobusy letiště řeka").split(),
    "ar": ("المجلس الميزانية المياه المزارعون الحصاد الوزارة التقرير الوزير الطاقة الشبكة الشتاء الأسعار السكك "
           "الحديدية الشحن الحدود الجمارك المسؤولون المدارس المعلمون المستشفى الأطباء الانتخابات المراقبون "
           "المحكمة الصحفيون الصحيفة البنك القرض التضخم القمح التصدير الجفاف المهندسون العقد اللجنة السكان "
           "الحي النقل الحافلات المطار السياح المتحف المهرجان").split(),
}


def unique_text(key: str, language: str = "en", *, paragraphs: int = 5, lead: str = "") -> list[str]:
    """Paragraphs of made-up but distinct text (seeded by ``key``), each ~200 characters, with ``lead``
    (a sentence tests look for) as the first paragraph."""
    rng = random.Random(f"{key}|{language}")
    words = _WORDS[language]
    out = [lead] if lead else []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(3):
            n = rng.randint(9, 15)
            s = " ".join(rng.choice(words) for _ in range(n))
            sentences.append(s[0].upper() + s[1:] + ".")
        out.append(" ".join(sentences))
    return out


def article_html(title: str, paragraphs: list[str], *, lang: str = "en", meta_charset: str | None = "utf-8",
                 published: str = "2026-11-20T09:00:00+00:00", direction: str | None = None) -> str:
    """A small article page (og:type article, JSON-LD NewsArticle, menu and footer around the text)."""
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": published, "author": {"@type": "Person", "name": "Staff Reporter"}})
    charset = f'<meta charset="{meta_charset}">\n' if meta_charset else ""
    body = "\n".join(f"<p>{_html.escape(p)}</p>" for p in paragraphs)
    dir_attr = f' dir="{direction}"' if direction else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"{dir_attr}>
<head>
{charset}<title>{_html.escape(title)}</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}">
<script type="application/ld+json">{ld}</script>
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/section/world/">World</a></nav></header>
<main><article>
<h1>{_html.escape(title)}</h1>
{body}
</article></main>
<footer><p>Fixture Gazette, all rights reserved.</p></footer>
</body>
</html>
"""


def rss(base_url: str, links: list[str], *, title: str = "Fixture feed") -> str:
    items = "\n".join(f"<item><title>Story {i}</title><link>{_html.escape(link)}</link>"
                      f"<pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate></item>" for i, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base_url}/</link><description>d</description>\n{items}\n</channel></rss>\n")


def urlset(locs: list[str]) -> str:
    urls = "\n".join(f"<url><loc>{_html.escape(loc)}</loc><lastmod>2026-11-20</lastmod></url>" for loc in locs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}\n</urlset>\n")


@dataclass
class HostileSite:
    base_url: str
    resources: dict[str, Resource]
    expect: dict[str, str]                          # path -> "article" or fetch_errors.reason
    markers: dict[str, str] = field(default_factory=dict)   # path -> a phrase its stored text must contain
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)

    def url_for(self, path: str) -> str:
        return self.base_url + path

    def source(self, name: str, **extra) -> dict:
        entry = {"name": name, "url": self.base_url + "/"}
        if self.feeds:
            entry["feeds"] = list(self.feeds)
        if self.sitemaps:
            entry["sitemaps"] = list(self.sitemaps)
        entry.update(extra)
        return entry


def _page(key: str, lang: str = "en", *, lead: str = "", **kw) -> str:
    paragraphs = unique_text(key, lang, lead=lead)
    return article_html(f"Story {key}", paragraphs, lang=lang, **kw)


def _chunks(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    head = b"<!DOCTYPE html><html><head><title>huge</title></head><body><main><article>"
    yield head
    line = b"<p>" + b"filler text of a page that never ends " * 40 + b"</p>\n"
    block = line * max(1, chunk // len(line))
    sent = len(head)
    while sent < total:
        yield block
        sent += len(block)
    yield b"</article></main></body></html>"


def huge_page(total_bytes: int, *, with_length: bool = False) -> Resource:
    """An HTML page of ``total_bytes`` streamed in chunks (never held in memory by the server)."""
    length = None
    if with_length:
        length = sum(len(c) for c in _chunks(total_bytes))
    return stream(lambda: _chunks(total_bytes), "text/html; charset=utf-8", length=length)


# windows-1251 / koi8-r / windows-1250 pages: the marker must survive decoding end to end
ENCODED_MARKERS = {
    "cp1251": ("ru", "Совет утвердил бюджет на строительство водопровода и школы."),
    "koi8_r": ("ru", "Жители района обсудили новые тарифы на отопление и транспорт."),
    "cp1250": ("cs", "Zastupitelé schválili rozpočet na opravu mostu přes řeku a školní jídelnu."),
}
# what the page declares for each codec (header charset / meta charset)
_DECLARED = {"cp1251": "windows-1251", "koi8_r": "koi8-r", "cp1250": "windows-1250"}


def build_hostile_site(base_url: str, *, slow_delay: float = 4.0, huge_bytes: int = 3 * 1024 * 1024,
                       retry_after: int = 2, retry_after_long: int = 3600, endless_hops: int = 30) -> HostileSite:
    """Every broken page at its own path; ``/feed.xml`` lists them all.

    ``slow_delay`` must exceed the crawl's DOWNLOAD_TIMEOUT and ``huge_bytes`` its DOWNLOAD_MAXSIZE.
    """
    res: dict[str, Resource] = {}
    expect: dict[str, str] = {}
    markers: dict[str, str] = {}

    def article(path, key, lang="en", **kw):
        res[path] = Resource(_page(key, lang, **kw))
        expect[path] = "article"

    res["/robots.txt"] = Resource("User-agent: *\nAllow: /\n", content_type=TEXT)
    article("/a/ok/", "ok")
    # --- HTTP
    res["/a/not-found/"] = error(404)
    expect["/a/not-found/"] = "not_found"
    res["/a/gone/"] = error(410)
    expect["/a/gone/"] = "gone"
    res["/a/server-error/"] = error(500)
    expect["/a/server-error/"] = "server_error"
    res["/a/flaky/"] = sequence(error(503), Resource(_page("flaky")))
    expect["/a/flaky/"] = "article"
    res["/a/rate-limited/"] = sequence(too_many_requests(retry_after), Resource(_page("rate-limited")))
    expect["/a/rate-limited/"] = "article"
    res["/a/rate-limited-long/"] = too_many_requests(retry_after_long)
    expect["/a/rate-limited-long/"] = "rate_limited"
    res["/a/redirect-chain/"] = redirect("/r/chain-1/")
    res["/r/chain-1/"] = redirect(base_url + "/r/chain-2/", status=302)
    res["/r/chain-2/"] = redirect("/a/landed/", status=307)
    res["/a/landed/"] = Resource(_page("landed"))
    expect["/a/redirect-chain/"] = "article"
    res["/a/redirect-loop/"] = redirect("/r/loop-b/")
    res["/r/loop-b/"] = redirect("/a/redirect-loop/")
    expect["/a/redirect-loop/"] = "redirect_loop"
    res["/a/redirect-endless/"] = redirect("/r/endless/1/")
    for i in range(1, endless_hops):
        res[f"/r/endless/{i}/"] = redirect(f"/r/endless/{i + 1}/", status=302)
    res[f"/r/endless/{endless_hops}/"] = Resource(_page("endless-end"))
    expect["/a/redirect-endless/"] = "too_many_redirects"
    body = _page("truncated").encode()
    res["/a/truncated/"] = truncated(body, after=len(body) // 3)
    expect["/a/truncated/"] = "connection_lost"
    res["/a/slow/"] = slow(_page("slow"), delay=slow_delay)
    expect["/a/slow/"] = "timeout"
    res["/a/huge/"] = huge_page(huge_bytes)
    expect["/a/huge/"] = "too_large"
    res["/a/huge-declared/"] = huge_page(huge_bytes, with_length=True)
    expect["/a/huge-declared/"] = "too_large"
    # --- content
    res["/a/pdf/"] = Resource(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 20,
                              content_type="application/pdf")
    expect["/a/pdf/"] = "not_html"
    res["/a/image/"] = Resource(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, content_type="image/png")
    expect["/a/image/"] = "not_html"
    garbage = random.Random(5).randbytes(40_000)
    res["/a/binary/"] = Resource(garbage, content_type="text/html")
    expect["/a/binary/"] = "not_html"
    res["/a/empty/"] = Resource(b"", content_type="text/html")
    expect["/a/empty/"] = "empty"
    res["/a/no-text/"] = Resource('<!DOCTYPE html><html><head><title>Menu</title></head><body><nav>'
                                  + "".join(f'<a href="/s/{i}/">Section {i}</a> ' for i in range(4))
                                  + "</nav><main><div class=\"grid\"></div></main></body></html>")
    expect["/a/no-text/"] = "no_main_text"   # only a menu: navigation is dropped before trafilatura (issue 14)
    res["/a/bad-gzip/"] = Resource(_page("bad-gzip"), headers={"Content-Encoding": "gzip"})   # gzip that is not gzip
    expect["/a/bad-gzip/"] = "article"
    res["/a/text-plain/"] = Resource(_page("text-plain"), content_type="text/plain")   # wrong content type
    expect["/a/text-plain/"] = "article"
    # --- encodings: declared in the header only, in <meta> only, or nowhere
    for codec, (lang, marker) in ENCODED_MARKERS.items():
        name = _DECLARED[codec]
        for where in ("header", "meta", "none"):
            path = f"/enc/{codec}/{where}/"
            page = _page(f"enc-{codec}-{where}", lang, lead=marker,
                         meta_charset=name if where == "meta" else None)
            ctype = f"text/html; charset={name}" if where == "header" else "text/html"
            res[path] = Resource(page.encode(codec), content_type=ctype)
            expect[path] = "article"
            markers[path] = marker
    # --- mixed scripts, right-to-left, emoji
    kk_ru = "Қазақстан мен Ресей шекарасындағы кеден бекеті жөнделді. Таможенный пост на границе отремонтирован."
    paras = [kk_ru] + unique_text("kk-part", "kk", paragraphs=3) + unique_text("ru-part", "ru", paragraphs=3)
    res["/a/kk-ru/"] = Resource(article_html("Шекара бекеті / Пограничный пост", paras, lang="kk"))
    expect["/a/kk-ru/"] = "article"
    markers["/a/kk-ru/"] = kk_ru
    rtl = "المجلس وافق على ميزانية المدارس 🇰🇿🇺🇸 והעירייה אישרה את התקציב 📈"
    paras = [rtl] + unique_text("rtl", "ar", paragraphs=5)
    res["/a/rtl/"] = Resource(article_html("الميزانية 🏫", paras, lang="ar", direction="rtl"))
    expect["/a/rtl/"] = "article"
    markers["/a/rtl/"] = rtl

    feed_links = [base_url + p for p in expect]
    res["/feed.xml"] = Resource(rss(base_url, feed_links), content_type=RSS)
    return HostileSite(base_url, res, expect, markers, feeds=[base_url + "/feed.xml"])


# --------------------------------------------------------------------------- feeds and sitemaps

BILLION_LAUGHS_DTD = """<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""
XXE_DTD = '<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>'


def _gzip_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def build_feed_site(base_url: str, *, offsite_url: str, many_entries: int = 3000) -> HostileSite:
    """Broken feeds and sitemaps; each lists articles of its own (``/f/<case>/<n>/``), so the request log
    shows what was read from which file.  ``offsite_url`` is another server (a different host name)."""
    res: dict[str, Resource] = {}
    expect: dict[str, str] = {}
    feeds: list[str] = []
    sitemaps: list[str] = []
    res["/robots.txt"] = Resource("User-agent: *\nAllow: /\n", content_type=TEXT)

    def articles(case: str, n: int) -> list[str]:
        paths = [f"/f/{case}/{i}/" for i in range(n)]
        for p in paths:
            res[p] = Resource(_page(f"feedsite{p}"))
        return paths

    # truncated feed: the first entries are readable
    paths = articles("truncated-feed", 4)
    text = rss(base_url, [base_url + p for p in paths])
    cut = text.index("<item>", text.index(paths[1]))   # two whole items, then cut inside the third
    res["/feeds/truncated.xml"] = Resource(text[:cut + 30], content_type=RSS)
    feeds.append("/feeds/truncated.xml")
    expect["/feeds/truncated.xml"] = "bad_feed"
    for p in paths[:2]:
        expect[p] = "article"
    # feed served as text/html (wrong content type): read anyway
    paths = articles("html-feed", 2)
    res["/feeds/as-html.xml"] = Resource(rss(base_url, [base_url + p for p in paths]), content_type="text/html")
    feeds.append("/feeds/as-html.xml")
    expect.update({p: "article" for p in paths})
    # not a feed at all
    res["/feeds/not-a-feed.xml"] = Resource("<html><body>We moved our feed.</body></html>", content_type=RSS)
    feeds.append("/feeds/not-a-feed.xml")
    expect["/feeds/not-a-feed.xml"] = "bad_feed"
    # relative and protocol-relative links
    host = base_url.split("://", 1)[1]
    paths = articles("relative", 2)
    res["/feeds/relative.xml"] = Resource(rss(base_url, [paths[0], f"//{host}{paths[1]}"]), content_type=RSS)
    feeds.append("/feeds/relative.xml")
    expect.update({p: "article" for p in paths})
    # thousands of entries (MONITOR_MAX_FEED_ENTRIES keeps the first ones)
    many = [f"/f/many/{i}/" for i in range(many_entries)]
    for p in many[:100]:
        res[p] = Resource(_page(f"feedsite{p}"))
    res["/feeds/many.xml"] = Resource(rss(base_url, [base_url + p for p in many]), content_type=RSS)
    feeds.append("/feeds/many.xml")
    # entity expansion bomb and external entity in a feed
    res["/feeds/bomb.xml"] = Resource('<?xml version="1.0"?>\n' + BILLION_LAUGHS_DTD + "\n" + rss(
        base_url, [base_url + "/f/bomb/0/"]).split("?>", 1)[1].replace("<title>Story 0</title>", "<title>&lol9;</title>"),
        content_type=RSS)
    res["/f/bomb/0/"] = Resource(_page("feedsite-bomb"))
    feeds.append("/feeds/bomb.xml")
    expect.update({"/feeds/bomb.xml": "bad_feed", "/f/bomb/0/": "article"})   # read leniently, entities inert
    res["/feeds/xxe.xml"] = Resource('<?xml version="1.0"?>\n' + XXE_DTD + "\n" + rss(
        base_url, [base_url + "/f/xxe/0/"]).split("?>", 1)[1].replace("<title>Story 0</title>", "<title>&xxe;</title>"),
        content_type=RSS)
    res["/f/xxe/0/"] = Resource(_page("feedsite-xxe"))
    feeds.append("/feeds/xxe.xml")
    expect.update({"/feeds/xxe.xml": "bad_feed", "/f/xxe/0/": "article"})
    # off-site links (another host name): not followed unless allowed
    off = [offsite_url + "/f/offsite/0/", offsite_url + "/f/offsite/1/"]
    res["/feeds/offsite.xml"] = Resource(rss(base_url, off), content_type=RSS)
    feeds.append("/feeds/offsite.xml")

    # --- sitemaps
    paths = articles("truncated-sitemap", 4)
    text = urlset([base_url + p for p in paths])
    cut = text.index("<url>", text.index(paths[1]))     # two whole entries, then cut inside the third
    res["/sitemaps/truncated.xml"] = Resource(text[:cut + 12], content_type=XML)
    sitemaps.append("/sitemaps/truncated.xml")
    expect["/sitemaps/truncated.xml"] = "bad_sitemap"
    for p in paths[:2]:
        expect[p] = "article"
    # malformed in the middle: an unescaped '&' and a stray tag after two good entries
    paths = articles("malformed-sitemap", 3)
    text = urlset([base_url + p for p in paths])
    third = text.index("<url>", text.index(paths[1]))
    res["/sitemaps/malformed.xml"] = Resource(text[:third] + "<url><loc>a & b</lox></url>" + text[third:],
                                              content_type=XML)
    sitemaps.append("/sitemaps/malformed.xml")
    expect["/sitemaps/malformed.xml"] = "bad_sitemap"
    for p in paths[:2]:
        expect[p] = "article"
    # the connection drops in the middle of a sitemap: the entries that arrived are used
    paths = articles("cut-sitemap", 40)
    body = urlset([base_url + p for p in paths]).encode()
    cut_at = body.index(paths[20].encode())
    res["/sitemaps/cut.xml"] = truncated(body, after=cut_at, content_type=XML)
    sitemaps.append("/sitemaps/cut.xml")
    expect["/sitemaps/cut.xml"] = "connection_lost"
    for p in paths[:20]:
        expect[p] = "article"
    # sitemap served as text/plain (wrong content type)
    paths = articles("plain-sitemap", 2)
    res["/sitemaps/as-text.xml"] = Resource(urlset([base_url + p for p in paths]), content_type="text/plain")
    sitemaps.append("/sitemaps/as-text.xml")
    expect.update({p: "article" for p in paths})
    # .xml.gz that is plain XML (gzip that is not gzip), and one that is corrupt gzip
    paths = articles("not-gzip", 2)
    res["/sitemaps/plain.xml.gz"] = Resource(urlset([base_url + p for p in paths]), content_type="application/x-gzip")
    sitemaps.append("/sitemaps/plain.xml.gz")
    expect.update({p: "article" for p in paths})
    good = _gzip_bytes(urlset([base_url + "/f/corrupt-gzip/0/"]).encode())
    res["/sitemaps/corrupt.xml.gz"] = Resource(good[:12] + b"\x00garbage\xff" * 50, content_type="application/x-gzip")
    sitemaps.append("/sitemaps/corrupt.xml.gz")
    expect["/sitemaps/corrupt.xml.gz"] = "bad_sitemap"
    # a real gzipped sitemap with relative and protocol-relative locs
    paths = articles("gz-relative", 2)
    res["/sitemaps/relative.xml.gz"] = Resource(_gzip_bytes(urlset([paths[0], f"//{host}{paths[1]}"]).encode()),
                                                content_type="application/x-gzip")
    sitemaps.append("/sitemaps/relative.xml.gz")
    expect.update({p: "article" for p in paths})
    # entity bomb and external entity in sitemaps
    res["/f/sbomb/0/"] = Resource(_page("feedsite-sbomb"))
    res["/sitemaps/bomb.xml"] = Resource('<?xml version="1.0"?>\n' + BILLION_LAUGHS_DTD + "\n"
                                         + urlset([base_url + "/f/sbomb/0/"]).split("?>", 1)[1]
                                         .replace("<lastmod>2026-11-20</lastmod>", "<lastmod>&lol9;</lastmod>"),
                                         content_type=XML)
    sitemaps.append("/sitemaps/bomb.xml")
    expect["/sitemaps/bomb.xml"] = "bad_sitemap"      # refused by libxml2's amplification guard
    res["/f/sxxe/0/"] = Resource(_page("feedsite-sxxe"))
    res["/sitemaps/xxe.xml"] = Resource('<?xml version="1.0"?>\n' + XXE_DTD + "\n"
                                        + urlset([base_url + "/f/sxxe/0/"]).split("?>", 1)[1]
                                        .replace("<lastmod>2026-11-20</lastmod>", "<lastmod>&xxe;</lastmod>"),
                                        content_type=XML)
    sitemaps.append("/sitemaps/xxe.xml")
    expect["/f/sxxe/0/"] = "article"
    res["/sitemaps/xxe-loc.xml"] = Resource('<?xml version="1.0"?>\n' + XXE_DTD + "\n"
                                            + urlset([base_url + "/f/xxe-loc/&xxe;"]).split("?>", 1)[1]
                                            .replace("&amp;xxe;", "&xxe;"), content_type=XML)
    sitemaps.append("/sitemaps/xxe-loc.xml")
    expect["/f/xxe-loc/"] = "not_found"    # the entity is dropped, never replaced by the file's content
    return HostileSite(base_url, res, expect, feeds=[base_url + f for f in feeds],
                       sitemaps=[base_url + s for s in sitemaps])


def build_many_site(base_url: str, n_articles: int = 200, *, delay: float = 0.05, key: str = "many") -> HostileSite:
    """``n_articles`` small distinct articles (``/news/<i>/story/``), each answered after ``delay`` seconds,
    listed in ``/sitemap.xml``: a crawl that takes a while, for kill/stop tests.  Built twice with the same
    ``key`` (on two servers) it gives two copies of one site: the same paths and texts."""
    res: dict[str, Resource] = {"/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT)}
    expect: dict[str, str] = {}
    for i in range(n_articles):
        path = f"/news/{i}/story/"
        res[path] = Resource(_page(f"{key}-{i}"), delay=delay)
        expect[path] = "article"
    res["/sitemap.xml"] = Resource(urlset([base_url + p for p in expect]), content_type=XML)
    return HostileSite(base_url, res, expect, sitemaps=[base_url + "/sitemap.xml"])
