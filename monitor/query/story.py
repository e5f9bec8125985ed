"""One story with all its versions: ``monitor story ID|URL``.

A story is what the digest groups (docs/querying.md): the language editions of one report (``story_links``,
linked at crawl time through hreflang alternates or a shared og:image with the same publication time; see
docs/dedup.md), each edition with its copies on other outlets (``articles.duplicate_of``: exact or near
duplicates, linked to the first article of their group), and each article with its earlier texts
(``article_versions``: kept when a re-fetch found the text or title changed).

``story(db_path, ref)`` resolves ``ref`` (an article id, or a URL canonicalised and looked up among every URL
stored for an article: ``articles.url`` and ``article_urls``, i.e. variants, redirects and aliases) and
returns the story as plain data (keys in ``STORY_KEYS``, documented in docs/querying.md); ``render_story``
writes it for the terminal or as JSON.  ``edition_counts`` gives search and digest the number of editions
and copies per story.  Every read goes through ``monitor.store.db.reading`` (read-only).
"""

from __future__ import annotations

import difflib
import re
from typing import Iterable, Sequence

from monitor.errors import UsageError

STORY_KEYS = ("story", "input", "article_id", "matched_by", "root", "topics", "edition_count", "copy_count",
              "version_count", "editions", "edits")
ARTICLE_KEYS = ("id", "url", "source", "language", "title", "published", "date", "fetched_at", "modified_at",
                "duplicate_of", "word_count", "topics")
DIFF_CONTEXT = 6                  # words of unchanged text shown around each change
MAX_HUNKS = 20                    # changes listed per version (the counts cover all of them)

_DATE = "COALESCE(datetime(a.published), datetime(a.fetched_at))"
_ARTICLE_SQL = (f"SELECT a.id, a.url, a.source, a.language, a.title, a.published, {_DATE} AS date, a.fetched_at, "
                "a.modified_at, a.duplicate_of, a.word_count FROM articles a")
_ID = re.compile(r"#?(\d{1,18})")


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


# --------------------------------------------------------------------------- resolving ID|URL

def resolve(conn, ref: str) -> tuple[int, str]:
    """``(article id, how it was found)`` for an id (``12`` or ``#12``) or a URL; UsageError when unknown."""
    text = (ref or "").strip()
    m = _ID.fullmatch(text)
    if m:
        aid = int(m.group(1))
        if conn.execute("SELECT 1 FROM articles WHERE id = ?", [aid]).fetchone():
            return aid, "id"
        raise UsageError(f"no article with id {aid} in this database (give an id from `monitor search` or a URL)")
    if not re.match(r"(?i)https?://", text):
        raise UsageError(f"{ref!r} is neither an article id nor an http(s) URL: give `monitor story 123` or "
                         "`monitor story https://...`")
    from monitor.dedup.urls import url_keys
    from monitor.store.db import SQLOperationalError

    try:                                             # article_urls.kind: since migration m007
        conn.execute("SELECT kind FROM article_urls LIMIT 0")
        url_sql = "SELECT article_id, kind FROM article_urls WHERE url = ?"
    except SQLOperationalError:
        url_sql = "SELECT article_id, 'variant' FROM article_urls WHERE url = ?"
    for key in dict.fromkeys([text, *url_keys(text)]):
        row = conn.execute("SELECT id FROM articles WHERE url = ?", [key]).fetchone()
        if row:
            return row[0], "url" if key == text else "canonical url"
        row = conn.execute(url_sql, [key]).fetchone()
        if row:
            return row[0], f"{row[1] or 'variant'} url"
    raise UsageError(f"no article with URL {text!r} in this database (looked up canonicalised, with and without "
                     "www., among every URL stored for an article)")


# --------------------------------------------------------------------------- the story

def _articles(conn, ids: Iterable[int]) -> dict[int, dict]:
    ids = sorted(set(ids))
    out: dict[int, dict] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for r in conn.execute(f"{_ARTICLE_SQL} WHERE a.id IN ({_marks(chunk)})", chunk):
            out[r["id"]] = {**dict(r), "topics": []}
        for aid, topic in conn.execute(f"SELECT article_id, topic FROM article_topics WHERE article_id IN "
                                       f"({_marks(chunk)}) ORDER BY topic", chunk):
            out[aid]["topics"].append(topic)
    return {k: {c: v[c] for c in ARTICLE_KEYS} for k, v in out.items()}


