"""Turn one downloaded page into an ``Article`` or a typed ``Rejection``.

Pure functions: no Scrapy, no I/O, no network (safe to run in a process pool).
``extract_article`` never raises; every failure is a ``Rejection`` whose ``detail`` says what to change.

Main text comes from trafilatura in precision mode without comments (the best token F1 measured on the
AEB corpus, see ``benchmarks/extraction_quality.py``), with boilerplate lines and a repeated headline
removed. Metadata: what the page says first, feed/sitemap ``hints`` fill what it lacks, heuristics last:

- title: trafilatura, hints, JSON-LD headline / og:title, the single ``<h1>`` or ``<title>``;
- author: JSON-LD Person names, trafilatura's byline, hints, other meta (organisations);
- published: the page's explicit meta/JSON-LD date, hints, trafilatura's (htmldate) date;
- language: declared (``<html lang>``, Content-Language, og:locale), hints, else detected with py3langid;
  a declared one is overruled when the text is confidently another language.
"""

from __future__ import annotations

import codecs
import email.utils
import enum
import json
import re
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urljoin

__all__ = ["RejectReason", "Rejection", "PageSignals", "Article", "decode_body", "page_signals",
           "extract_article", "ARTICLE_TYPES", "normalize_language", "normalize_published", "detect_language",
           "strip_boilerplate"]


class RejectReason(str, enum.Enum):
    NOT_HTML = "not_html"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NO_MAIN_TEXT = "no_main_text"
    TOO_SHORT = "too_short"
    NOT_ARTICLE = "not_article"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True)
class Rejection:
    reason: RejectReason
    detail: str


# schema.org types that mark a single story (not a listing): the NewsArticle family, Article, blog posts.
ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "SatiricalArticle",
    "BlogPosting", "LiveBlogPosting", "Report",
})


# schema.org types of pages that are not a single story (section fronts, tag pages, about pages).
LISTING_TYPES = frozenset({
    "CollectionPage", "ItemList", "WebSite", "AboutPage", "ProfilePage", "ContactPage", "SearchResultsPage",
    "FAQPage", "QAPage",
})


@dataclass(frozen=True)
class PageSignals:
    """What the page's markup says about itself (URLs are absolute)."""

    canonical_url: str | None = None
    og_url: str | None = None
    og_type: str | None = None
    jsonld_types: tuple[str, ...] = ()
    hreflang: tuple[tuple[str, str], ...] = ()   # (lang as written, lower-cased; absolute URL)
    og_image: str | None = None
    html_lang: str | None = None
    published_meta: str | None = None             # raw article:published_time / JSON-LD datePublished ...

    @property
    def declares_listing(self) -> bool:
        """True when JSON-LD says the page is a listing, site or about page and nothing says article."""
        return not self.is_article_page and any(t in LISTING_TYPES for t in self.jsonld_types)

    @property
    def is_article_page(self) -> bool:
        """True when Open Graph or JSON-LD declares a single article (a listing page does not)."""
        if self.og_type and self.og_type.strip().lower() == "article":
            return True
        return any(t in ARTICLE_TYPES for t in self.jsonld_types)


@dataclass(frozen=True)
class Article:
    url: str
    title: str | None
    author: str | None
    published: str | None          # ISO 8601 date ("2024-05-17") or datetime
    language: str | None           # ISO 639-1
    text: str                      # main text, one paragraph a line
    word_count: int
    canonical_url: str | None
    description: str | None
    image: str | None
    signals: PageSignals

    @property
    def first_paragraph(self) -> str:
        """The lead: first line of eight words or more (skips datelines and subheads), else the first line."""
        lines = [ln.strip() for ln in self.text.split("\n") if ln.strip()]
        for ln in lines:
            if len(_WORD.findall(ln)) >= 8:
                return ln
        return lines[0] if lines else ""


_WORD = re.compile(r"\w+")

# --------------------------------------------------------------------------------------------------
# Decoding and sniffing
# --------------------------------------------------------------------------------------------------

