"""Gzip-per-record WARC files framed member by member, so a dropped record costs its headers, not its body.

In a ``.warc.gz`` every record is its own gzip member, and nothing tells where a member ends without inflating it
whole.  A backfill drops most records (other sites, requests, metadata), so ``members`` inflates only the first
kilobytes of each member (its WARC headers: type and target URL), and for a record nobody keeps looks for the
next member start instead: the next ``1f 8b 08`` whose first bytes inflate to ``WARC/1.`` (a chance match
inside compressed data would have to inflate to that too).  A kept record's member is inflated whole with
zlib, which also gives its exact end; the record itself is then parsed by FastWARC (``monitor.backfill.warcfile``).

A kept member that does not inflate to its end (cut short, damaged) is reported through ``on_error`` and the
scan goes on at the next member start; so do bytes that are not a member where one should begin.  A damaged
member that is dropped anyway is not noticed (its body is never read).
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterator

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20
PIECE = 64 * 1024      # inflated at a time
HEAD_PIECE = 2048
MAX_HEAD = 64 * 1024          # WARC headers longer than this: not a record we can use
MAX_RECORD = 64 * 1024 * 1024  # a kept record inflating to more is skipped as too large


class _Window:
    """A sliding window over a read-only stream, addressed by absolute offsets."""

    def __init__(self, stream, base: int):
        self.stream, self.base, self.buf, self.eof = stream, base, bytearray(), False

    def fill(self, end: int) -> None:
        while not self.eof and self.base + len(self.buf) < end:
            chunk = self.stream.read(CHUNK)
            if not chunk:
                self.eof = True
            else:
                self.buf += chunk

    def drop_before(self, pos: int) -> None:
        """Forget the bytes before ``pos`` (in large steps: each drop moves the rest of the buffer)."""
        if pos - self.base > 4 * CHUNK:
            del self.buf[:pos - self.base]
            self.base = pos

    def get(self, start: int, end: int) -> bytes:
        self.fill(end)
        return bytes(self.buf[max(0, start - self.base):max(0, end - self.base)])

    def at_end(self, pos: int) -> bool:
        self.fill(pos + 1)
        return pos >= self.base + len(self.buf)

    def find_start(self, pos: int) -> int | None:
        """The first member start at or after ``pos`` that inflates to a WARC record."""
        while True:
            self.fill(pos + len(GZIP_MAGIC))
            i = self.buf.find(GZIP_MAGIC, max(0, pos - self.base))
            if i < 0:
                if self.eof:
                    return None
                pos = max(pos, self.base + len(self.buf) - len(GZIP_MAGIC) + 1)
                self.fill(self.base + len(self.buf) + CHUNK)
                continue
            cand = self.base + i
            if is_member_start(self.get(cand, cand + HEAD_PIECE)):
                return cand
            pos = cand + 1


def is_member_start(data: bytes) -> bool:
    if not data.startswith(GZIP_MAGIC):
        return False
    try:
        return zlib.decompressobj(31).decompress(data, 16).startswith(b"WARC/1.")
    except zlib.error:
        return False


def _headers(window: _Window, pos: int) -> dict | None:
    """The WARC headers of the member at ``pos`` (lower-case names), None when they cannot be read."""
    if window.get(pos, pos + len(GZIP_MAGIC)) != GZIP_MAGIC:
        return None
    d, out, at = zlib.decompressobj(31), bytearray(), pos
    try:
        while b"\r\n\r\n" not in out and len(out) < MAX_HEAD and not d.eof:
            piece = window.get(at, at + HEAD_PIECE)
            if not piece:
                break
            at += len(piece)
            out += d.decompress(piece, MAX_HEAD)
    except zlib.error:
        return None
    head, sep, _ = bytes(out).partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/1."):
        return None
    fields = {}
    for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    return fields


def _inflate(window: _Window, pos: int) -> tuple[bytes, int]:
    """The whole member at ``pos`` inflated, and the offset just after it; ValueError when it does not end."""
    d, out, at = zlib.decompressobj(31), bytearray(), pos
    while not d.eof:
        piece = window.get(at, at + PIECE)
        if not piece:
            raise ValueError(f"the gzip member ends early, after {at - pos:,} bytes (the file is cut short?)")
        try:
            out += d.decompress(piece)
        except zlib.error as exc:
            raise ValueError(f"the gzip member is damaged: {exc}") from None
        if len(out) > MAX_RECORD:
            raise ValueError(f"the record inflates to more than {MAX_RECORD:,} bytes")
        at += len(piece)
    return bytes(out), at - len(d.unused_data)


def members(stream, start: int, keep: Callable[[str, str], bool], *, on_error: Callable[[int, str], None],
            counter: list) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, end, record bytes)`` of the members from ``start`` whose record ``keep(type, url)`` wants;
    ``counter[0]`` counts the response and revisit records seen."""
    window, pos = _Window(stream, start), start
    while pos is not None and not window.at_end(pos):
        window.drop_before(pos)
        fields = _headers(window, pos)   # None for bytes that are not a member inflating to WARC headers
        if fields is None:
            nxt = window.find_start(pos + 1)
            on_error(pos, f"the bytes at offset {pos} are not a readable WARC record"
                          + (f" (next record at {nxt})" if nxt is not None else " (none after them)"))
            pos = nxt
            continue
        kind, url = fields.get("warc-type", ""), fields.get("warc-target-uri", "").strip("<> ")
        if kind in ("response", "revisit"):
            counter[0] += 1
        if kind not in ("response", "revisit") or not keep(kind, url):
            pos = window.find_start(pos + len(GZIP_MAGIC))
            continue
        try:
            record, end = _inflate(window, pos)
        except ValueError as exc:
            on_error(pos, f"the record at offset {pos} cannot be read: {exc}")
            pos = window.find_start(pos + len(GZIP_MAGIC))
            continue
        yield pos, end, record
        pos = end
