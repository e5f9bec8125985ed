"""Near-duplicate detection benchmark: lookup time against 10k / 100k / 1M stored fingerprints, and
precision / recall on a labelled set built from ../shared/corpus pages with controlled edits.

    python benchmarks/dedup.py                       # both parts, sizes 10k,100k,1M (about 3-4 min, 2 cores)
    python benchmarks/dedup.py --sizes 10000,100000  # quicker
    python benchmarks/dedup.py --skip-scaling        # precision/recall only

Part 1 (scaling) works on real SQLite files through the store's writer (``monitor.store.articles.Writer``), one per size: a few
hundred real articles are stored with ``write_batch`` (fingerprints and LSH buckets written by the writer),
then the file is filled up to the size with synthetic fingerprints (random MinHash values, i.e. unrelated
texts) loaded in bulk straight into ``article_fingerprints`` / ``lsh_buckets``.  A lookup is
``Writer._find_duplicate(rec)`` with the MinHash precomputed in ``rec.extra["minhash"]`` (as extraction
workers do): exact-hash query, one indexed probe per LSH band, signature check of the candidates, root
of the group.  Half the probes are near copies of stored articles (hits), half new texts (misses).

Part 2 (quality) stores half of the corpus articles (AEB ground-truth texts, fundus bodies), then asks
``_find_duplicate`` about edited copies of stored articles (positives: changed title line, editor's note,
other byline, boilerplate, all four, small corrections, last paragraph cut) and about the other half
(negatives: different articles, some from the same publishers) plus hard negatives (a different article
quoting one paragraph of a stored one).  It is skipped when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.dedup import fingerprints as dedup  # noqa: E402
from monitor.store.articles import Writer  # noqa: E402
from monitor.store.bands import PART_BITS  # noqa: E402
from monitor.store.db import open_writer  # noqa: E402
from monitor.store.records import ArticleRecord  # noqa: E402
from monitor.dedup.urls import canonicalize  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
SYNTHETIC_ID_BASE = 1_000_000_000      # synthetic fingerprints have no articles row

# --------------------------------------------------------------------------- texts

_VOCAB = None


def synthetic_text(rng: random.Random, words: int = 600) -> str:
    """A random 'article': Zipf-distributed words from a 20k vocabulary, in sentences."""
    global _VOCAB
    if _VOCAB is None:
        vr = random.Random(7)
        _VOCAB = ["".join(vr.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(vr.randint(2, 10)))
                  for _ in range(20_000)]
        _VOCAB = np.array(_VOCAB)
    idx = np.minimum(np.random.default_rng(rng.randrange(2**32)).zipf(1.3, words) - 1, len(_VOCAB) - 1)
    toks = list(_VOCAB[idx])
    return " ".join(t + ("." if i % 17 == 16 else "") for i, t in enumerate(toks))


EDITOR_NOTE = ("Editor's note: This story was updated on Tuesday to correct the spelling of a name and to add "
               "comments from the company's spokesperson, who did not respond before publication.")
BYLINE = "By Jane Doe and Marco Rossi, Staff Reporters | Updated 3 hours ago"
BOILERPLATE = ("Sign up for our daily newsletter to get the best of our journalism in your inbox. Follow us on "
               "Twitter and Facebook. © 2024 Example Media Group. All rights reserved. This material may not "
               "be published, broadcast, rewritten or redistributed.")


def edits(text: str, title: str, rng: random.Random) -> dict[str, str]:
    """Controlled edits of one article: what another outlet or a later version might publish."""
    words = text.split(" ")
    corrected = list(words)
    for i in rng.sample(range(len(words)), k=max(1, len(words) // 40)):     # 2.5% of words changed
        corrected[i] = "corrected"
    paragraphs = [p for p in text.split("\n") if p.strip()]
    cut = "\n".join(paragraphs[:-1]) if len(paragraphs) > 3 else text
    return {
        "title": f"{title}\n{text}".replace(title, "A rewritten headline about this", 1) if title
        else f"A rewritten headline about this\n{text}",
        "editor_note": f"{EDITOR_NOTE}\n\n{text}",
        "byline": f"{BYLINE}\n{text}",
        "boilerplate": f"{text}\n\n{BOILERPLATE}",
        "all_four": f"A rewritten headline about this\n{EDITOR_NOTE}\n\n{BYLINE}\n{text}\n\n{BOILERPLATE}",
        "corrections": " ".join(corrected),
        "last_paragraph_cut": cut,
    }


def stress_edits(text: str, rng: random.Random) -> dict[str, str]:
    """Heavier rewrites, beyond what the issue requires: shows where detection stops (not in the headline)."""
    words = text.split(" ")
    out = {}
    for share in (0.05, 0.10, 0.20):
        w = list(words)
        for i in rng.sample(range(len(words)), k=max(1, int(len(words) * share))):
            w[i] = "rewritten"
        out[f"{int(share * 100)}%_words_changed"] = " ".join(w)
    out["first_half_only"] = " ".join(words[:len(words) // 2])
    return out


def corpus_articles() -> list[tuple[str, str, str]]:
    """(name, title, text) from the AEB ground truth and the fundus expected bodies (distinct texts)."""
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()        # content hashes and canonical URLs: one entry per article
    gt = CORPUS / "aeb" / "ground-truth.json"
    if gt.exists():
        for key, val in sorted(json.loads(gt.read_text(encoding="utf-8")).items()):
            text = (val.get("articleBody") or "").strip()
            url = canonicalize(val.get("url") or key)
            if len(text.split()) >= 40 and not {dedup.content_hash(text), url} & seen:
                seen.update({dedup.content_hash(text), url})
                first = text.split("\n")[0][:80]
                out.append((f"aeb/{key[:10]}", first, text))
    idx = CORPUS / "fundus" / "index.jsonl"
    if idx.exists():
        for line in idx.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            try:
                data = json.loads((CORPUS / "fundus" / entry["expected_json"]).read_text(encoding="utf-8"))
                doc = data[entry["parser_version"]]
            except (OSError, KeyError, ValueError):
                continue
            body = doc.get("body") or {}
            parts = list(body.get("summary") or [])
            for sec in body.get("sections") or []:
                parts += list(sec.get("headline") or []) + list(sec.get("paragraphs") or [])
            text = "\n".join(p.strip() for p in parts if p and p.strip())
            # fundus has some pages twice (one URL, two crawl dates / parser versions): same article
            url = canonicalize(entry.get("url") or entry["html"])
            if len(text.split()) >= 40 and not {dedup.content_hash(text), url} & seen:
                seen.update({dedup.content_hash(text), url})
                out.append((f"fundus/{entry['publisher']}", doc.get("title") or "", text))
    return out


# --------------------------------------------------------------------------- part 1: scaling

def _bulk_fingerprints(store: Writer, start: int, stop: int, seed: int) -> None:
    """Synthetic fingerprints start..stop-1 (ids offset by SYNTHETIC_ID_BASE) loaded in bulk.

    Signatures go in id order.  Their bucket rows (BANDS per signature) are sorted by key in numpy and
    laid out column-major in a wide temporary table (row r, column j holds the (j * rows + r)-th pair), so
    BANDS ``INSERT ... SELECT`` statements, each reading the temporary table in rowid order, add the keys to
    the WITHOUT ROWID B-tree in ascending order: one ordered pass, few Python calls.
    """
    n = stop - start
    if n <= 0:
        return
    B = dedup.BANDS
    rng = np.random.default_rng(seed)
    header = dedup._HEADER.pack(dedup._MAGIC, dedup.SIGNATURE_VERSION, dedup.SHINGLE_SIZE, dedup.NUM_PERM, 400)
    conn = store.db.conn
    width = 4 * dedup.NUM_PERM
    keys = np.empty((n, B), dtype=np.int64)
    conn.execute("PRAGMA journal_mode = OFF")             # a benchmark load, not a crawl
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        hv = rng.integers(0, 2**32, size=(hi - lo, dedup.NUM_PERM), dtype=np.uint32)
        keys[lo:hi] = dedup.band_keys_bulk(hv)
        blobs = hv.astype("<u4").tobytes()
        conn.executemany("INSERT INTO article_fingerprints (article_id, signature) VALUES (?, ?)",
                         ((SYNTHETIC_ID_BASE + start + lo + i, header + blobs[i * width:(i + 1) * width])
                          for i in range(hi - lo)))
    flat = keys.ravel()
    del keys
    order = np.argsort(flat)
    wide = np.empty((n, 2 * B), dtype=np.int64)
    wide[:, 0::2] = flat[order].reshape(B, n).T
    wide[:, 1::2] = (order // B + SYNTHETIC_ID_BASE + start).reshape(B, n).T
    del flat, order
    cols = ", ".join(f"k{j} INTEGER, i{j} INTEGER" for j in range(B))
    conn.execute("DROP TABLE IF EXISTS temp.bulk_buckets")
    conn.execute(f"CREATE TEMP TABLE bulk_buckets ({cols})")
    marks = ",".join("?" * (2 * B))
    for lo in range(0, n, 50_000):
        conn.executemany(f"INSERT INTO temp.bulk_buckets VALUES ({marks})", wide[lo:lo + 50_000].tolist())
    del wide
    for j in range(B):
        conn.execute(f"INSERT INTO lsh_buckets (part, key, article_id) SELECT i{j} >> {PART_BITS}, k{j}, i{j} "
                     "FROM temp.bulk_buckets ORDER BY rowid")
    conn.execute("DROP TABLE temp.bulk_buckets")
    # the loaded rows are merged rows (monitor.store.bands): the writer's filters are made again from lsh_buckets
    conn.execute("UPDATE store_state SET value = (SELECT max(article_id) FROM article_fingerprints) "
                 "WHERE name = 'lsh_merged_upto'")
    conn.execute("DELETE FROM lsh_part_filters")
    conn.execute("COMMIT")
    store.forget_band_memory()
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")


def scaling(sizes: list[int], probes: int, db_dir: Path) -> list[tuple[int, float, float, float]]:
    """One fresh database file per size (bulk loads append to an empty B-tree: much faster than merging
    into a filled one), the same real articles and probes in each."""
    rng = random.Random(42)
    real = [synthetic_text(rng) for _ in range(max(50, probes // 2))]
    # probes: near copies of stored articles (hits) and new texts (misses), MinHash precomputed
    probe_recs = []
    for i in range(probes):
        if i % 2 == 0:
            base = real[i // 2 % len(real)]
            text = f"{EDITOR_NOTE}\n{BYLINE}\n{base}\n{BOILERPLATE}"
        else:
            text = synthetic_text(rng)
        probe_recs.append((i % 2 == 0, text, dedup.fingerprint(text)))
    t0 = time.perf_counter()
    for _, text, _ in probe_recs[:100]:
        dedup.minhash(text)
    mh_ms = (time.perf_counter() - t0) / min(100, len(probe_recs)) * 1000
    print(f"  MinHash of a ~630-word probe text: {mh_ms:.2f} ms (computed by extraction workers, not timed below)")

    results = []
    for size in sizes:
        db_path = db_dir / f"scaling-{size}.db"
        store = open_writer(db_path)
        store.db.conn.execute("PRAGMA cache_size = -1048576")     # 1 GiB page cache (the 1M bucket index)
        store.db.conn.execute("PRAGMA temp_store = MEMORY")
        t0 = time.perf_counter()
        store.write_batch([ArticleRecord(url=f"https://real.example/{i}", source="real", text=t)
                           for i, t in enumerate(real)])
        store.merge_bands(force=True)            # their band rows into lsh_buckets: the load marks all as merged
        _bulk_fingerprints(store, 0, size - len(real), seed=size)
        build = time.perf_counter() - t0
        n_fp = store.count("article_fingerprints")
        times, hits, wrong = [], 0, 0
        for _ in range(2):                       # warm-up pass, then the timed pass
            times, hits, wrong = [], 0, 0
            for j, (is_hit, text, blob) in enumerate(probe_recs):
                rec = ArticleRecord(url=f"https://probe.example/{j}", source="probe", text=text,
                                    extra={"minhash": blob})
                t = time.perf_counter()
                root = store._find_duplicate(rec)
                times.append(time.perf_counter() - t)
                if is_hit:
                    hits += root is not None
                else:
                    wrong += root is not None
        mean = statistics.mean(times) * 1000
        med = statistics.median(times) * 1000
        p95 = sorted(times)[int(0.95 * len(times)) - 1] * 1000
        results.append((n_fp, mean, med, p95))
        keys = dedup.band_keys(dedup.minhash(real[0]))
        plan = store.db.execute(f"EXPLAIN QUERY PLAN SELECT article_id FROM lsh_buckets WHERE part IN (0, 1) AND key IN "
                                f"({','.join('?' * len(keys))}) GROUP BY article_id", keys).fetchall()
        n_rows = store.count("lsh_buckets")
        store.close()
        size_mb = db_path.stat().st_size / 2**20
        print(f"  {n_fp:>9,} fingerprints ({n_rows:,} bucket rows, {size_mb:,.0f} MiB file, built in {build:.0f} s): "
              f"lookup median {med:.3f} ms, mean {mean:.3f} ms, p95 {p95:.3f} ms; near copies found "
              f"{hits}/{(len(probe_recs) + 1) // 2}, false hits {wrong}/{len(probe_recs) // 2}", flush=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
    print("  bucket query plan:", "; ".join(r[-1] for r in plan))
    base = results[0][2]
    print(f"\n  stored fingerprints | median ms | mean ms | p95 ms | median / median at {results[0][0]:,}")
    for n_fp, mean, med, p95 in results:
        print(f"  {n_fp:>19,} | {med:>9.3f} | {mean:>7.3f} | {p95:>6.3f} | {med / base:.2f}x")
    return results


# --------------------------------------------------------------------------- part 2: quality

def quality(db_dir: Path, thresholds: list[float]) -> None:
    arts = corpus_articles()
    if not arts:
        print("  ../shared/corpus not found: precision/recall skipped")
        return
    rng = random.Random(3)
    stored, held_out = arts[0::2], arts[1::2]
    positives = []            # (kind, stored index, text)
    stress = []
    for i, (_, title, text) in enumerate(stored):
        for kind, edited in edits(text, title, rng).items():
            if dedup.normalise_text(edited) != dedup.normalise_text(text):
                positives.append((kind, i, edited))
        for kind, edited in stress_edits(text, rng).items():
            stress.append((kind, i, edited))
    negatives = [("other_article", text) for _, _, text in held_out]
    for _, _, text in held_out:
        paras = [p for p in rng.choice(stored)[2].split("\n") if len(p.split()) >= 25]
        if paras:
            negatives.append(("quotes_a_paragraph", f"{text}\n\nAs reported earlier: {rng.choice(paras)}"))
    print(f"  {len(stored)} stored articles, {len(positives)} edited copies (positives), "
          f"{len(negatives)} other texts (negatives); corpus: {CORPUS}")

    store = open_writer(db_dir / "quality.db")
    ids = [r.article_id for r in store.write_batch(
        [ArticleRecord(url=f"https://stored.example/{i}", source=name.split("/")[0], text=text, title=title)
         for i, (name, title, text) in enumerate(stored)])]
    sigs_pos = [(k, i, t, dedup.fingerprint(t)) for k, i, t in positives]
    sigs_stress = [(k, i, t, dedup.fingerprint(t)) for k, i, t in stress]
    sigs_neg = [(k, t, dedup.fingerprint(t)) for k, t in negatives]
    for threshold in thresholds:
        store.near_dup_threshold = threshold
        tp = fn = fp = tn = 0
        per_kind: dict[str, list[int]] = {}
        for kind, i, text, blob in sigs_pos:
            root = store._find_duplicate(ArticleRecord(url="https://probe.example/p", source="p", text=text,
                                                       extra={"minhash": blob}))
            ok = root == ids[i]
            tp += ok
            fn += root is None
            fp += root is not None and not ok          # matched the wrong article
            per_kind.setdefault(kind, []).append(ok)
        neg_kind: dict[str, list[int]] = {}
        for kind, text, blob in sigs_neg:
            root = store._find_duplicate(ArticleRecord(url="https://probe.example/n", source="n", text=text,
                                                       extra={"minhash": blob}))
            fp += root is not None
            tn += root is None
            neg_kind.setdefault(kind, []).append(root is not None)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / len(sigs_pos)
        mark = " (default)" if threshold == dedup.NEAR_DUP_THRESHOLD else ""
        print(f"\n  threshold {threshold:.2f}{mark}: precision {precision:.3f}, recall {recall:.3f} "
              f"(TP {tp}, FN {fn}, FP {fp}, TN {tn})")
        print("    recall by edit: " + ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in per_kind.items()))
        print("    false positives by negative kind: " +
              ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in neg_kind.items()))
        found: dict[str, list[int]] = {}
        for kind, i, text, blob in sigs_stress:
            root = store._find_duplicate(ArticleRecord(url="https://probe.example/s", source="s", text=text,
                                                       extra={"minhash": blob}))
            found.setdefault(kind, []).append(root == ids[i])
        print("    stress edits (not required; share detected): " +
              ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in found.items()))
    store.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="stored fingerprint counts (ascending)")
    ap.add_argument("--probes", type=int, default=400, help="lookups timed at each size")
    ap.add_argument("--dir", default=None, help="folder for the database files (default: a temporary one)")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--thresholds", default=f"0.6,{dedup.NEAR_DUP_THRESHOLD},0.8")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    thresholds = sorted({float(t) for t in args.thresholds.split(",") if t})
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmpdir = Path(tmp)
        print(f"media-monitor dedup benchmark: NUM_PERM={dedup.NUM_PERM}, {dedup.BANDS} bands x {dedup.ROWS} rows, "
              f"{dedup.SHINGLE_SIZE}-word shingles, threshold {dedup.NEAR_DUP_THRESHOLD} "
              f"(containment >= {dedup.CONTAINMENT_THRESHOLD}, <= {dedup.MAX_ADDED_SHINGLES} added shingles); "
              f"{os.cpu_count()} CPUs")
        if not args.skip_scaling:
            print("\n1. near-duplicate lookup time vs stored fingerprints")
            t0 = time.perf_counter()
            scaling(sizes, args.probes, tmpdir)
            print(f"  ({time.perf_counter() - t0:.0f} s)")
        if not args.skip_quality:
            print("\n2. precision / recall on corpus articles with controlled edits")
            t0 = time.perf_counter()
            quality(tmpdir, thresholds)
            print(f"  ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