_MAGIC = (  # prefixes of formats that are never an HTML page, whatever the Content-Type says
    (b"%PDF-", "a PDF file"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"PK\x03\x04", "a zip archive (or docx/xlsx)"),
    (b"\x1f\x8b", "gzip data (the response was not decompressed)"), (b"BZh", "bzip2 data"),
    (b"7z\xbc\xaf", "a 7z archive"), (b"\xd0\xcf\x11\xe0", "an MS Office file"), (b"OggS", "an Ogg file"),
    (b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"wOFF", "a web font"), (b"wOF2", "a web font"),
    (b"%!PS", "a PostScript file"), (b"\x00\x00\x01\x00", "an icon"), (b"{\\rtf", "an RTF file"),
)
_RIFF_KINDS = {b"WEBP": "a WebP image", b"WAVE": "a WAV file", b"AVI ": "an AVI video"}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "application/html", "text/xhtml"}
_MAYBE_HTML_TYPES = {"", "text/plain", "application/octet-stream", "binary/octet-stream", "text/xml",
                     "application/xml", "application/x-httpd-php", "unknown/unknown", "text/*", "*/*"}
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))  # 27: ISO-2022 escapes
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_FEED_ROOT = re.compile(r"\A(?:\s|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(rss|feed|urlset|sitemapindex|rdf:RDF)\b",
                        re.I | re.S)
