"""URL identity: one canonical form per article page (pure: no scrapy, never a network request).

:func:`canonicalize` rules, in order (``tests/test_urls.py`` checks each):

* Only ``http``/``https`` URLs are rewritten; anything else (empty, relative, ``mailto:``, text that does not
  parse) comes back stripped of surrounding whitespace and otherwise unchanged.
* Google AMP cache and viewer URLs (``*.cdn.ampproject.org/c/s/HOST/PATH``, ``www.google.com/amp/s/HOST/PATH``)
  become the publisher URL they wrap.
* ``w3lib.url.canonicalize_url`` (what Scrapy's request fingerprints use): scheme and host lower-cased,
  IDN hosts in punycode, percent-encoding normalised, fragment dropped, **query parameters sorted** by
  name then value, blank values kept (``?a`` becomes ``?a=``).  Sorting is deliberate: a page reached with
  parameters in another order is the same page; servers that depend on parameter order are not news sites.
* Default ports (80 for http, 443 for https) dropped; user info kept.
* Tracking parameters removed (:data:`TRACKING_PARAMS`, :data:`TRACKING_PREFIXES`; names compared
  case-insensitively): ``utm_*``, ``fbclid``, ``gclid``, ``yclid``, ``mc_cid``, ``mc_eid``, ``_ga``, ``_gl``,
  ``igshid``, ``ref``, ``ref_src``, ``spm``, ... .  Other parameters (``id``, ``page``, ``p``, ``lang``...) are
  kept: a wrongly kept parameter costs one extra fetch, a wrongly dropped one merges two articles.
  (courlan's ``clean_query`` is not used: its tracker pattern also drops e.g. ``gallery``, ``source`` or
  ``keyword`` parameters, which identify pages on some sites.)
* AMP forms mapped to the canonical page: an ``amp`` path segment anywhere (``/amp/story``, ``/story/amp``,
  ``/story/amp/``), a ``.amp`` suffix of the last segment (``story.amp``, ``story.amp.html``), the ``amp``
  parameter (``?amp``, ``?amp=1``), ``outputType=amp``, and an ``amp.`` host prefix when what remains is
  still a registered domain (``amp.example.co.uk`` -> ``example.co.uk``).  ``www.`` is kept, so
  ``amp.theguardian.com`` maps to ``theguardian.com``; :func:`url_keys` gives both forms for look-ups.
* The path keeps its trailing slash or its absence (servers may treat them differently).

The result is idempotent: ``canonicalize(canonicalize(u)) == canonicalize(u)`` (property-tested).

Site identity (:func:`same_site`, :func:`site_key`) uses the registered domain from the public suffix list
bundled with the ``tld`` package, read from disk only; when that file is missing the
host itself is used.  IP addresses, ``localhost`` and hosts without a public suffix are their own site,
port included (so fixture servers on two ports are two sites).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Sequence
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as _w3lib_canonicalize

__all__ = [
    "TRACKING_PARAMS", "TRACKING_PREFIXES", "canonicalize", "is_tracking_param", "pick_canonical",
    "same_site", "site_key", "registered_domain", "url_keys", "host_of",
]

#: Query parameter names (lower case) that only track how a reader arrived.
TRACKING_PARAMS = frozenset({
    # ad-click identifiers
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "twclid", "ttclid",
    "li_fat_id", "igshid", "igsh", "epik", "srsltid",
    # analytics / e-mail campaigns
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "xtor", "ncid", "ocid", "cmpid", "cmp",
    "icid", "s_cid", "smid", "smtyp", "soc_src", "soc_trk", "sr_share", "spm", "scm", "trk", "trkcampaign",
    "__twitter_impression", "rss_source",
    # referrers
    "ref", "ref_src", "ref_url", "referer", "referrer",
})
#: Name prefixes (lower case) of tracking parameters: Google Analytics, Matomo/Piwik, HubSpot ads,
#: AT Internet, comScore, WebTrends, Outbrain/Olytics, Vero, internal-tracking ``itm_``.
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "at_", "ns_", "wt.", "oly_", "vero_", "itm_")

_AMP_CACHE_HOST = re.compile(r"(^|\.)cdn\.ampproject\.org$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    n = unquote_plus(name).strip().lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


def _is_amp_param(name: str, value: str) -> bool:
    n = unquote_plus(name).strip().lower()
    if n == "amp":
        return True
    return n == "outputtype" and unquote_plus(value).strip().lower() == "amp"


def _unwrap_amp_cache(parts) -> str | None:
    """Publisher URL of a Google AMP cache / viewer URL, else None."""
    host = (parts.hostname or "").lower()
    path = parts.path
    if _AMP_CACHE_HOST.search(host):
        m = re.match(r"^/(?:c|v|i|wp)/(s/)?([^/]+\.[^/]+)(/.*)?$", path)
    elif re.fullmatch(r"(www\.)?google\.[a-z.]+", host):
        m = re.match(r"^/amp/(s/)?([^/]+\.[^/]+)(/.*)?$", path)
    else:
        return None
    if not m:
        return None
    scheme = "https" if m.group(1) else "http"
    inner = f"{scheme}://{m.group(2)}{m.group(3) or '/'}"
    return inner + (f"?{parts.query}" if parts.query else "")


def _strip_default_port(scheme: str, netloc: str) -> str:
    m = re.fullmatch(r"(?P<pre>(?:[^@/]*@)?(?:\[[^\]]*\]|[^:\[\]]*)):(?P<port>\d*)", netloc)
    if not m:
        return netloc
    port = m.group("port")
    if port == "" or (port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme)):
        return m.group("pre")
    return netloc


def _strip_amp_host(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if not hostport.lower().startswith("amp."):
        return netloc
    host, colon, port = hostport[4:].partition(":")
    if registered_domain(host) is None:         # amp.com, amp.co.uk, amp.localhost: a site of its own
        return netloc
    return f"{userinfo}{at}{host}{colon}{port}"


def _clean_path(path: str) -> str:
    segs = path.split("/")
    out = [s for i, s in enumerate(segs) if i == 0 or unquote(s).lower() != "amp"]
    if len(out) < len(segs) and len(out) == 1:
        return "/"
    last = out[-1]
    low = unquote(last).lower()
    if low.endswith(".amp") and len(low) > 4:
        out[-1] = last[:-4]
    elif low.endswith(".amp.html") and len(low) > 9:
        out[-1] = last[:-9] + last[-5:]
    path = "/".join(out)
    return path or "/"


def _clean_query(query: str) -> str:
    kept = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if is_tracking_param(name) or _is_amp_param(name, value):
            continue
        kept.append(piece)
    return "&".join(kept)


def _canonicalize_once(s: str) -> str:
    parts = urlsplit(s)
    inner = _unwrap_amp_cache(parts)
    if inner:
        s = inner
    c = _w3lib_canonicalize(s, keep_blank_values=True, keep_fragments=False)
    p = urlsplit(c)
    scheme = p.scheme.lower()
    netloc = _strip_amp_host(_strip_default_port(scheme, p.netloc))
    path = _clean_path(p.path) if p.path else "/"
    query = _clean_query(p.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def canonicalize(url: str) -> str:
    """Canonical form of ``url`` (see the module docstring). Never raises for a ``str`` input."""
    if not isinstance(url, str):
        raise TypeError(f"canonicalize() expects str, got {type(url).__name__}")
    s = url.strip()
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", s)
    if not s or not m or m.group(1).lower() not in ("http", "https"):
        return s
    try:
        return _fixed_point(s)
    except (ValueError, UnicodeError):
        pass
    # Unparseable authority (bad port, broken IPv6 literal, ...): still drop fragment and trackers.
    fb = _fallback(s)
    try:
        return _fixed_point(fb)
    except (ValueError, UnicodeError):
        return fb


def _fixed_point(s: str) -> str:
    # w3lib may re-encode what the cleaning produced (or an unwrapped AMP-cache URL): repeat to the
    # fixed point, which is what makes canonicalize idempotent.
    c = _canonicalize_once(s)
    for _ in range(4):
        n = _canonicalize_once(c)
        if n == c:
            return c
        c = n
    raise ValueError("no fixed point")


def _fallback(s: str) -> str:
    """String-level cleaning for URLs that do not parse: lower-case scheme, no fragment, no trackers."""
    s = s.split("#", 1)[0]
    scheme, _, rest = s.partition(":")
    base, q, query = rest.partition("?")
    query = _clean_query(query)
    return (f"{scheme.lower()}:{base}" + (f"?{query}" if query else "")).strip()


# --------------------------------------------------------------------------- sites

@lru_cache(maxsize=1)
def _psl_available() -> bool:
    """The bundled public suffix file is present (else tld would try to download it: never let it)."""
    try:
        from tld.utils import MozillaTLDSourceParser, project_dir
    except ImportError:  # pragma: no cover - tld is a declared dependency
        return False
    path = MozillaTLDSourceParser.local_path
    return os.path.exists(path if os.path.isabs(path) else project_dir(path))


@lru_cache(maxsize=50_000)
def registered_domain(host: str) -> str | None:
    """``news.bbc.co.uk`` -> ``bbc.co.uk``; None for IPs, ``localhost``, unknown suffixes or a bare suffix."""
    host = (host or "").strip().lower().rstrip(".")
    if not host or not re.fullmatch(r"[a-z0-9_.-]+", host) or re.fullmatch(r"[\d.]+", host):
        return None
    if not _psl_available():
        return None
    from tld import get_fld

    try:
        fld = get_fld(host, fix_protocol=True, fail_silently=True)
    except Exception:  # tld raises its own errors for odd input even with fail_silently
        return None
    if not fld:
        return None
    if fld == host:                             # a bare public suffix (co.uk) is not a registered domain
        from tld import get_tld
        try:
            if get_tld(host, fix_protocol=True, fail_silently=True) == host:
                return None
        except Exception:
            return None
    return fld


def host_of(url: str) -> str:
    """Lower-case host of a URL ('' if none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def site_key(url: str) -> str:
    """What :func:`same_site` compares: the registered domain, else host (without ``www.``) and port."""
    try:
        p = urlsplit(url.strip())
        host = (p.hostname or "").rstrip(".")
        try:
            port = p.port
        except ValueError:
            port = None
    except ValueError:
        return ""
    if not host:
        return ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    rd = registered_domain(host)
    if rd:
        return rd
    if host.startswith("www."):
        host = host[4:]
    scheme = (p.scheme or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one site: same registered domain (``www.x.com`` ~ ``news.x.com``), or
    for hosts without one (IPs, ``localhost``) the same host and port, ``www.`` ignored."""
    ka, kb = site_key(a), site_key(b)
    return bool(ka) and ka == kb


def url_keys(url: str) -> list[str]:
    """Look-up keys for "is this URL already known": the canonical form, then the same with ``www.``
    added or removed (sites serve both; the stored variant may be either)."""
    c = canonicalize(url)
    keys = [c] if c else []
    try:
        p = urlsplit(c)
    except ValueError:
        return keys
    if p.scheme in ("http", "https") and p.hostname:
        netloc = p.netloc
        userinfo, at, hostport = netloc.rpartition("@")
        twin = hostport[4:] if hostport.startswith("www.") else "www." + hostport
        if registered_domain(twin.split(":")[0].strip("[]")) or hostport.startswith("www."):
            keys.append(urlunsplit((p.scheme, f"{userinfo}{at}{twin}", p.path, p.query, "")))
    return keys


# --------------------------------------------------------------------------- canonical of a page

def _primary_lang(tag: str | None) -> str:
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]


def _is_home(url: str) -> bool:
    try:
        p = urlsplit(url)
    except ValueError:
        return False
    return p.path in ("", "/") and not p.query


def pick_canonical(page_url: str, final_url: str, canonical: str | None, og_url: str | None, *,
                   alternates: Sequence[tuple[str, str]] | None = None, language: str | None = None) -> str:
    """Canonical URL of a fetched page.

    ``page_url`` is the URL requested, ``final_url`` the one reached after redirects (empty: use
    ``page_url``).  The page's ``<link rel=canonical>`` (``canonical``), else its ``og:url``, is used
    when, resolved against ``final_url``, it is an http(s) URL on the same site (:func:`same_site`) as
    ``final_url``; otherwise ``final_url``.  The result is :func:`canonicalize`'d.

    Two common publishing mistakes are refused rather than merging different articles into one row:

    * a canonical pointing at the site's home page while the page itself is not the home page;
    * a canonical pointing at another language edition: when ``alternates`` (the page's hreflang
      ``(lang, url)`` pairs) list the candidate, and list a different URL for the page's own
      ``language``, the candidate is another edition of the story, not this page.
    """
    base = (final_url or page_url or "").strip()
    fallback = canonicalize(base)
    own_urls: set[str] = set()
    alt_urls: set[str] = set()
    if alternates and language:
        lang = _primary_lang(language)
        for alang, aurl in alternates:
            if not aurl:
                continue
            try:
                cu = canonicalize(urljoin(base, aurl.strip()))
            except ValueError:
                continue
            alt_urls.add(cu)
            if _primary_lang(alang) == lang:
                own_urls.add(cu)
    for cand in (canonical, og_url):
        if not cand or not cand.strip():
            continue
        try:
            absolute = urljoin(base, cand.strip())
        except ValueError:
            continue
        c = canonicalize(absolute)
        if not re.match(r"^https?://[^/]", c):
            continue
        if not same_site(c, base):
            continue
        if _is_home(c) and not _is_home(fallback):
            continue
        if own_urls and c in alt_urls and c not in own_urls:
            continue
        return c
    return fallback
