"""``monitor backfill``: fill the database from web archives (WARC files, CC-NEWS, the Wayback Machine)."""

from __future__ import annotations

import sys

import click

from monitor.cli_options import FiniteFloat, db_option, handle_errors, sources_option, topics_option


@click.command()
@click.argument("warcs", nargs=-1, metavar="[WARC]...")
@sources_option
@topics_option
@db_option
@click.option("--source", "source_names", multiple=True, metavar="SOURCE",
              help="Keep records of this source's site (repeatable; default: every enabled source).")
@click.option("--tag", "tags", multiple=True, help="Keep records of the sources with this tag (repeatable).")
@click.option("--all-hosts", is_flag=True,
              help="Keep records of every site, not only configured sources' (a site without a source is "
                   "stored under its domain).")
@click.option("--wayback", metavar="SOURCE", default=None,
              help="Fetch this source's article captures from the Wayback Machine (CDX index), --from to --to.")
@click.option("--cc-news", metavar="YYYY-MM", default=None,
              help="Read that month's Common Crawl News WARC files (streamed; only the sources' records kept).")
@click.option("--from", "month_from", metavar="YYYY-MM", default=None, help="With --wayback: first month.")
@click.option("--to", "month_to", metavar="YYYY-MM", default=None, help="With --wayback: last month.")
@click.option("--cdx-url", metavar="URL", default=None,
              help="CDX server of --wayback (default: the Internet Archive's).")
@click.option("--replay-url", metavar="URL", default=None,
              help="Wayback replay prefix captures are fetched from (default: the Internet Archive's).")
@click.option("--cc-base", metavar="URL", default=None,
              help="Common Crawl data server of --cc-news (default: https://data.commoncrawl.org).")
@click.option("--delay", type=FiniteFloat(min=0, max=3600), default=None, metavar="SECONDS",
              help="Seconds between requests to an archive server (default: 1 for CDX and replay, 0 for WARC files).")
@click.option("--timeout", type=FiniteFloat(min=0.1, max=3600), default=30.0, show_default=True, metavar="SECONDS",
              help="Seconds to wait for an archive server's answer before the request counts as failed.")
@click.option("--retries", type=click.IntRange(min=0, max=20), default=3, show_default=True,
              help="Retries of a request that timed out or failed with 5xx before it is recorded as an error.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a MONITOR_* setting (repeatable), e.g. -s MONITOR_EXTRACT_WORKERS=2.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
@handle_errors
def backfill(warcs, sources_path, topics_path, db_path, source_names, tags, all_hosts, wayback, cc_news, month_from,
             month_to, cdx_url, replay_url, cc_base, delay, timeout, retries, overrides, quiet):
    """Backfill the database from web archives: WARC files (paths or http(s) URLs, gzipped per record or not),
    a month of Common Crawl News (--cc-news), or a source's Wayback Machine captures (--wayback).

    Only records of the chosen sources' sites are kept (--source, --tag, --all-hosts); they go through the
    crawl's extraction, deduplication and topics. Each article keeps its archive fetch time (WARC-Date) and
    origin (file@offset or capture URL). Checkpoints make a second run add nothing and a killed run resume
    where it stopped. Exit 0 when the run finished (corrupt records and failed captures are recorded in
    fetch_errors), 1 when the database could not be written, 2 for bad input (e.g. a file that is not a WARC),
    130 when stopped with Ctrl-C.
    """
    from monitor.backfill.plan import run_backfill

    echo = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    summary = run_backfill(warcs, sources_path=sources_path, topics_path=topics_path, db_path=db_path,
                           source_names=source_names, tags=tags, all_hosts=all_hosts, wayback=wayback,
                           cc_news=cc_news, month_from=month_from, month_to=month_to, cdx_url=cdx_url,
                           replay_url=replay_url, cc_base=cc_base, delay=delay, timeout=timeout, retries=retries,
                           overrides=overrides, echo=echo)
    click.echo(summary.render())
    sys.exit(summary.exit_code)
