"""A real, throw-away ``redis-server`` on a free loopback port (tests and benchmarks; no mock Redis).

``RedisServer(tmp_dir).start()`` runs ``redis-server --port N --bind 127.0.0.1 --save '' --appendonly no
--dir TMP``; ``.url`` is ``redis://127.0.0.1:N/0``; ``.stop()`` ends that process (by its own pid).
``redis_binary()`` is None when the Debian ``redis-server`` package is not installed (tests skip then;
``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.support.helpers import free_port  # noqa: F401  (re-exported: tests import it from here)


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.log = open(self.dir / "redis.log", "wb")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=self.log, stderr=subprocess.STDOUT)
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(self.dir / 'redis.log').read_text()}")
                time.sleep(0.05)
        client.close()
        return self

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
