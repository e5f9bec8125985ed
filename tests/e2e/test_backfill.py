"""`monitor backfill` end to end: WARC files written by the tests, a fixture web archive (CDX + replay + files) on
127.0.0.1, kill -9 and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.test_crash import read_only_count
from tests.support.archive_server import Archive, ArchiveServer, Capture
from tests.support.helpers import REPO_ROOT, rows, run_monitor, write_sources
from tests.support.warcs import Rec, article, write_warc

FAST = ["-s", "MONITOR_EXTRACT_WORKERS=1"]
PRIVATE_OK = ["-s", "MONITOR_ALLOW_PRIVATE_ADDRESSES=true"]
DALA = "https://www.dala.example"


@pytest.fixture
def sources(tmp_path):
    return write_sources(tmp_path / "sources.toml", [
        {"name": "dala", "url": f"{DALA}/", "tags": ["kz"]},
        {"name": "steppe", "url": "https://steppe.example/", "tags": ["kz"]},
    ])


def _mixed_warc(path):
    """Two articles of dala (WARC/1.1 and 1.0), one of steppe, and everything that must not become one."""
    recs = [
        Rec("warcinfo"),
        Rec("request", f"{DALA}/2024/03/01/first-story-steppe"),
        Rec("response", f"{DALA}/2024/03/01/first-story-steppe", article("bf", "a1"), date="2024-03-05T10:00:00Z"),
        Rec("response", "https://other.example/2024/03/01/not-a-source", article("bf", "o1")),
        Rec("response", f"{DALA}/logo.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png"),
        Rec("response", f"{DALA}/feed.json", b'{"items": []}', content_type="application/json"),
        Rec("response", f"{DALA}/2024/03/02/cut-story-here", article("bf", "a2"), cut=True),
        Rec("revisit", f"{DALA}/2024/03/01/first-story-steppe", date="2024-04-01T00:00:00Z"),
        Rec("response", f"{DALA}/old-address", b"", status="301 Moved Permanently",
            headers=[("Location", "/2024/03/03/third-story-sea")]),
        Rec("response", f"{DALA}/2024/03/04/gone-story", b"not found", status="404 Not Found"),
        Rec("response", f"{DALA}/2024/03/03/third-story-sea", article("bf", "a3"), version="1.0",
            date="2024-03-07T11:00:00Z"),
        Rec("response", "https://steppe.example/news/2024/03/09/steppe-story-one", article("bf", "s1"),
            date="2024-03-09T09:00:00Z"),
    ]
    return write_warc(path, recs)


def test_warc_files_give_exactly_the_expected_articles_and_a_rerun_adds_nothing(tmp_path, sources):
    warc = tmp_path / "CC-NEWS-20240305.warc.gz"
    offsets = _mixed_warc(warc)
    plain = tmp_path / "plain.warc"   # an uncompressed file too, with a copy of the first story
    write_warc(plain, [Rec("response", f"{DALA}/2024/03/01/first-story-steppe?utm_source=x", article("bf", "a1"))],
               compress=False)
    db = tmp_path / "b.db"
    run = run_monitor("backfill", "--db", db, "--sources", sources, warc, plain, *FAST)
    assert run.returncode == 0, run.stderr[-3000:]
    got = rows(db, "SELECT url, source, fetched_at, origin, crawl_id FROM articles ORDER BY url")
    assert [(r["url"], r["source"], r["fetched_at"]) for r in got] == [
        ("https://steppe.example/news/2024/03/09/steppe-story-one", "steppe", "2024-03-09T09:00:00+00:00"),
        (f"{DALA}/2024/03/01/first-story-steppe", "dala", "2024-03-05T10:00:00+00:00"),
        (f"{DALA}/2024/03/03/third-story-sea", "dala", "2024-03-07T11:00:00+00:00"),
    ]
    assert got[1]["origin"] == f"{warc}@{offsets[2]}" and got[2]["origin"] == f"{warc}@{offsets[10]}"
    crawl = rows(db, "SELECT * FROM crawls")
    assert [(c["kind"], c["status"], c["articles_new"]) for c in crawl] == [("backfill", "finished", 3)]
    # the redirect source is known as the target's URL; the utm copy is a variant of the first story
    urls = {r["url"]: r["article_id"] for r in rows(db, "SELECT url, article_id FROM article_urls")}
    ids = {r["url"]: r["id"] for r in rows(db, "SELECT url, id FROM articles")}
    assert urls[f"{DALA}/old-address"] == ids[f"{DALA}/2024/03/03/third-story-sea"]
    errors = rows(db, "SELECT reason, url FROM fetch_errors")
    assert errors == [{"reason": "warc_corrupt", "url": f"{warc}@{offsets[6]}"}]
    assert "revisit 1" in run.stdout and "not_html 2" in run.stdout and "http_404 1" in run.stdout
    topics = rows(db, "SELECT count(*) AS n FROM article_topics")
    assert topics[0]["n"] >= 0   # tagged through the writer (the bundled topics may match nothing here)

    # a backfill is not a crawl of the live site: `monitor health` and `stats` do not judge sources by it
    health = run_monitor("health", "--db", db)
    assert health.returncode == 0, health.stdout + health.stderr
    stats = run_monitor("stats", "--db", db)
    assert "Coverage by month" in stats.stdout and stats.stdout.rstrip().endswith("1")

    again = run_monitor("backfill", "--db", db, "--sources", sources, warc, plain, *FAST)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "skipped (read whole by an earlier backfill)" in again.stdout
    assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 3
    assert rows(db, "SELECT count(*) AS n FROM fetch_errors")[0]["n"] == 1


def test_sources_tag_and_all_hosts_choose_the_records(tmp_path, sources):
    warc = tmp_path / "a.warc.gz"
    _mixed_warc(warc)
    only = run_monitor("backfill", "--db", tmp_path / "s.db", "--sources", sources, "--source", "steppe", warc, *FAST)
    assert only.returncode == 0, only.stderr[-2000:]
    assert [r["source"] for r in rows(tmp_path / "s.db", "SELECT source FROM articles")] == ["steppe"]
    every = run_monitor("backfill", "--db", tmp_path / "all.db", "--sources", sources, "--all-hosts", warc, *FAST)
    assert every.returncode == 0, every.stderr[-2000:]
    assert sorted({r["source"] for r in rows(tmp_path / "all.db", "SELECT source FROM articles")}) == [
        "dala", "other.example", "steppe"]


def test_a_file_that_is_not_a_warc_is_refused_with_one_line(tmp_path, sources):
    page = tmp_path / "page.html"
    page.write_text("<html><body>not an archive</body></html>")
    db = tmp_path / "n.db"
    run = run_monitor("backfill", "--db", db, "--sources", sources, page)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"Error: {page}: is not a WARC file (no WARC/1.x record at its start, "
                                               "plain or gzip)"]
    assert not db.exists()


def _stopped_and_clean_run(tmp_path, sources, how: int):
    """A 120-article WARC backfilled once cleanly, and once stopped by signal ``how`` after 30 articles:
    (warc, settings, clean articles, stopped database, the stopped process's exit code)."""
    recs = []
    for i in range(120):
        recs.append(Rec("response", f"{DALA}/2024/05/{i % 28 + 1:02d}/story-number-{i}-of-the-steppe",
                        article("kill", f"k{i}"), date=f"2024-05-{i % 28 + 1:02d}T08:00:00Z"))
        if i % 10 == 3:
            recs.append(Rec("response", f"https://other.example/x{i}", article("kill", f"o{i}")))
    warc = tmp_path / "big.warc.gz"
    write_warc(warc, recs)
    settings = [*FAST, "-s", "MONITOR_BATCH_SIZE=4"]
    clean = run_monitor("backfill", "-q", "--db", tmp_path / "clean.db", "--sources", sources, warc, *settings)
    assert clean.returncode == 0, clean.stderr[-2000:]
    expected = rows(tmp_path / "clean.db", "SELECT url, fetched_at, origin, text FROM articles ORDER BY url")
    assert len(expected) == 120

    db = tmp_path / "stopped.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "backfill", "-q", "--db", str(db), "--sources",
                             str(sources), str(warc), *settings], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and read_only_count(db) < 30:
        time.sleep(0.02)
    os.kill(proc.pid, how)
    return warc, settings, expected, db, proc.wait(timeout=60)


