"""Distributed crawling through Redis: N crawler processes share one crawl, one ingester writes SQLite.

Crawler side (``monitor crawl --redis URL``, or any Scrapy run with ``MONITOR_REDIS_URL`` set, such as
``scrapy crawl NAME -s MONITOR_REDIS_URL=...`` or a Scrapyd job): ``RedisAddon`` (listed in ``ADDONS``
of ``monitor.settings``, inactive without a Redis URL) switches the process to

- scrapy-redis's priority queue and ``RFPDupeFilter`` in Redis, through ``RedisScheduler`` (a subclass
  of scrapy-redis's ``Scheduler``), with ``SCHEDULER_PERSIST = True``: scrapy-redis's default (False)
  makes the first process that finishes delete the queue and the fingerprints of every other process;
- ``RedisPushPipeline`` instead of ``StoragePipeline``: extracted articles and fetch errors are pushed
  as JSON to the list ``{prefix}:items``; ``RedisUrlMemory`` instead of ``UrlMemory`` (the spider's memory of
  stored articles): the ``{prefix}:known`` hash.  Nothing touches SQLite on a crawler machine.  Key names and
  messages: ``monitor.distributed.protocol``, shared with the ingester.

``RedisScheduler`` adds what scrapy-redis lacks for "no page fetched twice, no page lost":

- a request popped from the queue is moved, in the same Lua call, to the worker's in-flight hash
  ``{base}:{spider}:inflight:{worker}``; it is acknowledged (removed) once Scrapy has finished with it
  (downloaded, callback run, its items through the pipelines and its new requests queued).  A worker
  killed with ``SIGKILL`` stops sending heartbeats to ``{base}:{spider}:workers``; after
  ``MONITOR_REDIS_WORKER_TIMEOUT`` seconds another worker puts its in-flight requests back in the
  queue.  (Plain scrapy-redis loses them: they left the queue and their fingerprints are in the
  dupefilter, so nobody fetches them again.)
- an idle worker stays open while another live worker still has requests in flight (they may queue
  more), so the last page of a crawl is not left to one process.
- the last worker to leave deletes the crawl's queue and fingerprints, so the next run of the same
  crawl key starts clean; a run stopped half-way keeps them, and the next workers resume it.

scrapy-redis 0.9.1 and Scrapy 2.19: only ``RedisSpider``/``RedisMixin`` depend on ``start_requests``
(which Scrapy 2.16+ no longer calls); the scheduler and dupefilter used here do not, and our
``NewsSpider.start()`` seeds each worker.  No shim is needed beyond the subclass above.

Seeding: every worker runs ``start()``, so every worker fetches the feeds, sitemap files, robots.txt,
home and section pages itself (they are ``dont_filter``: re-read on every crawl).  Identical requests
pushed by several workers are one member of the Redis sorted set, so a child sitemap queued by three
workers at once is fetched once; queued at different times, once per worker.  Article pages and
link-followed listing pages go through the shared dupefilter: fetched once per crawl run.

Ingester side (``monitor.distributed.ingester``, ``monitor ingest --redis URL --db FILE``): ``run_ingest`` moves messages from
``{prefix}:items`` to ``{prefix}:items:processing`` (LMOVE), writes them with ``Writer.write_batch`` in
one SQLite transaction, and only then deletes the processing list.  A new ingester first replays a
processing list left by a dead one; a marker written in the batch's own transaction tells whether that
batch was already committed, so it is not applied twice.

Crawl ids: crawler processes have no database.  The first worker of a run creates the run id
(``{crawl key}@{UTC time}-{random}``, key ``{base}:run``); every message carries it.  The ingester
opens one ``crawls`` row per run id when it sees the run's first message (table ``redis_runs`` maps
run id -> crawls.id and keeps each worker's state) and completes the row when every worker that joined
has sent its finish message or stopped sending heartbeats.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from monitor.clock import utcnow_iso
from monitor.crawl.scrapy_compat import (close_spider_later, decode_queued_request, requests_in_progress, scheduler_of,
                                         stats_of, wake_engine)
from monitor.crawl.urlmemory import UrlMemory
from monitor.distributed.protocol import (DEFAULT_PREFIX, check_crawl_key, crawl_base, items_key, known_key, message,
                                          parse_known, record_to_json, redact_url, redis_client, redis_url_from,
                                          worker_id)
from monitor.errors import UsageError
from monitor.outcomes import counts_from_stats, status_from_reason

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- Scrapy add-on

class RedisAddon:
    """Switch a crawl to Redis when ``MONITOR_REDIS_URL`` (setting or environment) is set; else nothing."""

    def update_settings(self, settings) -> None:
        url = redis_url_from(settings)
        if not url:
            return
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(f"MONITOR_REDIS_URL {url!r}: write redis://HOST:PORT/DB")
        if _RedisSchedulerBase is object:
            raise UsageError("distributed crawling needs scrapy-redis: pip install 'media-monitor[distributed]'")
        prefix = settings.get("MONITOR_REDIS_PREFIX") or DEFAULT_PREFIX
        base = crawl_base(prefix, check_crawl_key(settings.get("MONITOR_REDIS_CRAWL") or "default"))
        for name, value in {
            "MONITOR_REDIS_URL": url,
            "REDIS_URL": url,
            "SCHEDULER": "monitor.distributed.workers.RedisScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": base + ":%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": base + ":%(spider)s:dupefilter",
        }.items():
            settings.set(name, value, priority="cmdline")
        from monitor.crawl.pipelines import StoragePipeline

        try:
            settings.replace_in_component_priority_dict("ITEM_PIPELINES", StoragePipeline, RedisPushPipeline)
        except KeyError:   # a custom ITEM_PIPELINES without StoragePipeline: still never write SQLite here
            settings.set_in_component_priority_dict("ITEM_PIPELINES", RedisPushPipeline, 800)
        try:   # the URL memory reads the {prefix}:known hash instead of the SQLite file
            settings.replace_in_component_priority_dict("EXTENSIONS", UrlMemory, RedisUrlMemory)
        except KeyError:   # no URL memory in a custom EXTENSIONS: every candidate is fetched, no SQLite either
            pass


# --------------------------------------------------------------------------- Lua scripts

# KEYS: queue, inflight hash. ARGV: token for the popped request, then tokens to acknowledge.
_POP = """
for i = 2, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('HSET', KEYS[2], ARGV[1], item[2] .. '\\n' .. item[1])
return item[1]
"""

# Put back the in-flight requests of workers silent for longer than the timeout and forget them.
# KEYS: queue, workers hash. ARGV: timeout, this worker, inflight key prefix.
# Returns {requests put back, live other workers with requests in flight, live other workers}.
_RECOVER = """
local now = tonumber(redis.call('TIME')[1])
local ws = redis.call('HGETALL', KEYS[2])
local moved, busy, alive = 0, 0, 0
for i = 1, #ws, 2 do
  local w, t = ws[i], tonumber(ws[i + 1])
  local key = ARGV[3] .. w
  if w ~= ARGV[2] then
    if now - t > tonumber(ARGV[1]) then
      for _, v in ipairs(redis.call('HVALS', key)) do
        local nl = string.find(v, '\\n', 1, true)
        redis.call('ZADD', KEYS[1], string.sub(v, 1, nl - 1), string.sub(v, nl + 1))
        moved = moved + 1
      end
      redis.call('DEL', key)
      redis.call('HDEL', KEYS[2], w)
    else
      alive = alive + 1
      if redis.call('HLEN', key) > 0 then busy = busy + 1 end
    end
  end
