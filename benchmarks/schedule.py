"""What `monitor schedule` costs on top of the crawls it runs.

1. Decision cost: the Scheduler loop (due sources, adaptive intervals, source_state in SQLite) for N sources
   over T ticks with a fake clock and a runner that returns at once; printed per tick and per source.
2. Wrapping cost: wall time of `monitor crawl` against a local fixture site (the baseline), against
   `monitor schedule --every 1s --max-runs 1` doing the same crawl into a fresh database; the ratio is printed.

    python benchmarks/schedule.py [--sources 300] [--ticks 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.ops.schedule import PollPolicy, RunResult, Scheduler, Trigger  # noqa: E402
from monitor.sources.catalogue import Source  # noqa: E402
from monitor.store.db import open_writer  # noqa: E402


class _Clock:
    def __init__(self):
        self.t = 1_700_000_000.0

    def now(self):
        return self.t

    def wait_until(self, t, stop):
        self.t = max(self.t, t)


def decision_cost(n_sources: int, n_ticks: int) -> tuple[float, int]:
    everies = [None, "2h", "6h", "1d"]
    sources = [Source(name=f"s{i}", url=f"https://s{i}.example/", every=everies[i % 4]) for i in range(n_sources)]
    clock = _Clock()
    crawled = [0]

    def runner(names):
        crawled[0] += len(names)
        per = {n: {"pages_fetched": 3, "articles_new": (hash((n, clock.t)) % 3 == 0), "duplicates": 0,
                   "errors": 0, "skipped_known": 2, "finish_reason": "finished"} for n in names}
        return RunResult(returncode=0, crawl_id=1, status="finished", per_source=per)

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.db"
        open_writer(db).close()
        sched = Scheduler(trigger=Trigger(every=1800), load_sources=lambda: sources, runner=runner,
                          open_store=lambda: open_writer(db), clock=clock, log=lambda m: None,
                          policy=PollPolicy(min_interval=900), max_runs=n_ticks)
        t0 = time.perf_counter()
        sched.run()
        return time.perf_counter() - t0, crawled[0]


def wrapping_cost(repeat: int) -> tuple[list[float], list[float]]:
    from tests.support.fixtureserver import FixtureServer, Site
    from tests.support.helpers import FAST_SETTINGS, write_sources
    from tests.support.sites import build_news_site

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    settings = [*FAST_SETTINGS, "-s", "MONITOR_EXTRACT_WORKERS=1", "-q"]
    crawl_times, schedule_times = [], []
    with FixtureServer(Site()) as server, tempfile.TemporaryDirectory() as tmp:
        site = build_news_site(server.url, n_articles=6, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        src = write_sources(Path(tmp) / "s.toml", [site.source("one", declare_feeds=True)])
        for i in range(repeat):
            for kind, times in (("crawl", crawl_times), ("schedule", schedule_times)):
                db = Path(tmp) / f"{kind}{i}.db"
                args = ["crawl"] if kind == "crawl" else ["schedule", "--every", "1s", "--max-runs", "1"]
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "monitor", *args, "--sources", str(src), "--db", str(db),
                                    *settings], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
                times.append(time.perf_counter() - t0)
                if r.returncode != 0:
                    raise SystemExit(f"{kind} failed: {r.stderr[-2000:]}")
    return crawl_times, schedule_times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=int, default=300)
    ap.add_argument("--ticks", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    secs, crawled = decision_cost(args.sources, args.ticks)
    print(f"decisions: {args.sources} sources, {args.ticks} ticks with crawls, {crawled} source-crawls recorded "
          f"in {secs:.2f} s = {1000 * secs / args.ticks:.1f} ms per tick, "
          f"{1e6 * secs / max(crawled, 1):.0f} us per source-crawl")
    crawl_t, sched_t = wrapping_cost(args.repeat)
    c, s = statistics.median(crawl_t), statistics.median(sched_t)
    print(f"monitor crawl (baseline), median of {args.repeat}: {c:.2f} s  {[round(x, 2) for x in crawl_t]}")
    print(f"monitor schedule --max-runs 1, median of {args.repeat}: {s:.2f} s  {[round(x, 2) for x in sched_t]}")
    print(f"ratio schedule/crawl: {s / c:.2f} (extra {s - c:+.2f} s: one more Python start, the sources file "
          f"and the database checked by the scheduler)")


if __name__ == "__main__":
    main()
