"""`monitor sources check` speed: N fixture sites checked one at a time (the baseline) and N at a time.

    python benchmarks/sourcecheck.py                      # 29 sites (the catalogue's size), 80 ms latency
    python benchmarks/sourcecheck.py --sites 10 --latency 0.2 --concurrency 4

Each site is one of the test fixture shapes (tests/support/sourcecheck_sites.py: WordPress-like, Google News sitemap
only, links only), served on 127.0.0.1 with ``--latency`` seconds added before every answer to stand in for
a remote site's round trip.  Both runs happen here, on this machine, so the printed ratio compares like
with like; the absolute figures depend on the machine and the latency chosen.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.fixtureserver import FixtureServer, Site  # noqa: E402
from monitor.sources.check import check_sources  # noqa: E402
from monitor.sources.catalogue import source_from_dict  # noqa: E402
from tests.support.sourcecheck_sites import gnews_site, links_site, wordpress_site  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=29)
    ap.add_argument("--latency", type=float, default=0.08, help="seconds added to every response")
    ap.add_argument("--concurrency", type=int, default=6)
    args = ap.parse_args()

    shapes = [wordpress_site, gnews_site, links_site]
    servers, sources = [], []
    for i in range(args.sites):
        server = FixtureServer(Site()).start()
        resources, entry = shapes[i % len(shapes)](server.url, name=f"site{i}")
        server.site.update({p: dataclasses.replace(r, delay=args.latency) for p, r in resources.items()})
        servers.append(server)
        sources.append(source_from_dict(entry))
    try:
        check_sources(sources[:1], concurrency=1)  # warm up imports and trafilatura outside the timings
        figures = {}
        for label, conc in (("serial (baseline)", 1), (f"concurrency={args.concurrency}", args.concurrency)):
            for s in servers:
                s.clear_log()
            t0 = time.perf_counter()
            summary = check_sources(sources, concurrency=conc)
            elapsed = time.perf_counter() - t0
            requests = sum(len(s.requests) for s in servers)
            healthy = sum(not r.broken for r in summary.reports)
            figures[label] = elapsed
            print(f"{label:22s} {elapsed:7.2f} s  {elapsed / len(sources):6.3f} s/source  "
                  f"{requests} requests  {healthy}/{len(sources)} healthy")
        base, fast = figures.values()
        print(f"speed-up: {base / fast:.2f}x  ({args.sites} sites, {args.latency * 1000:.0f} ms latency per request)")
    finally:
        for s in servers:
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
