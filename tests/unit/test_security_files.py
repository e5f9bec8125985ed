"""Where output goes (issue 15): ``-o`` replaces only regular files; standard output that cannot be written.

``-o`` writes a regular file (or a new name) atomically, keeps an existing file's permissions, writes through a
FIFO and a character device (a null device made with ``mknod`` when the tests run as root: never replaced by
a file; a full one is exit 1) and the process's own /dev/stdout, and refuses with one line and exit 2 a
symbolic link, a directory, a block device, a socket, a read-only file and a folder it cannot write.
Standard output on a full disk is one line and exit 1 for every command that prints; a closed pipe is quiet.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.store.db import open_writer
from tests.support.helpers import REPO_ROOT
from tests.support.query_corpus import add_bulk, build
from tests.support.unprivileged import files_in, run_monitor, shared_folder, unprivileged_or_skip

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "m.db"
    with open_writer(path) as storage:
        build(storage)
    return path


# command -> arguments before -o
WRITERS = {
    "export": ["export"],
    "digest": ["digest", "--since", "30d"],
    "feed": ["feed", "--topic", "kz-us"],
}


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def one_error(result, code: int, *words: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


@pytest.mark.parametrize("cmd", list(WRITERS))
def test_regular_file_is_replaced_atomically_keeping_its_mode(db, tmp_path, cmd):
    out = tmp_path / "out.txt"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o600)
    result = run([*WRITERS[cmd], "--db", db, "-o", out])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") != "old\n" and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]       # no temporary file left
    new = tmp_path / "new.txt"
    old_mask = os.umask(0o027)
    try:
        assert run([*WRITERS[cmd], "--db", db, "-o", new]).exit_code == 0
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o640                        # 0666 less the umask


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
@pytest.mark.parametrize("cmd", list(WRITERS))
def test_symbolic_link_is_refused(db, tmp_path, cmd, dangling):
    target = tmp_path / "precious.txt"
    if not dangling:
        target.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    one_error(run([*WRITERS[cmd], "--db", db, "-o", link]), 2, "out.txt", "symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "keep me\n" if not dangling else not target.exists()


@pytest.mark.parametrize("cmd", list(WRITERS))
def test_fifo_is_written_through(db, tmp_path, cmd):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = run([*WRITERS[cmd], "--db", db, "-o", fifo])
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    expected = run([*WRITERS[cmd], "--db", db]).stdout.encode()
    if cmd == "digest":      # the digest's header says when it was generated (to the minute)
        assert got[0].splitlines()[4:] == expected.splitlines()[4:]
    elif cmd == "feed":      # and so does the feed's <updated> when nothing newer is in it
        assert got[0].count(b"<entry>") == expected.count(b"<entry>") > 0
    else:
        assert got[0] == expected


def test_dev_null_stays_a_device(db):
    result = run(["export", "--db", db, "-o", os.devnull])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


@pytest.fixture
def device(tmp_path):
    """mknod NAME c MAJOR MINOR in tmp_path (root only; skipped elsewhere or where devices cannot be made)."""
    if not ROOT:
        pytest.skip("mknod needs root")

    def make(name: str, major: int, minor: int, kind: int = stat.S_IFCHR) -> Path:
        path = tmp_path / name
        try:
            os.mknod(path, 0o666 | kind, os.makedev(major, minor))
        except OSError as exc:
            pytest.skip(f"cannot make a device node here: {exc}")
        return path

    return make


@pytest.mark.parametrize("cmd", list(WRITERS))
def test_null_device_is_written_through_not_replaced(db, device, cmd):
    null = device("null", 1, 3)
    result = run([*WRITERS[cmd], "--db", db, "-o", null])
    assert result.exit_code == 0, result.output
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


@pytest.mark.parametrize("cmd", list(WRITERS))
def test_full_device_is_one_line_exit_1_and_stays_a_device(db, device, cmd):
    full = device("full", 1, 7)
    one_error(run([*WRITERS[cmd], "--db", db, "-o", full]), 1, "full", "No space left on device")
    st = os.lstat(full)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 7)
    assert files_in(full.parent) == {"full": 0}


def test_block_device_is_refused(db, device):
    disk = device("disk", 240, 0, stat.S_IFBLK)       # major 240: local/experimental, no driver behind it
    one_error(run(["export", "--db", db, "-o", disk]), 2, "block device")
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


def test_socket_and_directory_are_refused(db, tmp_path):
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        one_error(run(["export", "--db", db, "-o", sock_path]), 2, "socket")
    one_error(run(["digest", "--db", db, "-o", tmp_path]), 2)
    one_error(run(["feed", "--topic", "kz-us", "--db", db, "-o", tmp_path / "no" / "f.xml"]), 2, "does not exist")


@pytest.mark.parametrize("cmd", list(WRITERS))
def test_the_database_itself_is_refused(db, tmp_path, cmd):
    copy = tmp_path / "m.db"
    copy.write_bytes(db.read_bytes())
    data = copy.read_bytes()
    one_error(run([*WRITERS[cmd], "--db", copy, "-o", tmp_path / "." / "m.db"]), 2, "is the database being read")
    assert copy.read_bytes() == data


def test_own_stdout_is_written_through(db):
    done = subprocess.run([sys.executable, "-m", "monitor", "export", "--db", str(db), "-o", "/dev/stdout"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 6 and "Exported 6 articles to /dev/stdout" in done.stderr


@pytest.mark.parametrize("case", ["read-only file", "read-only folder"])
def test_unwritable_target_is_one_line_exit_2(db, case):
    unprivileged_or_skip()
    with shared_folder() as d:
        out = d / "out.jsonl"
        out.write_text("old\n", encoding="utf-8")
        out.chmod(0o444 if case == "read-only file" else 0o644)
        (d / "m.db").write_bytes(db.read_bytes())
        (d / "m.db").chmod(0o444)
        if case == "read-only folder":
            d.chmod(0o555)
        done = run_monitor(["export", "--db", d / "m.db", "-o", out], cwd=d)
        assert done.returncode == 2, done.stderr
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1 and "out.jsonl" in errors[0] and "Traceback" not in done.stderr, done.stderr
        assert out.read_text(encoding="utf-8") == "old\n"
        assert sorted(files_in(d)) == ["m.db", "out.jsonl"]


# --------------------------------------------------------------------------- standard output

PRINTERS = {
    "export": ["export"],
    "search": ["search", "kazakh*"],
    "digest": ["digest", "--since", "30d"],
    "feed": ["feed", "--topic", "kz-us"],
    "stats": ["stats"],
    "health": ["health"],
    "sources": ["sources"],
    "--help": ["--help"],
    "search --help": ["search", "--help"],
}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("cmd", list(PRINTERS))
def test_stdout_on_a_full_disk_is_one_line_exit_1(db, cmd):
    args = PRINTERS[cmd] + ([] if cmd in ("sources", "--help", "search --help") else ["--db", str(db)])
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "monitor", *args], cwd=REPO_ROOT, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == ["Error: cannot write to standard output: No space left on device"]


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.db"
    with open_writer(path) as storage:
        build(storage)
        add_bulk(storage, 400)               # about 400 KB of export: more than a pipe holds
    return path


@pytest.mark.parametrize("args", [["export"], ["export", "--format", "csv"], ["search", "kazakhstan", "--limit", "500"],
                                  ["digest", "--since", "30d"]])
def test_a_closed_pipe_is_quiet(big_db, args):
    proc = subprocess.Popen([sys.executable, "-m", "monitor", *args, "--db", str(big_db)], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(100)                    # `| head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert err == ""
