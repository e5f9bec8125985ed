"""``monitor schedule``: crawls on a schedule, in the foreground, one at a time.

The scheduler wakes up on its *ticks* (``--every 30m``: now and every 30 minutes after; ``--cron EXPR``: the
cron times, in the machine's local time zone).  At each tick it crawls the sources that are *due*, as one
``python -m monitor crawl SOURCE...`` subprocess (a Twisted reactor cannot restart in one process, and a
crash of a crawl cannot take the scheduler with it), waits for it, and updates each source's polling state
(table ``source_state``, written through the store's writer) from the per-source counts the crawl left in its
``crawls.summary``.

* Due: a source is crawled when its ``next_due_at`` has come.  After a crawl started at tick T it is due
  again at T + its interval.  The interval starts at the source's ``every`` (sources file) or, without one,
  the schedule's period (``--every``, or the shortest gap between cron times); ticks are the granularity, so
  an interval shorter than the period means "every tick".
* Adaptive polling (``MONITOR_POLL_*``, after Media Cloud's feed fetcher, which polls feeds that stopped
  bringing stories less often): ``MONITOR_POLL_EMPTY_RUNS`` crawls in a row with nothing new double the
  interval (up to ``MONITOR_POLL_MAX_INTERVAL``), ``MONITOR_POLL_BUSY_RUNS`` crawls in a row with new articles
  halve it (down to ``MONITOR_POLL_MIN_INTERVAL``); the first new article after a back-off returns it to its
  base interval.  A failed crawl leaves the interval alone (``monitor health`` reports failures).
* Never overlapping: ticks that pass while a crawl runs are skipped and logged; a tick at which another
  process is crawling the same database is skipped too.
* SIGINT/SIGTERM: forwarded once to the running crawl (it stops gracefully and commits its batch; a second
  signal is forwarded again, which makes Scrapy stop at once), then the scheduler exits 0.

The decisions (``Trigger``, ``adapt``, ``due_sources``, ``Scheduler``) take an injectable clock and runner,
so tests drive them without sleeping or crawling; ``run_schedule`` wires in the real ones.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from monitor.errors import UsageError
from monitor.config import setting
from monitor.ops.health import EMPTY, FAILED, NEW, STOPPED, new_items, run_outcome

# next_due_at is compared with tick times after a trip through ISO text: forgive rounding
SLACK_SECONDS = 0.01
CRON_GAP_SAMPLES = 30


# --------------------------------------------------------------------------- ticks

@dataclass(frozen=True)
class Trigger:
    """When the scheduler wakes up: every ``every`` seconds from its start, or at the times of a cron
    expression (local time).  Tick times are nominal (the schedule's, not the moment the process woke)."""

    every: float | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, every: str | None = None, cron: str | None = None, default_every: str = "30m") -> "Trigger":
        from monitor.durations import parse_duration

        if every and cron:
            raise UsageError("give either --every or --cron, not both")
        if cron:
            from croniter import croniter

            if not croniter.is_valid(cron):
                raise UsageError(f"--cron {cron!r} is not a cron expression; write five fields, "
                                 f"e.g. '*/30 * * * *' (minute hour day month weekday)")
            return cls(cron=cron)
        text = every or default_every
        try:
            return cls(every=parse_duration(text))
        except ValueError as exc:
            raise UsageError(f"--every: {exc}") from None

    def _cron_iter(self, t: float):
        from croniter import croniter

        return croniter(self.cron, datetime.fromtimestamp(t).astimezone())

    def first_tick(self, now: float) -> float:
        """``--every``: now; ``--cron``: the first cron time after now."""
        if self.every:
            return now
        return self._cron_iter(now).get_next(float)

    def next_tick(self, tick: float, anchor: float) -> float:
        """The tick after ``tick`` (``anchor``: the first tick, which ``--every`` counts from)."""
        if self.every:
            k = math.floor((tick - anchor) / self.every + 1e-9) + 1
            return anchor + k * self.every
        return self._cron_iter(tick).get_next(float)

    def after_run(self, tick: float, finished: float, anchor: float) -> tuple[int, float]:
        """(ticks skipped because the run of ``tick`` was still going, the next tick at or after ``finished``)."""
        nxt = self.next_tick(tick, anchor)
        if nxt >= finished:
            return 0, nxt
        if self.every:
            k = math.ceil((finished - anchor) / self.every - 1e-9)
            nxt_after = anchor + k * self.every
            return max(round((nxt_after - nxt) / self.every), 0), nxt_after
        skipped = 0
        while nxt < finished and skipped < 1_000_000:
            skipped += 1
            nxt = self.next_tick(nxt, anchor)
        return skipped, nxt

    def period(self, now: float | None = None) -> int:
        """Seconds between ticks: ``every``, or the shortest gap among the next cron times."""
        if self.every:
            return int(self.every)
        it = self._cron_iter(time.time() if now is None else now)
        times = [it.get_next(float) for _ in range(CRON_GAP_SAMPLES)]
        return max(int(min(b - a for a, b in zip(times, times[1:]))), 1)

    def describe(self) -> str:
        from monitor.ops.health import format_seconds

        return f"every {format_seconds(self.every)}" if self.every else f"at cron times {self.cron!r} (local time)"


