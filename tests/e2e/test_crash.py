"""Crashes, signals and concurrent runs (issue #5), each with a real `monitor crawl` subprocess.

- SIGKILL mid-run, then a re-run: nothing committed is lost, nothing is stored twice, the file passes
  ``PRAGMA integrity_check``, the killed run's ``crawls`` row says ``interrupted``, and the final set of
  stored URLs equals that of an uninterrupted crawl of a copy of the site.
- SIGINT (Ctrl-C: the whole process group) and SIGTERM: graceful stop, the pending batch committed, the
  summary printed, ``crawls.status = 'stopped'``, exit 130 after Ctrl-C (0 after SIGTERM).
- A second crawl on the same database while one runs: refused (exit 2, one line); readers (`monitor search`,
  plain sqlite3) work meanwhile.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.fixtureserver import FixtureServer, Site
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, run_monitor, write_sources
from tests.support.sites.hostile import build_many_site

pytestmark = pytest.mark.slow


def start_crawl(sources: Path, db: Path, *extra: str) -> subprocess.Popen:
    """`monitor crawl` in its own session (process group), output captured."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--sources", str(sources), "--db", str(db),
                             *FAST_SETTINGS, *extra], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def read_only_count(db: Path, sql: str = "SELECT count(*) FROM articles") -> int:
    """A reader's view of the database while a crawl writes it (0 if not there yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def wait_until(predicate, popen: subprocess.Popen, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if popen.poll() is not None:
            out, err = popen.communicate()
            pytest.fail(f"the crawl ended (exit {popen.returncode}) before {what}: {out[-1500:]} {err[-1500:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def session_processes(sid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == sid:
                out.append(p)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return out


def kill_session(sid: int) -> None:
    """SIGKILL whatever is left of a crawl session we started (its pgid is the crawl's pid)."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def paths(db: Path, base: str) -> list[str]:
    return sorted(r["url"].replace(base, "") for r in rows(db, "SELECT url FROM articles"))


def test_sigkill_mid_run_then_rerun_equals_uninterrupted(tmp_path):
    n = 150
    with FixtureServer(Site()) as killed_srv, FixtureServer(Site()) as ref_srv:
        killed_site = build_many_site(killed_srv.url, n, delay=0.05, key="crash")
        ref_site = build_many_site(ref_srv.url, n, delay=0.05, key="crash")   # a copy: same paths and texts
        killed_srv.site.update(killed_site.resources)
        ref_srv.site.update(ref_site.resources)
        killed_src = write_sources(tmp_path / "k.toml", [killed_site.source("crashsite")])
        ref_src = write_sources(tmp_path / "r.toml", [ref_site.source("crashsite")])
        db, ref_db = tmp_path / "killed.db", tmp_path / "ref.db"
        small_batches = ["-s", "MONITOR_BATCH_SIZE=5", "-s", "MONITOR_BATCH_SECONDS=0.5",
                         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]

        ref = start_crawl(ref_src, ref_db, *small_batches)          # the uninterrupted run, meanwhile
        victim = start_crawl(killed_src, db, *small_batches)
        try:
            wait_until(lambda: read_only_count(db) >= 10, victim, what="10 articles were committed")
            os.kill(victim.pid, signal.SIGKILL)                     # kill -9 of the crawl process only
            victim.wait(30)
            committed = set(paths(db, killed_srv.url))
            assert 10 <= len(committed) < n, "the kill did not land mid-run"
            # the extraction workers and the forkserver notice and exit on their own
            deadline = time.monotonic() + 30
            while session_processes(victim.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            left = session_processes(victim.pid)
            assert not left, f"processes left behind by the killed crawl: {[p.pid for p in left]}"
        finally:
            kill_session(victim.pid)
        assert rows(db, "SELECT status FROM crawls") == [{"status": "running"}]   # as the kill left it
        assert integrity(db) == "ok"

        rerun = run_monitor("crawl", "--sources", killed_src, "--db", db, *FAST_SETTINGS, *small_batches)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        out, err = ref.communicate(timeout=240)
        assert ref.returncode == 0, err[-3000:]

    assert integrity(db) == "ok"
    final = paths(db, killed_srv.url)
    assert len(final) == len(set(final)), "an article stored twice"
    assert committed <= set(final), "articles committed before the kill were lost"
    assert final == paths(ref_db, ref_srv.url), "the re-run does not end where an uninterrupted run ends"
    assert len(final) == n
    assert rows(db, "SELECT count(*) AS n FROM articles WHERE duplicate_of IS NOT NULL") == [{"n": 0}]
    crawls = rows(db, "SELECT id, status, skipped_known, articles_new FROM crawls ORDER BY id")
    assert [c["status"] for c in crawls] == ["interrupted", "finished"]
    assert crawls[1]["skipped_known"] >= len(committed)          # the re-run did not fetch them again
    assert crawls[1]["articles_new"] == n - len(committed)
    # every article's URL variant rows point at a stored article (no half-written batch)
    orphans = rows(db, "SELECT count(*) AS n FROM article_urls WHERE article_id NOT IN (SELECT id FROM articles)")
    assert orphans == [{"n": 0}]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_gracefully_and_commits_pending_batch(tmp_path, sig):
    n = 120
    with FixtureServer(Site()) as srv:
        site = build_many_site(srv.url, n, delay=0.3, key=f"stop-{sig.name}")
        srv.site.update(site.resources)
        sources = write_sources(tmp_path / "s.toml", [site.source("stopsite")])
        db = tmp_path / "m.db"
        # nothing is committed before the stop: everything stored comes from the batch flushed on shutdown
        proc = start_crawl(sources, db, "-s", "MONITOR_BATCH_SIZE=100000", "-s", "MONITOR_BATCH_SECONDS=100000",
                           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
        try:
            articles = lambda: sum(1 for r in srv.requests if r.url_path.startswith("/news/"))  # noqa: E731
            wait_until(lambda: articles() >= 8, proc, what="8 articles were downloaded")
            time.sleep(1.0)   # let their extraction finish: they sit in the pending batch
            assert read_only_count(db) == 0
            if sig == signal.SIGINT:
                os.killpg(proc.pid, signal.SIGINT)    # Ctrl-C in a terminal: the whole foreground group
            else:
                proc.send_signal(signal.SIGTERM)      # a service manager stopping the crawl
            out, err = proc.communicate(timeout=120)
        finally:
            kill_session(proc.pid)
        asked = articles()
    assert proc.returncode == (130 if sig == signal.SIGINT else 0), err[-3000:]   # Ctrl-C: 130, like a shell
    assert "Traceback" not in err, err[-3000:]
    assert "Crawl 1 stopped" in out and "stopsite" in out          # the summary is printed
    assert "stopping: finishing" in err                            # one line says what happens
    crawl = rows(db, "SELECT status, articles_new, finished_at FROM crawls")[0]
    assert crawl["status"] == "stopped" and crawl["finished_at"]
    stored = read_only_count(db)
    assert 8 <= stored < n and crawl["articles_new"] == stored     # the pending batch was committed
    assert stored <= asked
    assert integrity(db) == "ok"


def _datasette_count(port: int, db: Path, serve: subprocess.Popen, timeout: float = 90) -> int:
    """Articles counted through `monitor serve` (Datasette) once it answers."""
    import json
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{port}/{db.stem}.json?sql=select+count(*)+as+n+from+articles&_shape=array"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            pytest.fail(f"monitor serve exited {serve.returncode}: {serve.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return json.loads(resp.read())[0]["n"]
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    pytest.fail("monitor serve did not answer")


def test_second_crawl_refused_while_readers_work(tmp_path):
    import importlib.util
    import socket

    with FixtureServer(Site()) as srv:
        site = build_many_site(srv.url, 300, delay=0.3, key="concurrent")   # ~45 s unless stopped
        srv.site.update(site.resources)
        sources = write_sources(tmp_path / "s.toml", [site.source("busysite")])
        db = tmp_path / "m.db"
        proc = start_crawl(sources, db, "-s", "MONITOR_BATCH_SIZE=2", "-s", "MONITOR_BATCH_SECONDS=0.5",
                           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
        serve = None
        try:
            wait_until(lambda: read_only_count(db) >= 2, proc, what="2 articles were committed")
            if importlib.util.find_spec("datasette") is not None:   # Datasette reads too (starts meanwhile)
                with socket.socket() as s:
                    s.bind(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                serve = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--db", str(db), "--port",
                                          str(port)], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            second = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS, timeout=120)
            # readers during the crawl: the CLI, Datasette and plain sqlite3
            search = run_monitor("search", "story", "--db", db, "--format", "json", timeout=120)
            served = _datasette_count(port, db, serve) if serve is not None else None
            count = read_only_count(db)
            assert proc.poll() is None, "the first crawl ended too early for this test"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        finally:
            kill_session(proc.pid)
            if serve is not None:
                serve.kill()
                serve.wait()
    assert second.returncode == 2, second.stderr[-2000:]
    lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is still running on this database" in lines[0] and "Traceback" not in second.stderr
    assert rows(db, "SELECT count(*) AS n FROM crawls") == [{"n": 1}]   # the refused run left no row
    assert search.returncode == 0, search.stderr[-2000:]
    assert '"title": "Story concurrent-' in search.stdout          # it saw the articles committed so far
    assert count >= 2 and (served is None or served >= 2)
    assert proc.returncode == 0, (out[-2000:], err[-3000:])
    assert rows(db, "SELECT status FROM crawls") == [{"status": "stopped"}]


# --------------------------------------------------------------------------- disk full

def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and sys.platform.startswith("linux")


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB file system (tmpfs): SQLite gets ENOSPC -> SQLITE_FULL like on a full disk."""
    if not _can_mount():
        pytest.skip("mounting a small tmpfs needs root on Linux")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_clear_error_exit_1_no_corruption(tmp_path, small_disk):
    n = 90   # 1 MiB holds about 50 of these articles (text, FTS index, fingerprints, WAL)
    with FixtureServer(Site()) as srv:
        site = build_many_site(srv.url, n, delay=0, key="diskfull")
        srv.site.update(site.resources)
        sources = write_sources(tmp_path / "s.toml", [site.source("fullsite")])
        db = small_disk / "m.db"
        full = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS, "-s", "MONITOR_BATCH_SIZE=10")
        assert full.returncode == 1, full.stderr[-3000:]
        assert "Traceback" not in full.stderr, full.stderr[-3000:]
        assert "crawl failed:" in full.stdout and "the disk is full" in full.stdout
        assert "Crawl 1 failed" in full.stdout and "storage_error" in full.stdout
        assert integrity(db) == "ok"
        stored = read_only_count(db)
        assert 0 < stored < n
        # more room (an administrator frees space): the next crawl finishes the job
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        again = run_monitor("crawl", "--sources", sources, "--db", db, *FAST_SETTINGS)
        assert again.returncode == 0, again.stderr[-3000:]
    assert integrity(db) == "ok"
    assert read_only_count(db) == n
    statuses = [r["status"] for r in rows(db, "SELECT status FROM crawls ORDER BY id")]
    assert statuses[-1] == "finished" and statuses[0] in ("failed", "interrupted")


def test_disk_full_at_start_exit_1(tmp_path):
    """No room even for the schema: exit 1 (the machine's problem, not the user's input), one clear line."""
    if not _can_mount():
        pytest.skip("mounting a small tmpfs needs root on Linux")
    from click.testing import CliRunner

    from monitor.cli import cli

    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        sources = write_sources(tmp_path / "s.toml", [{"name": "x", "url": "http://127.0.0.1:9/"}])
        result = CliRunner().invoke(cli, ["crawl", "--sources", str(sources), "--db", str(mnt / "m.db")])
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "the disk is full" in errors[0] and "m.db" in errors[0]