_MARKUP = re.compile(r"<(?:[a-zA-Z!?/])")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset_param(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    return m.group(1) if m else None


def _codec(name: str | None) -> str | None:
    """Python codec for a declared charset, WHATWG-style (latin-1 means windows-1252), None if unknown."""
    if not name:
        return None
    from w3lib.encoding import resolve_encoding

    return resolve_encoding(name.strip().strip("\"'"))


def _sniff_binary(body: bytes) -> str | None:
    """What the bytes are if they are clearly not a text document, else None."""
    head = body[:16].lstrip()
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(b"RIFF") and body[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[body[8:12]]
    if any(body.startswith(bom) for bom, enc in _BOMS if enc.startswith("utf-16") or enc.startswith("utf-32")):
        return None  # UTF-16/32 text legitimately has NUL bytes
    sample = body[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(sample) // 100):
        return f"binary data ({controls} control bytes in the first {len(sample)})"
    return None


def decode_body(body: bytes, *, encoding: str | None = None, content_type: str | None = None) -> str:
    """Bytes to text: BOM, else declared encoding (argument, then Content-Type charset), else
    ``<meta charset>``, else UTF-8 if it decodes cleanly, else charset detection.

    A BOM wins because it cannot be there by accident (HTML standard). A declared encoding that fails
    strict decoding loses to the meta one (servers that label every page utf-8); a declared
    latin-1/windows-1252 (a frequent server default) loses to the meta one and to valid UTF-8.
    Pass as ``encoding`` only a charset the server declared, not Scrapy's ``response.encoding`` guess
    (it falls back to cp1252, wrong for undeclared koi8-r/windows-1251 pages). Never raises: undecodable bytes become U+FFFD.
    """
    if isinstance(body, str):
        return body
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, "replace")
    from w3lib.encoding import html_body_declared_encoding

    declared = _codec(encoding) or _codec(_charset_param(content_type))
    meta = _codec(html_body_declared_encoding(body[:8192]))
    if meta in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        meta = "utf-8"  # a meta tag readable as ASCII means the page is not UTF-16 (HTML standard)
    order = (declared, meta, "utf-8")
    if declared == "cp1252":  # "ISO-8859-1" is a common server default: the page's meta, or valid UTF-8, knows better
        order = (meta, "utf-8", declared)
    candidates = list(dict.fromkeys(c for c in order if c))
    for candidate in candidates:
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    for candidate in candidates:  # a few stray bytes in an otherwise right encoding
        text = body.decode(candidate, "replace")
        if text.count("\ufffd") <= len(body) // 1000:
            return text
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        guess = best.encoding if best else None
    except Exception:  # detection is best effort
        guess = None
    return body.decode(guess or declared or meta or "windows-1252", "replace")


# --------------------------------------------------------------------------------------------------
# Page signals (lxml)
# --------------------------------------------------------------------------------------------------

_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
_PUBLISHED_META = ("article:published_time", "og:published_time", "article:published", "datepublished",
                   "publishdate", "publish-date", "pubdate", "parsely-pub-date", "sailthru.date", "dc.date",
                   "dc.date.issued", "dcterms.created", "dcterms.date", "date", "cxenseparse:recs:publishtime")


def _parse_html(html: str):
    """lxml tree of the page, or None. Goes through UTF-8 bytes so XML declarations do not trip lxml."""
    import lxml.html

    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except Exception:  # lxml raises on documents it finds empty
        return None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _abs(base: str, href: str | None) -> str | None:
    href = _clean(href)
    if not href or href.lower().startswith(("javascript:", "data:", "mailto:")):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _jsonld_objects(tree) -> list[dict]:
    """Top-level JSON-LD objects, with ``@graph`` members and lists flattened."""
    objects: list[dict] = []

    def add(node, depth=0):
        if depth > 4:
            return
        if isinstance(node, list):
            for item in node:
                add(item, depth + 1)
        elif isinstance(node, dict):
            if "@graph" in node:
                add(node["@graph"], depth + 1)
            if "@type" in node:
                objects.append(node)
                main = node.get("mainEntity")  # WebPage -> mainEntity: NewsArticle
                if isinstance(main, (dict, list)):
                    add(main, depth + 1)

    for script in tree.xpath("//script[contains(translate(@type,'JSONLD','jsonld'),'ld+json')]"):
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(<!--|<!\[CDATA\[)|(-->|\]\]>)\s*$", "", raw)
        if not raw:
            continue
        try:
            add(json.loads(raw, strict=False))
        except ValueError:
            continue
    return objects


def _types(obj: dict) -> list[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return [str(v).rstrip("/").rsplit("/", 1)[-1] for v in values if isinstance(v, str) and v]


def _name(value: Any, persons_only: bool = False) -> str | None:
    """A schema.org Person/Organization/string (or a list of them) as one display string."""
    if isinstance(value, list):
        names = [n for n in (_name(v, persons_only) for v in value) if n]
        return "; ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        if persons_only and "Person" not in _types(value):
            return None
        return _byline(value.get("name"))
    return None if persons_only else _byline(value) if isinstance(value, str) else None


def _byline(value: Any) -> str | None:
    """'By JANE DOE' -> 'JANE DOE'; profile URLs are not names."""
    text = _clean(value)
    if not text or text.startswith(("http://", "https://")):
        return None
    return re.sub(r"^(by|von|par|por|di|door|автор[:\s]|текст[:\s])\s*", "", text, flags=re.I).strip() or None


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        return next((u for u in (_image(v) for v in value) if u), None)
    if isinstance(value, dict):
        return _clean(value.get("url") or value.get("contentUrl"))
    return _clean(value) if isinstance(value, str) else None


def _page_facts(tree, url: str) -> tuple[PageSignals, dict[str, str | None]]:
    """Signals plus the metadata the markup declares (title, author, published, description, image)."""
    base = url
    for href in tree.xpath("//base/@href")[:1]:
        base = _abs(url, href) or url

    meta: dict[str, str] = {}
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "")
        key = key.strip().lower()
        if key and key not in meta and _clean(el.get("content")):
            meta[key] = _clean(el.get("content"))

    canonical = None
    hreflang: list[tuple[str, str]] = []
    for link in tree.xpath("//link[@rel][@href]"):
        rel = link.get("rel", "").lower().split()
        if "canonical" in rel and canonical is None:
            canonical = _abs(base, link.get("href"))
        if "alternate" in rel and link.get("hreflang"):
            href = _abs(base, link.get("href"))
            if href:
                hreflang.append((link.get("hreflang").strip().lower(), href))

    objects = _jsonld_objects(tree)
    types = tuple(dict.fromkeys(t for obj in objects for t in _types(obj)))
    story = next((o for o in objects if set(_types(o)) & ARTICLE_TYPES), None) or {}

    html_lang = None
    for value in tree.xpath("/html/@lang | /html/@xml:lang",
                            namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}):
        html_lang = _clean(value)
        break
    html_lang = html_lang or meta.get("content-language") or meta.get("og:locale") or meta.get("language")

    published = next((meta[k] for k in _PUBLISHED_META if meta.get(k)), None)
    published = published or _clean(story.get("datePublished")) or _clean(story.get("dateCreated"))

    signals = PageSignals(
        canonical_url=canonical,
        og_url=_abs(base, meta.get("og:url")),
        og_type=meta.get("og:type"),
        jsonld_types=types,
        hreflang=tuple(dict.fromkeys(hreflang)),
        og_image=_abs(base, meta.get("og:image") or meta.get("og:image:url") or meta.get("og:image:secure_url")),
        html_lang=html_lang,
        published_meta=published,
    )
    titles = tree.xpath("//title/text()")
    h1s = [t for t in (_clean(h.text_content()) for h in tree.xpath("//h1")) if t]
    facts = {
        "title": _clean(story.get("headline")) or meta.get("og:title") or meta.get("twitter:title"),
        "fallback_title": h1s[0] if len(h1s) == 1 else (_clean(titles[0]) if titles else None),
        "person_author": _name(story.get("author"), persons_only=True),
        "author": _name(story.get("author")) or next(
            (a for a in map(_byline, map(meta.get, _AUTHOR_META)) if a), None),
        "description": meta.get("og:description") or meta.get("description") or _clean(story.get("description")),
        "image": _abs(base, _image(story.get("image"))),
    }
    return signals, facts


def page_signals(html: str, url: str) -> PageSignals:
    """Canonical/og/JSON-LD/hreflang signals of a page; empty signals for unparsable input."""
    try:
        tree = _parse_html(html)
        return _page_facts(tree, url)[0] if tree is not None else PageSignals()
    except Exception:
        return PageSignals()


# --------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------

_ISO639_3 = {"eng": "en", "rus": "ru", "kaz": "kk", "pol": "pl", "deu": "de", "ger": "de", "fra": "fr",
             "fre": "fr", "spa": "es", "ita": "it", "por": "pt", "ukr": "uk", "zho": "zh", "chi": "zh",
             "jpn": "ja", "kor": "ko", "tur": "tr", "ara": "ar", "nld": "nl", "dut": "nl", "uzb": "uz",
             "kir": "ky", "bel": "be", "ces": "cs", "cze": "cs"}
_OLD_CODES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}