def _story_members(conn, article_id: int) -> tuple[int | None, dict[int, str]]:
    """``(story_id, {article id: via})`` of the story_links story of the article or of its duplicate group's
    first article; ``(None, {})`` when it has no other language edition."""
    from monitor.store.db import has_table

    if not has_table(conn, "story_links"):
        return None, {}
    row = conn.execute(
        "SELECT COALESCE((SELECT story_id FROM story_links WHERE article_id = a.id), "
        "(SELECT story_id FROM story_links WHERE article_id = a.duplicate_of)) FROM articles a WHERE a.id = ?",
        [article_id]).fetchone()
    if row is None or row[0] is None:
        return None, {}
    members = {r[0]: r[1] for r in conn.execute(
        "SELECT article_id, via FROM story_links WHERE story_id = ? ORDER BY article_id", [row[0]])}
    return row[0], members


def word_diff(old: str | None, new: str | None, *, context: int = DIFF_CONTEXT,
              max_hunks: int = MAX_HUNKS) -> dict:
    """Word diff of two texts (difflib on whitespace-separated words): ``{"removed_words", "added_words",
    "hunks"}``; each hunk is one line with ``context`` unchanged words around the change, removed words as
    ``[-...-]`` and added ones as ``{+...+}`` (git's --word-diff=plain), ``…`` where text is left out."""
    a, b = (old or "").split(), (new or "").split()
    groups = list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context))
    removed = added = 0
    hunks = []
    for group in groups:
        parts = []
        if group[0][1] > 0 or group[0][3] > 0:
            parts.append("…")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                parts.append(" ".join(a[i1:i2]))
                continue
            change = ""
            if i2 > i1:
                removed += i2 - i1
                change += "[-" + " ".join(a[i1:i2]) + "-]"
            if j2 > j1:
                added += j2 - j1
                change += "{+" + " ".join(b[j1:j2]) + "+}"
            parts.append(change)
        if group[-1][2] < len(a) or group[-1][4] < len(b):
            parts.append("…")
        if len(hunks) < max_hunks:
            hunks.append(" ".join(p for p in parts if p))
    return {"removed_words": removed, "added_words": added, "hunks": hunks,
            "more_hunks": max(0, len(groups) - max_hunks)}


