"""monitor.dedup.urls: canonical URLs, tracking parameters, AMP forms, site identity, canonical of a page."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.dedup.urls import (
    TRACKING_PARAMS, canonicalize, is_tracking_param, pick_canonical, registered_domain, same_site, site_key,
    url_keys,
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Nothing in monitor.dedup.urls may open a connection (tld downloads its list when the file is missing)."""
    def refuse(*a, **k):
        raise AssertionError("monitor.dedup.urls tried to open a network connection")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# --------------------------------------------------------------------------- canonicalize: basics

@pytest.mark.parametrize("url, expected", [
    ("HTTPS://WWW.Example.COM/a/b", "https://www.example.com/a/b"),
    ("https://example.com:443/x", "https://example.com/x"),
    ("http://example.com:80/x", "http://example.com/x"),
    ("http://example.com:8080/x", "http://example.com:8080/x"),
    ("https://example.com:80/x", "https://example.com:80/x"),       # not the https default: kept
    ("https://example.com/x#section-2", "https://example.com/x"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/x?b=2&a=1", "https://example.com/x?a=1&b=2"),  # parameters sorted
    ("https://example.com/x?a", "https://example.com/x?a="),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/%7Euser", "https://example.com/~user"),
    ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
    ("https://example.com/story/", "https://example.com/story/"),     # trailing slash kept
    ("https://example.com/story", "https://example.com/story"),
    ("  https://example.com/x\n", "https://example.com/x"),
    ("http://[::1]:80/x", "http://[::1]/x"),
    ("http://127.0.0.1:8765/a?page=2", "http://127.0.0.1:8765/a?page=2"),
])
def test_canonicalize_basics(url, expected):
    assert canonicalize(url) == expected


@pytest.mark.parametrize("text", ["", "   ", "/relative/path", "mailto:a@example.com", "javascript:void(0)",
                                  "not a url", "ftp://example.com/file", "data:text/plain,hi"])
def test_non_http_input_returned_stripped(text):
    assert canonicalize(text) == text.strip()


@pytest.mark.parametrize("url", [
    "http://example.com:99999/?outputType= &utm_source=amp",      # bad port: string-level fallback
    "http://example.com:abc/x?fbclid=1#frag",
    "http://[broken/x?utm_source=a&id=1",
])
def test_unparseable_authority_still_cleaned_and_idempotent(url):
    out = canonicalize(url)
    assert canonicalize(out) == out
    assert "utm_" not in out and "fbclid" not in out and "#" not in out


def test_canonicalize_rejects_non_str():
    with pytest.raises(TypeError):
        canonicalize(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tracking parameters

@pytest.mark.parametrize("query", [
    "utm_source=rss", "utm_medium=email&utm_campaign=x", "UTM_Source=a", "utm_content=", "fbclid=IwAR0x",
    "gclid=abc", "yclid=1", "mc_cid=1&mc_eid=2", "_ga=2.1.2", "_gl=1*x", "igshid=abc", "ref=rss",
    "ref_src=twsrc%5Etfw", "spm=a2.b", "msclkid=1", "dclid=1", "CMP=share_btn_tw", "smid=tw-share",
    "ns_mchannel=social&ns_source=twitter", "at_medium=RSS&at_campaign=KARANGA", "xtor=RSS-1", "ocid=msn",
    "mtm_campaign=a", "pk_campaign=b", "_hsenc=x&_hsmi=y", "hsa_acc=1", "WT.mc_id=x", "itm_source=home",
])
def test_tracking_params_removed(query):
    assert canonicalize(f"https://example.com/story?{query}") == "https://example.com/story"


def test_other_params_kept_in_sorted_order():
    url = "https://example.com/article.php?utm_source=x&id=42&page=2&lang=pl&fbclid=1&gallery=3&source=home"
    assert canonicalize(url) == "https://example.com/article.php?gallery=3&id=42&lang=pl&page=2&source=home"


def test_is_tracking_param():
    assert is_tracking_param("utm_term") and is_tracking_param("FBCLID") and is_tracking_param("ref")
    assert not is_tracking_param("id") and not is_tracking_param("page") and not is_tracking_param("p")


# --------------------------------------------------------------------------- AMP forms

@pytest.mark.parametrize("url, expected", [
    ("https://example.com/amp/news/story-1", "https://example.com/news/story-1"),
    ("https://example.com/news/amp/story-1", "https://example.com/news/story-1"),
    ("https://example.com/2024/05/story/amp/", "https://example.com/2024/05/story/"),
    ("https://example.com/2024/05/story/amp", "https://example.com/2024/05/story"),
    ("https://example.com/AMP/story", "https://example.com/story"),
    ("https://example.com/amp", "https://example.com/"),
    ("https://example.com/story?amp=1", "https://example.com/story"),
    ("https://example.com/story?amp", "https://example.com/story"),
    ("https://example.com/story?amp=true&id=7", "https://example.com/story?id=7"),
    ("https://example.com/story?outputType=amp", "https://example.com/story"),
    ("https://example.com/story?outputType=print", "https://example.com/story?outputType=print"),
    ("https://example.com/news/story.amp", "https://example.com/news/story"),
    ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
    ("https://amp.example.com/news/story", "https://example.com/news/story"),
    ("https://amp.example.co.uk/news/story", "https://example.co.uk/news/story"),
    ("https://amp.co.uk/news/story", "https://amp.co.uk/news/story"),          # amp.co.uk is the site
    ("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/news/story", "https://www.example.com/news/story"),
    ("https://www-example-com.cdn.ampproject.org/c/www.example.com/a/amp", "http://www.example.com/a"),
    ("https://www.google.com/amp/s/www.example.com/news/story.amp?utm_source=x", "https://www.example.com/news/story"),
    ("https://example.com/amplifier-review", "https://example.com/amplifier-review"),   # not an AMP segment
    ("https://example.com/news/camp/story", "https://example.com/news/camp/story"),
])
def test_amp_forms(url, expected):
    assert canonicalize(url) == expected


def test_amp_and_tracking_variants_collapse():
    variants = [
        "https://www.example.com/world/2024/05/03/story-slug",
        "https://www.example.com/world/2024/05/03/story-slug?utm_source=rss&utm_medium=feed",
        "https://WWW.EXAMPLE.COM:443/world/2024/05/03/story-slug#comments",
        "https://www.example.com/world/2024/05/03/story-slug/amp",
        "https://www.example.com/amp/world/2024/05/03/story-slug?fbclid=XYZ",
        "https://www.example.com/world/2024/05/03/story-slug?amp=1&gclid=1",
        "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/world/2024/05/03/story-slug",
    ]
    assert {canonicalize(v) for v in variants} == {"https://www.example.com/world/2024/05/03/story-slug"}


# --------------------------------------------------------------------------- sites

def test_registered_domain():
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("www.eureporter.co") == "eureporter.co"
    assert registered_domain("co.uk") is None
    assert registered_domain("127.0.0.1") is None
    assert registered_domain("localhost") is None
    assert registered_domain("someone.blogspot.com") == "someone.blogspot.com"   # private suffix


@pytest.mark.parametrize("a, b, same", [
    ("https://www.example.com/a", "https://example.com/b", True),
    ("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b", True),
    ("http://example.com/a", "https://www.example.com/b", True),
    ("https://example.com/a", "https://example.org/a", False),
    ("https://bbc.co.uk/a", "https://itv.co.uk/a", False),
    ("https://alice.blogspot.com/", "https://bob.blogspot.com/", False),
    ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b", True),
    ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a", False),
    ("http://localhost/a", "http://www.localhost/b", True),
    ("", "", False),
    ("not a url", "not a url", False),
])
def test_same_site(a, b, same):
    assert same_site(a, b) is same
    assert same_site(b, a) is same


def test_site_key():
    assert site_key("https://www.eureporter.co/pl/x") == "eureporter.co"
    assert site_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"


def test_url_keys_www_twin():
    assert url_keys("https://amp.theguardian.com/x?utm_source=a") == [
        "https://theguardian.com/x", "https://www.theguardian.com/x"]
    assert url_keys("https://www.example.com/x") == ["https://www.example.com/x", "https://example.com/x"]
    assert url_keys("http://127.0.0.1:9000/x") == ["http://127.0.0.1:9000/x"]
    assert url_keys("") == []


# --------------------------------------------------------------------------- pick_canonical

def test_pick_canonical_prefers_link_canonical_on_same_site():
    got = pick_canonical("https://example.com/s?id=1&utm_source=x", "https://www.example.com/s?id=1",
                         "https://www.example.com/news/story-slug", "https://www.example.com/og")
    assert got == "https://www.example.com/news/story-slug"


def test_pick_canonical_relative_and_og_fallback():
    assert pick_canonical("https://ex.com/a", "https://ex.com/a", "/news/b?utm_medium=x", None) == "https://ex.com/news/b"
    assert pick_canonical("https://ex.com/a", "https://ex.com/a", None, "https://news.ex.com/b#x") == "https://news.ex.com/b"
    assert pick_canonical("https://ex.com/a", "https://ex.com/a", "   ", "https://ex.com/b") == "https://ex.com/b"


def test_pick_canonical_other_site_falls_back_to_final_url():
    got = pick_canonical("https://short.example/abc", "https://ex.com/story?utm_source=x",
                         "https://aggregator.com/story", "https://other.org/story")
    assert got == "https://ex.com/story"


def test_pick_canonical_uses_final_url_after_redirect():
    assert pick_canonical("http://ex.com/old", "https://ex.com/new/", None, None) == "https://ex.com/new/"
    assert pick_canonical("http://ex.com/old", "", None, None) == "http://ex.com/old"


def test_pick_canonical_refuses_home_page_canonical():
    assert pick_canonical("https://ex.com/a", "https://ex.com/a", "https://ex.com/", None) == "https://ex.com/a"
    assert pick_canonical("https://ex.com/", "https://ex.com/", "https://ex.com/", None) == "https://ex.com/"


def test_pick_canonical_refuses_canonical_to_another_language_edition():
    alts = [("en", "https://ex.com/en/story"), ("pl", "/pl/historia"), ("x-default", "https://ex.com/en/story")]
    got = pick_canonical("https://ex.com/pl/historia", "https://ex.com/pl/historia", "https://ex.com/en/story",
                         None, alternates=alts, language="pl")
    assert got == "https://ex.com/pl/historia"
    # the English page itself keeps its canonical
    got = pick_canonical("https://ex.com/en/story?utm_source=x", "https://ex.com/en/story?utm_source=x",
                         "https://ex.com/en/story", None, alternates=alts, language="en-GB")
    assert got == "https://ex.com/en/story"


def test_pick_canonical_non_http_candidate_ignored():
    assert pick_canonical("https://ex.com/a", "https://ex.com/a", "javascript:void(0)", None) == "https://ex.com/a"


# --------------------------------------------------------------------------- properties

_hosts = st.sampled_from(["example.com", "WWW.Example.COM", "news.bbc.co.uk", "amp.example.org", "127.0.0.1",
                          "localhost", "bücher.de", "xn--bcher-kva.de", "[::1]", "a.b.c.d.e", "amp.co.uk", ""])
_ports = st.sampled_from(["", ":80", ":443", ":8080", ":", ":0", ":99999", ":abc"])
_seg = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=8) | \
    st.sampled_from(["amp", "AMP", "story.amp", "x.amp.html", "%2F", "%41", "..", ".", "a%20b", "%zz", "%"])
_key = st.sampled_from(["utm_source", "UTM_Medium", "fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_ga", "_gl",
                        "igshid", "ref", "ref_src", "spm", "amp", "outputType", "id", "page", "a b", "q", "", "%75tm_x"]) | \
    st.text(max_size=6)
_val = st.text(max_size=6) | st.sampled_from(["amp", "1", "", "a&b", "%3D", "=="])


@st.composite
def urlish(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_hosts)
    path = "/".join(draw(st.lists(_seg, max_size=5)))
    params = draw(st.lists(st.tuples(_key, _val), max_size=5))
    query = "&".join(f"{k}={v}" if v or draw(st.booleans()) else k for k, v in params)
    frag = draw(st.text(max_size=5))
    return f"{scheme}://{host}{draw(_ports)}/{path}" + (f"?{query}" if query else "") + (f"#{frag}" if frag else "")


_text_urls = urlish() | st.text(max_size=60) | st.builds(lambda t: "https://" + t, st.text(max_size=40))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text_urls)
def test_canonicalize_is_idempotent_and_never_raises(url):
    once = canonicalize(url)
    assert isinstance(once, str)
    assert canonicalize(once) == once


