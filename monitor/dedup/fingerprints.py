"""Duplicate detection for article texts (pure: no I/O, no scrapy, no SQLite).

Two levels:

* **Exact duplicates** — :func:`content_hash` is the SHA-256 of :func:`normalise_text` (Unicode NFKC,
  case-folded, punctuation and whitespace dropped: only the word tokens remain).  Two texts that differ
  only in quotes, dashes, spacing, line breaks or letter case get the same hash.

* **Near duplicates** — the same article with a changed title, an added editor's note, a different
  byline, some boilerplate.  Each text gets a MinHash signature of its word 3-shingles; two signatures
  estimate the Jaccard similarity of the shingle sets (:func:`jaccard_estimate`).  A text is a near
  duplicate of a stored one when that estimate is at least ``MONITOR_NEAR_DUP_THRESHOLD`` (see
  ``monitor/settings.py``; default 0.7), or when one text is almost entirely contained in the other and
  the other adds little (:func:`is_near_duplicate`: containment >= ``CONTAINMENT_THRESHOLD`` = 0.85 or
  the threshold if higher, at most ``MAX_ADDED_SHINGLES`` = 150 shingles added, Jaccard >=
  ``JACCARD_FLOOR`` = 0.35).  The second
  rule catches a short article that got an editor's note, a byline and a boilerplate block at once
  (Jaccard drops to about 0.4 for a 70-word text), and keeps apart a long article that quotes a short
  one (hundreds of shingles added).  Set sizes are stored with the signature, so containment is
  estimated from Jaccard: ``|A∩B| = J/(1+J) * (|A|+|B|)``.

  Finding the stored candidates must not scan the store: the signature is cut into ``BANDS`` bands of
  ``ROWS`` hash values and every band is hashed to one signed 64-bit integer (:func:`band_keys`; the band
  number is folded into the key).  ``monitor.store.articles`` keeps ``(key, article_id)`` rows in an indexed
  table, so a lookup is ``BANDS`` indexed equality probes whatever the number of stored articles; only the
  articles sharing at least one band key with the new text (the candidates) have their signatures
  compared.  Two texts of Jaccard similarity *s* share at least one band with probability
  ``1 - (1 - s**ROWS)**BANDS``: with 42 bands of 3 rows (the first 126 of the 128 values) that is
  0.84 at s=0.35, 0.94 at s=0.4, 0.9996 at s=0.5, > 0.99999 from s=0.6, and 0.005 at s=0.05 (different
  articles, even on one topic, share few 3-shingles).  Thresholds below about 0.45 lose recall in the
  candidate step, not only in the check.

The signature is datasketch's ``MinHash`` (``scheme="affine32"``, ``NUM_PERM`` = 128 permutations, seed 1)
fed with 32-bit shingle hashes; :func:`minhash` computes exactly the same hash values with numpy in one
pass (about 1 ms for a 1,000-word article) instead of one Python call per shingle.  ``tests/test_dedup.py``
checks that both give identical values.

Changing ``SHINGLE_SIZE``, ``NUM_PERM``, ``SEED``, the tokeniser, ``BANDS``/``ROWS`` or the band hashing
invalidates every stored signature and band key: bump ``SIGNATURE_VERSION`` (signatures carry it, and a
signature of another version is recomputed from the text instead of being compared).
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Union

import numpy as np

from monitor.config import setting

__all__ = [
    "NEAR_DUP_THRESHOLD", "NUM_PERM", "BANDS", "ROWS", "SHINGLE_SIZE", "SIGNATURE_VERSION",
    "Signature", "normalise_text", "tokens", "content_hash", "shingle_hashes", "minhash", "fingerprint",
    "signature_to_bytes", "signature_from_bytes", "band_keys", "band_keys_bulk", "band_keys_to_bytes",
    "band_keys_from_bytes", "jaccard_estimate",
    "is_near_duplicate", "matches", "best_match",
]

NEAR_DUP_THRESHOLD: float = float(setting("MONITOR_NEAR_DUP_THRESHOLD"))
SHINGLE_SIZE = 3          # words per shingle (CJK/Thai/...: characters per shingle)
NUM_PERM = 128            # MinHash permutations: Jaccard estimate std. error ≈ sqrt(s(1-s)/128) ≈ 0.04 at s=0.7
SEED = 1                  # datasketch permutation seed
BANDS = 42                # LSH bands ...
ROWS = 3                  # ... of ROWS hash values each (the first BANDS * ROWS <= NUM_PERM values)
SIGNATURE_VERSION = 1
CONTAINMENT_THRESHOLD = 0.85   # second rule: share of the smaller text's shingles found in the larger ...
MAX_ADDED_SHINGLES = 150       # ... while the larger adds at most this many shingles (about as many words)
JACCARD_FLOOR = 0.35           # ... and the Jaccard estimate is at least this (below it LSH misses pairs)
MIN_CONTAINED_SHINGLES = 30    # ... and the smaller text has at least this many shingles
assert BANDS * ROWS <= NUM_PERM

# --------------------------------------------------------------------------- normalisation

# Scripts written without spaces between words: every character is a token (so 3-shingles are
# character trigrams there).  Hiragana/Katakana, CJK ideographs, Thai, Lao, Myanmar, Khmer.
_NO_SPACE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_TOKEN_RE = re.compile(rf"[{_NO_SPACE}]|[^\W{_NO_SPACE}]+")


def tokens(text: str | None) -> list[str]:
    """Word tokens of ``text`` after NFKC + case folding (punctuation and whitespace are separators)."""
    if not text:
        return []
    return _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def normalise_text(text: str | None) -> str:
    """The text as its word tokens joined by single spaces (NFKC, case-folded, no punctuation)."""
    return " ".join(tokens(text))


def content_hash(text: str | None) -> str:
    """SHA-256 (hex) of :func:`normalise_text`: equal for exact duplicates up to typography and case."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- MinHash

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finalizer on a uint64 array (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finalizer (what datasketch's affine32 scheme applies to every input hash)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


_SHINGLE_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                          0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0x94D049BB133111EB][:SHINGLE_SIZE],
                         dtype=np.uint64)