# --------------------------------------------------------------------------- per-source polling state

@dataclass(frozen=True)
class PollPolicy:
    adaptive: bool = True
    min_interval: int = 900
    max_interval: int = 86400
    empty_runs: int = 3
    busy_runs: int = 3

    @classmethod
    def from_settings(cls, overrides: dict | None = None) -> "PollPolicy":
        policy = cls(adaptive=setting("MONITOR_POLL_ADAPTIVE", overrides),
                     min_interval=setting("MONITOR_POLL_MIN_INTERVAL", overrides),
                     max_interval=setting("MONITOR_POLL_MAX_INTERVAL", overrides),
                     empty_runs=setting("MONITOR_POLL_EMPTY_RUNS", overrides),
                     busy_runs=setting("MONITOR_POLL_BUSY_RUNS", overrides))
        if policy.min_interval < 1 or policy.max_interval < policy.min_interval:
            raise UsageError("MONITOR_POLL_MIN_INTERVAL must be 1 or more and at most MONITOR_POLL_MAX_INTERVAL")
        if policy.empty_runs < 1 or policy.busy_runs < 1:
            raise UsageError("MONITOR_POLL_EMPTY_RUNS and MONITOR_POLL_BUSY_RUNS must be 1 or more")
        return policy


@dataclass
class SourceState:
    source: str
    interval: int                          # seconds, as adapted
    base: int                              # seconds: sources file `every`, else the schedule's period
    next_due_at: float | None = None       # epoch seconds; None = due now
    last_new: int | None = None
    consecutive_new: int = 0
    consecutive_empty: int = 0
    consecutive_failures: int = 0
    last_outcome: str | None = None
    last_crawl_id: int | None = None

    def to_row(self) -> dict:
        return {"source": self.source, "next_due_at": to_iso(self.next_due_at), "interval_seconds": self.interval,
                "base_interval_seconds": self.base, "last_new": self.last_new,
                "consecutive_new": self.consecutive_new, "consecutive_empty": self.consecutive_empty,
                "consecutive_failures": self.consecutive_failures, "last_outcome": self.last_outcome,
                "last_crawl_id": self.last_crawl_id}

    @classmethod
    def from_row(cls, row: dict) -> "SourceState":
        base = int(row.get("base_interval_seconds") or row.get("interval_seconds") or 0)
        return cls(source=row["source"], interval=int(row.get("interval_seconds") or base), base=base,
                   next_due_at=from_iso(row.get("next_due_at")), last_new=row.get("last_new"),
                   consecutive_new=row.get("consecutive_new") or 0,
                   consecutive_empty=row.get("consecutive_empty") or 0,
                   consecutive_failures=row.get("consecutive_failures") or 0,
                   last_outcome=row.get("last_outcome"), last_crawl_id=row.get("last_crawl_id"))


def to_iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()


def from_iso(text: str | None) -> float | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text)
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def base_interval(source, trigger: Trigger, period: int | None = None) -> int:
    return source.every_seconds or period or trigger.period()


