"""Pending URLs (monitor/crawl/frontier.py) and kill -9: a sitemap's URLs wait in the crawl's frontier (a few in
Scrapy's scheduler, some in memory, the rest in a temporary file beside the database); a crawl killed mid-way and
started again fetches and stores every article exactly once: none lost, none stored twice, none fetched again
once stored."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from tests.e2e.test_crash import integrity, kill_session, paths, read_only_count, session_processes, start_crawl, \
    wait_until
from tests.support.fixtureserver import FixtureServer, Site
from tests.support.helpers import FAST_SETTINGS, rows, run_monitor, write_sources
from tests.support.sites.hostile import build_many_site

pytestmark = pytest.mark.slow

N = 120
# 4 requests in Scrapy's scheduler, 5 candidates in memory: nearly all of the sitemap waits in the spill file
SMALL_FRONTIER = ["-s", "MONITOR_QUEUED_REQUESTS=4", "-s", "MONITOR_FRONTIER_MEMORY=5", "-s", "MONITOR_BATCH_SIZE=5",
                  "-s", "MONITOR_BATCH_SECONDS=0.5", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]


def article_requests(server) -> Counter:
    return Counter(r.path for r in server.requests if r.path.startswith("/news/"))


def test_pending_urls_survive_kill_9_every_article_once(tmp_path):
    with FixtureServer(Site()) as server:
        site = build_many_site(server.url, N, delay=0.05, key="frontier")
        server.site.update(site.resources)
        sources = write_sources(tmp_path / "s.toml", [site.source("frontiersite")])
        db = tmp_path / "f.db"

        victim = start_crawl(sources, db, *SMALL_FRONTIER)
        try:
            wait_until(lambda: read_only_count(db) >= 10, victim, what="10 articles were committed")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(30)
            deadline = time.monotonic() + 30
            while session_processes(victim.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            kill_session(victim.pid)
        committed = set(paths(db, server.url))
        assert 10 <= len(committed) < N, "the kill did not land mid-run"
        first = article_requests(server)
        assert max(first.values()) == 1, "the killed run fetched an article twice"
        assert len(first) < N, "the killed run had fetched everything"
        # the spill file has no name: a killed crawl leaves nothing beside the database
        assert not [p.name for p in tmp_path.iterdir() if "frontier" in p.name]
        assert integrity(db) == "ok"

        server.clear_log()
        log = tmp_path / "rerun.log"
        rerun = run_monitor("crawl", "--sources", sources, "--db", db, "--log-file", log, *FAST_SETTINGS,
                            *SMALL_FRONTIER)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        second = article_requests(server)

    final = paths(db, server.url)
    assert len(final) == len(set(final)) == N, "an article lost or stored twice"
    assert final == sorted(f"/news/{i}/story/" for i in range(N))
    assert max(second.values()) == 1, "the re-run fetched an article twice"
    assert not committed & set(second), "the re-run fetched articles stored before the kill"
    assert set(second) == set(final) - committed          # ... and every one that was not
    assert rows(db, "SELECT count(*) AS n FROM articles WHERE duplicate_of IS NOT NULL") == [{"n": 0}]
    crawls = rows(db, "SELECT status, skipped_known, articles_new FROM crawls ORDER BY id")
    assert [c["status"] for c in crawls] == ["interrupted", "finished"]
    assert crawls[1]["articles_new"] == N - len(committed)
    # the re-run's candidates went through the spill file (its pending URLs were on disk)
    text = log.read_text(encoding="utf-8")
    assert "'monitor/frontier/spilled'" in text, text[-2000:]
    assert "'monitor/frontier/left'" not in text
