"""Honest crawl outcomes and Ctrl-C (issue 12).

- A source whose every request failed is ``failed`` with one human reason; a crawl in which every source
  failed is ``failed`` and exits 1 with one headline; no traceback reaches the terminal for network errors
  (default verbosity and -q); ``monitor health`` then flags those sources after that one crawl.
- Some sources failed: the crawl finishes (exit 0) and names them.
- Ctrl-C once: one line, stopped within a few seconds, status ``stopped``, exit 130, the pending batch
  committed; twice: at once, and still committed.
- The progress line is not repeated when nothing changed.

Unit tests first (fast), then real `monitor crawl` subprocesses against fixture servers (slow).
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.crawl.run import CrawlSummary
from monitor.outcomes import crawl_headline, describe_source_failure, source_status
from tests.support.fixtureserver import FixtureServer, Site, slow
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, run_monitor, write_sources
from tests.support.helpers import free_port as _free_port
from tests.support.sites.hostile import build_many_site


# --------------------------------------------------------------------------- per-source status and reasons

def _stats(*, reason="finished", responses=None, errors=None, exceptions=0):
    st = {"finish_reason": reason}
    for code, n in (responses or {}).items():
        st[f"downloader/response_status_count/{code}"] = n
    if responses:
        st["downloader/response_count"] = sum(responses.values())
    for r, n in (errors or {}).items():
        st[f"monitor/errors/{r}"] = n
    if errors:
        st["monitor/errors"] = sum(errors.values())
    if exceptions:
        st["downloader/exception_count"] = exceptions
    return st


def test_source_status():
    assert source_status(_stats(responses={200: 3})) == "finished"
    assert source_status(_stats(responses={404: 1, 200: 1}, errors={"not_found": 1})) == "finished"
    assert source_status(_stats(responses={304: 2})) == "finished"                 # nothing new, but it answered
    assert source_status(_stats(errors={"dns_error": 2}, exceptions=4)) == "failed"   # nothing answered
    assert source_status(_stats(responses={403: 3}, errors={"forbidden": 2})) == "failed"   # only refusals
    assert source_status(_stats()) == "finished"                                   # nothing asked, nothing failed
    assert source_status(_stats(reason="shutdown", errors={"dns_error": 1})) == "stopped"
    assert source_status(_stats(reason="start_error")) == "failed"
    assert source_status({}) == "interrupted"


def test_failure_reason_names_what_happened():
    dns = [("dns_error", "http://a.invalid/robots.txt"), ("dns_error", "http://a.invalid/feed.xml")]
    assert describe_source_failure(dns) == "DNS lookup failed for a.invalid"
    three = [("dns_error", f"http://h{i}.invalid/") for i in range(3)]
    assert describe_source_failure(three) == "DNS lookup failed for 3 hosts"
    assert describe_source_failure([("connection_refused", "http://127.0.0.1:9/x")]) == \
        "connection refused by 127.0.0.1:9"
    assert describe_source_failure([("timeout", "https://slow.example/")]).startswith("timed out")
    mixed = [("forbidden", "https://x.example/a"), ("forbidden", "https://x.example/b"),
             ("timeout", "https://x.example/c")]
    assert describe_source_failure(mixed) == ("forbidden (HTTP 403) for 2 pages; timed out (no answer from "
                                              "x.example within DOWNLOAD_TIMEOUT)")
    # no rows (e.g. not written): the spider's counters
    assert describe_source_failure([], _stats(errors={"connection_refused": 2})) == "connection refused"
    assert describe_source_failure([], _stats(responses={503: 2})) == "every answer was an HTTP error (503)"


def test_headline_and_exit_codes(tmp_path):
    down = {"pages_fetched": 0, "status": "failed", "failure": "DNS lookup failed for a.invalid"}
    refused = {"pages_fetched": 0, "status": "failed", "failure": "connection refused by 127.0.0.1:9"}
    ok = {"pages_fetched": 5, "status": "finished"}
    blocked = {"pages_fetched": 3, "status": "failed", "failure": "forbidden (HTTP 403) for 3 pages"}
    assert crawl_headline({"a": down, "b": refused}) == "no source could be reached: is the network up?"
    assert crawl_headline({"a": down, "b": dict(down)}) == \
        "no source could be reached (every DNS lookup failed): is the network up?"
    assert crawl_headline({"a": down}) == "the source a could not be reached: DNS lookup failed for a.invalid"
    assert crawl_headline({"a": down, "b": blocked}) == "all 2 sources failed (reasons above)"
    assert crawl_headline({"a": down, "b": ok}) is None and crawl_headline({}) is None

    summary = CrawlSummary(crawl_id=4, db_path=tmp_path / "m.db", per_source={
        "a": {**down, "finish_reason": "finished", "errors": 2}, "b": {**ok, "finish_reason": "finished"}})
    text = summary.render()
    assert "a failed: DNS lookup failed for a.invalid" in text and "b failed" not in text
    assert summary.exit_code == 0
    summary.status = "failed"
    assert summary.exit_code == 1
    summary.status, summary.stop_signal = "stopped", signal.SIGINT
    assert summary.exit_code == 130
    summary.stop_signal = signal.SIGTERM   # a service manager's stop is a normal end
    assert summary.exit_code == 0


# --------------------------------------------------------------------------- the terminal log

def _record(msg, exc=None, name="scrapy.downloadermiddlewares.robotstxt", level=logging.ERROR):
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, level, __file__, 1, msg, None, exc_info)


def _raised(exc, cause=None):
    try:
        if cause is not None:
            raise exc from cause
        raise exc
    except BaseException as e:  # noqa: BLE001
        return e


def test_terminal_filter_drops_network_errors_only():
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
    from twisted.internet.error import DNSLookupError

    from monitor.crawl.terminal import TerminalFilter, is_network_error

    dns = _raised(CannotResolveHostError("DNS lookup failed"), DNSLookupError("no results"))
    assert is_network_error(dns) and is_network_error(DownloadTimeoutError("took longer"))
    assert is_network_error(_raised(RuntimeError("wrapped"), ConnectionRefusedError(111, "refused")))
    assert not is_network_error(_raised(KeyError("title"))) and not is_network_error(None)
    keep = TerminalFilter().filter
    assert not keep(_record("Error downloading <GET http://a.invalid/>", dns))
    assert not keep(_record("Gave up retrying <GET http://a.invalid/>", name="scrapy.downloadermiddlewares.retry"))
    twisted_text = ("Unhandled error in Deferred:\nTraceback (most recent call last):\n  File \"x\", line 1\n"
                    "twisted.internet.error.ConnectionRefusedError: Connection was refused")
    assert not keep(_record(twisted_text, name="twisted"))
    assert keep(_record("Spider error processing <GET http://a/>", _raised(KeyError("title")),
                        name="scrapy.core.scraper"))
    assert keep(_record("a warning", level=logging.WARNING, name="monitor.crawl.pipelines"))


def test_terminal_formatter_one_line_and_the_record_stays_whole():
    from monitor.crawl.terminal import OneLineFormatter

    rec = _record("Spider error processing %s", _raised(KeyError("title")), name="scrapy.core.scraper")
    rec.args = ("<GET http://a/>",)
    line = OneLineFormatter("%(levelname)s: %(message)s", hint="traceback in crawl.log").format(rec)
    assert line == "ERROR: Spider error processing <GET http://a/> (KeyError: 'title'; traceback in crawl.log)"
    assert "\n" not in line and rec.exc_info is not None          # the log file's handler still gets it all
    assert "Traceback" in logging.Formatter().format(rec)
    text = _record("Unhandled error in Deferred:\nTraceback (most recent call last):\n  File \"x\"\n"
                   "builtins.ValueError: bad", name="twisted")
    assert OneLineFormatter("%(message)s").format(text) == "Unhandled error in Deferred: (builtins.ValueError: bad)"


# --------------------------------------------------------------------------- progress lines

class _FakeStats:
    def __init__(self):
        self.values = {}

    def get_stats(self):
        return dict(self.values)


class _FakeCrawler:
    def __init__(self):
        from scrapy.settings import Settings

        self.settings = Settings({"MONITOR_PROGRESS_INTERVAL": 10.0})
        self.stats = _FakeStats()


def test_progress_line_only_when_something_changed(caplog):
    from monitor.crawl.extensions import CrawlProgress

    crawler = _FakeCrawler()
    ext = CrawlProgress(crawler)
    spider = type("S", (), {"name": "site"})()
    with caplog.at_level(logging.INFO, logger="monitor.progress"):
        ext.report(spider)                                  # first line: 0 of everything
        crawler.stats.values["downloader/response_count"] = 3
        ext.report(spider)
        ext.report(spider)                                  # a stuck page: same counts, no line
        ext.report(spider)
        crawler.stats.values["monitor/new"] = 1
        ext.report(spider)
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.progress"]
    assert lines == ["site: 0 pages fetched, 0 new, 0 duplicates, 0 already known, 0 errors",
                     "site: 3 pages fetched, 0 new, 0 duplicates, 0 already known, 0 errors",
                     "site: 3 pages fetched, 1 new, 0 duplicates, 0 already known, 0 errors"]


# --------------------------------------------------------------------------- health after one complete failure

def test_health_flags_a_complete_failure_after_one_crawl():
    import json
    from datetime import datetime, timedelta, timezone

    from monitor.ops.health import HealthRules, assess, runs_by_source

    ok = {"pages_fetched": 5, "articles_new": 2, "errors": 0, "skipped_known": 0, "finish_reason": "finished",
          "status": "finished"}
    down = {"pages_fetched": 0, "articles_new": 0, "errors": 2, "skipped_known": 0, "finish_reason": "finished",
            "status": "failed", "failure": "DNS lookup failed for a.invalid"}
    partial = {**ok, "articles_new": 0, "errors": 4, "pages_fetched": 3}   # answered, but only errors
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    crawls = [{"a": ok, "b": ok}, {"a": down, "b": partial}]
    rows_ = [{"id": i + 1, "started_at": (t0 + timedelta(hours=i)).isoformat(), "finished_at": None,
              "status": "finished", "sources": json.dumps(sorted(c)), "summary": json.dumps(c)}
             for i, c in enumerate(crawls)]
    by_source = runs_by_source(rows_)
    rules = HealthRules()
    a, b = assess("a", by_source["a"], rules), assess("b", by_source["b"], rules)
    assert a["status"] == "failing" and not a["healthy"]
    assert a["problems"] == ["failing: nothing could be fetched in its last crawl (2): DNS lookup failed for a.invalid"]
    assert b["healthy"] and b["consecutive_failures"] == 1       # a partial failure still needs 3 in a row


# --------------------------------------------------------------------------- real crawls (subprocess)

QUICK = [*FAST_SETTINGS, "-s", "MONITOR_RETRY_BACKOFF=0"]


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_unreachable_sources_fail_the_crawl_without_tracebacks(tmp_path, quiet):
    port = _free_port()
    sources = write_sources(tmp_path / "s.toml", [
        {"name": "refused", "url": f"http://127.0.0.1:{port}/"},
        {"name": "nosuch", "url": "http://nosuch.invalid/", "feeds": ["http://nosuch.invalid/feed.xml"]},
        {"name": "nosuch-www", "url": "http://www.nosuch.invalid/", "sections": ["http://www.nosuch.invalid/news/"]},
    ])
    db, log = tmp_path / "m.db", tmp_path / "crawl.log"
    result = run_monitor("crawl", "--sources", sources, "--db", db, *QUICK, *(["-q"] if quiet else []),
                         "--log-file", log, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    err_lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(err_lines) <= (0 if quiet else 4), result.stderr
    out = result.stdout
    assert "crawl failed: no source could be reached: is the network up?" in out
    assert f"refused failed: connection refused by 127.0.0.1:{port}" in out
    assert "nosuch failed: DNS lookup failed for nosuch.invalid" in out
    assert "nosuch-www failed: DNS lookup failed for www.nosuch.invalid" in out
    # the full story is in the log file
    assert "Traceback" in log.read_text(encoding="utf-8")
    import json

    crawl = rows(db, "SELECT status, summary FROM crawls")[0]
    assert crawl["status"] == "failed"
    per_source = json.loads(crawl["summary"])
    assert {n: c["status"] for n, c in per_source.items()} == {"refused": "failed", "nosuch": "failed",
                                                                "nosuch-www": "failed"}
    assert per_source["nosuch"]["failure"] == "DNS lookup failed for nosuch.invalid"
    health = run_monitor("health", "--db", db, timeout=60)
    assert health.returncode == 1, health.stdout + health.stderr
    assert "0 of 3 sources healthy" in health.stdout
    assert f"refused: failing: nothing could be fetched in its last crawl (1): connection refused by 127.0.0.1:{port}" \
        in health.stdout
    assert "nosuch: failing: nothing could be fetched in its last crawl (1): DNS lookup failed for nosuch.invalid" \
        in health.stdout


@pytest.mark.slow
def test_without_log_file_the_terminal_stays_short(tmp_path):
    sources = write_sources(tmp_path / "s.toml", [
        {"name": "refused", "url": f"http://127.0.0.1:{_free_port()}/"},
        {"name": "nosuch", "url": "http://nosuch.invalid/"}])
    result = run_monitor("crawl", "--sources", sources, "--db", tmp_path / "m.db", *QUICK, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) <= 4, result.stderr


@pytest.mark.slow
def test_partial_failure_finishes_and_names_the_failed_source(tmp_path):
    import json

    with FixtureServer(Site()) as srv:
        site = build_many_site(srv.url, 3, delay=0, key="partial")
        srv.site.update(site.resources)
        port = _free_port()
        sources = write_sources(tmp_path / "s.toml", [site.source("good"),
                                                      {"name": "down", "url": f"http://127.0.0.1:{port}/"}])
        db = tmp_path / "m.db"
        result = run_monitor("crawl", "--sources", sources, "--db", db, *QUICK, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Crawl 1 finished" in result.stdout
    assert f"down failed: connection refused by 127.0.0.1:{port}" in result.stdout
    assert "good failed" not in result.stdout and "crawl failed" not in result.stdout
    crawl = rows(db, "SELECT status, summary FROM crawls")[0]
    per_source = json.loads(crawl["summary"])
    assert crawl["status"] == "finished"
    assert per_source["good"]["status"] == "finished" and per_source["good"]["articles_new"] == 3
    assert per_source["down"]["status"] == "failed" and "failure" not in per_source["good"]
    assert rows(db, "SELECT count(*) AS n FROM articles") == [{"n": 3}]


def _start_crawl(sources: Path, db: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--sources", str(sources), "--db", str(db),
                             *FAST_SETTINGS, *extra], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait(predicate, proc, timeout=90, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the crawl ended (exit {proc.returncode}) before {what}: {out[-1500:]} {err[-1500:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _stop_test(tmp_path, signals_after: list[float], *extra: str):
    """A site whose first articles answer at once and the rest after 60 s: SIGINT (to the process group, as
    a terminal does) once the fast ones are in the pending batch; returns what the crawl did."""
    with FixtureServer(Site()) as srv:
        site = build_many_site(srv.url, 40, delay=0.1, key="ctrlc")
        srv.site.update(site.resources)
        sources = write_sources(tmp_path / "s.toml", [site.source("slowsite")])
        db = tmp_path / "m.db"
        proc = _start_crawl(sources, db, "-s", "MONITOR_BATCH_SIZE=100000", "-s", "MONITOR_BATCH_SECONDS=100000",
                            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", *extra)
        try:
            fetched = lambda: [r.url_path for r in srv.requests if r.url_path.startswith("/news/")]  # noqa: E731
            _wait(lambda: len(fetched()) >= 6, proc, what="6 articles were requested")
            for path in site.resources:          # from now on every article not yet asked for hangs
                if path.startswith("/news/") and path not in fetched():
                    srv.site[path] = slow(srv.site[path].body, delay=60)
            _wait(lambda: len(fetched()) >= 8, proc, what="the slow articles were requested")
            time.sleep(1.0)                      # the fast ones are extracted: they wait in the pending batch
            assert rows(db, "SELECT count(*) AS n FROM articles") == [{"n": 0}]
            start = time.monotonic()
            for delay in signals_after:
                time.sleep(delay)
                os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            took = time.monotonic() - start
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        asked = len(set(fetched()))
    return proc.returncode, out, err, took, db, asked


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_ctrl_c_once_stops_within_seconds_and_keeps_the_batch(tmp_path):
    code, out, err, took, db, asked = _stop_test(tmp_path, [0])
    assert code == 130, (out, err[-3000:])
    assert took < 5, f"took {took:.1f} s"
    assert "stopping: finishing" in err and "pages in flight, Ctrl-C again to stop now" in err
    assert "Traceback" not in err
    assert "Crawl 1 stopped" in out
    crawl = rows(db, "SELECT status, articles_new, finished_at FROM crawls")[0]
    assert crawl["status"] == "stopped" and crawl["finished_at"]
    stored = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert 4 <= stored < asked and crawl["articles_new"] == stored   # the pending batch was committed
    assert _integrity(db) == "ok"


@pytest.mark.slow
def test_ctrl_c_twice_stops_at_once_and_still_keeps_the_batch(tmp_path):
    # the pages in flight would be waited for 60 s: only the second Ctrl-C can end the crawl within the bound
    # (generous, so a loaded machine does not make it flaky)
    code, out, err, took, db, asked = _stop_test(tmp_path, [0, 0.3], "-s", "MONITOR_STOP_TIMEOUT=60")
    assert code == 130, (out, err[-3000:])
    assert took < 15, f"took {took:.1f} s"
    assert "Traceback" not in err
    crawl = rows(db, "SELECT status, articles_new, finished_at FROM crawls")[0]
    assert crawl["status"] == "stopped" and crawl["finished_at"]
    stored = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert 4 <= stored < asked and crawl["articles_new"] == stored
    assert _integrity(db) == "ok"


@pytest.mark.slow
def test_scrapy_crawl_records_the_same_outcome(tmp_path):
    """`scrapy crawl NAME` writes its own crawls row: an unreachable source is `failed` there too, with its
    reason, so `monitor health` flags it after that crawl."""
    import json

    port = _free_port()
    sources = write_sources(tmp_path / "s.toml", [{"name": "down", "url": f"http://127.0.0.1:{port}/"}])
    db = tmp_path / "m.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MONITOR_SOURCES": str(sources)}
    args = [sys.executable, "-m", "scrapy", "crawl", "down", "-s", f"MONITOR_DB={db}"]
    for setting in [x for x in QUICK if x != "-s"]:
        args += ["-s", setting]
    crawled = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert crawled.returncode == 0, crawled.stderr[-3000:]   # Scrapy's own exit code: the crawl ran
    crawl = rows(db, "SELECT status, summary FROM crawls")[0]
    assert crawl["status"] == "failed"
    assert json.loads(crawl["summary"])["down"]["failure"] == f"connection refused by 127.0.0.1:{port}"
    health = run_monitor("health", "--db", db, timeout=60)
    assert health.returncode == 1 and f"connection refused by 127.0.0.1:{port}" in health.stdout
