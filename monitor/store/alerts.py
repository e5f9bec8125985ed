"""What `monitor alert` reads and writes: new articles matching a rule, and the ``alerts_sent`` log.

Tables (migration ``m011_alerts``): ``alerts_sent`` (one row per rule, channel and article alerted: ``pending``
while it is being sent, ``sent``, or ``failed`` and retried at the next run) and ``alert_state`` (per rule: the
highest article id already matched).  A story is a duplicate group joined with its language editions, as
``monitor digest`` groups it (``STORY_SQL``): an article whose story was already alerted for a rule and channel
is folded into it, not sent again, also when the story grew or merged since.

Readers (``--dry-run``) pass an ``open_reader`` connection; writes go through ``AlertLog`` on the writer.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from monitor.clock import utcnow_iso

# the story key of article ``a``: its own story_links row, else its duplicate group's, else its group's root
STORY_SQL = "COALESCE(sl.story_id, sg.story_id, a.duplicate_of, a.id)"
STORY_JOINS = ("LEFT JOIN story_links sl ON sl.article_id = a.id "
               "LEFT JOIN story_links sg ON sg.article_id = a.duplicate_of")
ARTICLE_COLUMNS = ("a.id, a.url, a.source, a.language, a.title, a.published, a.fetched_at, a.description, "
                   "substr(a.text, 1, 3000) AS text, a.duplicate_of, "
                   "COALESCE(datetime(a.published), datetime(a.fetched_at)) AS date")
RETRY_STATUSES = ("pending", "failed")


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


def has_alert_tables(conn) -> bool:
    """Whether the file has m011's tables (a reader on a file no writer migrated yet has not)."""
    return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                        "('alerts_sent', 'alert_state')").fetchone()[0] == 2


def max_article_id(conn) -> int:
    return conn.execute("SELECT COALESCE(max(id), 0) FROM articles").fetchone()[0]


def rule_cursor(conn, rule: str) -> int | None:
    """The highest article id the rule has matched, None before its first run."""
    if not has_alert_tables(conn):
        return None
    row = conn.execute("SELECT last_article_id FROM alert_state WHERE rule = ?", [rule]).fetchone()
    return None if row is None else row[0]


def topic_known(conn, topic: str) -> bool | None:
    """Whether ``topic`` is defined in the file's topics table or tagged on an article; None when the file
    knows no topic at all (nothing to check against)."""
    if conn.execute("SELECT 1 FROM article_topics WHERE topic = ? LIMIT 1", [topic]).fetchone():
        return True
    has_topics = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'topics'").fetchone()
    if has_topics and conn.execute("SELECT 1 FROM topics WHERE name = ?", [topic]).fetchone():
        return True
    if (has_topics and conn.execute("SELECT 1 FROM topics LIMIT 1").fetchone()) or \
            conn.execute("SELECT 1 FROM article_topics LIMIT 1").fetchone():
        return False
    return None


def known_topic_names(conn) -> list[str]:
    names = {r[0] for r in conn.execute("SELECT DISTINCT topic FROM article_topics")}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'topics'").fetchone():
        names |= {r[0] for r in conn.execute("SELECT name FROM topics")}
    return sorted(names)


def new_matches(conn, *, after_id: int, upto_id: int, since: str | None = None, topic: str | None = None,
                query: str | None = None, sources: Sequence[str] = (), languages: Sequence[str] = ()) -> list[dict]:
    """Articles with ``after_id < id <= upto_id`` (and, when ``since`` is given, also the older ones stored at
    or after that UTC time) matching a rule's topic or FTS5 query, sources and languages; oldest first, each
    with its ``story`` key and ``topics``."""
    conds, params = [], []
    if since is not None:
        conds.append("(a.id > ? OR datetime(a.fetched_at) >= datetime(?))")
        params += [after_id, since]
    else:
        conds.append("a.id > ?")
        params.append(after_id)
    conds.append("a.id <= ?")
    params.append(upto_id)
    if topic is not None:
        conds.append("a.id IN (SELECT article_id FROM article_topics WHERE topic = ?)")
        params.append(topic)
    if query is not None:
        conds.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(query)
    if sources:
        conds.append(f"a.source IN ({_marks(sources)})")
        params += list(sources)
    if languages:
        conds.append("(" + " OR ".join("lower(a.language) = ? OR lower(a.language) LIKE ?" for _ in languages) + ")")
        for lang in languages:
            params += [lang.lower(), lang.lower() + "-%"]
    rows = _dicts(conn.execute(f"SELECT {ARTICLE_COLUMNS}, {STORY_SQL} AS story FROM articles a {STORY_JOINS} "
                               f"WHERE {' AND '.join(conds)} ORDER BY a.id", params))
    _add_topics(conn, rows)
    return rows