_TRACKING = sorted(TRACKING_PARAMS | {"utm_source", "utm_medium", "utm_campaign", "utm_x"})


@settings(max_examples=400, deadline=None)
@given(urlish(), st.lists(st.tuples(st.sampled_from(_TRACKING), _val), min_size=1, max_size=4), st.booleans())
def test_tracking_params_never_survive(url, tracking, upper):
    tracked = url.split("#")[0] + ("&" if "?" in url else "?") + "&".join(
        f"{k.upper() if upper else k}={v}" for k, v in tracking)
    out = canonicalize(tracked)
    if not out.lower().startswith(("http://", "https://")):
        return   # not rewritten at all (unparseable); nothing to check
    names = {k.strip().lower() for k, _ in parse_qsl(urlsplit(out).query, keep_blank_values=True)}
    assert not any(is_tracking_param(n) for n in names), out


@settings(max_examples=300, deadline=None)
@given(urlish())
def test_canonical_output_has_no_fragment_and_lowercase_scheme(url):
    out = canonicalize(url)
    if out.lower().startswith(("http://", "https://")):
        assert "#" not in out
        assert out.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(_text_urls, _text_urls)
def test_same_site_never_raises_and_is_symmetric(a, b):
    assert same_site(a, b) == same_site(b, a)


