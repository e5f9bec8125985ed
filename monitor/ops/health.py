"""Source health from the ``crawls`` table: which sources keep failing, which have gone quiet.

Read-only and pure apart from reading the database, so it serves ``monitor health`` (exit 1 when a source
is unhealthy, for cron and monitoring), ``monitor stats`` (``health_report(db_path)``) and the scheduler
(``run_outcome``, the one definition of a failed crawl).

Every finished ``crawls`` row carries per-source counts in its ``summary`` JSON (``pages_fetched``,
``articles_new``, ``duplicates``, ``errors``, ``skipped_known``, ``finish_reason``).  Each source's runs are
classified by ``run_outcome``:

``failed``
    the spider did not finish (``finish_reason`` other than finished/max_articles/closespider_*/shutdown),
    the crawl marked the source ``failed`` (``status``: no request brought a usable response, see
    ``monitor.outcomes.source_status``), nothing answered (0 pages fetched), or the run recorded errors and found
    no article at all (none new, duplicate or already known); a crawl process that died (row ``interrupted``
    without summary) failed for every source it crawled.  A *complete* failure is a finished run that
    fetched nothing usable (``complete_failure``, rows written since media-monitor recorded a per-source
    ``status``): the site could not be reached or rejected everything.
``stopped``
    stopped by the user (SIGINT/SIGTERM): neutral, ignored.
``new`` / ``empty``
    finished, with or without new articles (``articles_new + duplicates``).

A source is unhealthy when

* ``failing``: its last run failed completely (one is enough: the reason, e.g. "DNS lookup failed for
  example.kz", is in its ``failure``), or its last ``MONITOR_HEALTH_MAX_FAILURES`` runs in a row failed, or
* ``silent``: its runs since the last one that brought something new include at least
  ``MONITOR_HEALTH_EMPTY_RUNS`` empty runs, and its own history says it should have brought
  ``MONITOR_HEALTH_EXPECTED_NEW`` articles or more in that time.  The history rate is new articles per hour
  of its earlier runs in the window (``MONITOR_HEALTH_HISTORY_DAYS``), each run covering the time since the
  source's previous run; the source's first run (the backlog) is left out.  A source that never had a
  steady flow is never "silent" (nothing to compare with).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from monitor.config import setting
from monitor.errors import UsageError
from monitor.outcomes import status_from_reason

FAILED, STOPPED, NEW, EMPTY = "failed", "stopped", "new", "empty"


@dataclass(frozen=True)
class HealthRules:
    max_failures: int = 3          # MONITOR_HEALTH_MAX_FAILURES
    empty_runs: int = 3            # MONITOR_HEALTH_EMPTY_RUNS
    expected_new: float = 5.0      # MONITOR_HEALTH_EXPECTED_NEW
    history_days: int = 30         # MONITOR_HEALTH_HISTORY_DAYS

    @classmethod
    def from_settings(cls, overrides: dict | None = None) -> "HealthRules":
        rules = cls(max_failures=setting("MONITOR_HEALTH_MAX_FAILURES", overrides),
                    empty_runs=setting("MONITOR_HEALTH_EMPTY_RUNS", overrides),
                    expected_new=setting("MONITOR_HEALTH_EXPECTED_NEW", overrides),
                    history_days=setting("MONITOR_HEALTH_HISTORY_DAYS", overrides))
        if rules.max_failures < 1 or rules.empty_runs < 1 or rules.history_days < 1 or rules.expected_new <= 0:
            raise UsageError("MONITOR_HEALTH_MAX_FAILURES, _EMPTY_RUNS and _HISTORY_DAYS must be 1 or more, "
                             "MONITOR_HEALTH_EXPECTED_NEW above 0")
        return rules


# --------------------------------------------------------------------------- one run of one source

def new_items(counts: dict | None) -> int:
    """Articles a run added for a source: new ones plus duplicates of other sources' stories."""
    counts = counts or {}
    return int(counts.get("articles_new") or 0) + int(counts.get("duplicates") or 0)