@pytest.mark.slow
def test_ctrl_c_stops_with_the_summary_and_a_rerun_completes(tmp_path, sources):
    warc, settings, expected, db, code = _stopped_and_clean_run(tmp_path, sources, signal.SIGINT)
    assert code == 130
    assert rows(db, "SELECT status FROM crawls") == [{"status": "stopped"}]
    assert 0 < read_only_count(db) < 120
    again = run_monitor("backfill", "-q", "--db", db, "--sources", sources, warc, *settings)
    assert again.returncode == 0, again.stderr[-2000:]
    assert rows(db, "SELECT url, fetched_at, origin, text FROM articles ORDER BY url") == expected


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_same_articles_as_one_clean_run(tmp_path, sources):
    warc, settings, expected, db, _ = _stopped_and_clean_run(tmp_path, sources, signal.SIGKILL)
    stored_at_kill = read_only_count(db)
    position = read_only_count(db, "SELECT position FROM backfill_checkpoints")
    assert 0 < stored_at_kill < 120 and position > 0, (stored_at_kill, position)

    resumed = run_monitor("backfill", "--db", db, "--sources", sources, warc, *settings)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming at byte" in resumed.stderr
    got = rows(db, "SELECT url, fetched_at, origin, text FROM articles ORDER BY url")
    assert got == expected
    kinds = rows(db, "SELECT kind, status FROM crawls ORDER BY id")
    assert kinds == [{"kind": "backfill", "status": "interrupted"}, {"kind": "backfill", "status": "finished"}]


