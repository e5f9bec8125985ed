"""One story in four language editions (en, pl, de, ru) linked by hreflang alternates and sharing one
og:image, plus one unrelated story: the fixture for cross-language story grouping (dedup) tests.

The Polish edition carries the leftovers a naive extractor keeps on EU Reporter pages (a "DZIELIĆ:" share
box, "reklama" ad slots, the publisher's disclaimer): they are in ``site.boilerplate``.
"""

from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, time, timedelta, timezone

from tests.support.fixtureserver import TEXT, XML, Resource
from tests.support.sites import syndication
from tests.support.sites.common import (Chrome, ExpectedArticle, NewsSite, article_head, article_main, esc, iso,
                                listing_head, page_resource, render_page, strings)
from tests.support.sites.texts import Text

EDITIONS: dict[str, Text] = {
    "en": Text("ml-en", "en", "Kazakhstan and the United States continue their dialogue on human rights", (
        "Senior officials of Kazakhstan and the United States met in Astana this week for the fourth round of "
        "their annual high-level dialogue on human rights and democratic reform.",
        "The two delegations discussed the rights of people with disabilities, the fight against human "
        "trafficking, freedom of assembly and of expression, and support for independent media. They also "
        "reviewed how a national action plan on human rights and the rule of law, adopted last December, is being "
        "carried out.",
        "The American side welcomed a new law that toughens penalties for domestic violence and violence against "
        "children, and said the United States would keep supporting political and economic reforms in "
        "Kazakhstan. Both sides agreed that a policy of zero tolerance towards violence against women needs "
        "stronger enforcement in the regions.",
        "The officials also talked about cooperation at the UN Human Rights Council and about the follow-up to "
        "last year's C5+1 summit of Central Asian leaders.",
        "The delegations agreed to hold the next round of the dialogue in Washington next year.",
    ), True),
    "pl": Text("ml-pl", "pl", "Kazachstan i Stany Zjednoczone kontynuują dialog o prawach człowieka", (
        "Wysocy urzędnicy Kazachstanu i Stanów Zjednoczonych spotkali się w tym tygodniu w Astanie na czwartej "
        "rundzie corocznego dialogu wysokiego szczebla o prawach człowieka i reformach demokratycznych.",
        "Obie delegacje rozmawiały o prawach osób z niepełnosprawnościami, walce z handlem ludźmi, wolności "
        "zgromadzeń i słowa oraz o wspieraniu niezależnych mediów. Omówiono także realizację krajowego planu "
        "działań w dziedzinie praw człowieka i praworządności, przyjętego w grudniu ubiegłego roku.",
        "Strona amerykańska z zadowoleniem przyjęła nową ustawę zaostrzającą kary za przemoc domową i przemoc "
        "wobec dzieci oraz zapowiedziała, że Stany Zjednoczone nadal będą wspierać reformy polityczne i "
        "gospodarcze w Kazachstanie. Obie strony uznały, że polityka zerowej tolerancji wobec przemocy wobec "
        "kobiet wymaga skuteczniejszego egzekwowania w regionach.",
        "Urzędnicy rozmawiali również o współpracy w Radzie Praw Człowieka ONZ oraz o realizacji ustaleń "
        "ubiegłorocznego szczytu C5+1 przywódców Azji Środkowej.",
        "Delegacje uzgodniły, że kolejna runda dialogu odbędzie się w przyszłym roku w Waszyngtonie.",
    ), True),
    "de": Text("ml-de", "de", "Kasachstan und die USA setzen ihren Menschenrechtsdialog fort", (
        "Hochrangige Vertreter Kasachstans und der Vereinigten Staaten sind in dieser Woche in Astana zur vierten "
        "Runde ihres jährlichen Dialogs über Menschenrechte und demokratische Reformen zusammengekommen.",
        "Die beiden Delegationen sprachen über die Rechte von Menschen mit Behinderungen, den Kampf gegen "
        "Menschenhandel, Versammlungs- und Meinungsfreiheit sowie die Unterstützung unabhängiger Medien. Außerdem "
        "ging es um die Umsetzung eines nationalen Aktionsplans für Menschenrechte und Rechtsstaatlichkeit, der im "
        "vergangenen Dezember beschlossen wurde.",
        "Die amerikanische Seite begrüßte ein neues Gesetz, das die Strafen für häusliche Gewalt und Gewalt gegen "
        "Kinder verschärft, und erklärte, die Vereinigten Staaten würden die politischen und wirtschaftlichen "
        "Reformen in Kasachstan weiter unterstützen. Beide Seiten waren sich einig, dass die Null-Toleranz-Politik "
        "gegenüber Gewalt an Frauen in den Regionen konsequenter durchgesetzt werden muss.",
        "Gesprochen wurde auch über die Zusammenarbeit im UN-Menschenrechtsrat und über die Umsetzung der "
        "Ergebnisse des C5+1-Gipfels der zentralasiatischen Staats- und Regierungschefs im vergangenen Jahr.",
        "Die Delegationen vereinbarten, die nächste Runde des Dialogs im kommenden Jahr in Washington abzuhalten.",
    ), True),
    "ru": Text("ml-ru", "ru", "Казахстан и США продолжили диалог по правам человека", (
        "Высокопоставленные представители Казахстана и Соединённых Штатов встретились на этой неделе в Астане "
        "в рамках четвёртого раунда ежегодного диалога высокого уровня по правам человека и демократическим "
        "реформам.",
        "Делегации обсудили права людей с инвалидностью, борьбу с торговлей людьми, свободу собраний и слова, а "
        "также поддержку независимых СМИ. Стороны рассмотрели и ход выполнения национального плана действий в "
        "области прав человека и верховенства закона, принятого в декабре прошлого года.",
        "Американская сторона приветствовала новый закон, ужесточающий наказание за бытовое насилие и насилие в "
        "отношении детей, и заявила, что Соединённые Штаты продолжат поддерживать политические и экономические "
        "реформы в Казахстане. Обе стороны согласились, что политика нулевой терпимости к насилию в отношении "
        "женщин требует более последовательного применения в регионах.",
        "Участники встречи также говорили о сотрудничестве в Совете ООН по правам человека и о выполнении "
        "договорённостей прошлогоднего саммита «Центральная Азия + США» (C5+1).",
        "Делегации договорились провести следующий раунд диалога в Вашингтоне в будущем году.",
    ), True),
}

