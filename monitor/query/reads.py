"""Read-only queries over the SQLite file: search, export, stats, digest and topic feeds.

Every function opens the database read-only (``monitor.store.db.open_reader``), so it can run while a
crawl writes (WAL) and can never change the file.  Rendering (tables, CSV, Markdown, HTML, Atom) lives in
``monitor.query.formats``; this module returns plain dicts and lists.

Dates: an article's date is its ``published`` time, else when it was fetched, compared in UTC
(``DATE_SQL``).  Date arguments, ``--limit`` and search queries are checked by ``monitor.query.inputs``.
Every query runs under the reader's time budget (MONITOR_QUERY_TIMEOUT; ``monitor.store.db``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterator, Sequence

from monitor.clock import utcnow
from monitor.durations import MAX_DAYS, duration_seconds
from monitor.errors import UsageError
from monitor.query.inputs import (  # noqa: F401  (the checks of user input; re-exported for callers of reads)
    MAX_LIMIT, SQL_TS, check_limit, check_query, iso_utc, parse_ts, parse_when, query_hint,
)
from monitor.query.ranking import DATE_SQL, ranked_hits
from monitor.store.db import Connection, SQLOperationalError, has_table, open_reader, reading

# an article's date, normalised by SQLite to UTC 'YYYY-MM-DD HH:MM:SS' (published, else fetched): DATE_SQL,
# from monitor.query.ranking (re-exported)
EXPORT_BATCH_SIZE = 1000
SORTS = ("rank", "date")
HIGHLIGHT = ("**", "**")
EXPORT_COLUMNS = ("id", "url", "source", "language", "published", "date", "fetched_at", "title", "author",
                  "description", "text", "word_count", "image", "duplicate_of", "copies", "topics")


# --------------------------------------------------------------------------- filters

@dataclass
class Filters:
    """What search and export share.  ``since``/``until`` are user strings (see ``parse_when``)."""

    query: str | None = None
    topics: Sequence[str] = ()
    sources: Sequence[str] = ()
    languages: Sequence[str] = ()
    since: str | None = None
    until: str | None = None
    include_duplicates: bool = False
    now: datetime | None = field(default=None, repr=False)

    def where(self, conn: Connection, *, with_query: bool = True) -> tuple[list[str], list]:
        """SQL conditions on alias ``a`` (articles) and their parameters."""
        conds: list[str] = []
        params: list = []
        if with_query and self.query is not None:
            check_query(self.query)
            conds.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            params.append(self.query)
        topics = _clean(self.topics)
        if topics:
            check_topics(conn, topics)
            conds.append(f"a.id IN (SELECT article_id FROM article_topics WHERE topic IN ({_marks(topics)}))")
            params += topics
        sources = _clean(self.sources)
        if sources:
            check_sources(conn, sources)
            conds.append(f"a.source IN ({_marks(sources)})")
            params += sources
        langs = [x.lower() for x in _clean(self.languages)]
        if langs:
            check_languages(conn, langs)
            conds.append("(" + " OR ".join("lower(a.language) = ? OR lower(a.language) LIKE ?" for _ in langs) + ")")
            for lang in langs:
                params += [lang, lang + "-%"]
        if self.since:
            conds.append(f"{DATE_SQL} >= ?")
            params.append(parse_when(self.since, now=self.now, option="--since"))
        if self.until:
            conds.append(f"{DATE_SQL} <= ?")
            params.append(parse_when(self.until, end=True, now=self.now, option="--until"))
        return conds, params


def _clean(values) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [v.strip() for v in (values or ()) if v and v.strip()]


def _marks(values) -> str:
    return ",".join("?" * len(values))


def _and(conds: list[str]) -> str:
    return " AND ".join(conds) if conds else "1"


def known_topics(conn: Connection) -> dict[str, str]:
    """Topic name -> description, from the topics table and the tags actually stored."""
    found: dict[str, str] = {}
    if has_table(conn, "topics"):
        found.update({r[0]: r[1] or "" for r in conn.execute("SELECT name, description FROM topics ORDER BY name")})
    for (name,) in conn.execute("SELECT DISTINCT topic FROM article_topics ORDER BY topic"):
        found.setdefault(name, "")
    return found


def check_topics(conn: Connection, names: Sequence[str]) -> None:
    known = known_topics(conn)
    for name in names:
        if name not in known:
            listing = ", ".join(sorted(known)) or "(none: run `monitor retag` or crawl with topics)"
            raise UsageError(f"unknown topic {name!r}; topics in this database: {listing}")


def known_sources(conn: Connection) -> list[str]:
    """Sources with articles in the database, and sources its crawls ran (a source may have none yet)."""
    found = {r[0] for r in conn.execute("SELECT DISTINCT source FROM articles")}
    if has_table(conn, "crawls"):
        try:
            found |= {r[0] for r in conn.execute(
                "SELECT DISTINCT j.value FROM crawls c, json_each(c.sources) j "
                "WHERE json_valid(c.sources) AND json_type(c.sources) = 'array' AND j.type = 'text'")}
        except SQLOperationalError:   # SQLite without JSON functions
            pass
    return sorted(found)


def known_languages(conn: Connection) -> list[str]:
    """Language codes of the stored articles, lower case."""
    return [r[0] for r in conn.execute("SELECT DISTINCT lower(language) FROM articles "
                                       "WHERE language IS NOT NULL AND language != '' ORDER BY 1")]


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_sources(conn: Connection, names: Sequence[str]) -> None:
    """UsageError naming the known sources when a --source matches no source of this database (a typo
    would otherwise match nothing, silently)."""
    for name in names:
        if conn.execute("SELECT 1 FROM articles WHERE source = ? LIMIT 1", [name]).fetchone():
            continue                        # the usual case: one index probe, no listing
        known = known_sources(conn)
        if name not in known:
            if not known:
                raise UsageError(f"the database has no articles of source {name!r}; known sources: (none: "
                                 "nothing crawled yet)")
            raise UsageError(f"unknown source {name!r}{_did_you_mean(name, known)}; "
                             f"sources in this database: {', '.join(known)}")


def check_languages(conn: Connection, langs: Sequence[str]) -> None:
    """UsageError naming the known languages when a --language matches no stored article (``en`` also
    matches ``en-GB``)."""
    for lang in langs:
        lang = lang.lower()
        if conn.execute("SELECT 1 FROM articles WHERE lower(language) = ? OR lower(language) LIKE ? LIMIT 1",
                        [lang, lang + "-%"]).fetchone():
            continue
        known = known_languages(conn)
        if not known:
            raise UsageError(f"the database has no articles in language {lang!r}; known languages: (none: "
                             "no articles yet)")
        raise UsageError(f"no article in language {lang!r}; "
                         f"languages in this database: {', '.join(known)}")


def _topics_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for aid, topic in conn.execute(
                f"SELECT article_id, topic FROM article_topics WHERE article_id IN ({_marks(chunk)}) ORDER BY topic",
                chunk):
            out.setdefault(aid, []).append(topic)
    return out


# --------------------------------------------------------------------------- search

def search(db_path, query: str, *, topics=(), sources=(), languages=(), since=None, until=None,
           include_duplicates: bool = False, limit: int | None = 20, sort: str = "rank",
           highlight: tuple[str, str] = HIGHLIGHT, now: datetime | None = None) -> list[dict]:
    """Full-text search (FTS5 MATCH over title + text), best bm25 rank first or newest first.

    Duplicates (``articles.duplicate_of``) are folded into the first matching article of their group,
    with ``copies`` = how many more of the group matched, unless ``include_duplicates``.
    Each result: id, title, url, source, language, published, date, snippet, rank, copies,
    duplicate_of, topics.
    """
    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r}: choose one of {', '.join(SORTS)}")
    check_limit(limit)
    filters = Filters(query=query, topics=topics, sources=sources, languages=languages, since=since, until=until,
                      include_duplicates=include_duplicates, now=now)
    check_query(query)
    with reading(db_path) as conn:
        conds, params = filters.where(conn, with_query=False)
        try:
            found = ranked_hits(conn, query, conds, params, sort=sort, include_duplicates=include_duplicates,
                                limit=limit)
        except SQLOperationalError as exc:
            timeout = conn.timeout_error(exc)
            if timeout is not None:
                raise timeout from None
            raise UsageError(f"search query {query!r} failed: {exc}. {query_hint(str(exc))}") from None
        if not found:
            return []
        ids = [r[0] for r in found]
        snippets = dict(conn.execute(
            f"SELECT rowid, snippet(articles_fts, -1, ?, ?, '…', 24) FROM articles_fts "
            f"WHERE articles_fts MATCH ? AND rowid IN ({_marks(ids)})", [*highlight, query, *ids]).fetchall())
        rows = {r["id"]: r for r in conn.execute(
            f"SELECT id, title, url, source, language, published, duplicate_of FROM articles WHERE id IN ({_marks(ids)})",
            ids)}
        topic_map = _topics_of(conn, ids)
    results = []
    for hit_id, hit_rank, hit_date, hit_copies in found:
        a = rows[hit_id]
        results.append({
            "id": a["id"], "title": a["title"], "url": a["url"], "source": a["source"], "language": a["language"],
            "published": a["published"], "date": hit_date, "snippet": " ".join((snippets.get(a["id"]) or "").split()),
            "rank": round(hit_rank, 4), "copies": hit_copies, "duplicate_of": a["duplicate_of"],
            "topics": topic_map.get(a["id"], []),
        })
    return results


# --------------------------------------------------------------------------- export

def export(db_path, filters: Filters | None = None, *, batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[dict]:
    """Stream matching articles (full text) oldest id first, ``batch_size`` rows per fetch.

    Opening the database and checking the filters happen now (errors before any output); rows are
    read lazily, so a database of any size streams in constant memory.  Without
    ``include_duplicates`` each duplicate group is one row (its first matching article) with ``copies``.
    """
    filters = filters or Filters()
    if batch_size < 1:
        raise UsageError("batch size must be at least 1")
    conn = open_reader(db_path)
    try:
        conds, params = filters.where(conn)
    except BaseException:
        conn.close()
        raise
    cols = ("a.id, a.url, a.source, a.language, a.published, " + DATE_SQL + " AS date, a.fetched_at, a.title, "
            "a.author, a.description, a.text, a.word_count, a.image, a.duplicate_of, "
            "(SELECT group_concat(topic, ',') FROM (SELECT topic FROM article_topics t WHERE t.article_id = a.id "
            "ORDER BY topic)) AS topics")
    if filters.include_duplicates:
        sql = f"SELECT {cols}, 0 AS copies FROM articles a WHERE {_and(conds)} ORDER BY a.id"
    else:
        sql = (f"WITH matched AS (SELECT a.id, COALESCE(a.duplicate_of, a.id) AS grp FROM articles a "
               f"WHERE {_and(conds)}), kept AS (SELECT id, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY id) AS rn, "
               "COUNT(*) OVER (PARTITION BY grp) AS n FROM matched) "
               f"SELECT {cols}, k.n - 1 AS copies FROM kept k JOIN articles a ON a.id = k.id WHERE k.rn = 1 "
               "ORDER BY a.id")

    def rows() -> Iterator[dict]:
        try:
            conn.restart_clock()          # the time budget is per batch: a large export may take its time
            cur = conn.execute(sql, params)
            while True:
                conn.restart_clock()
                batch = cur.fetchmany(batch_size)
                if not batch:
                    break
                for r in batch:
                    d = dict(r)
                    d["topics"] = d["topics"].split(",") if d["topics"] else []
                    yield {k: d[k] for k in EXPORT_COLUMNS}
        except SQLOperationalError as exc:
            timeout = conn.timeout_error(exc)
            if timeout is not None:
                raise timeout from None
            raise UsageError(f"export failed: {exc}") from None
        finally:
            conn.close()

    return Rows(rows(), conn)


class Rows:
    """``export``'s rows, read as they are iterated; ``close()`` closes the reader, even before the first row."""

    def __init__(self, gen: Iterator[dict], conn: Connection):
        self._gen, self._conn = gen, conn

    def __iter__(self) -> "Rows":
        return self

    def __next__(self) -> dict:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()
        self._conn.close()


