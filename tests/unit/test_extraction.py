"""monitor.extract: hand-made pages in several languages and encodings, every rejection reason,
page signals, hints, robustness on arbitrary bytes, and token F1 on the real AEB corpus (slow)."""

from __future__ import annotations

import codecs
import gzip
import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.extract import (Article, PageSignals, RejectReason, Rejection, decode_body, extract_article,
                             normalize_language, normalize_published, page_signals, strip_boilerplate)
from monitor.extract import article as article_module
from monitor.extract import maintext, markup
from tests.support.corpus import CORPUS, aeb_pages, requires_corpus, token_prf

EN_PARAGRAPHS = [
    "Kazakhstan and the United States held the third round of their annual high-level dialogue on human rights "
    "and democratic reforms in Astana on Tuesday, officials from both governments said in a joint statement.",
    "The delegations discussed the rights of people with disabilities, the fight against human trafficking, "
    "freedom of assembly and of speech, support for independent media and the recovery of stolen assets.",
    "The American side welcomed a law adopted in April that toughens penalties for domestic violence and for "
    "violence against children, and said it would keep supporting the political reforms under way.",
    "Both sides agreed to continue the productive exchange and to hold the next meeting of the dialogue in "
    "Washington next year, according to the statement published after the talks ended.",
]
RU_PARAGRAPHS = [
    "Казахстан и Соединённые Штаты провели в Астане третий раунд ежегодного диалога высокого уровня по правам "
    "человека и демократическим реформам, сообщили во вторник в министерстве иностранных дел.",
    "Стороны обсудили права людей с инвалидностью, борьбу с торговлей людьми, свободу собраний и слова, "
    "поддержку независимых средств массовой информации и возврат незаконно выведенных активов.",
    "Американская сторона приветствовала закон, ужесточающий наказание за бытовое насилие и насилие в "
    "отношении детей, и заявила о поддержке политических реформ, которые проводятся в стране.",
    "Следующую встречу в рамках диалога стороны договорились провести в Вашингтоне в будущем году.",
]
KK_PARAGRAPHS = [
    "Қазақстан мен Америка Құрама Штаттары Астанада адам құқықтары және демократиялық реформалар жөніндегі "
    "жыл сайынғы жоғары деңгейдегі диалогтың үшінші отырысын өткізді, деп хабарлады сыртқы істер министрлігі.",
    "Тараптар мүмкіндігі шектеулі адамдардың құқықтарын, адам саудасына қарсы күресті, жиналыс және сөз "
    "бостандығын, тәуелсіз бұқаралық ақпарат құралдарын қолдауды және активтерді қайтаруды талқылады.",
    "Америка тарапы отбасылық зорлық-зомбылық пен балаларға қатысты зорлық үшін жазаны күшейтетін заңның "
    "қабылдануын құптады және елде жүргізіліп жатқан саяси реформаларды қолдайтынын мәлімдеді.",
    "Диалогтың келесі отырысын тараптар келесі жылы Вашингтонда өткізуге келісті.",
]
PL_PARAGRAPHS = [
    "W Astanie odbyło się trzecie spotkanie w ramach dorocznego dialogu wysokiego szczebla na temat praw "
    "człowieka i reform demokratycznych między Republiką Kazachstanu a Stanami Zjednoczonymi.",
    "Strony omówiły prawa osób niepełnosprawnych, zwalczanie handlu ludźmi, zapewnienie wolności zgromadzeń "
    "i wolności słowa, wspieranie rozwoju mediów, a także odzyskiwanie mienia oraz walkę z korupcją.",
    "Strona amerykańska z zadowoleniem przyjęła ustawę zaostrzającą kary za przemoc domową i przemoc wobec "
    "dzieci oraz potwierdziła wsparcie dla reform politycznych i społeczno-gospodarczych w tym kraju.",
    "Kolejne spotkanie dialogu odbędzie się w przyszłym roku w Waszyngtonie, uzgodniły obie strony.",
]


