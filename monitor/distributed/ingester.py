"""The ingester of distributed crawls: the single SQLite writer fed from Redis (``monitor ingest``).

Crawler processes (``monitor crawl --redis``, see ``monitor.distributed.workers``) push JSON messages to the
Redis list ``{prefix}:items``: ``article`` (an ``ArticleRecord``), ``error`` (a fetch error), ``start`` and
``finish`` (a worker joined / left a run).  ``Ingester`` moves up to ``batch_size`` of them to
``{prefix}:items:processing`` (LMOVE, so a crash never drops them), stores them with
``Writer.write_batch`` (``monitor.store``) in one SQLite transaction together with a marker of the batch, and only then
deletes the processing list.  A new ingester replays a processing list left behind, unless the marker
shows it was committed.  No Scrapy import here: this module runs on the database machine.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from monitor.clock import utcnow_iso
from monitor.distributed.protocol import (DEFAULT_PREFIX, items_key, known_key, known_value, processing_key,
                                          record_from_json, redact_url, redis_client, worker_id)
from monitor.errors import MonitorError, UsageError
from monitor.outcomes import COUNT_KEYS, status_from_reason, zero_counts
from monitor.topics import load_topics

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- ingester

@dataclass
class IngestSummary:
    db_path: Path
    messages: int = 0
    batches: int = 0
    statuses: dict = field(default_factory=dict)   # new/duplicate/known/updated -> n
    errors: int = 0
    replayed: int = 0          # messages found in the processing list of a dead ingester
    runs_finished: list = field(default_factory=list)

    def render(self) -> str:
        st = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())) or "no articles"
        lines = [f"Ingested {self.messages} message(s) in {self.batches} batch(es) into {self.db_path}: "
                 f"{st}; {self.errors} fetch error(s)"]
        if self.replayed:
            lines.append(f"replayed {self.replayed} message(s) left by an ingester that stopped mid-batch")
        for run, crawl_id, status in self.runs_finished:
            lines.append(f"run {run}: crawl {crawl_id} {status}")
        return "\n".join(lines)


class Ingester:
    """The single writer of a distributed crawl: Redis list -> ``Writer.write_batch`` (see module doc)."""

    LOCK_TTL = 30
    MAX_PENDING_ALIASES = 100_000   # URL variants kept waiting for their article (oldest dropped first)

    def __init__(self, redis_url: str, db_path, *, prefix: str = DEFAULT_PREFIX, topics_path=None,
                 batch_size: int = 200, echo=print, seed_known: bool = True):
        from monitor.store.db import open_writer

        self.storage = open_writer(db_path)   # first: a bad --db is refused before Redis is contacted
        self.redis_url = redis_url
        try:
            self.server = redis_client(redis_url)
        except BaseException:
            self.storage.close()
            raise
        self.prefix = prefix
        self.items = items_key(prefix)
        self.processing = processing_key(prefix)
        self.lock_key = f"{prefix}:ingester"
        self.me = worker_id()
        self.batch_size = max(1, batch_size)
        self.echo = echo
        self.summary = IngestSummary(db_path=self.storage.path)
        self.aliases: list[tuple[str, list[str]]] = []
        self._stop = False
        self._lock()
        try:
            self._set_topics(topics_path)
            if seed_known:
                self._seed_known()
        except BaseException:
            self.close()
            raise

    # ---- lifecycle
    def _lock(self) -> None:
        if self.server.set(self.lock_key, self.me, nx=True, ex=self.LOCK_TTL):
            return
        holder = (self.server.get(self.lock_key) or b"").decode()
        host, _, pid = holder.rpartition(":")
        from monitor.store.crawllog import pid_alive

        if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
            self.server.set(self.lock_key, self.me, ex=self.LOCK_TTL)
            return
        self.storage.close()
        raise UsageError(f"another ingester ({holder}) is draining {self.items} on this Redis; run one ingester "
                         f"per database (its lock expires {self.LOCK_TTL} s after it stops)")

    def _refresh_lock(self) -> None:
        holder = self.server.get(self.lock_key)
        if holder not in (None, self.me.encode()):
            raise MonitorError(f"ingester lock {self.lock_key} was taken by {holder.decode()}; stopping")
        self.server.set(self.lock_key, self.me, ex=self.LOCK_TTL)

    def close(self) -> None:
        try:
            if self.server.get(self.lock_key) == self.me.encode():
                self.server.delete(self.lock_key)
        except Exception:  # noqa: BLE001 - closing must not hide the real error
            pass
        self.storage.close()
        self.server.close()

    def stop(self, *_args) -> None:
        """Finish the current batch, then return from ``run`` (SIGINT/SIGTERM handler)."""
        self._stop = True

    def _set_topics(self, topics_path) -> None:
        self.storage.set_topics(load_topics(topics_path))

    def _seed_known(self) -> None:
        """Fill ``{prefix}:known`` (URL -> "ARTICLE_ID FETCHED_AT") from the database when it does not exist,
        so workers skip stored articles and can decide re-fetches."""
        key = known_key(self.prefix)
        if self.server.exists(key):
            return
        pipe = self.server.pipeline(transaction=False)
        n = 0
        for url, aid, fetched in self.storage.known_url_rows():
            pipe.hset(key, url, known_value(aid, fetched))
            n += 1
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()

    def _publish_known(self, records, results) -> None:
        """After a commit: the stored articles' URLs -> "ARTICLE_ID FETCHED_AT" in ``{prefix}:known``."""
        ids = sorted({r.article_id for r in results if r.article_id})
        if not ids:
            return
        fetched = self.storage.fetched_at_by_id(ids)
        mapping = {}
        for rec, res in zip(records, results):
            if res.article_id in fetched:
                for u in (rec.url, *rec.variants):
                    mapping[u] = known_value(res.article_id, fetched[res.article_id])
        if mapping:
            self.server.hset(known_key(self.prefix), mapping=mapping)

    # ---- main loop
    def run(self, *, until_empty: bool = False, idle_exit: float | None = None, poll: float = 1.0) -> IngestSummary:
        self._recover()
        if until_empty:
            poll = min(poll, 0.05)
        idle_since = time.monotonic()
        while not self._stop:
            self._refresh_lock()
            raw = self._take_batch(poll)
            if raw:
                self._apply(raw)
                self.server.delete(self.processing)
                idle_since = time.monotonic()
                continue
            self._check_lost_workers()
            if until_empty:
                break
            if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                break
        return self.summary

    def _take_batch(self, poll: float) -> list[bytes]:
        first = self.server.blmove(self.items, self.processing, max(poll, 0.01), "RIGHT", "LEFT")
        if first is None:
            return []
        for _ in range(self.batch_size - 1):
            if self.server.lmove(self.items, self.processing, "RIGHT", "LEFT") is None:
                break
        return list(reversed(self.server.lrange(self.processing, 0, -1)))   # oldest first

    def _recover(self) -> None:
        raw = list(reversed(self.server.lrange(self.processing, 0, -1)))
        if not raw:
            return
        if self.storage.ingest_marker() == _batch_marker(raw):
            self.echo(f"a batch of {len(raw)} message(s) left in {self.processing} was already stored; dropping it")
        else:
            self.echo(f"replaying {len(raw)} message(s) left in {self.processing} by an ingester that stopped")
            self._apply(raw)
            self.summary.replayed += len(raw)
        self.server.delete(self.processing)

    # ---- one batch, one transaction
    def _apply(self, raw: list[bytes]) -> None:
        from monitor.store.records import FetchError

        msgs = []
        for r in raw:
            try:
                msgs.append(json.loads(r))
            except ValueError:
                logger.warning("skipping a message that is not JSON: %r", r[:200])
        by_run: dict[str | None, dict] = {}
        events = []
        written = []   # (records, results) to publish after the commit
        for m in msgs:
            slot = by_run.setdefault(m.get("run"), {"records": [], "errors": [], "sources": {}})
            kind = m.get("type")
            if kind == "article":
                rec = record_from_json(m["record"])
                slot["records"].append(rec)
                slot["sources"].setdefault(rec.source, None)
            elif kind == "error":
                e = m["error"]
                slot["errors"].append(FetchError(url=e["url"], source=e.get("source"), reason=e["reason"],
                                                 http_status=e.get("http_status"), detail=e.get("detail"),
                                                 at=e.get("at") or utcnow_iso()))
            elif kind in ("start", "finish"):
                events.append(m)
            elif kind == "alias":
                self.aliases.append((m["url"], m.get("keys") or []))
            slot["sources"].setdefault(m.get("spider"), None)
        st = self.storage
        touched = {}
        with st.transaction():
            for m in events:
                if m["type"] == "start":
                    touched[m["run"]] = self._run(m["run"], m.get("crawl"), [m["spider"]], touched.get(m["run"]))
            for run, slot in by_run.items():
                if not slot["records"] and not slot["errors"]:
                    continue
                state = touched[run] = self._run(run, None, [s for s in slot["sources"] if s], touched.get(run))
                st.crawl_id = state["crawl_id"]
                results = st.write_batch(slot["records"], slot["errors"])
                written.append((slot["records"], results))
                ing = state["state"].setdefault("ingested", {})
                for rec, res in zip(slot["records"], results):
                    c = ing.setdefault(rec.source, {})
                    c[res.status] = c.get(res.status, 0) + 1
                    self.summary.statuses[res.status] = self.summary.statuses.get(res.status, 0) + 1
                for err in slot["errors"]:
                    c = ing.setdefault(err.source or "?", {})
                    c["errors"] = c.get("errors", 0) + 1
                self.summary.errors += len(slot["errors"])
            for m in events:
                state = touched[m["run"]] = self._run(m["run"], m.get("crawl"), [m["spider"]], touched.get(m["run"]))
                w = state["state"].setdefault("workers", {}).setdefault(f"{m['worker']}/{m['spider']}", {})
                if m["type"] == "start":
                    w.update({"worker": m["worker"], "spider": m["spider"], "status": "running",
                              "started": m.get("at"), "timeout": m.get("timeout"),
                              "workers_key": m.get("workers_key"), "run_key": m.get("run_key")})
                else:
                    w.update({"status": "finished", "finished": m.get("at"), "reason": m.get("reason"),
                              "counts": m.get("counts") or {}, "cleaned": m.get("cleaned")})
            for run, state in touched.items():
                self._save(run, state)
            if self.aliases:   # URL variants seen by workers, for articles stored by now
                self.aliases = st.add_url_aliases(self.aliases)[-self.MAX_PENDING_ALIASES:]
            st.set_ingest_marker(_batch_marker(raw))
        self.summary.messages += len(raw)
        self.summary.batches += 1
        for records, results in written:
            self._publish_known(records, results)

    def _run(self, run: str | None, crawl_key: str | None, sources: list[str], cached: dict | None = None) -> dict:
        """The run's crawls row and state (``cached``: already loaded in this batch); opens the row on the
        run's first message."""
        if cached is not None:
            entry = cached
        else:
            found = self.storage.run_state(run or "unknown")
            if found is None:
                crawl_id = self.storage.start_crawl(sources)
                return {"crawl_id": crawl_id, "state": {"crawl": crawl_key, "sources": list(sources),
                                                        "workers": {}, "ingested": {}}}
            entry = {"crawl_id": found[0], "state": found[1]}
        for s in sources:
            if s not in entry["state"].setdefault("sources", []):
                entry["state"]["sources"].append(s)
        if crawl_key and not entry["state"].get("crawl"):
            entry["state"]["crawl"] = crawl_key
        return entry

    def _save(self, run: str, entry: dict) -> None:
        state = entry["state"]
        workers = state.get("workers", {})
        per_source: dict[str, dict] = {}
        for w in workers.values():
            c = per_source.setdefault(w.get("spider") or "?", zero_counts())
            for k in ("pages_fetched", "skipped_known"):
                c[k] += int((w.get("counts") or {}).get(k, 0))
        for source, ing in state.get("ingested", {}).items():
            c = per_source.setdefault(source, zero_counts())
            c["articles_new"] += ing.get("new", 0)
            c["duplicates"] += ing.get("duplicate", 0)
            c["errors"] += ing.get("errors", 0)
            c["skipped_known"] += ing.get("known", 0)
        totals = zero_counts()
        for c in per_source.values():
            for k in COUNT_KEYS:
                totals[k] += c[k]
        done = bool(workers) and all(w.get("status") in ("finished", "lost") for w in workers.values())
        status = "running"
        if done:
            lost = any(w.get("status") == "lost" for w in workers.values())
            cleaned = any(w.get("cleaned") for w in workers.values())
            ends = [status_from_reason(w.get("reason")) for w in workers.values() if w.get("status") == "finished"]
            if lost and not cleaned:
                status = "interrupted"      # the queue still holds work: the next workers resume it
            else:
                status = next((e for e in ends if e != "finished"), "finished")
        state["status"] = status
        report = done and state.get("reported") != status
        if report:
            state["reported"] = status
        self.storage.save_run_state(run, entry["crawl_id"], state, status=status, counts=totals,
                                    summary=per_source, finished=done)
        if report:
            self.summary.runs_finished.append((run, entry["crawl_id"], status))
            self.echo(f"run {run}: crawl {entry['crawl_id']} {status}: {totals['articles_new']} new, "
                      f"{totals['duplicates']} duplicates, {totals['errors']} errors")

    def _check_lost_workers(self) -> None:
        """Workers that joined a running run but went silent without a finish message are lost."""
        for run, crawl_id, state in self.storage.running_runs():
            changed = False
            now = None
            for w in state.get("workers", {}).values():
                if w.get("status") != "running" or not w.get("workers_key"):
                    continue
                if now is None:
                    now = int(self.server.time()[0])
                beat = self.server.hget(w["workers_key"], w["worker"])
                if beat is None or now - int(beat) > int(w.get("timeout") or 60):
                    w["status"] = "lost"
                    changed = True
            if changed:
                with self.storage.transaction():
                    self._save(run, {"crawl_id": crawl_id, "state": state})


