"""Command line: thin click wrappers over the Python API.

Each command parses arguments, calls one function, and turns known errors (``MonitorError``) into
one clear line and an exit code (2 for usage/configuration, 1 for a fatal failure).  Heavy modules
(Scrapy, trafilatura) are imported inside commands so ``monitor --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from monitor import __version__
from monitor.cli_options import (MAX_LIMIT, RAW_CSV_HELP, FiniteFloat, FilePath, check_log_file, stdout_failed,
                                 db_option, filter_options, handle_errors, sources_option, topics_option)
from monitor.cli_coverage import chart_options, run_chart
from monitor.durations import MAX_DAYS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
def cli():
    """media-monitor: crawl news sites into one searchable SQLite file.

    \b
    Quick start:
      monitor demo                 # offline sample sites -> ./demo.db
      monitor crawl                # crawl every configured source -> ./monitor.db
      monitor search 'kazakhstan*' # full-text search
    """


@cli.command()
@click.argument("source_names", nargs=-1, metavar="[SOURCE]...")
@sources_option
@topics_option
@db_option
@click.option("--tag", "tags", multiple=True, help="Only sources with this tag (repeatable).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or MONITOR_* setting (repeatable), e.g. -s DOWNLOAD_DELAY=2.")
@click.option("--max-articles", type=click.IntRange(min=0, max=10 ** 12), default=None,
              help="Stop each source after this many stored articles.")
@click.option("--refresh", is_flag=True, help="Re-fetch articles already stored (keeps earlier versions).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
@click.option("--log-file", type=FilePath(dir_okay=False), default=None,
              help="Write the full log here (INFO, with tracebacks); the terminal shows only warnings and errors, "
                   "one line each.")
@click.option("--redis", "redis_url", metavar="URL", default=None,
              help="Be one worker of a distributed crawl: share requests in Redis (redis://HOST:PORT/DB, "
                   "default $MONITOR_REDIS_URL) and push articles there for `monitor ingest`; --db is not used.")
@click.option("--crawl-key", default=None, metavar="KEY",
              help="With --redis: workers with the same key split one crawl (default: 'default').")
@handle_errors
def crawl(source_names, sources_path, topics_path, db_path, tags, overrides, max_articles, refresh, quiet, log_file,
          redis_url, crawl_key):
    """Crawl SOURCEs (default: all enabled sources) into the database.

    Exit 0 when the crawl ran (page errors are recorded in fetch_errors, not fatal; a source that could
    not be reached at all is named in the summary), 1 when every source failed (e.g. no network) or the
    database could not be written, 2 for usage or configuration errors, 130 when stopped with Ctrl-C
    (the first one lets the pages in flight finish for MONITOR_STOP_TIMEOUT seconds, a second one stops
    at once; SIGTERM stops the same way and exits 0).
    """
    check_log_file(log_file)
    from monitor.crawl.run import plan_crawl, run_crawl

    plan = plan_crawl(source_names, sources_path=sources_path, topics_path=topics_path, db_path=db_path, tags=tags,
                      overrides=overrides, max_articles=max_articles, refresh=refresh, log_file=log_file,
                      redis_url=redis_url, crawl_key=crawl_key)
    echo = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    if plan.distributed:   # one worker of a distributed crawl: requests and articles go through Redis
        from monitor.distributed.workers import run_worker

        summary = run_worker(plan, echo=echo)
    else:
        summary = run_crawl(plan=plan, echo=echo, notify=lambda m: click.echo(m, err=True))
    click.echo(summary.render())
    sys.exit(summary.exit_code)


@cli.group(invoke_without_command=True)
@sources_option
@click.option("--tag", "tags", multiple=True, help="Only sources with this tag (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "toml"]), default="table", show_default=True)
@click.pass_context
@handle_errors
def sources(ctx, sources_path, tags, fmt):
    """List the configured sources (or check them: `monitor sources check`)."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor.sources.catalogue import load_sources, select_sources
    from monitor.sources.render import render_sources

    chosen = select_sources(load_sources(sources_path), tags=tags)
    click.echo(render_sources(chosen, fmt))


