"""Entry points of the reading commands (search, export, stats, digest, feed) and of retag and serve.

Each function is what one ``monitor`` command calls: it runs the query (monitor.query.reads), renders it
(monitor.query.formats) and writes the result.  Output files are written to a temporary name and renamed
when complete, so a feed reader or a mail job never sees half a file; ``-o`` replaces only regular files
(see ``output_stream`` and docs/security.md).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from monitor.errors import MonitorError, UsageError

# the process's own descriptors (links into /proc/self/fd): written through like the descriptor itself
_OWN_DESCRIPTOR = re.compile(r"/dev/(stdout|stderr|fd/\d+)|/proc/self/fd/\d+")


def _write_failed(target, exc: OSError) -> MonitorError:
    """Exit 1: the machine could not take the bytes (disk full, quota, I/O error)."""
    return MonitorError(f"{target}: could not be written: {exc.strerror or exc}")


def _target_kind(target: Path) -> str:
    """'new' or 'file' (written atomically), 'through' (a FIFO, a character device such as /dev/null, the
    process's own /dev/stdout); UsageError for what -o refuses: a directory, a symbolic link, a block
    device, a socket, a read-only file, a missing or unwritable folder."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:               # a parent that is a file, a folder we may not enter
        raise UsageError(f"{target}: cannot be used as -o: {exc.strerror}") from None
    if st is None:
        parent = target.parent
        if not parent.exists():
            raise UsageError(f"{target}: folder {parent} does not exist")
        if not parent.is_dir():
            raise UsageError(f"{target}: {parent} is not a folder")
        return "new"
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        if _OWN_DESCRIPTOR.fullmatch(str(target)):
            return "through"
        raise UsageError(f"{target}: is a symbolic link (to {os.readlink(target)}); -o does not follow links "
                         "(one in a shared folder could point at any of your files): give -o the file itself, "
                         "or - for standard output")
    if stat.S_ISDIR(mode):
        raise UsageError(f"{target}: is a directory; give -o a file name")
    if stat.S_ISREG(mode):
        if not os.access(target, os.W_OK):
            raise UsageError(f"{target}: is read-only; make it writable or choose another -o file")
        return "file"
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "through"
    what = "a block device (a disk)" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special"
    raise UsageError(f"{target}: is {what}; -o writes files, FIFOs and character devices such as /dev/null")


@contextmanager
def _write_through(target: Path):
    """A FIFO, a character device or the process's own descriptor: opened and written as it is (a device node is
    never replaced), without following a link that appeared since it was checked."""
    own = _OWN_DESCRIPTOR.fullmatch(str(target)) is not None
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_APPEND if own else os.O_NOFOLLOW)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise UsageError(f"{target}: cannot be opened for writing: {exc.strerror}") from None
    if not own and not (stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISCHR(os.fstat(fd).st_mode)):
        os.close(fd)                      # replaced by a regular file since it was checked
        raise UsageError(f"{target}: changed while it was being opened; run the command again")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        try:
            yield fh
            fh.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            if exc.filename is not None:
                raise
            try:                          # the buffered rest would fail again on close
                fh.close()
            except OSError:
                pass
            raise _write_failed(target, exc) from None


def _file_mode(target: Path, kind: str) -> int:
    """An existing file keeps its permissions; a new one gets the usual 0666 less the umask."""
    if kind == "file":
        return stat.S_IMODE(os.stat(target).st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def output_stream(path: str | os.PathLike | None):
    """Text stream for ``-o FILE``, or stdout for None/'-'.

    A regular file (or a new name) is written to a temporary file beside it and renamed over it when complete
    (atomic: it appears complete or not at all, and a failure leaves the old one).  A FIFO, a character device
    (/dev/null, /dev/full, a terminal) and /dev/stdout are written through.  A symbolic link, a directory, a
    block device, a socket and a read-only file are refused (UsageError, exit 2); a full disk is exit 1."""
    if path is None or str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    kind = _target_kind(target)
    if kind == "through":
        with _write_through(target) as fh:
            yield fh
        return
    mode = _file_mode(target, kind)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write in folder {target.parent}: {exc.strerror}; choose another "
                         "-o file") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and exc.filename is None:
            raise _write_failed(target, exc) from None
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.EXDEV):
            raise UsageError(f"{target}: cannot be replaced: {exc.strerror}; choose another -o file") from None
        raise


def check_output(path, db_path=None) -> None:
    """Refuse a bad ``-o`` before the database is read: what ``output_stream`` refuses, and the database itself
    (the rename would replace it with the export)."""
    if path is None or str(path) == "-":
        return
    _target_kind(Path(path))
    from monitor.store.db import resolve_db_path

    try:
        same = os.path.samefile(path, resolve_db_path(db_path))
    except OSError:                       # one of them does not exist (yet)
        same = False
    if same:
        raise UsageError(f"{path}: is the database being read; give -o another file")


def write_text(text: str, path=None) -> None:
    with output_stream(path) as out:
        out.write(text if text.endswith("\n") else text + "\n")


def run_search(query: str, *, db_path=None, fmt: str = "table", raw_csv: bool = False, **filters) -> str:
    from monitor.query.formats import render_search
    from monitor.query.reads import search
    from monitor.query.story import add_edition_counts

    return render_search(add_edition_counts(db_path, search(db_path, query, **filters)), fmt, raw_csv=raw_csv)


