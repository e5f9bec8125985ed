"""Storage benchmark: bulk insert of synthetic articles through ``Writer.write_batch`` (FTS triggers,
URL variants, exact and near-duplicate checks, fingerprints + LSH buckets, story links, topic tags),
then full-text search latency, at growing sizes of one database.

    python benchmarks/storage.py                            # 10k, 100k, 1M through write_batch (the issue 16 figures)
    python benchmarks/storage.py --sizes 10000,100000       # quicker
    python benchmarks/storage.py --batch 50 --sizes 20000   # the crawl's transaction size (MONITOR_BATCH_SIZE)
    python benchmarks/storage.py --fill-above 100000        # opt-in shortcut: bulk INSERTs (no dedup/topics) above 100k

Articles: Zipf-distributed pseudo-words (100k vocabulary), lengths log-normal around 550 words (title ~9,
description ~25 words), 30 sources, published at a random minute of three years, 1 extra URL variant each; 6 % name Kazakhstan, 6 % the United States
(so the bundled topics tag some).  The content hash, the MinHash (random values: unrelated texts) and
its band keys come precomputed as extraction workers send them (``monitor.crawl.extractpool.add_writer_keys``,
counted in "gen s", not in the write rate).  Inserting is timed per segment (0 -> 10k -> 100k -> 1M);
the rate is articles per second of ``write_batch`` wall time (text generation excluded).

Search: at each size, 100 queries of four selectivities (rare words, ~0.1-1 % words, common words, phrases)
through ``monitor.query.reads.search(db, q, limit=50)`` (what ``monitor search --limit 50`` runs: bm25 rank,
duplicate folding, snippets), each on a fresh read-only connection like the CLI; p50/p95 per class.
Targets (issue 16): write_batch >= 1,000 articles/s from 0 to 1M, the rate at 1M within 0.8 x the rate at 10k;
search p95 <= 100 ms at 1M for ~1 % queries ("selective") and <= 300 ms for ~36 % queries ("common"); bytes
per article not above the figure before (9,389 at 100k).  The load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.crawl.extractpool import add_writer_keys  # noqa: E402
from monitor.dedup import fingerprints as dedup  # noqa: E402
from monitor.store.db import open_writer  # noqa: E402
from monitor.store.records import ArticleRecord  # noqa: E402

VOCAB_SIZE = 100_000
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
SOURCES = [f"source-{i:02d}" for i in range(30)]
TOPIC_WORDS = {"kz": ["Kazakhstan", "Astana", "Almaty", "Tokayev"], "us": ["United States", "Washington", "American"]}


# --------------------------------------------------------------------------- synthetic articles

def vocabulary(size: int = VOCAB_SIZE) -> np.ndarray:
    """Pronounceable pseudo-words, unique, shortest first (frequent words are short, as in real text)."""
    rng = np.random.default_rng(11)
    onsets = ["", "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "st", "pr", "tr", "kr", "sh"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    codas = ["", "", "n", "r", "s", "l", "m", "t", "k"]
    words, seen = [], set()
    n_syll = 1
    while len(words) < size:
        for _ in range(size * 3):
            w = "".join(onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))]
                        + codas[rng.integers(len(codas))] for _ in range(n_syll))
            if w not in seen and len(w) > 1:
                seen.add(w)
                words.append(w)
                if len(words) >= size or len(words) >= 2000 * n_syll ** 3:
                    break
        n_syll += 1
    return np.array(words[:size], dtype=object)


class Generator:
    def __init__(self, seed: int = 1):
        self.rng = np.random.default_rng(seed)
        self.vocab = vocabulary()
        ranks = np.arange(1, VOCAB_SIZE + 1)
        p = 1.0 / ranks ** 1.07
        self.cdf = np.cumsum(p / p.sum())

    def words(self, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), VOCAB_SIZE - 1)

    def text(self, n_words: int) -> str:
        idx = self.words(n_words)
        w = self.vocab[idx].tolist()
        paras, i = [], 0
        while i < len(w):
            k = int(self.rng.integers(40, 90))
            para = w[i:i + k]
            para[0] = para[0].capitalize()
            paras.append(" ".join(para) + ".")
            i += k
        return "\n".join(paras)

    def batch(self, start: int, n: int) -> list[ArticleRecord]:
        """n articles as extraction workers send them: content hash, signature and band keys in ``extra``."""
        lengths = np.clip(self.rng.lognormal(np.log(550), 0.55, n), 60, 6000).astype(int)
        marks = self.rng.random((n, 2))
        sigs = self.rng.integers(0, 2**32, size=(n, dedup.NUM_PERM), dtype=np.uint64).astype(np.uint32)
        minutes = self.rng.integers(0, 3 * 365 * 24 * 60, n)   # publication minute over three years
        out = []
        for j in range(n):
            i = start + j
            text = self.text(int(lengths[j]))
            extra_words = []
            if marks[j, 0] < 0.06:
                extra_words.append(TOPIC_WORDS["kz"][i % 4])
            if marks[j, 1] < 0.06:
                extra_words.append(TOPIC_WORDS["us"][i % 3])
            if extra_words:
                text = f"{text}\nThe report mentions {' and '.join(extra_words)} {self.text(12)}"
            title = self.text(int(self.rng.integers(5, 13))).replace("\n", " ").rstrip(".")
            src = SOURCES[i % len(SOURCES)]
            day = 1 + i % 28
            url = f"https://{src}.example/2026/{1 + (i // 28) % 12:02d}/{day:02d}/story-{i}"
            out.append(ArticleRecord(
                url=url, source=src, text=text, title=title, author=f"Author {i % 997}",
                published=(EPOCH + timedelta(minutes=int(minutes[j]))).isoformat(),
                language="en", word_count=int(lengths[j]), description=self.text(25).replace("\n", " "),
                image=f"https://{src}.example/img/{i}.jpg", variants=[url + "?utm_source=rss"], extra={}))
            add_writer_keys(out[-1], sig=dedup.Signature(sigs[j], int(lengths[j])))
        return out


# --------------------------------------------------------------------------- search

def search_function():
    """monitor.query.reads.search when it exists, else the equivalent FTS5 query."""
    try:
        from monitor.query.reads import search

        return "monitor.query.reads.search(db, q, limit=50)", lambda db, q: search(db, q, limit=50)
    except ImportError:
        import sqlite3

        def direct(db, q):
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                return conn.execute(
                    "SELECT a.id, a.title, snippet(articles_fts, -1, '**', '**', '…', 24) FROM articles_fts "
                    "JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ? ORDER BY rank LIMIT 50",
                    [q]).fetchall()
            finally:
                conn.close()

        return "FTS5 MATCH ... ORDER BY rank LIMIT 50 (monitor.query.reads not found)", direct


def queries(gen: Generator, seed: int = 5) -> list[tuple[str, str]]:
    """100 queries: 30 rare words, 30 selective, 20 common, 20 phrases/boolean."""
    rng = np.random.default_rng(seed)
    v = gen.vocab
    out = [("rare", v[r]) for r in rng.integers(20_000, 60_000, 30)]
    out += [("selective", v[r]) for r in rng.integers(1_500, 6_000, 30)]
    out += [("common", v[r]) for r in rng.integers(20, 300, 20)]
    for k in range(20):
        if k % 2:
            out.append(("phrase/bool", f'"{v[rng.integers(30, 300)]} {v[rng.integers(30, 300)]}"'))
        else:
            out.append(("phrase/bool", f"{v[rng.integers(500, 3000)]} {v[rng.integers(500, 3000)]}"))
    return [(c, str(q)) for c, q in out]


def measure_search(db: Path, qs, fn) -> dict:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    counts = {q: conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [q]).fetchone()[0]
              for _, q in qs}
    conn.close()
    for _, q in qs[:5]:                     # warm the page cache a little, as any second search would
        fn(db, q)
    times: dict[str, list[float]] = {}
    for cls, q in qs:
        t = time.perf_counter()
        fn(db, q)
        times.setdefault(cls, []).append((time.perf_counter() - t) * 1000)
    return {"times": times, "counts": counts}


def bare_fts_rate(gen: Generator, n: int, batch: int, folder: Path) -> float:
    """Baseline in the same run: the same kind of texts into a bare FTS5 table (same tokenizer), docs/s."""
    import sqlite3

    from monitor.store.schema import FTS_TOKENIZE

    path = folder / "bare-fts.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(title, text, tokenize='{FTS_TOKENIZE}')")
    spent = 0.0
    for start in range(0, n, batch):
        recs = gen.batch(10_000_000 + start, min(batch, n - start))
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO f (title, text) VALUES (?, ?)", [(r.title, r.text) for r in recs])
        conn.execute("COMMIT")
        spent += time.perf_counter() - t
    conn.close()
    for p in folder.glob("bare-fts.db*"):
        p.unlink()
    return n / spent


def bulk_fill(storage, recs) -> None:
    """Articles rows only (the FTS trigger indexes them): no URL variants, dedup, fingerprints or topics."""
    with storage.db.atomic():
        storage.db.conn.executemany(
            "INSERT INTO articles (url, source, title, author, published, language, text, word_count, "
            "fetched_at, description, image) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(r.url, r.source, r.title, r.author, r.published, r.language, r.text, r.word_count, r.fetched_at,
              r.description, r.image) for r in recs])


def _time_statements(storage) -> dict:
    """Wrap the writer's execute/executemany to add up wall time per SQL statement."""
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}

    def wrap(fn):
        def timed(sql, *params):
            t = time.perf_counter()
            try:
                return fn(sql, *params)
            finally:
                key = " ".join(sql.split())[:90]
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - t
                calls[key] = calls.get(key, 0) + 1
        return timed

    storage.db.execute = wrap(storage.db.execute)
    conn_wrapper = wrap(storage.db.conn.executemany)

    class Conn:                      # sqlite3.Connection attributes are read-only: proxy it
        def __init__(self, conn):
            self._conn = conn

        def executemany(self, sql, seq):
            return conn_wrapper(sql, seq)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    storage.db.conn = Conn(storage.db.conn)
    return {"spent": spent, "calls": calls}


