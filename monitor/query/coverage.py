"""Coverage over time: articles per day or week, per topic or per source, duplicates folded.

``coverage(db_path, by=..., interval=..., since=..., until=..., topics=..., sources=...)`` returns the series
``monitor stats --chart`` draws (``monitor.query.charts``) and the HTML digest shows.  It runs ``COVERAGE_SQL``,
the very query ``monitor serve`` offers as the canned query ``coverage`` (``monitor.query.datasette``), so the
chart and Datasette give the same numbers.

Folding: a duplicate group (``articles.duplicate_of``) counts once, as its first article in the window (lowest
id among the articles that pass the filters): that article's date, source and topics.  Language editions of
one story are separate articles (each outlet and language that covered it counts).  An article's date is its
publication time, else when it was fetched (UTC), as everywhere else.  Weeks start on Monday and are named by
that Monday's date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from monitor.clock import utcnow
from monitor.errors import UsageError
from monitor.query.inputs import SQL_TS, parse_when

BYS = ("topic", "source")
INTERVALS = ("day", "week")
MAX_PERIODS = 1000                 # days or weeks in one chart: beyond that it is unreadable (and large)
DEFAULT_DAYS = 30                  # the window when --since is not given

DATE = "COALESCE(datetime(a.published), datetime(a.fetched_at))"

# Named parameters (Datasette fills the missing ones with ''): :by topic|source (default topic), :interval
# day|week (default day), :since and :until (YYYY-MM-DD, or 'YYYY-MM-DD HH:MM:SS' UTC; a bare --until date is
# that whole day; default the last 30 days), :topic and :source (one name or several separated by commas).
COVERAGE_SQL = f"""WITH params AS (
  SELECT COALESCE(NULLIF(:by, ''), 'topic') AS by_key,
         COALESCE(NULLIF(:interval, ''), 'day') AS step,
         COALESCE(datetime(NULLIF(:since, '')), datetime('now', '-{DEFAULT_DAYS - 1} days', 'start of day')) AS since,
         COALESCE(CASE WHEN length(:until) = 10 THEN datetime(:until, '+1 day', '-1 second')
                       ELSE datetime(NULLIF(:until, '')) END, datetime('now')) AS until
),
matched AS (
  SELECT a.id, a.source, COALESCE(a.duplicate_of, a.id) AS grp, {DATE} AS date
  FROM articles a, params p
  WHERE {DATE} >= p.since AND {DATE} <= p.until
    AND (COALESCE(:source, '') = '' OR instr(',' || :source || ',', ',' || a.source || ',') > 0)
    AND (COALESCE(:topic, '') = '' OR a.id IN (SELECT article_id FROM article_topics
                                               WHERE instr(',' || :topic || ',', ',' || topic || ',') > 0))
),
firsts AS (
  SELECT id, source, date FROM (
    SELECT id, source, date, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY id) AS rn FROM matched)
  WHERE rn = 1
),
keyed AS (
  SELECT f.date, f.source AS key FROM firsts f, params p WHERE p.by_key = 'source'
  UNION ALL
  SELECT f.date, t.topic AS key FROM firsts f JOIN article_topics t ON t.article_id = f.id, params p
  WHERE p.by_key = 'topic'
    AND (COALESCE(:topic, '') = '' OR instr(',' || :topic || ',', ',' || t.topic || ',') > 0)
)
SELECT CASE WHEN p.step = 'week' THEN date(k.date, 'weekday 0', '-6 days') ELSE date(k.date) END AS period,
       k.key, count(*) AS articles
FROM keyed k, params p
GROUP BY period, k.key
ORDER BY period, k.key"""


def _names(values, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    names = [v.strip() for v in (values or ()) if v and v.strip()]
    for n in names:
        if "," in n:
            raise UsageError(f"--{what} {n!r}: one name per --{what} (repeat the option for several)")
    return names


def period_start(day: date, interval: str) -> date:
    return day - timedelta(days=day.weekday()) if interval == "week" else day


def coverage(db_path, *, by: str = "topic", interval: str = "day", since: str | None = None,
             until: str | None = None, topics=(), sources=(), now: datetime | None = None) -> dict:
    """Articles per ``interval`` per ``by`` key, duplicates folded (see the module doc).

    Returns ``{"by", "interval", "since", "until", "periods": [...], "series": [{"name", "counts", "total"}],
    "rows": [{"period", "key", "articles"}], "total"}``: every period of the window in order (zeros included),
    one series per key with one count per period (biggest total first), and the non-zero cells as rows (what
    the canned query returns)."""
    from monitor.query.reads import check_sources, check_topics
    from monitor.store.db import reading

    if by not in BYS:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(BYS)}")
    if interval not in INTERVALS:
        raise UsageError(f"--interval {interval!r}: choose one of {', '.join(INTERVALS)}")
    now = now or utcnow()
    topics, sources = _names(topics, "topic"), _names(sources, "source")
    until_ts = parse_when(until, end=True, now=now, option="--until") if until else now.strftime(SQL_TS)
    since_ts = (parse_when(since, now=now, option="--since") if since
                else (now - timedelta(days=DEFAULT_DAYS - 1)).strftime("%Y-%m-%d 00:00:00"))
    if since_ts > until_ts:
        raise UsageError(f"--since {since_ts[:16]} is after --until {until_ts[:16]}: nothing to chart")
    first = period_start(date.fromisoformat(since_ts[:10]), interval)
    last = period_start(date.fromisoformat(until_ts[:10]), interval)
    step = 7 if interval == "week" else 1
    count = (last - first).days // step + 1
    if count > MAX_PERIODS:
        raise UsageError(f"the window has {count} {interval}s; a chart takes at most {MAX_PERIODS}: give a later "
                         "--since" + (" or --interval week" if interval == "day" else ""))
    periods = [(first + timedelta(days=i * step)).isoformat() for i in range(count)]
    params = {"by": by, "interval": interval, "since": since_ts, "until": until_ts,
              "topic": ",".join(topics), "source": ",".join(sources)}
    with reading(db_path) as conn:
        if topics:
            check_topics(conn, topics)
        if sources:
            check_sources(conn, sources)
        rows = [{"period": r[0], "key": r[1], "articles": r[2]} for r in conn.execute(COVERAGE_SQL, params)]
    index = {p: i for i, p in enumerate(periods)}
    series: dict[str, list[int]] = {}
    for r in rows:
        series.setdefault(r["key"], [0] * len(periods))[index[r["period"]]] += r["articles"]
    ordered = sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return {
        "by": by, "interval": interval, "since": since_ts, "until": until_ts, "topics": topics, "sources": sources,
        "periods": periods, "series": [{"name": k, "counts": v, "total": sum(v)} for k, v in ordered],
        "rows": rows, "total": sum(r["articles"] for r in rows),
    }

