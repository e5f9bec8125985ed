"""Files bundled in the ``monitor`` package (sources.toml, topics.toml) as real paths, also from a zipped egg.

Scrapyd runs a deployed project from its egg, a zip file: ``importlib.resources`` can read the bundled
files there, but ``Path.read_text()`` on ``.../project.egg/monitor/sources.toml`` cannot.  ``package_file``
returns the file itself when the package is installed as files, and otherwise a copy extracted once to
the temporary folder (named by a hash of the content, so two versions never share a copy).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path


def package_file(name: str, package: str = "monitor") -> Path:
    res = resources.files(package).joinpath(name)
    path = Path(str(res))
    if path.is_file():
        return path
    data = res.read_bytes()
    target = Path(tempfile.gettempdir()) / f"media-monitor-{hashlib.sha1(data).hexdigest()[:12]}" / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target
