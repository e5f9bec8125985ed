"""monitor.ops.health: run outcomes, failing and silent sources, `monitor health` exit codes and formats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.ops.health import HealthRules, assess, failure_reason, health_report, run_outcome, runs_by_source
from monitor.store.db import open_writer

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def counts(new=0, dups=0, known=5, pages=6, errors=0, reason="finished"):
    return {"pages_fetched": pages, "articles_new": new, "duplicates": dups, "errors": errors,
            "skipped_known": known, "finish_reason": reason}


def test_run_outcome():
    assert run_outcome(counts(new=2)) == "new"
    assert run_outcome(counts(dups=1)) == "new"                     # syndicated copies are news for the source
    assert run_outcome(counts()) == "empty"
    assert run_outcome(counts(reason="max_articles", new=3)) == "new"
    assert run_outcome(counts(reason="shutdown")) == "stopped"
    assert run_outcome(counts(pages=0, known=0)) == "failed"          # nothing answered
    assert run_outcome(counts(known=0, errors=4)) == "failed"         # only errors
    assert run_outcome(counts(errors=4)) == "empty"                   # errors, but the feed still worked
    assert run_outcome(counts(reason="not started")) == "failed"
    assert run_outcome(counts(reason="start_error")) == "failed"
    assert run_outcome(None) == "failed"
    # distributed runs (monitor ingest) have no finish_reason per source: the crawl's status decides
    ingested = {k: v for k, v in counts(new=2).items() if k != "finish_reason"}
    assert run_outcome(ingested, "finished") == "new" and run_outcome(ingested, "interrupted") == "failed"
    assert failure_reason(counts(known=0, errors=4)) == "4 error(s), no article found"
    assert failure_reason(counts(pages=0, known=0, errors=1)) == "nothing fetched, 1 error(s)"
    assert failure_reason(counts(reason="start_error")) == "spider ended with start_error"
    assert failure_reason(None, "interrupted") == "crawl interrupted without a summary"


def _rows(*runs, start=T0, step=timedelta(hours=1)):
    """crawls rows, one per item: a dict name -> counts, or ("interrupted", [names]) for a crawl that died."""
    out = []
    for i, run in enumerate(runs):
        started = start + i * step
        row = {"id": i + 1, "started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=5)).isoformat(),
               "status": "finished", "sources": None, "summary": None}
        if isinstance(run, tuple):
            row["status"], row["sources"] = run[0], json.dumps(run[1])
        else:
            row["summary"], row["sources"] = json.dumps(run), json.dumps(sorted(run))
        out.append(row)
    return out


RULES = HealthRules(max_failures=3, empty_runs=3, expected_new=5.0, history_days=30)


def test_failing_after_n_failures_in_a_row_and_recovery():
    rows = _rows({"a": counts(new=2), "b": counts(new=1)},
                 {"a": counts(pages=0, known=0, errors=1), "b": counts(new=1)},
                 ("interrupted", ["a", "b"]),                                   # the crawl process died
                 {"a": counts(reason="not started"), "b": counts(new=1)},
                 {"running": counts()} | {"a": counts()})
    rows[-1]["status"] = "running"                                              # ignored until it ends
    by_source = runs_by_source(rows)
    a = assess("a", by_source["a"], RULES)
    assert a["status"] == "failing" and not a["healthy"] and a["consecutive_failures"] == 3
    assert a["problems"][0] == "failing: its last 3 runs failed (last: spider ended with not started)"
    b = assess("b", by_source["b"], RULES)
    assert b["healthy"] and b["consecutive_failures"] == 0
    # one more good run and a is healthy again; with MAX_FAILURES 4 it was never failing
    rows[-1]["status"] = "finished"
    assert assess("a", runs_by_source(rows)["a"], RULES)["healthy"]
    assert assess("a", by_source["a"], HealthRules(max_failures=4))["healthy"]


def test_stopped_runs_are_neutral():
    rows = _rows({"a": counts(known=0, errors=1)}, {"a": counts(reason="shutdown")},
                 {"a": counts(known=0, errors=1)}, {"a": counts(known=0, errors=1)})
    rec = assess("a", runs_by_source(rows)["a"], RULES)
    assert rec["runs"] == 3 and rec["consecutive_failures"] == 3 and rec["status"] == "failing"


def test_silent_against_its_own_history():
    # backlog, then 2 new articles an hour for five hours, then nothing for three hourly runs:
    # its history predicts about 6 in those three hours (>= 5): silent
    runs = [{"a": counts(new=200)}] + [{"a": counts(new=2)}] * 5 + [{"a": counts()}] * 3
    rec = assess("a", runs_by_source(_rows(*runs))["a"], RULES)
    assert rec["status"] == "silent" and not rec["healthy"]
    assert rec["empty_streak"] == 3 and rec["expected_new"] == pytest.approx(6.0)
    assert "silent: nothing new in 3 runs since 2026-03-01 05:00 UTC" in rec["problems"][0]
    assert rec["last_new_at"].startswith("2026-03-01T05:00")
    # two empty runs are not yet enough
    two = assess("a", runs_by_source(_rows(*runs[:-1]))["a"], RULES)
    assert two["healthy"] and two["empty_streak"] == 2
    # a slow publisher (one article every other hour) is not silent after three empty hours (expects ~1.5)
    slow = [{"a": counts(new=200)}] + [{"a": counts(new=1)}, {"a": counts()}] * 3 + [{"a": counts()}] * 3
    rec = assess("a", runs_by_source(_rows(*slow))["a"], RULES)
    assert rec["healthy"] and rec["expected_new"] < 5


def test_the_backlog_alone_is_no_history():
    runs = [{"a": counts(new=300)}] + [{"a": counts()}] * 10
    rec = assess("a", runs_by_source(_rows(*runs))["a"], RULES)
    assert rec["healthy"] and rec["expected_new"] is None and rec["empty_streak"] == 10


def test_silence_is_measured_in_time_not_runs():
    # adaptive polling made the empty runs rarer (every 4 h): three of them cover 12 h of expected news
    runs = [{"a": counts(new=100)}] + [{"a": counts(new=1)}] * 4
    rows = _rows(*runs) + _rows(*([{"a": counts()}] * 3), start=T0 + timedelta(hours=8), step=timedelta(hours=4))
    for i, row in enumerate(rows):
        row["id"] = i + 1
    rec = assess("a", runs_by_source(rows)["a"], RULES)
    assert rec["status"] == "silent" and rec["expected_new"] == pytest.approx(12.0)


# --------------------------------------------------------------------------- the report and the CLI

@pytest.fixture
def db(tmp_path):
    path = tmp_path / "m.db"
    with open_writer(path) as st:
        for _ in range(3):
            cid = st.start_crawl(["good", "broken"])
            st.finish_crawl(cid, "finished", {}, {"good": counts(new=1), "broken": counts(pages=0, known=0, errors=2)})
        st.save_source_states([{"source": "good", "interval_seconds": 1800, "next_due_at": "2026-03-01T12:00:00+00:00"}])
    return path


def test_health_report(db):
    report = health_report(db)
    assert [r["source"] for r in report] == ["broken", "good"]
    broken, good = report
    assert broken["status"] == "failing" and broken["consecutive_failures"] == 3 and broken["last_crawl_id"] == 3
    assert good["healthy"] and good["new_in_window"] == 3 and good["interval_seconds"] == 1800
    assert good["next_due_at"] == "2026-03-01T12:00:00+00:00" and broken["interval_seconds"] is None
    only = health_report(db, sources=["good", "never"], overrides={"MONITOR_HEALTH_MAX_FAILURES": "9"})
    assert [(r["source"], r["status"], r["healthy"]) for r in only] == [("good", "ok", True), ("never", "unknown", True)]
    # crawls older than the window are not read
    later = datetime.now(timezone.utc) + timedelta(days=31)
    assert health_report(db, now=later) == []


def _cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_health_cli_exit_codes_and_formats(db, tmp_path):
    table = _cli("health", "--db", db)
    assert table.exit_code == 1
    assert "1 of 2 sources healthy" in table.stdout
    assert "broken: failing: its last 3 runs failed (last: nothing fetched, 2 error(s))" in table.stdout
    data = json.loads(_cli("health", "--db", db, "--format", "json").stdout)
    assert data["healthy"] is False and {s["source"]: s["status"] for s in data["sources"]} == {
        "broken": "failing", "good": "ok"}
    relaxed = _cli("health", "--db", db, "-s", "MONITOR_HEALTH_MAX_FAILURES=4")
    assert relaxed.exit_code == 0 and "2 of 2 sources healthy" in relaxed.stdout
    sources = tmp_path / "s.toml"
    sources.write_text('[[source]]\nname = "good"\nurl = "https://good.example/"\n', encoding="utf-8")
    assert _cli("health", "--db", db, "--sources", sources).exit_code == 0
    bad = _cli("health", "--db", db, "-s", "MONITOR_HEALTH_MAX_FAILURES=many")
    assert bad.exit_code == 2 and "MONITOR_HEALTH_MAX_FAILURES" in bad.stderr


def test_health_cli_without_crawls_and_without_database(tmp_path):
    empty = tmp_path / "empty.db"
    open_writer(empty).close()
    result = _cli("health", "--db", empty)
    assert result.exit_code == 0 and "No crawls recorded yet" in result.stdout
    missing = _cli("health", "--db", tmp_path / "nope.db")
    assert missing.exit_code == 2 and "no such database" in missing.stderr