def pct(values, p) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated article counts (cumulative)")
    ap.add_argument("--batch", type=int, default=500, help="articles per write_batch transaction (default 500)")
    ap.add_argument("--db", default=None, help="database file (default: a temporary file, deleted at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the database file")
    ap.add_argument("--baseline", type=int, default=5000, help="articles for the bare-FTS5 baseline (default 5000)")
    ap.add_argument("--fill-above", type=int, default=0, metavar="N",
                    help="beyond N articles, bulk-load (plain INSERTs, FTS triggers, no dedup/topics: marked *) "
                         "to reach the sizes for the search figures sooner; 0 = write_batch all the way")
    ap.add_argument("--breakdown", action="store_true",
                    help="time each SQL statement of the last 2,000 articles and print where the time goes")
    args = ap.parse_args(argv)
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    if args.fill_above and args.fill_above < sizes[0]:
        ap.error("--fill-above must be at least the first size")

    try:   # as `monitor` does at start-up, before any connection (search ranks a large file in threads)
        from monitor.store.db import run_connections_in_parallel

        run_connections_in_parallel()
    except ImportError:
        pass
    tmpdir = None
    if args.db:
        db = Path(args.db)
    else:
        tmpdir = tempfile.mkdtemp(prefix="monitor-storage-bench-", dir=os.environ.get("BENCH_TMP"))
        db = Path(tmpdir) / "bench.db"
    if db.exists():
        print(f"{db} exists: pass a new file name", file=sys.stderr)
        return 2
    from monitor.topics import load_topics

    gen = Generator()
    fts_rate = bare_fts_rate(Generator(seed=99), args.baseline, args.batch, db.parent)
    storage = open_writer(db)
    storage.set_topics(load_topics(None))
    storage.crawl_id = storage.start_crawl(SOURCES)
    name, fn = search_function()
    qs = queries(gen)
    print(f"storage benchmark: {db}, batch {args.batch}, topics {len(storage.topics)}, cpus {os.cpu_count()}, "
          f"load average at the start {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    try:
        from monitor.query.ranking import PARALLEL_MIN_HITS, search_threads

        threads = f", ranking queries of ~{PARALLEL_MIN_HITS:,}+ hits in {search_threads()} thread(s)"
    except ImportError:
        threads = ""
    print(f"search through {name}{threads}")
    print(f"baseline: the same kind of texts into a bare FTS5 table, {args.batch} a transaction: "
          f"{fts_rate:,.0f} articles/s")
    print(f"{'articles':>9} {'segment art/s':>14} {'overall art/s':>14} {'gen s':>7} {'DB MB':>8} {'bytes/art':>9}"
          "   search p50/p95 ms: rare | selective | common | phrase/bool")
    done, write_s, gen_s, status = 0, 0.0, 0.0, {}
    fill_s, written = 0.0, 0
    timed: dict = {}
    results = []
    for size in sizes:
        seg_start, seg_write = done, 0.0
        while done < size:
            n = min(args.batch, size - done)
            if args.breakdown and size == sizes[-1] and size - done <= 2000 and not timed:
                timed.update(_time_statements(storage))
            filling = args.fill_above and done >= args.fill_above
            if filling:
                n = min(5000, size - done)
            t = time.perf_counter()
            recs = gen.batch(done, n)
            t1 = time.perf_counter()
            if filling:
                bulk_fill(storage, recs)
                status["bulk-filled"] = status.get("bulk-filled", 0) + n
            else:
                for r in storage.write_batch(recs):
                    status[r.status] = status.get(r.status, 0) + 1
            t2 = time.perf_counter()
            gen_s += t1 - t
            seg_write += t2 - t1
            done += n
        filled = bool(args.fill_above and done > args.fill_above)
        if filled:
            fill_s += seg_write
        else:
            write_s += seg_write
            written = done
        storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mb = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6
        s = measure_search(db, qs, fn)
        by = s["times"]
        cells = " | ".join(f"{pct(by[c], 50):5.1f}/{pct(by[c], 95):6.1f}" for c in ("rare", "selective", "common",
                                                                                   "phrase/bool"))
        seg_rate = (done - seg_start) / seg_write
        if timed:
            timed["rate"] = seg_rate
        seg_cell = f"{seg_rate:,.0f}" + ("*" if filled else " ")
        print(f"{done:>9,} {seg_cell:>14} {written / write_s:>14,.0f} {gen_s:>7.0f} {mb:>8,.0f} "
              f"{mb * 1e6 / done:>9,.0f}   {cells}", flush=True)
        hits = {c: statistics.median(s["counts"][q] for cc, q in qs if cc == c) for c in by}
        results.append((done, seg_rate, written / write_s, mb, by, hits, filled))
    tags = storage.tagged_topics()
    storage.close()

    print()
    print("median hits per query class at each size: " + "; ".join(
        f"{n:,}: " + ", ".join(f"{c} {h[c]:,.0f} ({h[c] / n:.2%})" for c in h) for n, *_, h, _f in results))
    print(f"write_batch results: {status}; topic tags: {tags}")
    if timed:
        spent, calls, n_art = timed["spent"], timed["calls"], min(2000, sizes[-1])
        print(f"\nwhere write_batch spends its time over the last {n_art:,} articles (SQL statements, ms per article):")
        for sql, sec in sorted(spent.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {sec / n_art * 1000:7.3f}  x{calls[sql] / n_art:<5.1f} {sql}")
        total = 1000 / timed["rate"] if timed.get("rate") else 0.0
        print(f"  {sum(spent.values()) / n_art * 1000:7.3f}  all statements, of {total:.3f} ms per article in "
              f"write_batch (the rest is Python: content hash, LSH band keys, records)")
    last = results[-1]
    all_ms = [t for c, ts in last[4].items() for t in ts]
    sel_ms = last[4]["rare"] + last[4]["selective"]
    if last[6]:
        print(f"\n* bulk fill above {args.fill_above:,} articles (plain INSERTs with the FTS trigger, 5,000 a transaction; "
              f"no dedup, fingerprints or topics): {(done - written) / fill_s:,.0f} articles/s")
    wb = [r for r in results if not r[6]][-1]
    print(f"\nat {last[0]:,} articles: write_batch insert {last[2]:,.0f} articles/s overall up to {written:,} "
          f"({wb[1]:,.0f}/s in its last segment; target >= 1,000), DB {last[3]:,.0f} MB; search p50 {pct(all_ms, 50):.1f} ms, p95 {pct(all_ms, 95):.1f} ms "
          f"over 100 queries; selective queries (<= ~1 % of articles) p95 {pct(sel_ms, 95):.1f} ms (target <= 100 ms)")
    first = results[0]
    print(f"write_batch runs at {last[2] / fts_rate:.2f} x the bare FTS5 insert rate ({fts_rate:,.0f}/s) of this run")
    print(f"ratios against the {first[0]:,}-article step of this run: write_batch rate x{wb[1] / first[1]:.2f} "
          f"(at {wb[0]:,}), "
          f"selective search p95 x{pct(sel_ms, 95) / pct(first[4]['rare'] + first[4]['selective'], 95):.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if tmpdir and not args.keep:
        for p in Path(tmpdir).glob("*"):
            p.unlink()
        os.rmdir(tmpdir)
    elif args.keep or args.db:
        print(f"database kept: {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