def run_outcome(counts: dict | None, crawl_status: str | None = None) -> str:
    """``failed``, ``stopped``, ``new`` or ``empty`` for one source's counts in ``crawls.summary``.

    Counts without ``finish_reason`` (distributed runs written by ``monitor ingest``) take the crawl's
    status (``crawl_status``, the ``crawls.status`` column) instead."""
    if not isinstance(counts, dict):
        return FAILED
    if "finish_reason" in counts or crawl_status is None:
        status = status_from_reason(counts.get("finish_reason"))
    else:
        status = crawl_status
    if status == "stopped":
        return STOPPED
    if status != "finished" or counts.get("status") == "failed":
        return FAILED
    if int(counts.get("pages_fetched") or 0) == 0:
        return FAILED
    found = new_items(counts) + int(counts.get("skipped_known") or 0)
    if int(counts.get("errors") or 0) > 0 and found == 0:
        return FAILED
    return NEW if new_items(counts) > 0 else EMPTY


def complete_failure(counts: dict | None, crawl_status: str | None = None) -> bool:
    """Whether a run finished but fetched nothing usable: the crawl marked the source ``failed`` (its
    ``status``, with the reason in ``failure``).  Older rows have no ``status``: they are judged by the
    MONITOR_HEALTH_MAX_FAILURES rule only.  A spider or crawl that ended early (a bug, a full disk) is not
    a complete failure of the site either: several such runs are needed."""
    if not isinstance(counts, dict) or counts.get("status") != "failed":
        return False
    ended = status_from_reason(counts["finish_reason"]) if "finish_reason" in counts else crawl_status
    return ended in ("finished", None)


def failure_reason(counts: dict | None, crawl_status: str | None = None) -> str:
    """Why a run counted as failed, in a few words."""
    if not isinstance(counts, dict):
        return f"crawl {crawl_status or 'died'} without a summary"
    if counts.get("failure"):
        return str(counts["failure"])
    reason = counts.get("finish_reason", crawl_status)
    if run_outcome({**counts, "pages_fetched": 1, "errors": 0}, crawl_status) == FAILED:
        return f"spider ended with {reason or 'no finish reason'}"
    errors = int(counts.get("errors") or 0)
    if int(counts.get("pages_fetched") or 0) == 0:
        return f"nothing fetched, {errors} error(s)"
    return f"{errors} error(s), no article found"


@dataclass
class Run:
    crawl_id: int
    started: datetime
    finished: datetime | None
    outcome: str
    new: int
    finish_reason: str | None
    why: str | None = None            # failed runs: failure_reason()
    complete: bool = False            # failed runs: complete_failure()