def _wayback_archive() -> Archive:
    return Archive(captures=[
        Capture(f"{DALA}/2024/01/05/first-story-steppe", "20240105120000", article("wb", "w1")),
        Capture(f"{DALA}/2024/01/05/first-story-steppe", "20240107120000", article("wb", "w1")),   # same URL again
        Capture(f"{DALA}/tag/steppe", "20240106120000", article("wb", "tag")),                      # not article-like
        Capture(f"{DALA}/2024/01/08/picture-of-the-day", "20240108120000", b"\x89PNG", mime="image/png"),
        Capture(f"{DALA}/2024/01/09/second-story-sea", "20240109120000", article("wb", "w2")),
        Capture(f"{DALA}/2024/01/10/moved-story-here", "20240110120000", b"", status="301"),
        Capture(f"{DALA}/2024/01/11/missing-capture-story", "20240111120000", b"", lost=True),   # replay 404
        Capture(f"{DALA}/2024/02/01/third-story-wind", "20240201120000", article("wb", "w3")),
        Capture(f"{DALA}/2024/03/01/outside-story-range", "20240301120000", article("wb", "w4")),
        Capture("https://steppe.example/2024/01/02/not-this-source", "20240102120000", article("wb", "s1")),
    ])


def _wayback(db, sources, base, *extra):
    return run_monitor("backfill", "--db", db, "--sources", sources, "--wayback", "dala", "--from", "2024-01",
                       "--to", "2024-02", "--cdx-url", f"{base}/cdx", "--replay-url", f"{base}/web", "--delay", "0",
                       "--retries", "1", *PRIVATE_OK, *FAST, *extra)


def test_wayback_end_to_end_through_a_fixture_cdx_server(tmp_path, sources):
    archive = _wayback_archive()
    db = tmp_path / "w.db"
    with ArchiveServer(archive) as base:
        run = _wayback(db, sources, base)
        assert run.returncode == 0, run.stderr[-3000:]
        replays = [r for r in archive.requests if r.startswith("/web/")]
        assert sorted(replays) == [
            f"/web/20240105120000id_/{DALA}/2024/01/05/first-story-steppe",
            f"/web/20240109120000id_/{DALA}/2024/01/09/second-story-sea",
            f"/web/20240111120000id_/{DALA}/2024/01/11/missing-capture-story",
            f"/web/20240201120000id_/{DALA}/2024/02/01/third-story-wind",
        ]
        errors = rows(db, "SELECT reason, url, http_status FROM fetch_errors")
        assert errors == [{"reason": "capture_http_error", "url": f"{DALA}/2024/01/11/missing-capture-story",
                           "http_status": 404}]
        got = rows(db, "SELECT url, source, fetched_at, origin FROM articles ORDER BY url")
        assert [(r["url"], r["fetched_at"]) for r in got] == [
            (f"{DALA}/2024/01/05/first-story-steppe", "2024-01-05T12:00:00+00:00"),
            (f"{DALA}/2024/01/09/second-story-sea", "2024-01-09T12:00:00+00:00"),
            (f"{DALA}/2024/02/01/third-story-wind", "2024-02-01T12:00:00+00:00"),
        ]
        assert got[0]["origin"] == f"{base}/web/20240105120000id_/{DALA}/2024/01/05/first-story-steppe"
        assert rows(db, "SELECT kind FROM crawls") == [{"kind": "backfill"}]

        archive.requests.clear()
        again = _wayback(db, sources, base)
        assert again.returncode == 0 and rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 3
        assert [r for r in archive.requests if r.startswith("/web/")] == []   # nothing fetched twice


