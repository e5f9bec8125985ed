"""The main text, through trafilatura: its extraction passes, its metadata helpers run once per page, and the
clean-up of its output (boilerplate lines, a repeated headline).

``trafilatura_api()`` holds trafilatura's parse and metadata helpers (False when a trafilatura version lacks
them: ``extract_article`` then lets ``bare_extraction`` gather the metadata itself).
"""

from __future__ import annotations

import re
from typing import Any

from monitor.extract.results import WORD

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


def run_trafilatura(source, url: str, precision: bool, with_metadata: bool = True):
    """``source``: HTML or a tree from ``load_html`` (trafilatura copies a tree it is given)."""
    from trafilatura import bare_extraction

    return bare_extraction(source, url=url, include_comments=False, with_metadata=with_metadata,
                           favor_precision=precision, favor_recall=False, deduplicate=False)


# JSON-LD scripts longer than this are left out of trafilatura's metadata pass: a live blog's 840 KB one
# that its normalisation breaks sends it into a quadratic regex fallback (seconds). ``markup.page_facts`` reads them.
JSON_METADATA_MAX_CHARS = 100_000
_META_SCRIPTS = './/script[@type="application/ld+json" or @type="application/settings+json"]'
_traf_api: Any = None  # trafilatura's parse and metadata helpers; False if this version lacks them


def trafilatura_api():
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


class PageMetadata:
    """trafilatura's ``extract_metadata`` in its order, cut to the fields used, run once per page rather
    than once per extraction pass, and only as far as asked: ``extract_article`` reads the page's own
    markup first (``markup.page_facts``) and asks here only for what it lacks; the author and date searches
    of the page cost the most and are asked last.  The title is not among the fields:
    ``monitor.extract.titles`` chooses it.  A failing step leaves its field empty (inside bare_extraction
    it could cost the whole page)."""

    title = None

    def __init__(self, api: dict, tree, url: str):
        self._api, self._tree, self._url = api, tree, url
        self._examined = None
        self._json_done = self._author_done = self._date_done = False

    @property
    def _doc(self):
        if self._examined is None:
            doc = self._attempt("examine_meta", self._tree) or self._api["Document"]()
            if doc.author and " " not in doc.author:
                doc.author = None
            self._examined = doc
        return self._examined

    @property
    def description(self) -> str | None:
        return self._trim(self._doc.description)

    @property
    def image(self) -> str | None:
        return self._trim(self._doc.image)

    def _meta_json(self):
        if not self._json_done:
            self._examined = self._attempt("extract_meta_json", self._small_json_scripts(), self._doc) or self._doc
            self._json_done = True

    def _attempt(self, name: str, *args, **kwargs):
        try:
            return self._api[name](*args, **kwargs)
        except Exception:  # not TimeLimitExceeded (a BaseException)
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
    def declared_author(self) -> str | None:
        """The author the meta tags or JSON-LD name (trafilatura's reading): cheap."""
        if not self._json_done:
            self._meta_json()
        return self._trim(self._doc.author)

    @property
    def author(self) -> str | None:
        """``declared_author``, else trafilatura's search of the page for a byline (ask last)."""
        if not self._author_done:
            if not self.declared_author:
                holder = byline_elements(self._tree)
                self._doc.author = self._attempt("extract_author", holder) if holder is not None else None
            self._author_done = True
        return self._trim(self._doc.author)

    @property
    def date(self) -> str | None:
        """htmldate's date, without its extensive search of the text (18 ms a page instead of 2 on the AEB
        pages that state no date; the same dates on the fundus pages whose expected date is known)."""
        if not self._date_done:
            api, doc = self._api, self._doc
            if not doc.url:
                doc.url = self._attempt("extract_url", self._tree, self._url)
            params = api["set_date_params"](False)
            params["url"] = doc.url
            doc.date = self._attempt("find_date", self._tree, **params)
            self._date_done = True
        return self._trim(self._doc.date)


# trafilatura's byline search (``extract_author``) runs regular expressions (Python callbacks) over every
# element of a copy of the page: 5 ms a page.  The elements its AUTHOR_XPATHS can match all carry one of
# _BYLINE_HINT in an attribute: copies of those outside what its AUTHOR_DISCARD_XPATHS remove are searched
# instead (1.3 ms), with the same result on all 439 AEB and fundus pages.  Mirrors trafilatura 2.3's xpaths.
_BYLINE_HINT = re.compile(r"uthor|yline|byl|BBL|username|screenname|writer|channel-name|submitted-by|posted-by|"
                          r"journalist-name|zuozhe|bianji|xiaobian")
_BYLINE_ATTRS = ("class", "id", "itemprop", "rel", "data-component", "data-testid")
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
                            r"article-(?:share|support)|print|category|meta-date|meta-reviewer")


def _byline_candidate(el) -> bool:
    if el.tag == "author":
        return True
    values = el.attrib.values()
    if not values or not _BYLINE_HINT.search(" ".join(values)):   # quick test on every element
        return False
    return any(_BYLINE_HINT.search(el.get(name) or "") for name in _BYLINE_ATTRS)


def _discarded(el) -> bool:
    """Whether trafilatura's AUTHOR_DISCARD_XPATHS remove ``el`` (it, or an element around it)."""
    for node in (el, *el.iterancestors()):
        if node.tag in ("time", "figure"):
            return True
        if node.tag in ("a", "div", "section", "span"):
            ident, cls = node.get("id") or "", node.get("class") or ""
            if ident == "comments" or cls in ("comments", "title", "date") \
                    or "Figure" in (node.get("data-component") or "") \
                    or (ident and _DISCARD_ID.search(ident)) or (cls and _DISCARD_CLASS.search(cls)):
                return True
    return False


def byline_elements(tree):
    """A holder of copies of the elements trafilatura's byline search could take, or None if there are none."""
    import copy

    import lxml.html
    from lxml import etree

    holder, kept = None, set()
    for el in tree.iter(etree.Element):
        if not _byline_candidate(el) or _discarded(el) or any(a in kept for a in el.iterancestors()):
            continue   # (a candidate inside a copied one comes with it)
        kept.add(el)
        if holder is None:
            holder = lxml.html.Element("div")
        holder.append(copy.deepcopy(el))
    return holder


def main_text(doc) -> str:
    return strip_boilerplate(getattr(doc, "text", None) or "") if doc is not None else ""


def drop_headline(text: str, title: str | None, candidates=None) -> str:
    """Text without a first line that repeats the title or another headline the page gives (``candidates``:
    ``titles.Candidates``; trafilatura keeps an <h1> inside <article>); the title is stored on its own, and
    dropping it raised AEB token F1."""
    first, _, rest = text.partition("\n")
    key = lambda s: " ".join(WORD.findall((s or "").lower()))  # noqa: E731
    heads = {title} | ({candidates.og, *candidates.jsonld, *candidates.h1} if candidates is not None else set())
    return rest if key(first) and key(first) in {key(h) for h in heads if h} else text
