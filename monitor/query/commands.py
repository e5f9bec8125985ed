"""Entry points of the reading commands (search, export, stats, digest, feed) and of retag and serve.

Each function is what one ``monitor`` command calls: it runs the query (monitor.query.reads), renders it
(monitor.query.formats) and writes the result.  Output files are written to a temporary name and renamed
when complete, so a feed reader or a mail job never sees half a file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from monitor.errors import MonitorError, UsageError


@contextmanager
def output_stream(path: str | os.PathLike | None):
    """Text stream for ``-o FILE`` (atomic: FILE appears complete or not at all), or stdout for None/'-'."""
    if path is None or str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target}: is a directory; give -o a file name")
    if not target.parent.exists():
        raise UsageError(f"{target}: folder {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(text: str, path=None) -> None:
    with output_stream(path) as out:
        out.write(text if text.endswith("\n") else text + "\n")


def run_search(query: str, *, db_path=None, fmt: str = "table", **filters) -> str:
    from monitor.query.formats import render_search
    from monitor.query.reads import search

    return render_search(search(db_path, query, **filters), fmt)


def run_export(*, db_path=None, fmt: str = "jsonl", output=None, query=None, topics=(), sources=(), languages=(),
               since=None, until=None, include_duplicates=False, batch_size=None) -> int:
    """Stream the export to ``output`` (stdout by default); returns the number of articles written."""
    from monitor.query.formats import write_export
    from monitor.query.reads import EXPORT_BATCH_SIZE, Filters, export

    rows = export(db_path, Filters(query=query, topics=topics, sources=sources, languages=languages, since=since,
                                   until=until, include_duplicates=include_duplicates),
                  batch_size=batch_size or EXPORT_BATCH_SIZE)
    with output_stream(output) as out:
        return write_export(rows, out, fmt)


def run_stats(*, db_path=None, fmt: str = "table", days: int = 30, silent_after: str = "3d") -> str:
    from monitor.query.formats import render_stats
    from monitor.query.reads import stats

    return render_stats(stats(db_path, days=days, silent_after=silent_after), fmt)


def run_digest(*, db_path=None, fmt: str = "md", output=None, since="24h", until=None, topic=None,
               max_stories=None) -> dict:
    from monitor.query.formats import render_digest
    from monitor.query.reads import digest

    d = digest(db_path, since=since, until=until, topic=topic, max_stories=max_stories)
    write_text(render_digest(d, fmt), output)
    return d


def run_feed(topic: str, *, db_path=None, output=None, limit: int = 50, self_url: str | None = None) -> dict:
    from monitor.query.formats import render_atom
    from monitor.query.reads import topic_feed

    feed = topic_feed(db_path, topic, limit=limit)
    write_text(render_atom(feed, self_url=self_url), output)
    return feed


def run_retag(*, db_path=None, topics_path=None) -> str:
    """Load and validate the topics file, re-apply it to the whole database; a report of the counts."""
    from monitor.store.db import open_writer
    from monitor.topics import load_topics, resolve_topics_path

    topics = load_topics(topics_path)
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