def test_wayback_fetches_only_captures_not_stored_yet(tmp_path, sources):
    """A capture whose URL a crawl (here: a WARC backfill) stored already is not requested."""
    warc = tmp_path / "a.warc.gz"
    write_warc(warc, [Rec("response", f"{DALA}/2024/01/09/second-story-sea", article("wb", "w2"))])
    db = tmp_path / "w.db"
    assert run_monitor("backfill", "--db", db, "--sources", sources, warc, *FAST).returncode == 0
    archive = _wayback_archive()
    with ArchiveServer(archive) as base:
        run = _wayback(db, sources, base)
        assert run.returncode == 0, run.stderr[-3000:]
    replays = [r for r in archive.requests if r.startswith("/web/")]
    assert f"/web/20240109120000id_/{DALA}/2024/01/09/second-story-sea" not in replays and len(replays) == 3
    assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 3


def test_a_cdx_server_that_answers_404_is_retried_then_recorded(tmp_path, sources):
    archive = _wayback_archive()
    archive.cdx_failures = 2   # --retries 1: two tries for 2024-01, both 404; 2024-02 answers
    db = tmp_path / "w.db"
    with ArchiveServer(archive) as base:
        run = _wayback(db, sources, base)
    assert run.returncode == 0, run.stderr[-3000:]
    cdx = [r for r in archive.requests if r.startswith("/cdx")]
    assert sum("from=202401" in r for r in cdx) == 2
    errors = rows(db, "SELECT reason, source, http_status FROM fetch_errors")
    assert errors == [{"reason": "cdx_error", "source": "dala", "http_status": 404}]
    assert [r["url"] for r in rows(db, "SELECT url FROM articles")] == [f"{DALA}/2024/02/01/third-story-wind"]
    assert "wayback:dala:2024-01: failed (next run tries again)" in run.stdout
    with ArchiveServer(archive) as base:   # the next run does the month that failed, and only it
        archive.requests.clear()
        later = _wayback(db, sources, base)
    assert later.returncode == 0 and rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 3
    assert all("from=202402" not in r for r in archive.requests)


def test_archive_servers_on_internal_addresses_are_refused_by_default(tmp_path, sources):
    with ArchiveServer(_wayback_archive()) as base:
        run = run_monitor("backfill", "--db", tmp_path / "w.db", "--sources", sources, "--wayback", "dala",
                          "--from", "2024-01", "--to", "2024-01", "--cdx-url", f"{base}/cdx", "--replay-url",
                          f"{base}/web", "--delay", "0", *FAST)
    assert run.returncode == 1
    assert "loopback address" in run.stderr and "MONITOR_ALLOW_PRIVATE_ADDRESSES" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_cc_news_month_and_remote_warc_files(tmp_path, sources):
    one, two = tmp_path / "1.warc.gz", tmp_path / "2.warc.gz"
    _mixed_warc(one)
    write_warc(two, [Rec("response", f"{DALA}/2024/05/02/may-story-two", article("cc", "m2"))])
    archive = Archive(files={
        "crawl-data/CC-NEWS/2024/05/warc.paths.gz": __import__("gzip").compress(
            b"crawl-data/CC-NEWS/2024/05/CC-NEWS-1.warc.gz\ncrawl-data/CC-NEWS/2024/05/CC-NEWS-2.warc.gz\n"),
        "crawl-data/CC-NEWS/2024/05/CC-NEWS-1.warc.gz": one.read_bytes(),
        "crawl-data/CC-NEWS/2024/05/CC-NEWS-2.warc.gz": two.read_bytes(),
    })
    db = tmp_path / "cc.db"
    with ArchiveServer(archive) as base:
        run = run_monitor("backfill", "--db", db, "--sources", sources, "--cc-news", "2024-05", "--cc-base",
                          f"{base}/files", *PRIVATE_OK, *FAST)
        assert run.returncode == 0, run.stderr[-3000:]
        assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 4
        origin = rows(db, "SELECT origin FROM articles WHERE url LIKE '%may-story-two'")[0]["origin"]
        assert origin == f"{base}/files/crawl-data/CC-NEWS/2024/05/CC-NEWS-2.warc.gz@0"
        # a remote WARC given by URL reads the same; done files are not fetched again
        archive.requests.clear()
        url = f"{base}/files/crawl-data/CC-NEWS/2024/05/CC-NEWS-2.warc.gz"
        again = run_monitor("backfill", "--db", db, "--sources", sources, url, *PRIVATE_OK, *FAST)
        assert again.returncode == 0 and "skipped" in again.stdout
        assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 4


