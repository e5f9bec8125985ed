"""The writer: articles into the SQLite file, with URL memory, deduplication, versions, stories and topics.

``Writer`` is the one object that changes the file (open it with ``monitor.store.db.open_writer``; a crawl
process holds exactly one per file).  ``write_batch`` stores a batch of ``ArticleRecord``s and fetch errors
in one transaction: each record is matched to a stored article by any of its URLs (``known``, or
``updated`` for an intended re-fetch whose text changed: the old text goes to ``article_versions``), else
checked for an exact or near duplicate (content hash, then MinHash LSH buckets, ``monitor.dedup``),
inserted with its fingerprint, linked to the story of its other language editions, and tagged with the
current topics.  The crawl log (crawls rows, fetch errors and state) comes from ``CrawlLog``, in the same
connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from monitor.clock import utcnow_iso
from monitor.dedup import fingerprints as dedup
from monitor.dedup.urls import url_keys
from monitor.store.bands import BandIndex
from monitor.store.crawllog import CrawlLog
from monitor.store.records import ArticleRecord, FetchError, StoreResult
from monitor.store.schema import CONTENT_KEY_DIGITS, CONTENT_KEY_SQL, FTS_TOKENIZE, PUBLISHED_KEY_SQL, URL_KINDS


# the rank of a stored article_urls row's kind (URL_KINDS order; an unknown kind ranks as a variant)
_KIND_RANK_SQL = ("CASE article_urls.kind " + " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(URL_KINDS))
                  + f" ELSE {URL_KINDS.index('variant')} END")
# stored URLs (canonical and variants) with their article's id and fetch time
_URL_ROWS_SQL = "SELECT u.url, a.id, a.fetched_at FROM article_urls u JOIN articles a ON a.id = u.article_id"


class Writer(BandIndex, CrawlLog):
    """The writer of one SQLite file (``db``: a migrated sqlite_utils Database in autocommit mode, WAL)."""

    def __init__(self, db, path: Path):
        self.db = db
        self.path = path
        self.crawl_id: int | None = None

    def close(self) -> None:
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def transaction(self):
        """``with writer.transaction():`` groups several writes in one transaction (nests: savepoints)."""
        return self.db.atomic()

    def count(self, table: str = "articles") -> int:
        return self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]

    # ---- URL knowledge (incremental crawls)
    def article_id_for_url(self, url: str) -> int | None:
        row = self.db.execute("SELECT article_id FROM article_urls WHERE url = ?", [url]).fetchone()
        return row[0] if row else None

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(dict.fromkeys(urls))
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            q = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(f"SELECT url FROM article_urls WHERE url IN ({q})", chunk))
        return found

    def known_articles(self, urls: Iterable[str]) -> dict[str, tuple[int, str]]:
        """``url -> (article_id, fetched_at)`` for the given URLs found in ``article_urls`` (exact match:
        pass canonical forms / ``url_keys`` as well).  Used by incremental crawls to decide a re-fetch."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, tuple[int, str]] = {}
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            q = ",".join("?" * len(chunk))
            for url, aid, fetched in self.db.execute(f"{_URL_ROWS_SQL} WHERE u.url IN ({q})", chunk):
                found[url] = (aid, fetched)
        return found

    def add_url_aliases(self, aliases: Iterable[tuple[str, Sequence[str]]]) -> list[tuple[str, Sequence[str]]]:
        """Record URLs seen (not fetched) for stored articles: ``(url, keys)`` pairs, where ``keys`` are the
        look-up forms of the URL (``monitor.dedup.urls.url_keys``).  A pair whose URL or keys match a stored
        article's URL becomes an ``article_urls`` row of that article; the others are returned (their
        article is not stored yet)."""
        left = []
        with self.db.atomic():
            for url, keys in aliases:
                article_id = None
                for k in [url, *keys]:
                    article_id = self.article_id_for_url(k)
                    if article_id:
                        break
                if article_id:
                    self._add_urls(article_id, [url], "alias")
                else:
                    left.append((url, keys))
        return left

    def known_url_rows(self) -> Iterator[tuple[str, int, str]]:
        """Every stored URL (canonical and variants) as ``(url, article_id, fetched_at)``, streamed."""
        yield from self.db.execute(_URL_ROWS_SQL)

    def fetched_at_by_id(self, article_ids: Iterable[int]) -> dict[int, str]:
        """``article_id -> fetched_at`` of these stored articles."""
        ids = sorted(set(article_ids))
        found: dict[int, str] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            found.update(self.db.execute(
                f"SELECT id, fetched_at FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def stored_articles(self, article_ids: Iterable[int]) -> dict[int, dict]:
        """``article_id -> row`` of stored articles as Scrapy's feed exports get them: url, source, title,
        author, published, language, text, duplicate_of, story (as ``monitor digest`` groups it: its own
        story_links row, else its duplicate group's) and topics (sorted)."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cols = ("id", "url", "source", "title", "author", "published", "language", "text", "duplicate_of", "story")
        rows = {r[0]: {**dict(zip(cols, r)), "topics": []} for r in self.db.execute(
            "SELECT a.id, a.url, a.source, a.title, a.author, a.published, a.language, a.text, a.duplicate_of, "
            "COALESCE(sl.story_id, sg.story_id, a.duplicate_of, a.id) "
            "FROM articles a LEFT JOIN story_links sl ON sl.article_id = a.id "
            f"LEFT JOIN story_links sg ON sg.article_id = a.duplicate_of WHERE a.id IN ({marks})", ids)}
        for aid, topic in self.db.execute(
                f"SELECT article_id, topic FROM article_topics WHERE article_id IN ({marks}) ORDER BY topic", ids):
            if aid in rows:
                rows[aid]["topics"].append(topic)
        return rows

    # ---- writing
    def write_batch(self, records: Sequence[ArticleRecord], errors: Sequence[FetchError] = ()) -> list[StoreResult]:
        """Store a batch of articles and errors in one transaction."""
        results = []
        try:
            with self.db.atomic(), self.band_transaction():
                for rec in records:
                    results.append(self._store_one(rec))
                for err in errors:
                    self._insert_error(err)
                # "updated" rows were re-tagged by update_article
                self._tag_articles([r.article_id for r in results if r.status in ("new", "duplicate")])
                self.merge_bands()          # only once MONITOR_LSH_MEMORY articles wait in memory
        except BaseException:
            self.forget_band_memory()       # rolled back: its rows may name articles never stored
            raise
        return results

    def _store_one(self, rec: ArticleRecord) -> StoreResult:
        urls = list(dict.fromkeys([rec.url, *rec.variants]))
        existing = None
        for u in urls:
            existing = self.article_id_for_url(u)
            if existing:
                break
        if existing:
            if (rec.extra or {}).get("refetch"):
                # an intended re-fetch (--refresh, newer sitemap lastmod): compare and keep versions; any
                # other page reaching a stored article (another variant) must not overwrite its text
                return self.update_article(existing, rec)
            self._add_record_urls(existing, rec)
            return StoreResult(existing, "known")
        sig = self._signature(rec)          # once: for the candidate lookup and the new rows
        worker_keys = dedup.band_keys_from_bytes((rec.extra or {}).get("bands"))   # sent with its signature
        keys = dedup.band_keys(sig) if worker_keys is None else worker_keys
        duplicate_of = self._find_duplicate(rec, sig, keys, worker_hash=worker_keys is not None)
        cur = self.db.execute(
            """INSERT INTO articles (url, source, title, author, published, language, text, word_count,
                   content_hash, duplicate_of, fetched_at, description, image, crawl_id, modified_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [rec.url, rec.source, rec.title, rec.author, rec.published, rec.language, rec.text, rec.word_count,
             rec.content_hash, duplicate_of, rec.fetched_at, rec.description, rec.image, self.crawl_id,
             rec.fetched_at])
        article_id = cur.lastrowid
        self._add_record_urls(article_id, rec, own_url=rec.url)
        self._after_insert(article_id, rec, sig, keys)
        return StoreResult(article_id, "duplicate" if duplicate_of else "new", duplicate_of)

    def _add_record_urls(self, article_id: int, rec: ArticleRecord, own_url: str | None = None) -> None:
        """rec's URLs -> article_urls rows of article_id: its canonical URL (``canonical`` when it is the
        article's own URL), the redirect chain it was fetched through (``redirect``) and its other variants.
        ``own_url``: the article's own URL when the caller knows it (just inserted)."""
        if own_url is None:
            own = self.db.execute("SELECT url FROM articles WHERE id = ?", [article_id]).fetchone()
            own_url = own[0] if own else None
        self._add_urls(article_id, [rec.url], "canonical" if own_url == rec.url else "variant")
        self._add_urls(article_id, [u for u in rec.redirects if u], "redirect")
        self._add_urls(article_id, [u for u in rec.variants if u], "variant")

    def _add_urls(self, article_id: int, urls: Iterable[str], kind: str) -> None:
        """Record URLs of an article (``kind``: one of ``monitor.store.schema.URL_KINDS``).  A URL already
        recorded keeps its article; its kind is raised when this one ranks higher (a variant found to be a
        redirect source), never lowered."""
        rank = URL_KINDS.index(kind)
        self.db.conn.executemany(
            "INSERT INTO article_urls (url, article_id, kind) VALUES (?, ?, ?) ON CONFLICT(url) DO UPDATE "
            f"SET kind = excluded.kind WHERE article_urls.article_id = excluded.article_id AND {_KIND_RANK_SQL} < ?",
            [(u, article_id, kind, rank) for u in dict.fromkeys(urls)])

    # ---- duplicates, fingerprints, versions, stories (monitor.dedup.fingerprints, monitor.dedup.urls)
    near_dup_threshold: float = dedup.NEAR_DUP_THRESHOLD   # MONITOR_NEAR_DUP_THRESHOLD; set per instance
    max_near_dup_candidates: int = 200                      # signatures compared per lookup, most bands first

    def _find_duplicate(self, rec: ArticleRecord, sig: "dedup.Signature | None" = None,
                        keys: list[int] | None = None, worker_hash: bool = False) -> int | None:
        """Id of the first article of rec's duplicate group (never a chain), or None.

        Exact duplicates by ``content_hash`` (recomputed here with ``dedup.content_hash`` so that every row
        uses one definition, unless ``worker_hash``: an extraction worker of this version computed it with the
        band keys, ``monitor.crawl.extractpool.add_writer_keys``), then near duplicates: the LSH band keys of rec's MinHash select
        candidates through the ``lsh_buckets`` index (no scan), their signatures are compared, and the
        most similar match's group root is returned.  rec's signature is left in
        ``rec.extra["minhash"]`` for ``_after_insert``; ``sig`` and ``keys`` are that signature and its band
        keys when the caller has them already.
        """
        if not (worker_hash and rec.content_hash):
            rec.content_hash = dedup.content_hash(rec.text)
        # the index holds the hash's first digits (m009); the whole hash is compared here (a term
        # ``content_hash = ?`` in SQL would be propagated into the key expression and stop the index's use)
        for root, full in self.db.execute(
                f"SELECT COALESCE(duplicate_of, id), content_hash FROM articles WHERE {CONTENT_KEY_SQL} = ? ORDER BY id",
                [rec.content_hash[:CONTENT_KEY_DIGITS]]):
            if full == rec.content_hash:
                return self._group_root(root)
        sig = self._signature(rec) if sig is None else sig
        for cand, _ in self.near_duplicates(sig, keys=keys):
            root = self._group_root(cand)
            if root is not None:
                return root
        return None

    def near_duplicates(self, signature: "dedup.Signature | bytes", exclude: int | None = None,
                        keys: list[int] | None = None) -> list[tuple[int, float]]:
        """``(article_id, estimated Jaccard)`` of stored near duplicates of a signature, best first
        (``keys``: the signature's band keys, when the caller has computed them already)."""
        keys = dedup.band_keys(signature) if keys is None else keys
        cands = self.band_candidates(keys, self.max_near_dup_candidates, exclude=exclude)
        if not cands:
            return []
        q = ",".join("?" * len(cands))
        blobs = self.db.execute(
            f"SELECT article_id, signature FROM article_fingerprints WHERE article_id IN ({q})", cands).fetchall()
        return dedup.matches(signature, blobs, self.near_dup_threshold)

    def _group_root(self, article_id: int) -> int | None:
        """The article at the top of article_id's duplicate_of links (None: no such article)."""
        seen = set()
        while article_id not in seen:
            seen.add(article_id)
            row = self.db.execute("SELECT duplicate_of FROM articles WHERE id = ?", [article_id]).fetchone()
            if row is None:
                return None
            if row[0] is None:
                return article_id
            article_id = row[0]
        return article_id

    def _signature(self, rec: ArticleRecord) -> "dedup.Signature":
        """rec's MinHash: ``rec.extra["minhash"]`` when an extraction worker computed it, else from the text."""
        blob = rec.extra.get("minhash") if rec.extra else None
        if blob is not None:
            try:
                return dedup.signature_from_bytes(blob)
            except (ValueError, TypeError):
                pass
        sig = dedup.minhash(rec.text)
        if rec.extra is None:
            rec.extra = {}
        rec.extra["minhash"] = dedup.signature_to_bytes(sig)
        rec.extra.pop("bands", None)        # sent with the signature that was refused
        return sig

    def _save_fingerprint(self, article_id: int, sig: "dedup.Signature", keys: list[int] | None = None,
                          new: bool = False) -> None:
        """Store sig and its LSH band rows (``new``: article_id was just inserted, so it has none yet)."""
        if not new:
            old = self.db.execute("SELECT signature FROM article_fingerprints WHERE article_id = ?",
                                  [article_id]).fetchone()
            if old:
                try:
                    old_keys = dedup.band_keys(old[0])
                except ValueError:            # another signature version: find its rows the slow way
                    old_keys = None
                self.drop_bands(article_id, old_keys)
        # the bands first: once the fingerprint row exists, the band index would take it in as another writer's
        self.add_bands(article_id, dedup.band_keys(sig) if keys is None else keys)
        self.db.execute("INSERT OR REPLACE INTO article_fingerprints (article_id, signature) VALUES (?, ?)",
                        [article_id, dedup.signature_to_bytes(sig)])

    def _after_insert(self, article_id: int, rec: ArticleRecord, sig: "dedup.Signature", keys: list[int]) -> None:
        """Per-article bookkeeping in the same transaction: fingerprint + LSH buckets, story links."""
        self._save_fingerprint(article_id, sig, keys, new=True)
        self.link_story(article_id, rec)

    def link_story(self, article_id: int, rec: ArticleRecord) -> int | None:
        """Link article_id to the story of its other language editions; returns the story id or None.

        Editions are found by ``rec.extra["hreflang"]`` (``(lang, url)`` pairs: an alternate URL that is a
        stored article's URL or variant, compared canonicalised, ``www.`` or not), else by a stored
        article of the same source with the same og:image (``rec.extra["og_image"]`` or ``rec.image``
        against ``articles.image``), the same publication time (a date alone is not enough) and another
        language.  ``story_id`` is the id of the story's first article; when one article joins two
        stories they are merged into the older one.  An article without editions gets no row.
        """
        extra = rec.extra or {}
        found: dict[int, str] = {}
        urls: list[str] = []
        for pair in extra.get("hreflang") or ():
            try:
                _lang, href = pair
            except (TypeError, ValueError):
                continue
            if isinstance(href, str) and href.strip():
                urls.extend([href.strip(), *url_keys(href)])
        for u in dict.fromkeys(urls):
            other = self.article_id_for_url(u)
            if other and other != article_id:
                found.setdefault(other, "hreflang")
        image = extra.get("og_image") or rec.image
        if not found and image and rec.published and len(rec.published) > 10:
            # idx_articles_published_key holds the first 16 characters (m009); ``+published`` keeps SQLite from
            # folding the whole value into the key expression (which would stop the index's use)
            for (other,) in self.db.execute(
                    f"SELECT id FROM articles INDEXED BY idx_articles_published_key WHERE {PUBLISHED_KEY_SQL} = ? "
                    "AND +published = ? AND source = ? AND image = ? AND id != ? "
                    "AND (language IS NULL OR ? IS NULL OR language != ?) ORDER BY id LIMIT 20",
                    [rec.published[:16], rec.published, rec.source, image, article_id, rec.language, rec.language]):
                found.setdefault(other, "og_image")
        if not found:
            return None
        stories: dict[int, None] = {}
        for other in found:
            row = self.db.execute("SELECT story_id FROM story_links WHERE article_id = ?", [other]).fetchone()
            if row:
                stories[row[0]] = None
            else:
                stories[other] = None
                lang = self.db.execute("SELECT language FROM articles WHERE id = ?", [other]).fetchone()
                self.db.execute("INSERT INTO story_links (article_id, story_id, language, via) VALUES (?, ?, ?, 'first')",
                                [other, other, lang[0] if lang else None])
        story_id = min(stories)
        for other_story in stories:
            if other_story != story_id:
                self.db.execute("UPDATE story_links SET story_id = ? WHERE story_id = ?", [story_id, other_story])
        via = "hreflang" if "hreflang" in found.values() else "og_image"
        self.db.execute("INSERT OR REPLACE INTO story_links (article_id, story_id, language, via) VALUES (?, ?, ?, ?)",
                        [article_id, story_id, rec.language, via])
        return story_id

    def update_article(self, article_id: int, rec: ArticleRecord) -> StoreResult:
        """Store a re-fetched article (``--refresh``, newer sitemap ``lastmod``) over its row.

        When the text or title changed (``content_hash``/title differ) the previous title and text go to
        ``article_versions`` (``fetched_at`` = when that version was first fetched, ``replaced_at`` = this
        fetch), the row gets the new text, ``modified_at`` and a new fingerprint: status ``"updated"``.
        Otherwise only ``fetched_at`` moves: status ``"known"``.  New URL variants are recorded either way.
        ``duplicate_of`` is left as it was (the group was decided by the first version).
        """
        row = self.db.execute("SELECT title, text, content_hash, fetched_at, modified_at, duplicate_of "
                              "FROM articles WHERE id = ?", [article_id]).fetchone()
        if row is None:
            raise KeyError(f"no article with id {article_id}")
        new_hash = dedup.content_hash(rec.text)
        rec.content_hash = new_hash
        try:
            return self._update_article(article_id, rec, row, new_hash)
        except BaseException:
            self.forget_band_memory()
            raise

    def _update_article(self, article_id: int, rec: ArticleRecord, row, new_hash: str) -> StoreResult:
        old_title, old_text, old_hash, old_fetched, old_modified, dup_of = row
        with self.db.atomic():
            self._add_record_urls(article_id, rec)
            if new_hash == (old_hash or dedup.content_hash(old_text)) and (rec.title or old_title) == old_title:
                self.db.execute("UPDATE articles SET fetched_at = ? WHERE id = ?", [rec.fetched_at, article_id])
                return StoreResult(article_id, "known", dup_of)
            self.db.execute(
                "INSERT INTO article_versions (article_id, title, text, content_hash, fetched_at, replaced_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [article_id, old_title, old_text, old_hash, old_modified or old_fetched, rec.fetched_at])
            self.db.execute(
                """UPDATE articles SET title = COALESCE(?, title), author = COALESCE(?, author),
                       text = ?, word_count = COALESCE(?, word_count), content_hash = ?,
                       description = COALESCE(?, description), image = COALESCE(?, image),
                       published = COALESCE(published, ?), language = COALESCE(language, ?),
                       fetched_at = ?, modified_at = ?
                   WHERE id = ?""",
                [rec.title, rec.author, rec.text, rec.word_count, new_hash, rec.description, rec.image,
                 rec.published, rec.language, rec.fetched_at, rec.fetched_at, article_id])
            if new_hash != old_hash:
                self._save_fingerprint(article_id, self._signature(rec))
            self._tag_articles([article_id])
        return StoreResult(article_id, "updated", dup_of)

    # ---- topics (monitor.topics): tags written through the FTS index, in the writer's transaction
    topics: tuple | None = None   # None: not set yet (a crawl's pipelines set them once per writer)

    def set_topics(self, topics) -> list[str]:
        """Tag every article written from now on with these topics (``write_batch``) and record them in
        the ``topics`` table.  Returns the names whose query differs from the recorded one (stored
        articles keep their old tags until ``monitor retag``)."""
        self.topics = tuple(topics)
        recorded = {n: q for n, q in self.db.execute("SELECT name, query FROM topics")}
        now = utcnow_iso()
        with self.db.atomic():
            for t in self.topics:
                if recorded.get(t.name) != t.query:
                    self.db.execute(
                        "INSERT INTO topics (name, description, query, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET description = excluded.description, "
                        "query = excluded.query, updated_at = excluded.updated_at",
                        [t.name, t.description, t.query, now])
        return [t.name for t in self.topics if t.name in recorded and recorded[t.name] != t.query]

    def _tag_articles(self, article_ids: Iterable[int]) -> None:
        """(Re)tag these articles with the current topics, in the caller's transaction.

        The stored title and text of the batch are copied into a connection-private FTS5 table with the
        articles_fts tokenizer and each topic is one MATCH there: same semantics as articles_fts, but the
        cost does not grow with the database (``articles_fts MATCH ? AND rowid IN (...)`` re-runs the
        whole query per rowid: seconds per batch once prefix terms have many expansions)."""
        ids = sorted({i for i in article_ids if i})
        if not ids or not self.topics:
            return
        # contentless (content=''): emptied by 'delete-all' at once; a DELETE would re-tokenize every row
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.topic_probe USING fts5(title, text, content='', "
                        f"tokenize='{FTS_TOKENIZE}')")
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM article_topics WHERE article_id IN ({marks})", chunk)
            self.db.execute("INSERT INTO temp.topic_probe (rowid, title, text) "
                            f"SELECT id, title, text FROM articles WHERE id IN ({marks})", chunk)
            for t in self.topics:
                self.db.execute("INSERT OR IGNORE INTO article_topics (article_id, topic) "
                                "SELECT rowid, ? FROM temp.topic_probe WHERE topic_probe MATCH ?", [t.name, t.query])
            self.db.execute("INSERT INTO temp.topic_probe (topic_probe) VALUES ('delete-all')")

    def retag(self, topics) -> dict[str, int]:
        """Re-apply ``topics`` to the whole database in one transaction, through the FTS index.

        Tags of topics not in ``topics`` are removed, so the tags always match one topics file.
        Returns the number of articles tagged per topic."""
        topics = tuple(topics)
        counts: dict[str, int] = {}
        now = utcnow_iso()
        with self.db.atomic():
            names = [t.name for t in topics]
            marks = ",".join("?" * len(names))
            self.db.execute(f"DELETE FROM article_topics WHERE topic NOT IN ({marks})" if names
                            else "DELETE FROM article_topics", names)
            self.db.execute(f"DELETE FROM topics WHERE name NOT IN ({marks})" if names else "DELETE FROM topics", names)
            for t in topics:
                self.db.execute("DELETE FROM article_topics WHERE topic = ?", [t.name])
                self.db.execute(
                    "INSERT OR IGNORE INTO article_topics (article_id, topic) "
                    "SELECT rowid, ? FROM articles_fts WHERE articles_fts MATCH ?", [t.name, t.query])
                counts[t.name] = self.db.execute(
                    "SELECT count(*) FROM article_topics WHERE topic = ?", [t.name]).fetchone()[0]
                self.db.execute(
                    "INSERT INTO topics (name, description, query, updated_at, retagged_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET description = excluded.description, query = excluded.query, "
                    "updated_at = excluded.updated_at, retagged_at = excluded.retagged_at",
                    [t.name, t.description, t.query, now, now])
        self.topics = topics
        return counts

    def tagged_topics(self) -> dict[str, int]:
        """Topic name -> number of tagged articles, as stored now."""
        return dict(self.db.execute("SELECT topic, count(*) FROM article_topics GROUP BY topic ORDER BY topic"))