def _edits(conn, articles: dict[int, dict]) -> list[dict]:
    """Per article that changed: its versions, oldest first, the current text last, each with the word diff
    from the version before."""
    from monitor.store.db import has_table

    ids = sorted(articles)
    if not ids or not has_table(conn, "article_versions"):
        return []
    rows: dict[int, list[dict]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for r in conn.execute(
                "SELECT article_id, title, text, fetched_at, replaced_at FROM article_versions "
                f"WHERE article_id IN ({_marks(chunk)}) ORDER BY article_id, replaced_at, id", chunk):
            rows.setdefault(r["article_id"], []).append(dict(r))
    if not rows:
        return []
    current = {r["id"]: dict(r) for r in conn.execute(
        f"SELECT id, title, text, COALESCE(modified_at, fetched_at) AS since FROM articles "
        f"WHERE id IN ({_marks(list(rows))})", list(rows))}
    out = []
    for aid in sorted(rows):
        cur = current[aid]
        chain = [{"title": v["title"], "text": v["text"], "fetched_at": v["fetched_at"],
                  "replaced_at": v["replaced_at"]} for v in rows[aid]]
        chain.append({"title": cur["title"], "text": cur["text"], "fetched_at": cur["since"], "replaced_at": None})
        versions = []
        for n, v in enumerate(chain, 1):
            entry = {"version": n, "current": v["replaced_at"] is None, "title": v["title"],
                     "fetched_at": v["fetched_at"], "replaced_at": v["replaced_at"],
                     "word_count": len((v["text"] or "").split()), "changes": None}
            if n > 1:
                prev = chain[n - 2]
                title = ({"old": prev["title"], "new": v["title"]} if (prev["title"] or "") != (v["title"] or "")
                         else None)
                entry["changes"] = {"title": title, **word_diff(prev["text"], v["text"])}
            versions.append(entry)
        a = articles[aid]
        out.append({"article_id": aid, "source": a["source"], "language": a["language"], "url": a["url"],
                    "versions": versions})
    return out


def story(db_path, ref: str) -> dict:
    """The story of the article ``ref`` (id or URL): see the module doc and docs/querying.md for the keys."""
    from monitor.store.db import reading

    with reading(db_path) as conn:
        article_id, matched_by = resolve(conn, str(ref))
        first = conn.execute("SELECT COALESCE(duplicate_of, id) FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        story_id, members = _story_members(conn, article_id)
        heads: dict[int, str | None] = {}           # edition (a duplicate group's first article) -> via
        root_id = first
        if members:
            for mid, head in conn.execute(f"SELECT id, COALESCE(duplicate_of, id) FROM articles WHERE id IN "
                                          f"({_marks(list(members))}) ORDER BY id", list(members)):
                if head == mid or head not in heads:
                    heads[head] = members[mid]
                if mid == story_id:
                    root_id = head                   # the story's first article, or its group's first
        heads.setdefault(first, None)
        copies: dict[int, list[int]] = {h: [] for h in heads}
        for i in range(0, len(heads), 500):
            chunk = list(heads)[i:i + 500]
            for cid, of in conn.execute(f"SELECT id, duplicate_of FROM articles WHERE duplicate_of IN "
                                        f"({_marks(chunk)}) ORDER BY id", chunk):
                copies[of].append(cid)
        arts = _articles(conn, [*heads, *(c for cs in copies.values() for c in cs)])
        edits = _edits(conn, arts)
    order = sorted(heads, key=lambda h: (h != root_id, arts[h]["language"] or "", arts[h]["date"] or "", h))
    editions = [{"language": arts[h]["language"], "via": heads[h] or ("first" if h == root_id else None),
                 "article": arts[h], "copies": [arts[c] for c in copies[h]]} for h in order]
    return {
        "story": root_id, "input": str(ref), "article_id": article_id, "matched_by": matched_by,
        "root": arts[root_id], "topics": sorted({t for a in arts.values() for t in a["topics"]}),
        "edition_count": len(editions), "copy_count": sum(len(e["copies"]) for e in editions),
        "version_count": sum(len(e["versions"]) - 1 for e in edits),
        "editions": editions, "edits": edits,
    }


# --------------------------------------------------------------------------- counts for search and digest

def edition_counts(db_path, ids: Sequence[int]) -> dict[int, dict]:
    """``article id -> {"editions": n, "copies": m}`` for the stories of these articles: language editions
    (duplicate groups linked in story_links; 1 for an article without other editions) and copies of them on
    other outlets, in the whole database.  One small query per 500 ids, separate from the search's ranking."""
    from monitor.store.db import has_table, reading

    ids = sorted({int(i) for i in ids})
    out: dict[int, dict] = {}
    if not ids:
        return out
    with reading(db_path) as conn:
        links = has_table(conn, "story_links")
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            if links:
                sql = f"""WITH x AS (
                    SELECT a.id, COALESCE(a.duplicate_of, a.id) AS head,
                           COALESCE((SELECT story_id FROM story_links WHERE article_id = a.id),
                                    (SELECT story_id FROM story_links WHERE article_id = a.duplicate_of)) AS story
                    FROM articles a WHERE a.id IN ({_marks(chunk)})),
                  heads AS (
                    SELECT x.id, x.head AS h FROM x
                    UNION SELECT x.id, COALESCE(m.duplicate_of, m.id) FROM x
                      JOIN story_links s ON s.story_id = x.story JOIN articles m ON m.id = s.article_id)
                  SELECT heads.id, count(DISTINCT heads.h),
                         (SELECT count(*) FROM articles c WHERE c.duplicate_of IN
                            (SELECT h FROM heads h2 WHERE h2.id = heads.id))
                  FROM heads GROUP BY heads.id"""
            else:
                sql = (f"SELECT a.id, 1, (SELECT count(*) FROM articles c WHERE c.duplicate_of = "
                       f"COALESCE(a.duplicate_of, a.id)) FROM articles a WHERE a.id IN ({_marks(chunk)})")
            for aid, editions, copies in conn.execute(sql, chunk):
                out[aid] = {"editions": editions, "copies": copies}
    return out


# --------------------------------------------------------------------------- rendering

def _when(ts: str | None) -> str:
    """A stored time ('2026-12-06T07:02:34+00:00' or '2026-12-06 07:02:34') as 'YYYY-MM-DD HH:MM'."""
    return ts[:16].replace("T", " ") if ts else "—"


def render_story(s: dict, fmt: str = "table") -> str:
    """The story for the terminal (page text without control characters) or as JSON (``STORY_KEYS``)."""
    from monitor.query.formats import _json, _plain, _short

    if fmt == "json":
        return _json({k: s[k] for k in STORY_KEYS})
    root = s["root"]

    def line(a: dict) -> str:
        return f"#{a['id']}  {_plain(a['source'])}  {_short(a['date'])}  {_plain(a['title'] or '(no title)')}"

    def nplural(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    out = [f"Story {s['story']}: {_plain(root['title'] or '(no title)')}",
           f"  first article: #{root['id']} {_plain(root['source'])} [{_plain(root['language'] or '?')}] "
           f"{_short(root['date'])} UTC",
           f"  {_plain(root['url'])}",
           f"  topics: {_plain(', '.join(s['topics'])) or '(none)'}",
           f"  {nplural(s['edition_count'], 'language edition', 'language editions')}, "
           f"{nplural(s['copy_count'], 'copy', 'copies')} on other outlets, "
           f"{nplural(s['version_count'], 'earlier version', 'earlier versions')}"]
    if s["article_id"] != root["id"]:
        out.append(f"  (found #{s['article_id']} by {s['matched_by']})")
    out += ["", "Editions:"]
    for e in s["editions"]:
        a = e["article"]
        via = f"  (linked by {e['via']})" if e["via"] and e["via"] != "first" else ""
        out.append(f"  [{_plain(e['language'] or '?')}] {line(a)}{via}")
        out.append(f"       {_plain(a['url'])}")
        for c in e["copies"]:
            out.append(f"       copy {line(c)}")
            out.append(f"            {_plain(c['url'])}")
    out += ["", "Edits:"]
    if not s["edits"]:
        out.append("  (none: no stored text of this story changed when re-fetched)")
    for ed in s["edits"]:
        out.append(f"  #{ed['article_id']} {_plain(ed['source'])} [{_plain(ed['language'] or '?')}] "
                   f"{_plain(ed['url'])}")
        for v in ed["versions"]:
            when = f"from {_when(v['fetched_at'])}" + (f" to {_when(v['replaced_at'])}" if v["replaced_at"] else "")
            words = nplural(v["word_count"], "word", "words")
            head = f"    v{v['version']}{' (current)' if v['current'] else ''} {when}, {words}"
            ch = v["changes"]
            if ch:
                head += f": -{ch['removed_words']} +{ch['added_words']} words"
            out.append(head)
            if ch and ch["title"]:
                out.append(f"      title: [-{_plain(ch['title']['old'])}-]{{+{_plain(ch['title']['new'])}+}}")
            for h in (ch or {}).get("hunks", []):
                out.append(f"      {_plain(h)}")
            if ch and ch.get("more_hunks"):
                out.append(f"      … {ch['more_hunks']} more changes")
    return "\n".join(out)


def add_edition_counts(db_path, results: list[dict]) -> list[dict]:
    """Search results with ``editions`` added: the language editions of each result's story (1 = none other)."""
    counts = edition_counts(db_path, [r["id"] for r in results]) if results else {}
    for r in results:
        r["editions"] = counts.get(r["id"], {}).get("editions", 1)
    return results


def add_digest_counts(d: dict) -> dict:
    """Digest stories with ``edition_count`` (language editions in the window) and ``copy_count`` (copies on
    other outlets in the window, = ``duplicate_count``)."""
    for s in d["stories"]:
        s["edition_count"] = len(s["editions"])
        s["copy_count"] = s["duplicate_count"]
    return d
