"""Start-up cost: `monitor --help` and `monitor search` must not import Scrapy, Twisted or trafilatura
(they cost seconds); crawl commands import them inside the command.  Checked in fresh subprocesses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.helpers import REPO_ROOT

HEAVY = ("scrapy", "twisted", "trafilatura")

CHECK = """
import runpy, sys
sys.argv = ["monitor", *{args!r}]
try:
    runpy.run_module("monitor", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
sys.exit(code or 0)
"""


def heavy_modules_after(*args) -> list[str]:
    out = subprocess.run([sys.executable, "-c", CHECK.format(args=list(map(str, args)), heavy=HEAVY)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in line[len("HEAVY="):].split(",") if m]


def test_importing_the_cli_imports_no_heavy_module():
    code = ("import monitor.cli, sys; bad = [m for m in %r if m in sys.modules]; "
            "assert not bad, bad" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]


def test_help_imports_no_heavy_module():
    assert heavy_modules_after("--help") == []


def test_search_imports_no_heavy_module(tmp_path):
    from monitor.cli import cli

    if "search" not in cli.commands:
        pytest.skip("no search command in this build")
    from monitor.store.db import open_writer
    from monitor.store.records import ArticleRecord

    db = tmp_path / "s.db"
    with open_writer(db) as st:
        st.write_batch([ArticleRecord(url="https://example.org/a", source="example", title="Astana talks",
                                      text="Kazakhstan and the United States met in Astana. " * 20)])
    assert heavy_modules_after("search", "kazakhstan", "--db", db) == []
    assert heavy_modules_after("search", "--help") == []


def test_crawl_help_imports_no_heavy_module():
    assert heavy_modules_after("crawl", "--help") == []
