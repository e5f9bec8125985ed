"""``run_backfill``: the Python API behind ``monitor backfill`` (WARC files, ``--cc-news``, ``--wayback``).

Everything the user gave is checked before the database is touched: the sources and topics files, the
settings, each WARC file (a file that is not a WARC is refused with one line, exit 2), the months.  Then one
``Backfill`` run (``monitor.backfill.run``) reads each unit of work in turn; a unit a previous run finished is
skipped, one it started resumes at its checkpoint.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from monitor.errors import UsageError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CC_BASE = "https://data.commoncrawl.org"


def parse_month(value: str, option: str) -> tuple[int, int]:
    m = MONTH.match(value or "")
    if not m:
        raise UsageError(f"{option} {value!r}: give a month as YYYY-MM, e.g. 2024-05")
    return int(m.group(1)), int(m.group(2))


def months_between(start: str, end: str) -> list[str]:
    """``YYYY-MM`` from ``start`` to ``end`` inclusive."""
    y, m = parse_month(start, "--from")
    ye, me = parse_month(end, "--to")
    if (ye, me) < (y, m):
        raise UsageError(f"--to {end} is before --from {start}")
    out = []
    while (y, m) <= (ye, me):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def unit_name(name: str) -> str:
    """The checkpoint key of a WARC file: its absolute path, or the URL as given."""
    from monitor.backfill.warcfile import is_url

    return name if is_url(name) else str(Path(name).resolve())


def run_backfill(warcs=(), *, sources_path=None, topics_path=None, db_path=None, source_names=(), tags=(),
                 all_hosts=False, wayback=None, cc_news=None, month_from=None, month_to=None, cdx_url=None,
                 replay_url=None, cc_base=None, delay=None, timeout=30.0, retries=3, overrides=(),
                 echo=lambda m: None):
    """Backfill the database; returns a ``BackfillSummary`` (see module doc)."""
    from monitor.backfill.net import Guard, Http
    from monitor.backfill.run import Backfill
    from monitor.backfill.select import HostFilter
    from monitor.backfill.warcfile import check_warc, is_url, read_records
    from monitor.config import parse_overrides, setting
    from monitor.crawl.addresses import own_addresses
    from monitor.sources.catalogue import load_sources, select_sources
    from monitor.store.db import resolve_db_path
    from monitor.topics import load_topics

    modes = sum(bool(x) for x in (warcs, wayback, cc_news))
    if modes != 1:
        raise UsageError("give WARC files, --wayback SOURCE or --cc-news YYYY-MM (one of them)")
    settings = parse_overrides(overrides)
    load_topics(topics_path)   # a bad topics file is refused before anything is read
    every = load_sources(sources_path)
    if wayback:
        chosen = select_sources(every, [wayback])
        if not (month_from and month_to):
            raise UsageError("--wayback needs --from YYYY-MM and --to YYYY-MM")
        months = months_between(month_from, month_to)
    else:
        chosen = select_sources(every, source_names, tags)   # with --all-hosts: their sites keep their names
    if cc_news:
        parse_month(cc_news, "--cc-news")
    allow_private = setting("MONITOR_ALLOW_PRIVATE_ADDRESSES", settings)
    allowed = frozenset().union(*(own_addresses(s) for s in chosen)) if chosen else frozenset()
    http = Http(Guard(allow_private, allowed), timeout=timeout, retries=retries, delay=delay or 0.0, backoff=0.5)
    opener = http.open
    names = list(warcs)
    for name in names:   # refuse a bad file before the database is opened
        if not is_url(name) and not os.path.isfile(name):
            raise UsageError(f"{name}: no such file" if not os.path.exists(name) else f"{name}: is not a file")
        check_warc(name, opener)
    db = resolve_db_path(db_path)
    filt = HostFilter(chosen, all_hosts=all_hosts)
    with Backfill(db, sources=[s.name for s in chosen] + (["*"] if all_hosts else []), topics_path=topics_path, overrides=settings,
                  echo=echo, via="wayback" if wayback else "warc") as bf:
        try:
            if wayback:
                from monitor.backfill.cdx import wayback_backfill

                wayback_backfill(bf, chosen[0], months, cdx_url=cdx_url, replay_url=replay_url, http=http,
                                 delay=delay, retries=retries)
                return bf.summary
            if cc_news:
                from monitor.backfill.cdx import cc_news_files

                names = cc_news_files(bf, cc_news, base=cc_base or CC_BASE, http=http)
            for name in names:
                _warc_unit(bf, name, filt, opener, read_records)
        except KeyboardInterrupt:   # Ctrl-C: what is written stays (checkpoints), the summary says stopped
            bf.summary.status = "stopped"
    return bf.summary


def _warc_unit(bf, name: str, filt, opener, read_records) -> None:
    from monitor.backfill.net import FetchFailed
    from monitor.backfill.warcfile import is_url

    unit = unit_name(name)
    start, done = bf.checkpoint(unit)
    if done:
        bf.summary.units[unit] = "skipped (read whole by an earlier backfill)"
        return
    errors: list = []

    def corrupt(offset: int, detail: str) -> None:
        errors.append((offset, f"{name}@{offset}", "warc_corrupt", detail))

    def entries():
        for entry in read_records(name, start, filt.keep, on_error=corrupt, counter=bf.reads, opener=opener):
            entry.origin = f"{name}@{entry.offset}"
            yield entry

    size = 0 if is_url(name) else os.path.getsize(name)
    if start:
        bf.echo(f"{name}: resuming at byte {start:,}")
    try:
        bf.feed(unit, entries(), source_of=filt.source_for, errors=errors, size=size)
    except FetchFailed as exc:   # a remote file that went away: recorded; the next run resumes it
        bf.record_error(unit, name, None, exc.reason, str(exc), exc.status)
        bf.summary.units[unit] = f"failed: {exc}"