# --------------------------------------------------------------------------- stats

def stats(db_path, *, days: int = 30, silent_after: str = "3d", now: datetime | None = None) -> dict:
    """Counts per source, language, topic and day (last ``days``), each source's last crawl with its
    error count, and the sources that have gone silent.

    A source is silent when its newest article is older than ``silent_after`` before its last crawl
    (or before now, when no crawl recorded it): crawled, but nothing new came in.
    """
    now = now or utcnow()
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days {days}: give 1 to {MAX_DAYS} (100 years)")
    try:
        seconds = duration_seconds(silent_after)
    except ValueError as exc:            # more than 100 years
        raise UsageError(f"--silent-after {exc}") from None
    if seconds is None:
        raise UsageError(f"--silent-after {silent_after!r} is not a duration; write e.g. 2d, 36h, 1w")
    silent_delta = timedelta(seconds=seconds)
    with reading(db_path) as conn:
        q = lambda sql, p=(): [dict(r) for r in conn.execute(sql, p)]  # noqa: E731
        total = conn.execute("SELECT count(*), count(duplicate_of) FROM articles").fetchone()
        per_source = q(f"SELECT a.source, count(*) AS articles, count(a.duplicate_of) AS duplicates, "
                       f"max({DATE_SQL}) AS newest, max(datetime(a.fetched_at)) AS last_fetched "
                       "FROM articles a GROUP BY a.source ORDER BY articles DESC, a.source")
        per_language = q("SELECT COALESCE(language, '?') AS language, count(*) AS articles FROM articles "
                         "GROUP BY 1 ORDER BY articles DESC, language")
        described = known_topics(conn)
        counts = dict(conn.execute("SELECT topic, count(*) FROM article_topics GROUP BY topic").fetchall())
        per_topic = [{"topic": t, "description": described.get(t, ""), "articles": counts.get(t, 0)}
                     for t in sorted(set(described) | set(counts))]
        start = (now - timedelta(days=days - 1)).date()
        day_counts = dict(conn.execute(
            f"SELECT date({DATE_SQL}) AS day, count(*) FROM articles a WHERE {DATE_SQL} >= ? GROUP BY day",
            [start.strftime("%Y-%m-%d 00:00:00")]).fetchall())
        per_day = [{"day": d, "articles": day_counts.get(d, 0)}
                   for d in ((start + timedelta(days=i)).isoformat() for i in range(days))]
        crawls = _last_crawls(conn)
        newest = {r["source"]: r["newest"] for r in per_source}
        silent = []
        for source in sorted(set(newest) | set(crawls)):
            crawl = crawls.get(source)
            ref = (parse_ts(crawl["started"]) if crawl else None) or now
            last = newest.get(source)
            last_dt = parse_ts(last)
            try:
                cutoff = ref - silent_delta
            except OverflowError:            # a crawl dated in year 1 (a hand-edited file)
                cutoff = None
            if last is None:
                silent.append({"source": source, "newest": None, "last_crawl": crawl and crawl["started"],
                               "reason": "crawled, no article stored yet"})
            elif last_dt is not None and cutoff is not None and last_dt < cutoff:
                silent.append({"source": source, "newest": last, "last_crawl": crawl and crawl["started"],
                               "reason": f"no article newer than {silent_after} before "
                                         + ("its last crawl" if crawl else "now")})
    return {
        "generated_at": now.strftime(SQL_TS), "articles": total[0], "duplicates": total[1],
        "sources": len(per_source), "per_source": per_source, "per_language": per_language, "per_topic": per_topic,
        "per_day": per_day, "last_crawls": [crawls[s] for s in sorted(crawls)], "silent": silent,
        "silent_after": silent_after,
    }