end
return {moved, busy, alive}
"""

# KEYS: workers hash, run key, spiders set. ARGV: this worker, proposed run id, spider name.
_JOIN = """
redis.call('HSET', KEYS[1], ARGV[1], redis.call('TIME')[1])
redis.call('SET', KEYS[2], ARGV[2], 'NX')
redis.call('SADD', KEYS[3], ARGV[3])
return redis.call('GET', KEYS[2])
"""

# KEYS: workers hash. ARGV: this worker.
_BEAT = "redis.call('HSET', KEYS[1], ARGV[1], redis.call('TIME')[1]) return 1"

# A worker leaves: its unfinished in-flight requests go back to the queue; if no live worker is left
# and nothing is queued or in flight, the crawl's state is deleted (the next run starts clean).
# KEYS: queue, dupefilter, workers hash, run key, spiders set, own inflight hash.
# ARGV: this worker, timeout, inflight key prefix, spider name.  Returns {put back, cleaned 0/1}.
_LEAVE = """
local back = 0
for _, v in ipairs(redis.call('HVALS', KEYS[6])) do
  local nl = string.find(v, '\\n', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(v, 1, nl - 1), string.sub(v, nl + 1))
  back = back + 1
end
redis.call('DEL', KEYS[6])
redis.call('HDEL', KEYS[3], ARGV[1])
local now = tonumber(redis.call('TIME')[1])
local ws = redis.call('HGETALL', KEYS[3])
for i = 1, #ws, 2 do
  if now - tonumber(ws[i + 1]) <= tonumber(ARGV[2]) then return {back, 0} end
  if redis.call('HLEN', ARGV[3] .. ws[i]) > 0 then return {back, 0} end
