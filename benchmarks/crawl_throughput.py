"""Crawl throughput: a full ``monitor crawl`` of N real pages served locally with no delay, against plain
``trafilatura.extract()`` over the same pages in one process, measured in the same run.

    python benchmarks/crawl_throughput.py                 # 2,000 pages (about 10-15 min on 2 busy cores)
    python benchmarks/crawl_throughput.py --pages 500     # quicker
    python benchmarks/crawl_throughput.py --inline        # also crawl with MONITOR_EXTRACT_WORKERS=1
    python benchmarks/crawl_throughput.py -s MONITOR_EXTRACT_QUEUE=8   # a setting for the crawl

Pages: the 439 AEB + fundus pages of ../shared/corpus (mean ~265 KB, 41 countries), repeated up to N, each
copy with a number added to its first paragraph (copies are near duplicates, as syndicated stories are).
They are served by ``tests.support.fixtureserver`` through robots.txt -> sitemap index -> sitemaps, and the
crawl is the real thing: discovery, download, extraction in the worker pool (trafilatura + metadata +
language + MinHash), canonical URLs, dedup, topics and SQLite storage, politeness off (DOWNLOAD_DELAY=0,
no AutoThrottle, 32 concurrent requests).  Crawl pages/s = pages / wall time of the whole command
(start-up and the pool's ~4 s warm-up included).

Baselines in the same run, on the same page bytes, in this process (one core):
- ``trafilatura.extract(html, url=url)`` (defaults), half of the pages before the crawl and half after,
  so a machine whose load changes during the run biases both alike;
- ``monitor.extract.extract_article`` + ``dedup.fingerprint`` on a sample (``--sample``): what the
  crawl does per page, serially (what ``MONITOR_EXTRACT_WORKERS=1`` would be without any crawl overhead).
Target (issue 16): the crawl at >= 1.3 x the plain-extraction rate on 2 cores (2 cores x plain = 2.0 x).
Exits 0 without measuring when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _crawlbench as cb  # noqa: E402


def plain_rate(pages: list[tuple[bytes, str]]) -> tuple[float, float, int]:
    """(wall s, CPU s, pages) of plain trafilatura.extract over pages."""
    import trafilatura

    t, c = time.perf_counter(), time.process_time()
    for body, url in pages:
        trafilatura.extract(body, url=url)
    return time.perf_counter() - t, time.process_time() - c, len(pages)


def monitor_rate(pages: list[tuple[bytes, str]]) -> tuple[float, float]:
    """(pages/s, CPU s per page) of extract_article + fingerprint, serially."""
    from monitor.dedup.fingerprints import fingerprint
    from monitor.extract import Article, extract_article

    t, c = time.perf_counter(), time.process_time()
    for body, url in pages:
        result = extract_article(body, url, content_type="text/html")
        if isinstance(result, Article):
            fingerprint(result.text)
    return len(pages) / (time.perf_counter() - t), (time.process_time() - c) / len(pages)


def crawl(n: int, bodies: list[bytes], workers: int | None, tmp: Path, label: str, extra=()):
    with cb.FixtureServer(cb.build_site(bodies)) as server:
        sitemap = cb.add_sitemaps(server.site, server.url, n)
        sources = cb.write_sources(tmp / "sources.toml", server.url, sitemap)
        db = tmp / f"{label}.db"
        settings = list(cb.FAST)
        if workers:
            settings += ["-s", f"MONITOR_EXTRACT_WORKERS={workers}"]
        settings += list(extra)
        run = cb.run_crawl(sources, db, settings, pss=False)
        article_requests = sum(1 for r in server.requests if r.path.startswith("/news/"))
    if run.returncode != 0:
        print(run.stdout[-2000:], run.stderr[-3000:], sep="\n")
        raise SystemExit(f"crawl ({label}) failed with exit code {run.returncode}")
    return run, cb.crawl_counts(db), article_requests


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000, help="pages to crawl (default 2000)")
    ap.add_argument("--workers", type=int, default=0, help="MONITOR_EXTRACT_WORKERS (default: the setting's, one per core)")
    ap.add_argument("--sample", type=int, default=100, help="pages for the serial extract_article baseline (default 100)")
    ap.add_argument("--inline", action="store_true", help="also crawl with MONITOR_EXTRACT_WORKERS=1")
    ap.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the crawl (as `monitor crawl -s`), e.g. -s MONITOR_EXTRACT_QUEUE=8; repeatable")
    ap.add_argument("--ceiling", action="store_true",
                    help="also crawl with a near-free extraction (tests.support.extract_hooks.cheap): the crawl process's "
                         "own ceiling (download, dedup, SQLite) without trafilatura")
    args = ap.parse_args(argv)
    if not cb.corpus_available():
        print(f"corpus not found at {cb.CORPUS}: nothing to measure (it lives in ../shared/corpus beside the repo)")
        return 0
    logging.disable(logging.WARNING)
    originals = cb.corpus_pages()
    n = args.pages
    bodies = [cb.make_unique(originals[i % len(originals)][0], i) if i >= len(originals) else originals[i][0]
              for i in range(n)]
    pages = [(bodies[i], originals[i % len(originals)][1]) for i in range(n)]
    tmp = Path(tempfile.mkdtemp(prefix="monitor-crawl-bench-"))
    print(f"crawl throughput: {n} pages ({len(originals)} distinct corpus pages, mean "
          f"{sum(len(b) for b in bodies) / n / 1024:.0f} KB), {cb.cores()} cores, "
          f"{'settings ' + ' '.join(args.set) + ', ' if args.set else ''}load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    try:
        plain_rate(pages[:3])    # imports and trafilatura's first-call set-up, not timed
        half = n // 2
        s1, c1, n1 = plain_rate(pages[:half])
        print(f"  plain trafilatura.extract, first half: {n1 / s1:.2f} pages/s", flush=True)
        run, counts, fetched = crawl(n, bodies, args.workers, tmp, "pool", [x for kv in args.set for x in ("-s", kv)])
        print(f"  monitor crawl: {run.wall:.1f} s, {n / run.wall:.2f} pages/s, CPU {run.cpu:.0f} s "
              f"({run.cpu / run.wall:.2f} cores busy), machine {run.machine_busy:.0%} busy, "
              f"peak {run.peak_processes} processes", flush=True)
        s2, c2, n2 = plain_rate(pages[half:])
        print(f"  plain trafilatura.extract, second half: {n2 / s2:.2f} pages/s", flush=True)
        plain = (n1 + n2) / (s1 + s2)
        plain_cpu = (c1 + c2) / (n1 + n2)
        serial, serial_cpu = monitor_rate(pages[:: max(1, n // args.sample)][: args.sample])   # spread over the set
        inline = None
        if args.inline:
            inline = crawl(n, bodies, 1, tmp, "inline")
            print(f"  monitor crawl, MONITOR_EXTRACT_WORKERS=1: {inline[0].wall:.1f} s, "
                  f"{n / inline[0].wall:.2f} pages/s", flush=True)
        ceiling = None
        if args.ceiling:
            from tests.support.hooked_extraction import crawl_args

            ceiling = crawl(n, bodies, args.workers, tmp, "ceiling", crawl_args("tests.support.extract_hooks.cheap"))
            print(f"  monitor crawl, near-free extraction: {ceiling[0].wall:.1f} s, {n / ceiling[0].wall:.2f} pages/s",
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    crawl_rate = n / run.wall
    crawl_cpu = run.cpu / n
    print()
    print(f"pages requested {fetched}/{n}; stored {counts['articles']} articles ({counts['duplicates']} marked "
          f"duplicates of earlier copies), errors {counts['errors'] or 'none'}")
    print(f"{'':44} {'pages/s':>8} {'x plain':>8} {'CPU ms/page':>12}")
    print(f"{'plain trafilatura.extract(), 1 process':44} {plain:>8.2f} {1:>8.2f} {plain_cpu * 1000:>12.0f}")
    print(f"{'extract_article + fingerprint, 1 process':44} {serial:>8.2f} {serial / plain:>8.2f} "
          f"{serial_cpu * 1000:>12.0f}   (sample of {args.sample})")
    if inline:
        print(f"{'monitor crawl, MONITOR_EXTRACT_WORKERS=1':44} {n / inline[0].wall:>8.2f} "
              f"{n / inline[0].wall / plain:>8.2f} {inline[0].cpu / n * 1000:>12.0f}")
    if ceiling:
        print(f"{'monitor crawl, near-free extraction (ceiling)':44} {n / ceiling[0].wall:>8.2f} "
              f"{n / ceiling[0].wall / plain:>8.2f} {ceiling[0].cpu / n * 1000:>12.0f}"
              f"   (crawl process {ceiling[0].cpu_main / n * 1000:.0f})")
    print(f"{'monitor crawl (worker pool)':44} {crawl_rate:>8.2f} {crawl_rate / plain:>8.2f} {crawl_cpu * 1000:>12.0f}"
          f"   (crawl process {run.cpu_main / n * 1000:.0f}, workers {(run.cpu - run.cpu_main) / n * 1000:.0f})")
    print(f"CPU-bound projection for an otherwise idle {cb.cores()}-core machine: crawl {cb.cores() / crawl_cpu:.2f} "
          f"pages/s vs plain {1 / plain_cpu:.2f} pages/s = {cb.cores() * plain_cpu / crawl_cpu:.2f} x "
          f"(CPU per page measured above; assumes the cores are shared perfectly)")
    print(f"\ncrawl / plain extraction = {crawl_rate / plain:.2f} (target >= 1.3 on 2 cores, issue 16); "
          f"crawl / serial extract_article = {crawl_rate / serial:.2f} (the pool's speed-up over one process "
          f"doing the same work); {cb.cores()} cores, crawl kept {run.cpu / run.wall:.2f} of them busy, "
          f"machine {run.machine_busy:.0%} busy during the crawl (other programs included); load average at the end "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
