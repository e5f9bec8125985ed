"""Archive backfill speed (issue 17): a local WARC of real pages through `monitor backfill`, against plain
trafilatura over the same bodies in one process, in the same run.

    python benchmarks/backfill.py [--records 2000] [--memory-records 10000] [--workers 0]

1. Builds ``backfill.warc.gz`` (gzip per record, FastWARC's writer) from ../shared/corpus pages (AEB and
   fundus), repeated with varied URLs up to ``--records`` response records (plus a request record each, as
   CC-NEWS has).
2. WARC libraries: reads the file with FastWARC and with warcio (headers only, and headers + bodies).
3. Baseline: ``trafilatura.extract(body, url=url)`` over the same bodies, one process.
4. ``monitor backfill --all-hosts`` of the file into a fresh database (the extraction pool: one worker per core):
   records/s, and the ratio to the baseline (target >= 1.5x on 2 cores).
5. Filtering: ``monitor backfill`` of the file with a sources file whose site matches no record: records read/s
   when none is kept (target >= 5,000/s).
6. Memory: peak RSS of the backfill process (and its workers) across a ``--memory-records`` file, sampled, with the
   RSS after the first and last tenth: flat means no growth with the number of records.

The machine may be shared: every figure is printed with the load average at that moment.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def corpus_pages() -> list[tuple[str, bytes]]:
    pages = []
    truth = json.loads((CORPUS / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for pid, entry in sorted(truth.items()):
        pages.append((entry["url"], gzip.decompress((CORPUS / "aeb" / "html" / f"{pid}.html.gz").read_bytes())))
    index = CORPUS / "fundus" / "index.jsonl"
    if index.is_file():
        for line in index.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            path = CORPUS / "fundus" / row["html"] if not Path(row["html"]).is_absolute() else Path(row["html"])
            if not path.is_file():
                path = CORPUS / "fundus" / "test_data" / row["html"]
            if path.is_file() and row.get("url"):
                pages.append((row["url"], gzip.decompress(path.read_bytes())))
    return pages


def build_warc(path: Path, pages, n: int) -> list[tuple[str, bytes]]:
    """``n`` response records (each with a request record before it), gzip per record, FastWARC's writer."""
    from fastwarc.stream_io import GzipWriter
    from fastwarc.warc import WarcRecord, WarcRecordType

    import io

    used = []
    with open(path, "wb") as out:
        for i in range(n):
            url, body = pages[i % len(pages)]
            url = f"{url.split('?')[0].rstrip('/')}/copy-{i // len(pages)}" if i >= len(pages) else url
            used.append((url, body))
            for kind, msgtype, block in (
                    (WarcRecordType.request, "request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                    (WarcRecordType.response, "response", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body)):
                rec = WarcRecord()
                rec.init_headers(record_type=kind, record_urn=f"uuid:{uuid.uuid4()}".encode())
                rec.headers.append("WARC-Target-URI", url)
                rec.headers["WARC-Date"] = "2024-05-01T10:00:00Z"
                rec.headers.append("Content-Type", f"application/http; msgtype={msgtype}")
                rec.set_bytes_content(block)
                buf = io.BytesIO()
                gz = GzipWriter(buf)
                rec.write(gz)
                gz.finish()
                out.write(buf.getvalue())
    return used


def read_fastwarc(path: Path, bodies: bool) -> tuple[int, float]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    t, n = time.perf_counter(), 0
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False):
            rec.headers.get("WARC-Target-URI")
            if bodies:
                rec.reader.read()
            n += 1
    return n, time.perf_counter() - t


def read_warcio(path: Path, bodies: bool) -> tuple[int, float]:
    from warcio.archiveiterator import ArchiveIterator

    t, n = time.perf_counter(), 0
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            rec.rec_headers.get_header("WARC-Target-URI")
            if bodies:
                rec.content_stream().read()
            n += 1
    return n, time.perf_counter() - t


def baseline(used) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of plain trafilatura over the bodies, in this process."""
    import trafilatura

    t, c = time.perf_counter(), time.process_time()
    for url, body in used:
        trafilatura.extract(body, url=url)
    return time.perf_counter() - t, time.process_time() - c


class TreeMonitor(threading.Thread):
    """Samples a process tree (the backfill and its extraction workers) every 0.1 s: the backfill's RSS, the
    tree's PSS, and the CPU
    seconds each process had used when last seen (a worker's last 0.1 s before it is replaced is missed)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.cpu: dict[int, float] = {}

    def run(self):
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                pss, main = 0, 0
                for p in procs:
                    with p.oneshot():
                        mem = p.memory_full_info()
                        pss += mem.pss   # shared pages (the forkserver's imports) split between the processes
                        if p.pid == self.pid:
                            main = mem.rss
                        t = p.cpu_times()
                        self.cpu[p.pid] = t.user + t.system
                self.samples.append((main, pss))
            except psutil.Error:
                pass
            time.sleep(0.1)

    def cpu_split(self) -> tuple[float, float]:
        """(CPU seconds of the backfill process, of everything below it: the extraction workers)."""
        main = self.cpu.get(self.pid, 0.0)
        return main, sum(self.cpu.values()) - main


def run_backfill(warc: Path, db: Path, *args, watch: bool = False) -> tuple[float, str, TreeMonitor | None]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "monitor", "backfill", "-q", "--db", str(db), str(warc), *args]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    mon = TreeMonitor(proc.pid) if watch else None
    if mon:
        mon.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - t
    if mon:
        mon.stop.set()
        mon.join()
    if proc.returncode != 0:
        sys.exit(f"backfill failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, out, mon


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--memory-records", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=0, help="MONITOR_EXTRACT_WORKERS (0: one per core)")
    opts = ap.parse_args()
    if not (CORPUS / "aeb" / "ground-truth.json").is_file():
        sys.exit(f"the real-page corpus is not at {CORPUS}")
    import trafilatura

    pages = corpus_pages()
    print(f"{len(pages)} corpus pages; trafilatura {trafilatura.__version__}; {os.cpu_count()} cores; {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warc = tmp / "backfill.warc.gz"
        used = build_warc(warc, pages, opts.records)
        size = warc.stat().st_size
        print(f"WARC: {opts.records} responses + {opts.records} requests, gzip per record, {size / 1e6:.1f} MB")

        print("\nWARC libraries (responses of the file, best of 3):")
        for name, fn in (("fastwarc", read_fastwarc), ("warcio", read_warcio)):
            for bodies in (False, True):
                best = min(fn(warc, bodies)[1] for _ in range(3))
                what = "headers + bodies" if bodies else "headers only"
                print(f"  {name:<8} {what:<17} {opts.records / best:>9,.0f} records/s  "
                      f"({size / best / 1e6:,.0f} MB/s compressed)  {load()}")

        base, base_cpu = baseline(used)
        print(f"\nbaseline: trafilatura.extract, one process: {len(used) / base:,.1f} pages/s "
              f"({base:.1f} s wall, {base_cpu / len(used) * 1000:.0f} ms CPU a page)  {load()}")
        workers = ["-s", f"MONITOR_EXTRACT_WORKERS={opts.workers}"]
        sources = tmp / "none.toml"
        sources.write_text('[[source]]\nname = "nobody"\nurl = "https://nobody.invalid/"\n')
        elapsed, out, mon = run_backfill(warc, tmp / "b.db", "--all-hosts", "--sources", str(sources), *workers,
                                         watch=True)
        main_cpu, workers_cpu = mon.cpu_split()
        first = out.splitlines()[0]
        print(f"backfill --all-hosts: {len(used) / elapsed:,.1f} records/s ({elapsed:.1f} s wall, process start "
              f"and pool start-up included) = {base / elapsed:.2f}x the baseline (target >= 1.5x)  {load()}")
        cpu = main_cpu + workers_cpu
        print(f"  CPU a page: {cpu / len(used) * 1000:.0f} ms ({main_cpu / len(used) * 1000:.0f} ms in the backfill "
              f"process: reading, writing, dedup, topics; {workers_cpu / len(used) * 1000:.0f} ms in the workers: "
              f"extraction, canonical URL, fingerprint) vs {base_cpu / len(used) * 1000:.0f} ms for plain "
              f"trafilatura: with 2 idle cores the wall ratio could reach {2 * base_cpu / cpu:.2f}x")
        print(f"  {first}")

        elapsed, out, _ = run_backfill(warc, tmp / "none.db", "--sources", str(sources), *workers)
        line = out.splitlines()[0]
        rate = float(line.split("(")[-1].split("/s")[0].replace(",", ""))   # responses read / s, in the run
        print(f"\nfilter only (no record kept): {rate:,.0f} responses/s = {2 * rate:,.0f} WARC records/s (with "
              f"the request records) inside the run, "
              f"{2 * opts.records / elapsed:,.0f} WARC records/s over {elapsed:.1f} s wall incl. process start "
              f"(target >= 5,000/s)  {load()}")

        big = tmp / "memory.warc.gz"
        build_warc(big, pages, opts.memory_records)
        # a sources file with the sites of ~1 page in 8: the file is read whole, ~1/8 of it extracted and stored
        from urllib.parse import urlsplit

        hosts = list(dict.fromkeys(urlsplit(u).hostname for u, _ in pages))[: max(1, len(pages) // 8)]
        some = tmp / "some.toml"
        some.write_text("".join(f'[[source]]\nname = "s{i}"\nurl = "https://{h}/"\n\n' for i, h in enumerate(hosts)))
        elapsed, out, mon = run_backfill(big, tmp / "m.db", "--sources", str(some), *workers, watch=True)
        s = mon.samples or [(0, 0)]
        tenth = max(1, len(s) // 10)
        second, last = s[tenth:2 * tenth] or s, s[-tenth:]
        print(f"memory across {opts.memory_records:,} records ({big.stat().st_size / 1e6:.0f} MB, {elapsed:.0f} s): "
              f"backfill process RSS peak {max(m for m, _ in s) / 1e6:,.0f} MB (second tenth of the run "
              f"{max(m for m, _ in second) / 1e6:,.0f} MB, last tenth {max(m for m, _ in last) / 1e6:,.0f} MB); with "
              f"its workers (PSS) peak {max(t for _, t in s) / 1e6:,.0f} MB (second tenth "
              f"{max(t for _, t in second) / 1e6:,.0f} MB, last tenth {max(t for _, t in last) / 1e6:,.0f} MB)  "
              f"{load()}")


if __name__ == "__main__":
    main()
