"""One door, opened once: a `monitor crawl` of several sources connects to its database file exactly once (the
writer, shared by the run and every spider's pipeline through ``monitor.store.db.acquire_writer``)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.fixtureserver import FixtureServer, Site
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, write_sources
from tests.support.sites import build_news_site

# run_crawl in a fresh process, every sqlite3.connect of that process recorded
SCRIPT = """
import json, sqlite3, sys
connects = []
real_connect = sqlite3.connect
def counting(target, *args, **kwargs):
    connects.append(str(target))
    return real_connect(target, *args, **kwargs)
sqlite3.connect = counting
from monitor.crawl.run import run_crawl
sources, db, *overrides = sys.argv[1:]
summary = run_crawl((), sources_path=sources, db_path=db, overrides=overrides, echo=lambda line: None)
print(json.dumps({"connects": connects, "status": summary.status, "new": summary.totals["articles_new"]}))
"""


def test_a_crawl_connects_to_its_database_once(tmp_path):
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as one, FixtureServer(Site()) as two:
        sites = [build_news_site(one.url, n_articles=3, with_feed="rss2", with_sitemap=None),
                 build_news_site(two.url, n_articles=3, with_feed="atom", with_sitemap=None)]
        one.site.update(sites[0])
        two.site.update(sites[1])
        sources = write_sources(tmp_path / "s.toml", [sites[0].source("first", declare_feeds=True),
                                                      sites[1].source("second", declare_feeds=True)])
        overrides = [v for v in FAST_SETTINGS if v != "-s"]
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(sources), str(db), *overrides], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "finished" and report["new"] == 6
    to_the_file = [c for c in report["connects"] if c.endswith("m.db") or "m.db?" in c]
    assert to_the_file == [str(db)], report["connects"]
    crawl = rows(db, "SELECT status, sources, articles_new FROM crawls")
    assert crawl == [{"status": "finished", "sources": '["first", "second"]', "articles_new": 6}]
