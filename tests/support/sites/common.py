"""Shared pieces of the fixture sites: what tests expect (ExpectedArticle, NewsSite), the page template
with its menu/sidebar/footer boilerplate, and the allocation of article texts.

Why an allocator: several sites built in one test process (several sources in one crawl) must never get
the same text, or cross-source dedup would merge them; rebuilding the same site (same base URL) must give
the same articles again, so a site can grow between two crawls.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import random
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tests.support.fixtureserver import Resource
from tests.support.sites import texts as _texts
from tests.support.sites.texts import Text

KAZAKHSTAN_RE = re.compile(r"kazakhstan|kazachstan|kasachstan|казахстан|қазақстан", re.I)
US_RE = re.compile(r"(?i:united states|stany zjednoczone|соединённые штаты|соединенные штаты|америка құрама|"
                   r"vereinigten? staaten)|\b(?:US|USA|США|АҚШ|USA)\b")
_PLACE_RE = re.compile(r"(?i:kazakh|kazach|казах|қазақ|astana|астан|almaty|ałmat|алмат|shymkent|szymkent|шымкент|"
                       r"kasach|washington|waszyngton|вашингтон|americ|amerykań|америк|united states|stany zjednoczone|"
                       r"штат)|\b(?:US|USA|США|АҚШ)\b")


@dataclass(frozen=True)
class ExpectedArticle:
    """An article page a crawler must find and store.  ``published`` is ISO 8601 with offset."""

    path: str
    url: str
    title: str
    published: str
    language: str
    text_snippet: str  # a whole sentence from the body: must appear in the extracted text
    author: str
    section: str = ""
    tags: tuple[str, ...] = ()
    body: str = ""  # the full article text, paragraphs separated by blank lines
    topical: bool = False  # the story is about Kazakhstan and/or the United States
    origin: str = ""  # hand-made / aeb:<id> / fundus:<publisher> / synthetic
    image: str = ""

    @property
    def published_date(self) -> str:
        return self.published[:10]

    @property
    def mentions_kazakhstan(self) -> bool:
        """The body (not just the menu) names Kazakhstan (en/pl/ru/kk spelling)."""
        return bool(KAZAKHSTAN_RE.search(self.body))

    @property
    def mentions_us(self) -> bool:
        return bool(US_RE.search(self.body))


@dataclass(eq=False)
class NewsSite(Mapping[str, Resource]):
    """A built fixture site: a mapping path -> Resource plus what a correct crawl should do with it."""

    base_url: str
    name: str
    language: str
    resources: dict[str, Resource]
    articles: list[ExpectedArticle]
    non_articles: list[str]  # pages that exist and are linked but must not be stored
    disallowed: list[str]  # pages linked (home, section, sitemap) but disallowed by robots.txt: never fetch
    feeds: list[str] = field(default_factory=list)  # absolute URLs
    sitemaps: list[str] = field(default_factory=list)  # absolute URLs of top-level sitemaps
    boilerplate: list[str] = field(default_factory=list)  # template sentences that must not be in any text
    story_groups: list[list[str]] = field(default_factory=list)  # paths of the language editions of one story

    def __getitem__(self, path: str) -> Resource:
        return self.resources[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    @property
    def home_url(self) -> str:
        return self.base_url + "/"

    def url_for(self, path: str) -> str:
        return self.base_url + path

    def article(self, path_or_url: str) -> ExpectedArticle:
        for a in self.articles:
            if path_or_url in (a.path, a.url):
                return a
        raise KeyError(path_or_url)

    def source(self, name: str, *, declare_feeds: bool = False, declare_sitemaps: bool = False, **extra) -> dict:
        """A ``[[source]]`` table for tests.support.helpers.write_sources (feeds/sitemaps found by discovery unless
        declared)."""
        entry = {"name": name, "url": self.home_url, "language": self.language}
        if declare_feeds and self.feeds:
            entry["feeds"] = list(self.feeds)
        if declare_sitemaps and self.sitemaps:
            entry["sitemaps"] = list(self.sitemaps)
        entry.update(extra)
        return entry


# ------------------------------------------------------------------------------------------- strings

L10N: dict[str, dict] = {
    "en": dict(
        site="The Caspian Ledger", locale="en_US", home="Home", world="World", business="Business",
        kazakhstan="Kazakhstan", archive="Archive", about="About us", by="By", related="Related stories",
        most_read="Most read", comments="Comments", older="Older stories", newer="Newer stories", page="Page",
        newsletter="Get our free weekly Kazakhstan and Central Asia newsletter every Friday morning.",
        subscribe="Subscribe", share="Share this story", tags="Tags", read_more="Read more", exclusive="Exclusive",
        footer="All rights reserved. Independent reporting from the region since 1998.",
        latest="Latest news", topics="Topics", contact="Contact", rss="RSS",
        comment_texts=("Thanks for the clear write-up, I shared it with my colleagues.",
                       "I would like to read a follow-up on this in a few months."),
        about_title="About The Caspian Ledger",
        about_paragraphs=(
            "The Caspian Ledger is an independent newsroom founded by a small group of reporters who wanted more "
            "careful coverage of politics, business and daily life across the region. We are funded by readers and "
            "a foundation grant, and we do not take money from governments or political parties.",
            "Our editors work from three cities, and our correspondents file stories in several languages. Every "
            "story is checked by a second editor before publication, and we correct mistakes openly at the end of "
            "the article concerned.",
            "You can reach the newsroom by email, and you can send us documents securely through the form on our "
            "contact page. We read every message, although we cannot answer all of them.",
        ),
        archive_intro="Every story we have published, grouped by month.",
        tag_intro="All our reporting tagged “{tag}”, newest first.",
        section_intro="Our latest {section} coverage.",
        author_bio="{name} is a staff correspondent who covers politics, business and society for {site}.",
        tag_names={"kazakhstan": "Kazakhstan", "united-states": "United States", "economy": "Economy",
                   "society": "Society", "energy": "Energy"},
        authors=("Dana Serikova", "Michael Turner", "Aliya Nurpeisova", "James O'Connell"),
        synthetic_lead="Report number {n}, put together by our news desk, sums up the main developments of the week.",
        synthetic_title="Week in review {n}",
        months=("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"),
        no_stories="No stories yet.",
    ),
    "ru": dict(
        site="Каспийский вестник", locale="ru_RU", home="Главная", world="В мире", business="Экономика",
        kazakhstan="Казахстан", archive="Архив", about="О нас", by="Автор:", related="Читайте также",
        most_read="Самое читаемое", comments="Комментарии", older="Ранее", newer="Позже", page="Страница",
        newsletter="Подпишитесь на нашу бесплатную еженедельную рассылку о Казахстане и Центральной Азии.",
        subscribe="Подписаться", share="Поделиться", tags="Теги", read_more="Читать далее", exclusive="Эксклюзив",
        footer="Все права защищены. Независимая журналистика о регионе с 1998 года.",
        latest="Последние новости", topics="Темы", contact="Контакты", rss="RSS",
        comment_texts=("Спасибо за понятный материал, переслал его коллегам.",
                       "Хотелось бы прочитать продолжение через несколько месяцев."),
        about_title="О «Каспийском вестнике»",
        about_paragraphs=(
            "«Каспийский вестник» — независимая редакция, которую основали несколько журналистов, желавших "
            "подробнее и внимательнее писать о политике, экономике и повседневной жизни региона. Нас поддерживают "
            "читатели и благотворительный фонд; мы не берём денег у государственных органов и партий.",
            "Наши редакторы работают в трёх городах, корреспонденты пишут на нескольких языках. Каждый материал "
            "перед публикацией читает второй редактор, а ошибки мы исправляем открыто, в конце статьи.",
            "Написать в редакцию можно по электронной почте, а документы — передать через защищённую форму на "
            "странице контактов. Мы читаем все письма, хотя ответить на каждое не успеваем.",
        ),
        archive_intro="Все опубликованные материалы по месяцам.",
        tag_intro="Все материалы с тегом «{tag}», сначала новые.",
        section_intro="Свежие материалы рубрики «{section}».",
        author_bio="{name} — штатный корреспондент издания «{site}», пишет о политике, экономике и обществе.",
        tag_names={"kazakhstan": "Казахстан", "united-states": "США", "economy": "Экономика",
                   "society": "Общество", "energy": "Энергетика"},
        authors=("Дана Серикова", "Михаил Тарасов", "Алия Нурпеисова", "Ерлан Абдикаримов"),
        synthetic_lead="Материал номер {n} подготовлен нашей редакцией и подводит главные итоги недели.",
        synthetic_title="Итоги недели {n}",
        months=("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
                "ноябрь", "декабрь"),
        no_stories="Материалов пока нет.",
    ),
    "kk": dict(
        site="Каспий хабаршысы", locale="kk_KZ", home="Басты бет", world="Әлем", business="Экономика",
        kazakhstan="Қазақстан", archive="Мұрағат", about="Біз туралы", by="Авторы:", related="Тақырыптас жаңалықтар",
        most_read="Көп оқылғандар", comments="Пікірлер", older="Бұрынғы", newer="Кейінгі", page="Бет",
        newsletter="Қазақстан мен Орталық Азия туралы апталық тегін жаңалықтар таратылымына жазылыңыз.",
        subscribe="Жазылу", share="Бөлісу", tags="Тегтер", read_more="Толығырақ", exclusive="Эксклюзив",
        footer="Барлық құқықтар қорғалған. 1998 жылдан бері өңір туралы тәуелсіз журналистика.",
        latest="Соңғы жаңалықтар", topics="Тақырыптар", contact="Байланыс", rss="RSS",
        comment_texts=("Түсінікті мақала үшін рахмет, әріптестеріме жібердім.",
                       "Бірнеше айдан кейін осы тақырыптың жалғасын оқығым келеді."),
        about_title="«Каспий хабаршысы» туралы",
        about_paragraphs=(
            "«Каспий хабаршысы» — өңірдегі саясат, экономика және күнделікті өмір туралы мұқият жазғысы келген "
            "бірнеше журналист құрған тәуелсіз редакция. Бізді оқырмандар мен қайырымдылық қоры қолдайды, біз "
            "мемлекеттік органдар мен партиялардан ақша алмаймыз.",
            "Редакторларымыз үш қалада жұмыс істейді, тілшілеріміз бірнеше тілде жазады. Әр материалды жариялар "
            "алдында екінші редактор оқиды, ал қателерді мақаланың соңында ашық түзетеміз.",
            "Редакцияға электрондық пошта арқылы хат жазуға болады, құжаттарды байланыс бетіндегі қорғалған нысан "
            "арқылы жіберуге болады. Біз барлық хатты оқимыз.",
        ),
        archive_intro="Жарияланған барлық материал айлар бойынша.",
        tag_intro="«{tag}» тегі бар барлық материал, алдымен жаңалары.",
        section_intro="«{section}» айдарының соңғы материалдары.",
        author_bio="{name} — «{site}» басылымының тілшісі, саясат, экономика және қоғам туралы жазады.",
        tag_names={"kazakhstan": "Қазақстан", "united-states": "АҚШ", "economy": "Экономика",
                   "society": "Қоғам", "energy": "Энергетика"},
        authors=("Дана Серікқызы", "Ерлан Әбдікәрім", "Әлия Нұрпейісова", "Бауыржан Омаров"),
        synthetic_lead="Біздің редакция дайындаған {n} нөмірлі материал аптаның басты оқиғаларын қорытындылайды.",
        synthetic_title="Апта қорытындысы {n}",
        months=("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
                "қараша", "желтоқсан"),
        no_stories="Әзірге материал жоқ.",
    ),
    "pl": dict(
        site="Kurier Kaspijski", locale="pl_PL", home="Strona główna", world="Świat", business="Gospodarka",
        kazakhstan="Kazachstan", archive="Archiwum", about="O nas", by="Autor:", related="Czytaj także",
        most_read="Najczęściej czytane", comments="Komentarze", older="Starsze", newer="Nowsze", page="Strona",
        newsletter="Zapisz się na nasz bezpłatny cotygodniowy newsletter o Kazachstanie i Azji Środkowej.",
        subscribe="Zapisz się", share="Udostępnij", tags="Tagi", read_more="Czytaj dalej", exclusive="Na wyłączność",
        footer="Wszelkie prawa zastrzeżone. Niezależne dziennikarstwo o regionie od 1998 roku.",
        latest="Najnowsze", topics="Tematy", contact="Kontakt", rss="RSS",
        comment_texts=("Dziękuję za jasny tekst, przesłałem go znajomym z pracy.",
                       "Chętnie przeczytam ciąg dalszy za kilka miesięcy."),
        about_title="O Kurierze Kaspijskim",
        about_paragraphs=(
            "Kurier Kaspijski to niezależna redakcja założona przez kilkoro dziennikarzy, którzy chcieli staranniej "
            "pisać o polityce, gospodarce i codziennym życiu w regionie. Utrzymujemy się z wpłat czytelników i "
            "grantu fundacji; nie przyjmujemy pieniędzy od rządów ani partii politycznych.",
            "Nasi redaktorzy pracują w trzech miastach, a korespondenci piszą w kilku językach. Każdy tekst przed "
            "publikacją czyta drugi redaktor, a błędy poprawiamy jawnie, na końcu artykułu.",
            "Do redakcji można napisać e-mailem, a dokumenty przesłać bezpiecznie przez formularz na stronie "
            "kontaktowej. Czytamy wszystkie wiadomości, choć nie na każdą zdążymy odpowiedzieć.",
        ),
        archive_intro="Wszystkie opublikowane teksty według miesięcy.",
        tag_intro="Wszystkie teksty z tagiem „{tag}”, od najnowszych.",
        section_intro="Najnowsze teksty z działu „{section}”.",
        author_bio="{name} jest stałym korespondentem {site} i pisze o polityce, gospodarce i społeczeństwie.",
        tag_names={"kazakhstan": "Kazachstan", "united-states": "USA", "economy": "Gospodarka",
                   "society": "Społeczeństwo", "energy": "Energetyka"},
        authors=("Dana Serikowa", "Michał Tarnowski", "Alija Nurpeisowa", "Katarzyna Wójcik"),
        synthetic_lead="Materiał numer {n}, przygotowany przez naszą redakcję, podsumowuje najważniejsze wydarzenia "
                       "tygodnia.",
        synthetic_title="Przegląd tygodnia {n}",
        months=("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
                "październik", "listopad", "grudzień"),
        no_stories="Na razie brak tekstów.",
    ),
    "de": dict(
        site="Kaspischer Kurier", locale="de_DE", home="Startseite", world="Welt", business="Wirtschaft",
        kazakhstan="Kasachstan", archive="Archiv", about="Über uns", by="Von", related="Mehr zum Thema",
        most_read="Meistgelesen", comments="Kommentare", older="Ältere Artikel", newer="Neuere Artikel", page="Seite",
        newsletter="Abonnieren Sie unseren kostenlosen wöchentlichen Newsletter über Kasachstan und Zentralasien.",
        subscribe="Abonnieren", share="Teilen", tags="Schlagworte", read_more="Weiterlesen", exclusive="Exklusiv",
        footer="Alle Rechte vorbehalten. Unabhängiger Journalismus aus der Region seit 1998.",
        latest="Neueste Meldungen", topics="Themen", contact="Kontakt", rss="RSS",
        comment_texts=("Danke für den verständlichen Bericht, ich habe ihn weitergeleitet.",
                       "Ich würde gern in ein paar Monaten lesen, was daraus geworden ist."),
        about_title="Über den Kaspischen Kurier",
        about_paragraphs=(
            "Der Kaspische Kurier ist eine unabhängige Redaktion, gegründet von einigen Reporterinnen und Reportern, "
            "die sorgfältiger über Politik, Wirtschaft und Alltag in der Region berichten wollten. Wir werden von "
            "Leserinnen und Lesern und einer Stiftung finanziert und nehmen kein Geld von Regierungen oder Parteien.",
            "Unsere Redaktion arbeitet in drei Städten, unsere Korrespondenten schreiben in mehreren Sprachen. Jeder "
            "Text wird vor der Veröffentlichung von einer zweiten Person geprüft, Fehler korrigieren wir offen.",
            "Sie erreichen die Redaktion per E-Mail; Dokumente können Sie uns über das geschützte Formular auf der "
            "Kontaktseite schicken.",
        ),
        archive_intro="Alle veröffentlichten Artikel nach Monaten.",
        tag_intro="Alle Artikel mit dem Schlagwort „{tag}“, die neuesten zuerst.",
        section_intro="Aktuelle Artikel aus dem Ressort {section}.",
        author_bio="{name} ist Korrespondentin des {site} und schreibt über Politik, Wirtschaft und Gesellschaft.",
        tag_names={"kazakhstan": "Kasachstan", "united-states": "USA", "economy": "Wirtschaft",
                   "society": "Gesellschaft", "energy": "Energie"},
        authors=("Dana Serikowa", "Michael Berger", "Alija Nurpeissowa", "Katrin Vogel"),
        synthetic_lead="Bericht Nummer {n} unserer Redaktion fasst die wichtigsten Entwicklungen der Woche zusammen.",
        synthetic_title="Wochenrückblick {n}",
        months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                "November", "Dezember"),
        no_stories="Noch keine Artikel.",
    ),
}


def strings(language: str) -> dict:
    try:
        return L10N[language]
    except KeyError:
        raise ValueError(f"fixture sites speak {', '.join(L10N)}, not {language!r}") from None


# ------------------------------------------------------------------------------------------- texts

_alloc_lock = threading.Lock()
_assigned: dict[tuple, Text] = {}
_used: set[str] = set()


@functools.cache
def _sentence_pool(language: str, topical: bool) -> tuple[str, ...]:
    """Sentences to stitch synthetic texts from; non-topical ones never name the region's places."""
    pool = [s for t in _texts.HAND_MADE if t.language == language for s in _texts.sentences(t)]
    pool += [s for t in _texts.corpus_texts(language)[:20] for s in _texts.sentences(t) if 40 <= len(s) <= 300]
    if not topical:
        pool = [s for s in pool if not _PLACE_RE.search(s)]
    return tuple(dict.fromkeys(pool))


