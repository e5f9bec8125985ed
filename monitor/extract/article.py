"""Turn one downloaded page into an ``Article`` or a typed ``Rejection``: the orchestration.

Pure functions: no Scrapy, no I/O, no network (safe to run in a process pool).
``extract_article`` never raises; every failure is a ``Rejection`` whose ``detail`` says what to change.

Before anything is parsed, scripts (JSON-LD kept), styles, svg, noscript, template and comments are cut out
of the HTML (``prune``): real pages are often 90 % inline script. The caps apply to what is left (bytes and
elements), and navigation, footers and widgets are dropped from the parsed tree once the metadata that reads
them is taken.

Main text comes from trafilatura in precision mode without comments, with a balanced pass when precision
kept only a fragment, boilerplate lines and a repeated headline removed (token F1 above plain trafilatura and
its favor_precision on AEB and fundus at about its cost: ``benchmarks/extraction_quality.py``). Metadata:
what the page says first, feed/sitemap ``hints`` fill what it lacks, heuristics last:

- title: the string og:title, the JSON-LD headline, the ``<h1>`` of the story and ``<title>`` agree on, site
  names and dates cut off (``titles``);
- author: JSON-LD Person names, declared meta/JSON-LD authors, hints, trafilatura's byline search;
- published: the page's explicit meta/JSON-LD date, hints, htmldate's date (without its extensive search);
- language: declared (``<html lang>``, Content-Language, og:locale), hints, else detected with py3langid;
  a declared one is overruled when the text is confidently another language.

A link-followed page (``require_article_signals``) is a story when og:type, JSON-LD, microdata or hAtom says
so, or when its text is long and its URL story-shaped or dated (``urlshape``).

The parts: ``decoding`` (bytes to HTML text, or a rejection), ``prune`` (what is cut and what costs),
``markup`` (page signals and declared metadata), ``titles``, ``urlshape``, ``maintext`` (trafilatura and the
clean-up of its text), ``normalize`` (dates, languages), ``results`` (``Article``, ``Rejection``),
``timelimit`` (the SIGALRM cap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from monitor.extract import maintext, markup, titles
from monitor.extract.decoding import page_html
from monitor.extract.maintext import PageMetadata, drop_headline, main_text
from monitor.extract.markup import absolute_url, byline, page_facts
from monitor.extract.normalize import choose_language, clean, normalize_language, normalize_published
from monitor.extract.prune import cost, preclean, strip_markup
from monitor.extract.results import WORD, Article, RejectReason, Rejection
from monitor.extract.timelimit import TimeLimitExceeded, time_limit
from monitor.extract.urlshape import article_like_url

# favor_precision sometimes keeps only a fragment (a notice instead of the story): when its text is shorter
# than min_text_chars, or than RETRY_SHARE of the text in the page's long paragraphs, a balanced pass runs
# too and wins if it finds RETRY_GAIN times as much text (or enough where precision found too little).
# Tuned on AEB (3 retries instead of 17 with the former "below 1,000 characters" rule, same F1), then
# checked on fundus: +0.003 F1 there (2 retries).
RETRY_SHARE = 0.2
RETRY_GAIN = 2
RETRY_CHECK_BELOW = 3000   # a fragment is short: longer texts are not compared with the paragraphs
LONG_PARAGRAPH_CHARS = 60
# require_article_signals: without article markup, this much text plus a date or a story-shaped URL still
# counts as a story, and so does the shorter one with both (``monitor.extract.urlshape``).
UNMARKED_ARTICLE_MIN_CHARS = 1000
UNMARKED_SHORT_MIN_CHARS = 500
# caps on the page once its scripts, styles, svg and comments are gone (MONITOR_EXTRACT_MAX_BYTES and
# MONITOR_EXTRACT_MAX_ELEMENTS), and on the raw body (the crawl's DOWNLOAD_MAXSIZE level)
MAX_BYTES = 2_000_000
MAX_ELEMENTS = 30_000
MAX_RAW_BYTES = 20 * 1024 * 1024


_NO_TEXT = "no main text found (an index, media or script-rendered page?)"


def extract_article(body: bytes | str, url: str, *, encoding: str | None = None, content_type: str | None = None,
                    hints: Mapping | None = None, min_text_chars: int = 250, max_bytes: int = MAX_BYTES,
                    max_elements: int = MAX_ELEMENTS, max_raw_bytes: int = MAX_RAW_BYTES,
                    require_article_signals: bool = False, timeout: float | None = None) -> Article | Rejection:
    """Main text and metadata of one page, or why not. Never raises.

    ``max_bytes`` and ``max_elements`` cap the page without its scripts, styles, svg and comments
    (``monitor.extract.prune``); ``max_raw_bytes`` the body as received (0: no cap).
    ``timeout`` (seconds) uses SIGALRM (``monitor.extract.timelimit``), so it only applies in a process's main
    thread (e.g. a pool worker); elsewhere it is ignored and the caller must bound the time itself.
    """
    try:
        with time_limit(timeout):
            return _extract(body, url, encoding=encoding, content_type=content_type, hints=hints or {},
                            min_text_chars=min_text_chars, max_bytes=max_bytes, max_elements=max_elements,
                            max_raw_bytes=max_raw_bytes, require_article_signals=require_article_signals)
    except TimeLimitExceeded:
        return Rejection(RejectReason.TIMEOUT, f"extraction took longer than {timeout} s; lower the size caps "
                                               "(MONITOR_EXTRACT_MAX_ELEMENTS, MONITOR_EXTRACT_MAX_BYTES) or raise "
                                               "MONITOR_EXTRACT_TIMEOUT")
    except RecursionError:
        return Rejection(RejectReason.ERROR, "page nesting too deep to parse (RecursionError)")
    except Exception as exc:  # contract: never raise
        return Rejection(RejectReason.ERROR, f"unexpected {type(exc).__name__} while extracting: {exc}"[:500])


def _too_large(html: str, raw_size: int, max_bytes: int, max_elements: int) -> Rejection | None:
    size = cost(html)
    what = f"without scripts, styles, svg and comments the page is {size.bytes:,} bytes and {size.elements:,} " \
           f"elements (raw {raw_size:,} bytes)"
    if max_bytes and size.bytes > max_bytes:
        return Rejection(RejectReason.TOO_LARGE, f"{what}, above max_bytes={max_bytes:,} "
                                                 "(MONITOR_EXTRACT_MAX_BYTES); not extracted")
    if max_elements and size.elements > max_elements:
        return Rejection(RejectReason.TOO_LARGE, f"{what}, above max_elements={max_elements:,} "
                                                 "(MONITOR_EXTRACT_MAX_ELEMENTS); not extracted")
    return None


def _long_paragraph_chars(tree) -> int:
    """Characters in the page's paragraphs of LONG_PARAGRAPH_CHARS or more: what a story page holds."""
    total = 0
    for p in tree.iter("p"):
        n = len(p.text_content().strip())
        if n >= LONG_PARAGRAPH_CHARS:
            total += n
    return total