def _last_crawls(conn: Connection) -> dict[str, dict]:
    """Source -> its latest crawl (crawls.sources JSON list) with that crawl's error and new-article counts."""
    if not has_table(conn, "crawls"):
        return {}
    try:
        latest = conn.execute(
            "SELECT j.value AS source, max(c.id) AS crawl_id FROM crawls c, json_each(c.sources) j "
            "WHERE json_valid(c.sources) AND json_type(c.sources) = 'array' GROUP BY j.value").fetchall()
    except SQLOperationalError:   # SQLite without JSON functions
        return {}
    out = {}
    for source, crawl_id in latest:
        c = conn.execute("SELECT id, datetime(started_at) AS started, datetime(finished_at) AS finished, status "
                         "FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        errors = conn.execute("SELECT count(*) FROM fetch_errors WHERE source = ? AND crawl_id = ?",
                              [source, crawl_id]).fetchone()[0]
        reasons = conn.execute("SELECT reason, count(*) AS n FROM fetch_errors WHERE source = ? AND crawl_id = ? "
                               "GROUP BY reason ORDER BY n DESC, reason", [source, crawl_id]).fetchall()
        new = conn.execute("SELECT count(*) FROM articles WHERE source = ? AND crawl_id = ?",
                           [source, crawl_id]).fetchone()[0]
        out[source] = {"source": source, "crawl_id": crawl_id, "started": c["started"], "finished": c["finished"],
                       "status": c["status"], "errors": errors, "articles_new": new,
                       "error_reasons": ", ".join(f"{r} {n}" for r, n in reasons)}
    return out


