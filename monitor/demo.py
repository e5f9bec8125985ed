"""``monitor demo``: crawl a bundled offline sample of news sites, so a new user sees the whole flow.

The sample (``monitor/demo_site/``, written for this project) is served on 127.0.0.1 by
``monitor.fixtureserver``; a temporary sources file points at it; then the real crawler runs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

DEMO_SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=false", "ROBOTSTXT_OBEY=true",
                 "MONITOR_PROGRESS_INTERVAL=0")


def write_sources_file(entries: list[dict], path: Path) -> Path:
    lines = []
    for entry in entries:
        lines.append("[[source]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_demo(*, db_path=None, topics_path=None, echo=print):
    from monitor.crawl import run_crawl
    from monitor.fixtureserver import demo_sources, start_demo_servers
    from monitor.storage import Storage

    Storage.open(db_path).close()   # a bad --db is refused before the sample sites start
    servers = start_demo_servers()
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp:
            sources_file = write_sources_file(demo_sources(servers), Path(tmp) / "demo-sources.toml")
            for name, server, language in servers:
                echo(f"demo site {name} ({language}) at {server.url}/")
            summary = run_crawl((), sources_path=sources_file, topics_path=topics_path, db_path=db_path,
                                overrides=DEMO_SETTINGS, echo=echo)
    finally:
        for demo in servers:
            demo.server.stop()
    return summary


def next_steps(db_path=None) -> str:
    from monitor.storage import resolve_db_path

    db = resolve_db_path(db_path)
    return (f"Next: monitor search --db {db} 'kazakhstan*'\n"
            f"      sqlite3 {db} 'SELECT source, title, published FROM articles'")
