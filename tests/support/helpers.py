"""Test helpers: run the real CLI in a subprocess (a Twisted reactor starts once per process)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_monitor(*args, env: dict | None = None, timeout: float = 240, cwd=None) -> subprocess.CompletedProcess:
    """Run ``python -m monitor ARGS`` from the repo root, capturing output."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "monitor", *map(str, args)], cwd=cwd or REPO_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def write_sources(path: Path, entries: list[dict]) -> Path:
    """Write a sources TOML file from dicts (strings, numbers, booleans and lists of them)."""
    from monitor.sources.render import sources_toml

    path.write_text(sources_toml(entries), encoding="utf-8")
    return path


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


# fast crawls against loopback fixture servers: no politeness delays
FAST_SETTINGS = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "MONITOR_PROGRESS_INTERVAL=0",
                 "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_TIMEOUT=20"]