@functools.cache
def _named_sentences(language: str) -> list[str]:
    return [s for s in _sentence_pool(language, True) if KAZAKHSTAN_RE.search(s)]


def _synthetic(owner: str, slot, language: str, topical: bool) -> Text:
    """A distinct text stitched from hand-made (and corpus) sentences plus a unique lead (pools ran out).

    Topical ones always include sentences naming Kazakhstan; all are longer than 900 characters.
    """
    key = f"{owner}|{slot}|{language}|{topical}"
    rng = random.Random(key)
    n = int(hashlib.sha1(key.encode()).hexdigest()[:6], 16) % 900000 + 100000
    pool = _sentence_pool(language, topical)
    picked: list[str] = []
    if topical:
        named = _named_sentences(language)
        picked = rng.sample(named, min(2, len(named)))
    for i in rng.sample(range(len(pool)), min(len(pool), 60)):
        if sum(map(len, picked)) > 900:
            break
        if pool[i] not in picked:
            picked.append(pool[i])
    rng.shuffle(picked)
    sentences = [strings(language)["synthetic_lead"].format(n=n), *picked]
    paragraphs = tuple(" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3))
    title = strings(language)["synthetic_title"].format(n=n)
    return Text(f"synthetic-{n}", language, title, paragraphs, topical, "synthetic")


def reset_text_allocation() -> None:
    """Forget which texts were handed out, so a test module gets the same texts whatever ran before it in the
    same process (the hand-made pools are small: once used up, synthetic texts take over, and whether those
    name both Kazakhstan and the US depends on the site's URL)."""
    with _alloc_lock:
        _assigned.clear()
        _used.clear()


def pick_text(owner: str, slot, language: str, topical: bool, corpus: bool) -> Text:
    """The text for one article slot of one site: stable per (owner, slot), never shared between slots."""
    akey = (owner, slot, language, topical, corpus)
    with _alloc_lock:
        if akey in _assigned:
            return _assigned[akey]
        if topical:
            candidates = _texts.hand_made(language, True)
        else:
            candidates = (_texts.corpus_texts(language) if corpus else ()) + _texts.hand_made(language, False)
        text = next((t for t in candidates if t.key not in _used), None)
        if text is None:
            text = _synthetic(owner, slot, language, topical)
        _used.add(text.key)
        _assigned[akey] = text
        return text


def snippet_of(text: Text) -> str:
    """A whole sentence from the middle of the body (40-300 characters)."""
    sents = _texts.sentences(text)
    middle = sents[len(sents) // 2:] + sents[1:len(sents) // 2] + sents[:1]
    for s in middle:
        if 40 <= len(s) <= 300:
            return s
    return max(sents, key=len)[:200]


def summary_of(text: Text, limit: int = 180) -> str:
    first = text.paragraphs[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s",
                      "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya", "a", "g", "q", "n",
                      "o", "u", "u", "h", "i"]))


