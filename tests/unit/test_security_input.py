"""Bad input that used to crash or hang (issue 15): one ``Error:`` line, exit 2, nothing written.

Numbers out of range (``--since 999999w``, ``--limit 1e20``, ``stats --days 3000000``, ``every = "9...9w"``),
settings that are not finite or not sane (``-s DOWNLOAD_DELAY=1e400``), a ``--log-file`` that cannot be
opened, ``retag`` with an empty topics file or an empty database file, query size caps and the query time
budget, and read-only databases (readers open them read-only, writers refuse them before they start).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import settings as defaults
from monitor.cli import MAX_LIMIT as CLI_MAX_LIMIT
from monitor.cli import cli
from monitor.config import RANGES, env_setting, parse_overrides
from monitor.durations import MAX_SECONDS, DurationTooLong, duration_seconds, parse_duration
from monitor.errors import UsageError
from monitor.store.db import QueryTimeout, open_reader, open_writer, reading
from tests.support.query_corpus import add_bulk, build
from tests.support.unprivileged import files_in, run_monitor, shared_folder, unprivileged_or_skip
from tests.unit.test_cli_errors import check_one_clear_line, snapshot

OK_SOURCES = '[[source]]\nname = "x"\nurl = "http://127.0.0.1:9/"\n'
HUGE_EVERY = OK_SOURCES + 'every = "99999999999999999999w"\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-input")
    with open_writer(d / "good.db") as storage:
        build(storage)
    (d / "sources.toml").write_text(OK_SOURCES, encoding="utf-8")
    (d / "every.toml").write_text(HUGE_EVERY, encoding="utf-8")
    (d / "empty-topics.toml").write_text("# no topics yet\n", encoding="utf-8")
    (d / "zero.db").write_bytes(b"")
    (d / "a-folder").mkdir()
    return d


def run(args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)


A_STAR_OR = "a* OR " * 10_000
NEAR_5000 = "NEAR(" + " ".join(f"w{i}*" for i in range(5000)) + ")"
MANY_SHORT_WORDS = " OR ".join(f"w{i}" for i in range(600))          # under 5,000 characters, over 500 words

CASES = {
    # durations and dates beyond the calendar (OverflowError before)
    "search --since 999999w": (["search", "x", "--since", "999999w", "--db", "{good}"], ["--since", "100 years"]),
    "export --since 999999w": (["export", "--since", "999999w", "--db", "{good}"], ["--since", "100 years"]),
    "digest --since 999999w": (["digest", "--since", "999999w", "--db", "{good}"], ["--since", "100 years"]),
    "digest --until huge": (["digest", "--until", "99999999999999999999d", "--db", "{good}"], ["--until", "100 years"]),
    "search --since year 0": (["search", "x", "--since", "0001-01-01T00:00+01:00", "--db", "{good}"],
                              ["out of range"]),
    "stats --silent-after huge": (["stats", "--silent-after", "99999999999999999w", "--db", "{good}"],
                                  ["--silent-after", "100 years"]),
    # limits SQLite cannot take (IntegrityError / OverflowError before)
    "search --limit 1e20": (["search", "x", "--limit", "1e20", "--db", "{good}"], ["--limit"]),
    "search --limit 10**20": (["search", "x", "--limit", str(10 ** 20), "--db", "{good}"], ["--limit"]),
    "feed --limit 1e20": (["feed", "--topic", "kz-us", "--limit", "1e20", "--db", "{good}"], ["--limit"]),
    "feed --limit 10**20": (["feed", "--topic", "kz-us", "--limit", str(10 ** 20), "--db", "{good}"], ["--limit"]),
    "digest --max-stories 10**20": (["digest", "--max-stories", str(10 ** 20), "--db", "{good}"], ["--max-stories"]),
    "stats --days 3000000": (["stats", "--days", "3000000", "--db", "{good}"], ["--days"]),
    # a sources file and the scheduler's period (schedule crashed on the timestamp)
    "sources every huge": (["sources", "--sources", "{every}"], ["every", "100 years"]),
    "schedule every huge": (["schedule", "--sources", "{every}", "--db", "{fresh}", "--max-runs", "1"],
                            ["every", "100 years"]),
    "schedule --every huge": (["schedule", "--every", "99999999999w", "--sources", "{sources}", "--db", "{fresh}"],
                              ["--every", "100 years"]),
    # settings: not finite, negative, absurd (a crawl that never ended)
    "crawl DOWNLOAD_DELAY=1e400": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s", "DOWNLOAD_DELAY=1e400"],
                                   ["DOWNLOAD_DELAY", "0 to 3,600"]),
    "crawl DOWNLOAD_DELAY=nan": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s", "DOWNLOAD_DELAY=nan"],
                                 ["DOWNLOAD_DELAY"]),
    "crawl DOWNLOAD_TIMEOUT=-1": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s", "DOWNLOAD_TIMEOUT=-1"],
                                  ["DOWNLOAD_TIMEOUT", "1 to 3,600"]),
    "crawl CONCURRENT_REQUESTS=0": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s",
                                     "CONCURRENT_REQUESTS=0"], ["CONCURRENT_REQUESTS"]),
    "crawl MONITOR_STOP_TIMEOUT=inf": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s",
                                        "MONITOR_STOP_TIMEOUT=inf"], ["MONITOR_STOP_TIMEOUT"]),
    "crawl DOWNLOAD_MAXSIZE huge": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "-s",
                                     "DOWNLOAD_MAXSIZE=99999999999999999999"], ["DOWNLOAD_MAXSIZE"]),
    "schedule MONITOR_POLL_MIN_INTERVAL=-5": (["schedule", "--sources", "{sources}", "--db", "{fresh}", "-s",
                                               "MONITOR_POLL_MIN_INTERVAL=-5"], ["MONITOR_POLL_MIN_INTERVAL"]),
    "health MONITOR_HEALTH_EXPECTED_NEW=nan": (["health", "--db", "{good}", "-s", "MONITOR_HEALTH_EXPECTED_NEW=nan"],
                                               ["MONITOR_HEALTH_EXPECTED_NEW"]),
    "sources check --timeout nan": (["sources", "check", "--sources", "{sources}", "--timeout", "nan"], ["--timeout"]),
    "sources check --timeout inf": (["sources", "check", "--sources", "{sources}", "--timeout", "inf"], ["--timeout"]),
    "ingest --idle-exit nan": (["ingest", "--redis", "redis://127.0.0.1:9/0", "--db", "{fresh}", "--idle-exit", "nan"],
                               ["--idle-exit"]),
    # --log-file that cannot be opened (a FileNotFoundError traceback once the crawl had started)
    "crawl --log-file missing folder": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "--log-file",
                                         "{folder}/missing/crawl.log"], ["--log-file", "missing", "does not exist"]),
    "crawl --log-file a folder": (["crawl", "--sources", "{sources}", "--db", "{fresh}", "--log-file",
                                   "{folder}/a-folder"], ["--log-file", "directory"]),
    "schedule --log-file missing folder": (["schedule", "--sources", "{sources}", "--db", "{fresh}", "--log-file",
                                            "{folder}/missing/s.log"], ["--log-file", "does not exist"]),
    # retag must not drop every tag, nor turn an empty file into a database
    "retag empty topics": (["retag", "--topics", "{folder}/empty-topics.toml", "--db", "{good}"],
                           ["empty-topics.toml", "defines no topics"]),
    "retag 0-byte db": (["retag", "--db", "{folder}/zero.db"], ["zero.db", "empty"]),
    "retag missing db": (["retag", "--db", "{folder}/nope.db"], ["nope.db", "no such database"]),
    # query size caps (the first ran over 10 minutes, the second 40 s)
    "search a* OR x 10,000": (["search", A_STAR_OR, "--db", "{good}"], ["60,000 characters", "MONITOR_QUERY_MAX_CHARS"]),
    "search NEAR 5,000 terms": (["search", NEAR_5000, "--db", "{good}"], ["MONITOR_QUERY_MAX_CHARS"]),
    "search 600 words": (["search", MANY_SHORT_WORDS, "--db", "{good}"], ["600 words", "MONITOR_QUERY_MAX_TERMS"]),
    "export -q a* OR x 10,000": (["export", "-q", A_STAR_OR, "--db", "{good}"], ["MONITOR_QUERY_MAX_CHARS"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_exit_2_nothing_written(folder, case):
    args, must = CASES[case]
    args = [a.replace("{good}", str(folder / "good.db")).replace("{fresh}", str(folder / "fresh.db"))
            .replace("{sources}", str(folder / "sources.toml")).replace("{every}", str(folder / "every.toml"))
            .replace("{folder}", str(folder)) for a in args]
    before = snapshot(folder)
    started = time.monotonic()
    result = run(args)
    check_one_clear_line(result, [re.escape(m) for m in must], folder, before)
    assert time.monotonic() - started < 10, "refused, but only after a long time"


def test_the_cli_caps_are_the_readers_caps():
    from monitor.query.inputs import MAX_LIMIT

    assert CLI_MAX_LIMIT == MAX_LIMIT


# --------------------------------------------------------------------------- durations and settings

def test_durations_stop_at_100_years():
    assert duration_seconds("5217w") == 5217 * 604800 <= MAX_SECONDS
    assert parse_duration("36525d") == MAX_SECONDS
    for text in ("36526d", "5218w", "99999999999999999999w", "9" * 5000 + "s"):
        with pytest.raises(DurationTooLong, match="100 years"):
            duration_seconds(text)
        with pytest.raises(ValueError, match="100 years"):
            parse_duration(text)


def _numeric_monitor_settings():
    return [n for n in dir(defaults) if n.startswith("MONITOR_") and isinstance(getattr(defaults, n), (int, float))
            and not isinstance(getattr(defaults, n), bool)]


def test_every_numeric_monitor_setting_has_a_range_holding_its_default():
    from scrapy.settings import default_settings as scrapy_defaults

    missing = [n for n in _numeric_monitor_settings() if n not in RANGES]
    assert missing == [], f"give these settings a range in monitor/config.py RANGES: {missing}"
    for name, (low, high) in RANGES.items():
        default = getattr(defaults, name, getattr(scrapy_defaults, name, None))
        assert default is not None, f"{name}: not a setting of media-monitor or Scrapy"
        assert low <= default <= high, (name, default, (low, high))
        assert parse_overrides([f"{name}={default}"], scrapy_defaults) == {name: str(default)}


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "-1", "1e12"])
def test_delays_and_timeouts_refuse_absurd_values(value):
    from scrapy.settings import default_settings as scrapy_defaults

    for name in ("DOWNLOAD_DELAY", "AUTOTHROTTLE_MAX_DELAY", "MONITOR_STOP_TIMEOUT", "MONITOR_EXTRACT_TIMEOUT",
                 "MONITOR_QUERY_TIMEOUT", "MONITOR_RETRY_BACKOFF_MAX"):
        with pytest.raises(UsageError, match=rf"{name} takes a (whole )?number from \S+ to \S+"):
            parse_overrides([f"{name}={value}"], scrapy_defaults)


def test_a_setting_without_a_range_is_still_finite_and_64_bit():
    from scrapy.settings import default_settings as scrapy_defaults

    assert parse_overrides(["DEPTH_PRIORITY=-1"], scrapy_defaults) == {"DEPTH_PRIORITY": "-1"}
    with pytest.raises(UsageError, match="DEPTH_PRIORITY"):
        parse_overrides([f"DEPTH_PRIORITY={10 ** 30}"], scrapy_defaults)


def test_env_setting_reads_and_checks_the_environment(monkeypatch):
    monkeypatch.delenv("MONITOR_QUERY_TIMEOUT", raising=False)
    assert env_setting("MONITOR_QUERY_TIMEOUT") == defaults.MONITOR_QUERY_TIMEOUT
    monkeypatch.setenv("MONITOR_QUERY_TIMEOUT", "2.5")
    assert env_setting("MONITOR_QUERY_TIMEOUT") == 2.5
    monkeypatch.setenv("MONITOR_QUERY_TIMEOUT", "inf")
    with pytest.raises(UsageError, match=r"^\$MONITOR_QUERY_TIMEOUT=inf: .*0 to 86,400"):
        env_setting("MONITOR_QUERY_TIMEOUT")


# --------------------------------------------------------------------------- the query time budget

def test_a_query_over_its_time_budget_is_stopped(folder):
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"longer than 0\.3 s .*MONITOR_QUERY_TIMEOUT"):
        with reading(folder / "good.db", time_limit=0.3) as conn:
            conn.execute(endless).fetchall()
    assert time.monotonic() - started < 5
    with reading(folder / "good.db", time_limit=0) as conn:          # 0: no budget (and a quick query passes)
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 0


@pytest.fixture(scope="module")
def bulk_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("bulk") / "bulk.db"
    with open_writer(path) as storage:
        build(storage)
        add_bulk(storage, 1500)
    return path


def test_search_over_its_time_budget_ends_with_one_line(bulk_db):
    query = "NEAR(" + " ".join(["w1*"] * 300) + ")"                 # seconds of work on this database
    started = time.monotonic()
    result = run(["search", query, "--db", bulk_db], env={"MONITOR_QUERY_TIMEOUT": "0.2"})
    assert time.monotonic() - started < 5
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "MONITOR_QUERY_TIMEOUT" in lines[0], result.output


def test_export_gives_each_batch_its_own_budget(bulk_db, monkeypatch):
    """A slow reader of the export (a slow disk, a pipe) does not use up the query's budget."""
    from monitor.query.reads import Filters, export
    from monitor.store import db

    monkeypatch.setattr(db, "PROGRESS_STEPS", 1)          # look at the clock at every step
    monkeypatch.setenv("MONITOR_QUERY_TIMEOUT", "0.2")
    rows = export(bulk_db, Filters(sources=["astanatimes"]), batch_size=1)
    got = []
    for row in rows:
        got.append(row["id"])
        time.sleep(0.25)                                  # longer than the budget between two batches
    assert len(got) == 2