def normalize_language(value: Any) -> str | None:
    """'en-US', 'en_GB', 'kk', 'kaz' -> ISO 639-1 ('en', 'kk'); None for anything else."""
    text = _clean(value)
    if not text:
        return None
    code = re.split(r"[-_\s,;]", text.lower(), maxsplit=1)[0]
    code = _ISO639_3.get(code, _OLD_CODES.get(code, code))
    return code if re.fullmatch(r"[a-z]{2}", code) else None


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalize_published(value: Any) -> str | None:
    """A date/datetime/struct_time/string (ISO 8601, RFC 822, loose) as ISO 8601; None if implausible.

    Inputs without a time of day stay dates (no invented midnight); years outside 1990..next year are
    dropped (placeholders such as 0001-01-01).
    """
    if value is None:
        return None
    if hasattr(value, "tm_year") and not isinstance(value, (date, str)):  # feedparser's struct_time is UTC
        value = datetime(*value[:6], tzinfo=timezone.utc)
    if isinstance(value, (datetime, date)):
        dt = value
    else:
        text = _clean(value)
        if not text:
            return None
        dt = None
        for parse in (_iso_parse, email.utils.parsedate_to_datetime, _dateutil_parse):
            try:
                dt = parse(text)
            except (ValueError, TypeError, OverflowError, IndexError):
                continue
            if dt is not None:
                break
        if isinstance(dt, datetime) and ":" not in text and (dt.hour, dt.minute, dt.second) == (0, 0, 0):
            dt = dt.date()
    if dt is None or not (1990 <= dt.year <= datetime.now().year + 1):
        return None
    return dt.isoformat(timespec="seconds") if isinstance(dt, datetime) else dt.isoformat()


