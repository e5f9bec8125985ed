"""`monitor demo`: its own database (./demo.db), --port honoured, a busy port refused in one line (issue 12)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from click.testing import CliRunner

from monitor.cli import cli
from monitor.ports import port_problem
from tests.support.helpers import REPO_ROOT, rows


def listening_socket() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def two_free_ports() -> int:
    """A port P such that P and P + 1 are free on 127.0.0.1 now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p < 65535 and port_problem("127.0.0.1", p) is None and port_problem("127.0.0.1", p + 1) is None:
            return p
    raise AssertionError("no two consecutive free ports")


def test_port_problem_sees_a_listener_and_a_free_port():
    with listening_socket() as busy:
        port = busy.getsockname()[1]
        assert port_problem("127.0.0.1", port) == f"port {port} on 127.0.0.1 is in use (another program listens there)"
    assert port_problem("127.0.0.1", port) is None                # closed: free again
    assert port_problem("127.0.0.1", 0) is None
    assert "not a host name" in port_problem("no-such-host.invalid", 8001)


def test_demo_on_a_busy_port_is_one_line_exit_2_and_writes_nothing(tmp_path):
    with listening_socket() as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["demo", "--port", str(port), "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: port {port} on 127.0.0.1 is in use")
    assert result.output.count("\n") == 1 and "choose another --port" in result.output
    assert list(tmp_path.iterdir()) == []


def test_demo_port_range_beyond_65535_is_refused():
    result = CliRunner().invoke(cli, ["demo", "--port", "65535"])
    assert result.exit_code == 2
    assert result.output == ("Error: --port 65535: the 2 sample sites listen on ports 65535-65536; give a port of "
                             "at most 65534\n")


def test_demo_honours_port_and_writes_demo_db_not_the_users_database(tmp_path):
    """Without --db the demo writes ./demo.db, even when $MONITOR_DB names the user's database."""
    port = two_free_ports()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MONITOR_DB": str(tmp_path / "mine.db")}
    result = subprocess.run([sys.executable, "-m", "monitor", "demo", "--port", str(port), "-q"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "mine.db").exists() and not (tmp_path / "monitor.db").exists()
    urls = [r["url"] for r in rows(tmp_path / "demo.db", "SELECT url FROM articles")]
    assert len(urls) == 10
    assert {u.split("/")[2] for u in urls} == {f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"}
    assert "Next: monitor search --db demo.db 'kazakhstan*'" in result.stdout
    assert "sqlite-utils search demo.db articles kazakhstan" in result.stdout
