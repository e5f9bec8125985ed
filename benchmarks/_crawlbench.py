"""Shared pieces of the crawl benchmarks (``crawl_throughput.py``, ``memory.py``): page sets, a local site
that serves them through a sitemap with no delay, and a ``monitor crawl`` subprocess watched with psutil
(CPU seconds and memory of the crawl process and all its children, the extraction workers included).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.fixtureserver import XML, FixtureServer, Resource, Site  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"

# politeness off: the site is local and answers at once; the crawl goes as fast as it can process pages
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "CONCURRENT_REQUESTS=32",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "MONITOR_PROGRESS_INTERVAL=0", "-s", "RETRY_TIMES=1",
        "-s", "DOWNLOAD_TIMEOUT=60"]


def corpus_available() -> bool:
    return (CORPUS / "aeb" / "html").is_dir() and (CORPUS / "fundus" / "index.jsonl").is_file()


def corpus_pages() -> list[tuple[bytes, str]]:
    """(raw HTML bytes, original URL) of the AEB and fundus pages of ../shared/corpus (439 pages)."""
    pages = []
    truth = json.loads((CORPUS / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id, entry in sorted(truth.items()):
        path = CORPUS / "aeb" / "html" / f"{page_id}.html.gz"
        if path.is_file():
            pages.append((gzip.decompress(path.read_bytes()), entry["url"]))
    for line in (CORPUS / "fundus" / "index.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        path = CORPUS / "fundus" / entry["html"]
        if path.is_file():
            pages.append((gzip.decompress(path.read_bytes()), entry["url"]))
    return pages


_P = re.compile(rb"<p(\s[^>]*)?>", re.I)


def make_unique(html: bytes, i: int) -> bytes:
    """A copy of a page whose text differs from the other copies (a number in its first paragraph), so
    copies are near duplicates, not exact ones, as syndicated or updated stories are."""
    m = _P.search(html)
    if not m:
        return html
    return html[:m.end()] + f"Ref {i}. ".encode() + html[m.end():]


_WORDS = ("river steppe council budget harvest railway school museum festival grain pipeline wind farm minister "
          "parliament village bridge winter airport freight cotton tariff court election doctor hospital teacher "
          "library orchestra mountain lake border caravan market ferry port bakery uranium wheat oil gas solar "
          "trade visit treaty summit embassy delegation talks water canal drought reform court journalist").split()


def synthetic_page(i: int) -> bytes:
    """A small, distinct article page (~6 KB, ~500 words) that extracts in a few milliseconds."""
    rnd = random.Random(i)
    title = f"Report {i}: {' '.join(rnd.choice(_WORDS) for _ in range(6))}"
    paras = "".join("<p>" + " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(60, 110))).capitalize()
                    + f" ({i}-{k}).</p>" for k in range(6))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:type' content='article'><meta property='og:title' content='{title}'>"
            f"<meta property='article:published_time' content='2026-10-{1 + i % 28:02d}T08:00:00+00:00'></head>"
            f"<body><header><nav><a href='/'>Home</a> <a href='/about/'>About</a></nav></header>"
            f"<main><article><h1>{title}</h1>{paras}</article></main>"
            f"<footer>Copyright 2026 Bench News. All rights reserved.</footer></body></html>").encode()


def build_site(bodies: list[bytes]) -> Site:
    """A site serving ``bodies`` at /news/<i>/ through robots.txt -> sitemap index -> 5,000-URL sitemaps."""
    site = Site()
    site["/"] = Resource(b"<html><body><h1>Bench News</h1></body></html>")
    for i, body in enumerate(bodies):
        site[f"/news/{i}/"] = Resource(body)
    return site


def add_sitemaps(site: Site, base: str, n: int, per_file: int = 5000) -> str:
    files = []
    for k, start in enumerate(range(0, n, per_file)):
        urls = "".join(f"<url><loc>{base}/news/{i}/</loc></url>" for i in range(start, min(n, start + per_file)))
        site[f"/sitemap-{k}.xml"] = Resource(
            ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             + urls + "</urlset>").encode(), content_type=XML)
        files.append(f"{base}/sitemap-{k}.xml")
    site["/sitemap.xml"] = Resource(
        ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         + "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in files) + "</sitemapindex>").encode(), content_type=XML)
    site["/robots.txt"] = Resource(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode(),
                                   content_type="text/plain")
    return f"{base}/sitemap.xml"


def write_sources(path: Path, base: str, sitemap: str) -> Path:
    path.write_text(f'[[source]]\nname = "bench"\nurl = "{base}/"\nlanguage = "en"\nsitemaps = ["{sitemap}"]\n',
                    encoding="utf-8")
    return path


# --------------------------------------------------------------------------- machine load

def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat (Linux); (0, 0) elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- the crawl subprocess

@dataclass
class CrawlRun:
    returncode: int
    wall: float
    stdout: str
    stderr: str
    cpu: float = 0.0                     # CPU seconds of the crawl process tree (workers included)
    cpu_main: float = 0.0                # ... of the crawl process itself (Scrapy, dedup, SQLite writer)
    peak_main_rss: int = 0               # bytes
    peak_tree_rss: int = 0               # bytes, sum over the tree (shared pages counted once per process)
    peak_tree_pss: int = 0               # bytes, proportional set size sum (shared pages split): the real total
    peak_processes: int = 0
    machine_busy: float = 0.0            # share of all cores busy during the run (all programs)
    samples: list = field(default_factory=list)   # (seconds, main rss, tree pss)


def run_crawl(sources: Path, db: Path, settings: list[str], *, poll: float = 0.5, pss: bool = True,
              timeout: float = 7200) -> CrawlRun:
    """``python -m monitor crawl`` in a subprocess, its process tree polled with psutil."""
    import psutil

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "monitor", "crawl", "--sources", str(sources), "--db", str(db), "-q", *settings]
    out_f = tempfile.TemporaryFile("w+")
    err_f = tempfile.TemporaryFile("w+")
    busy0, total0 = cpu_jiffies()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out_f, stderr=err_f, text=True)
    run = CrawlRun(0, 0.0, "", "")
    cpu_seen: dict[int, float] = {}
    try:
        main = psutil.Process(proc.pid)
        last_pss = 0.0
        while proc.poll() is None:
            if time.perf_counter() - start > timeout:
                proc.kill()
                break
            try:
                tree = [main, *main.children(recursive=True)]
            except psutil.Error:
                break
            rss_sum = pss_sum = 0
            main_rss = 0
            alive = 0
            for p in tree:
                try:
                    t = p.cpu_times()
                    cpu_seen[p.pid] = t.user + t.system   # last value seen (a process's final <poll s are lost)
                    mem = p.memory_info()
                    rss_sum += mem.rss
                    if p.pid == main.pid:
                        main_rss = mem.rss
                    alive += 1
                except psutil.Error:
                    continue
            now = time.perf_counter() - start
            if pss and now - last_pss >= 2 * poll:
                last_pss = now
                for p in tree:
                    try:
                        pss_sum += p.memory_full_info().pss
                    except (psutil.Error, AttributeError):
                        pass
                run.peak_tree_pss = max(run.peak_tree_pss, pss_sum)
            run.peak_main_rss = max(run.peak_main_rss, main_rss)
            run.peak_tree_rss = max(run.peak_tree_rss, rss_sum)
            run.peak_processes = max(run.peak_processes, alive)
            run.samples.append((round(now, 1), main_rss, pss_sum or None))
            time.sleep(poll)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run.wall = time.perf_counter() - start
    busy1, total1 = cpu_jiffies()
    run.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    run.returncode = proc.returncode
    run.cpu = sum(cpu_seen.values())
    run.cpu_main = cpu_seen.get(proc.pid, 0.0)
    out_f.seek(0)
    err_f.seek(0)
    run.stdout, run.stderr = out_f.read(), err_f.read()
    return run


def crawl_counts(db: Path) -> dict:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        articles = conn.execute("SELECT count(*), count(duplicate_of) FROM articles").fetchone()
        errors = dict(conn.execute("SELECT reason, count(*) FROM fetch_errors GROUP BY reason").fetchall())
    finally:
        conn.close()
    return {"articles": articles[0], "duplicates": articles[1], "errors": errors}
