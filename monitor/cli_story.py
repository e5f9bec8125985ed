"""`monitor story ID|URL`: one story with its language editions, copies, edits and topics."""

from __future__ import annotations

import click

from monitor.cli_options import db_option, handle_errors


@click.command()
@click.argument("ref", metavar="ID|URL")
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handle_errors
def story(ref, db_path, fmt):
    """One story with all its versions: its first article, its language editions, its copies on other
    outlets, its edits (a word diff of each earlier text) and its topics.

    \b
    Examples:
      monitor story 123
      monitor story https://astanatimes.com/2025/06/an-article/ --format json

    ID is an article id (from `monitor search`, `monitor export`); a URL is canonicalised and found among
    every URL stored for an article (tracking parameters, AMP and www. variants, redirects). Any article of
    the story leads to the whole story. Unknown id or URL: one line, exit 2. See docs/querying.md.
    """
    from monitor.query.story import render_story, story as read_story

    click.echo(render_story(read_story(db_path, ref), fmt))
