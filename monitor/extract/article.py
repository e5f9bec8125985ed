"""Turn one downloaded page into an ``Article`` or a typed ``Rejection``: the orchestration.

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

The parts: ``decoding`` (bytes to HTML text, or a rejection), ``markup`` (page signals and declared
metadata), ``maintext`` (trafilatura and the clean-up of its text), ``normalize`` (dates, languages),
``results`` (``Article``, ``Rejection``), ``timelimit`` (the SIGALRM cap).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.extract import maintext, markup
from monitor.extract.decoding import page_html
from monitor.extract.maintext import PageMetadata, drop_headline, main_text
from monitor.extract.markup import absolute_url, byline, page_facts
from monitor.extract.normalize import choose_language, clean, normalize_language, normalize_published
from monitor.extract.results import WORD, Article, RejectReason, Rejection
from monitor.extract.timelimit import TimeLimitExceeded, time_limit

# favor_precision keeps only a fragment on some pages (a notice instead of the story): when its text is
# shorter than this, a balanced pass runs too and wins if it finds RETRY_GAIN times as much text.
RETRY_BELOW_CHARS = 1000
RETRY_GAIN = 3
# require_article_signals: without og/JSON-LD article markup, a date plus this much text still counts.
UNMARKED_ARTICLE_MIN_CHARS = 1000


_NO_TEXT = "no main text found (an index, media or script-rendered page?)"


def extract_article(body: bytes | str, url: str, *, encoding: str | None = None, content_type: str | None = None,
                    hints: Mapping | None = None, min_text_chars: int = 250, max_bytes: int = 2_000_000,
                    require_article_signals: bool = False, timeout: float | None = None) -> Article | Rejection:
    """Main text and metadata of one page, or why not. Never raises.

    ``timeout`` (seconds) uses SIGALRM (``monitor.extract.timelimit``), so it only applies in a process's main
    thread (e.g. a pool worker); elsewhere it is ignored and the caller must bound the time itself.
    """
    try:
        with time_limit(timeout):
            return _extract(body, url, encoding=encoding, content_type=content_type, hints=hints or {},
                            min_text_chars=min_text_chars, max_bytes=max_bytes,
                            require_article_signals=require_article_signals)
    except TimeLimitExceeded:
        return Rejection(RejectReason.TIMEOUT, f"extraction took longer than {timeout} s; lower the size cap "
                                               "(MONITOR_EXTRACT_MAX_BYTES) or raise MONITOR_EXTRACT_TIMEOUT")
    except RecursionError:
        return Rejection(RejectReason.ERROR, "page nesting too deep to parse (RecursionError)")
    except Exception as exc:  # contract: never raise
        return Rejection(RejectReason.ERROR, f"unexpected {type(exc).__name__} while extracting: {exc}"[:500])


def _extract(body, url, *, encoding, content_type, hints, min_text_chars, max_bytes, require_article_signals):
    html = page_html(body, encoding=encoding, content_type=content_type, max_bytes=max_bytes)
    if isinstance(html, Rejection):
        return html

    # One parse, trafilatura's own (same tree as if it parsed the page), serves our page facts and both of
    # its passes; metadata is gathered once, not per pass.
    api = maintext.trafilatura_api()
    tree = api["load_html"](html) if api else markup.parse_html(html)
    if tree is None:
        if api and markup.parse_html(html) is not None:  # lxml can read it, trafilatura rejects it as not HTML
            return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
        return Rejection(RejectReason.NO_MAIN_TEXT, "HTML could not be parsed into a document")
    signals, facts = page_facts(tree, url)

    # A fragment's root (no <head>) would lose the rest of its document in trafilatura's copy: pass the HTML.
    source = tree if api and tree.getparent() is None else html
    doc = maintext.run_trafilatura(source, url, precision=True, with_metadata=not api)
    text = main_text(doc)
    if len(text) < RETRY_BELOW_CHARS:
        balanced = maintext.run_trafilatura(source, url, precision=False, with_metadata=not api)
        balanced_text = main_text(balanced)
        if len(balanced_text) >= RETRY_GAIN * max(len(text), 1) or (len(text) < min_text_chars < len(balanced_text)):
            doc, text = balanced, balanced_text
    if not text:
        return Rejection(RejectReason.NO_MAIN_TEXT, _NO_TEXT)
    meta = PageMetadata(api, tree, url) if api else doc
    hint = {k: hints.get(k) for k in ("title", "author", "published", "language")}
    title = clean(getattr(meta, "title", None)) or clean(hint["title"]) or facts["title"] or facts["fallback_title"]
    text = drop_headline(text, title)
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
    author = facts["person_author"] or byline(getattr(meta, "author", None)) or byline(hint["author"]) \
        or facts["author"]
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
        description=clean(getattr(meta, "description", None)) or facts["description"],
        image=absolute_url(url, getattr(meta, "image", None)) or signals.og_image or facts["image"],
        signals=signals,
    )
