"""``monitor demo``: crawl a bundled offline sample of news sites, so a new user sees the whole flow.

The sample (``monitor/demo_site/``, written for this project) is served on 127.0.0.1 by
``monitor.demoserver`` (one static server per site); a temporary sources file points at it; then the real
crawler runs.  ``python -m monitor.demo [--port N]`` only serves the sample sites, until Ctrl-C.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from monitor.demoserver import StaticServer

DEMO_DB = "demo.db"
DEMO_HOST = "127.0.0.1"
DEMO_DIR = Path(__file__).resolve().with_name("demo_site")
# name -> (language, feed paths, sitemap paths, description); one directory each in monitor/demo_site/
DEMO_SITES = {
    "steppe-herald": ("en", ("/feed.xml",), (), "The Steppe Herald (demo): English-language news, RSS feed"),
    "dala-news": ("ru", (), ("/sitemap.xml",), "Dala News (demo): Russian and Kazakh news, sitemap only"),
}


class DemoSite(NamedTuple):
    name: str
    server: StaticServer
    language: str


def start_demo_servers(port: int = 0) -> list[DemoSite]:
    """Start one static server per sample site; the caller stops them (``site.server.stop()``).  ``port``:
    the sites listen on port, port + 1, ... (0: any free ports)."""
    started: list[DemoSite] = []
    try:
        for i, (name, (language, *_rest)) in enumerate(DEMO_SITES.items()):
            server = StaticServer(DEMO_DIR / name, DEMO_HOST, port + i if port else 0).start()
            started.append(DemoSite(name, server, language))
    except BaseException:
        for demo in started:
            demo.server.stop()
        raise
    return started


def demo_sources(servers: Iterable[DemoSite]) -> list[dict]:
    """``[[source]]`` tables (as dicts) for running sample sites; feeds/sitemaps are given explicitly."""
    entries = []
    for name, server, language in servers:
        _lang, feeds, sitemaps, description = DEMO_SITES[name]
        entry = {"name": name, "url": server.url + "/", "language": language, "description": description}
        if feeds:
            entry["feeds"] = [server.url_for(p) for p in feeds]
        if sitemaps:
            entry["sitemaps"] = [server.url_for(p) for p in sitemaps]
        entries.append(entry)
    return entries


DEMO_SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=false", "ROBOTSTXT_OBEY=true",
                 "MONITOR_PROGRESS_INTERVAL=0")


def write_sources_file(entries: list[dict], path: Path) -> Path:
    from monitor.sources.render import sources_toml

    path.write_text(sources_toml(entries), encoding="utf-8")
    return path


def demo_db_path(db_path=None) -> Path:
    """--db FILE, else ./demo.db: never $MONITOR_DB or ./monitor.db, so sample articles stay out of the
    user's own database."""
    return Path(db_path) if db_path else Path(DEMO_DB)


def demo_ports(port: int) -> list[int]:
    """The ports of the sample sites for ``--port``: port, port + 1, ... (0: any free ports)."""
    return [port + i if port else 0 for i in range(len(DEMO_SITES))]


def check_demo_ports(port: int) -> None:
    """UsageError (one line, exit 2) when a sample site could not listen on its port."""
    from monitor.errors import UsageError
    from monitor.ports import ensure_port_free

    ports = demo_ports(port)
    if ports[-1] > 65535:
        raise UsageError(f"--port {port}: the {len(ports)} sample sites listen on ports {port}-{ports[-1]}; "
                         f"give a port of at most {65535 - len(ports) + 1}")
    for p in ports:
        ensure_port_free(DEMO_HOST, p, f"the {len(ports)} sample sites listen on ports {port}-{ports[-1]}: "
                                       "choose another --port, or leave it out for free ports")


def run_demo(*, db_path=None, port: int = 0, topics_path=None, echo=print):
    from monitor.crawl.run import run_crawl
    from monitor.errors import UsageError
    from monitor.store.db import open_writer

    check_demo_ports(port)                     # before anything is written
    db_path = demo_db_path(db_path)
    open_writer(db_path).close()    # a bad --db is refused before the sample sites start
    try:
        servers = start_demo_servers(port=port)
    except OSError as exc:                     # taken between the check and the start
        raise UsageError(f"the sample sites cannot listen on ports from {port}: {exc.strerror or exc}; "
                         "choose another --port, or leave it out for free ports") from None
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
    db = demo_db_path(db_path)
    return (f"Next: monitor search --db {db} 'kazakhstan*'\n"
            f"      sqlite-utils search {db} articles kazakhstan -c source -c title -t\n"
            f"      sqlite3 {db} 'SELECT source, title, published FROM articles'")


def main(argv: list[str] | None = None) -> int:
    """``python -m monitor.demo [--port N]``: serve the sample sites on 127.0.0.1 until Ctrl-C."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m monitor.demo",
                                     description="Serve the bundled sample news sites on 127.0.0.1 (Ctrl-C stops).")
    parser.add_argument("--port", type=int, default=0, help="first port (the sites use port, port + 1); "
                                                            "0 (default): any free ports")
    args = parser.parse_args(argv)
    servers = start_demo_servers(port=args.port)
    try:
        for name, server, language in servers:
            print(f"{name} ({language}): {server.url}/", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for demo in servers:
            demo.server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
