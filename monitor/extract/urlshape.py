"""Whether a URL has the shape of one story's address: for pages whose markup says nothing about themselves.

A link-followed page without article markup is still taken as a story when its main text is long and its URL
looks like a story's (``extract_article(require_article_signals=True)``).  Shapes, not sites: a date in the
path, a slug of four words or more (two for a ``.html`` page), or a long numeric id below a section; never a
tag, author, category, search or pagination page.  Pure, no network.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_NAVIGATION = re.compile(
    r"/(?:tags?|authors?|autor(?:en)?|categor(?:y|ies)|sections?|topics?|themen?|rubri(?:c|k|que)s?|search|suche|"
    r"page|seite|archives?|login|subscribe|about(?:-us)?|contact(?:-us)?|impressum|privacy(?:-policy)?|"
    r"terms(?:-of-\w+)?|people|profile|user)(?:\.\w+)?(?:/|$)|"
    r"[?&](?:page|p|s|q|query|search)=", re.I)
_DATED = re.compile(r"/(?:19|20)\d\d(?:/|-)(?:0?[1-9]|1[0-2])(?:/|-)|/(?:19|20)\d\d(?:0[1-9]|1[0-2])[0-3]\d(?:\D|$)")
_ID = re.compile(r"(?:^|\D)\d{5,}(?:\D|$)")
_WORD = re.compile(r"[^\W\d_]{2,}")


def article_like_url(url: str) -> bool:
    """True for story-shaped addresses: ``/2024/05/17/...``, ``/world/kazakhstan-us-hold-rights-dialogue``,
    ``/news/politics/123456``; False for home, section, tag, author, search and pagination pages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = unquote(parts.path or "/")
    if _NAVIGATION.search(path + ("?" + parts.query if parts.query else "")):
        return False
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    if _DATED.search(path + "/"):
        return True
    slug, page = re.subn(r"\.(?:s?html?|php|aspx?)$", "", segments[-1], flags=re.I)
    words = len(_WORD.findall(slug)) if re.search(r"[-_]", slug) else 0
    if words >= 4 or (page and words >= 2):   # a-long-story-slug, a-story.html
        return True
    return len(segments) >= 2 and bool(_ID.search(path))