@sources.command("check")
@click.argument("source_names", nargs=-1, metavar="[SOURCE]...")
@sources_option
@click.option("--tag", "tags", multiple=True, help="Only sources with this tag (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--suggest", is_flag=True,
              help="Print a corrected sources file instead: the report as comments, then one [[source]] entry "
                   "per source with the feeds/sitemaps that work and the ones the site declares.")
@click.option("--timeout", type=FiniteFloat(min=0.1, max=3600), default=None, metavar="SECONDS",
              help="Seconds per HTTP request (default: MONITOR_CHECK_TIMEOUT, 15).")
@click.option("--concurrency", type=click.IntRange(min=1, max=1000), default=None,
              help="Sources checked at the same time (default: MONITOR_CHECK_CONCURRENCY, 6).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
@handle_errors
def sources_check(ctx, source_names, sources_path, tags, fmt, suggest, timeout, concurrency, quiet):
    """Check that SOURCEs (default: all enabled) still work from this network.

    Fetches robots.txt, the home page, every declared feed, sitemap and section, discovers feeds
    (<link rel="alternate">) and sitemaps (robots.txt, /sitemap.xml, /sitemap_index.xml, /wp-sitemap.xml),
    and extracts up to 3 article candidates. Exit 1 when a source is broken (unreachable, a declared
    feed/sitemap/section failing, robots.txt forbidding us, no candidates, extraction failing on all), 0 otherwise.
    """
    from monitor.sources.check import run_check

    parent = ctx.parent.params if ctx.parent is not None else {}
    summary = run_check(source_names, sources_path=sources_path or parent.get("sources_path"),
                        tags=tags or parent.get("tags") or (), timeout=timeout, concurrency=concurrency,
                        progress=None if quiet else (lambda m: click.echo(m, err=True)))
    click.echo((summary.render_suggestions() if suggest and fmt == "table" else summary.render(fmt)).rstrip("\n"))
    sys.exit(summary.exit_code)


@cli.command()
@click.option("--db", "db_path", type=FilePath(dir_okay=False), default=None,
              help="SQLite file (default: ./demo.db; never $MONITOR_DB, so the sample stays out of your database).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0,
              help="First port for the sample sites: they listen on PORT, PORT+1 on 127.0.0.1 "
                   "(default: random free ports).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
@handle_errors
def demo(db_path, port, quiet):
    """Crawl a bundled offline sample of news sites served on 127.0.0.1 (no network needed) into ./demo.db."""
    from monitor.demo import next_steps, run_demo

    summary = run_demo(db_path=db_path, port=port,
                       echo=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)))
    click.echo(summary.render())
    click.echo(next_steps(db_path))
    sys.exit(summary.exit_code)


@cli.command()
@click.option("--redis", "redis_url", metavar="URL", default=None,
              help="Redis the crawl workers push to (redis://HOST:PORT/DB, default $MONITOR_REDIS_URL).")
@db_option
@topics_option
@click.option("--until-empty", is_flag=True, help="Exit as soon as the item list is empty.")
@click.option("--idle-exit", type=FiniteFloat(min=0, max=10 ** 9), default=None, metavar="SECONDS",
              help="Exit after this many seconds without items (default: run until SIGINT/SIGTERM).")
@click.option("--batch-size", type=click.IntRange(min=1, max=100_000), default=200, show_default=True,
              help="Messages written per SQLite transaction.")