def slugify(title: str, limit: int = 60) -> str:
    """ASCII slug; Cyrillic is transliterated, Polish letters lose their diacritics."""
    low = "".join(_TRANSLIT.get(c, c) for c in title.lower().replace("ł", "l"))
    ascii_ = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")
    return slug[:limit].rstrip("-") or "story"


# ------------------------------------------------------------------------------------------- template

esc = html.escape


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def nice_date(dt: datetime, language: str) -> str:
    month = strings(language)["months"][dt.month - 1]
    return f"{dt.day} {month} {dt.year}" if language != "en" else f"{month} {dt.day}, {dt.year}"


def jsonld(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


@dataclass
class Chrome:
    """Everything around the main content: head links, menu, sidebar, footer."""

    base_url: str
    language: str
    site_name: str
    menu: list[tuple[str, str]]  # (label, path)
    most_read: list[tuple[str, str]] = field(default_factory=list)  # (title, path)
    feeds: list[tuple[str, str]] = field(default_factory=list)  # (type, absolute url): <link rel=alternate>
    extra_footer: str = ""

    @property
    def s(self) -> dict:
        return strings(self.language)


def render_page(chrome: Chrome, *, title: str, main: str, head: str = "", body_class: str = "page",
                lang: str | None = None) -> str:
    """A whole HTML page in the site's template (menu and sidebar name Kazakhstan on every page)."""
    s = strings(lang or chrome.language)
    menu = "\n".join(f'      <li><a href="{chrome.base_url}{p}">{esc(label)}</a></li>' for label, p in chrome.menu)
    most_read = "\n".join(f'        <li><a href="{chrome.base_url}{p}">{esc(t)}</a></li>'
                          for t, p in chrome.most_read[:5])
    alt = "\n".join(f'<link rel="alternate" type="{t}" title="{esc(chrome.site_name)}" href="{u}">'
                    for t, u in chrome.feeds)
    feed_footer = f' · <a href="{chrome.feeds[0][1]}">{s["rss"]}</a>' if chrome.feeds else ""
    return f"""<!DOCTYPE html>
<html lang="{lang or chrome.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<meta property="og:site_name" content="{esc(chrome.site_name)}">
<meta property="og:locale" content="{s['locale']}">
{head}
{alt}
<link rel="stylesheet" href="{chrome.base_url}/static/site.css">
</head>
<body class="{body_class}">
<header class="site-header">
  <div class="logo"><a href="{chrome.base_url}/">{esc(chrome.site_name)}</a></div>
  <nav class="main-menu" aria-label="main">
    <ul>
{menu}
    </ul>
  </nav>
  <form class="search" action="{chrome.base_url}/search/" method="get"><input name="q" type="search"></form>
</header>
<div class="container">
<main id="content">
{main}
</main>
<aside class="sidebar">
  <section class="widget newsletter">
    <h3>{esc(s['kazakhstan'])}</h3>
    <p>{esc(s['newsletter'])}</p>
    <button type="button">{esc(s['subscribe'])}</button>
  </section>
  <section class="widget most-read">
    <h3>{esc(s['most_read'])}</h3>
    <ol>
{most_read}
    </ol>
  </section>
</aside>
</div>
<footer class="site-footer">
  <p><a href="{chrome.base_url}/about/">{esc(s['about'])}</a>
  · <a href="{chrome.base_url}/archive/">{esc(s['archive'])}</a>
  · <a href="mailto:desk@example.org">{esc(s['contact'])}</a>{feed_footer}{chrome.extra_footer}</p>
  <p class="copyright">© 2026 {esc(chrome.site_name)}. {esc(s['footer'])}</p>
</footer>
</body>
</html>
"""


def article_main(*, title: str, paragraphs, author: str, author_path: str, published: datetime, base_url: str,
                 language: str, image: str, tags: list[tuple[str, str]], related: list[tuple[str, str]],
                 comment_texts=(), share_extra: str = "") -> str:
    """The <article> block (byline, figure, body, share box, tags) plus related links and comments."""
    s = strings(language)
    body = "\n".join(f"    <p>{esc(p)}</p>" for p in paragraphs)
    tag_links = " ".join(f'<a rel="tag" href="{base_url}{p}">{esc(label)}</a>' for label, p in tags)
    related_html = "\n".join(f'    <li><a href="{base_url}{p}">{esc(t)}</a></li>' for t, p in related[:3])
    comments = "\n".join(f'    <div class="comment"><p class="comment-author">reader{i + 1}</p><p>{esc(c)}</p></div>'
                         for i, c in enumerate(comment_texts))
    comments_block = (f'<section class="comments" id="comments">\n  <h2>{esc(s["comments"])} ({len(comment_texts)})'
                      f'</h2>\n{comments}\n</section>') if comment_texts else ""
    return f"""<article class="post">
  <h1 class="entry-title">{esc(title)}</h1>
  <div class="byline">{esc(s['by'])} <a rel="author" href="{base_url}{author_path}">{esc(author)}</a> ·
    <time class="published" datetime="{iso(published)}">{esc(nice_date(published, language))}</time></div>
  <figure><img src="{image}" alt="" width="800" height="450"><figcaption>{esc(title)}</figcaption></figure>
  <div class="entry-content">
{body}
  </div>
  <div class="share-box">{esc(s['share'])}: <a href="#">Facebook</a> <a href="#">X</a>
    <a href="#">Telegram</a>{share_extra}</div>
  <div class="post-tags">{esc(s['tags'])}: {tag_links}</div>
</article>
<section class="related">
  <h2>{esc(s['related'])}</h2>
  <ul>
{related_html}
  </ul>
</section>
{comments_block}"""


def article_head(*, url: str, title: str, summary: str, image: str, published: datetime, modified: datetime,
                 author: str, author_url: str, section: str, tags: list[str], language: str, site_name: str,
                 base_url: str, extra: str = "") -> str:
    """Article metadata: canonical, Open Graph article:*, JSON-LD NewsArticle."""
    meta_tags = "\n".join(f'<meta property="article:tag" content="{esc(t)}">' for t in tags)
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "description": summary,
        "datePublished": iso(published), "dateModified": iso(modified), "inLanguage": language,
        "author": [{"@type": "Person", "name": author, "url": author_url}],
        "publisher": {"@type": "Organization", "name": site_name,
                      "logo": {"@type": "ImageObject", "url": f"{base_url}/static/logo.png"}},
        "image": [image], "mainEntityOfPage": {"@type": "WebPage", "@id": url}, "articleSection": section,
        "keywords": tags,
    }
    return f"""<meta name="description" content="{esc(summary)}">
<meta name="author" content="{esc(author)}">
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(title)}">
<meta property="og:description" content="{esc(summary)}">
<meta property="og:url" content="{url}">
<meta property="og:image" content="{image}">
<meta property="article:published_time" content="{iso(published)}">
<meta property="article:modified_time" content="{iso(modified)}">
<meta property="article:author" content="{esc(author)}">
<meta property="article:section" content="{esc(section)}">
{meta_tags}
{extra}
{jsonld(ld)}"""


