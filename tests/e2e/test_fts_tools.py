"""sqlite-utils and Datasette find the full-text index of `articles` by themselves (issue 12).

articles_fts is declared the way sqlite-utils' ``enable_fts`` declares it (``content="articles"``), which is
what ``Table.detect_fts`` (sqlite-utils) and ``detect_fts`` (Datasette) look for; migration
m006_fts_sqlite_utils converts databases created with the first declaration (``content='articles'``).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlite_utils

from monitor.store import schema as schema_mod
from monitor.query.reads import search
from monitor.store.articles import Writer
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.store.schema import FTS_TOKENIZE, migrations
from tests.support.helpers import free_port, http_server
from tests.support.query_corpus import build

OLD_DECLARATION = "content='articles'"
M006 = "m006_fts_sqlite_utils"


def sqlite_utils_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """The real `sqlite-utils` command line, from the same environment."""
    return subprocess.run([sys.executable, "-m", "sqlite_utils", *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def fts_sql(db_path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[0]
    finally:
        conn.close()


def integrity_check(db: sqlite_utils.Database) -> None:
    """FTS5 compares the index with the content table (rank 1): raises when they disagree."""
    db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")


def build_old_database(path: Path) -> dict[str, int]:
    """A database as media-monitor wrote it before m006 (m001's ``content='articles'`` index), with articles
    stored through the old triggers."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.enable_wal()
    migrations.apply(db, stop_before=M006)
    # today's Writer records article_urls.kind (m007): the column exists while it writes, then goes, as before m007
    db.execute("ALTER TABLE article_urls ADD COLUMN kind TEXT NOT NULL DEFAULT 'variant'")
    ids = build(Writer(db, path))
    db.execute("ALTER TABLE article_urls DROP COLUMN kind")
    conn.close()
    return ids


@pytest.fixture
def corpus_db(tmp_path):
    path = tmp_path / "monitor.db"
    with open_writer(path) as storage:
        ids = build(storage)
    return path, ids


# --------------------------------------------------------------------------- declaration

def test_fts_declared_as_sqlite_utils_enable_fts_declares_it(fresh_db):
    """Same CREATE statement as enable_fts(["title", "text"], tokenize=...), byte for byte, and the triggers
    under sqlite-utils' names: `enable-fts --replace` then sees nothing to change."""
    scratch = sqlite_utils.Database(memory=True)
    scratch.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, text TEXT)")
    scratch["articles"].enable_fts(["title", "text"], tokenize=FTS_TOKENIZE, create_triggers=True)
    assert fresh_db.db["articles_fts"].schema == scratch["articles_fts"].schema
    assert fresh_db.db["articles"].detect_fts() == "articles_fts"
    assert {t.name for t in fresh_db.db["articles"].triggers} >= {"articles_ai", "articles_ad", "articles_au"}
    before = fresh_db.db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    fresh_db.db["articles"].enable_fts(["title", "text"], tokenize=FTS_TOKENIZE, create_triggers=True, replace=True)
    assert fresh_db.db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == before


def test_index_stays_consistent_through_updates_upserts_and_deletes(corpus_db):
    path, ids = corpus_db
    with open_writer(path) as storage:
        db = storage.db
        # a re-fetch with a changed title and text (monitor crawl --refresh)
        storage.write_batch([ArticleRecord(url="https://wire.example/weather", source="wire", language="en",
                                           title="Snow in Astana", text="Heavy snow closed roads around Astana.",
                                           extra={"refetch": True})])
        # what a sqlite-utils user might do: upsert whole rows (INSERT ... ON CONFLICT DO UPDATE), update
        # another column, then delete a row
        row = db["articles"].get(ids["old"])
        db["articles"].upsert({**row, "title": "Kazatomprom cuts guidance"}, pk="id")
        db["articles"].upsert(db["articles"].get(ids["deal_ru"]), pk="id")
        db["articles"].update(ids["deal_copy"], {"word_count": 99})
        db.execute("DELETE FROM article_urls WHERE article_id = ?", [ids["visit_pl"]])
        db.execute("DELETE FROM story_links WHERE article_id = ?", [ids["visit_pl"]])
        db.execute("DELETE FROM article_topics WHERE article_id = ?", [ids["visit_pl"]])
        db["articles"].delete(ids["visit_pl"])
        integrity_check(db)
        assert [r["id"] for r in db["articles"].search("snow")] == [ids["weather"]]
        assert list(db["articles"].search("paris")) == []
        assert [r["id"] for r in db["articles"].search("cuts")] == [ids["old"]]
        assert list(db["articles"].search("waszyngtonie")) == []
        assert {r["id"] for r in db["articles"].search("минералах")} == {ids["deal_ru"]}
        assert {r["id"] for r in db["articles"].search("minerals")} == {ids["deal_en"], ids["deal_copy"]}