@settings(max_examples=200, deadline=None)
@given(_text_urls, st.one_of(st.none(), _text_urls), st.one_of(st.none(), _text_urls))
def test_pick_canonical_never_raises_and_is_canonical(final, canonical, og):
    out = pick_canonical(final, final, canonical, og)
    assert canonicalize(out) == out


# --------------------------------------------------------------------------- properties (reliability, issue #5)

_plain_seg = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["example.com", "news.example.org", "bbc.co.uk"]), st.sampled_from(["http", "https"]),
       st.lists(_plain_seg, min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(["id", "q", "lang", "p2"]), _plain_seg), max_size=3, unique_by=lambda kv: kv[0]),
       st.text(alphabet="abc", max_size=4), st.randoms(use_true_random=False))
def test_equivalent_spellings_share_one_canonical_url(host, scheme, segs, params, frag, rnd):
    """Host case, the default port, a fragment, tracking parameters and parameter order never make two
    canonical URLs (so one article is never stored twice through them)."""
    path = "/" + "/".join(segs) + "/"
    base = f"{scheme}://{host}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
    shuffled = params[:]
    rnd.shuffle(shuffled)
    port = ":443" if scheme == "https" else ":80"
    variant = (f"{scheme.upper()}://{host.upper()}{port}{path}?"
               + "&".join([*(f"{k}={v}" for k, v in shuffled), "utm_source=feed", "fbclid=x"])
               + (f"#{frag}" if frag else ""))
    assert canonicalize(variant) == canonicalize(base)


@settings(max_examples=300, deadline=None)
@given(_text_urls)
def test_url_keys_never_raise_and_start_with_the_canonical_url(url):
    keys = url_keys(url)
    assert isinstance(keys, list) and all(isinstance(k, str) for k in keys)
    if keys:
        assert keys[0] == canonicalize(url)
        assert len(set(keys)) == len(keys)