def page(paragraphs, *, title="Kazakhstan and US hold rights dialogue", lang="en-US", head="", charset="utf-8",
         before="", after="", byline=""):
    """A news page: navigation, one <article> with a headline and paragraphs, a footer."""
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    lang_attr = f' lang="{lang}"' if lang else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html{lang_attr}><head>{meta_charset}<title>{title} | Example News</title>{head}</head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/contact">Contact</a></nav></header>
<main><article><h1>{title}</h1>{byline}{before}
{body}
{after}</article></main>
<footer><p>Copyright Example News. All rights reserved.</p></footer></body></html>"""


EN_HEAD = """
<link rel="canonical" href="/world/kz-us-dialogue">
<meta property="og:type" content="article">
<meta property="og:url" content="https://example.com/world/kz-us-dialogue">
<meta property="og:image" content="/img/astana.jpg">
<meta property="og:description" content="Third round of the annual human-rights dialogue.">
<meta property="article:published_time" content="2024-05-17T09:30:00+05:00">
<meta name="author" content="Jane Doe">
<link rel="alternate" hreflang="ru" href="https://example.com/ru/world/kz-us-dialogue">
<link rel="alternate" hreflang="kk-KZ" href="/kk/world/kz-us-dialogue">
<link rel="alternate" hreflang="x-default" href="/world/kz-us-dialogue">
"""
URL = "https://example.com/world/kz-us-dialogue?utm_source=feed"


def article(result) -> Article:
    assert isinstance(result, Article), result
    return result


# --- pages in several languages and encodings ------------------------------------------------------

def test_english_page_metadata_text_and_canonical():
    art = article(extract_article(page(EN_PARAGRAPHS, head=EN_HEAD).encode(), URL, content_type="text/html"))
    assert art.url == URL
    assert art.title == "Kazakhstan and US hold rights dialogue"
    assert art.author == "Jane Doe"
    assert art.published == "2024-05-17T09:30:00+05:00"
    assert art.language == "en"
    assert art.canonical_url == "https://example.com/world/kz-us-dialogue"
    assert art.image == "https://example.com/img/astana.jpg"
    assert art.description == "Third round of the annual human-rights dialogue."
    assert art.text.split("\n") == EN_PARAGRAPHS  # one paragraph a line, no menu or footer
    assert art.first_paragraph == EN_PARAGRAPHS[0]
    assert art.word_count == len(re.findall(r"\w+", " ".join(EN_PARAGRAPHS)))
    assert art.signals.is_article_page


def test_russian_windows_1251_declared_only_in_meta():
    html = page(RU_PARAGRAPHS, title="Казахстан и США продолжили диалог", lang=None, charset="",
                head='<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">')
    body = html.encode("windows-1251")
    assert decode_body(body, content_type="text/html") == html
    art = article(extract_article(body, "https://example.ru/news/1", content_type="text/html"))
    assert art.title == "Казахстан и США продолжили диалог"
    assert art.language == "ru"
    assert "Соединённые Штаты" in art.text and "Вашингтоне" in art.text


def test_koi8r_declared_in_http_header():
    html = page(RU_PARAGRAPHS, title="Диалог по правам человека", lang="ru", charset="")
    art = article(extract_article(html.encode("koi8-r"), "https://example.ru/news/2",
                                  content_type="text/html; charset=KOI8-R"))
    assert art.title == "Диалог по правам человека"
    assert RU_PARAGRAPHS[0] in art.text.split("\n")


def test_undeclared_legacy_cyrillic_is_detected():
    html = page(RU_PARAGRAPHS * 2, title="Диалог по правам человека", lang="ru", charset="")
    assert decode_body(html.encode("windows-1251")) == html
    assert decode_body(html.encode("koi8-r")) == html


def test_kazakh_cyrillic_page():
    art = article(extract_article(page(KK_PARAGRAPHS, title="Қазақстан мен АҚШ диалогы", lang="kk").encode(),
                                  "https://example.kz/kk/news/3"))
    assert art.language == "kk"
    assert art.title == "Қазақстан мен АҚШ диалогы"
    assert "Қазақстан мен Америка Құрама Штаттары" in art.text


def test_declared_language_overruled_when_text_clearly_differs():
    # Site templates often keep lang="ru" (or "en") on every edition.
    art = article(extract_article(page(KK_PARAGRAPHS, lang="ru").encode(), "https://example.kz/kk/news/4"))
    assert art.language == "kk"


def test_polish_windows_1250_with_boilerplate_lines():
    html = page(PL_PARAGRAPHS, title="Kazachstan i Stany Zjednoczone kontynuują dialog", lang=None,
                charset="windows-1250", before="<p>DZIELIĆ:</p>",
                after="<p>reklama</p><p>Udostępnij ten artykuł:</p><p>EU Reporter publikuje artykuły z różnych "
                      "źródeł zewnętrznych, które wyrażają szeroki zakres punktów widzenia. Stanowiska zajęte w tych "
                      "artykułach niekoniecznie są stanowiskami EU Reporter.</p>")
    art = article(extract_article(html.encode("windows-1250"), "https://pl.example.eu/kazachstan/dialog/"))
    assert art.title == "Kazachstan i Stany Zjednoczone kontynuują dialog"
    assert art.language == "pl"  # detected: the page declares none
    assert art.text.split("\n") == PL_PARAGRAPHS


def test_strip_boilerplate_lines():
    text = "\n".join(["Share this article:", "First line of the story.", "ADVERTISEMENT", "", "Реклама",
                      "- Advertisement -", "Second line.", "EU Reporter publishes articles from a variety of "
                      "outside sources which express a wide range of viewpoints. The positions taken in these "
                      "articles are not necessarily those of EU Reporter.", "Shareholders met on Monday."])
    assert strip_boilerplate(text) == "First line of the story.\nSecond line.\nShareholders met on Monday."


@requires_corpus
def test_seed_page_boilerplate_is_stripped():
    seed = (CORPUS / "seed" / "eureporter-pl-kazakhstan-us-dialogue.txt").read_text(encoding="utf-8")
    cleaned = strip_boilerplate(seed)
    for line in ("DZIELIĆ:", "reklama", "Udostępnij ten artykuł:"):
        assert line not in cleaned.split("\n")
    assert "niekoniecznie są stanowiskami EU Reporter" not in cleaned
    assert "W wyniku spotkania osiągnięto porozumienie" in cleaned


# --- decoding ---------------------------------------------------------------------------------------

def test_decode_body_precedence():
    html = page(RU_PARAGRAPHS, lang="ru", charset="windows-1251")
    cp1251 = html.encode("windows-1251")
    # a server default of ISO-8859-1 loses to the page's own meta tag
    assert decode_body(cp1251, content_type="text/html; charset=ISO-8859-1") == html
    # a declared utf-8 that does not decode loses too
    assert decode_body(cp1251, encoding="utf-8") == html
    # undeclared legacy bytes behind a utf-8 label are detected; a stray byte does not spoil UTF-8
    assert decode_body(page(RU_PARAGRAPHS, lang="ru", charset="").encode("windows-1251"),
                       content_type="text/html; charset=utf-8") == page(RU_PARAGRAPHS, lang="ru", charset="")
    assert "Соединённые Штаты" in decode_body(page(RU_PARAGRAPHS, lang="ru").encode() + b"\xff")
    # UTF-8 served as latin-1
    no_meta = page(RU_PARAGRAPHS, lang="ru", charset="")
    assert decode_body(no_meta.encode(), content_type="text/html; charset=iso-8859-1") == no_meta
    # a BOM wins over everything
    utf8 = codecs.BOM_UTF8 + page(EN_PARAGRAPHS, charset="windows-1251").encode()
    assert "Kazakhstan and the United States" in decode_body(utf8, content_type="text/html; charset=koi8-r")
    utf16 = codecs.BOM_UTF16_LE + page(EN_PARAGRAPHS, charset="").encode("utf-16-le")
    assert "Kazakhstan and the United States" in decode_body(utf16)
    assert isinstance(extract_article(utf16, URL), Article)


# --- rejections -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, content_type", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20, "text/html"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "text/html; charset=utf-8"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100), None),
    (gzip.compress(page(EN_PARAGRAPHS).encode()), "text/html"),
    (b"PK\x03\x04" + bytes(100), "application/octet-stream"),
    (bytes(range(256)) * 20, "text/html"),
    (page(EN_PARAGRAPHS).encode(), "application/pdf"),
    (page(EN_PARAGRAPHS).encode(), "image/jpeg"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>', "text/xml"),
    (json.dumps({"title": "not a page", "items": list(range(50))}).encode(), "text/html"),
])
def test_not_html(body, content_type):
    result = extract_article(body, URL, content_type=content_type)
    assert isinstance(result, Rejection) and result.reason is RejectReason.NOT_HTML, result
    assert result.detail


@pytest.mark.parametrize("body", [b"", b"  \r\n\t ", "", "   "])
def test_empty(body):
    assert extract_article(body, URL).reason is RejectReason.EMPTY


def test_too_large_is_not_handed_to_trafilatura(monkeypatch):
    monkeypatch.setattr(maintext, "run_trafilatura", lambda *a, **k: pytest.fail("trafilatura called"))
    body = page(EN_PARAGRAPHS * 50).encode()
    result = extract_article(body, URL, max_bytes=len(body) - 1)
    assert result.reason is RejectReason.TOO_LARGE
    assert f"{len(body):,}" in result.detail and "MONITOR_EXTRACT_MAX_BYTES" in result.detail


def test_no_main_text():
    html = ("<html><head><title>Loading</title></head><body><div id='app'></div>"
            "<script>window.render()</script></body></html>")
    assert extract_article(html.encode(), URL).reason is RejectReason.NO_MAIN_TEXT


def test_too_short():
    result = extract_article(page(["Brief: the dialogue will continue next year in Washington."]).encode(), URL)
    assert result.reason is RejectReason.TOO_SHORT
    assert "min_text_chars=250" in result.detail
    assert isinstance(extract_article(page(EN_PARAGRAPHS[:1]).encode(), URL, min_text_chars=50), Article)


def test_not_article_when_link_followed_page_has_no_signals():
    plain = page(EN_PARAGRAPHS, head="")  # no og:type, no JSON-LD, no date
    result = extract_article(plain.encode(), URL, require_article_signals=True)
    assert result.reason is RejectReason.NOT_ARTICLE
    assert isinstance(extract_article(plain.encode(), URL), Article)  # from a feed or URL pattern: fine
    marked = page(EN_PARAGRAPHS, head='<meta property="og:type" content="article">')
    assert isinstance(extract_article(marked.encode(), URL, require_article_signals=True), Article)
    dated = page(EN_PARAGRAPHS * 2, head='<meta name="date" content="2024-05-17">')
    assert isinstance(extract_article(dated.encode(), URL, require_article_signals=True), Article)


def test_timeout():
    result = extract_article(page(EN_PARAGRAPHS * 20).encode(), URL, timeout=1e-6)
    assert result.reason is RejectReason.TIMEOUT, result
    assert isinstance(extract_article(page(EN_PARAGRAPHS).encode(), URL, timeout=30), Article)


def test_unexpected_exception_becomes_error(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(maintext, "run_trafilatura", boom)
    result = extract_article(page(EN_PARAGRAPHS).encode(), URL)
    assert result.reason is RejectReason.ERROR and "parser exploded" in result.detail


def test_reason_values():
    assert {r.value for r in RejectReason} == {"not_html", "empty", "too_large", "no_main_text", "too_short",
                                               "not_article", "timeout", "error"}
    assert RejectReason.NOT_HTML == "not_html"


# --- page signals -----------------------------------------------------------------------------------

def _jsonld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize("data", [
    {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "x"},
    {"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, {"@type": ["ReportageNewsArticle"]}]},
    [{"@type": "Organization"}, {"@type": "http://schema.org/BlogPosting"}],
    {"@type": "WebPage", "mainEntity": {"@type": "AnalysisNewsArticle"}},
])
def test_jsonld_article_types(data):
    signals = page_signals(f"<html><head>{_jsonld(data)}</head><body></body></html>", URL)
    assert signals.is_article_page, signals.jsonld_types


def test_listing_page_is_not_an_article():
    head = (_jsonld({"@type": "CollectionPage", "hasPart": [{"@type": "NewsArticle"}]}) +
            '<script type="application/ld+json">{not json</script><meta property="og:type" content="website">')
    signals = page_signals(f"<html><head>{head}</head></html>", URL)
    assert signals.jsonld_types == ("CollectionPage",)
    assert not signals.is_article_page


def test_hreflang_and_relative_urls_resolved():
    signals = page_signals(page(EN_PARAGRAPHS, head=EN_HEAD), URL)
    assert signals.hreflang == (("ru", "https://example.com/ru/world/kz-us-dialogue"),
                                ("kk-kz", "https://example.com/kk/world/kz-us-dialogue"),
                                ("x-default", "https://example.com/world/kz-us-dialogue"))
    assert signals.canonical_url == "https://example.com/world/kz-us-dialogue"
    assert signals.og_image == "https://example.com/img/astana.jpg"
    assert signals.html_lang == "en-US" and signals.og_type == "article"
    assert signals.published_meta == "2024-05-17T09:30:00+05:00"
    based = page_signals('<html><head><base href="https://cdn.example.org/en/"><link rel="canonical" '
                         'href="story-1"></head></html>', URL)
    assert based.canonical_url == "https://cdn.example.org/en/story-1"


def test_page_signals_of_garbage():
    assert page_signals("", URL) == PageSignals()
    assert page_signals("\x00\x01 not html", URL).hreflang == ()


def test_jsonld_metadata_used():
    head = _jsonld({"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",
                    "headline": "Dialogue continues", "datePublished": "2024-05-17T09:30:00Z",
                    "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"}],
                    "image": {"@type": "ImageObject", "url": "https://example.com/a.jpg"}}]})
    art = article(extract_article(page(EN_PARAGRAPHS, head=head, title="Dialogue continues").encode(), URL))
    assert art.author == "Jane Doe; John Roe"
    assert art.published == "2024-05-17T09:30:00+00:00"
    assert art.image == "https://example.com/a.jpg"
    assert art.signals.jsonld_types == ("NewsArticle",)


# --- one parse, metadata once -------------------------------------------------------------------------

FRAGMENT = ("<!-- html page --><body><article><h1>A headline here</h1>"
            + "".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS * 2) + "</article></body>")


@pytest.mark.parametrize("html, hints, require", [
    (page(EN_PARAGRAPHS, head=EN_HEAD), {}, False),
    (page(EN_PARAGRAPHS * 3, lang=None, head="", byline='<div class="author">John Smith</div>',  # found by
          before='<time datetime="2024-05-17">May 17, 2024</time>'), {}, False),  # trafilatura's searches
    (page(EN_PARAGRAPHS * 3, head='<meta name="date" content="2024-05-17">'), {}, True),
    (page(EN_PARAGRAPHS, lang=None, head=""), {"author": "Feed Author", "published": "2024-05-17"}, False),
    (page(KK_PARAGRAPHS, lang="ru"), {}, False),
    (FRAGMENT, {}, False),  # no <head>: trafilatura gets the HTML, not a copy of the fragment
])
def test_same_result_as_trafilatura_with_metadata(monkeypatch, html, hints, require):
    """The one-parse path gives what bare_extraction(with_metadata=True) gives (the fallback when a
    trafilatura version lacks the helpers)."""
    fast = extract_article(html.encode(), URL, hints=hints, require_article_signals=require)
    monkeypatch.setattr(maintext, "_traf_api", False)
    assert fast == extract_article(html.encode(), URL, hints=hints, require_article_signals=require)
    assert isinstance(fast, Article)


def test_one_parse_and_metadata_once_per_page(monkeypatch):
    api = dict(maintext.trafilatura_api())
    calls = []
    for name in ("load_html", "examine_meta"):
        monkeypatch.setitem(api, name, lambda *a, _f=api[name], _n=name, **k: calls.append(_n) or _f(*a, **k))
    monkeypatch.setattr(maintext, "_traf_api", api)
    monkeypatch.setattr(markup, "parse_html", lambda html: pytest.fail("parsed twice"))
    passes = []
    real = maintext.run_trafilatura
    monkeypatch.setattr(maintext, "run_trafilatura", lambda source, url, precision, with_metadata=True: (
        passes.append((type(source).__name__, with_metadata)) or real(source, url, precision, with_metadata)))
    monkeypatch.setattr(article_module, "RETRY_SHARE", 10)   # precision's text counts as a fragment: retried
    art = article(extract_article(page(EN_PARAGRAPHS, head=EN_HEAD).encode(), URL))
    assert art.author == "Jane Doe" and art.title == "Kazakhstan and US hold rights dialogue"
    assert passes == [("HtmlElement", False)] * 2  # the balanced pass ran too, on the same tree
    assert calls == ["load_html", "examine_meta"]


def test_oversized_jsonld_left_out_of_trafilatura_metadata(monkeypatch):
    """A huge JSON-LD script (a live blog) can send trafilatura's metadata into a quadratic regex loop;
    it is left to our own linear JSON-LD reading."""
    import trafilatura.metadata

    seen = []
    normalize = trafilatura.metadata.normalize_json
    monkeypatch.setattr(trafilatura.metadata, "normalize_json", lambda s: seen.append(len(s)) or normalize(s))
    def big(author):
        return _jsonld({"@context": "https://schema.org", "@type": "LiveBlogPosting", "headline": "Big headline",
                        "author": author, "articleBody": "update " * 20_000})

    small = _jsonld({"@context": "https://schema.org", "@type": "BlogPosting", "headline": "Small headline",
                     "author": {"@type": "Person", "name": "Ann Small"}})
    art = article(extract_article(page(EN_PARAGRAPHS, head=big({"@type": "Person", "name": "Jane Doe"}) + small)
                                  .encode(), URL))
    assert art.author == "Jane Doe"  # from the big one, through markup.page_facts
    assert art.signals.jsonld_types == ("LiveBlogPosting", "BlogPosting")
    assert max(seen, default=0) <= maintext.JSON_METADATA_MAX_CHARS
    # the big one names no person: the author is asked of trafilatura's metadata, which reads the small one only
    art = article(extract_article(page(EN_PARAGRAPHS, head=big({"@type": "Organization", "name": "Example"})
                                       + small).encode(), URL))
    assert seen and max(seen) <= maintext.JSON_METADATA_MAX_CHARS
    assert art.author == "Ann Small"


# --- hints --------------------------------------------------------------------------------------------

def test_hints_fill_only_what_the_page_lacks():
    bare = page(EN_PARAGRAPHS, lang=None, head="")  # no author, no date, no declared language
    hints = {"title": "Feed title", "author": "Feed Author", "published": "Fri, 17 May 2024 09:30:00 GMT",
             "language": "en-GB"}
    art = article(extract_article(bare.encode(), "https://example.com/world/kz-us-dialogue", hints=hints))
    assert art.title == "Kazakhstan and US hold rights dialogue"  # the page has one
    assert art.author == "Feed Author"
    assert art.published == "2024-05-17T09:30:00+00:00"
    assert art.language == "en"
    full = article(extract_article(page(EN_PARAGRAPHS, head=EN_HEAD).encode(), URL, hints=hints))
    assert (full.author, full.published) == ("Jane Doe", "2024-05-17T09:30:00+05:00")
    struct = time.strptime("2024-05-17 09:30:00", "%Y-%m-%d %H:%M:%S")  # feedparser's published_parsed
    assert article(extract_article(bare.encode(), "https://example.com/a", hints={"published": struct})
                   ).published == "2024-05-17T09:30:00+00:00"


@pytest.mark.parametrize("value, expected", [
    ("2024-05-17", "2024-05-17"), ("2024-05-17T09:30:00Z", "2024-05-17T09:30:00+00:00"),
    ("2024-05-17T09:30:00.123+05:00", "2024-05-17T09:30:00+05:00"), ("Fri, 17 May 2024 09:30:00 +0500",
                                                                     "2024-05-17T09:30:00+05:00"),
    ("May 17, 2024", "2024-05-17"), ("0001-01-01T00:00:00", None), ("not a date", None), ("", None), (None, None),
])
def test_normalize_published(value, expected):
    assert normalize_published(value) == expected


@pytest.mark.parametrize("value, expected", [
    ("en-US", "en"), ("en_GB", "en"), ("kk", "kk"), ("KK-kz", "kk"), ("kaz", "kk"), ("ru_RU", "ru"), ("iw", "he"),
    ("x-default", None), ("", None), (None, None), ("english", None),
])
def test_normalize_language(value, expected):
    assert normalize_language(value) == expected


# --- robustness ---------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=3000),
                      st.text(max_size=2000).map(lambda t: f"<html><body><p>{t}</p></body></html>"),
                      st.text(max_size=500)),
       content_type=st.sampled_from([None, "", "text/html", "text/html; charset=utf-8", "text/html; charset=bogus",
                                     "application/xhtml+xml", "text/plain", "image/png", ";;;"]),
       encoding=st.sampled_from([None, "utf-8", "koi8-r", "no-such-codec"]))
def test_arbitrary_input_never_raises(body, content_type, encoding):
    result = extract_article(body, "https://example.com/x", content_type=content_type, encoding=encoding,
                             min_text_chars=1)
    assert isinstance(result, (Article, Rejection))
    if isinstance(result, Rejection):
        assert isinstance(result.reason, RejectReason) and result.detail


# --- real pages ---------------------------------------------------------------------------------------

@pytest.mark.slow
@requires_corpus
def test_aeb_token_f1():
    scores, rejected = [], []
    for page_id, url, html, truth in aeb_pages():
        result = extract_article(html, url)
        if isinstance(result, Rejection):
            rejected.append((page_id, result.reason.value))
            scores.append(0.0)
        else:
            scores.append(token_prf(result.text, truth)[2])
    mean_f1 = sum(scores) / len(scores)
    print(f"AEB: {len(scores)} pages, mean token F1 {mean_f1:.4f}, rejected {rejected}")
    assert len(scores) >= 180
    assert mean_f1 >= 0.945


def test_time_limit_stops_the_block_restores_the_handler_and_skips_threads():
    import signal
    import threading

    from monitor.extract.timelimit import TimeLimitExceeded, time_limit

    before = signal.getsignal(signal.SIGALRM)
    t0 = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            time.sleep(5)
    assert time.monotonic() - t0 < 2 and signal.getsignal(signal.SIGALRM) == before
    with time_limit(0.05):   # done in time: the alarm is cancelled, nothing fires later
        pass
    time.sleep(0.1)
    done = []

    def in_a_thread():   # signal.signal() would raise ValueError here: the block just runs, uncapped
        with time_limit(0.01):
            time.sleep(0.05)
        done.append(True)

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join(5)
    assert done == [True] and signal.getsignal(signal.SIGALRM) == before   # no cap outside the main thread
