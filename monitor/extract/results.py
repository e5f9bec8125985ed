"""What extraction returns: an ``Article`` (with the page's ``PageSignals``) or a typed ``Rejection``.

Plain frozen dataclasses (picklable: they travel back from the extraction worker processes).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


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
    # one element marked as a single story in the page's body: schema.org microdata (itemtype .../NewsArticle)
    # or the hAtom microformat (class="hentry" / "h-entry"); several mean a list of teasers
    single_entry: bool = False

    @property
    def declares_listing(self) -> bool:
        """True when JSON-LD says the page is a listing, site or about page and nothing says article."""
        return not self.is_article_page and any(t in LISTING_TYPES for t in self.jsonld_types)

    @property
    def is_article_page(self) -> bool:
        """True when Open Graph, JSON-LD, microdata or hAtom declares a single article (a listing does not)."""
        if self.og_type and self.og_type.strip().lower() == "article":
            return True
        return self.single_entry or any(t in ARTICLE_TYPES for t in self.jsonld_types)


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
            if len(WORD.findall(ln)) >= 8:
                return ln
        return lines[0] if lines else ""


WORD = re.compile(r"\w+")   # a word, as word counts, leads and the headline check see it