def reconcile(state: SourceState | None, source: str, base: int, tick: float, *, adaptive: bool = True) -> SourceState:
    """The state to use for ``source`` now: a fresh one (due now), or the stored one; when the base interval
    changed (sources file or schedule edited), or adaptive polling was turned off while the interval differs
    from the base, the interval restarts from the base, due within it."""
    if state is None:
        return SourceState(source=source, interval=base, base=base)
    if state.base != base or (not adaptive and state.interval != base):
        due = state.next_due_at
        return dataclasses.replace(state, base=base, interval=base, consecutive_new=0, consecutive_empty=0,
                                   next_due_at=None if due is None else min(due, tick + base))
    return state


def is_due(state: SourceState, tick: float) -> bool:
    return state.next_due_at is None or state.next_due_at <= tick + SLACK_SECONDS


def due_sources(sources: Sequence, states: dict[str, SourceState], tick: float) -> list:
    return [s for s in sources if is_due(states[s.name], tick)]


def adapt(state: SourceState, outcome: str, new: int, *, tick: float, policy: PollPolicy,
          crawl_id: int | None = None) -> tuple[SourceState, str | None]:
    """The state after a crawl that started at ``tick`` (outcome from ``monitor.ops.health.run_outcome``), and a
    sentence when the interval changed."""
    st = dataclasses.replace(state, last_outcome=outcome, last_crawl_id=crawl_id or state.last_crawl_id)
    if outcome == STOPPED:      # stopped by the user: nothing learnt, still due
        return st, None
    old = st.interval
    lo, hi = min(policy.min_interval, st.base), max(policy.max_interval, st.base)
    note = None
    if outcome == FAILED:
        st.consecutive_failures += 1
        st.consecutive_new = 0
    elif outcome == NEW:
        st.last_new, st.consecutive_failures, st.consecutive_empty = new, 0, 0
        st.consecutive_new += 1
        if policy.adaptive and st.interval > st.base:
            st.interval, st.consecutive_new = st.base, 0
            note = "new articles again"
        elif policy.adaptive and st.consecutive_new >= policy.busy_runs and st.interval > lo:
            st.interval, st.consecutive_new = max(lo, st.interval // 2), 0
            note = f"new articles in {policy.busy_runs} crawls in a row"
    elif outcome == EMPTY:
        st.last_new, st.consecutive_failures, st.consecutive_new = 0, 0, 0
        st.consecutive_empty += 1
        if policy.adaptive and st.consecutive_empty >= policy.empty_runs:
            st.consecutive_empty = 0
            if st.interval < hi:
                st.interval = min(hi, st.interval * 2)
                note = f"nothing new in {policy.empty_runs} crawls in a row"
    st.next_due_at = tick + st.interval
    if note and st.interval != old:
        from monitor.ops.health import format_seconds

        return st, f"{st.source}: interval {format_seconds(old)} -> {format_seconds(st.interval)} ({note})"
    return st, None


# --------------------------------------------------------------------------- clock and runner

class SystemClock:
    def now(self) -> float:
        return time.time()

    def wait_until(self, t: float, stop: threading.Event) -> None:
        """Sleep until ``t`` or until ``stop`` is set (wakes at least once a minute: clock changes, suspend)."""
        while not stop.is_set():
            left = t - time.time()
            if left <= 0:
                return
            stop.wait(min(left, 60.0))


@dataclass
class RunResult:
    """What one crawl run did: its ``crawls`` row id and per-source counts (``crawls.summary``)."""

    returncode: int
    crawl_id: int | None = None
    status: str | None = None                  # crawls.status
    per_source: dict | None = None             # name -> counts + finish_reason; None: no summary (died)
    error: str | None = None                   # no crawls row: why (e.g. the crawl refused its arguments)


class SubprocessRunner:
    """Runs ``python -m monitor crawl NAMES <args>`` in its own session (so a terminal's Ctrl-C reaches only
    the scheduler, which forwards it once) and reads the run's ``crawls`` row afterwards."""

    def __init__(self, db_path: Path, crawl_args: Sequence[str], *, log_file: Path | None = None,
                 python: str = sys.executable, env: dict | None = None):
        self.db_path = Path(db_path)
        self.crawl_args = list(crawl_args)
        self.log_file = log_file
        self.python = python
        self.env = env
        self.proc: subprocess.Popen | None = None

    def command(self, names: Sequence[str]) -> list[str]:
        return [self.python, "-m", "monitor", "crawl", *names, *self.crawl_args]

    def __call__(self, names: Sequence[str]) -> RunResult:
        from monitor.store.db import open_writer

        with open_writer(self.db_path) as storage:
            before = storage.last_crawl_id()
        out = open(self.log_file, "a", encoding="utf-8") if self.log_file else None  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(self.command(names), stdout=out, stderr=subprocess.STDOUT if out else None,
                                         stdin=subprocess.DEVNULL, start_new_session=True, env=self.env)
            rc = self.proc.wait()
            pid = self.proc.pid
        finally:
            self.proc = None
            if out:
                out.close()
        with open_writer(self.db_path) as storage:
            crawl_id = storage.last_crawl_id(pid=pid)
            if crawl_id <= before:
                return RunResult(returncode=rc, error=f"the crawl exited {rc} before starting (see its output)")
            row = storage.crawl_row(crawl_id)
            if row["status"] == "running":            # the process died without closing its row
                storage.mark_interrupted_crawls()
                row = storage.crawl_row(crawl_id)
        try:
            per_source = json.loads(row["summary"]) if row.get("summary") else None
        except ValueError:
            per_source = None
        return RunResult(returncode=rc, crawl_id=crawl_id, status=row["status"], per_source=per_source)

    def forward(self, signum: int) -> bool:
        """Send ``signum`` to the running crawl; False when none is running."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return False
        try:
            os.kill(proc.pid, signum)
        except ProcessLookupError:
            return False
        return True


# --------------------------------------------------------------------------- the loop

@dataclass
class Scheduler:
    """The loop (see module docstring).  ``load_sources()`` is called at every tick (so edits of the sources
    file apply without a restart; when it fails the previous list is kept); ``runner(names)`` runs one crawl
    and returns a RunResult; ``open_store()`` opens the writer (source_state, running crawls) for a moment.

    The database is never held open while a crawl runs: anything in this process that opened and closed the
    file outside SQLite meanwhile would drop this process's SQLite locks, and the crawl could then
    checkpoint the WAL under a connection that still uses it ("database disk image is malformed")."""

    trigger: Trigger
    load_sources: Callable[[], list]
    runner: Callable[[Sequence[str]], RunResult]
    open_store: Callable[[], object]
    policy: PollPolicy = field(default_factory=PollPolicy)
    clock: object = field(default_factory=SystemClock)
    log: Callable[[str], None] = print
    max_runs: int | None = None
    forward: Callable[[int], bool] | None = None
    runs: int = 0
    stop_event: threading.Event = field(default_factory=threading.Event)
    stop_signals: int = 0
    sources: list = field(default_factory=list)
    after_run: Callable[[RunResult], None] | None = None   # e.g. `--alert`: send alerts after each crawl

    def request_stop(self, signum: int | None = None) -> None:
        """Stop after the current crawl; forward ``signum`` to it (each time: the second one forces it)."""
        self.stop_signals += 1
        self.stop_event.set()
        forwarded = bool(signum and self.forward and self.forward(signum))
        name = signal.Signals(signum).name if signum else "stop"
        if self.stop_signals == 1:
            self.log(f"{name}: stopping" + (" after the current crawl (it is told to stop and save its batch)"
                                            if forwarded else ""))
        elif forwarded:
            self.log(f"{name} again: the crawl is told to stop at once")

    def _refresh_sources(self) -> list:
        try:
            self.sources = list(self.load_sources())
        except Exception as exc:  # noqa: BLE001 - keep scheduling with the last good list
            if not self.sources:
                raise
            self.log(f"sources file not reloaded, keeping the previous {len(self.sources)} source(s): {exc}")
        return self.sources

    def states_for(self, store, sources: list, tick: float, period: int) -> dict[str, SourceState]:
        stored = {n: SourceState.from_row(r) for n, r in store.source_states().items()}
        return {s.name: reconcile(stored.get(s.name), s.name, base_interval(s, self.trigger, period), tick,
                                  adaptive=self.policy.adaptive) for s in sources}

    def run(self) -> int:
        """Loop until stopped or ``max_runs`` crawls ran; returns the number of crawls run."""
        anchor = tick = self.trigger.first_tick(self.clock.now())
        period = self.trigger.period(anchor)
        self._refresh_sources()
        slower = [s.name for s in self.sources if s.every_seconds and s.every_seconds < period]
        self.log(f"{len(self.sources)} source(s), {self.trigger.describe()}; first tick "
                 f"{_local(tick)}" + (f"; every tick for {', '.join(slower)} (their `every` is shorter)"
                                      if slower else ""))
        while not self.stop_event.is_set():
            self.clock.wait_until(tick, self.stop_event)
            if self.stop_event.is_set():
                break
            tick = self.tick(tick, anchor, period)
            if self.max_runs and self.runs >= self.max_runs:
                self.log(f"{self.runs} crawl run(s) done (--max-runs)")
                break
        return self.runs

    def tick(self, tick: float, anchor: float, period: int) -> float:
        """Handle one tick; returns the next tick."""
        sources = self._refresh_sources()
        with self.open_store() as store:
            states = self.states_for(store, sources, tick, period)
            due = due_sources(sources, states, tick)
            running = store.running_crawls() if due else []
        if not due:
            return self.trigger.next_tick(tick, anchor)
        if running:
            cid, pid = running[0]
            self.log(f"tick {_local(tick)} skipped: crawl {cid} (process {pid}) is running on this database")
            return self.trigger.next_tick(tick, anchor)
        names = [s.name for s in due]
        self.log(f"tick {_local(tick)}: crawling {len(names)} source(s): {', '.join(names)}")
        result = self.runner(names)
        self.runs += 1
        self.record(result, names, states, tick)
        if self.after_run:
            self.after_run(result)
        finished = self.clock.now()
        skipped, nxt = self.trigger.after_run(tick, finished, anchor)
        if skipped:
            self.log(f"{skipped} tick(s) skipped: crawl {result.crawl_id or '?'} ran from {_local(tick)} "
                     f"until {_local(finished)}")
        return nxt

    def record(self, result: RunResult, names: list[str], states: dict[str, SourceState], tick: float) -> None:
        if result.crawl_id is None:
            self.log(f"crawl not run: {result.error}; the sources stay due")
            return
        per_source = result.per_source if isinstance(result.per_source, dict) else {}
        new_states, outcomes = [], {}
        for name in names:
            counts = per_source.get(name) if per_source else None
            outcome = run_outcome(counts)
            st, note = adapt(states[name], outcome, new_items(counts), tick=tick, policy=self.policy,
                             crawl_id=result.crawl_id)
            new_states.append(st.to_row())
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if note:
                self.log(note)
        with self.open_store() as store:
            store.save_source_states(new_states)
        self.log(f"crawl {result.crawl_id} {result.status}: {describe_run(per_source, names, outcomes)}")


SOURCE_OUTCOMES = {NEW: "with new articles", EMPTY: "with nothing new", FAILED: "failed", STOPPED: "stopped"}


def describe_run(per_source: dict, names: Sequence[str], outcomes: dict[str, int]) -> str:
    """'7 new articles, 2 duplicates; sources: 2 with new articles, 1 with nothing new': articles counted
    from the crawl's per-source summary, then how many sources had each outcome."""
    counts = [per_source.get(n) for n in names if isinstance(per_source.get(n), dict)]
    new = sum(int(c.get("articles_new") or 0) for c in counts)
    dups = sum(int(c.get("duplicates") or 0) for c in counts)
    plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"   # noqa: E731
    kinds = sorted(outcomes, key=lambda k: list(SOURCE_OUTCOMES).index(k) if k in SOURCE_OUTCOMES else 99)
    told = ", ".join(f"{outcomes[k]} {SOURCE_OUTCOMES.get(k, k)}" for k in kinds)
    return f"{plural(new, 'new article')}, {plural(dups, 'duplicate')}; sources: {told}"


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- `monitor schedule`

def make_logger(log_file: Path | None, *, quiet: bool = False) -> Callable[[str], None]:
    """Timestamped lines on stderr, or appended to ``log_file`` (opened per line: logrotate can move it).

    Written with ``os.write``: the stop message is logged from the signal handler, which may interrupt a
    buffered write to the same stream (Python raises RuntimeError on such a reentrant call)."""

    def log(message: str) -> None:
        data = f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S%z} schedule: {message}\n".encode()
        if log_file:
            fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        elif not quiet:
            try:
                os.write(sys.stderr.fileno(), data)
            except (AttributeError, OSError, ValueError):   # stderr replaced (tests)
                sys.stderr.write(data.decode())

    return log


