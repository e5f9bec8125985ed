"""Run ``monitor`` as a user that file permissions apply to.

Root ignores file modes: a read-only file or folder means something only to another user.  Tests that run as
root run the command as ``nobody`` (``setpriv``); tests that run as an ordinary user run it as themselves.
Either way the command runs in a subprocess (``python -m monitor``), in a folder made by ``shared_folder``
that the other user can enter.  ``unprivileged_or_skip`` skips a test where this cannot work (no setpriv, or
the interpreter or the project cannot be read by nobody).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.helpers import REPO_ROOT

NOBODY = 65534


def _prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def run_monitor(args: list, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m monitor ARGS`` as the unprivileged user, in ``cwd``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT), "LC_ALL": "C.UTF-8"}
    return subprocess.run([*_prefix(), sys.executable, "-m", "monitor", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def unprivileged_or_skip() -> None:
    """Skip unless ``run_monitor`` works here."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
    probe = run_monitor(["--version"], cwd=Path(tempfile.gettempdir()))
    if probe.returncode != 0:
        pytest.skip(f"the unprivileged user cannot run monitor here: {probe.stderr.strip()[-300:]}")


@contextmanager
def shared_folder():
    """A fresh folder under the system temp folder that the unprivileged user can enter and read (pytest's own
    tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="monitor-perm-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in [d, *d.rglob("*")]:          # give the cleanup back its write bits
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


def files_in(folder: Path) -> dict[str, int]:
    """name -> size of every file in ``folder`` (to see that nothing was created or changed in size)."""
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir())}