@click.option("--prefix", default=None, metavar="PREFIX",
              help="Redis key prefix, as MONITOR_REDIS_PREFIX of the workers (default: monitor).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
@handle_errors
def ingest(redis_url, db_path, topics_path, until_empty, idle_exit, batch_size, prefix, quiet):
    """Store what distributed crawl workers (`monitor crawl --redis`) pushed to Redis.

    The single writer of the SQLite file: same deduplication and topics as a local crawl; a batch is
    removed from Redis only after its SQLite transaction committed. Run one per database.
    """
    from monitor.distributed.ingester import run_ingest

    summary = run_ingest(redis_url, db_path, prefix=prefix, topics_path=topics_path, until_empty=until_empty,
                         idle_exit=idle_exit, batch_size=batch_size,
                         echo=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)))
    click.echo(summary.render())


# --------------------------------------------------------------------------- reading the database
# (search, export, stats, digest, feed, serve: read-only; retag: rewrites the topic tags)



@cli.command()
@click.argument("query")
@db_option
@filter_options
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIMIT), default=20, show_default=True,
              help="Most results shown.")
@click.option("--sort", type=click.Choice(["rank", "date"]), default="rank", show_default=True,
              help="Best match first (bm25, title weighs double) or newest first.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--raw-csv", is_flag=True, help=RAW_CSV_HELP)
@handle_errors
def search(query, db_path, topics, sources, languages, since, until, include_duplicates, limit, sort, fmt, raw_csv):
    """Full-text search of titles and texts (SQLite FTS5 syntax), with highlighted snippets.

    \b
    Examples:
      monitor search 'kazakhstan* AND uranium'
      monitor search '"united states" OR сша OR "stany zjednoczone"' --since 7d
      monitor search 'қазақстан* NEAR(инвест*, 5)' --language kk --sort date
      monitor search 'title:tokayev*' --topic kz-us --format json

    Words match whole tokens, case and accents folded; `word*` is a prefix (use it for inflected
    forms); "double quotes" make a phrase; AND, OR, NOT, NEAR(...) must be upper case. Write the
    United States as "united states", usa or "u s" - never a bare `us` (the English pronoun).
    Duplicates are folded into their first article with a count of copies. See docs/querying.md.
    """
    from monitor.query.commands import run_search

    click.echo(run_search(query, db_path=db_path, fmt=fmt, topics=topics, sources=sources, languages=languages,
                          since=since, until=until, include_duplicates=include_duplicates, limit=limit, sort=sort,
                          raw_csv=raw_csv))


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-q", "--query", default=None, metavar="QUERY", help="Only articles matching this FTS5 query.")
@filter_options
@click.option("-o", "--output", type=FilePath(dir_okay=False, allow_dash=True), default=None,
              help="Write to FILE (complete or not at all) instead of standard output.")
@click.option("--raw-csv", is_flag=True, help=RAW_CSV_HELP)
@handle_errors
def export(db_path, fmt, query, topics, sources, languages, since, until, include_duplicates, output, raw_csv):
    """Export articles with their full text as JSON Lines or CSV, oldest first.

    Streams: rows are read and written in batches, so a database of any size exports in
    constant memory. Takes the same filters as `monitor search`; duplicates are folded (with a
    `copies` count) unless --include-duplicates.
    """
    from monitor.query.commands import run_export

    n = run_export(db_path=db_path, fmt=fmt, output=output, query=query, topics=topics, sources=sources,
                   languages=languages, since=since, until=until, include_duplicates=include_duplicates,
                   raw_csv=raw_csv)
    if output and output != "-":
        click.echo(f"Exported {n} articles to {output}", err=True)


@cli.command()
@db_option
@click.option("--days", type=click.IntRange(min=1, max=MAX_DAYS), default=30, show_default=True,
              help="Days in the per-day table.")
