"""The article's title, chosen by agreement among what the page offers.

Candidates: ``og:title``, the JSON-LD article ``headline``, the ``<h1>`` headings inside the article's main
container (``<article>``, ``<main>``, ``role=main``, ``itemprop=articleBody``), ``twitter:title``, the
``<title>`` and the feed's title (``hints``).  Each is first stripped of site-name parts at its start or end
(``… | Yonhap News Agency``, ``Golem.de - …``, ``… – DW – 28.04.2023``): a part that names the site
(``og:site_name``, ``application-name``, the JSON-LD publisher, the host name) or is a date.  Then every
source votes for each candidate it agrees with: it says the same thing, or the candidate is one end of it
(``<title>`` "X - National | Globalnews.ca" supports "X").  The candidate with the most votes wins; ties go
to the order above.  ``og:title``, ``twitter:title`` and ``<title>`` vote as one (they are usually one CMS
field copied three times).  A site name joined without spaces (``…-Politics|Site``) is cut too.  Headings
outside the main container, and calls to action ("Get X in your inbox", "More From …"), are never taken on
their own: only when another source says the same.

Measured on the fundus pages (``benchmarks/extraction_quality.py``); pure functions, lxml trees in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.extract.normalize import clean

# separators between a headline and a site or section name
_SEPARATOR = re.compile(r"(\s+(?:\||-{1,2}|–|—|::|·|•|»|›|/|\*)\s+|\s*[｜：]\s*|\s+\|(?=\S)|(?<=\S)\|\s+)")
# a separator written without spaces ("…headline-Politics|Site"): only cut there when the rest names the site
_GLUED = re.compile(r"[-–—|｜ㅣ·•»/]")
_DATE = re.compile(r"^\s*(\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+\w+\s+\d{4})\s*$")
# headings that invite the reader somewhere else instead of naming the story (several languages)
_CALL_TO_ACTION = re.compile(
    r"\b(?:in your inbox|newsletters?|subscribe|sign up|sign in|log ?in|register now|more from|take your next trip|"
    r"follow us|read more|read next|related (?:articles?|stories|news|posts?)|most (?:popular|read)|trending now|"
    r"recommended for you|you may also like|don'?t miss|get the app|download (?:the|our) app|share this|"
    r"contact us|jetzt abonnieren|newsletter abonnieren|mehr zum thema|das könnte sie auch interessieren|"
    r"lesen sie auch|abonnez-vous|inscrivez-vous|suscríbete|подпишитесь|читайте также)\b",
    re.I)

_OUTSIDE = ("nav", "aside", "footer", "form")

# tie-break order of the sources; outside headings never win on their own
PRIORITY = ("og", "jsonld", "h1", "twitter", "hint", "title", "outside")
# og:title, twitter:title and <title> are most often one field of the site's CMS (the "SEO title") copied three
# times: together they are one voter, so three copies of it cannot outvote the headline shown on the page.
VOTER = {"og": "meta", "twitter": "meta", "title": "meta"}


def key(text: str | None) -> str:
    """A title as compared: Unicode-normalised, case-folded, one kind of quote, dash and space."""
    text = unicodedata.normalize("NFKC", text or "").replace("\xad", "").replace("\u200b", "")
    text = re.sub(r"[\u2018\u2019\u201a\u201b\u2032\u00b4`]", "'", text)
    text = re.sub(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u300c\u300d]", '"', text)
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return " ".join(text.split()).casefold()


def _compact(text: str) -> str:
    """Letters and digits only, without accents (ö -> o): 'Börsen-Zeitung' ~ 'boersen-zeitung.de'."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", text)


@dataclass
class Candidates:
    """What a page offers as its title (raw strings, whitespace-cleaned)."""

    og: str | None = None
    twitter: str | None = None
    jsonld: list[str] = field(default_factory=list)
    h1: list[str] = field(default_factory=list)          # inside the main container (or no container at all)
    h1_outside: list[str] = field(default_factory=list)  # outside it, or calls to action: they only vote
    title: str | None = None
    site_names: list[str] = field(default_factory=list)  # og:site_name, application-name, publisher
    host: str = ""