# --------------------------------------------------------------------------- the tools themselves

def test_sqlite_utils_search_cli_finds_articles(corpus_db):
    path, ids = corpus_db
    result = sqlite_utils_cli("search", path, "articles", "kazakhstan", "-c", "id", "-c", "title")
    assert result.returncode == 0, result.stderr
    found = {r["id"] for r in json.loads(result.stdout)}
    assert found == {ids["deal_en"], ids["deal_copy"], ids["old"]}
    # accents and case folded as in `monitor search` (our tokenizer): Kazakh, Cyrillic
    result = sqlite_utils_cli("search", path, "articles", "қазақстан", "-c", "id")
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == {ids["trade_kk"]}


def test_bm25_title_weight_still_applies(corpus_db):
    """monitor search ranks with bm25(articles_fts, 2.0, 1.0): the columns are still (title, text), in order."""
    path, ids = corpus_db
    assert [c.name for c in sqlite_utils.Database(path)["articles_fts"].columns] == ["title", "text"]
    conn = sqlite3.connect(path)
    try:
        weighted = dict(conn.execute("SELECT rowid, bm25(articles_fts, 2.0, 1.0) FROM articles_fts "
                                     "WHERE articles_fts MATCH 'minerals'").fetchall())
        plain = dict(conn.execute("SELECT rowid, bm25(articles_fts, 1.0, 1.0) FROM articles_fts "
                                  "WHERE articles_fts MATCH 'minerals'").fetchall())
    finally:
        conn.close()
    assert weighted[ids["deal_en"]] < plain[ids["deal_en"]]   # the title column weighs: a better (lower) score


# --------------------------------------------------------------------------- migration

def test_old_database_is_upgraded_and_searchable(tmp_path):
    path = tmp_path / "old.db"
    ids = build_old_database(path)
    assert OLD_DECLARATION in fts_sql(path)
    assert sqlite_utils.Database(path)["articles"].detect_fts() is None      # what issue 12 saw
    refused = sqlite_utils_cli("search", path, "articles", "kazakhstan")
    assert refused.returncode != 0 and "not configured for full-text search" in refused.stderr
    before = [h["id"] for h in search(path, "kazakhstan* OR қазақстан* OR kazach*")]

    with open_writer(path) as storage:                                        # the upgrade
        assert M006 in {m.name for m in migrations.applied(storage.db)}
        integrity_check(storage.db)
        assert storage.db["articles"].detect_fts() == "articles_fts"
        counts = storage.retag(__import__("monitor.topics", fromlist=["load_topics"]).load_topics())
    assert OLD_DECLARATION not in fts_sql(path)
    assert counts["kz-us"] >= 1
    assert [h["id"] for h in search(path, "kazakhstan* OR қазақстан* OR kazach*")] == before
    result = sqlite_utils_cli("search", path, "articles", "kazakhstan", "-c", "id")
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == {ids["deal_en"], ids["deal_copy"], ids["old"]}
    with open_writer(path) as storage:                                        # new rows reach the new index
        new = storage.write_batch([ArticleRecord(url="https://x.example/1", source="x", language="en",
                                                 title="Tengiz output", text="Tengiz oil output rose in Kazakhstan.")])
        assert [r["id"] for r in storage.db["articles"].search("tengiz")] == [new[0].article_id]


