"""`monitor serve`: Datasette over the database in a subprocess on a free loopback port."""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from monitor.query.datasette import build_metadata, canned_queries
from monitor.store.db import open_writer
from tests.support.helpers import free_port, http_server
from tests.support.query_corpus import build

pytestmark = pytest.mark.skipif(importlib.util.find_spec("datasette") is None, reason="datasette not installed")


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read().decode("utf-8"))


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "news.db"
    with open_writer(path) as storage:
        ids = build(storage)
    port = free_port()
    with http_server([sys.executable, "-m", "monitor", "serve", "--db", str(path), "--port", str(port),
                      "--host", "127.0.0.1"], port, stop=signal.SIGINT) as base:
        yield base, ids


def test_serve_articles_search_and_canned_queries(served):
    base, ids = served
    rows = get_json(f"{base}/news/articles.json?_shape=array&_size=100")
    assert {r["id"] for r in rows} == set(ids.values())
    q = urllib.parse.quote("қазақстан* OR kazach*")
    found = get_json(f"{base}/news/articles.json?_search={q}&_shape=array")
    assert {r["id"] for r in found} == {ids["trade_kk"], ids["visit_pl"]}
    latest = get_json(f"{base}/news/latest-per-topic.json?_shape=array")
    by_topic = {}
    for r in latest:
        by_topic.setdefault(r["topic"], []).append(r["id"])
    assert ids["deal_copy"] not in by_topic["kz-us"] and ids["trade_kk"] in by_topic["kz-us"]
    reach = get_json(f"{base}/news/stories-by-reach.json?_shape=array")
    assert reach[0]["story"] == ids["deal_en"] and reach[0]["sources"] == 3 and reach[0]["languages"] == "en,ru"
    health = {r["source"]: r for r in get_json(f"{base}/news/source-health.json?_shape=array")}
    assert health["pap"]["errors_7d"] == 1 and health["silentnews"]["articles"] == 0
    meta = get_json(f"{base}/-/metadata.json")
    assert "copyrighted" in meta["license"]
    assert meta["databases"]["news"]["tables"]["articles"]["fts_table"] == "articles_fts"
    # Datasette keeps its own time limit on a query (docs/security.md), and serves no file download
    served_settings = get_json(f"{base}/-/settings.json")
    assert served_settings["sql_time_limit_ms"] == 5000 and served_settings["allow_download"] is False
    endless = urllib.parse.quote("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                 "SELECT count(*) FROM c")
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as stopped:
        get_json(f"{base}/news.json?sql={endless}")
    assert stopped.value.code == 400 and time.monotonic() - started < 30


def test_canned_queries_run_without_story_links(fresh_db):
    """Older or dedup-less databases: the fallback SQL must still be valid."""
    build(fresh_db)
    fresh_db.db.execute("DROP TABLE IF EXISTS story_links")
    for name, q in canned_queries(has_story_links=False).items():
        params = {p: "" for p in re.findall(r":(\w+)", q["sql"])}     # Datasette passes '' for a blank field
        fresh_db.db.execute(q["sql"], params).fetchall()
    assert set(build_metadata("x")["databases"]["x"]["queries"]) == {"latest-per-topic", "stories-by-reach",
                                                                     "coverage", "source-health"}


def test_serve_on_a_busy_port_is_one_line_exit_2(tmp_path):
    """Checked before anything is printed: no 'Serving ... at' followed by a uvicorn error (issue 12)."""
    from click.testing import CliRunner

    from monitor.cli import cli

    path = tmp_path / "news.db"
    open_writer(path).close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(path), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output == (f"Error: port {port} on 127.0.0.1 is in use (another program listens there); "
                             "choose another with --port\n")
