"""The newest LSH band rows, held in memory until they are merged into the stored index (pure: numpy only).

Why: a near-duplicate lookup needs ``(band key, article)`` rows indexed by key, and band keys are hashes, so
every new article adds ``BANDS`` rows at random places of that index.  Written as they come, a batch of 500
articles touches about 21,000 index pages: once the index outgrows the page cache (about 100,000 articles),
every batch rewrites most of it, and the writes per article grow with the file.  Rows kept here instead are
merged into the stored index in key order, many at a time (``monitor.store.bands``): each stored page is then
rewritten once per merge, not once per batch.

``BandTier`` maps band keys to article ids: a small dict for the rows added last and a sorted pair of numpy
arrays for the rest (the dict is folded into the arrays every ``fold_rows`` rows: a linear merge, no re-sort).
An article's rows are either here or stored, never both, so candidate counts add up.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Iterator, Sequence

import numpy as np


class BandTier:
    """Band key -> article ids for the articles not merged into the stored index yet.

    Rows go to a dict first (``pending``) and are folded into the sorted arrays by ``fold()`` (the caller
    does it once ``needs_fold``): lookups read the dict and the arrays (``candidates``)."""

    def __init__(self, fold_rows: int = 20_000):
        self.fold_rows = fold_rows
        self._keys = np.empty(0, dtype=np.int64)      # sorted
        self._ids = np.empty(0, dtype=np.uint32)      # article id of each key (same order; int64 past 2**32)
        self._pending: dict[int, list[int]] = {}     # rows added since the last fold
        self._pending_rows = 0
        self._articles: set[int] = set()

    # ---- size
    @property
    def articles(self) -> int:
        """Number of articles with rows here."""
        return len(self._articles)

    @property
    def rows(self) -> int:
        return len(self._keys) + self._pending_rows

    @property
    def needs_fold(self) -> bool:
        return self._pending_rows >= self.fold_rows

    @property
    def folded_keys(self) -> np.ndarray:
        """The keys of the sorted arrays (sorted)."""
        return self._keys

    @property
    def folded_ids(self) -> np.ndarray:
        """The article id of each of ``folded_keys``."""
        return self._ids

    def __contains__(self, article_id: int) -> bool:
        return article_id in self._articles

    def nbytes(self) -> int:
        """Memory held by the sorted arrays (the pending dict is at most ``fold_rows`` rows)."""
        return self._keys.nbytes + self._ids.nbytes

    # ---- changes
    def add(self, article_id: int, keys: Iterable[int]) -> None:
        """Add an article's band keys (an article without keys, e.g. an empty text, adds nothing)."""
        if article_id in self._articles:
            return
        pending = self._pending
        n = 0
        for k in keys:
            ids = pending.get(k)
            if ids is None:
                pending[k] = [article_id]
            else:
                ids.append(article_id)
            n += 1
        if n:
            self._pending_rows += n
            self._articles.add(article_id)

    def add_bulk(self, article_ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Add many articles at once, straight into the sorted arrays: ``article_ids`` (n,) and their band keys
        ``keys`` (n, BANDS).  Returns the keys added (for the caller's filter)."""
        article_ids = np.asarray(article_ids, dtype=np.int64)
        keys = np.asarray(keys, dtype=np.int64).reshape(len(article_ids), -1)
        new = np.fromiter((a not in self._articles for a in article_ids.tolist()), dtype=bool, count=len(article_ids))
        article_ids, keys = article_ids[new], keys[new]
        if not len(article_ids):
            return np.empty(0, dtype=np.int64)
        flat_keys = keys.reshape(-1)
        self._merge_sorted(flat_keys, np.repeat(article_ids, keys.shape[1]))
        self._articles.update(int(a) for a in article_ids)
        return flat_keys

    def fold(self) -> np.ndarray:
        """Move the pending rows into the sorted arrays; returns their keys."""
        if not self._pending:
            return np.empty(0, dtype=np.int64)
        keys = np.fromiter((k for k, ids in self._pending.items() for _ in ids), dtype=np.int64, count=self._pending_rows)
        ids = np.fromiter((a for ids in self._pending.values() for a in ids), dtype=np.int64, count=self._pending_rows)
        self._pending, self._pending_rows = {}, 0
        self._merge_sorted(keys, ids)
        return keys

    def remove(self, article_id: int) -> None:
        """Drop an article's rows (its text changed: new keys follow, or it moves to the stored index)."""
        if article_id not in self._articles:
            return
        for k in [k for k, ids in self._pending.items() if article_id in ids]:
            ids = [a for a in self._pending[k] if a != article_id]
            self._pending_rows -= len(self._pending[k]) - len(ids)
            if ids:
                self._pending[k] = ids
            else:
                del self._pending[k]
        keep = self._ids != article_id
        self._keys, self._ids = self._keys[keep], self._ids[keep]
        self._articles.discard(article_id)

    def drop_upto(self, article_id: int) -> None:
        """Drop the rows of every article with an id up to ``article_id`` (merged by another writer)."""
        if not any(a <= article_id for a in self._articles):
            return
        for k in list(self._pending):
            ids = [a for a in self._pending[k] if a > article_id]
            self._pending_rows -= len(self._pending[k]) - len(ids)
            if ids:
                self._pending[k] = ids
            else:
                del self._pending[k]
        keep = self._ids > article_id
        self._keys, self._ids = self._keys[keep], self._ids[keep]
        self._articles = {a for a in self._articles if a > article_id}

    def clear(self) -> None:
        self.__init__(self.fold_rows)

    # ---- reads
    def candidates(self, keys: Sequence[int]) -> Counter:
        """Article id -> number of ``keys`` it has rows for (in the dict or the sorted arrays)."""
        found: Counter = Counter()
        pending = self._pending
        for k in keys:
            ids = pending.get(k)
            if ids:
                found.update(ids)
        if len(self._keys) and len(keys):
            probe = np.asarray(keys, dtype=np.int64)
            lo = np.searchsorted(self._keys, probe, side="left")
            lo = np.minimum(lo, len(self._keys) - 1)
            for at in lo[self._keys[lo] == probe].tolist():
                key = self._keys[at]
                while at < len(self._keys) and self._keys[at] == key:
                    found[int(self._ids[at])] += 1
                    at += 1
        return found

    def sorted_chunks(self, size: int = 20_000) -> Iterator[list[tuple[int, int]]]:
        """Every ``(key, article_id)`` row in key order, ``size`` rows at a time (for a merge into the stored
        index: millions of rows as Python tuples would cost ~120 bytes each)."""
        self.fold()
        for i in range(0, len(self._keys), size):
            yield list(zip(self._keys[i:i + size].tolist(), self._ids[i:i + size].tolist()))

    def sorted_part_chunks(self, part_bits: int, size: int = 20_000) -> Iterator[list[tuple[int, int, int]]]:
        """Every ``(part, key, article_id)`` row, ``part = article_id >> part_bits``, in (part, key) order,
        ``size`` rows at a time at most (one pass over the arrays per part: most merges hold one or two)."""
        self.fold()
        shift = part_bits
        parts: set[int] = set()
        for i in range(0, len(self._ids), size):
            parts.update(np.unique(self._ids[i:i + size] >> shift).tolist())
        for part in sorted(parts):
            for i in range(0, len(self._ids), size):
                ids = self._ids[i:i + size]
                at = np.flatnonzero((ids >> shift) == part)
                if len(at):
                    yield list(zip([part] * len(at), self._keys[i:i + size][at].tolist(), ids[at].tolist()))

    def sorted_rows(self) -> list[tuple[int, int]]:
        """Every ``(key, article_id)`` row in key order (small tiers: tests, checks)."""
        return [row for rows in self.sorted_chunks() for row in rows]

    # ---- internals
    def _merge_sorted(self, keys: np.ndarray, ids: np.ndarray) -> None:
        order = np.lexsort((ids, keys))
        keys, ids = keys[order], ids[order]
        if len(ids) and int(ids.max()) > np.iinfo(self._ids.dtype).max:
            self._ids = self._ids.astype(np.int64)
        ids = ids.astype(self._ids.dtype)
        if not len(self._keys):
            self._keys, self._ids = keys, ids
            return
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._ids = np.insert(self._ids, at, ids)


_CHUNK = 65_536
_LOW, _32, _ONE, _3, _7 = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(1), np.uint64(3), np.uint64(7)


_HASHES = 5
_SEQ = np.arange(_HASHES, dtype=np.uint64)


def _positions(keys, mask: np.uint64) -> np.ndarray:
    """The ``_HASHES`` bit positions of each key (rows), below ``mask`` + 1."""
    k = np.asarray(keys, dtype=np.int64).view(np.uint64).reshape(-1, 1)
    with np.errstate(over="ignore"):
        return ((k & _LOW) + ((k >> _32) | _ONE) * _SEQ) & mask


def filter_bits(keys: int, minimum: int = 8) -> int:
    """Bits of a filter for ``keys`` keys: a power of two, at least ``minimum`` and 12 a key."""
    bits = minimum
    while bits < 12 * keys:
        bits <<= 1
    return bits


class BandFilter:
    """A Bloom filter of band keys: one per part of the stored index (``PartFilters``).  Most keys of a new
    article are in no stored row, and asking the filter first saves the index probes (page reads at random
    places of a file much bigger than the page cache) for those.  ``HASHES`` bit positions per key come from
    the key itself (band keys are 64-bit hashes already): double hashing of its two 32-bit halves.  Sized at
    12-24 bits per key when made; at 8 bits per key (``capacity``) about 2 % false positives.  A false
    positive costs one probe; there are no false negatives.  Saved filters hold bits only: changing ``HASHES``
    (or how positions are derived) needs a migration that empties ``lsh_part_filters``."""

    HASHES = _HASHES
    MIN_BITS = 1 << 20

    def __init__(self, bits: np.ndarray | None = None, keys: int = 0, capacity_keys: int = 0):
        if bits is None:
            bits = np.zeros(filter_bits(capacity_keys, self.MIN_BITS) // 8, dtype=np.uint8)
        self.bits = bits
        self.keys = keys                 # keys added (with repeats): what the size is judged by
        self._mask = np.uint64(len(bits) * 8 - 1)

    @property
    def capacity(self) -> int:
        return len(self.bits) * 8 // 8   # keys at 8 bits each

    def _positions(self, keys) -> np.ndarray:
        return _positions(keys, self._mask)

    def add(self, keys) -> None:
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        for i in range(0, len(keys), _CHUNK):       # small temporaries: big fresh arrays cost page faults
            pos = self._positions(keys[i:i + _CHUNK]).reshape(-1)
            byte, bit = (pos >> _3).astype(np.intp), (pos & _7).astype(np.uint8)
            for b in range(8):          # one bit value per pass: repeated bytes in a pass then write the same value
                at = byte[bit == b]
                self.bits[at] |= np.uint8(1 << b)
        self.keys += len(keys)

    def might_contain(self, keys) -> np.ndarray:
        """Bool per key: False means the key was never added."""
        pos = self._positions(keys)
        return ((self.bits[pos >> _3] >> (pos & _7).astype(np.uint8)) & 1).all(axis=1)

    def to_bytes(self) -> bytes:
        return self.bits.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, keys: int) -> "BandFilter":
        return cls(np.frombuffer(data, dtype=np.uint8).copy(), keys)


class PartFilters:
    """One ``BandFilter`` per part of the stored index (``monitor.store.bands``), all of one size (``nbits``,
    enough for a full part), their bits the rows of one array so that one numpy call asks every part.

    Why one per part: a merge adds rows to the newest part only (an older part gains rows only when an
    article's text changed), so only that part's filter changes and is saved, a few MB, where one filter of
    every stored row (64 MB at 1M articles) was rewritten by every merge and made again from the whole
    index (tens of millions of rows) each time it filled up."""

    def __init__(self, nbits: int):
        if nbits < 8 or nbits & (nbits - 1):
            raise ValueError(f"nbits must be a power of two of at least 8, not {nbits}")
        self.nbits = nbits
        self._bits = np.zeros((0, nbits // 8), dtype=np.uint8)
        self._parts: list[int] = []               # the part of each row of _bits in use
        self._row: dict[int, int] = {}
        self._filters: dict[int, BandFilter] = {}

    def __contains__(self, part: int) -> bool:
        return part in self._row

    def get(self, part: int) -> BandFilter:
        """The filter of ``part`` (an empty one when the part has none yet)."""
        if part not in self._row:
            self._add_row(part)
        return self._filters[part]

    def load(self, part: int, data: bytes, keys: int) -> bool:
        """Take a saved filter of ``part``; False (nothing taken) when it is not of this size."""
        if len(data) * 8 != self.nbits:
            return False
        f = self.get(part)
        f.bits[:] = np.frombuffer(data, dtype=np.uint8)
        f.keys = keys
        return True

    def clear(self, part: int) -> BandFilter:
        """``part``'s filter emptied (to be filled again from the stored rows)."""
        f = self.get(part)
        f.bits[:] = 0
        f.keys = 0
        return f

    def might_contain(self, keys, parts: Sequence[int]) -> np.ndarray:
        """Bool array (len(parts), len(keys)): False where the key was never added to that part's filter
        (every part in ``parts`` must have one)."""
        rows = np.asarray([self._row[p] for p in parts], dtype=np.intp)
        pos = _positions(keys, np.uint64(self.nbits - 1))          # (keys, hashes)
        got = self._bits[rows[:, None, None], (pos >> _3).astype(np.intp)[None]]
        return ((got >> (pos & _7).astype(np.uint8)[None]) & 1).all(axis=2).astype(bool)

    def _add_row(self, part: int) -> None:
        n = len(self._parts)
        if n == len(self._bits):                  # room for twice as many parts, the filters moved over
            grown = np.zeros((max(4, 2 * n), self._bits.shape[1]), dtype=np.uint8)
            grown[:n] = self._bits[:n]
            self._bits = grown
            for p, i in self._row.items():
                self._filters[p].bits = grown[i]
        self._parts.append(part)
        self._row[part] = n
        self._filters[part] = BandFilter(self._bits[n], 0)
