"""WARC records from a local file or an http(s) URL, read with FastWARC (docs/backfill.md says why FastWARC).

``read_records(name, start, keep)`` yields ``WarcEntry`` for the ``response`` and ``revisit`` records whose
target URL ``keep(url)`` accepts, starting at byte ``start`` (a record boundary: a checkpoint).  Bodies of
other records are never copied to Python.  A record that cannot be read (a gzip member cut short, garbage in
the middle) is reported through ``on_error(offset, detail)`` and skipped: the reader looks for the next
record start (a gzip member that inflates to ``WARC/``, or a ``WARC/1.`` line) after the last good record and
goes on from there.  ``check_warc`` refuses a file that is not a WARC (one line, ``NotWarcError``).

Remote files are streamed (``Range: bytes=START-`` to resume) through the same address policy as a crawl
(``monitor.crawl.addresses``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from monitor.backfill.members import GZIP_MAGIC, is_member_start
from monitor.errors import UsageError

WARC_MAGIC = b"WARC/1."
SCAN_CHUNK = 1 << 20


class NotWarcError(UsageError):
    """The file is not a WARC file (exit 2)."""


@dataclass
class WarcEntry:
    offset: int                 # byte offset of the record in the file (its gzip member when compressed)
    next_offset: int            # where the reader stands after it (a lower bound of the next record's offset)
    url: str                    # WARC-Target-URI
    record_type: str            # response, revisit
    date: str | None            # WARC-Date as ISO 8601 (UTC)
    status: int | None          # HTTP status
    content_type: str | None    # HTTP Content-Type
    location: str | None        # HTTP Location (redirects)
    body: bytes | None          # HTTP payload (None for a revisit)
    truncated: bool = False     # WARC-Truncated set (the archiver cut the body)
    origin: str | None = None   # where it came from (articles.origin): FILE@OFFSET or a capture's URL


def is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


class _Stream:
    """A read-only stream with ``tell()`` counting from ``base`` (FastWARC needs tell() to give offsets)."""

    def __init__(self, raw, base: int):
        self.raw, self.pos = raw, base

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.raw.close()


def open_at(name: str, start: int, opener: Callable | None = None):
    """A stream of ``name`` from byte ``start`` (``opener(url, start)`` for http(s) URLs: see ``monitor.backfill.net``)."""
    if is_url(name):
        if opener is None:
            raise UsageError(f"{name}: no opener for URLs")
        raw, got = opener(name, start)   # got: the offset the server's answer starts at (0 when it ignored Range)
        skip = start - got
        while skip > 0:   # a server without Range support: read up to the offset
            chunk = raw.read(min(skip, SCAN_CHUNK))
            if not chunk:
                break
            skip -= len(chunk)
        return _Stream(raw, start)
    try:
        fh = open(name, "rb")
    except IsADirectoryError:
        raise UsageError(f"{name}: is a folder, not a WARC file") from None
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    fh.seek(start)
    return fh


def _is_record_start(window: bytes, i: int) -> bool:
    if window.startswith(GZIP_MAGIC, i):
        return is_member_start(window[i:i + 4096])
    return window.startswith(WARC_MAGIC, i) and (i == 0 or window[i - 1:i] == b"\n")


def sniff(head: bytes) -> str | None:
    """``"gzip"`` or ``"plain"`` for the first bytes of a WARC file, else None."""
    if not head:
        return None
    if head.startswith(GZIP_MAGIC):
        return "gzip" if _is_record_start(head, 0) else None
    return "plain" if head.startswith(WARC_MAGIC) else None


def check_warc(name: str, opener: Callable | None = None) -> None:
    """Refuse (``NotWarcError``) a file whose first record is not a WARC record."""
    fh = open_at(name, 0, opener)
    try:
        head = fh.read(4096)
    finally:
        fh.close()
    if sniff(head) is None:
        what = "is empty" if not head else "is not a WARC file (no WARC/1.x record at its start, plain or gzip)"
        raise NotWarcError(f"{name}: {what}")


def find_next_record(name: str, after: int, opener: Callable | None = None) -> int | None:
    """Offset of the first record start at or after ``after``, None when the file has none."""
    fh = open_at(name, after, opener)
    try:
        pos, tail = after, b""
        while True:
            chunk = fh.read(SCAN_CHUNK)
            if not chunk:
                return None
            window = tail + chunk
            base = pos - len(tail)
            for magic in (GZIP_MAGIC, WARC_MAGIC):
                i = window.find(magic)
                while i != -1:
                    if base + i >= after and _is_record_start(window, i) and len(window) - i >= 16:
                        return base + i
                    i = window.find(magic, i + 1)
            pos += len(chunk)
            tail = window[-4096:]
    finally:
        fh.close()


def _iso(dt) -> str | None:
    if dt is None:
        return None
    try:
        from datetime import timezone

        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    except (AttributeError, ValueError, OverflowError):
        return None




def read_records(name: str, start: int, keep: Callable[[str], bool], *, on_error: Callable[[int, str], None],
                 counter: list | None = None, opener: Callable | None = None) -> Iterator[WarcEntry]:
    """The kept ``response``/``revisit`` records of ``name`` from byte ``start`` (see the module doc).
    ``counter[0]`` is raised by one for every response or revisit record read, kept or not.  A file of gzip
    members is framed by ``monitor.backfill.members`` (a dropped record is not inflated past its headers),
    each kept record parsed by FastWARC; an uncompressed file is read by FastWARC alone."""
    counter = counter if counter is not None else [0]
    fh = open_at(name, start, opener)
    try:
        first = fh.read(len(GZIP_MAGIC))
    finally:
        fh.close()
    if first == GZIP_MAGIC:
        yield from _read_members(name, start, keep, on_error, counter, opener)
    else:
        yield from _read_plain(name, start, keep, on_error, counter, opener)


def _read_members(name, start, keep, on_error, counter, opener) -> Iterator[WarcEntry]:
    import io

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from monitor.backfill.members import members

    types = WarcRecordType.response | WarcRecordType.revisit
    fh = open_at(name, start, opener)
    try:
        for offset, end, data in members(fh, start, lambda _kind, url: keep(url), on_error=on_error, counter=counter):
            try:
                rec = next(iter(ArchiveIterator(io.BytesIO(data), record_types=types, parse_http=False)))
                entry = _entry(rec, (rec.headers.get("WARC-Target-URI") or "").strip("<> "), offset)
            except (GeneratorExit, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - StopIteration, CorruptRecord, a FastWARC error or panic
                on_error(offset, f"the record at offset {offset} cannot be read: {type(exc).__name__}: {exc}"[:400])
                continue
            entry.next_offset = end
            yield entry
    finally:
        fh.close()


def _read_plain(name, start, keep, on_error, counter, opener) -> Iterator[WarcEntry]:
    """FastWARC over the file from ``start``.

    A failure while reading a record is that record's.  A failure while skipping past a record (FastWARC
    inflates the rest of it on the way to the next one) is either that record's body or the next record: the
    reader restarts at the next record start it finds; when that record fails too, it is the broken one, else
    the one before was."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    types = WarcRecordType.response | WarcRecordType.revisit
    pos, suspect = start, None   # suspect: (offset of the record before a failure, detail) not yet attributed
    while pos is not None:
        fh = open_at(name, pos, opener)
        last_good = None      # offset of the last record whose headers (and kept body) were read in this pass
        current = pos         # offset of the record being read
        try:
            for rec in ArchiveIterator(fh, record_types=types, parse_http=False):
                current = rec.stream_pos
                if suspect is not None and last_good is not None:   # got past the restart record: it was fine
                    on_error(suspect[0], suspect[1])
                    suspect = None
                counter[0] += 1
                url = (rec.headers.get("WARC-Target-URI") or "").strip("<> ")
                if keep(url):
                    entry = _entry(rec, url, current)   # CorruptRecord when cut short
                    entry.next_offset = fh.tell()
                    last_good = current
                    yield entry
                else:
                    _declared_length(rec, current)
                    last_good = current
            if suspect is not None:
                on_error(suspect[0], suspect[1])
            return
        except (GeneratorExit, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - FastWARC raises OSError, ValueError or a Rust panic
            detail = f"{type(exc).__name__}: {exc}"
            if current != last_good or (suspect is not None and last_good == pos):
                on_error(current, f"the record at offset {current} cannot be read: {detail}"[:400])
                suspect = None
            else:   # failed on the way past last_good: its body, or the next record (see above)
                suspect = (current, f"the record at offset {current} (or the bytes after it) cannot be read: "
                                    f"{detail}"[:400])
        finally:
            fh.close()
        pos = find_next_record(name, current + 1, opener)
        if pos is None and suspect is not None:
            on_error(suspect[0], suspect[1])


def _REVISIT():
    from fastwarc.warc import WarcRecordType

    return WarcRecordType.revisit


class CorruptRecord(ValueError):
    """A record whose block is shorter than its Content-Length, or has none."""


def _declared_length(rec, offset: int) -> int:
    declared = rec.headers.get("Content-Length")
    if declared is None or not declared.strip().isdigit():
        raise CorruptRecord(f"the record at offset {offset} has no Content-Length (cut short?)")
    return int(declared)


def _entry(rec, url: str, offset: int) -> WarcEntry:
    kind = "revisit" if rec.record_type == _REVISIT() else "response"
    date = _iso(rec.record_date)
    truncated = bool(rec.headers.get("WARC-Truncated"))
    declared = _declared_length(rec, offset)
    if kind == "revisit":
        return WarcEntry(offset, offset, url, kind, date, None, None, None, None, truncated)
    block = rec.reader.read()
    if len(block) < declared:
        raise CorruptRecord(f"the record at offset {offset} is cut short: {len(block):,} of {declared:,} bytes")
    status, headers, body = parse_http(block)
    return WarcEntry(offset, offset, url, kind, date, status, headers.get("content-type"), headers.get("location"),
                     body, truncated)


def parse_http(block: bytes) -> tuple[int | None, dict, bytes]:
    """``(status, {lower-case header: value}, body)`` of an HTTP response as a WARC response record holds it
    (a chunked body is de-chunked)."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n"), 2
    if end < 0 or not block.startswith(b"HTTP/"):
        return None, {}, block
    lines = block[:end].decode("latin-1").splitlines()
    parts = lines[0].split(None, 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    body = block[end + sep:]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return bytes(out) if out else data
        try:
            size = int(data[pos:eol].split(b";")[0], 16)
        except ValueError:
            return bytes(out) if out else data   # not chunked after all (the archiver de-chunked it)
        if size == 0:
            return bytes(out)
        out += data[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2
