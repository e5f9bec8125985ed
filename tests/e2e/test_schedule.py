"""monitor.ops.schedule: ticks, due sources, adaptive polling and the loop (fake clock and runner, no sleeping),
plus `monitor schedule` as a real process against a fixture site (slow)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.errors import UsageError
from monitor.ops.schedule import (PollPolicy, RunResult, Scheduler, SourceState, SubprocessRunner, Trigger, adapt,
                              due_sources, from_iso, reconcile, to_iso)
from monitor.sources.catalogue import Source
from monitor.store.db import open_writer

H = 3600


# --------------------------------------------------------------------------- ticks

def test_trigger_parse_rules():
    assert Trigger.parse("30m").every == 1800
    assert Trigger.parse(None, None, default_every="2h").every == 7200
    assert Trigger.parse(cron="*/30 * * * *").cron == "*/30 * * * *"
    with pytest.raises(UsageError, match="either --every or --cron"):
        Trigger.parse("30m", "*/5 * * * *")
    with pytest.raises(UsageError, match="cron expression"):
        Trigger.parse(cron="every half hour")
    with pytest.raises(UsageError, match="--every"):
        Trigger.parse("soon")


def test_every_ticks_and_skipped_ticks():
    t = Trigger(every=10)
    assert t.first_tick(100.0) == 100.0
    assert t.next_tick(100.0, anchor=100.0) == 110.0
    # a run of tick 100 that ended at 135 overlapped the ticks 110, 120 and 130: skipped, next is 140
    assert t.after_run(100.0, 135.0, anchor=100.0) == (3, 140.0)
    assert t.after_run(100.0, 105.0, anchor=100.0) == (0, 110.0)
    assert t.after_run(100.0, 110.0, anchor=100.0) == (0, 110.0)     # ended exactly on the tick: not skipped
    assert t.period() == 10


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_cron_ticks_in_local_time(utc):
    t = Trigger(cron="*/30 * * * *")
    start = from_iso("2026-03-02T10:07:00+00:00")
    first = t.first_tick(start)
    assert to_iso(first) == "2026-03-02T10:30:00+00:00"
    assert to_iso(t.next_tick(first, anchor=first)) == "2026-03-02T11:00:00+00:00"
    skipped, nxt = t.after_run(first, first + 65 * 60, anchor=first)     # ran 10:30 -> 11:35
    assert skipped == 2 and to_iso(nxt) == "2026-03-02T12:00:00+00:00"
    assert t.period(start) == 1800
    # weekdays at 9: the shortest gap (a day) is the base interval, so weekends never make a source late
    assert Trigger(cron="0 9 * * 1-5").period(start) == 86400


# --------------------------------------------------------------------------- adaptive polling (pure)

POLICY = PollPolicy(adaptive=True, min_interval=900, max_interval=8 * H, empty_runs=3, busy_runs=2)


def _state(interval=H, base=H):
    return SourceState(source="s", interval=interval, base=base)


def test_quiet_source_backs_off_up_to_the_maximum():
    st, intervals, notes = _state(), [], []
    for i in range(12):
        st, note = adapt(st, "empty", 0, tick=i * H, policy=POLICY)
        intervals.append(st.interval)
        notes.append(note)
    # doubles after every third empty crawl, never above MONITOR_POLL_MAX_INTERVAL
    assert intervals == [H, H, 2 * H, 2 * H, 2 * H, 4 * H, 4 * H, 4 * H, 8 * H, 8 * H, 8 * H, 8 * H]
    assert "1h -> 2h" in notes[2] and notes[11] is None
    assert st.next_due_at == 11 * H + 8 * H and st.last_outcome == "empty" and st.last_new == 0


def test_busy_source_speeds_up_down_to_the_minimum_and_news_end_a_backoff():
    st = _state()
    seen = []
    for i in range(8):
        st, _ = adapt(st, "new", 4, tick=i * H, policy=POLICY, crawl_id=i + 1)
        seen.append(st.interval)
    assert seen == [H, H // 2, H // 2, 900, 900, 900, 900, 900]
    assert st.last_new == 4 and st.last_crawl_id == 8 and st.consecutive_failures == 0
    backed_off = _state(interval=8 * H)
    st, note = adapt(backed_off, "new", 1, tick=0, policy=POLICY)
    assert st.interval == H and "8h -> 1h (new articles again)" in note


def test_bounds_follow_a_source_interval_outside_the_policy():
    # a source configured below the minimum is not forced up to it; one above the maximum keeps its own
    st, _ = adapt(_state(interval=60, base=60), "new", 1, tick=0, policy=POLICY)
    st, _ = adapt(st, "new", 1, tick=60, policy=POLICY)
    assert st.interval == 60
    weekly = 7 * 24 * H
    st = _state(interval=weekly, base=weekly)
    for i in range(3):
        st, _ = adapt(st, "empty", 0, tick=i, policy=POLICY)
    assert st.interval == weekly


def test_failures_and_stops_do_not_change_the_interval():
    st, _ = adapt(_state(), "failed", 0, tick=10 * H, policy=POLICY, crawl_id=5)
    assert (st.interval, st.consecutive_failures, st.next_due_at, st.last_outcome) == (H, 1, 11 * H, "failed")
    st2, _ = adapt(st, "stopped", 0, tick=12 * H, policy=POLICY, crawl_id=6)
    assert st2.next_due_at == st.next_due_at and st2.consecutive_failures == 1 and st2.last_crawl_id == 6
    no_adapt = PollPolicy(adaptive=False, empty_runs=1, busy_runs=1)
    for outcome in ("empty", "new"):
        st3, note = adapt(_state(), outcome, 1, tick=0, policy=no_adapt)
        assert st3.interval == H and note is None


def test_reconcile_and_due():
    fresh = reconcile(None, "s", H, tick=0)
    assert fresh.next_due_at is None and fresh.interval == H
    stored = SourceState(source="s", interval=8 * H, base=H, next_due_at=5 * H, consecutive_empty=2)
    assert reconcile(stored, "s", H, tick=0) is stored
    changed = reconcile(stored, "s", 2 * H, tick=0)       # `every` edited: restart from the new base
    assert (changed.interval, changed.base, changed.next_due_at, changed.consecutive_empty) == (2 * H, 2 * H, 2 * H, 0)
    sources = [Source(name="a", url="https://a.example/"), Source(name="b", url="https://b.example/")]
    states = {"a": SourceState("a", H, H, next_due_at=H), "b": SourceState("b", H, H, next_due_at=H + 1)}
    assert [s.name for s in due_sources(sources, states, H)] == ["a"]
    # adaptive polling turned off: a backed-off source returns to its base interval
    off = reconcile(stored, "s", H, tick=0, adaptive=False)
    assert (off.interval, off.next_due_at) == (H, H)
    row = changed.to_row()
    assert SourceState.from_row(row) == changed


def test_poll_policy_from_settings():
    p = PollPolicy.from_settings({"MONITOR_POLL_MIN_INTERVAL": "60", "MONITOR_POLL_ADAPTIVE": "false"})
    assert p.min_interval == 60 and p.adaptive is False and p.max_interval == 86400
    with pytest.raises(UsageError):
        PollPolicy.from_settings({"MONITOR_POLL_MIN_INTERVAL": "100000"})


# --------------------------------------------------------------------------- the loop, with a fake clock

class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.t = now

    def now(self):
        return self.t

    def wait_until(self, t, stop):
        if not stop.is_set():
            self.t = max(self.t, t)


class FakeRunner:
    """Records (names, time) per run; ``plan(names, n)`` gives per-source counts; ``duration`` advances the clock."""

    def __init__(self, clock, plan=None, duration=60.0):
        self.clock, self.plan, self.duration = clock, plan, duration
        self.calls = []

    def __call__(self, names):
        self.calls.append((list(names), self.clock.now()))
        n = len(self.calls)
        per_source = {}
        for name in names:
            new = self.plan(name, n) if self.plan else 1
            per_source[name] = {"pages_fetched": 5, "articles_new": new, "duplicates": 0, "errors": 0,
                                "skipped_known": 3, "finish_reason": "finished"}
        self.clock.t += self.duration
        return RunResult(returncode=0, crawl_id=n, status="finished", per_source=per_source)


def _sources(**every):
    return [Source(name=n, url=f"https://{n}.example/", every=e) for n, e in every.items()]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "m.db"


def _scheduler(db, sources, runner, clock, **kw):
    kw.setdefault("policy", PollPolicy(adaptive=False))
    lines = []
    sched = Scheduler(trigger=kw.pop("trigger", Trigger(every=H)), load_sources=kw.pop("load", lambda: sources),
                      runner=runner, open_store=lambda: open_writer(db), clock=clock, log=lines.append, **kw)
    return sched, lines


def test_each_tick_crawls_only_the_due_sources(db):
    clock = FakeClock()
    start = clock.t
    runner = FakeRunner(clock)
    sched, lines = _scheduler(db, _sources(wire=None, daily="2h", weekly="1d"), runner, clock, max_runs=5)
    assert sched.run() == 5
    got = [(names, round((t - start) / H)) for names, t in runner.calls]
    assert got == [(["wire", "daily", "weekly"], 0), (["wire"], 1), (["wire", "daily"], 2), (["wire"], 3),
                   (["wire", "daily"], 4)]
    with open_writer(db) as st:
        states = st.source_states()
    assert states["weekly"]["interval_seconds"] == 86400 and states["weekly"]["last_crawl_id"] == 1
    assert from_iso(states["weekly"]["next_due_at"]) == pytest.approx(start + 86400)
    assert from_iso(states["wire"]["next_due_at"]) == pytest.approx(start + 5 * H)
    assert states["daily"]["last_crawl_id"] == 5 and states["daily"]["last_outcome"] == "new"
    assert any("crawling 3 source(s): wire, daily, weekly" in line for line in lines)


def test_a_run_longer_than_the_period_skips_ticks_and_never_overlaps(db):
    clock = FakeClock()
    start = clock.t
    runner = FakeRunner(clock, duration=2.5 * H)
    sched, lines = _scheduler(db, _sources(a=None), runner, clock, max_runs=3)
    sched.run()
    assert [round((t - start) / H, 2) for _, t in runner.calls] == [0, 3, 6]
    for (_, t1), (_, t2) in zip(runner.calls, runner.calls[1:]):
        assert t2 >= t1 + 2.5 * H                      # each run starts after the previous one ended
    skipped = [line for line in lines if "tick(s) skipped" in line]
    assert len(skipped) == 3 and skipped[0].startswith("2 tick(s) skipped: crawl 1 ran from")


def test_run_line_counts_articles_not_sources(db):
    """'crawl N finished: ...' gives the articles the run stored, then the sources per outcome (issue 12:
    it said '2 new' for two sources that brought 7 articles)."""
    clock = FakeClock()
    runner = FakeRunner(clock, plan=lambda name, n: {"a": 4, "b": 3, "c": 0}[name])
    sched, lines = _scheduler(db, _sources(a=None, b=None, c=None), runner, clock, max_runs=1)
    sched.run()
    done = [line for line in lines if line.startswith("crawl 1 finished")]
    assert done == ["crawl 1 finished: 7 new articles, 0 duplicates; sources: 2 with new articles, "
                    "1 with nothing new"]


def test_adaptive_polling_through_the_loop(db):
    clock = FakeClock()
    start = clock.t
    quiet = FakeRunner(clock, plan=lambda name, n: 0)
    sched, lines = _scheduler(db, _sources(quiet=None), quiet, clock, max_runs=7,
                              policy=PollPolicy(min_interval=900, max_interval=4 * H, empty_runs=3, busy_runs=3))
    sched.run()
    assert [round((t - start) / H) for _, t in quiet.calls] == [0, 1, 2, 4, 6, 8, 12]
    assert any("quiet: interval 1h -> 2h (nothing new in 3 crawls in a row)" in line for line in lines)
    with open_writer(db) as st:
        assert st.source_states()["quiet"]["interval_seconds"] == 4 * H


def test_state_survives_a_restart(db):
    clock = FakeClock()
    runner = FakeRunner(clock)
    srcs = _sources(a=None, b="1d")
    sched, _ = _scheduler(db, srcs, runner, clock, max_runs=1)
    sched.run()
    assert runner.calls[-1][0] == ["a", "b"]
    clock.t += 10                                        # a new scheduler process, 10 s later
    restart = clock.t
    runner2 = FakeRunner(clock)
    sched2, _ = _scheduler(db, srcs, runner2, clock, max_runs=1)
    sched2.run()
    # nothing was due at its first tick (a is due an hour after its last crawl, b in a day); its ticks count
    # from its own start, so a runs at the first of them after its due time
    assert runner2.calls == [(["a"], pytest.approx(restart + H))]


def test_stop_during_a_run_ends_after_it_and_forwards_the_signal(db):
    clock = FakeClock()
    forwarded = []
    holder = {}

    def runner(names):
        holder["s"].request_stop(signal.SIGTERM)
        return RunResult(returncode=0, crawl_id=1, status="stopped",
                         per_source={n: {"pages_fetched": 2, "articles_new": 1, "finish_reason": "shutdown"}
                                     for n in names})

    sched, lines = _scheduler(db, _sources(a=None), runner, clock, forward=lambda s: forwarded.append(s) or True)
    holder["s"] = sched
    assert sched.run() == 1
    assert forwarded == [signal.SIGTERM]
    assert any("SIGTERM: stopping after the current crawl" in line for line in lines)
    with open_writer(db) as st:
        state = st.source_states()["a"]
    assert state["last_outcome"] == "stopped" and state["next_due_at"] is None   # still due at the next start


def test_failed_dead_and_refused_runs(db):
    clock = FakeClock()
    results = iter([
        RunResult(returncode=1, crawl_id=1, status="interrupted", per_source=None),           # crawl died
        RunResult(returncode=2, error="the crawl exited 2 before starting"),                  # no crawls row
        RunResult(returncode=0, crawl_id=2, status="failed",
                  per_source={"a": {"pages_fetched": 0, "errors": 3, "finish_reason": "finished"}}),
    ])
    calls = []

    def runner(names):
        calls.append(clock.now())
        clock.t += 60
        return next(results)

    sched, lines = _scheduler(db, _sources(a=None), runner, clock, max_runs=3)
    sched.run()
    with open_writer(db) as st:
        state = st.source_states()["a"]
    assert state["consecutive_failures"] == 2 and state["last_crawl_id"] == 2 and state["last_outcome"] == "failed"
    assert any("crawl not run: the crawl exited 2" in line for line in lines)
    # the refused run left the source due: it was tried again at the very next tick
    assert [round((t - calls[0]) / H) for t in calls] == [0, 1, 2]


class StubStore:
    def __init__(self, running):
        self.running, self.saved = running, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def source_states(self):
        return {}

    def running_crawls(self):
        return self.running

    def save_source_states(self, rows):
        self.saved.extend(rows)


def test_tick_skipped_while_another_process_crawls_the_database():
    clock = FakeClock()
    runner = FakeRunner(clock)
    store = StubStore(running=[(7, 4242)])
    lines = []
    sched = Scheduler(trigger=Trigger(every=H), load_sources=lambda: _sources(a=None), runner=runner,
                      open_store=lambda: store, clock=clock, log=lines.append)
    nxt = sched.tick(clock.t, clock.t, H)
    assert nxt == clock.t + H and runner.calls == [] and store.saved == []
    assert "skipped: crawl 7 (process 4242) is running on this database" in lines[-1]


def test_a_broken_sources_file_keeps_the_previous_list():
    clock = FakeClock()
    runner = FakeRunner(clock)
    good = _sources(a=None)
    answers = iter([good, good, ValueError("bad toml")])

    def load():
        got = next(answers)
        if isinstance(got, Exception):
            raise got
        return got

    lines = []
    sched = Scheduler(trigger=Trigger(every=H), load_sources=load, runner=runner, open_store=lambda: StubStore([]),
                      clock=clock, log=lines.append, max_runs=2)
    sched.run()
    assert [c[0] for c in runner.calls] == [["a"], ["a"]]
    assert any("sources file not reloaded, keeping the previous 1 source(s): bad toml" in line for line in lines)


def test_subprocess_runner_command_and_refused_crawl(tmp_path):
    runner = SubprocessRunner(tmp_path / "m.db", ["--db", str(tmp_path / "m.db"), "-q"], python="/usr/bin/python3")
    assert runner.command(["a", "b"]) == ["/usr/bin/python3", "-m", "monitor", "crawl", "a", "b", "--db",
                                          str(tmp_path / "m.db"), "-q"]
    assert runner.forward(signal.SIGINT) is False
    # a crawl that refuses its arguments leaves no crawls row: reported as not run
    from tests.support.helpers import REPO_ROOT

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    bad = SubprocessRunner(tmp_path / "m.db", ["--db", str(tmp_path / "m.db"), "-s", "DOWNLOAD_DELAY=x"],
                           log_file=tmp_path / "log.txt", env=env)
    result = bad(["whatever"])
    assert result.returncode == 2 and result.crawl_id is None and "before starting" in result.error
    assert "Error:" in (tmp_path / "log.txt").read_text()


# --------------------------------------------------------------------------- `monitor schedule` for real

def _cli(*args):
    from click.testing import CliRunner

    from monitor.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_schedule_cli_refuses_bad_input(tmp_path):
    from tests.support.helpers import write_sources

    src = write_sources(tmp_path / "s.toml", [{"name": "a", "url": "http://127.0.0.1:9/"}])
    db = tmp_path / "m.db"
    both = _cli("schedule", "--every", "1m", "--cron", "* * * * *", "--sources", src, "--db", db)
    assert both.exit_code == 2 and "either --every or --cron" in both.stderr
    cron = _cli("schedule", "--cron", "61 * * * *", "--sources", src, "--db", db)
    assert cron.exit_code == 2 and "cron expression" in cron.stderr
    unknown = _cli("schedule", "nosuch", "--sources", src, "--db", db)
    assert unknown.exit_code == 2 and "unknown source 'nosuch'" in unknown.stderr
    setting = _cli("schedule", "--sources", src, "--db", db, "-s", "MONITOR_POLL_NOPE=1")
    assert setting.exit_code == 2 and "MONITOR_POLL_NOPE" in setting.stderr
    assert not db.exists()                               # refused before anything was written


def test_second_scheduler_on_one_database_is_refused(tmp_path):
    from monitor.ops.schedule import _lock

    db = tmp_path / "m.db"
    held = _lock(db)
    try:
        with pytest.raises(UsageError, match="another `monitor schedule` is already running"):
            _lock(db)
    finally:
        held.close()
    _lock(db).close()                                    # free again once the first one is gone


@pytest.fixture
def news_site(tmp_path):
    from tests.support.fixtureserver import FixtureServer, Site
    from tests.support.helpers import write_sources
    from tests.support.sites import build_news_site

    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=4, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        yield server, site, write_sources(tmp_path / "s.toml", [site.source("one", declare_feeds=True)])


@pytest.mark.slow
def test_schedule_two_runs_against_a_fixture_site(news_site, tmp_path):
    from tests.support.helpers import FAST_SETTINGS, rows, run_monitor

    server, site, sources = news_site
    db = tmp_path / "m.db"
    log = tmp_path / "schedule.log"
    result = run_monitor("schedule", "--every", "1s", "--max-runs", "2", "--sources", sources, "--db", db,
                         "--log-file", log, *FAST_SETTINGS, "-s", "MONITOR_EXTRACT_WORKERS=1",
                         "-s", "MONITOR_POLL_MIN_INTERVAL=1")
    text = log.read_text()
    assert result.returncode == 0, result.stderr[-3000:] + text[-3000:]
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [c["status"] for c in crawls] == ["finished", "finished"]
    assert crawls[0]["articles_new"] == len(site.articles) and crawls[1]["articles_new"] == 0
    assert crawls[1]["started_at"] >= crawls[0]["finished_at"]            # one at a time
    state = rows(db, "SELECT * FROM source_state")
    assert len(state) == 1 and state[0]["source"] == "one"
    assert state[0]["last_crawl_id"] == crawls[1]["id"] and state[0]["last_outcome"] == "empty"
    assert state[0]["last_new"] == 0 and state[0]["consecutive_empty"] == 1 and state[0]["interval_seconds"] == 1
    assert state[0]["next_due_at"]
    # the log has the scheduler's lines and both crawls' summaries
    assert "crawling 1 source(s): one" in text and "2 crawl run(s) done (--max-runs)" in text
    assert text.count("Crawl 1 finished") == 1 and text.count("Crawl 2 finished") == 1
    assert (tmp_path / "m.db.schedule.lock").read_text().strip().isdigit()     # the scheduler held the lock


@pytest.mark.slow
def test_sigterm_stops_after_the_crawl_saved_its_batch(tmp_path):
    from tests.support.fixtureserver import FixtureServer, Site, slow
    from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, write_sources
    from tests.support.sites import build_news_site

    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=8, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        fast = [a for i, a in enumerate(site.articles) if i < 3]
        for art in site.articles[3:]:                       # the rest answer slowly: the crawl is still going
            path = art.url[len(server.url):]
            server.site[path] = slow(server.site[path].body, delay=10)
        sources = write_sources(tmp_path / "s.toml", [site.source("one", declare_feeds=True)])
        db = tmp_path / "m.db"
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "schedule", "--every", "1h", "--sources", sources,
                                 "--db", db, *FAST_SETTINGS, "-s", "MONITOR_EXTRACT_WORKERS=1"],
                                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            fast_paths = {a.url[len(server.url):] for a in fast}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not fast_paths <= set(server.paths_requested()):
                time.sleep(0.2)
            assert fast_paths <= set(server.paths_requested()), "the crawl never fetched the fast articles"
            time.sleep(2)                                   # let their extraction finish (batch not yet written)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "SIGTERM: stopping after the current crawl" in err and "stopped after 1 crawl run(s)" in err
    crawl = rows(db, "SELECT * FROM crawls")
    assert len(crawl) == 1 and crawl[0]["status"] == "stopped" and crawl[0]["finished_at"], (crawl, err[-3000:])
    stored = {r["url"].rstrip("/") for r in rows(db, "SELECT url FROM articles")}
    assert {a.url.rstrip("/") for a in fast} <= stored       # the batch was committed on the way out
    state = rows(db, "SELECT * FROM source_state")[0]
    assert state["last_outcome"] == "stopped" and state["next_due_at"] is None


def test_sigint_while_waiting_for_the_next_tick_exits_at_once(tmp_path):
    from tests.support.helpers import REPO_ROOT, write_sources

    src = write_sources(tmp_path / "s.toml", [{"name": "a", "url": "http://127.0.0.1:9/"}])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "schedule", "--cron", "0 0 1 1 *", "--sources", src,
                             "--db", tmp_path / "m.db"], cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()                       # the scheduler is waiting for next New Year
        assert "1 source(s), at cron times '0 0 1 1 *' (local time); first tick" in first
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "SIGINT: stopping" in rest and "stopped after 0 crawl run(s)" in rest
    from tests.support.helpers import rows

    assert rows(tmp_path / "m.db", "SELECT * FROM crawls") == []
