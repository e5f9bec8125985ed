"""Bad input for every command (issue #5): a missing, unusable, non-SQLite or newer-schema database, a bad
sources or topics file, a bad date, a bad ``-s`` setting.  Each must give exactly one ``Error:`` line naming
the problem, exit 2, and write nothing (the files in the folder are byte-for-byte unchanged, none created).

Runs the CLI in-process (click's CliRunner): every case fails before a reactor, a server or Redis starts.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

BAD_SOURCES = "[[source]\nname = 1\n"                      # not TOML
BAD_TOPICS = '[[topic]]\nname = "x"\nquery = "AND ("\n'     # not an FTS5 query
OK_SOURCES = '[[source]]\nname = "x"\nurl = "http://127.0.0.1:9/"\n'
REDIS = "redis://127.0.0.1:9/0"                             # never reached: the bad input is found first


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The inputs, in one folder whose every byte is compared before and after each command."""
    d = tmp_path_factory.mktemp("inputs")
    from monitor.store.db import open_writer

    open_writer(d / "good.db").close()
    shutil.copy(d / "good.db", d / "newer.db")
    conn = sqlite3.connect(d / "newer.db")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('media-monitor', 'm999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()
    other = sqlite3.connect(d / "other-program.db")
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.commit()
    other.close()
    (d / "text.db").write_text("this is a text file, not a database\n", encoding="utf-8")
    (d / "folder.db").mkdir()
    (d / "a-file").write_text("x", encoding="utf-8")
    (d / "bad-sources.toml").write_text(BAD_SOURCES, encoding="utf-8")
    (d / "bad-topics.toml").write_text(BAD_TOPICS, encoding="utf-8")
    (d / "sources.toml").write_text(OK_SOURCES, encoding="utf-8")
    return d


EMPTY = hashlib.sha1(b"").hexdigest()


def snapshot(folder: Path) -> dict:
    """Every file's SHA-1, except SQLite's shared-memory index and an empty write-ahead log beside a database:
    any reader of a WAL database (sqlite3, Datasette, `monitor search`) leaves those, and they hold no data."""
    out = {}
    for p in sorted(folder.rglob("*")):
        digest = hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        if p.name.endswith("-shm") or (p.name.endswith("-wal") and digest == EMPTY):
            continue
        out[str(p.relative_to(folder))] = digest
    return out


# command -> argument list; {db} is the database case, {sources}/{topics} good files unless the case says
COMMANDS = {
    "crawl": ["crawl", "--sources", "{sources}", "--db", "{db}"],
    "search": ["search", "kazakhstan", "--db", "{db}"],
    "export": ["export", "--db", "{db}"],
    "stats": ["stats", "--db", "{db}"],
    "digest": ["digest", "--db", "{db}"],
    "feed": ["feed", "--topic", "kz-us", "--db", "{db}"],
    "retag": ["retag", "--db", "{db}"],
    "serve": ["serve", "--db", "{db}", "--port", "9"],
    "schedule": ["schedule", "--sources", "{sources}", "--db", "{db}", "--max-runs", "1"],
    "health": ["health", "--db", "{db}"],
    "ingest": ["ingest", "--redis", REDIS, "--db", "{db}", "--until-empty"],
    "demo": ["demo", "--db", "{db}"],
}
READERS = {"search", "export", "stats", "digest", "feed", "serve", "health", "retag"}   # refuse a missing file

# database case -> (file name, words the error line must contain)
DB_CASES = {
    "missing": ("missing.db", ["missing.db", "no such database"]),
    "folder": ("folder.db", ["folder.db", "directory"]),
    "not-sqlite": ("text.db", ["text.db", "not an SQLite database"]),
    "other-program": ("other-program.db", ["other-program.db", "not a media-monitor database|another program"]),
    "newer-schema": ("newer.db", ["newer.db", "newer media-monitor"]),
    "parent-is-a-file": ("a-file/m.db", ["a-file", "not a folder|no such database"]),
}


def run(args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def check_one_clear_line(result, must: list[str], folder: Path, before: dict) -> None:
    import re

    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    text = result.output
    assert "Traceback" not in text, text
    errors = [ln for ln in text.splitlines() if "Error:" in ln]
    assert len(errors) == 1, text
    for word in must:
        assert re.search(word, errors[0]), (word, errors[0])
    assert snapshot(folder) == before, "files were written or created"


def _cases():
    for cmd in COMMANDS:
        for case in DB_CASES:
            if case == "missing" and cmd not in READERS:
                continue   # writers create a new database: that is not an error
            yield pytest.param(cmd, case, id=f"{cmd}-{case}")


@pytest.mark.parametrize("cmd,case", list(_cases()))
def test_bad_database(files, cmd, case):
    name, must = DB_CASES[case]
    args = [a.replace("{db}", str(files / name)).replace("{sources}", str(files / "sources.toml"))
            for a in COMMANDS[cmd]]
    before = snapshot(files)
    check_one_clear_line(run(args), must, files, before)


SOURCES_CASES = {
    "crawl": ["crawl", "--sources", "{src}", "--db", "{fresh}"],
    "sources": ["sources", "--sources", "{src}"],
    "sources check": ["sources", "check", "--sources", "{src}"],
    "schedule": ["schedule", "--sources", "{src}", "--db", "{fresh}", "--max-runs", "1"],
    "health": ["health", "--sources", "{src}", "--db", "{good}"],
}


@pytest.mark.parametrize("cmd", list(SOURCES_CASES))
@pytest.mark.parametrize("src,must", [("bad-sources.toml", ["bad-sources.toml", "TOML"]),
                                      ("no-such-sources.toml", ["no-such-sources.toml", "not found"])],
                         ids=["invalid", "missing"])
def test_bad_sources_file(files, cmd, src, must):
    args = [a.replace("{src}", str(files / src)).replace("{fresh}", str(files / "fresh.db"))
            .replace("{good}", str(files / "good.db")) for a in SOURCES_CASES[cmd]]
    before = snapshot(files)
    check_one_clear_line(run(args), must, files, before)


TOPICS_CASES = {
    "crawl": ["crawl", "--sources", "{sources}", "--topics", "{topics}", "--db", "{fresh}"],
    "retag": ["retag", "--topics", "{topics}", "--db", "{good}"],
    "schedule": ["schedule", "--sources", "{sources}", "--topics", "{topics}", "--db", "{fresh}", "--max-runs", "1"],
    "ingest": ["ingest", "--redis", REDIS, "--topics", "{topics}", "--db", "{fresh}", "--until-empty"],
}


@pytest.mark.parametrize("cmd", list(TOPICS_CASES))
@pytest.mark.parametrize("topics,must", [("bad-topics.toml", ["bad-topics.toml"]),
                                         ("no-such-topics.toml", ["no-such-topics.toml"])],
                         ids=["invalid", "missing"])
def test_bad_topics_file(files, cmd, topics, must):
    args = [a.replace("{topics}", str(files / topics)).replace("{sources}", str(files / "sources.toml"))
            .replace("{fresh}", str(files / "fresh.db")).replace("{good}", str(files / "good.db"))
            for a in TOPICS_CASES[cmd]]
    before = snapshot(files)
    check_one_clear_line(run(args), must, files, before)


DATE_CASES = {
    "search --since": ["search", "x", "--since", "last tuesday", "--db", "{good}"],
    "search --until": ["search", "x", "--until", "2026-13-45", "--db", "{good}"],
    "export --since": ["export", "--since", "soon", "--db", "{good}"],
    "digest --since": ["digest", "--since", "yesterday-ish", "--db", "{good}"],
    "digest --until": ["digest", "--until", "31/12/2026", "--db", "{good}"],
    "stats --silent-after": ["stats", "--silent-after", "three days", "--db", "{good}"],
    "schedule --every": ["schedule", "--every", "often", "--sources", "{sources}", "--db", "{fresh}"],
    "schedule --cron": ["schedule", "--cron", "every monday", "--sources", "{sources}", "--db", "{fresh}"],
}


@pytest.mark.parametrize("case", list(DATE_CASES))
def test_bad_date_or_duration(files, case):
    args = [a.replace("{good}", str(files / "good.db")).replace("{fresh}", str(files / "fresh.db"))
            .replace("{sources}", str(files / "sources.toml")) for a in DATE_CASES[case]]
    value = DATE_CASES[case][DATE_CASES[case].index(case.split()[1]) + 1]
    before = snapshot(files)
    check_one_clear_line(run(args), [__import__("re").escape(value)], files, before)


SETTING_CASES = {
    "crawl": ["crawl", "--sources", "{sources}", "--db", "{fresh}"],
    "schedule": ["schedule", "--sources", "{sources}", "--db", "{fresh}", "--max-runs", "1"],
    "health": ["health", "--db", "{good}"],
}


@pytest.mark.parametrize("cmd", list(SETTING_CASES))
@pytest.mark.parametrize("setting,must", [
    ("DOWNLOAD_DELAY=fast", ["DOWNLOAD_DELAY"]),
    ("MONITOR_NO_SUCH_THING=1", ["MONITOR_NO_SUCH_THING"]),
    ("no equals sign", ["NAME=VALUE"]),
], ids=["wrong-type", "unknown", "malformed"])
def test_bad_setting(files, cmd, setting, must):
    if cmd == "health" and setting.startswith("DOWNLOAD"):
        setting = "MONITOR_HEALTH_MAX_FAILURES=many"
        must = ["MONITOR_HEALTH_MAX_FAILURES"]
    args = [a.replace("{good}", str(files / "good.db")).replace("{fresh}", str(files / "fresh.db"))
            .replace("{sources}", str(files / "sources.toml")) for a in SETTING_CASES[cmd]] + ["-s", setting]
    before = snapshot(files)
    check_one_clear_line(run(args), must, files, before)


# --------------------------------------------------------------------------- an unwritable database

@pytest.fixture
def read_only_db(tmp_path):
    """A good database on a read-only file system (root ignores file modes; a read-only mount stops it)."""
    if not sys.platform.startswith("linux") or not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid():
        pytest.skip("needs root on Linux to mount a read-only file system")
    mnt = tmp_path / "ro"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        from monitor.store.db import open_writer

        open_writer(mnt / "m.db").close()
        (mnt / "sources.toml").write_text(OK_SOURCES, encoding="utf-8")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("cmd", ["crawl", "retag", "schedule", "demo"])
def test_unwritable_database_exit_2(read_only_db, cmd):
    db, sources = read_only_db / "m.db", read_only_db / "sources.toml"
    args = [a.replace("{db}", str(db)).replace("{sources}", str(sources)) for a in COMMANDS[cmd]]
    before = snapshot(read_only_db)
    check_one_clear_line(run(args), ["m.db", "cannot be written"], read_only_db, before)


def test_readers_work_on_a_read_only_database(read_only_db):
    result = run(["search", "anything", "--db", str(read_only_db / "m.db")])
    assert result.exit_code == 0, result.output