def _ts(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def runs_by_source(rows) -> dict[str, list[Run]]:
    """Per source, its runs oldest first, from ``crawls`` rows (dicts with id, started_at, finished_at, status,
    sources, summary).  Running crawls are left out."""
    out: dict[str, list[Run]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        if row.get("status") == "running":
            continue
        started = _ts(row.get("started_at"))
        if started is None:
            continue
        try:
            summary = json.loads(row["summary"]) if row.get("summary") else None
        except (TypeError, ValueError):
            summary = None
        per_source: dict = {}
        if isinstance(summary, dict) and all(isinstance(v, dict) for v in summary.values()):
            per_source = summary
        else:
            try:
                names = json.loads(row.get("sources") or "[]")
            except (TypeError, ValueError):
                names = []
            # no per-source summary: the crawl process died (or never got going): failed for all of its sources
            per_source = {n: None for n in names if isinstance(n, str)}
        for name, counts in per_source.items():
            outcome = run_outcome(counts, row.get("status"))
            out.setdefault(name, []).append(Run(
                crawl_id=row["id"], started=started, finished=_ts(row.get("finished_at")),
                outcome=outcome, new=new_items(counts),
                finish_reason=(counts or {}).get("finish_reason") if counts else row.get("status"),
                why=failure_reason(counts, row.get("status")) if outcome == FAILED else None,
                complete=outcome == FAILED and complete_failure(counts, row.get("status"))))
    return out


# --------------------------------------------------------------------------- one source's health

def assess(name: str, runs: list[Run], rules: HealthRules) -> dict:
    """Health of one source from its runs (oldest first)."""
    runs = [r for r in runs if r.outcome != STOPPED]
    rec = {"source": name, "healthy": True, "status": "ok", "problems": [], "runs": len(runs),
           "last_crawl_id": None, "last_crawl_at": None, "last_outcome": None, "last_finish_reason": None,
           "consecutive_failures": 0, "empty_streak": 0, "last_new_at": None, "new_in_window": 0,
           "expected_new": None}
    if not runs:
        rec["status"] = "unknown"
        rec["problems"].append("no finished crawl in the window")
        return rec
    last = runs[-1]
    rec.update(last_crawl_id=last.crawl_id, last_crawl_at=(last.finished or last.started).isoformat(),
               last_outcome=last.outcome, last_finish_reason=last.finish_reason,
               new_in_window=sum(r.new for r in runs))
    failures = 0
    for r in reversed(runs):
        if r.outcome != FAILED:
            break
        failures += 1
    rec["consecutive_failures"] = failures
    last_new = max((i for i, r in enumerate(runs) if r.outcome == NEW), default=None)
    if last_new is not None:
        rec["last_new_at"] = runs[last_new].started.isoformat()
        streak = runs[last_new + 1:]
        empties = sum(1 for r in streak if r.outcome == EMPTY)
        rec["empty_streak"] = empties
        # history: the ok runs up to the last one with news, minus the source's first run (its backlog)
        # (each ok run covers the time since the source's previous ok run)
        covered_hours, new_total, prev_start = 0.0, 0, None
        for r in runs[:last_new + 1]:
            if r.outcome not in (NEW, EMPTY):
                continue
            if prev_start is not None:
                covered_hours += max((r.started - prev_start).total_seconds(), 0.0) / 3600
                new_total += r.new
            prev_start = r.started
        quiet = [r for r in streak if r.outcome == EMPTY]
        if quiet and covered_hours > 0 and new_total > 0:
            rate = new_total / covered_hours
            quiet_hours = (quiet[-1].started - runs[last_new].started).total_seconds() / 3600
            expected = rate * quiet_hours
            rec["expected_new"] = round(expected, 1)
            if empties >= rules.empty_runs and expected >= rules.expected_new:
                rec["problems"].append(
                    f"silent: nothing new in {empties} runs since {runs[last_new].started:%Y-%m-%d %H:%M} UTC, "
                    f"where its history predicts about {expected:.0f}")
                rec["status"] = "silent"
    elif len(runs) > 1 and all(r.outcome == EMPTY for r in runs[1:]):
        rec["empty_streak"] = len(runs) - 1
    if failures >= rules.max_failures:
        rec["problems"].insert(0, f"failing: its last {failures} runs failed (last: {last.why})")
        rec["status"] = "failing"
    elif failures and last.complete:   # one is enough: nothing could be fetched at all
        rec["problems"].insert(0, f"failing: nothing could be fetched in its last crawl ({last.crawl_id}): "
                                  f"{last.why}")
        rec["status"] = "failing"
    rec["healthy"] = rec["status"] in ("ok", "unknown")
    return rec


# --------------------------------------------------------------------------- the report

def _read_rows(db_path, since: datetime) -> tuple[list[dict], dict[str, dict]]:
    from monitor.errors import DatabaseError
    from monitor.store.crawllog import read_source_states
    from monitor.store.db import SQLError, has_table, reading, resolve_db_path

    with reading(db_path) as conn:
        try:
            if not has_table(conn, "crawls"):
                return [], {}
            rows = [dict(r) for r in conn.execute(
                "SELECT id, started_at, finished_at, status, sources, summary FROM crawls "
                "WHERE started_at >= ? ORDER BY id", [since.replace(microsecond=0).isoformat()])]
            states = read_source_states(conn) if has_table(conn, "source_state") else {}
            return rows, states
        except SQLError as exc:
            raise DatabaseError(f"{resolve_db_path(db_path)}: cannot be read: {exc}") from None


def health_report(db_path=None, *, sources=None, overrides: dict | None = None,
                  rules: HealthRules | None = None, now: datetime | None = None) -> list[dict]:
    """Per-source health, one dict per source sorted by name (unhealthy ones have ``healthy: False``).

    Keys: source, healthy, status (ok, failing, silent, unknown), problems (list of sentences), runs,
    last_crawl_id, last_crawl_at, last_outcome (new, empty, failed), last_finish_reason,
    consecutive_failures, empty_streak, last_new_at, new_in_window, expected_new, and from the scheduler's
    ``source_state`` (None when the source was never scheduled): interval_seconds, next_due_at.

    ``sources``: names to report (configured sources); a name without crawls gets status ``unknown``
    (healthy).  Default: every source found in the window.  ``overrides``: ``MONITOR_HEALTH_*`` settings.
    """
    rules = rules or HealthRules.from_settings(overrides)
    now = now or datetime.now(timezone.utc)
    rows, states = _read_rows(db_path, now - timedelta(days=rules.history_days))
    by_source = runs_by_source(rows)
    names = list(sources) if sources is not None else sorted(by_source)
    report = []
    for name in sorted(names):
        rec = assess(name, by_source.get(name, []), rules)
        st = states.get(name) or {}
        rec["interval_seconds"] = st.get("interval_seconds")
        rec["next_due_at"] = st.get("next_due_at")
        report.append(rec)
    return report


def format_seconds(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.1f}m"
    return f"{seconds}s"


def _utc_minute(iso: str | None) -> str:
    t = _ts(iso)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if t else "-"


def render_health(report: list[dict], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps({"healthy": all(r["healthy"] for r in report), "sources": report},
                          ensure_ascii=False, indent=2)
    if not report:
        return "No crawls recorded yet (run `monitor crawl` or `monitor schedule`)."
    head = (f"{'source':<24} {'status':<8} {'runs':>4} {'fails':>5} {'empty':>5} {'new':>6} {'interval':>8} "
            f"{'next due (UTC)':<16}  last crawl")
    lines = [head, "-" * len(head)]
    for r in report:
        last = (f"{r['last_crawl_id']} {r['last_outcome']} {_utc_minute(r['last_crawl_at'])}"
                if r["last_crawl_id"] else "-")
        lines.append(f"{r['source']:<24} {r['status']:<8} {r['runs']:>4} {r['consecutive_failures']:>5} "
                     f"{r['empty_streak']:>5} {r['new_in_window']:>6} {format_seconds(r['interval_seconds']):>8} "
                     f"{_utc_minute(r['next_due_at']):<16}  {last}")
    bad = [r for r in report if not r["healthy"]]
    lines.append("-" * len(head))
    lines.append(f"{len(report) - len(bad)} of {len(report)} sources healthy")
    for r in bad:
        for p in r["problems"]:
            lines.append(f"{r['source']}: {p}")
    return "\n".join(lines)


def run_health(db_path=None, *, sources_path=None, tags=(), fmt: str = "table", overrides=()) -> tuple[str, int]:
    """``monitor health``: (rendered report, exit code 1 when a source is unhealthy else 0)."""
    from monitor.config import parse_overrides

    parsed = parse_overrides(overrides)   # only MONITOR_HEALTH_* matter here: Scrapy's settings are not checked
    names = None
    if sources_path or tags:
        from monitor.sources.catalogue import load_sources, select_sources

        names = [s.name for s in select_sources(load_sources(sources_path), tags=tags)]
    report = health_report(db_path, sources=names, overrides=parsed)
    return render_health(report, fmt), 0 if all(r["healthy"] for r in report) else 1