def candidates(tree, meta: dict, story: dict, publisher: str | None, url: str) -> Candidates:
    """Collect the title candidates of a parsed page (``meta``: lower-cased meta names -> content)."""
    found = Candidates(og=meta.get("og:title"), twitter=meta.get("twitter:title"))
    for value in (story.get("headline"), story.get("name") if not story.get("headline") else None):
        value = clean(value) if isinstance(value, str) else None
        if value:
            found.jsonld.append(_unescape(value))
    titles = tree.xpath("//title")
    found.title = clean(titles[0].text_content()) if titles else None
    has_container = next(tree.iter("article", "main"), None) is not None
    for h1 in tree.iter("h1"):
        text = clean(h1.text_content())
        if not text or len(text) > 400:
            continue
        ancestors = list(h1.iterancestors())
        if has_container or any(_is_container(a) for a in ancestors):
            inside = any(_is_container(a) for a in ancestors)
        else:
            inside = not any(a.tag in _OUTSIDE for a in ancestors)
        (found.h1 if inside and not _CALL_TO_ACTION.search(text) else found.h1_outside).append(text)
    found.site_names = [n for n in (meta.get("og:site_name"), meta.get("application-name"), publisher) if n]
    try:
        found.host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        found.host = ""
    return found


def _is_container(el) -> bool:
    """The article's main container: <article>, <main>, role=main, itemprop=articleBody."""
    return el.tag in ("article", "main") or el.get("role") == "main" or el.get("itemprop") == "articleBody"


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    from html import unescape

    return unescape(text)


class _Site:
    """Recognises parts of a title that name the site."""

    def __init__(self, names: list[str], host: str, titles: tuple[str, ...] = ()):
        # a "site name" that is one of the titles (a page that fills application-name with its headline) is not
        self.names = {c for c in (_compact(n) for n in names) if c} - {_compact(t) for t in titles if t}
        self.names |= {c[3:] for c in self.names if c.startswith("the") and len(c) > 6}
        labels = [lb for lb in host.split(".") if lb and lb != "www"]
        self.host_parts = set(labels[:-1]) | {"".join(labels[:-1]), "".join(labels)} if len(labels) > 1 else set(labels)
        self.host_parts = {_compact(p) for p in self.host_parts if p}

    def names_site(self, part: str) -> bool:
        c = _compact(part)
        if not c:
            return True   # separators, dots
        if _DATE.match(part):
            return True
        if c in self.names or c in self.host_parts:
            return True
        if c.startswith("the") and c[3:] in self.host_parts:
            return True
        # 'Bhopal News - The Times of India', 'Mirror Online', 'Báo VnExpress': contains the site's name
        return any(len(n) >= 4 and n in c and len(c) <= len(n) + 12 for n in self.names | self.host_parts)


def _parts(text: str) -> list[str]:
    """The title cut at separators, separators kept as their own items: [part, sep, part, ...]."""
    return _SEPARATOR.split(text)


def strip_site(text: str | None, site: _Site) -> str | None:
    """``text`` without site-name (or date) parts at its start and end; never empty."""
    if not text:
        return text
    parts = _parts(text)
    while len(parts) >= 3 and site.names_site(parts[-1]):
        parts = parts[:-2]
    while len(parts) >= 3 and site.names_site(parts[0]):
        parts = parts[2:]
    return _strip_glued("".join(parts).strip() or text, site)


