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


def main_text(doc) -> str:
    return strip_boilerplate(getattr(doc, "text", None) or "") if doc is not None else ""


def drop_headline(text: str, title: str | None) -> str:
    """Text without a first line that repeats the title (trafilatura keeps an <h1> inside <article>);
    the title is stored on its own, and dropping it raised AEB token F1."""
    first, _, rest = text.partition("\n")
    key = lambda s: " ".join(WORD.findall((s or "").lower()))  # noqa: E731
    return rest if title and key(first) == key(title) else text