end
if redis.call('ZCARD', KEYS[1]) > 0 then return {back, 0} end
for i = 1, #ws, 2 do redis.call('DEL', ARGV[3] .. ws[i]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[5], ARGV[4])
if redis.call('SCARD', KEYS[5]) == 0 then redis.call('DEL', KEYS[4], KEYS[5]) end
return {back, 1}
"""


# --------------------------------------------------------------------------- scheduler

class _Heartbeat:
    """Writes the worker's heartbeat from its own thread, so a reactor busy with a long extraction is
    not mistaken for a dead worker; only a dead (or SIGKILLed) process stops beating."""

    def __init__(self, url: str, workers_key: str, worker: str, interval: float):
        import threading

        self.client = redis_client(url)
        self.beat = self.client.register_script(_BEAT)
        self.key, self.worker, self.interval = workers_key, worker, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"redis-heartbeat-{worker}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.beat(keys=[self.key], args=[self.worker])
            except Exception:  # noqa: BLE001 - keep beating through a Redis hiccup
                logger.warning("Redis heartbeat failed", exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(self.interval + 5)
        self.client.close()


try:
    from scrapy_redis.scheduler import Scheduler as _RedisSchedulerBase
except ImportError:  # pragma: no cover - scrapy-redis is a dependency; keep `import monitor.distributed.workers` working
    _RedisSchedulerBase = object


class RedisScheduler(_RedisSchedulerBase):
    """scrapy-redis's scheduler plus in-flight tracking, heartbeats, recovery and run ids (see module doc)."""

    @classmethod
    def from_crawler(cls, crawler):
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        s = crawler.settings
        instance.prefix = s.get("MONITOR_REDIS_PREFIX") or DEFAULT_PREFIX
        instance.crawl_key = s.get("MONITOR_REDIS_CRAWL") or "default"
        instance.base = crawl_base(instance.prefix, instance.crawl_key)
        instance.heartbeat = max(0.2, s.getfloat("MONITOR_REDIS_HEARTBEAT"))
        instance.timeout = max(1, int(round(s.getfloat("MONITOR_REDIS_WORKER_TIMEOUT"))))
        instance.worker = s.get("MONITOR_REDIS_WORKER") or worker_id()
        instance.inflight: dict[str, object] = {}   # token -> Request (local view of the in-flight hash)
        instance._seq = 0
        instance._loop = None
        instance._heart = None
        instance.run_id = None
        from scrapy import signals

        crawler.signals.connect(instance.on_idle, signal=signals.spider_idle)
        return instance

    # keys of this spider
    def _k(self, what: str) -> str:
        return f"{self.base}:{self.spider.name}:{what}"

    def open(self, spider):
        # scrapy-redis's open(), without its deprecated Spider.log() call
        from scrapy.utils.misc import load_object

        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider,
                                                 key=self.queue_key % {"spider": spider.name},
                                                 serializer=self.serializer)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if len(self.queue):
            logger.info("resuming a crawl: %d request(s) already queued", len(self.queue), extra={"spider": spider})
        srv = self.server
        self._pop = srv.register_script(_POP)
        self._recover = srv.register_script(_RECOVER)
        self._join = srv.register_script(_JOIN)
        self._leave = srv.register_script(_LEAVE)
        self.inflight_key = self._k(f"inflight:{self.worker}")
        self.inflight_prefix = self._k("inflight:")
        self.workers_key = self._k("workers")
        self.run_key = f"{self.base}:run"
        self.spiders_key = f"{self.base}:spiders"
        proposed = f"{self.crawl_key}@{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        run = self._join(keys=[self.workers_key, self.run_key, self.spiders_key],
                         args=[self.worker, proposed, spider.name])
        self.run_id = run.decode() if isinstance(run, bytes) else run
        if self.stats:   # kept after the spider closed: the worker's summary names the run
            self.stats.set_value("monitor/redis/run", self.run_id)
        self._push_event("start", {"timeout": self.timeout, "workers_key": self.workers_key,
                                   "run_key": self.run_key})
        logger.info("worker %s joined run %s (queue %s)", self.worker, self.run_id, self.queue.key,
                    extra={"spider": spider})
        self._heart = _Heartbeat(redis_url_from(self.crawler.settings), self.workers_key, self.worker,
                                 self.heartbeat)
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.heartbeat, now=False)

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if getattr(self, "_heart", None) is None:   # open() failed before joining: nothing to leave
            return
        self._heart.stop()
        self._ack_done()
        back, cleaned = self._leave(
            keys=[self.queue.key, self.df.key, self.workers_key, self.run_key, self.spiders_key,
                  self.inflight_key],
            args=[self.worker, self.timeout, self.inflight_prefix, self.spider.name])
        if back:
            logger.info("%d unfinished request(s) put back in the shared queue", back, extra={"spider": self.spider})
        self.inflight.clear()
        self._push_event("finish", {"reason": reason, "counts": worker_counts(stats_of(self.crawler)),
                                    "cleaned": bool(cleaned), "requeued": int(back)})

    def message(self, kind: str, data: dict) -> str:
        """A message of this worker's run for ``{prefix}:items`` (``monitor.distributed.protocol.message``)."""
        return message(kind, run=self.run_id, crawl=self.crawl_key, worker=self.worker, spider=self.spider.name,
                       **data)

    def _push_event(self, kind: str, data: dict) -> None:
        self.server.lpush(items_key(self.prefix), self.message(kind, data))

    # requests
    def enqueue_request(self, request):
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self):
        acks = self._done_tokens()
        self._seq += 1
        token = f"{self._seq}"
        data = self._pop(keys=[self.queue.key, self.inflight_key], args=[token, *acks])
        for t in acks:
            self.inflight.pop(t, None)
        if not data:
            return None
        try:
            request = decode_queued_request(self.queue, data)
        except Exception:  # noqa: BLE001 - a request this code cannot rebuild must not circulate forever
            logger.exception("dropping a queued request that cannot be decoded", extra={"spider": self.spider})
            self.server.hdel(self.inflight_key, token)
            return None
        self.inflight[token] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _done_tokens(self) -> list[str]:
        busy = requests_in_progress(self.crawler)
        if busy is None:   # no view of the engine: keep everything until close (recovery may re-fetch)
            return []
        return [t for t, req in self.inflight.items() if req not in busy]

    def _ack_done(self) -> None:
        done = self._done_tokens()
        if done:
            self.server.hdel(self.inflight_key, *done)
            for t in done:
                self.inflight.pop(t, None)

    def _recover_dead(self) -> tuple[int, int, int]:
        moved, busy, alive = self._recover(keys=[self.queue.key, self.workers_key],
                                           args=[self.timeout, self.worker, self.inflight_prefix])
        if moved:
            logger.warning("put back %d in-flight request(s) of worker(s) silent for more than %d s",
                           moved, self.timeout, extra={"spider": self.spider})
            if self.stats:
                self.stats.inc_value("monitor/redis/requeued", moved)
        return int(moved), int(busy), int(alive)

    def _tick(self):
        try:
            self._ack_done()
            self._recover_dead()
            if len(self.queue) and not requests_in_progress(self.crawler):
                wake_engine(self.crawler)
        except Exception:  # noqa: BLE001 - a Redis hiccup must not stop the heartbeat loop
            logger.exception("Redis heartbeat failed", extra={"spider": self.spider})

    def on_idle(self, spider):
        """Stay open while the shared queue has work or another live worker may still add some."""
        from scrapy.exceptions import DontCloseSpider

        self._ack_done()
        _moved, busy, _alive = self._recover_dead()
        if len(self.queue) or busy:
            raise DontCloseSpider


