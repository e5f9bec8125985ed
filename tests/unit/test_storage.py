import sqlite3

import pytest

from monitor.errors import DatabaseError
from monitor.store.storage import ArticleRecord, FetchError, Storage


def rec(url, text="Astana hosted talks with Washington on trade and energy. " * 10, **kw):
    return ArticleRecord(url=url, source=kw.pop("source", "wire"), text=text, title=kw.pop("title", "Talks"),
                         content_hash=kw.pop("content_hash", None), **kw)


def test_schema_and_wal(fresh_db):
    names = set(fresh_db.db.table_names())
    assert {"articles", "article_urls", "article_topics", "crawls", "fetch_errors", "articles_fts"} <= names
    assert fresh_db.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_writer_page_cache(tmp_path):
    from monitor.store.storage import WRITER_CACHE_MB

    store = Storage.open(tmp_path / "a.db")
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -WRITER_CACHE_MB * 1024
    store.close()
    store = Storage.open(tmp_path / "a.db", cache_mb=8)
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -8192
    store.close()
    reader = Storage.open(tmp_path / "a.db", migrate=False)   # readers keep SQLite's default
    assert reader.db.execute("PRAGMA cache_size").fetchone()[0] == -2000
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
        Storage.open(p)
    assert p.read_text().startswith("just some notes")


def test_missing_db_when_not_creating(tmp_path):
    with pytest.raises(DatabaseError, match="no such database"):
        Storage.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_rejects_newer_schema(tmp_path):
    p = tmp_path / "new.db"
    Storage.open(p).close()
    conn = sqlite3.connect(p)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('media-monitor', 'm999_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer media-monitor"):
        Storage.open(p)


def test_other_programs_database_refused(tmp_path):
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="another program"):
        Storage.open(p)
