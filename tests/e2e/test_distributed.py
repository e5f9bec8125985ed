"""Distributed crawling: scrapy-redis queue and fingerprints in a real Redis, the ingester as single writer.

Every test here talks to a real ``redis-server`` started on a free loopback port in a temporary folder
(``tests/support/redis_server.py``); they skip when the binary is missing locally (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.support.fixtureserver import FixtureServer, Site
from tests.support.distributed_site import article_path, build_bulk_site, bulk_source
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, run_monitor, write_sources
from tests.support.redis_server import RedisServer, redis_binary

pytestmark = pytest.mark.skipif(redis_binary() is None,
                                reason="redis-server is not installed (apt-get install redis-server; CI has it)")

WORKER_SETTINGS = [*FAST_SETTINGS, "-s", "MONITOR_REDIS_HEARTBEAT=0.5", "-s", "MONITOR_REDIS_WORKER_TIMEOUT=6"]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def rclient(redis_server, redis_url):
    client = redis_server.client()          # on a flushed Redis (redis_url)
    yield client
    client.close()


# --------------------------------------------------------------------------- messages and ingester

def _record(i: int, source: str = "bulk", text: str | None = None):
    from monitor.store.records import ArticleRecord
    from tests.support.distributed_site import article_text

    title, paras = article_text(i)
    return ArticleRecord(url=f"http://example.test/news/{i}.html", source=source, title=title,
                         text=text or "\n".join(paras), language="en",
                         variants=[f"http://example.test/news/{i}.html?utm_source=x", f"http://example.test/go/{i}"],
                         redirects=[f"http://example.test/go/{i}"],
                         extra={"hreflang": [["en", f"http://example.test/news/{i}.html"]], "minhash": b"\x00\x01"})


def _msg(kind: str, run: str = "k@run1", worker: str = "w1", spider: str = "bulk", **data) -> str:
    return json.dumps({"v": 1, "type": kind, "run": run, "crawl": run.split("@")[0], "worker": worker,
                       "spider": spider, "at": "2026-01-01T00:00:00+00:00", **data})


def _push(client, *messages, prefix="monitor"):
    for m in messages:
        client.lpush(f"{prefix}:items", m)


def _article(i: int, **kw) -> str:
    from monitor.distributed.protocol import record_to_json

    return _msg("article", record=record_to_json(_record(i)), **kw)


def test_record_json_round_trip_keeps_bytes_and_variants():
    from monitor.distributed.protocol import record_from_json, record_to_json

    rec = _record(3)
    data = json.loads(json.dumps(record_to_json(rec)))
    back = record_from_json(data)
    assert back.url == rec.url and back.text == rec.text and back.title == rec.title
    assert list(back.variants) == list(rec.variants)
    assert list(back.redirects) == ["http://example.test/go/3"]
    del data["redirects"]                                   # a message of a worker older than redirects
    assert record_from_json(data).redirects == ()
    assert back.extra["minhash"] == b"\x00\x01"
    assert back.extra["hreflang"] == [["en", "http://example.test/news/3.html"]]


def test_ingest_stores_articles_errors_and_completes_the_run(tmp_path, redis_url, rclient):
    from monitor.distributed.ingester import run_ingest

    _push(rclient, _msg("start", timeout=30, workers_key="monitor:k:bulk:workers", run_key="monitor:k:run"),
          *[_article(i) for i in range(5)], _article(2),
          _msg("error", error={"url": "http://example.test/x", "source": "bulk", "reason": "not_found",
                               "http_status": 404, "detail": "article page answered HTTP 404"}),
          _msg("finish", reason="finished", cleaned=True,
               counts={"pages_fetched": 7, "skipped_known": 1, "articles_pushed": 6}))
    db = tmp_path / "m.db"
    summary = run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    assert summary.messages == 9 and summary.statuses == {"new": 5, "known": 1} and summary.errors == 1
    assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == 5
    assert rows(db, "SELECT count(*) n FROM article_urls WHERE url LIKE '%utm_source%'")[0]["n"] == 5
    crawl = rows(db, "SELECT * FROM crawls")
    assert len(crawl) == 1
    assert crawl[0]["status"] == "finished" and crawl[0]["finished_at"]
    assert (crawl[0]["articles_new"], crawl[0]["errors"], crawl[0]["pages_fetched"]) == (5, 1, 7)
    assert {r["crawl_id"] for r in rows(db, "SELECT crawl_id FROM articles")} == {crawl[0]["id"]}
    assert rows(db, "SELECT crawl_id, reason FROM fetch_errors") == [{"crawl_id": crawl[0]["id"], "reason": "not_found"}]
    # topics are applied as in a local crawl (every fifth bulk text mentions Kazakhstan)
    tagged = rows(db, "SELECT DISTINCT a.url FROM article_topics t JOIN articles a ON a.id = t.article_id")
    assert {r["url"] for r in tagged} == {"http://example.test/news/0.html"}
    assert rclient.llen("monitor:items") == 0 and rclient.llen("monitor:items:processing") == 0
    # the ingester filled the known-URL index the workers consult: URL -> "ARTICLE_ID FETCHED_AT"
    aid = rows(db, "SELECT id FROM articles WHERE url = 'http://example.test/news/4.html'")[0]["id"]
    assert rclient.hget("monitor:known", "http://example.test/news/4.html").decode().startswith(f"{aid} ")
    assert rclient.hget("monitor:known", "http://example.test/news/4.html?utm_source=x").decode().startswith(f"{aid} ")
    # the redirect that led to the article: kind 'redirect' in the file, known to the workers
    assert rows(db, "SELECT article_id, kind FROM article_urls WHERE url = 'http://example.test/go/4'") == [
        {"article_id": aid, "kind": "redirect"}]
    assert rclient.hget("monitor:known", "http://example.test/go/4").decode().startswith(f"{aid} ")


def test_ingest_records_url_aliases_and_refetches(tmp_path, redis_url, rclient):
    from monitor.distributed.ingester import run_ingest
    from monitor.distributed.protocol import record_to_json

    db = tmp_path / "m.db"
    _push(rclient, _msg("start"), _article(1),
          _msg("alias", url="http://example.test/news/1.html?ref=tw", keys=["http://example.test/news/1.html"]))
    run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    assert rows(db, "SELECT count(*) n FROM article_urls WHERE url LIKE '%ref=tw'")[0]["n"] == 1
    aid = rows(db, "SELECT id FROM articles")[0]["id"]
    changed = _record(1, text=_record(7).text)              # the page changed since it was stored
    changed.extra["refetch"] = aid                           # a worker decided to fetch it again
    _push(rclient, _msg("article", record=record_to_json(changed)))
    summary = run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    assert summary.statuses == {"updated": 1}
    assert rows(db, "SELECT count(*) n FROM article_versions")[0]["n"] == 1


def test_two_runs_get_two_crawl_rows(tmp_path, redis_url, rclient):
    from monitor.distributed.ingester import run_ingest

    _push(rclient, _msg("start", run="k@a"), _article(1, run="k@a"), _msg("finish", run="k@a", reason="finished"),
          _msg("start", run="k@b", worker="w2"), _article(2, run="k@b", worker="w2"))
    db = tmp_path / "m.db"
    run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    got = rows(db, "SELECT r.run, c.status, c.articles_new FROM redis_runs r JOIN crawls c ON c.id = r.crawl_id "
                   "ORDER BY r.run")
    assert got == [{"run": "k@a", "status": "finished", "articles_new": 1},
                   {"run": "k@b", "status": "running", "articles_new": 1}]


def test_ingester_replays_a_batch_it_did_not_commit(tmp_path, redis_url, rclient):
    """An ingester killed after LMOVE but before its commit: the next one stores the batch."""
    from monitor.distributed.ingester import run_ingest

    for m in [_msg("start"), _article(1), _article(2)]:
        rclient.lpush("monitor:items:processing", m)      # what LMOVE had moved when the ingester died
    _push(rclient, _article(3))
    db = tmp_path / "m.db"
    summary = run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    assert summary.replayed == 3
    assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == 3
    assert rclient.llen("monitor:items:processing") == 0


def test_ingester_drops_a_batch_it_committed_but_did_not_acknowledge(tmp_path, redis_url, rclient):
    """Killed between the SQLite commit and the Redis DEL: the batch is not applied twice."""
    from monitor.distributed.ingester import Ingester

    batch = [_msg("start"), _article(1),
             _msg("error", error={"url": "http://example.test/y", "source": "bulk", "reason": "timeout"})]
    _push(rclient, *batch)
    db = tmp_path / "m.db"
    ing = Ingester(redis_url, db, echo=lambda m: None)
    raw = ing._take_batch(0.1)
    ing._apply(raw)                                        # committed ... then the process dies
    ing.storage.close()
    rclient.delete("monitor:ingester")                     # its lock would expire; do not wait for it here
    assert rclient.llen("monitor:items:processing") == 3
    summary = Ingester(redis_url, db, echo=lambda m: None).run(until_empty=True)
    assert summary.replayed == 0 and summary.messages == 0
    assert rows(db, "SELECT count(*) n FROM fetch_errors")[0]["n"] == 1
    assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == 1
    assert rclient.llen("monitor:items:processing") == 0


def test_one_ingester_at_a_time(tmp_path, redis_url, rclient):
    from monitor.errors import UsageError
    from monitor.distributed.ingester import Ingester

    rclient.set("monitor:ingester", "otherhost:1234")
    with pytest.raises(UsageError, match="another ingester"):
        Ingester(redis_url, tmp_path / "m.db", echo=lambda m: None)


def test_worker_gone_without_finish_marks_the_run_interrupted(tmp_path, redis_url, rclient):
    from monitor.distributed.ingester import run_ingest

    rclient.hset("monitor:k:bulk:workers", "w1", 1)       # last heartbeat in 1970: dead
    _push(rclient, _msg("start", timeout=5, workers_key="monitor:k:bulk:workers", run_key="monitor:k:run"),
          _article(1))
    db = tmp_path / "m.db"
    summary = run_ingest(redis_url, db, until_empty=True, echo=lambda m: None)
    assert [s for _, _, s in summary.runs_finished] == ["interrupted"]
    state = json.loads(rows(db, "SELECT state FROM redis_runs")[0]["state"])
    assert state["workers"]["w1/bulk"]["status"] == "lost"
    assert rows(db, "SELECT status FROM crawls")[0]["status"] == "interrupted"


def test_ingest_cli_needs_redis_and_reports_unreachable_redis(tmp_path):
    res = run_monitor("ingest", "--db", tmp_path / "m.db", "--until-empty", env={"MONITOR_REDIS_URL": ""})
    assert res.returncode == 2 and "--redis" in res.stderr
    res = run_monitor("ingest", "--redis", "redis://127.0.0.1:1/0", "--db", tmp_path / "m.db", "--until-empty")
    assert res.returncode == 1 and "cannot be reached" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_crawl_cli_reports_unreachable_redis_and_bad_input(tmp_path, redis_url):
    sources = write_sources(tmp_path / "s.toml", [bulk_source("http://127.0.0.1:9")])
    res = run_monitor("crawl", "--sources", sources, "--redis", "redis://127.0.0.1:1/0")
    assert res.returncode == 1 and "cannot be reached" in res.stderr and "Traceback" not in res.stderr
    res = run_monitor("crawl", "--sources", sources, "--redis", "redis:/nonsense")
    assert res.returncode == 2 and "not a Redis URL" in res.stderr, res.stderr
    res = run_monitor("crawl", "--sources", sources, "--redis", redis_url, "--crawl-key", "a:b")
    assert res.returncode == 2 and "crawl key" in res.stderr and "Traceback" not in res.stderr, res.stderr


# --------------------------------------------------------------------------- Lua queue semantics

def _scripts(client):
    from monitor.distributed import workers as d

    return {n: client.register_script(getattr(d, n)) for n in ("_POP", "_RECOVER", "_JOIN", "_LEAVE")}


def test_popped_requests_stay_in_flight_until_acknowledged(rclient):
    s = _scripts(rclient)
    rclient.zadd("q", {b"req-a": -1, b"req-b": 0})
    assert s["_POP"](keys=["q", "inflight:w1"], args=["1"]) == b"req-a"       # highest priority first
    assert rclient.hgetall("inflight:w1") == {b"1": b"-1\nreq-a"}
    assert s["_POP"](keys=["q", "inflight:w1"], args=["2", "1"]) == b"req-b"  # and token 1 acknowledged
    assert rclient.hkeys("inflight:w1") == [b"2"]
    assert s["_POP"](keys=["q", "inflight:w1"], args=["3"]) is None


def test_in_flight_requests_of_a_silent_worker_go_back_to_the_queue(rclient):
    s = _scripts(rclient)
    now = int(rclient.time()[0])
    rclient.hset("workers", mapping={"dead": now - 100, "alive": now, "me": now})
    rclient.hset("inflight:dead", mapping={"7": b"-5\nreq-x", "8": b"0\nreq-y"})
    rclient.hset("inflight:alive", mapping={"1": b"0\nreq-z"})
    moved, busy, alive = s["_RECOVER"](keys=["q", "workers"], args=[10, "me", "inflight:"])
    assert (moved, busy, alive) == (2, 1, 1)
    assert rclient.zrange("q", 0, -1, withscores=True) == [(b"req-x", -5.0), (b"req-y", 0.0)]
    assert not rclient.exists("inflight:dead") and set(rclient.hkeys("workers")) == {b"alive", b"me"}


def test_last_worker_to_leave_cleans_the_crawl_state(rclient):
    s = _scripts(rclient)
    keys = ["q", "df", "workers", "run", "spiders"]
    assert s["_JOIN"](keys=["workers", "run", "spiders"], args=["w1", "k@1", "bulk"]) == b"k@1"
    assert s["_JOIN"](keys=["workers", "run", "spiders"], args=["w2", "k@2", "bulk"]) == b"k@1"   # same run
    rclient.sadd("df", "fp1")
    rclient.hset("inflight:w1", "3", b"0\nreq-unfinished")
    # w1 stops (e.g. Ctrl-C) with a request in flight: it goes back; w2 is alive, nothing is deleted
    assert s["_LEAVE"](keys=[*keys, "inflight:w1"], args=["w1", 10, "inflight:", "bulk"]) == [1, 0]
    assert rclient.zcard("q") == 1 and rclient.exists("df", "run") == 2
    rclient.delete("q")                                     # w2 works the queue off
    assert s["_LEAVE"](keys=[*keys, "inflight:w2"], args=["w2", 10, "inflight:", "bulk"]) == [0, 1]
    assert rclient.keys("*") == []


def test_addon_switches_to_redis_only_with_a_url():
    from scrapy.settings import Settings

    from monitor.crawl.pipelines import StoragePipeline
    from monitor.crawl.urlmemory import UrlMemory
    from monitor.distributed.workers import RedisAddon, RedisPushPipeline, RedisUrlMemory

    def settings(**extra):
        s = Settings()
        s.setmodule("monitor.settings", priority="project")
        for k, v in extra.items():
            s.set(k, v, priority="cmdline")
        RedisAddon().update_settings(s)
        return s

    env = os.environ.pop("MONITOR_REDIS_URL", None)
    try:
        plain = settings()
        assert plain.get("SCHEDULER") != "monitor.distributed.workers.RedisScheduler"
        assert "monitor.crawl.pipelines.StoragePipeline" in plain.getdict("ITEM_PIPELINES")
        assert "monitor.crawl.urlmemory.UrlMemory" in plain.getdict("EXTENSIONS")
        dist = settings(MONITOR_REDIS_URL="redis://127.0.0.1:6379/0", MONITOR_REDIS_CRAWL="nightly")
    finally:
        if env is not None:
            os.environ["MONITOR_REDIS_URL"] = env
    assert dist.get("SCHEDULER") == "monitor.distributed.workers.RedisScheduler"
    assert dist.get("DUPEFILTER_CLASS") == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert dist.getbool("SCHEDULER_PERSIST") is True
    assert dist.get("SCHEDULER_QUEUE_KEY") == "monitor:nightly:%(spider)s:requests"
    pipes = dist.getdict("ITEM_PIPELINES")
    assert pipes.get(RedisPushPipeline) == 800 and StoragePipeline not in pipes
    assert "monitor.crawl.pipelines.StoragePipeline" not in pipes
    extensions = dist.getdict("EXTENSIONS")   # the URL memory reads Redis, not the SQLite file
    assert extensions.get(RedisUrlMemory) == 100 and UrlMemory not in extensions
    assert "monitor.crawl.urlmemory.UrlMemory" not in extensions


def test_redis_url_memory_reads_and_marks_the_known_hash(redis_url, rclient):
    """A worker's URL memory: stored articles (id and fetched_at from the ingester), pushed ones ("") and no
    validators (workers read feeds in full)."""
    from scrapy.utils.test import get_crawler

    from monitor.distributed.workers import RedisUrlMemory

    stored, pushed = "https://news.example/2026/03/01/a/", "https://news.example/2026/03/02/b/"
    rclient.hset("monitor:known", stored, "7 2026-03-01T10:00:00+00:00")
    memory = RedisUrlMemory(get_crawler(settings_dict={"MONITOR_REDIS_URL": redis_url}))
    memory.open()
    try:
        tracked = stored + "?utm_source=x"
        assert memory.known_urls([tracked, pushed]) == {stored}
        assert memory.known_articles([tracked]) == {tracked: (7, "2026-03-01T10:00:00+00:00")}
        memory.add_pending([pushed, stored])            # a stored article's entry is kept (HSETNX)
        assert rclient.hget("monitor:known", pushed) == b"" and rclient.hget("monitor:known", stored).startswith(b"7 ")
        assert memory.known_urls([pushed]) == {pushed} and memory.known_articles([pushed]) == {}
        assert memory.validators(stored) is None and not memory.conditional_get
    finally:
        memory.close()


# --------------------------------------------------------------------------- real crawls

def _popen_monitor(*args, log_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("MONITOR_REDIS_URL", None)
    out = open(log_path, "w")
    return subprocess.Popen([sys.executable, "-m", "monitor", *map(str, args)], cwd=REPO_ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT), out


def _article_counts(server, n):
    counts = Counter(r.url_path for r in server.requests)
    return [counts.get(article_path(i), 0) for i in range(n)]


def _crawl_keys(client):
    return sorted(k.decode() for k in client.keys("monitor:default:*"))


@pytest.mark.slow
def test_two_crawlers_and_one_ingester_store_every_article_once(tmp_path, redis_url, rclient):
    n = 300
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        server.site.update(build_bulk_site(server.url, n))
        sources = write_sources(tmp_path / "sources.toml", [bulk_source(server.url)])
        ingester, ing_out = _popen_monitor("ingest", "--redis", redis_url, "--db", db, log_path=tmp_path / "ingest.out")
        workers = [_popen_monitor("crawl", "--sources", sources, "--redis", redis_url, *WORKER_SETTINGS,
                                  "-s", f"MONITOR_REDIS_WORKER=w{i}", "--log-file", tmp_path / f"w{i}.log",
                                  log_path=tmp_path / f"w{i}.out") for i in (1, 2)]
        codes = [p.wait(240) for p, _ in workers]
        ingester.send_signal(signal.SIGTERM)                # stops after its current batch ...
        assert ingester.wait(60) == 0, (tmp_path / "ingest.out").read_text()
        drain = run_monitor("ingest", "--redis", redis_url, "--db", db, "--until-empty")   # ... the rest
        outs = [(tmp_path / f"w{i}.out").read_text() for i in (1, 2)]
        assert codes == [0, 0], outs
        assert drain.returncode == 0, drain.stderr
        per_article = _article_counts(server, n)
        sitemap_fetches = server.count("/sitemap.xml")

    urls = [r["url"] for r in rows(db, "SELECT url FROM articles")]
    assert len(urls) == n and len(set(urls)) == n
    assert set(urls) == {server.url + article_path(i) for i in range(n)}
    assert per_article == [1] * n, f"fetched twice: {[i for i, c in enumerate(per_article) if c != 1]}"
    assert sitemap_fetches <= 2                             # each worker reads the sitemap at most once
    crawls = rows(db, "SELECT c.status, c.articles_new, r.state FROM crawls c JOIN redis_runs r ON r.crawl_id = c.id")
    assert len(crawls) == 1 and crawls[0]["status"] == "finished" and crawls[0]["articles_new"] == n
    workers_state = json.loads(crawls[0]["state"])["workers"]
    assert {w["status"] for w in workers_state.values()} == {"finished"} and len(workers_state) == 2
    pushed = [w["counts"]["articles_pushed"] for w in workers_state.values()]
    assert sum(pushed) == n
    assert _crawl_keys(rclient) == []                       # the last worker out cleaned the crawl's keys
    print(f"articles pushed per worker: {pushed}; sitemap fetched {sitemap_fetches}x")


@pytest.mark.slow
def test_plain_scrapy_crawl_is_a_worker_with_the_redis_setting(tmp_path, redis_url, rclient):
    """`scrapy crawl NAME -s MONITOR_REDIS_URL=...` (as a Scrapyd job would run) pushes to Redis, no SQLite."""
    n = 15
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        server.site.update(build_bulk_site(server.url, n))
        sources = write_sources(tmp_path / "sources.toml", [bulk_source(server.url)])
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        env.pop("MONITOR_REDIS_URL", None)
        res = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "bulk", "-s", f"MONITOR_SOURCES={sources}",
                              "-s", f"MONITOR_REDIS_URL={redis_url}", "-s", f"MONITOR_DB={db}", *WORKER_SETTINGS],
                             cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, res.stderr[-3000:]
        assert not db.exists()                              # a worker never touches the database
        kinds = Counter(json.loads(m)["type"] for m in rclient.lrange("monitor:items", 0, -1))
        assert kinds == {"start": 1, "article": n, "finish": 1}
        drain = run_monitor("ingest", "--redis", redis_url, "--db", db, "--until-empty")
        assert drain.returncode == 0, drain.stderr
        assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == n
        assert rows(db, "SELECT status FROM crawls") == [{"status": "finished"}]

        # the next run (same crawl key, state cleaned by the last worker) skips every stored article
        server.clear_log()
        again = run_monitor("crawl", "--sources", sources, "--redis", redis_url, *WORKER_SETTINGS)
        assert again.returncode == 0, again.stderr[-3000:]
        assert not [r for r in server.requests if r.url_path.startswith("/news/")]
        assert re.search(rf"bulk\s+\d+\s+0\s+{n}\s+0\s+finished", again.stdout), again.stdout
        assert re.search(r"^run: default@\d{8}T\d{6}Z-\w{6}$", again.stdout, re.M), again.stdout   # the run id


@pytest.mark.slow
def test_killing_one_crawler_loses_nothing(tmp_path, redis_url, rclient):
    n = 300
    db = tmp_path / "m.db"
    with FixtureServer(Site()) as server:
        server.site.update(build_bulk_site(server.url, n, delay=0.05))
        sources = write_sources(tmp_path / "sources.toml", [bulk_source(server.url)])
        workers = {f"w{i}": _popen_monitor("crawl", "--sources", sources, "--redis", redis_url, *WORKER_SETTINGS,
                                           "-s", f"MONITOR_REDIS_WORKER=w{i}", "--log-file", tmp_path / f"w{i}.log",
                                           log_path=tmp_path / f"w{i}.out") for i in (1, 2)}
        inflight = "monitor:default:bulk:inflight:w1"
        deadline = time.monotonic() + 180
        w2_active = False
        # kill w1 while both workers are crawling and w1 has requests in flight
        while True:
            w2_active = w2_active or rclient.hlen("monitor:default:bulk:inflight:w2") > 0
            if w2_active and rclient.hlen(inflight) > 0 and sum(map(bool, _article_counts(server, n))) >= 40:
                break
            assert time.monotonic() < deadline, "the workers never crawled side by side"
            assert workers["w1"][0].poll() is None, (tmp_path / "w1.out").read_text()
            time.sleep(0.02)
        os.kill(workers["w1"][0].pid, signal.SIGKILL)
        in_flight_at_kill = rclient.hlen(inflight)
        assert workers["w1"][0].wait(30) == -signal.SIGKILL
        assert workers["w2"][0].wait(240) == 0, (tmp_path / "w2.out").read_text()
        drain = run_monitor("ingest", "--redis", redis_url, "--db", db, "--until-empty")
        assert drain.returncode == 0, drain.stderr
        per_article = _article_counts(server, n)

    assert in_flight_at_kill > 0
    urls = [r["url"] for r in rows(db, "SELECT url FROM articles")]
    assert len(urls) == n and len(set(urls)) == n          # nothing lost, nothing stored twice
    assert min(per_article) >= 1
    crawl = rows(db, "SELECT c.status, c.articles_new, r.state FROM crawls c JOIN redis_runs r ON r.crawl_id = c.id")
    assert len(crawl) == 1 and crawl[0]["articles_new"] == n and crawl[0]["status"] == "finished"
    states = {k: w["status"] for k, w in json.loads(crawl[0]["state"])["workers"].items()}
    assert states == {"w1/bulk": "lost", "w2/bulk": "finished"}
    w2_log = (tmp_path / "w2.log").read_text()
    assert "in-flight request(s) of worker(s) silent" in w2_log
    assert _crawl_keys(rclient) == []
    refetched = sum(c - 1 for c in per_article if c > 1)
    print(f"in flight at kill: {in_flight_at_kill}; article pages fetched twice: {refetched}")