# --------------------------------------------------------------------------- items and the URL memory

class RedisUrlMemory(UrlMemory):
    """The URL memory of a worker (``monitor.crawl.urlmemory``): the ``{prefix}:known`` hash (URL ->
    ``"ARTICLE_ID FETCHED_AT"`` of stored articles, kept by the ingester; ``""`` for URLs a worker pushed and the
    ingester has not stored yet), so incremental crawls skip stored articles on every machine and ``--refresh`` /
    a newer sitemap ``lastmod`` re-fetch them as in a local crawl.  Conditional GET is not used in Redis mode:
    workers read feeds and sitemaps in full."""

    conditional_get = False

    def open(self, spider=None) -> None:
        s = self.crawler.settings
        self.server = redis_client(redis_url_from(s))
        self.key = known_key(s.get("MONITOR_REDIS_PREFIX") or DEFAULT_PREFIX)

    def close(self, spider=None, reason=None) -> None:
        if getattr(self, "server", None) is not None:
            self.server.close()
            self.server = None

    def validators(self, url: str) -> None:
        return None

    def add_pending(self, urls) -> None:
        """Pushed: every worker skips these URLs from now on; the ingester adds the article id once stored."""
        pipe = self.server.pipeline(transaction=False)
        for u in dict.fromkeys(urls):
            pipe.hsetnx(self.key, u, "")
        pipe.execute()

    def clear_pending(self) -> None:   # the "" entries stay until the ingester replaces them
        pass

    def _stored(self, candidates: list[str]) -> set[str]:
        return {u for u, v in zip(candidates, self.server.hmget(self.key, candidates)) if v is not None}

    def _article(self, keys: list[str]) -> tuple[int, str] | None:
        return next((found for v in self.server.hmget(self.key, keys) if (found := parse_known(v))), None)


