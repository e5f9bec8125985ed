"""Throughput of 1, 2 and 4 crawler processes sharing one crawl through Redis (``monitor crawl --redis``).

A fixture site (``tests/support/distributed_site.py``: N article pages in one sitemap) answers every request after
a fixed delay (50 ms by default), so a crawl is network-bound as real crawls are; each worker keeps its own
politeness limit, as in production: ``DOWNLOAD_DELAY`` (default 0.1 s here, no jitter: at most 10
requests/s per process and site) and ``CONCURRENT_REQUESTS_PER_DOMAIN`` (2).  With ``--download-delay 0``
Scrapy 2.19 sends every queued request of a site at once (its per-domain concurrency is not held when the
delay is 0), and the run measures CPU instead.  For each process count the script
starts that many workers at once against a fresh Redis (started here on a free loopback port) and reports

- pages/s over the crawl window (first to last article request seen by the server: process start-up,
  ~3-5 s of imports, is left out) and the ratio to 1 process, measured in the same run;
- wall-clock seconds including start-up;
- how many article pages were fetched more than once (must be 0);
- CPU seconds used by the worker processes (start-up included) and how busy that kept this machine's
  cores over the wall-clock time, next to the machine-wide CPU use (/proc/stat, other programs included)
  and a CPU capacity probe (how many cores' worth 4 busy processes get right now; noisy on a shared
  machine): on a machine whose cores are already busy the ratios say more about the machine than about
  the crawler.  Extraction worker processes (``--extract real``) are not always in the CPU figure.

The ingester is not running during the measurement (it would share the CPUs); the items left in Redis are
counted to check nothing was lost.  ``--extract cheap`` (default) replaces trafilatura by a regex stand-in
(``tests.support.distributed_site.cheap_extract``, through ``tests.support.hooked_extraction``): on a real cluster each
machine brings its own CPUs for extraction, while all processes here share this machine's; ``--extract
real`` measures the whole pipeline on this machine.  Usage: ``python benchmarks/distributed.py
[--articles 400] [--delay 0.05] [--processes 1 2 4] [--concurrency 2] [--extract cheap|real]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fixtureserver import FixtureServer, Site  # noqa: E402
from tests.support.distributed_site import article_path, build_bulk_site, bulk_source  # noqa: E402
from tests.support.helpers import write_sources  # noqa: E402
from tests.support.hooked_extraction import crawl_args  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat (Linux), for machine-wide load during a run."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _spin(n: int) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t


def cpu_capacity(n: int = 3_000_000) -> float:
    """How many cores' worth of CPU 4 busy processes get here, measured now (1.0 = one idle core)."""
    from concurrent.futures import ProcessPoolExecutor

    one = _spin(n)
    with ProcessPoolExecutor(4) as pool:
        four = list(pool.map(_spin, [n] * 4))
    return round(4 * one / max(four), 2)