def _readme_block() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Backfill from archives", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_backfill_commands_run_against_fixtures(tmp_path):
    """The commands of README 'Backfill from archives', as written, in a folder with the files they name; the
    archive servers are the fixture's (their URLs and the private-address setting are appended)."""
    commands = _readme_block()
    assert len(commands) == 5 and all(c.startswith("monitor ") for c in commands)
    write_sources(tmp_path / "my-sources.toml", [{"name": "dala", "url": f"{DALA}/", "tags": ["kz"]}])
    write_warc(tmp_path / "CC-NEWS-20240501.warc.gz",
               [Rec("response", f"{DALA}/2024/05/01/readme-story-one", article("readme", "r1"))])
    (tmp_path / "archive").mkdir()
    write_warc(tmp_path / "archive" / "a.warc.gz",
               [Rec("response", f"{DALA}/2024/04/01/readme-story-two", article("readme", "r2"))])
    write_warc(tmp_path / "archive" / "b.warc.gz",
               [Rec("response", f"{DALA}/2024/04/02/readme-story-three", article("readme", "r3"))])
    may = tmp_path / "may.warc.gz"
    write_warc(may, [Rec("response", f"{DALA}/2024/05/09/readme-story-four", article("readme", "r4"))])
    archive = _wayback_archive()
    archive.files = {"crawl-data/CC-NEWS/2024/05/warc.paths.gz": __import__("gzip").compress(
        b"crawl-data/CC-NEWS/2024/05/CC-NEWS-x.warc.gz\n"),
        "crawl-data/CC-NEWS/2024/05/CC-NEWS-x.warc.gz": may.read_bytes()}
    env = {k: v for k, v in os.environ.items() if k not in ("MONITOR_DB", "MONITOR_SOURCES")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    with ArchiveServer(archive) as base:
        extra = {"--cc-news": f"--cc-base {base}/files", "--wayback": f"--cdx-url {base}/cdx --replay-url {base}/web "
                                                                        "--delay 0"}
        for command in commands:
            line = command.replace("monitor ", f"{sys.executable} -m monitor ", 1)
            if " backfill " in line:
                line += " -s MONITOR_EXTRACT_WORKERS=1 -s MONITOR_ALLOW_PRIVATE_ADDRESSES=true"
                line += "".join(f" {v}" for k, v in extra.items() if k in command)
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, (command, done.stderr[-2000:])
    urls = {r["url"].rsplit("/", 1)[1] for r in rows(tmp_path / "monitor.db", "SELECT url FROM articles")}
    assert {"readme-story-one", "readme-story-two", "readme-story-three", "readme-story-four",
            "first-story-steppe", "second-story-sea"} <= urls
    assert "Coverage by month" in done.stdout and "dala" in done.stdout.split("Coverage by month", 1)[1]


def test_a_cdx_server_that_does_not_answer_in_time_is_retried_then_recorded(tmp_path, sources):
    archive = _wayback_archive()
    archive.cdx_delay = 1.5
    db = tmp_path / "w.db"
    with ArchiveServer(archive) as base:
        run = run_monitor("backfill", "--db", db, "--sources", sources, "--wayback", "dala", "--from", "2024-01",
                          "--to", "2024-01", "--cdx-url", f"{base}/cdx", "--replay-url", f"{base}/web", "--delay",
                          "0", "--retries", "1", "--timeout", "0.3", *PRIVATE_OK, *FAST)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sum(r.startswith("/cdx") for r in archive.requests) == 2   # the first try and one retry
    errors = rows(db, "SELECT reason, source, detail FROM fetch_errors")
    assert [(e["reason"], e["source"]) for e in errors] == [("cdx_error", "dala")]
    assert "timed out" in errors[0]["detail"]
    assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 0