def test_export_over_its_time_budget_is_stopped(bulk_db, monkeypatch):
    monkeypatch.setenv("MONITOR_QUERY_TIMEOUT", "0.2")
    from monitor.query.reads import Filters, export

    with pytest.raises(QueryTimeout):
        list(export(bulk_db, Filters(query="NEAR(" + " ".join(["w1*"] * 300) + ")")))


def test_query_size_caps_come_from_the_environment(folder):
    result = run(["search", "kazakhstan OR astana OR minerals", "--db", folder / "good.db"],
                 env={"MONITOR_QUERY_MAX_TERMS": "2"})
    assert result.exit_code == 2 and "3 words; the most is 2" in result.output
    result = run(["search", "kazakhstan", "--db", folder / "good.db"], env={"MONITOR_QUERY_MAX_CHARS": "5"})
    assert result.exit_code == 2 and "10 characters long; the most is 5" in result.output


def test_the_bundled_topics_fit_the_query_caps():
    """A user may paste any bundled topic's query into `monitor search`."""
    from monitor.query.inputs import check_query_size
    from monitor.topics import load_topics

    for topic in load_topics():
        check_query_size(topic.query)


# --------------------------------------------------------------------------- read-only databases

def test_writer_refuses_an_empty_file_it_was_not_asked_to_create(tmp_path):
    from monitor.errors import DatabaseError

    (tmp_path / "zero.db").write_bytes(b"")
    with pytest.raises(DatabaseError, match="is empty"):
        open_writer(tmp_path / "zero.db", create=False)
    assert (tmp_path / "zero.db").stat().st_size == 0 and files_in(tmp_path) == {"zero.db": 0}
    open_writer(tmp_path / "zero.db").close()             # a crawl may start a database in an empty file
    assert (tmp_path / "zero.db").stat().st_size > 0


