"""Start-up time of ``monitor`` commands against ``python -c pass`` measured in the same run, and which heavy
modules each command imports.

    python benchmarks/startup.py            # 15 rounds
    python benchmarks/startup.py --rounds 40

Commands are run as ``python -m monitor ...`` (what the ``monitor`` script does), round-robin so a
machine whose load changes biases them alike; the figures are medians and minimums of wall time.
``monitor search`` runs a real query on a small database made here (200 articles).  The heavy-module
check runs each command once with ``python -X importtime`` and lists which of Scrapy, Twisted,
trafilatura, lxml, numpy, sqlite_utils, feedparser and datasette it imported: ``--help`` and ``search``
should import none but what they need (issue #6: no Scrapy, no trafilatura).
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

HEAVY = ("scrapy", "twisted", "trafilatura", "lxml", "numpy", "sqlite_utils", "feedparser", "datasette", "click")


def make_db(path: Path) -> None:
    from monitor.store.db import open_writer
    from monitor.store.records import ArticleRecord

    words = "kazakhstan astana united states washington wheat uranium pipeline election court river".split()
    with open_writer(path) as st:
        st.write_batch([ArticleRecord(url=f"https://example.org/{i}", source="example", title=f"Story {i}",
                                      text=" ".join(words[(i + k) % len(words)] for k in range(300)) + f" n{i}")
                        for i in range(200)])


def imported(cmd: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    tops = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
            if line.startswith("import time:")}
    return [m for m in HEAVY if m in tops]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="monitor-startup-"))
    db = tmp / "s.db"
    make_db(db)
    commands = {
        "python -c pass": ["-c", "pass"],
        "monitor --help": ["-m", "monitor", "--help"],
        "monitor search --help": ["-m", "monitor", "search", "--help"],
        "monitor search QUERY (200 articles)": ["-m", "monitor", "search", "kazakhstan", "--db", str(db)],
        "monitor crawl --help": ["-m", "monitor", "crawl", "--help"],
        "python -c 'import scrapy, trafilatura'": ["-c", "import scrapy, trafilatura"],
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times: dict[str, list[float]] = {k: [] for k in commands}
    for name, cmd in commands.items():     # warm the OS file cache and .pyc files
        subprocess.run([sys.executable, *cmd], capture_output=True, cwd=REPO, env=env)
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            t = time.perf_counter()
            r = subprocess.run([sys.executable, *cmd], capture_output=True, cwd=REPO, env=env)
            times[name].append(time.perf_counter() - t)
            if r.returncode != 0:
                print(f"{name} failed: {r.stderr.decode()[-500:]}", file=sys.stderr)
                return 1
    base = statistics.median(times["python -c pass"])
    print(f"start-up, {args.rounds} rounds, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'command':40} {'median ms':>9} {'min ms':>7} {'x python':>9}   heavy modules imported")
    for name, cmd in commands.items():
        med = statistics.median(times[name])
        mods = imported(cmd)
        print(f"{name:40} {med * 1000:>9.0f} {min(times[name]) * 1000:>7.0f} {med / base:>9.1f}   "
              f"{', '.join(mods) or '-'}")
    help_ms = statistics.median(times["monitor --help"]) * 1000
    print(f"\nmonitor --help takes {help_ms:.0f} ms, {help_ms - base * 1000:.0f} ms more than python -c pass "
          f"(x{help_ms / (base * 1000):.1f})")
    for p in tmp.glob("*"):
        p.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