def _iso_parse(text: str) -> date | datetime:
    if _DATE_ONLY.match(text):
        return date.fromisoformat(text)
    return datetime.fromisoformat(re.sub(r"Z$", "+00:00", text))


def _dateutil_parse(text: str) -> datetime | None:
    import warnings

    from dateutil import parser

    with warnings.catch_warnings():  # "tzname IST identified but not understood": keep the naive time
        warnings.simplefilter("ignore")
        return parser.parse(text, fuzzy=False)


_langid = None
_langid_lock = threading.Lock()


def detect_language(text: str) -> tuple[str | None, float]:
    """py3langid on the first 3,000 characters: (ISO 639-1, probability), or (None, 0.0)."""
    global _langid
    sample = (text or "")[:3000]
    if len(sample.strip()) < 20:
        return None, 0.0
    try:
        with _langid_lock:
            if _langid is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                load = getattr(LanguageIdentifier, "from_model_file", None) \
                    or LanguageIdentifier.from_pickled_model  # py3langid < 0.4
                _langid = load(MODEL_FILE, norm_probs=True)
        lang, prob = _langid.classify(sample)
        return normalize_language(lang), float(prob)
    except Exception:
        return None, 0.0


# Languages a detector confuses with each other: a declared one of these is not overruled.
_CLOSE_LANGUAGES = ({"no", "nb", "nn", "da"}, {"sr", "hr", "bs"}, {"ms", "id"})


# A declared language that the first this many characters agree with stands without classifying the full
# 3,000-character sample (~1 ms instead of ~2.5); no corpus page's result changed.
_LEAD_CHARS = 1000


def _language(text: str, declared: str | None) -> str | None:
    """The declared language unless the text clearly is another one (templates that say lang="en" on
    Zulu or Kazakh pages, or "de" on an English edition); undeclared: detected."""
    if declared and len(text) >= 200 and detect_language(text[:_LEAD_CHARS])[0] == declared:
        return declared
    detected, prob = detect_language(text) if (not declared or len(text) >= 200) else (None, 0.0)
    if not declared:
        return detected
    if detected and detected != declared and prob >= 0.99 \
            and not any(declared in group and detected in group for group in _CLOSE_LANGUAGES):
        return detected
    return declared


# --------------------------------------------------------------------------------------------------
# Boilerplate lines
# --------------------------------------------------------------------------------------------------

# Whole lines that are never part of a story: share prompts and ad labels (several languages), and the
# EU Reporter disclaimer (every language edition starts and ends it with "EU Reporter").
_BOILERPLATE = re.compile(
    r"^[\W_]*(?:share|share (?:this|the) (?:article|story|post|page)|share on \w+|dzielić|"
    r"udostępnij(?: ten artykuł)?|podziel się|поделиться|поделитесь|бөлісу|teilen|artikel teilen|partager|"
    r"compartir|condividi|compartilhe|compartilhar|advertisement|advertising|sponsored content|reklama|"
    r"реклама|жарнама|anzeige|werbung|publicidade|publicidad|pubblicità|publicité)[\W_]*$"
    r"|^EU Reporter\b.{20,400}\bEU Reporter\W*$",
    re.I,
)


def strip_boilerplate(text: str) -> str:
    """Drop boilerplate lines (see ``_BOILERPLATE``) and blank runs; paragraphs stay one a line."""
    lines = [ln.strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln and not _BOILERPLATE.match(ln))


# --------------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------------

# favor_precision keeps only a fragment on some pages (a notice instead of the story): when its text is
# shorter than this, a balanced pass runs too and wins if it finds RETRY_GAIN times as much text.
RETRY_BELOW_CHARS = 1000
RETRY_GAIN = 3
# require_article_signals: without og/JSON-LD article markup, a date plus this much text still counts.
UNMARKED_ARTICLE_MIN_CHARS = 1000