UNRELATED = Text("ml-unrelated", "en", "New ferry line links the Caspian ports of Aktau and Baku", (
    "A new roll-on roll-off ferry began regular sailings between Aktau and Baku on Monday, adding a third vessel "
    "to a route that carries a growing share of freight between China and Europe.",
    "The ship can carry fifty-six rail wagons or about one hundred lorries, and the crossing takes around "
    "twenty hours in good weather. Port officials said waiting times at the Aktau terminal had already fallen "
    "from several days to less than one during the summer.",
    "Shipping companies still complain about shallow water at some berths and about paperwork at the border, "
    "which they say adds more delay than the sea crossing itself. The port authority plans to dredge the "
    "approach channel next spring.",
    "Freight forwarders expect volumes on the route to keep rising as long as the northern corridor through "
    "Russia remains difficult for European customers.",
), False)

SLUGS = {"en": "kazakhstan-us-human-rights-dialogue", "pl": "kazachstan-usa-dialog-prawa-czlowieka",
         "de": "kasachstan-usa-menschenrechtsdialog", "ru": "kazakhstan-ssha-dialog-prava-cheloveka"}
IMAGE_PATH = "/images/astana-dialogue.png"


def _png() -> bytes:
    """A valid 1x1 grey PNG: the shared og:image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def build_multilang_site(base_url: str, *, newest: date | None = None) -> NewsSite:
    """Four editions at ``/<lang>/YYYY/MM/DD/<slug>/`` (hreflang + x-default, same og:image) and an unrelated
    English story; home page, RSS feed (``/feed/``), a sitemap with xhtml:link alternates and robots.txt.

    ``site.story_groups[0]`` lists the paths of the four editions.
    """
    base = base_url.rstrip("/")
    day = newest or (datetime.now(timezone.utc).date() - timedelta(days=1))
    image = base + IMAGE_PATH
    res: dict[str, Resource] = {IMAGE_PATH: Resource(_png(), content_type="image/png")}
    articles: list[ExpectedArticle] = []
    name = "Caspian Wire"
    boilerplate = []

    editions = {lang: f"/{lang}/{day:%Y/%m/%d}/{slug}/" for lang, slug in SLUGS.items()}
    hreflang = "\n".join(f'<link rel="alternate" hreflang="{lang}" href="{base}{p}">' for lang, p in editions.items())
    hreflang += f'\n<link rel="alternate" hreflang="x-default" href="{base}{editions["en"]}">'
    feed_url = base + "/feed/"
    chromes = {}

    def chrome_for(lang: str) -> Chrome:
        if lang not in chromes:
            s = strings(lang)
            chromes[lang] = Chrome(base, lang, name, [(s["home"], "/"), (s["kazakhstan"], "/"), (s["about"], "/")],
                                   feeds=[("application/rss+xml", feed_url)])
        return chromes[lang]

    stories = [(lang, text, editions[lang], True) for lang, text in EDITIONS.items()]
    stories.append(("en", UNRELATED, f"/en/{day - timedelta(days=1):%Y/%m/%d}/aktau-baku-ferry-line/", False))
    for k, (lang, text, path, same_image) in enumerate(stories):
        s = strings(lang)
        dt = datetime.combine(day if same_image else day - timedelta(days=1), time(8, 15 + 7 * k),
                              tzinfo=timezone.utc)
        url = base + path
        img = image if same_image else base + "/images/aktau-ferry.png"
        author = s["authors"][k % len(s["authors"])]
        summary = text.paragraphs[0][:180].rsplit(" ", 1)[0] + "…"
        head = article_head(url=url, title=text.title, summary=summary, image=img, published=dt,
                            modified=dt + timedelta(minutes=30), author=author, author_url=base + "/",
                            section=s["world"], tags=[s["tag_names"]["kazakhstan"]], language=lang, site_name=name,
                            base_url=base, extra=hreflang if same_image else "")
        others = [(t.title, p) for _, t, p, same in stories if p != path and same]
        share_extra = ""
        main_extra = ""
        if lang == "pl":  # EU Reporter leftovers
            share_extra = ' <span class="share-label">DZIELIĆ:</span>'
            disclaimer = ("Caspian Wire publikuje artykuły z różnych źródeł zewnętrznych, które wyrażają szeroki "
                          "zakres punktów widzenia. Stanowiska zajęte w tych artykułach niekoniecznie są "
                          "stanowiskami redakcji.")
            main_extra = (f'<div class="ad-slot">reklama</div>\n<p class="disclaimer">{esc(disclaimer)}</p>\n'
                          '<div class="ad-slot">reklama</div>')
            boilerplate.append(disclaimer)
        main = article_main(title=text.title, paragraphs=text.paragraphs, author=author, author_path="/",
                            published=dt, base_url=base, language=lang, image=img, tags=[], related=others,
                            share_extra=share_extra) + main_extra
        res[path] = page_resource(render_page(chrome_for(lang), title=f"{text.title} | {name}", main=main, head=head,
                                              body_class="single-post"), dt)
        snippet = text.paragraphs[1].split(". ")[0] + "."
        articles.append(ExpectedArticle(path=path, url=url, title=text.title, published=iso(dt), language=lang,
                                        text_snippet=snippet, author=author, section="world", tags=("kazakhstan",),
                                        body=text.body, topical=text.topical, origin="hand-made", image=img))

    s = strings("en")
    items = "\n".join(f'  <li lang="{a.language}"><a href="{a.url}">{esc(a.title)}</a></li>' for a in articles)
    home_head = listing_head(url=base + "/", title=name, description=s["latest"], ld_type="WebSite")
    updated = max(datetime.fromisoformat(a.published) for a in articles)
    res["/"] = page_resource(render_page(chrome_for("en"), title=name, head=home_head,
                                         main=f"<h1>{esc(s['latest'])}</h1>\n<ul>\n{items}\n</ul>"), updated)
    channel = syndication.Channel(name, base + "/", feed_url, s["latest"], "en", updated)
    res["/feed/"] = page_resource(syndication.rss2(channel, articles), updated, syndication.FEED_KINDS["rss2"][1])
    alternates = {base + p: [(lang, base + q) for lang, q in editions.items()] for p in editions.values()}
    res["/sitemap.xml"] = page_resource(
        syndication.urlset([(a.url, a.published) for a in articles], alternates), updated, XML)
    res["/robots.txt"] = Resource(syndication.robots_txt([], [base + "/sitemap.xml"]), content_type=TEXT)
    site = NewsSite(base_url=base, name=name, language="en", resources=res, articles=articles, non_articles=["/"],
                    disallowed=[], feeds=[feed_url], sitemaps=[base + "/sitemap.xml"],
                    boilerplate=[*boilerplate, s["newsletter"], s["footer"]],
                    story_groups=[list(editions.values())])
    return site
