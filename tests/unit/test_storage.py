import sqlite3

import pytest

from monitor.errors import DatabaseError
from monitor.store.db import open_reader, open_writer
from monitor.store.records import ArticleRecord, FetchError


def rec(url, text="Astana hosted talks with Washington on trade and energy. " * 10, **kw):
    return ArticleRecord(url=url, source=kw.pop("source", "wire"), text=text, title=kw.pop("title", "Talks"),
                         content_hash=kw.pop("content_hash", None), **kw)


def test_schema_and_wal(fresh_db):
    names = set(fresh_db.db.table_names())
    assert {"articles", "article_urls", "article_topics", "crawls", "fetch_errors", "articles_fts"} <= names
    assert fresh_db.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_writer_page_cache(tmp_path):
    from monitor.store.db import WRITER_CACHE_MB

    store = open_writer(tmp_path / "a.db")
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -WRITER_CACHE_MB * 1024
    store.close()
    store = open_writer(tmp_path / "a.db", cache_mb=8)
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -8192
    store.close()
    reader = open_reader(tmp_path / "a.db")   # readers keep SQLite's default
    assert reader.execute("PRAGMA cache_size").fetchone()[0] == -2000
    reader.close()


def test_write_batch_stores_variants_and_fts(fresh_db):
    fresh_db.crawl_id = fresh_db.start_crawl(["wire"])
    res = fresh_db.write_batch([rec("https://w.example/a", variants=["https://w.example/a?utm_source=x"],
                                    text="Қазақстан және АҚШ келіссөздер жүргізді. " * 20)],
                               [FetchError(url="https://w.example/b", source="wire", reason="not_found",
                                           http_status=404)])
    assert res[0].status == "new"
    art_id = res[0].article_id
    urls = {r[0] for r in fresh_db.db.execute("SELECT url FROM article_urls WHERE article_id = ?", [art_id])}
    assert urls == {"https://w.example/a", "https://w.example/a?utm_source=x"}
    hit = fresh_db.db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'қазақстан'").fetchall()
    assert hit == [(art_id,)]
    err = fresh_db.db.execute("SELECT reason, http_status, crawl_id FROM fetch_errors").fetchone()
    assert err == ("not_found", 404, fresh_db.crawl_id)


def test_same_url_is_known_not_stored_twice(fresh_db):
    fresh_db.write_batch([rec("https://w.example/a")])
    res = fresh_db.write_batch([rec("https://w.example/a", variants=["https://w.example/amp/a"])])
    assert res[0].status == "known"
    assert fresh_db.count() == 1
    assert fresh_db.known_urls(["https://w.example/amp/a", "https://w.example/zzz"]) == {"https://w.example/amp/a"}


def _kinds(store, article_id=None):
    q = "SELECT url, kind FROM article_urls" + (" WHERE article_id = ?" if article_id else "")
    return dict(store.db.execute(q, [article_id] if article_id else []).fetchall())


def test_redirect_chain_is_recorded_with_its_kind_and_known(fresh_db):
    a, hop, entry = "https://w.example/2026/a/", "https://w.example/r/1", "https://w.example/go/1"
    res = fresh_db.write_batch([rec(a, redirects=[entry, hop], variants=[entry, hop, "https://w.example/go/1/"])])
    assert res[0].status == "new"
    assert _kinds(fresh_db, res[0].article_id) == {a: "canonical", entry: "redirect", hop: "redirect",
                                                   "https://w.example/go/1/": "variant"}
    assert fresh_db.known_urls([entry, hop, "https://w.example/go/2"]) == {entry, hop}
    assert set(fresh_db.known_articles([entry])) == {entry}
    # the same article reached again through a new chain: the new sources join it as redirects
    other = "https://w.example/go/7"
    res2 = fresh_db.write_batch([rec(a, redirects=[other], variants=[other])])
    assert res2[0].status == "known" and res2[0].article_id == res[0].article_id
    assert _kinds(fresh_db)[other] == "redirect"