def _lock(db: Path):
    """Refuse a second scheduler on one database (flock on DB.schedule.lock, released when the process ends)."""
    import fcntl

    path = db.with_name(db.name + ".schedule.lock")
    fh = open(path, "a+")  # noqa: SIM115 - held for the process's lifetime
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UsageError(f"{db}: another `monitor schedule` is already running on this database ({path})") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def run_schedule(source_names=(), *, every=None, cron=None, sources_path=None, topics_path=None, db_path=None,
                 tags=(), overrides=(), max_runs=None, log_file=None, quiet=False, alert=False, alerts_path=None) -> int:
    """Run the scheduler in the foreground until SIGINT/SIGTERM (or ``max_runs`` crawls); returns 0."""
    from monitor.crawl.run import parse_overrides
    from monitor.sources.catalogue import load_sources, select_sources
    from monitor.store.db import open_writer, resolve_db_path

    parsed = parse_overrides(overrides)
    trigger = Trigger.parse(every, cron, default_every=setting("MONITOR_SCHEDULE_EVERY", parsed))
    policy = PollPolicy.from_settings(parsed)
    sources_file = sources_path or os.environ.get("MONITOR_SOURCES") or None

    def load():
        chosen = select_sources(load_sources(sources_file), names=source_names, tags=tags)
        if not chosen:
            raise UsageError("no sources to crawl (the sources file lists none, or all are disabled)")
        if any(s.spider for s in chosen):   # a custom spider class that cannot be loaded: refused like a bad file
            from monitor.crawl.spiderloader import spider_class_for

            for s in chosen:
                if s.spider:
                    spider_class_for(s)
        return chosen

    load()                                          # refuse a bad file before anything starts
    after_run = None
    if alert:                                       # a bad alerts file is refused now too (monitor.alerts)
        from monitor.alerts.delivery import scheduled_alerts

        after_run = scheduled_alerts(alerts_path, resolve_db_path(db_path), parsed, make_logger(
            Path(log_file).resolve() if log_file else None))
    if topics_path or os.environ.get("MONITOR_TOPICS"):
        from monitor.topics import load_topics

        load_topics(topics_path or os.environ.get("MONITOR_TOPICS"))   # a bad topics file is refused now
    db = resolve_db_path(db_path).resolve()
    open_writer(db).close()                         # checks and migrates the file (source_state)
    lock = _lock(db)
    log_path = Path(log_file).resolve() if log_file else None
    crawl_args = ["--db", str(db)]
    if sources_file:
        crawl_args += ["--sources", str(Path(sources_file).resolve())]
    if topics_path:
        crawl_args += ["--topics", str(Path(topics_path).resolve())]
    for pair in overrides or ():
        crawl_args += ["-s", pair]
    if quiet:
        crawl_args.append("-q")
    runner = SubprocessRunner(db, crawl_args, log_file=log_path)
    log = make_logger(log_path)
    scheduler = Scheduler(trigger=trigger, load_sources=load, runner=runner, open_store=lambda: open_writer(db),
                          policy=policy, log=log, max_runs=max_runs, forward=runner.forward, after_run=after_run)
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda signum, _frame: scheduler.request_stop(signum))
    try:
        scheduler.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lock.close()
    log(f"stopped after {scheduler.runs} crawl run(s)")
    return 0