def listing_head(*, url: str, title: str, description: str, ld_type: str = "CollectionPage",
                 rel_next: str | None = None, rel_prev: str | None = None) -> str:
    """Metadata of a non-article page: og:type website, CollectionPage-like JSON-LD, pagination links."""
    links = ""
    if rel_prev:
        links += f'<link rel="prev" href="{rel_prev}">\n'
    if rel_next:
        links += f'<link rel="next" href="{rel_next}">\n'
    ld = {"@context": "https://schema.org", "@type": ld_type, "name": title, "url": url}
    return f"""<meta name="description" content="{esc(description)}">
<link rel="canonical" href="{url}">
<meta property="og:type" content="website">
<meta property="og:title" content="{esc(title)}">
<meta property="og:url" content="{url}">
{links}{jsonld(ld)}"""


def teaser_list(items, base_url: str, language: str) -> str:
    """Listing entries: headline link, date, a one-sentence teaser (real-looking, not an article)."""
    s = strings(language)
    out = []
    for a, summary, dt in items:
        out.append(f"""  <div class="teaser">
    <h2><a href="{base_url}{a.path}">{esc(a.title)}</a></h2>
    <p class="meta"><time datetime="{iso(dt)}">{esc(nice_date(dt, language))}</time> · {esc(a.author)}</p>
    <p class="excerpt">{esc(summary)} <a class="more" href="{base_url}{a.path}">{esc(s['read_more'])}</a></p>
  </div>""")
    return "\n".join(out) if out else f'  <p class="empty">{esc(s["no_stories"])}</p>'


def page_resource(body: str, modified: datetime, content_type: str | None = None) -> Resource:
    """A page that also answers conditional GETs (ETag from the content, Last-Modified)."""
    raw = body.encode("utf-8")
    kw = {"content_type": content_type} if content_type else {}
    return Resource(raw, etag=hashlib.sha1(raw).hexdigest()[:16], last_modified=modified, **kw)
