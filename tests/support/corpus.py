"""The shared real-page corpus (``../shared/corpus`` beside the repo) and how text is scored against it.

A user's clone has no ``../shared``: tests that read it use ``@requires_corpus`` and skip.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
AEB = CORPUS / "aeb"
FUNDUS = CORPUS / "fundus"

requires_corpus = pytest.mark.skipif(not (AEB / "ground-truth.json").is_file(),
                                     reason=f"real-page corpus not found at {CORPUS}")
requires_fundus = pytest.mark.skipif(not (FUNDUS / "index.jsonl").is_file(),
                                     reason=f"fundus pages not found at {FUNDUS}")

_TOKEN = re.compile(r"\w+")


def aeb_pages() -> Iterator[tuple[str, str, str, str]]:
    """(id, url, html, ground-truth article body) for each Article Extraction Benchmark page."""
    from monitor.extract import decode_body

    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id, entry in sorted(truth.items()):
        body = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes())
        yield page_id, entry["url"], decode_body(body), entry["articleBody"]


def fundus_body(body: dict) -> str:
    """A fundus ``body`` (``{"summary": [...], "sections": [{"headline": [...], "paragraphs": [...]}]}``) as
    one text, a paragraph a line: the summary (lead), then each section's subheadings and paragraphs."""
    lines = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        lines += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n".join(line for line in lines if line and line.strip())


def fundus_pages() -> Iterator[tuple[str, str, str, str, str]]:
    """(id, url, html, expected body text, expected title) for each fundus test page (``fundus/index.jsonl``:
    each page with the parser version that was current at its crawl date)."""
    from monitor.extract import decode_body

    expected: dict[str, dict] = {}
    for line in (FUNDUS / "index.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        path = entry["expected_json"]
        if path not in expected:
            expected[path] = json.loads((FUNDUS / path).read_text(encoding="utf-8"))
        want = expected[path].get(entry["parser_version"]) or {}
        body = gzip.decompress((FUNDUS / entry["html"]).read_bytes())
        page_id = Path(entry["html"]).name.removesuffix(".html.gz")
        yield (f"{entry['group']}/{page_id}", entry["url"], decode_body(body), fundus_body(want.get("body") or {}),
               want.get("title") or "")


def norm_title(text: str | None) -> str:
    """A title as compared with an expected one: spaces, quotes, dashes, soft hyphens and zero-width spaces
    normalised, case kept."""
    text = unicodedata.normalize("NFKC", text or "").replace("\xad", "").replace("\u200b", "")
    text = re.sub(r"[\u2018\u2019\u201a\u201b\u2032\u00b4`]", "'", text)
    text = re.sub(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]", '"', text)
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return " ".join(text.split())


def token_prf(predicted: str, expected: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of lower-cased ``\\w+`` tokens counted as multisets (the AEB measure)."""
    got, want = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(expected.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)
