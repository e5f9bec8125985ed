"""``monitor alert``: send what is new for the rules of the alerts file (monitor.alerts; docs/alerts.md)."""

from __future__ import annotations

import sys

import click

from monitor.cli_options import FilePath, db_option, handle_errors

alerts_option = click.option("--alerts", "alerts_path", type=FilePath(dir_okay=False), default=None,
                             help="Alerts TOML file (default: $MONITOR_ALERTS or ./alerts.toml).")


@click.command()
@db_option
@alerts_option
@click.option("--dry-run", is_flag=True, help="Print the messages that would be sent; send and record nothing.")
@click.option("--since", metavar="DATE",
              help="Also look at articles stored since DATE (24h, 7d, YYYY-MM-DD), not only those new since the "
                   "last run; stories already alerted are still not sent again.")
@click.option("-q", "--quiet", is_flag=True, help="No line per rule and channel, only the summary.")
@click.option("--example", is_flag=True, help="Print a commented example alerts file and exit.")
@handle_errors
def alert(db_path, alerts_path, dry_run, since, quiet, example):
    """Send alerts for the articles stored since the last run (webhook or e-mail, per the alerts file).

    Each rule (a topic or an FTS5 query, optional sources and languages) sends each story at most once per
    channel: copies and language editions of a story already alerted are folded into it. More new stories than
    the file's digest_threshold go out as one digest. A failed delivery is recorded and retried at the next run.
    Exit 0 when everything was delivered, 1 when a delivery failed, 2 for a bad alerts file or database.
    """
    if example:
        from monitor.package_data import package_file

        click.echo(package_file("alerts.example.toml").read_text(encoding="utf-8"), nl=False)
        return
    from monitor.alerts.delivery import run_alerts
    from monitor.alerts.rules import load_alerts

    config = load_alerts(alerts_path)
    progress = None if quiet else (lambda line: click.echo(line, err=True))
    report = run_alerts(config, db_path, dry_run=dry_run, since=since, echo=click.echo, progress=progress)
    click.echo(report.summary(), err=True)
    sys.exit(report.exit_code)