class RedisPushPipeline:
    """Replaces StoragePipeline in Redis mode: articles and fetch errors go to ``{prefix}:items`` as JSON.

    Each article's URLs go to the worker's URL memory (``RedisUrlMemory.add_pending``), so no worker fetches it
    again; ``url_alias`` items (URL variants seen, not fetched) are pushed for the ingester."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.prefix = s.get("MONITOR_REDIS_PREFIX") or DEFAULT_PREFIX
        self.url = redis_url_from(s)
        self.max_articles = s.getint("MONITOR_MAX_ARTICLES")
        self.server = None
        self.memory = None
        self.pushed = 0
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.server = redis_client(self.url)
        self.items_key = items_key(self.prefix)
        self.memory = self.crawler.get_extension(UrlMemory)

    def close_spider(self):
        if self.server is not None:
            self.server.close()

    def _message(self, kind: str, data: dict) -> str:
        sched = scheduler_of(self.crawler)
        if isinstance(sched, RedisScheduler):
            return sched.message(kind, data)
        return message(kind, run=None, crawl=None, worker=None, spider=self.crawler.spider.name, **data)

    async def process_item(self, item):
        kind = item.get("kind")
        stats = self.crawler.stats
        if kind == "article":
            rec = item["record"]
            self.server.lpush(self.items_key, self._message("article", {"record": record_to_json(rec)}))
            if self.memory is not None:
                self.memory.add_pending([rec.url, *rec.variants])
            self.pushed += 1
            stats.inc_value("monitor/pushed")
            if self.max_articles and self.pushed >= self.max_articles and not self._closing:
                self._closing = close_spider_later(self.crawler, "max_articles")
        elif kind == "url_alias":
            self.server.lpush(self.items_key, self._message("alias", {"url": item["url"],
                                                                      "keys": list(item.get("keys") or [])}))
        elif kind == "fetch_error":
            err = {k: item.get(k) for k in ("url", "source", "reason", "http_status", "detail")}
            err["at"] = utcnow_iso()
            self.server.lpush(self.items_key, self._message("error", {"error": err}))
            stats.inc_value("monitor/errors")
            stats.inc_value(f"monitor/errors/{item['reason']}")
        return item


# --------------------------------------------------------------------------- worker runner

def worker_counts(stats: dict) -> dict:
    """A worker's counters of one spider (``monitor.outcomes.counts_from_stats`` plus ``articles_pushed``)."""
    return {**counts_from_stats(stats), "articles_pushed": stats.get("monitor/pushed", 0)}


