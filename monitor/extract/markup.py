"""What a page's markup says about itself: canonical and Open Graph URLs, JSON-LD types and metadata,
hreflang alternates, the declared language and date (``PageSignals``), plus the title, author, description
and image it declares, for ``extract_article`` to fall back on.  lxml, no network."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from monitor.extract import titles
from monitor.extract.normalize import clean
from monitor.extract.results import ARTICLE_TYPES, PageSignals

_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
_PUBLISHED_META = ("article:published_time", "og:published_time", "article:published", "datepublished",
                   "publishdate", "publish-date", "pubdate", "parsely-pub-date", "sailthru.date", "dc.date",
                   "dc.date.issued", "dcterms.created", "dcterms.date", "date", "cxenseparse:recs:publishtime")


def parse_html(html: str):
    """lxml tree of the page, or None. Goes through UTF-8 bytes so XML declarations do not trip lxml."""
    import lxml.html

    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except Exception:  # lxml raises on documents it finds empty
        return None


def absolute_url(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``; None for nothing, ``javascript:``, ``data:`` and ``mailto:`` links."""
    href = clean(href)
    if not href or href.lower().startswith(("javascript:", "data:", "mailto:")):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _jsonld_objects(tree, scripts=None) -> list[dict]:
    """Top-level JSON-LD objects, with ``@graph`` members and lists flattened (``scripts``: the page's
    ``<script>`` elements when the caller has them)."""
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

    for script in tree.iter("script") if scripts is None else scripts:
        if "ld+json" not in (script.get("type") or "").lower():
            continue
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
        return byline(value.get("name"))
    return None if persons_only else byline(value) if isinstance(value, str) else None


def byline(value: Any) -> str | None:
    """'By JANE DOE' -> 'JANE DOE'; profile URLs are not names."""
    text = clean(value)
    if not text or text.startswith(("http://", "https://")):
        return None
    return re.sub(r"^(by|von|par|por|di|door|автор[:\s]|текст[:\s])\s*", "", text, flags=re.I).strip() or None


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        return next((u for u in (_image(v) for v in value) if u), None)
    if isinstance(value, dict):
        return clean(value.get("url") or value.get("contentUrl"))
    return clean(value) if isinstance(value, str) else None


def page_facts(tree, url: str) -> tuple[PageSignals, dict[str, Any]]:
    """Signals plus the metadata the markup declares: title candidates (``titles.Candidates``), author,
    description and image."""
    base = url
    meta: dict[str, str] = {}
    links, scripts = [], []
    for el in tree.iter("meta", "link", "script", "base"):   # one walk of the tree
        tag = el.tag
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "")
            key = key.strip().lower()
            if key and key not in meta:
                content = clean(el.get("content"))
                if content:
                    meta[key] = content
        elif tag == "link":
            if el.get("rel") and el.get("href"):
                links.append(el)
        elif tag == "script":
            scripts.append(el)
        elif base is url and el.get("href"):
            base = absolute_url(url, el.get("href")) or url

    canonical = None
    hreflang: list[tuple[str, str]] = []
    for link in links:
        rel = link.get("rel", "").lower().split()
        if "canonical" in rel and canonical is None:
            canonical = absolute_url(base, link.get("href"))
        if "alternate" in rel and link.get("hreflang"):
            href = absolute_url(base, link.get("href"))
            if href:
                hreflang.append((link.get("hreflang").strip().lower(), href))

    objects = _jsonld_objects(tree, scripts)
    types = tuple(dict.fromkeys(t for obj in objects for t in _types(obj)))
    story = next((o for o in objects if set(_types(o)) & ARTICLE_TYPES), None) or {}

    html_lang = None
    for value in tree.xpath("/html/@lang | /html/@xml:lang",
                            namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}):
        html_lang = clean(value)
        break
    html_lang = html_lang or meta.get("content-language") or meta.get("og:locale") or meta.get("language")

    published = next((meta[k] for k in _PUBLISHED_META if meta.get(k)), None)
    published = published or clean(story.get("datePublished")) or clean(story.get("dateCreated"))

    signals = PageSignals(
        canonical_url=canonical,
        og_url=absolute_url(base, meta.get("og:url")),
        og_type=meta.get("og:type"),
        jsonld_types=types,
        hreflang=tuple(dict.fromkeys(hreflang)),
        og_image=absolute_url(base, meta.get("og:image") or meta.get("og:image:url")
                              or meta.get("og:image:secure_url")),
        html_lang=html_lang,
        published_meta=published,
    )
    facts = {
        "titles": titles.candidates(tree, meta, story, _name(story.get("publisher")), url),
        "person_author": _name(story.get("author"), persons_only=True),
        "author": _name(story.get("author")) or next(
            (a for a in map(byline, map(meta.get, _AUTHOR_META)) if a), None),
        "description": meta.get("og:description") or meta.get("description") or clean(story.get("description")),
        "image": absolute_url(base, _image(story.get("image"))),
    }
    return signals, facts


_ENTRY_CLASSES = {"hentry", "h-entry"}


def single_entry(tree) -> bool:
    """Whether the page marks exactly one element as a story: schema.org microdata with an article type
    (``itemtype=".../NewsArticle"``) or the hAtom microformat (``class="hentry"``/``"h-entry"``), and not
    several (a list of teasers).  ``extract_article`` asks only when Open Graph and JSON-LD say nothing."""
    items = entries = 0
    for el in tree.xpath("//*[@itemtype or contains(@class, 'entry')]"):
        kind = el.get("itemtype")
        if kind and _types({"@type": kind.split()[0]})[:1] and _types({"@type": kind.split()[0]})[0] in ARTICLE_TYPES:
            items += 1
        if _ENTRY_CLASSES & set((el.get("class") or "").split()):
            entries += 1
    return (items, entries) in ((1, 0), (0, 1), (1, 1))


def page_signals(html: str, url: str) -> PageSignals:
    """Canonical/og/JSON-LD/hreflang/microdata signals of a page; empty signals for unparsable input."""
    try:
        tree = parse_html(html)
        if tree is None:
            return PageSignals()
        signals = page_facts(tree, url)[0]
        return signals if signals.is_article_page else replace(signals, single_entry=single_entry(tree))
    except Exception:
        return PageSignals()
