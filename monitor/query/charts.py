"""The coverage chart: ``monitor.query.coverage`` series drawn as a static SVG line chart with pygal.

pygal is the optional extra ``charts`` (``pip install 'media-monitor[charts]'``): 2 MiB, pure Python, ~45 ms to
import (Vega-Lite through altair + vl-convert was 106 MiB and ~0.8 s a chart; docs/querying.md has the numbers).
The SVG has no script (pygal's tooltip configuration is removed), so it can sit inline in the HTML digest,
which promises a page without scripts, and in e-mail.  Names and dates are text nodes, escaped by the XML
serializer.
"""

from __future__ import annotations

import importlib.util

from monitor.errors import UsageError

INSTALL_HINT = "pip install 'media-monitor[charts]' (or pip install pygal)"
MAX_X_LABELS = 12                 # date labels under the x axis; the other periods get ticks only


def charts_available() -> bool:
    return importlib.util.find_spec("pygal") is not None


def require_charts() -> None:
    """UsageError (one line, exit 2) when pygal is missing."""
    if not charts_available():
        raise UsageError(f"--chart needs the plotting library pygal, which is not installed: {INSTALL_HINT}")


def _no_scripts(root):
    """pygal's xml filter: drop <script> elements (tooltip configuration; the chart is static)."""
    scripts = [el for el in root.iter() if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "script"]
    for el in scripts:
        parent = el.getparent() if hasattr(el, "getparent") else _parent(root, el)
        if parent is not None:
            parent.remove(el)
    return root


def _parent(root, child):                 # xml.etree (pygal without lxml) has no getparent()
    for node in root.iter():
        if any(c is child for c in node):
            return node
    return None


def title_of(cov: dict) -> str:
    what = "per topic" if cov["by"] == "topic" else "per source"
    return f"Articles per {cov['interval']} {what}, duplicates folded"


def render_svg(cov: dict, *, width: int = 900, height: int = 420, title: str | None = None) -> str:
    """The SVG document (no XML declaration, so it can also be inlined in HTML) for a ``coverage()`` result."""
    require_charts()
    import pygal
    from pygal.style import Style

    style = Style(background="#ffffff", plot_background="#ffffff", foreground="#374151",
                  foreground_strong="#111827", foreground_subtle="#d1d5db", font_family="Helvetica, Arial, sans-serif",
                  title_font_size=15, label_font_size=11, major_label_font_size=11, legend_font_size=12,
                  colors=("#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
                          "#4b5563", "#ea580c", "#0d9488", "#9333ea"))
    periods = cov["periods"]
    every = max(1, -(-len(periods) // MAX_X_LABELS))
    chart = pygal.Line(
        width=width, height=height, style=style, js=[], disable_xml_declaration=True, explicit_size=True,
        title=title if title is not None else title_of(cov),
        x_title="week starting (UTC)" if cov["interval"] == "week" else "day (UTC)",
        y_title="articles", x_label_rotation=35, show_minor_x_labels=False, x_labels_major_every=every,
        show_dots=len(periods) <= 60, dots_size=2.5, legend_at_bottom=False, truncate_legend=18,
        min_scale=1, max_scale=8, include_x_axis=True, print_values=False,
        no_data_text="no articles in this window",
    )
    chart.add_xml_filter(_no_scripts)
    chart.x_labels = periods
    for s in cov["series"]:
        chart.add(s["name"], s["counts"])
    peak = max((c for s in cov["series"] for c in s["counts"]), default=0)
    if cov["series"] and peak < 5:    # whole articles: no 0.5 ticks (pygal fails on labels without series)
        chart.y_labels = list(range(0, max(peak, 1) + 1))
    return chart.render(is_unicode=True)


def digest_chart(db_path, d: dict) -> str | None:
    """The coverage chart of an HTML digest (None without pygal): the digest's window, at least its last 7
    days, per day (per week beyond 92 days, at most 10 years); one line per topic, or per source when the
    digest is of one topic."""
    if not charts_available():
        return None
    from datetime import timedelta

    from monitor.query.coverage import coverage
    from monitor.query.inputs import SQL_TS, parse_ts

    until = d.get("until") or d["generated_at"]
    end = parse_ts(until)
    start = parse_ts(d.get("since")) if d.get("since") else None
    if end is None:
        return None
    if start is None or start > end - timedelta(days=6):
        start = (end - timedelta(days=6)).replace(hour=0, minute=0, second=0)
    start = max(start, end - timedelta(weeks=520))
    interval = "day" if (end - start).days <= 92 else "week"
    by, topics = ("source", [d["topic"]]) if d.get("topic") else ("topic", [])
    cov = coverage(db_path, by=by, interval=interval, since=start.strftime(SQL_TS), until=until, topics=topics)
    return render_svg(cov, width=720, height=360)