@lru_cache(maxsize=200_000)
def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def shingle_hashes(text: str | None) -> np.ndarray:
    """Distinct 32-bit hashes (uint32) of the word ``SHINGLE_SIZE``-shingles of ``text``.

    A shingle hash depends on the tokens and their order: ``fmix64(sum(h(tok_i) * C_i))`` (wrapping),
    upper 32 bits.  A text shorter than ``SHINGLE_SIZE`` tokens is one shingle; an empty text has none.
    """
    toks = tokens(text)
    if not toks:
        return np.empty(0, dtype=np.uint32)
    th = np.fromiter((_token_hash(t) for t in toks), dtype=np.uint64, count=len(toks))
    k = min(SHINGLE_SIZE, len(toks))
    n = len(toks) - k + 1
    acc = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        acc += th[j:j + n] * _SHINGLE_MULT[j]
    if k < SHINGLE_SIZE:                      # keep short texts distinct from a longer text's shingle
        acc ^= np.uint64(k)
    return np.unique((_fmix64(acc) >> np.uint64(32)).astype(np.uint32))


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b) for NUM_PERM and SEED.

    The same draws as ``datasketch.MinHash(num_perm, seed, scheme="affine32")._init_permutations``
    (tests/test_dedup.py compares them), without importing datasketch: it imports scipy, which costs
    ~1.5 s and ~50 MB in every process that computes a signature (the extraction workers)."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