def run_once(k: int, *, server, redis, sources, n: int, concurrency: int, tmp: Path, extract: str,
             download_delay: float) -> dict:
    client = redis.client()
    client.flushall()
    server.clear_log()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MONITOR_REDIS_URL", None)
    settings = ["-s", f"DOWNLOAD_DELAY={download_delay}", "-s", "DOWNLOAD_DELAY_JITTER=0",
                "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "MONITOR_PROGRESS_INTERVAL=0",
                "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", "-s", "RETRY_TIMES=1",
                "-s", "MONITOR_REDIS_HEARTBEAT=0.5", "-s", "LOG_LEVEL=WARNING"]
    if extract == "cheap":   # regexes instead of trafilatura, inline (no extraction worker processes)
        settings += [*crawl_args("tests.support.distributed_site.cheap_extract"), "-s", "MONITOR_EXTRACT_WORKERS=1"]
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m0 = machine_ticks()
    procs = [subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "-q", "--sources", str(sources),
                               "--redis", redis.url, "--crawl-key", f"bench{k}", *settings,
                               "-s", f"MONITOR_REDIS_WORKER=b{k}-{i}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / f"k{k}-{i}.err", "w"))
             for i in range(k)]
    codes = [p.wait() for p in procs]
    for i in range(k):
        err = (tmp / f"k{k}-{i}.err").read_text()
        if any(c != 0 for c in codes) or "Traceback" in err or "Error" in err:
            print(f"worker {i} of {k}: exit {codes[i]}\n{err[-2000:]}", file=sys.stderr)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m1 = machine_ticks()
    machine = round((m1[0] - m0[0]) / (m1[1] - m0[1]), 2) if m0 and m1 and m1[1] > m0[1] else None
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    arts = [r for r in server.requests if r.url_path.startswith("/news/")]
    times = sorted(r.time for r in arts)
    window = times[-1] - times[0] if len(times) > 1 else float("nan")
    counts = Counter(r.url_path for r in arts)
    messages = [json.loads(m) for m in client.lrange("monitor:items", 0, -1)]
    articles = sum(1 for m in messages if m["type"] == "article")
    errors = Counter(m["error"]["reason"] for m in messages if m["type"] == "error")
    client.close()
    return {"processes": k, "exit_codes": codes, "pages": len(counts), "fetched_twice": sum(c > 1 for c in counts.values()),
            "missing": n - sum(1 for i in range(n) if counts.get(article_path(i))), "articles_pushed": articles, "errors": dict(errors),
            "window_s": round(window, 2), "pages_per_s": round(len(counts) / window, 1), "wall_s": round(wall, 1),
            "worker_cpu_s": round(cpu, 1), "cpu_busy": round(cpu / (wall * (os.cpu_count() or 1)), 2),
            "machine_busy": machine}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="throughput of N distributed crawler processes")
    ap.add_argument("--articles", type=int, default=400)
    ap.add_argument("--delay", type=float, default=0.05, help="server delay per request, seconds")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--concurrency", type=int, default=2, help="CONCURRENT_REQUESTS_PER_DOMAIN per process")
    ap.add_argument("--download-delay", type=float, default=0.1,
                    help="DOWNLOAD_DELAY per process (politeness; 0 = none: then Scrapy 2.19 does not hold "
                         "CONCURRENT_REQUESTS_PER_DOMAIN either, see docs/scaling.md)")
    ap.add_argument("--extract", choices=["cheap", "real"], default="cheap",
                    help="cheap: regex stand-in for trafilatura (measures fetching and sharing: on a real "
                         "cluster every machine brings its own CPUs); real: trafilatura on this machine's CPUs")
    args = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPU(s); {args.articles} articles, server answers after {args.delay * 1000:.0f} ms; "
          f"per process DOWNLOAD_DELAY {args.download_delay} s, CONCURRENT_REQUESTS_PER_DOMAIN {args.concurrency}; "
          f"extraction: {args.extract}", flush=True)
    capacity_before = cpu_capacity()
    results = []
    with tempfile.TemporaryDirectory() as tmpdir, RedisServer(Path(tmpdir) / "redis") as redis, \
            FixtureServer(Site()) as server:
        tmp = Path(tmpdir)
        server.site.update(build_bulk_site(server.url, args.articles, delay=args.delay))
        sources = write_sources(tmp / "sources.toml", [bulk_source(server.url)])
        for k in args.processes:
            res = run_once(k, server=server, redis=redis, sources=sources, n=args.articles,
                           concurrency=args.concurrency, tmp=tmp, extract=args.extract,
                           download_delay=args.download_delay)
            results.append(res)
            print(json.dumps(res), flush=True)
    base = next((r for r in results if r["processes"] == 1), results[0])
    print(f"\n{'processes':>9} {'pages/s':>8} {'ratio':>6} {'window s':>9} {'wall s':>7} {'CPU s':>6} "
          f"{'ours':>5} {'machine':>8} {'twice':>6} {'missing':>8}")
    for r in results:
        mb = f"{r['machine_busy']:.0%}" if r["machine_busy"] is not None else "?"
        print(f"{r['processes']:>9} {r['pages_per_s']:>8} {r['pages_per_s'] / base['pages_per_s']:>6.2f} "
              f"{r['window_s']:>9} {r['wall_s']:>7} {r['worker_cpu_s']:>6} {r['cpu_busy']:>5.0%} {mb:>8} "
              f"{r['fetched_twice']:>6} {r['missing']:>8}")
    print(f"CPU capacity probe (4 busy processes, in cores' worth): before {capacity_before}, after {cpu_capacity()}")
    print("ours = CPU of the worker processes / (wall x cores); machine = all CPU use on the machine (/proc/stat),"
          " other programs included")
    if args.download_delay > 0:
        print(f"\nceiling per process: {1 / args.download_delay:.0f} pages/s (one request per DOWNLOAD_DELAY)")
    else:
        print(f"\nceiling per process if {args.concurrency} requests were in flight: "
              f"{args.concurrency / args.delay:.0f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
