"""``monitor.store.db.run_connections_in_parallel``: SQLite's memory statistics are turned off only in a process
that holds no SQLite memory yet (each case runs in a fresh interpreter: the setting is process-wide)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="done on Linux only")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_turned_off_before_any_connection_and_connections_still_work():
    words = _run(
        "from monitor.store import db\n"
        "print(db.threads_run_in_parallel(), db.run_connections_in_parallel(), db.threads_run_in_parallel())\n"
        "import sqlite3\n"
        "c = sqlite3.connect(':memory:'); c.execute('CREATE VIRTUAL TABLE t USING fts5(x)')\n"
        "c.execute(\"INSERT INTO t VALUES ('alpha beta')\")\n"
        "print(c.execute(\"SELECT count(*) FROM t WHERE t MATCH 'alpha'\").fetchone()[0])\n"
        "print(db._sqlite_library().sqlite3_memory_used())\n")   # no statistics kept: 0 with a connection open
    assert words == ["False", "True", "True", "1", "0"]


def test_left_alone_when_a_connection_is_open():
    words = _run(
        "import sqlite3\n"
        "c = sqlite3.connect(':memory:'); c.execute('SELECT 1')\n"
        "from monitor.store import db\n"
        "print(db.run_connections_in_parallel(), db.threads_run_in_parallel())\n"
        "print(c.execute('SELECT 2').fetchone()[0], db._sqlite_library().sqlite3_memory_used() > 0)\n")
    assert words == ["False", "False", "2", "True"]


def test_the_command_line_turns_them_off_and_search_uses_threads():
    words = _run(
        "import sys\n"
        "from unittest import mock\n"
        "import monitor.cli as cli\n"
        "with mock.patch.object(cli, 'cli', lambda **kw: None):\n"
        "    cli.main()\n"
        "from monitor.query.ranking import search_threads\n"
        "from monitor.config import usable_cpus\n"
        "print(search_threads() == min(usable_cpus(), 4))\n")
    assert words == ["True"]