@click.option("--silent-after", default="3d", show_default=True, metavar="DURATION",
              help="A source is silent when its newest article is this much older than its last crawl.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handle_errors
@chart_options
def stats(db_path, days, silent_after, fmt, chart):
    """Articles per source, language, topic and day; last crawl per source with its errors; silent sources.

    --chart FILE also draws the coverage over time as an SVG line chart (docs/querying.md).
    """
    from monitor.query.commands import run_stats

    if chart and run_chart(chart, db_path):      # --chart -: the SVG is the output
        return
    click.echo(run_stats(db_path=db_path, fmt=fmt, days=days, silent_after=silent_after))


@cli.command()
@db_option
@click.option("--since", default="24h", show_default=True, metavar="DATE",
              help="Start of the window: 24h, 7d, YYYY-MM-DD or an ISO datetime.")
@click.option("--until", default=None, metavar="DATE", help="End of the window (default: now).")
@click.option("--topic", default=None, metavar="TOPIC", help="Only articles tagged with this topic.")
@click.option("--max-stories", type=click.IntRange(min=1, max=MAX_LIMIT), default=None,
              help="Keep only the newest N stories.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=FilePath(dir_okay=False, allow_dash=True), default=None,
              help="Write to FILE instead of standard output.")
@handle_errors
def digest(db_path, since, until, topic, max_stories, fmt, output):
    """The daily briefing: stories of the window, newest first.

    A story is a duplicate group joined with its other language editions; each shows its title,
    date, first paragraph, source count and links per language. --format html is one
    self-contained page (inline styles, no scripts) for a browser or an e-mail body.
    """
    from monitor.query.commands import run_digest

    d = run_digest(db_path=db_path, fmt=fmt, output=output, since=since, until=until, topic=topic,
                   max_stories=max_stories)
    if output and output != "-":
        click.echo(f"Wrote {d['story_count']} {'story' if d['story_count'] == 1 else 'stories'} "
                   f"({d['article_count']} articles) to {output}", err=True)


@cli.command()
@db_option
@click.option("--topic", required=True, metavar="TOPIC", help="The topic whose articles make the feed.")
@click.option("-o", "--output", type=FilePath(dir_okay=False, allow_dash=True), default=None,
              help="Atom file to write (default: standard output).")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIMIT), default=50, show_default=True,
              help="Entries in the feed.")
@click.option("--self-url", default=None, metavar="URL", help="Public URL the feed will be served at (rel=self).")
@handle_errors
def feed(db_path, topic, output, limit, self_url):
    """Write an Atom feed of a topic's latest articles (duplicates folded), for feed readers."""
    from monitor.query.commands import run_feed

    f = run_feed(topic, db_path=db_path, output=output, limit=limit, self_url=self_url)
    if output and output != "-":
        click.echo(f"Wrote {len(f['entries'])} entries to {output}", err=True)


@cli.command()
@db_option
@topics_option
@handle_errors
def retag(db_path, topics_path):
    """Re-apply the topics file to every stored article, through the full-text index.

    Run it after editing topics: tags of changed topics are recomputed, tags of removed topics
    dropped, in one transaction (safe while a crawl runs; it waits for the writer's lock).
    """
    from monitor.query.commands import run_retag

    click.echo(run_retag(db_path=db_path, topics_path=topics_path))


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8001, show_default=True)
@handle_errors
def serve(db_path, host, port):
    """Browse and query the database in Datasette (read-only), with table and column help,
    full-text search on articles and canned queries: latest-per-topic, stories-by-reach, coverage,
    source-health.

    Needs the optional extra: pip install 'media-monitor[serve]'.
    """
    from monitor.query.commands import run_serve

    run_serve(db_path=db_path, host=host, port=port, echo=lambda m: click.echo(m, err=True))


# --------------------------------------------------------------------------- scheduled crawls (docs/scheduling.md)

@cli.command()
@click.argument("source_names", nargs=-1, metavar="[SOURCE]...")
@click.option("--every", metavar="DURATION", default=None,
              help="Wake up now and then this often, e.g. 30m, 2h (default: MONITOR_SCHEDULE_EVERY, 30m).")
@click.option("--cron", metavar="EXPR", default=None,
              help="Wake up at the times of a cron expression (local time), e.g. '*/30 * * * *'.")
