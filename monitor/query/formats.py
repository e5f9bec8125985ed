"""Rendering of query results (monitor.query.reads): terminal tables, JSON, CSV, JSON Lines, Markdown, HTML, Atom.

Pure functions from dicts to text (or to a file object, for streams); no database access.

Page text is written by strangers, so it never becomes live markup in any output (docs/security.md):
HTML and Atom escape it; Markdown entity-encodes ``< > &`` and backslash-escapes emphasis, code and link
syntax (``_md``), and link targets are http(s) URLs with the characters that could end them percent-encoded
(``_link_url``); JSON escapes ``< > &`` (``\u003c``...) so it can sit inside an HTML ``<script>``; CSV cells
that a spreadsheet would run as a formula get a leading ``'`` (``csv_cell``, OWASP's rule; ``--raw-csv``
turns it off); terminal tables drop control characters (escape sequences could drive the terminal).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import textwrap
from html import escape
from typing import IO, Iterable
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape as xml_escape

from monitor import __version__

SEARCH_CSV_COLUMNS = ("id", "date", "source", "language", "title", "url", "copies", "rank", "topics", "snippet",
                      "editions")


def _short(ts: str | None) -> str:
    """'YYYY-MM-DD HH:MM:SS' -> 'YYYY-MM-DD HH:MM'."""
    return ts[:16] if ts else "—"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


# C0 controls but tab and newline, DEL and C1 controls: ESC [ ... sequences recolour, retitle or rewrite a terminal
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what XML 1.0 does not allow at all (a feed reader rejects the whole feed over one of them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # OWASP CSV injection: what a spreadsheet may run


def _plain(value) -> str:
    """A cell for the terminal: text without control characters."""
    return _CONTROL.sub("", _cell(value))


def csv_cell(value, raw: bool = False) -> str:
    """A CSV cell; text starting like a formula gets a leading ' (shown as text by spreadsheets) unless ``raw``.
    Numbers are left alone (a negative rank stays a number)."""
    text = _cell(value)
    if not raw and isinstance(value, (str, list, tuple)) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _json_for_html(text: str) -> str:
    """JSON text with < > & and the two JavaScript line separators as \\u escapes: the same data, but safe
    inside an HTML <script> element (no '</script>' or '<!--' can appear)."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _json(data) -> str:
    return _json_for_html(json.dumps(data, ensure_ascii=False, indent=2))


def _safe_url(url: str | None) -> str:
    """Only http(s) links go into HTML, Markdown and Atom links."""
    try:
        if url and urlsplit(url).scheme.lower() in ("http", "https"):
            return url
    except ValueError:                    # e.g. an unbalanced '[' in the host
        pass
    return "#"


_MD_PUNCT = re.compile(r"([\\`*_\[\]])")
_MD_LINE_START = re.compile(r"[#=+|~-]|\d+[.)]")