def _strip_glued(text: str, site: _Site) -> str:
    """``text`` without a site-name end joined by a separator without spaces ("…커졌다-정치ㅣ한국일보"): cut at
    the last such separator (in the last 40 characters) whose rest names the site, and before a one-word section
    name joined to it by another separator ("-정치ㅣ")."""
    if not site.names or not any(_compact(text[-40:]).endswith(n) for n in site.names):
        return text
    seps = list(_GLUED.finditer(text, max(0, len(text) - 40)))
    for k in range(len(seps) - 1, -1, -1):
        if site.names_site(text[seps[k].end():]):
            cut = seps[k].start()
            if k and seps[k - 1].group() != seps[k].group():
                section = text[seps[k - 1].end():cut]
                if section and " " not in section.strip() and len(section) <= 15:
                    cut = seps[k - 1].start()
            head = text[:cut].strip()
            return head if _compact(head) else text
    return text


def _ends(text: str) -> set[str]:
    """Keys of ``text`` and of each run of its parts that starts or ends it ('A | B | C': A, A | B, B | C, C)."""
    parts = _parts(text)
    words = parts[0::2]
    out = {key(text)}
    for i in range(1, len(words)):
        out.add(key("".join(parts[: 2 * i - 1])))
        out.add(key("".join(parts[2 * i:])))
    return out


def choose(found: Candidates, hint: str | None = None) -> str | None:
    """The title the sources agree on (see the module docstring), or None."""
    site = _Site(found.site_names, found.host, (found.og, found.title, *found.jsonld, *found.h1))
    sources: list[tuple[str, str]] = []   # (source, stripped value)
    raw: list[tuple[str, str]] = []       # (source, value as found): what votes
    for source, values in (("og", [found.og]), ("jsonld", found.jsonld), ("h1", found.h1),
                           ("twitter", [found.twitter]), ("hint", [clean(hint)]), ("title", [found.title]),
                           ("outside", found.h1_outside)):
        for value in values:
            if not value:
                continue
            raw.append((source, value))
            stripped = strip_site(value, site)
            if stripped and not site.names_site(stripped):
                sources.append((source, stripped))
    if not sources:
        return None
    voters: dict[str, set[str]] = {}      # voter -> keys it supports
    for source, value in raw:
        voters.setdefault(VOTER.get(source, source), set()).update(_ends(value) | {key(strip_site(value, site))})
    best, best_rank = None, None
    for source, value in sources:
        k = key(value)
        votes = sum(1 for keys in voters.values() if k in keys)
        if source == "outside" and votes < 2:   # a heading outside the story only counts when another agrees
            continue
        rank = (-votes, PRIORITY.index(source))
        if best_rank is None or rank < best_rank:
            best, best_rank = value, rank
    return best


class RepeatedTitleText:
    """Text repeated at the start or end of many titles of one site ("… – IIJ Security Diary", "Opinion | …"),
    which no page names as the site: learnt from the titles chosen so far, cut from those that follow.

    A part counts once it ends (or starts) ``min_titles`` different titles of the same site; until then titles
    are kept as chosen.  Deterministic for a given order of titles; memory is bounded by ``max_parts`` a site."""

    def __init__(self, min_titles: int = 3, max_parts: int = 200):
        self.min_titles, self.max_parts = min_titles, max_parts
        self._seen: dict[str, dict[tuple[str, str], set[str]]] = {}   # site -> (end, key of part) -> titles

    def clean(self, site: str, title: str | None) -> str | None:
        """``title`` without a start or end part repeated across ``site``'s titles (never empty)."""
        if not title:
            return title
        parts = _parts(title)
        if len(parts) < 3:
            return title
        seen = self._seen.setdefault(site, {})
        ends = (("end", key(parts[-1])), ("start", key(parts[0])))
        for end in ends:
            titles = seen.get(end)
            if titles is None:
                if len(seen) >= self.max_parts:
                    continue
                titles = seen[end] = set()
            if len(titles) < self.min_titles:
                titles.add(key(title))
        if len(seen.get(ends[0], ())) >= self.min_titles:
            parts = parts[:-2]
        if len(parts) >= 3 and len(seen.get(ends[1], ())) >= self.min_titles:
            parts = parts[2:]
        return "".join(parts).strip() or title