def test_url_kinds_rise_and_never_fall(fresh_db):
    a, b = "https://w.example/2026/a/", "https://w.example/2026/b/"
    aid = fresh_db.write_batch([rec(a, variants=["https://w.example/old-a"])])[0].article_id
    assert fresh_db.add_url_aliases([("https://w.example/2026/a/?utm_source=x", [a])]) == []
    assert _kinds(fresh_db, aid) == {a: "canonical", "https://w.example/old-a": "variant",
                                     "https://w.example/2026/a/?utm_source=x": "alias"}
    # fetched later through redirects from the alias and the variant: they are redirect sources now
    fresh_db.write_batch([rec(a, redirects=["https://w.example/old-a", "https://w.example/2026/a/?utm_source=x"])])
    assert set(_kinds(fresh_db, aid).values()) == {"canonical", "redirect"}
    # a page at b that redirected from a is a's article (known): a stays canonical, b joins as a variant
    res = fresh_db.write_batch([rec(b, redirects=[a], variants=[a])])[0]
    assert (res.status, res.article_id) == ("known", aid)
    assert _kinds(fresh_db, aid)[a] == "canonical" and _kinds(fresh_db, aid)[b] == "variant"
    # a URL of one article never moves to another one, whatever the kind
    cid = fresh_db.write_batch([rec("https://w.example/2026/c/",
                                    text="Another story about grain exports and rail freight. " * 10)])[0].article_id
    assert cid != aid
    fresh_db._add_urls(cid, [b, "https://w.example/old-a"], "canonical")
    assert fresh_db.article_id_for_url(b) == aid and _kinds(fresh_db, aid)[b] == "variant"
    assert fresh_db.article_id_for_url("https://w.example/old-a") == aid


def test_m007_gives_existing_rows_a_kind(tmp_path):
    import sqlite_utils

    p = tmp_path / "old.db"
    _migrated_until(p, "m007_article_url_kinds")
    db = sqlite_utils.Database(p)
    db.execute("INSERT INTO articles (id, url, source, text, fetched_at) VALUES (1, 'https://w.example/a', 's', "
               "'text', '2026-01-01T00:00:00+00:00')")
    db.conn.executemany("INSERT INTO article_urls (url, article_id) VALUES (?, 1)",
                        [("https://w.example/a",), ("https://w.example/go/1",)])
    db.conn.commit()
    db.close()
    with open_writer(p) as w:
        assert _kinds(w) == {"https://w.example/a": "canonical", "https://w.example/go/1": "variant"}
        assert w.known_urls(["https://w.example/go/1"]) == {"https://w.example/go/1"}


def test_crawl_rows_and_interrupted(fresh_db):
    cid = fresh_db.start_crawl(["a", "b"])
    fresh_db.finish_crawl(cid, "finished", {"articles_new": 3, "errors": 1})
    row = fresh_db.db.execute("SELECT status, articles_new, errors, finished_at FROM crawls WHERE id=?", [cid]).fetchone()
    assert row[:3] == ("finished", 3, 1) and row[3]
    fresh_db.db.execute("INSERT INTO crawls (started_at, status, pid) VALUES ('x', 'running', 999999999)")
    assert fresh_db.mark_interrupted_crawls() == 1
    assert fresh_db.db.execute("SELECT count(*) FROM crawls WHERE status='interrupted'").fetchone()[0] == 1


