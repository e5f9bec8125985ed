"""Shared pieces of the command line: error handling, path and number types, common options.

Every command module (``monitor/cli.py`` and the ``monitor/cli_*.py`` modules it registers) takes these from
here, so a new command needs no import of ``monitor.cli`` (no import cycle) and stays as light to import.
"""

from __future__ import annotations

import errno
import functools
import io
import math
import os
import sys

import click

from monitor.errors import MonitorError, UsageError

MAX_LIMIT = 1_000_000          # = monitor.query.reads.MAX_LIMIT (not imported: `monitor --help` stays light)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _drop_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is still buffered cannot
    fail again (a second traceback after our one line)."""
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def handle_errors(fn):
    """Known errors become ``Error: ...`` on stderr and the error's exit code; no traceback.

    Standard output that cannot be written: a closed pipe (``monitor export | head``) ends quietly with exit
    0; a full disk or an I/O error (``> /dev/full``) is one line and exit 1.  A file this user may not read
    or write is one line and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MonitorError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except PermissionError as exc:
            if exc.filename is None:
                raise
            click.echo(f"Error: {exc.filename}: {exc.strerror} (check its permissions, or choose another file)",
                       err=True)
            sys.exit(2)
        except OSError as exc:
            stdout_failed(exc)

    return wrapper


def stdout_failed(exc: OSError) -> None:
    """Exit for standard output that cannot be written; re-raise any other OSError."""
    if isinstance(exc, BrokenPipeError):  # the reader went away: nothing more to say to anyone
        _drop_stdout()
        sys.exit(0)
    if exc.errno not in _DISK_FULL or exc.filename is not None:
        raise exc
    _drop_stdout()
    click.echo(f"Error: cannot write to standard output: {exc.strerror}", err=True)
    sys.exit(1)


class FilePath(click.Path):
    """click.Path that refuses a NUL character (the OS cannot take one; os.stat raises ValueError)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and "\x00" in value:
            self.fail(f"{value!r} contains a NUL character, which no file name can.", param, ctx)
        return super().convert(value, param, ctx)


class FiniteFloat(click.FloatRange):
    """A FloatRange that refuses nan and infinity (click's own lets nan through any bound)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return rv


def check_log_file(path) -> None:
    """--log-file: refuse, before anything starts, a file that could not be opened for appending."""
    if path is None:
        return
    from pathlib import Path

    p = Path(path)
    parent = p.parent
    if p.is_dir():
        raise UsageError(f"--log-file {p}: is a directory; give a file name")
    if not parent.is_dir():
        raise UsageError(f"--log-file {p}: folder {parent} does not exist" if not parent.exists()
                         else f"--log-file {p}: {parent} is not a folder")
    if os.access(p, os.F_OK) and not os.access(p, os.W_OK) or not p.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"--log-file {p}: cannot be written (check the permissions of the file and its folder)")


db_option = click.option("--db", "db_path", type=FilePath(dir_okay=False), default=None,
                         help="SQLite file (default: $MONITOR_DB or ./monitor.db).")
sources_option = click.option("--sources", "sources_path", type=FilePath(dir_okay=False), default=None,
                              help="Sources TOML file (default: $MONITOR_SOURCES or the bundled catalogue).")
topics_option = click.option("--topics", "topics_path", type=FilePath(dir_okay=False), default=None,
                             help="Topics TOML file (default: $MONITOR_TOPICS or the bundled topics).")


RAW_CSV_HELP = ("CSV cells exactly as stored: by default a cell starting with =, +, -, @, a tab or a carriage "
                "return gets a leading ' so a spreadsheet shows it as text instead of running it as a formula.")


def filter_options(fn):
    """--topic/--source/--language/--since/--until/--include-duplicates, shared by search and export."""
    for opt in reversed([
        click.option("--topic", "topics", multiple=True, metavar="TOPIC",
                     help="Only articles tagged with this topic (repeatable: any of them)."),
        click.option("--source", "sources", multiple=True, metavar="SOURCE",
                     help="Only articles of this source (repeatable)."),
        click.option("--language", "languages", multiple=True, metavar="LANG",
                     help="Only articles in this language, e.g. en, ru, kk (repeatable)."),
        click.option("--since", metavar="DATE",
                     help="Published (else fetched) at or after DATE: YYYY-MM-DD, an ISO datetime, or 24h, 7d, 2w ago."),
        click.option("--until", metavar="DATE", help="Published (else fetched) at or before DATE (a bare date: that whole day)."),
        click.option("--include-duplicates", is_flag=True,
                     help="List every copy instead of folding duplicates into their group's first article."),
    ]):
        fn = opt(fn)
    return fn