# --------------------------------------------------------------------------- digest

def first_paragraph(text: str | None, *, min_chars: int = 80, max_chars: int = 500) -> str:
    """The opening of an article: its first paragraph, lengthened to ``min_chars`` with the next ones
    (a dateline alone is not a paragraph), cut at a word boundary after ``max_chars``."""
    paras = [" ".join(p.split()) for p in re.split(r"\n+", text or "")]
    out = ""
    for p in paras:
        if not p:
            continue
        out = f"{out} {p}".strip()
        if len(out) >= min_chars:
            break
    if len(out) > max_chars:
        cut = out[:max_chars].rsplit(" ", 1)[0].rstrip(",;:–-")
        out = cut + " …"
    return out


def digest(db_path, *, since: str = "24h", until: str | None = None, topic: str | None = None,
           max_stories: int | None = None, now: datetime | None = None) -> dict:
    """Articles of a time window grouped into stories, newest story first.

    A story is one duplicate group (``duplicate_of``) joined with its other language editions
    (``story_links``, when the database has it).  Each story: title and first paragraph of its first
    article, date (first article) and updated (newest), source and article counts, languages, topics and
    ``editions``: per language, the articles with their links (duplicates marked by ``duplicate_of``).
    """
    now = now or utcnow()
    since_ts = parse_when(since, now=now, option="--since") if since else None
    until_ts = parse_when(until, end=True, now=now, option="--until") if until else None
    with reading(db_path) as conn:
        conds, params = [], []
        if since_ts:
            conds.append(f"{DATE_SQL} >= ?")
            params.append(since_ts)
        if until_ts:
            conds.append(f"{DATE_SQL} <= ?")
            params.append(until_ts)
        if topic:
            check_topics(conn, [topic])
            conds.append("a.id IN (SELECT article_id FROM article_topics WHERE topic = ?)")
            params.append(topic)
        if has_table(conn, "story_links"):
            story = "COALESCE(sl.story_id, sg.story_id, COALESCE(a.duplicate_of, a.id))"
            joins = ("LEFT JOIN story_links sl ON sl.article_id = a.id "
                     "LEFT JOIN story_links sg ON sg.article_id = COALESCE(a.duplicate_of, a.id)")
        else:
            story, joins = "COALESCE(a.duplicate_of, a.id)", ""
        rows = [dict(r) for r in conn.execute(
            f"SELECT a.id, a.title, a.url, a.source, a.language, a.published, a.description, a.duplicate_of, "
            f"substr(a.text, 1, 4000) AS text, {DATE_SQL} AS date, {story} AS story "
            f"FROM articles a {joins} WHERE {_and(conds)} ORDER BY a.id", params)]
        topic_map = _topics_of(conn, [r["id"] for r in rows])
    stories: dict[int, list[dict]] = {}
    for r in rows:
        stories.setdefault(r["story"], []).append(r)
    out = []
    for key, arts in stories.items():
        lead = arts[0]                     # lowest id: the story's first stored article in the window
        editions: dict[str, list[dict]] = {}
        for a in arts:
            editions.setdefault(a["language"] or "?", []).append(a)
        dates = [a["date"] for a in arts if a["date"]]
        groups = {a["duplicate_of"] or a["id"] for a in arts}
        out.append({
            "story": key,
            "title": lead["title"] or first_paragraph(lead["text"], min_chars=0, max_chars=90),
            "url": lead["url"],
            "date": lead["date"],
            "updated": max(dates) if dates else lead["date"],
            "first_paragraph": first_paragraph(lead["text"]) or (lead["description"] or ""),
            "source_count": len({a["source"] for a in arts}),
            "sources": sorted({a["source"] for a in arts}),
            "article_count": len(arts),
            "duplicate_count": len(arts) - len(groups),
            "languages": list(editions),
            "topics": sorted({t for a in arts for t in topic_map.get(a["id"], [])}),
            "editions": [{"language": lang, "title": items[0]["title"], "articles": [
                {"id": a["id"], "title": a["title"], "url": a["url"], "source": a["source"], "date": a["date"],
                 "duplicate_of": a["duplicate_of"]} for a in items]} for lang, items in editions.items()],
        })
    out.sort(key=lambda s: (s["updated"] or "", s["source_count"], s["story"]), reverse=True)
    if max_stories:
        out = out[:max_stories]
    return {
        "generated_at": now.strftime(SQL_TS), "since": since_ts, "until": until_ts, "topic": topic,
        "story_count": len(out), "article_count": sum(s["article_count"] for s in out),
        "source_count": len({src for s in out for src in s["sources"]}), "stories": out,
    }