def test_rejects_non_sqlite_file(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("just some notes, not a database\n" * 10)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        open_writer(p)
    assert p.read_text().startswith("just some notes")


def test_missing_db_when_not_creating(tmp_path):
    with pytest.raises(DatabaseError, match="no such database"):
        open_writer(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_rejects_newer_schema(tmp_path):
    p = tmp_path / "new.db"
    open_writer(p).close()
    conn = sqlite3.connect(p)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('media-monitor', 'm999_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer media-monitor"):
        open_writer(p)


def test_other_programs_database_refused(tmp_path):
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="another program"):
        open_writer(p)


# --------------------------------------------------------------------------- the one door (monitor.store.db)

def _migrated_until(path, stop_before: str) -> None:
    """A file as an older media-monitor left it: the migrations before ``stop_before`` applied."""
    import sqlite_utils

    from monitor.store.schema import migrations

    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before=stop_before)
    db.close()


def test_reader_cannot_write_and_leaves_the_file_as_it_was(tmp_path):
    from monitor.store.db import SQLOperationalError

    p = tmp_path / "r.db"
    with open_writer(p) as w:
        w.write_batch([rec("https://w.example/a")])
    before = p.read_bytes()
    reader = open_reader(p)
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    with pytest.raises(SQLOperationalError, match="readonly"):
        reader.execute("DELETE FROM articles")
    with pytest.raises(SQLOperationalError, match="readonly"):
        reader.execute("CREATE TABLE x (y)")
    reader.close()
    assert p.read_bytes() == before


def test_writer_applies_pending_migrations_and_the_reader_does_not(tmp_path):
    import sqlite_utils

    from monitor.store.schema import KNOWN_MIGRATIONS, applied_migrations, pending_migrations

    p = tmp_path / "old.db"
    _migrated_until(p, "m005_schedule")
    old = sqlite_utils.Database(p)
    later = {m for m in KNOWN_MIGRATIONS if m >= "m005"}   # m005 and every migration added after it
    assert pending_migrations(old)[0] == "m005_schedule" and set(pending_migrations(old)) == later
    old.close()
    reader = open_reader(p)   # an older file can be read as it is
    assert not reader.execute("SELECT 1 FROM sqlite_master WHERE name = 'source_state'").fetchone()
    reader.close()
    assert set(pending_migrations(sqlite_utils.Database(p))) == later
    with open_writer(p) as w:
        assert pending_migrations(w.db) == []
        assert set(applied_migrations(w.db)) == KNOWN_MIGRATIONS
        assert "source_state" in w.db.table_names()


def test_known_migrations_are_every_registered_one(fresh_db):
    from monitor.store.schema import KNOWN_MIGRATIONS, applied_migrations

    assert applied_migrations(fresh_db.db)[0] == "m001_initial"
    assert set(applied_migrations(fresh_db.db)) == KNOWN_MIGRATIONS and len(KNOWN_MIGRATIONS) >= 6


@pytest.mark.parametrize("opener", [open_reader, open_writer], ids=["reader", "writer"])
def test_a_newer_schema_is_refused_by_reader_and_writer(tmp_path, opener):
    p = tmp_path / "newer.db"
    open_writer(p).close()
    conn = sqlite3.connect(p)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('media-monitor', 'm999_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer media-monitor .schema m999_future"):
        opener(p)


@pytest.mark.parametrize("content,words", [(b"", "is empty"), (b"notes\n", "not an SQLite database"),
                                           (b"just some notes, not a database\n" * 10, "not an SQLite database")])
def test_reader_refuses_what_is_not_a_database(tmp_path, content, words):
    p = tmp_path / "x.db"
    p.write_bytes(content)
    with pytest.raises(DatabaseError, match=words):
        open_reader(p)
    assert p.read_bytes() == content and sorted(f.name for f in tmp_path.iterdir()) == ["x.db"]


def test_one_shared_writer_per_file_per_process(tmp_path):
    from monitor.store.db import acquire_writer, release_writer

    p = tmp_path / "shared.db"
    first = acquire_writer(p)
    second = acquire_writer(tmp_path / "." / "shared.db")   # the same file, however it is named
    assert second is first
    release_writer(second)
    assert first.count() == 0                               # still open for the other holder
    release_writer(first)
    with pytest.raises(sqlite3.ProgrammingError):           # the last holder closed it
        first.count()
    third = acquire_writer(p)
    assert third is not first
    release_writer(third)
