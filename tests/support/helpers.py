"""Test helpers: run the real CLI in a subprocess (a Twisted reactor starts once per process)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
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


def free_port() -> int:
    """A free port on 127.0.0.1 (bound, then closed: connections to it are refused until someone listens)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def http_server(cmd: list[str], port: int, *, cwd=None, ready_path: str = "/-/versions.json",
                stop: int = signal.SIGTERM):
    """Start a server process, wait until it answers on 127.0.0.1:port, stop it afterwards (``stop`` signal,
    then a kill after 15 s)."""
    import pytest

    proc = subprocess.Popen(cmd, cwd=cwd or REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd} exited {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(base + ready_path, timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"{cmd} did not answer within 60 s")
                time.sleep(0.3)
        yield base
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
