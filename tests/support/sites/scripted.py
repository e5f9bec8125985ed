"""A JavaScript-only news site (``render = "browser"``, monitor/crawl/browser.py): its pages hold empty containers and
scripts; the article text, the title and the section's links exist only after the scripts ran.

- ``/news/`` (a section): an empty list a script fills with the two article links.
- ``/feed.xml``: RSS listing the first article and ``/news/2026/12/moved-story/`` (a redirect, to ``redirect_to``).
- the first article: its text and title are in the script base64-encoded JSON (so no word of them is in the HTML
  as sent); the script also asks for ``probe_urls`` (internal services the browser must not reach) and for an
  image, and the page has an ``<img>`` (skipped by the browser: never requested) and, with ``script_redirect_to``,
  a ``<script src="/js/moved.js">`` that redirects there (a subresource redirect the browser follows itself).
- the second article: its script fetches ``/api/second-story.json`` after the page loaded (the settle wait).

``build_scripted_site(base_url, probe_urls=..., redirect_to=...)`` returns ``(resources, expected)`` where
``expected`` maps article URL path -> (title, first paragraph).
"""

from __future__ import annotations

import base64
import html
import json

from tests.support.fixtureserver import HTML, JSON, RSS, TEXT, Resource, redirect
from tests.support.sites.hostile import rss, unique_text

FIRST = "/news/2026/12/first-story/"
SECOND = "/news/2026/12/second-story/"
MOVED = "/news/2026/12/moved-story/"
ARTICLE_PATTERN = r"/news/\d{4}/\d{2}/"

_SHELL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Loading…</title>
<meta property="og:type" content="article"></head>
<body><nav><a href="/">Home</a> <a href="/news/">News</a></nav>
<main><article><h1 id="headline"></h1><div id="story"></div></article>{extra}</main>
<script>{script}</script></body></html>"""

_FILL = """
function fill(data) {
  document.title = data.title;
  document.getElementById("headline").textContent = data.title;
  var story = document.getElementById("story");
  data.paragraphs.forEach(function (text) {
    var p = document.createElement("p"); p.textContent = text; story.appendChild(p);
  });
}
"""


def _encoded(data: dict) -> str:
    return base64.b64encode(json.dumps(data).encode("utf-8")).decode("ascii")


def build_scripted_site(base_url: str, *, probe_urls: list[str] = (), redirect_to: str | None = None,
                        script_redirect_to: str | None = None):
    first = {"title": "Steppe rail corridor opens to freight", "published": "2026-12-01T08:00:00+00:00",
             "paragraphs": unique_text("scripted-first", paragraphs=6)}
    second = {"title": "Reservoir engineers report on winter levels", "published": "2026-12-02T08:00:00+00:00",
              "paragraphs": unique_text("scripted-second", paragraphs=6)}
    probes = "".join(f"fetch({json.dumps(u)}).catch(function () {{}});\n" for u in probe_urls)
    first_script = (_FILL + f"""
var raw = atob("{_encoded(first)}");
var bytes = new Uint8Array(raw.length);
for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
fill(JSON.parse(new TextDecoder("utf-8").decode(bytes)));
new Image().src = "/pixel.png";
""" + probes)
    second_script = _FILL + """
window.addEventListener("load", function () {
  setTimeout(function () {
    fetch("/api/second-story.json").then(function (r) { return r.json(); }).then(fill);
  }, 100);
});
"""
    section_script = """
var links = [["%s", "Rail corridor"], ["%s", "Reservoir levels"]];
var list = document.getElementById("list");
links.forEach(function (l) {
  var li = document.createElement("li"); var a = document.createElement("a");
  a.href = l[0]; a.textContent = l[1]; li.appendChild(a); list.appendChild(li);
});
""" % (FIRST, SECOND)
    section = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title></head><body>'
               f'<h1>News</h1><ul id="list"></ul><script>{section_script}</script></body></html>')
    resources = {
        "/robots.txt": Resource("User-agent: *\nAllow: /\n", content_type=TEXT),
        "/": Resource('<!DOCTYPE html><html><head><title>Scripted news</title></head><body><div id="app"></div>'
                      '<script>document.getElementById("app").textContent = "Scripted news";</script></body></html>',
                      content_type=HTML),
        "/news/": Resource(section, content_type=HTML),
        "/feed.xml": Resource(rss(base_url, [FIRST, MOVED]), content_type=RSS),
        FIRST: Resource(_SHELL.format(extra='<img src="/photo.jpg" alt="">' + (
            '<script src="/js/moved.js"></script>' if script_redirect_to else ""), script=first_script),
                        content_type=HTML),
        SECOND: Resource(_SHELL.format(extra="", script=second_script), content_type=HTML),
        "/api/second-story.json": Resource(json.dumps(second), content_type=JSON),
        "/photo.jpg": Resource(b"\xff\xd8\xff", content_type="image/jpeg"),
        "/pixel.png": Resource(b"\x89PNG", content_type="image/png"),
    }
    if redirect_to:
        resources[MOVED] = redirect(redirect_to)
    if script_redirect_to:
        resources["/js/moved.js"] = redirect(script_redirect_to, status=302)
    expected = {FIRST: (first["title"], first["paragraphs"][0]), SECOND: (second["title"], second["paragraphs"][0])}
    assert not any(html.escape(p[:40]) in resources[FIRST].body for p in first["paragraphs"])
    return resources, expected