@dataclass(frozen=True)
class Signature:
    """A MinHash signature: ``NUM_PERM`` uint32 values and the number of distinct shingles hashed."""

    hashvalues: np.ndarray
    size: int
    version: int = SIGNATURE_VERSION

    @property
    def empty(self) -> bool:
        return self.size == 0

    def __eq__(self, other) -> bool:  # numpy arrays do not compare to a bool
        return (isinstance(other, Signature) and self.size == other.size and self.version == other.version
                and np.array_equal(self.hashvalues, other.hashvalues))

    def __hash__(self) -> int:
        return hash((self.size, self.version, self.hashvalues.tobytes()))


_CHUNK = 4096   # shingles per numpy block (bounds memory for huge texts: 4096 x 128 x 4 bytes = 2 MiB)


def minhash(text_or_hashes: Union[str, None, np.ndarray]) -> Signature:
    """MinHash signature of a text (or of :func:`shingle_hashes` already computed).

    Equal to ``datasketch.MinHash(num_perm=128, seed=1, scheme="affine32")`` updated with the shingle
    hashes (identity hash function), computed in numpy blocks.
    """
    hv = text_or_hashes if isinstance(text_or_hashes, np.ndarray) else shingle_hashes(text_or_hashes)
    hv = np.asarray(hv, dtype=np.uint32)
    a, b = _permutations()
    out = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i in range(0, len(hv), _CHUNK):
            x = _fmix32(hv[i:i + _CHUNK])[:, None]
            np.minimum(out, (x * a + b).min(axis=0), out=out)
    return Signature(out, int(len(hv)))


def fingerprint(text: str | None) -> bytes:
    """Serialised signature of ``text``: what extraction workers put in ``ArticleRecord.extra["minhash"]``."""
    return signature_to_bytes(minhash(text))


_HEADER = struct.Struct("<2sBBHI")    # magic, version, shingle size, num_perm, shingle count
_MAGIC = b"MH"


def signature_to_bytes(sig: Signature) -> bytes:
    """``b"MH" version k num_perm(u16) size(u32)`` followed by NUM_PERM little-endian uint32 (522 bytes)."""
    return _HEADER.pack(_MAGIC, sig.version, SHINGLE_SIZE, len(sig.hashvalues), min(sig.size, 0xFFFFFFFF)) + \
        np.asarray(sig.hashvalues, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    """Inverse of :func:`signature_to_bytes`; ``ValueError`` for bytes of another format or version."""
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise ValueError("not a media-monitor MinHash signature (too short)")
    magic, version, k, num_perm, size = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != SIGNATURE_VERSION or k != SHINGLE_SIZE or num_perm != NUM_PERM:
        raise ValueError(f"MinHash signature of another format (magic={magic!r} version={version} k={k} "
                         f"num_perm={num_perm}); expected version {SIGNATURE_VERSION}, k={SHINGLE_SIZE}, "
                         f"num_perm={NUM_PERM}")
    if len(data) != _HEADER.size + 4 * num_perm:
        raise ValueError(f"MinHash signature has {len(data)} bytes, expected {_HEADER.size + 4 * num_perm}")
    hv = np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint32)
    return Signature(hv, size, version)


def _as_signature(sig: Union[Signature, bytes, bytearray, memoryview]) -> Signature:
    return sig if isinstance(sig, Signature) else signature_from_bytes(sig)


# --------------------------------------------------------------------------- LSH band keys

_BAND_SEEDS = _fmix64((np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) *
                      np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(SIGNATURE_VERSION))