_NO_TEXT = "no main text found (an index, media or script-rendered page?)"


class _Timeout(BaseException):
    """BaseException so that trafilatura's own ``except Exception`` blocks cannot swallow it."""


def _trafilatura(source, url: str, precision: bool, with_metadata: bool = True):
    """``source``: HTML or a tree from ``load_html`` (trafilatura copies a tree it is given)."""
    from trafilatura import bare_extraction

    return bare_extraction(source, url=url, include_comments=False, with_metadata=with_metadata,
                           favor_precision=precision, favor_recall=False, deduplicate=False)


# JSON-LD scripts longer than this are left out of trafilatura's metadata pass: a live blog's 840 KB one
# that its normalisation breaks sends it into a quadratic regex fallback (seconds). ``_page_facts`` reads them.
JSON_METADATA_MAX_CHARS = 100_000
_META_SCRIPTS = './/script[@type="application/ld+json" or @type="application/settings+json"]'
_traf_api: Any = None  # trafilatura's parse and metadata helpers; False if this version lacks them


def _trafilatura_api():
    global _traf_api
    if _traf_api is None:
        try:
            from trafilatura.metadata import (examine_meta, extract_author, extract_meta_json, extract_title,
                                              extract_url, find_date)
            from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params
            from trafilatura.utils import line_processing, load_html
        except ImportError:  # a version that moved them: fall back to bare_extraction(with_metadata=True)
            _traf_api = False
        else:
            _traf_api = dict(examine_meta=examine_meta, extract_author=extract_author,
                             extract_meta_json=extract_meta_json, extract_title=extract_title,
                             extract_url=extract_url, find_date=find_date, DEFAULT_CONFIG=DEFAULT_CONFIG,
                             Document=Document, set_date_params=set_date_params,
                             line_processing=line_processing, load_html=load_html)
    return _traf_api


