"""The shared real-page corpus (``../shared/corpus`` beside the repo) and how text is scored against it.

A user's clone has no ``../shared``: tests that read it use ``@requires_corpus`` and skip.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
AEB = CORPUS / "aeb"

requires_corpus = pytest.mark.skipif(not (AEB / "ground-truth.json").is_file(),
                                     reason=f"real-page corpus not found at {CORPUS}")

_TOKEN = re.compile(r"\w+")


def aeb_pages() -> Iterator[tuple[str, str, str, str]]:
    """(id, url, html, ground-truth article body) for each Article Extraction Benchmark page."""
    from monitor.extract import decode_body

    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id, entry in sorted(truth.items()):
        body = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes())
        yield page_id, entry["url"], decode_body(body), entry["articleBody"]


def token_prf(predicted: str, expected: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of lower-cased ``\\w+`` tokens counted as multisets (the AEB measure)."""
    got, want = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(expected.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)