def test_failed_upgrade_rolls_back_to_the_old_index(tmp_path, monkeypatch):
    """m006 runs in one transaction: when it fails half-way, the old index and triggers are intact."""
    path = tmp_path / "old.db"
    build_old_database(path)
    before = search(path, "kazakhstan*")
    monkeypatch.setattr(schema_mod, "ARTICLES_FTS_TRIGGERS_SQL", "CREATE TRIGGER broken syntax here;")
    with pytest.raises(Exception):
        open_writer(path)
    assert OLD_DECLARATION in fts_sql(path)
    conn = sqlite3.connect(path)
    try:
        applied = {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        conn.close()
    assert M006 not in applied and {"articles_ai", "articles_ad", "articles_au"} <= triggers
    assert search(path, "kazakhstan*") == before
    monkeypatch.undo()
    with open_writer(path) as storage:
        assert storage.db["articles"].detect_fts() == "articles_fts"


# --------------------------------------------------------------------------- Datasette, no configuration

def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return resp.read().decode("utf-8")


def assert_datasette_search(base: str, db_name: str, ids: dict[str, int]) -> None:
    page = fetch(f"{base}/{db_name}/articles")
    assert 'name="_search"' in page                     # the search box of Datasette's table page
    rows = json.loads(fetch(f"{base}/{db_name}/articles.json?_search=kazakhstan&_shape=array"))
    assert {r["id"] for r in rows} == {ids["deal_en"], ids["deal_copy"], ids["old"]}
    found = fetch(f"{base}/{db_name}/articles?_search=kazakhstan")
    assert "Kazatomprom keeps guidance" in found and "Mild weekend in Paris" not in found


@pytest.mark.skipif(importlib.util.find_spec("datasette") is None, reason="datasette not installed")
def test_plain_datasette_offers_search_on_articles(corpus_db):
    path, ids = corpus_db
    port = free_port()
    with http_server([sys.executable, "-m", "datasette", "serve", str(path), "--host", "127.0.0.1",
                      "--port", str(port)], port) as base:
        assert_datasette_search(base, path.stem, ids)


# --------------------------------------------------------------------------- README section

README_SECTION = "## For sqlite-utils / Datasette users"


def readme_commands() -> list[list[str]]:
    """The commands of the first ```bash block of the README's sqlite-utils / Datasette section."""
    import shlex

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index(README_SECTION):]
    block = section[section.index("```bash\n") + len("```bash\n"):]
    block = block[:block.index("```")]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


@pytest.mark.skipif(importlib.util.find_spec("datasette") is None, reason="datasette not installed")
def test_readme_sqlite_utils_and_datasette_examples_run(corpus_db, monkeypatch):
    """Every command of the README section runs against a small database named monitor.db: sqlite-utils
    commands exit 0 with rows; `datasette monitor.db` and `monitor serve` answer with a search box."""
    path, ids = corpus_db
    monkeypatch.delenv("MONITOR_DB", raising=False)
    commands = readme_commands()
    seen = set()
    for argv in commands:
        assert "monitor.db" in argv or argv[:2] == ["monitor", "serve"], argv
        if argv[0] == "sqlite-utils":
            seen.add(f"sqlite-utils {argv[1]}")
            result = sqlite_utils_cli(*argv[1:], cwd=path.parent)
            assert result.returncode == 0, (argv, result.stderr)
            out = result.stdout.strip().splitlines()
            assert len(out) >= 2, (argv, result.stdout)                 # a header (or "[") and rows
            if argv[1] == "search" and "kazakhstan" in argv:
                assert "Kazatomprom keeps guidance" in result.stdout
            if argv[1] == "search" and "казахстан*" in " ".join(argv):
                assert "Қазақстан мен АҚШ саудасы өсті" in result.stdout
        elif argv[0] == "datasette":
            seen.add("datasette")
            port = free_port()
            with http_server([sys.executable, "-m", "datasette", *argv[1:], "--host", "127.0.0.1",
                              "--port", str(port)], port, cwd=path.parent) as base:
                assert_datasette_search(base, "monitor", ids)
        elif argv[:2] == ["monitor", "serve"]:
            seen.add("monitor serve")
            port = free_port()
            with http_server([sys.executable, "-m", "monitor", *argv[1:], "--port", str(port)], port,
                             cwd=path.parent) as base:
                assert_datasette_search(base, "monitor", ids)
        else:
            pytest.fail(f"README command not covered by this test: {argv}")
    assert seen >= {"sqlite-utils search", "sqlite-utils tables", "sqlite-utils rows", "sqlite-utils query",
                    "datasette", "monitor serve"}