def run_export(*, db_path=None, fmt: str = "jsonl", output=None, query=None, topics=(), sources=(), languages=(),
               since=None, until=None, include_duplicates=False, batch_size=None, raw_csv: bool = False) -> int:
    """Stream the export to ``output`` (stdout by default); returns the number of articles written."""
    from monitor.query.formats import write_export
    from monitor.query.reads import EXPORT_BATCH_SIZE, Filters, export

    check_output(output, db_path)
    rows = export(db_path, Filters(query=query, topics=topics, sources=sources, languages=languages, since=since,
                                   until=until, include_duplicates=include_duplicates),
                  batch_size=batch_size or EXPORT_BATCH_SIZE)
    try:
        with output_stream(output) as out:
            return write_export(rows, out, fmt, raw_csv=raw_csv)
    finally:
        rows.close()                      # closes the reader even when nothing was read


def run_stats(*, db_path=None, fmt: str = "table", days: int = 30, silent_after: str = "3d") -> str:
    from monitor.query.formats import render_stats
    from monitor.query.reads import stats
    from monitor.store.archive import coverage_by_month
    from monitor.store.db import reading

    s = stats(db_path, days=days, silent_after=silent_after)
    with reading(db_path) as conn:   # per source and month: gaps a backfill (`monitor backfill`) could fill
        s["coverage_by_month"] = cov = coverage_by_month(conn)
    if fmt == "json":
        return render_stats(s, fmt)
    width = max([len(r["source"]) for r in cov["per_source"]] + [6])
    lines = ["", "", "Coverage by month (articles per source; . = none: a gap to backfill):",
             f"  {'source'.ljust(width)}  " + " ".join(m[2:] for m in cov["months"])]
    lines += [f"  {r['source'].ljust(width)}  " + " ".join(f"{n if n else '.':>5}" for n in r["articles"])
              for r in cov["per_source"]]
    return render_stats(s, fmt) + "\n".join(lines)


def run_digest(*, db_path=None, fmt: str = "md", output=None, since="24h", until=None, topic=None,
               max_stories=None) -> dict:
    from monitor.query.formats import render_digest
    from monitor.query.reads import digest
    from monitor.query.story import add_digest_counts

    check_output(output, db_path)
    d = add_digest_counts(digest(db_path, since=since, until=until, topic=topic, max_stories=max_stories))
    chart = None
    if fmt == "html":
        from monitor.query.charts import digest_chart

        chart = digest_chart(db_path, d)
    write_text(render_digest(d, fmt, chart=chart), output)
    return d


def run_feed(topic: str, *, db_path=None, output=None, limit: int = 50, self_url: str | None = None) -> dict:
    from monitor.query.formats import render_atom
    from monitor.query.reads import topic_feed

    check_output(output, db_path)
    feed = topic_feed(db_path, topic, limit=limit)
    write_text(render_atom(feed, self_url=self_url), output)
    return feed


def run_retag(*, db_path=None, topics_path=None) -> str:
    """Load and validate the topics file, re-apply it to the whole database; a report of the counts."""
    from monitor.store.db import open_writer
    from monitor.topics import load_topics, resolve_topics_path

    topics = load_topics(topics_path)
    if not topics:
        raise UsageError(f"{resolve_topics_path(topics_path)}: defines no topics; retag would drop every tag "
                         "(give --topics a file with [[topic]] entries)")
    with open_writer(db_path, create=False) as storage:
        before = storage.tagged_topics()
        counts = storage.retag(topics)
        total = storage.count()
    lines = [f"Retagged {total} articles with {len(topics)} topics from {resolve_topics_path(topics_path)}:"]
    width = max((len(n) for n in counts), default=0)
    for name, n in counts.items():
        was = before.get(name, 0)
        change = f" ({'+' if n >= was else ''}{n - was})" if n != was else ""
        lines.append(f"  {name.ljust(width)}  {n}{change}")
    removed = sorted(set(before) - set(counts))
    if removed:
        lines.append("Removed tags of topics no longer defined: " + ", ".join(f"{r} ({before[r]})" for r in removed))
    return "\n".join(lines)


def run_serve(*, db_path=None, host: str = "127.0.0.1", port: int = 8001,
              echo: Callable[[str], None] = print) -> None:
    """Datasette over the database (read-only) with media-monitor's metadata; blocks until interrupted."""
    import importlib.util

    if importlib.util.find_spec("datasette") is None:
        raise UsageError("Datasette is not installed: pip install 'media-monitor[serve]' (or pip install datasette)")
    from monitor.query.datasette import build_metadata
    from monitor.store.db import has_table, reading, resolve_db_path

    path = resolve_db_path(db_path)
    with reading(path) as conn:            # same checks and messages as the other reading commands
        story_links = has_table(conn, "story_links")
    from monitor.ports import ensure_port_free

    ensure_port_free(host, port)           # one line, exit 2, before announcing anything
    import asyncio

    import uvicorn
    from datasette.app import Datasette

    name = path.stem
    ds = Datasette([str(path)], metadata=build_metadata(name, has_story_links=story_links),
                   settings={"sql_time_limit_ms": 5000, "default_page_size": 50, "allow_download": False})
    asyncio.run(ds.invoke_startup())
    echo(f"Serving {path} read-only at http://{host}:{port}/{name} (Ctrl-C to stop)")
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    except OSError as exc:
        raise MonitorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