def band_keys_bulk(hashvalues: np.ndarray) -> np.ndarray:
    """Band keys for many signatures at once: ``(n, NUM_PERM)`` uint32 -> ``(n, BANDS)`` int64."""
    hv = np.asarray(hashvalues, dtype=np.uint32).reshape(-1, NUM_PERM)[:, :BANDS * ROWS]
    hv = hv.reshape(-1, BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = np.broadcast_to(_BAND_SEEDS, hv.shape[:2]).copy()
        for j in range(ROWS):
            h = _fmix64(h ^ (hv[:, :, j] + np.uint64(j) * np.uint64(0x100000000)))
    return h.view(np.int64)


def band_keys_to_bytes(keys: list[int]) -> bytes:
    """Band keys as bytes (``SIGNATURE_VERSION`` first): extraction workers send them with the signature."""
    return struct.pack(f"<B{len(keys)}q", SIGNATURE_VERSION, *keys)


def band_keys_from_bytes(data) -> list[int] | None:
    """Inverse of :func:`band_keys_to_bytes`; None for bytes of another version or length (recompute)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) != 1 + 8 * BANDS or data[0] != SIGNATURE_VERSION:
        return None
    return list(struct.unpack_from(f"<{BANDS}q", data, 1))


def band_keys(signature: Union[Signature, bytes]) -> list[int]:
    """``BANDS`` signed 64-bit keys (band number folded in) for an indexed equality lookup per band.

    An empty text (no shingles) has no keys: it is never a near-duplicate candidate.
    """
    sig = _as_signature(signature)
    if sig.empty:
        return []
    return [int(k) for k in band_keys_bulk(sig.hashvalues[None, :])[0]]


# --------------------------------------------------------------------------- similarity

def jaccard_estimate(sig_a: Union[Signature, bytes], sig_b: Union[Signature, bytes]) -> float:
    """Estimated Jaccard similarity of the two shingle sets (share of equal MinHash values)."""
    a, b = _as_signature(sig_a), _as_signature(sig_b)
    if a.empty or b.empty:
        return 1.0 if a.empty and b.empty else 0.0
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)


def _decide(j: float, size_a: int, size_b: int, threshold: float) -> bool:
    if j >= threshold:
        return True
    if j < JACCARD_FLOOR:
        return False
    small, large = min(size_a, size_b), max(size_a, size_b)
    if small < MIN_CONTAINED_SHINGLES:
        return False
    shared = j / (1.0 + j) * (size_a + size_b)          # estimated |A ∩ B|
    return shared / small >= max(CONTAINMENT_THRESHOLD, threshold) and large - shared <= MAX_ADDED_SHINGLES


def is_near_duplicate(sig_a: Union[Signature, bytes], sig_b: Union[Signature, bytes],
                      threshold: float | None = None) -> bool:
    """Whether two texts are near duplicates: estimated Jaccard >= ``threshold`` (default
    ``NEAR_DUP_THRESHOLD``), or the containment rule described in the module docstring."""
    a, b = _as_signature(sig_a), _as_signature(sig_b)
    if a.empty or b.empty:
        return False
    t = NEAR_DUP_THRESHOLD if threshold is None else threshold
    return _decide(jaccard_estimate(a, b), a.size, b.size, t)


def matches(sig: Union[Signature, bytes], candidates: Iterable[tuple[int, bytes]],
            threshold: float | None = None) -> list[tuple[int, float]]:
    """``(id, jaccard)`` of the candidates ``(id, signature bytes)`` that are near duplicates of ``sig``
    (:func:`is_near_duplicate`), most similar first, ties by smaller id (the older article).
    Candidates whose signature cannot be read (another version) or is empty are skipped."""
    s = _as_signature(sig)
    if s.empty:
        return []
    t = NEAR_DUP_THRESHOLD if threshold is None else threshold
    found = []
    for cid, blob in candidates:
        try:
            other = _as_signature(blob)
        except ValueError:
            continue
        if other.empty:
            continue
        j = float(np.count_nonzero(s.hashvalues == other.hashvalues)) / NUM_PERM
        if _decide(j, s.size, other.size, t):
            found.append((cid, j))
    found.sort(key=lambda m: (-m[1], m[0]))
    return found


def best_match(sig: Union[Signature, bytes], candidates: Iterable[tuple[int, bytes]],
               threshold: float | None = None) -> tuple[int, float] | None:
    """The first of :func:`matches`, or None."""
    found = matches(sig, candidates, threshold)
    return found[0] if found else None