def _extract(body, url, *, encoding, content_type, hints, min_text_chars, max_bytes, max_elements, max_raw_bytes,
             require_article_signals):
    raw_size = len(body) if isinstance(body, (bytes, bytearray, memoryview)) else len(body or "")
    html = page_html(body, encoding=encoding, content_type=content_type, max_raw_bytes=max_raw_bytes)
    if isinstance(html, Rejection):
        return html
    # Scripts (JSON-LD kept), styles, svg and comments go before any size check and any parse: real pages are
    # often 90 % inline script, which costs trafilatura nothing but bytes.
    html = strip_markup(html)
    too_large = _too_large(html, raw_size, max_bytes, max_elements)
    if too_large:
        return too_large

    # One parse, trafilatura's own (same tree as if it parsed the page), serves our page facts and its
    # passes; metadata is gathered once, not per pass.
    api = maintext.trafilatura_api()
    tree = api["load_html"](html) if api else markup.parse_html(html)
    if tree is None:
        if api and markup.parse_html(html) is not None:  # lxml can read it, trafilatura rejects it as not HTML
            return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
        return Rejection(RejectReason.NO_MAIN_TEXT, "HTML could not be parsed into a document")
    signals, facts = page_facts(tree, url)
    meta = PageMetadata(api, tree, url) if api else None
    hint = {k: hints.get(k) for k in ("title", "author", "published", "language")}
    if meta is not None:
        # trafilatura's date and byline searches read the whole page: run them now if they will be needed,
        # then drop what is never text but costs trafilatura (navigation, footers, widgets)
        if not (normalize_published(signals.published_meta) or normalize_published(hint["published"])):
            meta.date
        if not (facts["person_author"] or facts["author"] or byline(hint["author"]) or meta.declared_author):
            meta.author
        preclean(tree)

    # A fragment's root (no <head>) would lose the rest of its document in trafilatura's copy: pass the HTML.
    source = tree if api and tree.getparent() is None else html
    doc = maintext.run_trafilatura(source, url, precision=True, with_metadata=not api)
    text = main_text(doc)
    if len(text) < min_text_chars or (len(text) < RETRY_CHECK_BELOW
                                      and len(text) < RETRY_SHARE * _long_paragraph_chars(tree)):
        balanced = maintext.run_trafilatura(source, url, precision=False, with_metadata=not api)
        balanced_text = main_text(balanced)
        if len(balanced_text) >= RETRY_GAIN * max(len(text), 1) or (len(text) < min_text_chars <= len(balanced_text)):
            doc, text = balanced, balanced_text
    if not text:
        return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
    meta = meta or doc
    title = titles.choose(facts["titles"], hint["title"]) or clean(getattr(meta, "title", None))
    text = drop_headline(text, title, facts["titles"])
    if not text:
        return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
    if len(text) < min_text_chars:
        return Rejection(RejectReason.TOO_SHORT, f"main text is {len(text)} characters, below min_text_chars="
                                                 f"{min_text_chars} (MONITOR_MIN_TEXT_CHARS)")

    if not signals.is_article_page and (require_article_signals or signals.declares_listing):
        signals = replace(signals, single_entry=markup.single_entry(tree))   # (costs a walk of the tree)
    if signals.declares_listing:
        return Rejection(RejectReason.NOT_ARTICLE,
                         f"page declares itself a {'/'.join(signals.jsonld_types)} (a listing or site page), "
                         "not an article")
    if require_article_signals and not signals.is_article_page:
        shaped = article_like_url(url)
        dated = normalize_published(signals.published_meta) or normalize_published(getattr(meta, "date", None))
        if not ((len(text) >= UNMARKED_ARTICLE_MIN_CHARS and (shaped or dated))
                or (len(text) >= UNMARKED_SHORT_MIN_CHARS and shaped and dated)):
            return Rejection(RejectReason.NOT_ARTICLE,
                             "link-followed page has no article markup (og:type, JSON-LD, microdata, hAtom) and "
                             f"{len(text)} characters of text: a story needs {UNMARKED_ARTICLE_MIN_CHARS}+ with a "
                             f"story-shaped URL or a date, or {UNMARKED_SHORT_MIN_CHARS}+ with both; add an article "
                             "URL pattern to the source if such pages are stories")

    # JSON-LD Person names are cleaner than trafilatura's byline heuristics ("Jeff Foust Monday; November"),
    # and what the page declares is cheaper: the byline search of the page runs last.
    author = facts["person_author"] or byline(getattr(meta, "declared_author", None)) or facts["author"] \
        or byline(hint["author"]) or byline(getattr(meta, "author", None))
    # A date the page states outright, else the feed's/sitemap's, else trafilatura's (htmldate may guess it
    # from the URL or the text when the page states none).
    published = normalize_published(signals.published_meta) or normalize_published(hint["published"]) \
        or normalize_published(getattr(meta, "date", None))
    declared = normalize_language(signals.html_lang) or normalize_language(getattr(doc, "language", None))
    language = choose_language(text, declared or normalize_language(hint["language"]))
    return Article(
        url=url,
        title=title,
        author=author,
        published=published,
        language=language,
        text=text,
        word_count=len(WORD.findall(text)),
        canonical_url=signals.canonical_url or signals.og_url,
        description=facts["description"] or clean(getattr(meta, "description", None)),
        image=signals.og_image or facts["image"] or absolute_url(url, getattr(meta, "image", None)),
        signals=signals,
    )
