"""Peak memory of a large crawl: ``monitor crawl`` of N pages (default 20,000) served locally with no delay,
its process tree polled with psutil every 0.5 s.

    python benchmarks/memory.py                    # 20,000 pages (about 10-20 min on 2 busy cores)
    python benchmarks/memory.py --pages 5000       # quicker
    python benchmarks/memory.py --pages 2000,20000 # two sizes: does the peak grow with N?
    python benchmarks/memory.py -s MONITOR_LSH_MEMORY=30000   # a setting for the crawl

Pages: small distinct synthetic articles (~6 KB, fast to extract, so the crawl is long in pages, not in
time), with every 20th page (``--corpus-every``) a real ../shared/corpus page (mean ~265 KB; trafilatura's
memory on big pages counts too).  Same pipeline as a real crawl (worker pool, dedup, topics, SQLite).

Figures: peak RSS of the crawl process (Scrapy, scheduler queue, dedup state, SQLite writer); peak PSS of
the whole tree (crawl process + forkserver + extraction workers; PSS splits pages shared copy-on-write
between the forked workers, so it is the memory the crawl really takes; RSS summed over the tree counts
shared pages once per process and is printed too); the crawl process's RSS at each quarter of the run
(flat = not growing with N).  Baseline in the same run: RSS of a bare ``python -c`` that imports Scrapy and
trafilatura.  Target (issue 16): whole tree <= 400 MB PSS at 20,000 pages, <= 450 MB at 100,000, flat after
warm-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _crawlbench as cb  # noqa: E402

MB = 1024 * 1024


def baseline_rss() -> int:
    """RSS of a process that only imports what the crawl process imports (Scrapy, Twisted, trafilatura)."""
    code = ("import resource, scrapy, scrapy.crawler, twisted.internet.asyncioreactor, trafilatura, sqlite_utils, numpy;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) * 1024


def one(n: int, corpus, every: int, tmp: Path, extra: tuple = ()) -> None:
    bodies = []
    for i in range(n):
        if corpus and every and i % every == every - 1:
            bodies.append(cb.make_unique(corpus[(i // every) % len(corpus)][0], i))
        else:
            bodies.append(cb.synthetic_page(i))
    with cb.FixtureServer(cb.build_site(bodies)) as server:
        sitemap = cb.add_sitemaps(server.site, server.url, n)
        sources = cb.write_sources(tmp / "sources.toml", server.url, sitemap)
        db = tmp / f"mem-{n}.db"
        run = cb.run_crawl(sources, db, [*cb.FAST, *extra], pss=True)
    if run.returncode != 0:
        print(run.stdout[-2000:], run.stderr[-3000:], sep="\n")
        raise SystemExit(f"crawl failed with exit code {run.returncode}")
    counts = cb.crawl_counts(db)
    quarters, tree_quarters = [], []
    for q in (0.25, 0.5, 0.75, 1.0):
        upto = [s[1] for s in run.samples if s[0] <= q * run.wall]
        quarters.append(max(upto) / MB if upto else 0)
        tree = [s[2] for s in run.samples if s[0] <= q * run.wall and s[2]]
        tree_quarters.append(max(tree) / MB if tree else 0)
    print(f"{n:>7,} {run.wall:>7.0f} {n / run.wall:>7.1f} {run.peak_main_rss / MB:>10.0f} "
          f"{run.peak_tree_pss / MB:>10.0f} {run.peak_tree_rss / MB:>10.0f} {run.peak_processes:>5}   "
          + " / ".join(f"{x:.0f}" for x in quarters)
          + "   tree PSS " + " / ".join(f"{x:.0f}" for x in tree_quarters)
          + f"   stored {counts['articles']:,}, errors {sum(counts['errors'].values())}, "
            f"load {os.getloadavg()[0]:.1f}", flush=True)
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", default="20000", help="pages to crawl; several comma-separated sizes allowed")
    ap.add_argument("--corpus-every", type=int, default=20, help="every Nth page is a real corpus page (0: none)")
    ap.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the crawl (as `monitor crawl -s`), e.g. -s MONITOR_LSH_MEMORY=30000; repeatable")
    args = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.pages.split(",")]
    corpus = cb.corpus_pages() if cb.corpus_available() and args.corpus_every else []
    base = baseline_rss()
    print(f"memory benchmark: {cb.cores()} cores, {'settings ' + ' '.join(args.set) + ', ' if args.set else ''}load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"corpus pages {'every ' + str(args.corpus_every) + 'th' if corpus else 'not used (corpus absent)'}")
    print(f"baseline: a python process importing scrapy + trafilatura + numpy: {base / MB:.0f} MB RSS")
    print(f"{'pages':>7} {'wall s':>7} {'pages/s':>7} {'main RSS':>10} {'tree PSS':>10} {'tree RSS':>10} {'procs':>5}"
          "   peak MB up to 1/4 / 1/2 / 3/4 / end of the run: main RSS, tree PSS")
    tmp = Path(tempfile.mkdtemp(prefix="monitor-mem-bench-"))
    runs = []
    try:
        for n in sizes:
            runs.append((n, one(n, corpus, args.corpus_every, tmp, tuple(x for kv in args.set for x in ("-s", kv)))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n, run = runs[-1]
    print(f"\npeak at {n:,} pages: crawl process {run.peak_main_rss / MB:.0f} MB RSS "
          f"({run.peak_main_rss / base:.1f} x the import-only baseline), whole tree {run.peak_tree_pss / MB:.0f} MB PSS "
          f"(target, issue 16: <= 400 MB at 20,000 pages, <= 450 MB at 100,000); load average at the end "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if len(runs) > 1:
        n0, r0 = runs[0]
        print(f"growth from {n0:,} to {n:,} pages (x{n / n0:.0f}): crawl process RSS x{run.peak_main_rss / r0.peak_main_rss:.2f}, "
              f"tree PSS x{run.peak_tree_pss / max(r0.peak_tree_pss, 1):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