def _md(text) -> str:
    """Page text for Markdown, one line: < > & entity-encoded (no raw HTML, no autolink), emphasis, code and link
    brackets backslash-escaped, and nothing at the start of the line that makes a heading or a list."""
    text = " ".join(_plain(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    m = _MD_LINE_START.match(text)
    if m:
        cut = m.end() - 1
        text = text[:cut] + "\\" + text[cut:]
    return text


def _link_url(url: str | None) -> str:
    """A link target for Markdown and HTML: http(s) only, with spaces, controls, ( ) < > \\ and the like percent-encoded,
    so the link cannot end early and let the rest of the URL through as markup."""
    return quote(_safe_url(url), safe="!#$%&'*+,/:;=?@[]~-._")


# --------------------------------------------------------------------------- search

def render_search(results: list[dict], fmt: str = "table", *, width: int | None = None, raw_csv: bool = False) -> str:
    if fmt == "json":
        return _json(results)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(SEARCH_CSV_COLUMNS)
        for r in results:
            w.writerow([csv_cell(r.get(c), raw_csv) for c in SEARCH_CSV_COLUMNS])
        return buf.getvalue().rstrip("\n")
    if not results:
        return "No matching articles."
    width = width or min(shutil.get_terminal_size((100, 20)).columns, 120)
    lines = []
    for i, r in enumerate(results, 1):
        copies = f"  (+{r['copies']} {'copy' if r['copies'] == 1 else 'copies'})" if r.get("copies") else ""
        if (r.get("editions") or 1) > 1:
            copies += f"  [{r['editions']} language editions]"
        head = (f"{i:>3}. {_short(r['date'])}  {_plain(r['source'])}  [{_plain(r['language'] or '?')}]  "
                f"{_plain(r['title'] or '(no title)')}{copies}")
        lines.append(textwrap.shorten(head, width=width, placeholder=" …"))
        snippet = " ".join(_plain(r.get("snippet")).split())
        lines += textwrap.wrap(snippet, width=width, initial_indent="     ", subsequent_indent="     ")[:3]
        extra = f"  topics: {_plain(', '.join(r['topics']))}" if r.get("topics") else ""
        lines.append(f"     {_plain(r['url'])}{extra}")
    lines.append(f"{len(results)} result{'s' if len(results) != 1 else ''}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- export (streams)

def write_export(rows: Iterable[dict], out: IO[str], fmt: str = "jsonl", *, raw_csv: bool = False) -> int:
    """Write rows as they come (JSON Lines or CSV); returns the number written."""
    n = 0
    if fmt == "jsonl":
        for r in rows:
            out.write(_json_for_html(json.dumps(r, ensure_ascii=False)) + "\n")
            n += 1
    elif fmt == "csv":
        w = None
        for r in rows:
            if w is None:
                w = csv.DictWriter(out, fieldnames=list(r), lineterminator="\n")
                w.writeheader()
            w.writerow({k: csv_cell(v, raw_csv) for k, v in r.items()})
            n += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return n


# --------------------------------------------------------------------------- stats

def _table(rows: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[_plain(r.get(k)) or "—" for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    out = ["  " + "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths)).rstrip()]
    for c in cells:
        out.append("  " + "  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())
    return out


def render_stats(s: dict, fmt: str = "table") -> str:
    if fmt == "json":
        return _json(s)
    lines = [f"{s['articles']} articles ({s['duplicates']} duplicates) from {s['sources']} sources"
             f" — {_short(s['generated_at'])} UTC", "", "Per source:"]
    lines += _table(s["per_source"], [("source", "source"), ("articles", "articles"), ("duplicates", "dups"),
                                      ("newest", "newest article"), ("last_fetched", "last fetched")])
    lines += ["", "Per language:"]
    lines += _table(s["per_language"], [("language", "language"), ("articles", "articles")])
    lines += ["", "Per topic:"]
    topics = [{**t, "description": textwrap.shorten(t["description"] or "", 70, placeholder=" …")} for t in s["per_topic"]]
    lines += _table(topics, [("topic", "topic"), ("articles", "articles"), ("description", "description")])
    lines += ["", f"Per day (last {len(s['per_day'])} days, by publication date):"]
    peak = max((d["articles"] for d in s["per_day"]), default=0) or 1
    for d in s["per_day"]:
        bar = "#" * round(30 * d["articles"] / peak)
        lines.append(f"  {d['day']}  {d['articles']:>6}  {bar}".rstrip())
    lines += ["", "Last crawl per source:"]
    lines += _table(s["last_crawls"], [("source", "source"), ("crawl_id", "crawl"), ("started", "started"),
                                       ("status", "status"), ("articles_new", "new"), ("errors", "errors"),
                                       ("error_reasons", "error reasons (fetch_errors table)")])
    lines += ["", f"Silent sources (nothing new for {s['silent_after']}):"]
    lines += _table(s["silent"], [("source", "source"), ("newest", "newest article"), ("last_crawl", "last crawl"),
                                  ("reason", "why")])
    return "\n".join(lines)


# --------------------------------------------------------------------------- digest

def _edition_line_md(ed: dict) -> str:
    parts = []
    for a in ed["articles"]:
        dup = " (copy)" if a["duplicate_of"] else ""
        parts.append(f"[{_md(a['title'] or a['source'])}]({_link_url(a['url'])}) — {_md(a['source'])}{dup}")
    return f"- **{_md(ed['language'])}**: " + "; ".join(parts)


def _window(d: dict) -> str:
    span = f"since {_short(d['since'])} UTC" if d.get("since") else "all dates"
    if d.get("until"):
        span += f" until {_short(d['until'])} UTC"
    if d.get("topic"):
        span += f", topic {d['topic']}"
    return span


def _n(count: int, word: str) -> str:
    plural = {"story": "stories", "copy": "copies"}.get(word, word + "s")
    return f"{count} {word if count == 1 else plural}"


def _counts(d: dict) -> str:
    return f"{_n(d['story_count'], 'story')}, {_n(d['article_count'], 'article')} from {_n(d['source_count'], 'source')}"


def render_digest(d: dict, fmt: str = "md", *, chart: str | None = None) -> str:
    """``chart``: an SVG document (``monitor.query.charts.digest_chart``) shown above the stories in HTML."""
    if fmt == "json":
        return _json(d)
    if fmt == "html":
        return render_digest_html(d, chart=chart)
    lines = [f"# News digest — {_md(_window(d))}", "",
             f"{_counts(d)}. "
             f"Generated {_short(d['generated_at'])} UTC by media-monitor.", ""]
    if not d["stories"]:
        lines.append("No articles in this window.")
    for i, s in enumerate(d["stories"], 1):
        title = _md(s["title"] or "(no title)")
        meta = [_md(_short(s["date"])) + " UTC", f"{s['source_count']} source{'s' if s['source_count'] != 1 else ''}",
                f"{s['article_count']} article{'s' if s['article_count'] != 1 else ''}"]
        if len(s["languages"]) > 1:
            meta.append("editions: " + _md(", ".join(s["languages"])))
        if s.get("copy_count"):
            meta.append(_n(s["copy_count"], "copy"))
        if s["topics"]:
            meta.append("topics: " + _md(", ".join(s["topics"])))
        lines += [f"## {i}. {title}", "", "*" + " · ".join(meta) + "*", ""]
        if s["first_paragraph"]:
            lines += [_md(s["first_paragraph"]), ""]
        lines += [_edition_line_md(ed) for ed in s["editions"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# Inline styles only: e-mail clients drop <style> blocks and scripts.
_FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_S = {
    "body": f"margin:0;padding:0;background:#f3f4f6;{_FONT};color:#111827",
    "wrap": "max-width:760px;margin:0 auto;padding:24px 16px",
    "h1": "font-size:24px;line-height:1.25;margin:0 0 4px 0;color:#111827",
    "sub": "font-size:14px;color:#4b5563;margin:0 0 20px 0",
    "card": "background:#ffffff;border:1px solid #e5e7eb;border-left:4px solid #1d4ed8;border-radius:6px;"
            "padding:14px 16px;margin:0 0 14px 0",
    "h2": "font-size:18px;line-height:1.3;margin:0 0 6px 0",
    "a2": "color:#1d4ed8;text-decoration:none",
    "meta": "font-size:13px;color:#6b7280;margin:0 0 8px 0",
    "p": "font-size:15px;line-height:1.5;margin:0 0 10px 0;color:#1f2937",
    "ed": "font-size:14px;line-height:1.5;margin:2px 0;color:#374151",
    "lang": "display:inline-block;min-width:26px;font-weight:bold;color:#111827;text-transform:uppercase",
    "a": "color:#1d4ed8",
    "tag": "display:inline-block;background:#e0e7ff;color:#3730a3;border-radius:3px;padding:0 6px;"
           "margin-right:4px;font-size:12px",
    "foot": "font-size:12px;color:#6b7280;margin:20px 0 0 0",
    "chart": "background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;padding:8px;margin:0 0 16px 0;"
             "overflow-x:auto",
}


def render_digest_html(d: dict, *, chart: str | None = None) -> str:
    """``chart``: trusted SVG markup (made by pygal from counts and names, no script) placed as it is."""
    e = escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>News digest — {e(_window(d))}</title></head>",
        f'<body style="{_S["body"]}"><div style="{_S["wrap"]}">',
        f'<h1 style="{_S["h1"]}">News digest</h1>',
        f'<p style="{_S["sub"]}">{e(_window(d))} · {e(_counts(d))}</p>',
    ]
    if chart:
        parts.append(f'<div style="{_S["chart"]}">{chart}</div>')
    if not d["stories"]:
        parts.append(f'<p style="{_S["p"]}">No articles in this window.</p>')
    for s in d["stories"]:
        meta = [f"{e(_short(s['date']))} UTC",
                f"{s['source_count']} source{'s' if s['source_count'] != 1 else ''}",
                f"{s['article_count']} article{'s' if s['article_count'] != 1 else ''}"]
        if len(s["languages"]) > 1:
            meta.append("editions: " + e(", ".join(s["languages"])))
        if s.get("copy_count"):
            meta.append(e(_n(s["copy_count"], "copy")))
        tags = "".join(f'<span style="{_S["tag"]}">{e(t)}</span>' for t in s["topics"])
        parts += [
            f'<div style="{_S["card"]}">',
            f'<h2 style="{_S["h2"]}"><a href="{e(_link_url(s["url"]))}" style="{_S["a2"]}">'
            f'{e(s["title"] or "(no title)")}</a></h2>',
            f'<p style="{_S["meta"]}">{" · ".join(meta)} {tags}</p>',
        ]
        if s["first_paragraph"]:
            parts.append(f'<p style="{_S["p"]}">{e(s["first_paragraph"])}</p>')
        for ed in s["editions"]:
            links = []
            for a in ed["articles"]:
                dup = " (copy)" if a["duplicate_of"] else ""
                links.append(f'<a href="{e(_link_url(a["url"]))}" style="{_S["a"]}">{e(a["title"] or a["source"])}</a>'
                             f' — {e(a["source"])}{dup}')
            parts.append(f'<p style="{_S["ed"]}"><span style="{_S["lang"]}">{e(ed["language"])}</span> '
                         + " · ".join(links) + "</p>")
        parts.append("</div>")
    parts += [f'<p style="{_S["foot"]}">Generated {e(_short(d["generated_at"]))} UTC by media-monitor '
              f'{e(__version__)}. Articles belong to their publishers; follow the links to read them.</p>',
              "</div></body></html>"]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- Atom

def render_atom(feed: dict, *, self_url: str | None = None) -> str:
    """An Atom 1.0 document for ``monitor.query.reads.topic_feed()``."""
    from monitor.query.inputs import iso_utc

    x = lambda s: xml_escape(_NOT_XML.sub("", s or ""))  # noqa: E731
    attr = lambda s: xml_escape(_NOT_XML.sub("", s or ""), {'"': "&quot;"})  # noqa: E731
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"  <id>urn:media-monitor:topic:{x(feed['topic'])}</id>",
           f"  <title>media-monitor: {x(feed['topic'])}</title>"]
    if feed.get("description"):
        out.append(f"  <subtitle>{x(feed['description'])}</subtitle>")
    out += [f"  <updated>{iso_utc(feed['updated'])}</updated>",
            f'  <generator version="{attr(__version__)}">media-monitor</generator>',
            "  <author><name>media-monitor</name></author>"]
    if self_url:
        out.append(f'  <link rel="self" href="{attr(self_url)}"/>')
    for r in feed["entries"]:
        out += ["  <entry>",
                f"    <id>{x(r['url'])}</id>",
                f"    <title>{x(r['title'] or '(no title)')}</title>",
                f'    <link rel="alternate" href="{attr(_safe_url(r["url"]))}"/>',
                f"    <published>{iso_utc(r['date'])}</published>",
                f"    <updated>{iso_utc(r['updated'])}</updated>",
                f"    <author><name>{x(r['author'] or r['source'])}</name></author>",
                f'    <category term="{attr(feed["topic"])}"/>',
                f'    <category term="source:{attr(r["source"])}"/>']
        if r.get("language"):
            out.append(f'    <category term="lang:{attr(r["language"])}"/>')
        if r.get("summary"):
            out.append(f"    <summary>{x(r['summary'])}</summary>")
        out.append("  </entry>")
    out.append("</feed>")
    return "\n".join(out) + "\n"