def _batch_marker(raw: list[bytes]) -> str:
    import hashlib

    h = hashlib.sha1()
    for r in raw:
        h.update(hashlib.sha1(r).digest())
    return f"{len(raw)}:{h.hexdigest()}"


def run_ingest(redis_url: str, db_path=None, *, prefix: str | None = None, topics_path=None,
               until_empty: bool = False, idle_exit: float | None = None, batch_size: int = 200,
               echo=print) -> IngestSummary:
    """Drain the Redis item list into the SQLite file; stops on SIGINT/SIGTERM after the current batch."""
    from monitor.store.db import resolve_db_path

    redis_url = redis_url or os.environ.get("MONITOR_REDIS_URL") or ""
    if not redis_url:
        raise UsageError("give --redis redis://HOST:PORT/DB (or set $MONITOR_REDIS_URL)")
    topics_path = topics_path or os.environ.get("MONITOR_TOPICS") or None
    # the user's --db and topics file are checked before Redis is contacted (one clear line, exit 2)
    if topics_path:
        load_topics(topics_path)
    ing = Ingester(redis_url, resolve_db_path(db_path).resolve(), prefix=prefix or DEFAULT_PREFIX,
                   topics_path=topics_path, batch_size=batch_size, echo=echo)
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, ing.stop)
    echo(f"Ingesting {ing.items} on {redact_url(redis_url)} into {ing.storage.path}")
    try:
        return ing.run(until_empty=until_empty, idle_exit=idle_exit)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        ing.close()