class _PageMetadata:
    """trafilatura's ``extract_metadata`` in its order, cut to the fields used and run once per page
    rather than once per extraction pass; the costly author and date searches only run when asked.
    A failing step leaves its field empty (inside bare_extraction it could cost the whole page)."""

    def __init__(self, api: dict, tree, url: str):
        self._api, self._tree, self._url = api, tree, url
        self._doc = self._attempt("examine_meta", tree) or api["Document"]()
        if self._doc.author and " " not in self._doc.author:
            self._doc.author = None
        self._json_done = self._author_done = self._date_done = False
        if not self._doc.title:  # JSON-LD only adds a title where the meta tags have none; else it is for the author
            self._meta_json()
            if not self._doc.title:
                self._doc.title = self._attempt("extract_title", tree)
        self.title, self.description, self.image = map(self._trim, (self._doc.title, self._doc.description,
                                                                    self._doc.image))

    def _meta_json(self):
        if not self._json_done:
            self._doc = self._attempt("extract_meta_json", self._small_json_scripts(), self._doc) or self._doc
            self._json_done = True

    def _attempt(self, name: str, *args, **kwargs):
        try:
            return self._api[name](*args, **kwargs)
        except Exception:  # not _Timeout (a BaseException)
            return None

    def _trim(self, value: Any) -> Any:
        """``Document.clean_and_trim`` for one value."""
        if not isinstance(value, str):
            return value
        from html import unescape

        if len(value) > 10000:
            value = value[:9999] + "…"
        return self._api["line_processing"](unescape(value))

    def _small_json_scripts(self):
        """The tree, or if it has oversized JSON scripts a holder of copies of the others."""
        scripts = self._tree.xpath(_META_SCRIPTS)
        if all(len(s.text or "") <= JSON_METADATA_MAX_CHARS for s in scripts):
            return self._tree
        import copy

        import lxml.html

        holder = lxml.html.Element("div")
        holder.extend(copy.deepcopy(s) for s in scripts if len(s.text or "") <= JSON_METADATA_MAX_CHARS)
        return holder

    @property
    def author(self) -> str | None:
        if not self._author_done:
            self._meta_json()
            if not self._doc.author:
                self._doc.author = self._attempt("extract_author", self._tree)
            self._author_done = True
        return self._trim(self._doc.author)

    @property
    def date(self) -> str | None:
        if not self._date_done:
            api, doc = self._api, self._doc
            if not doc.url:
                doc.url = self._attempt("extract_url", self._tree, self._url)
            # the date_params trafilatura's Extractor builds by default
            params = api["set_date_params"](api["DEFAULT_CONFIG"].getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
            params["url"] = doc.url
            doc.date = self._attempt("find_date", self._tree, **params)
            self._date_done = True
        return self._trim(self._doc.date)


def _main_text(doc) -> str:
    return strip_boilerplate(getattr(doc, "text", None) or "") if doc is not None else ""


def _drop_headline(text: str, title: str | None) -> str:
    """Text without a first line that repeats the title (trafilatura keeps an <h1> inside <article>);
    the title is stored on its own, and dropping it raised AEB token F1."""
    first, _, rest = text.partition("\n")
    key = lambda s: " ".join(_WORD.findall((s or "").lower()))  # noqa: E731
    return rest if title and key(first) == key(title) else text


def extract_article(body: bytes | str, url: str, *, encoding: str | None = None, content_type: str | None = None,
                    hints: Mapping | None = None, min_text_chars: int = 250, max_bytes: int = 2_000_000,
                    require_article_signals: bool = False, timeout: float | None = None) -> Article | Rejection:
    """Main text and metadata of one page, or why not. Never raises.

    ``timeout`` (seconds) uses SIGALRM, so it only applies in a process's main thread (e.g. a pool
    worker); elsewhere it is ignored and the caller must bound the time itself.
    """
    use_alarm = bool(timeout) and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = None
    try:
        try:
            if use_alarm:
                previous = signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, timeout)
            return _extract(body, url, encoding=encoding, content_type=content_type, hints=hints or {},
                            min_text_chars=min_text_chars, max_bytes=max_bytes,
                            require_article_signals=require_article_signals)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        return Rejection(RejectReason.TIMEOUT, f"extraction took longer than {timeout} s; lower the size cap "
                                               "(MONITOR_EXTRACT_MAX_BYTES) or raise MONITOR_EXTRACT_TIMEOUT")
    except RecursionError:
        return Rejection(RejectReason.ERROR, "page nesting too deep to parse (RecursionError)")
    except Exception as exc:  # contract: never raise
        return Rejection(RejectReason.ERROR, f"unexpected {type(exc).__name__} while extracting: {exc}"[:500])
    finally:
        if use_alarm and previous is not None:
            signal.signal(signal.SIGALRM, previous)


def _on_alarm(signum, frame):
    raise _Timeout()