# --------------------------------------------------------------------------- topic feed

def topic_feed(db_path, topic: str, *, limit: int = 50, now: datetime | None = None) -> dict:
    """The latest ``limit`` articles tagged ``topic`` (duplicates folded), newest first, for an Atom feed."""
    check_limit(limit)
    now = now or utcnow()
    with reading(db_path) as conn:
        check_topics(conn, [topic])
        described = known_topics(conn)
        rows = [dict(r) for r in conn.execute(
            f"""WITH tagged AS (
                    SELECT a.id, COALESCE(a.duplicate_of, a.id) AS grp, {DATE_SQL} AS date_key
                    FROM articles a JOIN article_topics t ON t.article_id = a.id AND t.topic = ?),
                firsts AS (SELECT id, date_key, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY id) AS rn,
                                  COUNT(*) OVER (PARTITION BY grp) - 1 AS copies FROM tagged)
                SELECT a.id, a.title, a.url, a.source, a.language, a.author, a.description,
                       substr(a.text, 1, 4000) AS text, f.date_key AS date, f.copies,
                       COALESCE(datetime(a.modified_at), datetime(a.fetched_at), f.date_key) AS modified
                FROM firsts f JOIN articles a ON a.id = f.id WHERE f.rn = 1
                ORDER BY f.date_key DESC, a.id DESC LIMIT ?""", [topic, limit])]
    for r in rows:
        r["summary"] = r["description"] or first_paragraph(r.pop("text"))
        r.pop("text", None)
        r["updated"] = max(filter(None, [r["date"], r["modified"]]), default=now.strftime(SQL_TS))
    return {"topic": topic, "description": described.get(topic, ""), "generated_at": now.strftime(SQL_TS),
            "updated": max((r["updated"] for r in rows), default=now.strftime(SQL_TS)), "entries": rows}


