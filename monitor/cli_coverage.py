"""`monitor stats --chart FILE` and its options (--by, --interval, --since, --until, --topic, --source).

``chart_options`` adds the options to the stats command and hands them to it as one ``chart`` argument (None
without --chart); ``run_chart`` writes the chart.  The plotting library is imported only when a chart is drawn.
"""

from __future__ import annotations

import functools

import click

from monitor.cli_options import FilePath
from monitor.errors import UsageError

_CHART_KEYS = ("by", "interval", "chart_since", "chart_until", "chart_topics", "chart_sources")


def chart_options(fn):
    """The chart options of `monitor stats`, passed on as ``chart=dict(...)`` (or ``chart=None``)."""
    options = [
        click.option("--chart", "chart_file", type=FilePath(dir_okay=False, allow_dash=True), default=None,
                     metavar="FILE",
                     help="Also write a coverage chart (SVG): articles per day or week per topic or source, "
                          "duplicates folded. Needs pip install 'media-monitor[charts]'."),
        click.option("--by", type=click.Choice(["topic", "source"]), default=None,
                     help="Chart: one line per topic (default) or per source."),
        click.option("--interval", type=click.Choice(["day", "week"]), default=None,
                     help="Chart: articles per day (default) or per week (starting Monday)."),
        click.option("--since", "chart_since", metavar="DATE", default=None,
                     help="Chart: start of the window (YYYY-MM-DD, ISO datetime, or 30d, 8w ago; default 30d)."),
        click.option("--until", "chart_until", metavar="DATE", default=None,
                     help="Chart: end of the window (default: now; a bare date: that whole day)."),
        click.option("--topic", "chart_topics", multiple=True, metavar="TOPIC",
                     help="Chart: only articles tagged with this topic (repeatable)."),
        click.option("--source", "chart_sources", multiple=True, metavar="SOURCE",
                     help="Chart: only articles of this source (repeatable)."),
    ]

    @functools.wraps(fn)
    def wrapper(*args, chart_file=None, **kwargs):
        opts = {k: kwargs.pop(k) for k in _CHART_KEYS}
        if chart_file is None:
            given = [k for k, v in opts.items() if v]
            if given:
                name = given[0].replace("chart_", "").rstrip("s").replace("_", "-")
                raise UsageError(f"--{name} shapes the coverage chart: give --chart FILE too")
            return fn(*args, chart=None, **kwargs)
        return fn(*args, chart={"output": chart_file, "by": opts["by"] or "topic",
                                "interval": opts["interval"] or "day", "since": opts["chart_since"],
                                "until": opts["chart_until"], "topics": opts["chart_topics"],
                                "sources": opts["chart_sources"]}, **kwargs)

    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper


def run_chart(chart: dict, db_path) -> bool:
    """Write the chart (atomically; ``-`` = standard output); one line on stderr says what was drawn where.
    pygal and ``-o`` are checked before the database is read.  True when the chart went to standard output
    (``--chart -``): the stats are not printed after it."""
    from monitor.query.charts import render_svg, require_charts
    from monitor.query.commands import check_output, write_text
    from monitor.query.coverage import coverage

    opts = dict(chart)
    output = opts.pop("output")
    require_charts()
    check_output(output, db_path)
    cov = coverage(db_path, **opts)
    write_text(render_svg(cov), output)
    if str(output) == "-":
        return True
    click.echo(f"Wrote coverage chart to {output}: {len(cov['series'])} {cov['by']}s, {len(cov['periods'])} "
               f"{cov['interval']}s from {cov['since'][:10]} to {cov['until'][:10]}, {cov['total']} articles "
               "(duplicates folded)", err=True)
    return False