def _read_only_copy(source_db: Path, folder: Path, *, folder_read_only: bool) -> Path:
    db = folder / "m.db"
    shutil.copy(source_db, db)
    (folder / "sources.toml").write_text(OK_SOURCES, encoding="utf-8")
    db.chmod(0o444)
    if folder_read_only:
        folder.chmod(0o555)
    return db


@pytest.mark.parametrize("folder_read_only", [True, False], ids=["read-only-folder", "read-only-file"])
def test_readers_search_a_read_only_database_and_create_nothing(folder, folder_read_only):
    unprivileged_or_skip()
    with shared_folder() as d:
        db = _read_only_copy(folder / "good.db", d, folder_read_only=folder_read_only)
        before = files_in(d)
        for args in (["search", "kazakh*", "--db", db, "--format", "json"], ["stats", "--db", db],
                     ["export", "--db", db], ["digest", "--db", db, "--since", "30d"]):
            done = run_monitor(args, cwd=d)
            assert done.returncode == 0, (args, done.stderr)
            assert "Traceback" not in done.stderr
        if folder_read_only:
            assert files_in(d) == before, "a reader created files"
        else:      # a writable folder: SQLite's WAL index (-shm, and an empty -wal) may appear, nothing else
            assert {k: v for k, v in files_in(d).items() if not k.endswith(("-shm", "-wal"))} == before
            assert files_in(d).get("m.db-wal", 0) == 0
        assert (d / "m.db").read_bytes() == (folder / "good.db").read_bytes()


