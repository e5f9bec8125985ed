"""What a page's markup says about itself: canonical and Open Graph URLs, JSON-LD types and metadata,
hreflang alternates, the declared language and date (``PageSignals``), plus the title, author, description
and image it declares, for ``extract_article`` to fall back on.  lxml, no network."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

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


def page_facts(tree, url: str) -> tuple[PageSignals, dict[str, str | None]]:
    """Signals plus the metadata the markup declares (title, author, published, description, image)."""
    base = url
    for href in tree.xpath("//base/@href")[:1]:
        base = absolute_url(url, href) or url

    meta: dict[str, str] = {}
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "")
        key = key.strip().lower()
        if key and key not in meta and clean(el.get("content")):
            meta[key] = clean(el.get("content"))

    canonical = None
    hreflang: list[tuple[str, str]] = []
    for link in tree.xpath("//link[@rel][@href]"):
        rel = link.get("rel", "").lower().split()
        if "canonical" in rel and canonical is None:
            canonical = absolute_url(base, link.get("href"))
        if "alternate" in rel and link.get("hreflang"):
            href = absolute_url(base, link.get("href"))
            if href:
                hreflang.append((link.get("hreflang").strip().lower(), href))

    objects = _jsonld_objects(tree)
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
    titles = tree.xpath("//title/text()")
    h1s = [t for t in (clean(h.text_content()) for h in tree.xpath("//h1")) if t]
    facts = {
        "title": clean(story.get("headline")) or meta.get("og:title") or meta.get("twitter:title"),
        "fallback_title": h1s[0] if len(h1s) == 1 else (clean(titles[0]) if titles else None),
        "person_author": _name(story.get("author"), persons_only=True),
        "author": _name(story.get("author")) or next(
            (a for a in map(byline, map(meta.get, _AUTHOR_META)) if a), None),
        "description": meta.get("og:description") or meta.get("description") or clean(story.get("description")),
        "image": absolute_url(base, _image(story.get("image"))),
    }
    return signals, facts


def page_signals(html: str, url: str) -> PageSignals:
    """Canonical/og/JSON-LD/hreflang signals of a page; empty signals for unparsable input."""
    try:
        tree = parse_html(html)
        return page_facts(tree, url)[0] if tree is not None else PageSignals()
    except Exception:
        return PageSignals()