def _extract(body, url, *, encoding, content_type, hints, min_text_chars, max_bytes, require_article_signals):
    if body is None or (isinstance(body, (bytes, bytearray, memoryview)) and not bytes(body).strip()) \
            or (isinstance(body, str) and not body.strip()):
        return Rejection(RejectReason.EMPTY, "empty response body (the server sent nothing, or only whitespace)")
    media = _media_type(content_type)
    if media not in _HTML_TYPES and media not in _MAYBE_HTML_TYPES:
        return Rejection(RejectReason.NOT_HTML, f"Content-Type is {media!r}, not an HTML page; "
                                                "leave such links out of the source's URL patterns")
    if isinstance(body, str):
        size = len(body.encode("utf-8", "replace"))
    else:
        body = bytes(body)
        size = len(body)
        what = _sniff_binary(body)
        if what:
            return Rejection(RejectReason.NOT_HTML,
                             f"body is {what}, not HTML (Content-Type said {media or 'nothing'!r})")
    if size > max_bytes:
        return Rejection(RejectReason.TOO_LARGE, f"page is {size:,} bytes, above max_bytes={max_bytes:,} "
                         "(MONITOR_EXTRACT_MAX_BYTES); raise it only for sites known to be huge")

    html = decode_body(body, encoding=encoding, content_type=content_type)
    html = html.replace("\x00", "")
    feed = _FEED_ROOT.match(html[:4096])
    if feed:
        return Rejection(RejectReason.NOT_HTML, f"body is an XML <{feed.group(1)}> document (a feed or sitemap), "
                                                "not an article page")
    if not _MARKUP.search(html[:65536]):
        return Rejection(RejectReason.NOT_HTML, "body has no HTML markup in its first 64 KB (plain text or JSON?)")

    # One parse, trafilatura's own (same tree as if it parsed the page), serves our page facts and both of
    # its passes; metadata is gathered once, not per pass.
    api = _trafilatura_api()
    tree = api["load_html"](html) if api else _parse_html(html)
    if tree is None:
        if api and _parse_html(html) is not None:  # lxml can read it, trafilatura rejects it as not HTML
            return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
        return Rejection(RejectReason.NO_MAIN_TEXT, "HTML could not be parsed into a document")
    signals, facts = _page_facts(tree, url)

    # A fragment's root (no <head>) would lose the rest of its document in trafilatura's copy: pass the HTML.
    source = tree if api and tree.getparent() is None else html
    doc = _trafilatura(source, url, precision=True, with_metadata=not api)
    text = _main_text(doc)
    if len(text) < RETRY_BELOW_CHARS:
        balanced = _trafilatura(source, url, precision=False, with_metadata=not api)
        balanced_text = _main_text(balanced)
        if len(balanced_text) >= RETRY_GAIN * max(len(text), 1) or (len(text) < min_text_chars < len(balanced_text)):
            doc, text = balanced, balanced_text
    if not text:
        return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
    meta = _PageMetadata(api, tree, url) if api else doc
    hint = {k: hints.get(k) for k in ("title", "author", "published", "language")}
    title = _clean(getattr(meta, "title", None)) or _clean(hint["title"]) or facts["title"] or facts["fallback_title"]
    text = _drop_headline(text, title)
    if not text:
        return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
    if len(text) < min_text_chars:
        return Rejection(RejectReason.TOO_SHORT, f"main text is {len(text)} characters, below min_text_chars="
                                                 f"{min_text_chars} (MONITOR_MIN_TEXT_CHARS)")

    if signals.declares_listing:
        return Rejection(RejectReason.NOT_ARTICLE,
                         f"page declares itself a {'/'.join(signals.jsonld_types)} (a listing or site page), "
                         "not an article")
    if require_article_signals and not signals.is_article_page:
        if not (len(text) >= UNMARKED_ARTICLE_MIN_CHARS and normalize_published(getattr(meta, "date", None))):
            return Rejection(RejectReason.NOT_ARTICLE,
                             "link-followed page has no og:type=article or JSON-LD article type, and no date with "
                             f"{UNMARKED_ARTICLE_MIN_CHARS}+ characters of text; add an article URL pattern to the "
                             "source if such pages are stories")

    # JSON-LD Person names are cleaner than trafilatura's byline heuristics ("Jeff Foust Monday; November").
    author = facts["person_author"] or _byline(getattr(meta, "author", None)) or _byline(hint["author"]) \
        or facts["author"]
    # A date the page states outright, else the feed's/sitemap's, else trafilatura's (htmldate may guess it
    # from the URL or the text when the page states none).
    published = normalize_published(signals.published_meta) or normalize_published(hint["published"]) \
        or normalize_published(getattr(meta, "date", None))
    declared = normalize_language(signals.html_lang) or normalize_language(getattr(doc, "language", None))
    language = _language(text, declared or normalize_language(hint["language"]))
    return Article(
        url=url,
        title=title,
        author=author,
        published=published,
        language=language,
        text=text,
        word_count=len(_WORD.findall(text)),
        canonical_url=signals.canonical_url or signals.og_url,
        description=_clean(getattr(meta, "description", None)) or facts["description"],
        image=_abs(url, getattr(meta, "image", None)) or signals.og_image or facts["image"],
        signals=signals,
    )