@sources_option
@topics_option
@db_option
@click.option("--tag", "tags", multiple=True, help="Only sources with this tag (repeatable).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A Scrapy or MONITOR_* setting for the crawls and the scheduler (repeatable), "
                   "e.g. -s MONITOR_POLL_MAX_INTERVAL=43200.")
@click.option("--max-runs", type=click.IntRange(min=1, max=10 ** 9), default=None,
              help="Exit after this many crawl runs (default: run until SIGINT/SIGTERM).")
@click.option("--log-file", type=FilePath(dir_okay=False), default=None,
              help="Append the scheduler's lines and the crawls' output here (reopened per line: logrotate-safe).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines from the crawls (summaries only).")
@click.option("--alert", is_flag=True, help="After each crawl, send the alerts of the alerts file (`monitor alert`).")
@click.option("--alerts", "alerts_path", type=FilePath(dir_okay=False), default=None,
              help="With --alert: alerts TOML file (default: $MONITOR_ALERTS or ./alerts.toml).")
@handle_errors
def schedule(source_names, every, cron, sources_path, topics_path, db_path, tags, overrides, max_runs, log_file,
             quiet, alert, alerts_path):
    """Crawl SOURCEs (default: all enabled) on a schedule, in the foreground, one crawl at a time.

    At each tick the sources that are due are crawled by one `monitor crawl` subprocess. A source is due
    after its interval: its `every` in the sources file, else the schedule's period; adaptive polling
    lengthens it for sources that bring nothing new and shortens it for busy ones (MONITOR_POLL_*).
    Ticks that pass while a crawl runs are skipped and logged. SIGINT/SIGTERM stop the scheduler after
    the current crawl, which is told to stop and save its batch. See docs/scheduling.md.
    """
    check_log_file(log_file)
    from monitor.ops.schedule import run_schedule

    sys.exit(run_schedule(source_names, every=every, cron=cron, sources_path=sources_path, topics_path=topics_path,
                          db_path=db_path, tags=tags, overrides=overrides, max_runs=max_runs, log_file=log_file,
                          quiet=quiet, alert=alert, alerts_path=alerts_path))


@cli.command()
@db_option
@click.option("--sources", "sources_path", type=FilePath(dir_okay=False), default=None,
              help="Report exactly the enabled sources of this file (default: every source with crawls).")
@click.option("--tag", "tags", multiple=True, help="Only sources with this tag (repeatable; reads the sources file).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A MONITOR_HEALTH_* setting (repeatable), e.g. -s MONITOR_HEALTH_MAX_FAILURES=5.")
@handle_errors
def health(db_path, sources_path, tags, fmt, overrides):
    """Per-source health from the recorded crawls; exit 1 when a source is unhealthy (for cron/monitoring).

    A source is failing when its last crawl could not fetch anything from it (one such crawl is enough;
    the reason is shown, e.g. "DNS lookup failed for HOST") or its last MONITOR_HEALTH_MAX_FAILURES (3)
    crawls failed (did not finish, fetched nothing, or only errors), and silent when its crawls brought
    nothing new for a time in which its own history predicts MONITOR_HEALTH_EXPECTED_NEW (5) articles or
    more. See docs/scheduling.md.
    """
    from monitor.ops.health import run_health

    text, code = run_health(db_path, sources_path=sources_path, tags=tags, fmt=fmt, overrides=overrides)
    click.echo(text)
    sys.exit(code)


# Commands that live in their own modules (monitor/cli_*.py), registered here.
from monitor.cli_alert import alert  # noqa: E402
from monitor.cli_backfill import backfill  # noqa: E402
from monitor.cli_story import story  # noqa: E402

for _command in (alert, backfill, story):
    cli.add_command(_command)


def main():
    from monitor.store.db import run_connections_in_parallel

    run_connections_in_parallel()        # before any SQLite connection: `monitor search` ranks in threads
    try:
        cli(prog_name="monitor")
    except OSError as exc:               # --help or --version into a full disk: outside every command
        stdout_failed(exc)