@dataclass
class WorkerSummary:
    redis_url: str
    crawl_key: str
    worker: str
    per_source: dict = field(default_factory=dict)   # name -> counts + finish_reason + run
    status: str = "finished"

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "failed" else 0

    def render(self) -> str:
        head = f"{'source':<24} {'pages':>6} {'pushed':>6} {'known':>6} {'errors':>6}  finish"
        lines = [f"Worker {self.worker} {self.status}: crawl key {self.crawl_key!r} on {redact_url(self.redis_url)}"
                 f" (articles go to Redis; `monitor ingest` stores them)", head, "-" * len(head)]
        for name, c in sorted(self.per_source.items()):
            lines.append(f"{name:<24} {c.get('pages_fetched', 0):>6} {c.get('articles_pushed', 0):>6} "
                         f"{c.get('skipped_known', 0):>6} {c.get('errors', 0):>6}  {c.get('finish_reason', '?')}")
        runs = sorted({c.get("run") for c in self.per_source.values() if c.get("run")})
        if runs:
            lines.append(f"run: {', '.join(runs)}")
        return "\n".join(lines)


def run_worker(plan, *, echo=print) -> WorkerSummary:
    """Run one crawler process of a distributed crawl (``monitor crawl --redis``): ``plan`` is a
    ``monitor.crawl.run.plan_crawl`` result with a Redis URL; no SQLite access."""
    from monitor.crawl.process import attach_progress, make_process, start_crawlers

    settings, redis_url = plan.settings, plan.redis_url
    redis_client(redis_url).close()   # fail early, with one line, when Redis is not there
    settings.set("MONITOR_REDIS_URL", redis_url, priority="cmdline")
    crawl_key = check_crawl_key(settings.get("MONITOR_REDIS_CRAWL") or "default")
    wid = settings.get("MONITOR_REDIS_WORKER") or worker_id()
    settings.set("MONITOR_REDIS_WORKER", wid, priority="cmdline")
    attach_progress(echo)
    echo(f"Worker {wid}: {len(plan.sources)} source(s), crawl key {crawl_key!r} on {redact_url(redis_url)}")
    settings.set("LOG_INSTALL_ROOT_HANDLER", True, priority="cmdline")
    process = make_process(settings)   # Scrapy's own stop handling: a graceful stop puts unfinished requests back
    crawlers = start_crawlers(process, plan.spider_classes)
    summary = WorkerSummary(redis_url=redis_url, crawl_key=crawl_key, worker=wid)
    try:
        process.start()
    except KeyboardInterrupt:
        summary.status = "stopped"
    except Exception as exc:  # noqa: BLE001 - reported, the CLI exits 1
        summary.status = "failed"
        echo(f"crawl failed: {exc!r}")
    for crawler in crawlers:
        stats = stats_of(crawler)
        counts = worker_counts(stats)
        counts["finish_reason"] = stats.get("finish_reason", "not started")
        counts["run"] = stats.get("monitor/redis/run")
        summary.per_source[crawler.spidercls.name] = counts
        if summary.status == "finished" and status_from_reason(stats.get("finish_reason")) != "finished":
            summary.status = status_from_reason(stats.get("finish_reason"))
    return summary