# --------------------------------------------------------------------------- story editions

# The story of an article: its own story_links row, else that of the first article of its duplicate group.
STORY_EDITIONS_SQL = """
SELECT a.id, a.url, a.source, a.language, a.title, a.published, a.duplicate_of, sl.story_id, sl.via
FROM story_links sl JOIN articles a ON a.id = sl.article_id
WHERE sl.story_id = COALESCE(
    (SELECT story_id FROM story_links WHERE article_id = :id),
    (SELECT s.story_id FROM story_links s JOIN articles d ON s.article_id = d.duplicate_of WHERE d.id = :id))
ORDER BY a.id = sl.story_id DESC, a.language, a.id
"""


def story_editions(db_path, article_id: int) -> list[dict]:
    """One story with all its language editions (``story_links``, see docs/dedup.md): the story's first
    article first, then by language.  An article without other editions is a story of one; an unknown
    id gives ``[]``.  Rows: id, url, source, language, title, published, duplicate_of, story_id, via."""
    with reading(db_path) as conn:
        if has_table(conn, "story_links"):
            rows = [dict(r) for r in conn.execute(STORY_EDITIONS_SQL, {"id": int(article_id)})]
            if rows:
                return rows
        return [dict(r) for r in conn.execute(
            "SELECT id, url, source, language, title, published, duplicate_of, NULL AS story_id, NULL AS via "
            "FROM articles WHERE id = ?", [int(article_id)])]