def _add_topics(conn, rows: list[dict]) -> None:
    ids = [r["id"] for r in rows]
    found: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for aid, topic in conn.execute(f"SELECT article_id, topic FROM article_topics WHERE article_id IN "
                                       f"({_marks(chunk)}) ORDER BY topic", chunk):
            found.setdefault(aid, []).append(topic)
    for r in rows:
        r["topics"] = found.get(r["id"], [])


def alerted_stories(conn, rule: str, channel: str) -> set[int]:
    """Story keys already alerted (sent, or recorded and waiting for a retry) for a rule and channel: the key
    each had when matched and the key its article has now (stories merge when an edition links two)."""
    if not has_alert_tables(conn):
        return set()
    keys: set[int] = set()
    for stored, now in conn.execute(
            f"SELECT r.story_id, {STORY_SQL} FROM alerts_sent r JOIN articles a ON a.id = r.article_id {STORY_JOINS} "
            "WHERE r.rule = ? AND r.channel = ?", [rule, channel]):
        keys.update((stored, now))
    return keys


def waiting_alerts(conn, rule: str, channel: str) -> list[dict]:
    """Alerts of a rule and channel recorded but not delivered (``pending``: a run that stopped while sending,
    ``failed``): the article with ``alert_id``, ``attempts``, ``error`` and its current ``story`` key."""
    if not has_alert_tables(conn):
        return []
    rows = _dicts(conn.execute(
        f"SELECT r.id AS alert_id, r.attempts, r.error, {ARTICLE_COLUMNS}, {STORY_SQL} AS story "
        f"FROM alerts_sent r JOIN articles a ON a.id = r.article_id {STORY_JOINS} "
        f"WHERE r.rule = ? AND r.channel = ? AND r.status IN ({_marks(RETRY_STATUSES)}) ORDER BY r.id",
        [rule, channel, *RETRY_STATUSES]))
    _add_topics(conn, rows)
    return rows


def story_members(conn, story: int) -> dict:
    """The story's size now: articles (copies included), sources and languages."""
    rows = conn.execute(
        "SELECT a.source, lower(COALESCE(a.language, '?')) FROM articles a WHERE a.id = :s OR a.duplicate_of = :s "
        "OR a.id IN (SELECT article_id FROM story_links WHERE story_id = :s) "
        "OR a.duplicate_of IN (SELECT article_id FROM story_links WHERE story_id = :s)", {"s": story}).fetchall()
    return {"articles": len(rows), "sources": sorted({r[0] for r in rows}),
            "languages": sorted({r[1] for r in rows})}


def alert_counts(conn) -> list[dict]:
    """Per rule, channel and status: how many alerts (for reports)."""
    if not has_alert_tables(conn):
        return []
    return _dicts(conn.execute("SELECT rule, channel, status, count(*) AS alerts FROM alerts_sent "
                               "GROUP BY rule, channel, status ORDER BY rule, channel, status"))


class AlertLog:
    """The writes of `monitor alert`, on the store's writer (``monitor.store.db.open_writer``)."""

    def __init__(self, writer):
        self.writer = writer
        self.db = writer.db

    def record(self, rule: str, matched: dict[str, Iterable[tuple[int, int]]], cursor: int) -> dict[str, list[int]]:
        """In one transaction: a ``pending`` row per channel for each (article id, story key), and the rule's
        cursor moved to ``cursor``; returns channel -> alert ids (in the order given).  Recorded before the
        send, so a run stopped half-way leaves them to the next run: nothing is lost."""
        now = utcnow_iso()
        out: dict[str, list[int]] = {}
        with self.writer.transaction():
            for channel, items in matched.items():
                ids = out.setdefault(channel, [])
                for article_id, story in items:
                    self.db.execute("INSERT OR IGNORE INTO alerts_sent (rule, channel, article_id, story_id, status, "
                                    "matched_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                                    [rule, channel, article_id, story, now])
                    ids.append(self.db.execute("SELECT id FROM alerts_sent WHERE rule = ? AND channel = ? AND "
                                               "article_id = ?", [rule, channel, article_id]).fetchone()[0])
            self.db.execute("INSERT INTO alert_state (rule, last_article_id, last_run_at) VALUES (?, ?, ?) "
                            "ON CONFLICT(rule) DO UPDATE SET last_article_id = max(last_article_id, "
                            "excluded.last_article_id), last_run_at = excluded.last_run_at", [rule, cursor, now])
        return out

    def delivered(self, alert_ids: Sequence[int]) -> None:
        now = utcnow_iso()
        with self.writer.transaction():
            for aid in alert_ids:
                self.db.execute("UPDATE alerts_sent SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                                "error = NULL WHERE id = ?", [now, aid])

    def failed(self, alert_ids: Sequence[int], error: str) -> None:
        with self.writer.transaction():
            for aid in alert_ids:
                self.db.execute("UPDATE alerts_sent SET status = 'failed', attempts = attempts + 1, error = ? "
                                "WHERE id = ?", [error[:1000], aid])