@pytest.mark.parametrize("folder_read_only", [True, False], ids=["read-only-folder", "read-only-file"])
@pytest.mark.parametrize("cmd", ["crawl", "retag"])
def test_writers_refuse_a_read_only_database_before_they_start(folder, cmd, folder_read_only):
    unprivileged_or_skip()
    with shared_folder() as d:
        db = _read_only_copy(folder / "good.db", d, folder_read_only=folder_read_only)
        before = files_in(d)
        args = {"crawl": ["crawl", "--sources", d / "sources.toml", "--db", db], "retag": ["retag", "--db", db]}[cmd]
        done = run_monitor(args, cwd=d)
        assert done.returncode == 2, done.stderr
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1 and "m.db" in errors[0] and "cannot be written" in errors[0], done.stderr
        assert "Traceback" not in done.stderr
        assert files_in(d) == before
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        assert conn.execute("SELECT count(*) FROM crawls WHERE status = 'running'").fetchone()[0] == 0
        conn.close()


def test_open_reader_never_writes_the_file(folder, tmp_path):
    shutil.copy(folder / "good.db", tmp_path / "m.db")
    data = (tmp_path / "m.db").read_bytes()
    conn = open_reader(tmp_path / "m.db")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM articles")
    conn.close()
    assert (tmp_path / "m.db").read_bytes() == data
    assert not (tmp_path / "m.db-wal").exists() or (tmp_path / "m.db-wal").stat().st_size == 0
    assert os.path.exists(tmp_path / "m.db")
