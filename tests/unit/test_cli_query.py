"""The reading commands and retag through click's CliRunner: options, formats, exit codes, messages."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.store.db import open_writer
from tests.support.query_corpus import add_bulk, build


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "monitor.db"
    with open_writer(path) as storage:
        ids = build(storage)
    return path, ids


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return result


def test_search_table_json_csv(db):
    path, ids = db
    r = run("search", "minerals OR минерал*", "--db", path)
    assert r.exit_code == 0, r.output
    assert "(+1 copy)" in r.stdout and "**minerals**" in r.stdout and "2 results" in r.stdout
    r = run("search", "kazach* OR kazakh* OR қазақ*", "--db", path, "--language", "pl", "--language", "kk",
            "--format", "json")
    assert {d["id"] for d in json.loads(r.stdout)} == {ids["visit_pl"], ids["trade_kk"]}
    r = run("search", "kazakh*", "--db", path, "--include-duplicates", "--since", "24h", "--sort", "date",
            "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [int(x["id"]) for x in rows] == [ids["deal_copy"], ids["deal_en"]]
    r = run("search", "kazakh*", "--db", path, "--topic", "energy", "--source", "astanatimes", "--until", "2024-12-31",
            "--format", "json")
    assert [d["id"] for d in json.loads(r.stdout)] == [ids["old"]]
    r = run("search", "nothingmatchesthis", "--db", path)
    assert r.exit_code == 0 and "No matching articles." in r.stdout


def test_search_uses_monitor_db_env(db):
    path, ids = db
    r = run("search", "ақш", "--format", "json", env={"MONITOR_DB": str(path)})
    assert [d["id"] for d in json.loads(r.stdout)] == [ids["trade_kk"]]


@pytest.mark.parametrize("args, message", [
    (["search", "kz-us"], "no such column: us"),
    (["search", "(kazakh*"], "fts5: syntax error"),
    (["search", "astana", "--since", "last week"], "--since 'last week' is not a date"),
    (["search", "astana", "--topic", "nope"], "unknown topic 'nope'"),
    (["export", "--query", '"open'], "unterminated string"),
    (["digest", "--since", "sometime"], "is not a date"),
    (["feed", "--topic", "nope"], "unknown topic 'nope'"),
    (["stats", "--silent-after", "x"], "not a duration"),
    (["search", "astana", "--source", "astanatimez"],
     "unknown source 'astanatimez' (did you mean 'astanatimes'?); sources in this database: astanatimes, egemen, "
     "pap, silentnews, tengrinews, wire"),
    (["export", "--source", "wire", "--source", "nosuch"], "unknown source 'nosuch'; sources in this database:"),
    (["search", "astana", "--language", "fr"], "no article in language 'fr'; languages in this database: en, kk, pl, ru"),
    (["export", "--language", "kz", "--language", "en"], "no article in language 'kz'; languages in this database:"),
])
def test_usage_errors_exit_2_with_one_line(db, args, message):
    path, _ = db
    r = run(*args, "--db", path)
    assert r.exit_code == 2
    assert message in r.stderr and "Traceback" not in r.output
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1


def test_known_sources_and_languages_filter_as_before(db):
    """A source its crawls ran but with no article yet (silentnews) is known: no match, not an error; a
    language matches its regional forms and any case."""
    path, ids = db
    r = run("search", "astana", "--db", path, "--source", "silentnews")
    assert r.exit_code == 0 and "No matching articles." in r.stdout
    r = run("export", "--db", path, "--language", "EN", "--source", "astanatimes")
    assert r.exit_code == 0 and {json.loads(x)["id"] for x in r.stdout.splitlines()} == {ids["deal_en"], ids["old"]}
    with open_writer(path) as storage:
        storage.db.execute("UPDATE articles SET language = 'pl-PL' WHERE id = ?", [ids["visit_pl"]])
    r = run("export", "--db", path, "--language", "pl")
    assert r.exit_code == 0 and [json.loads(x)["id"] for x in r.stdout.splitlines()] == [ids["visit_pl"]]


def test_source_and_language_on_an_empty_database_are_refused(tmp_path):
    """Nothing is known in a new database: the refusal says so instead of listing nothing."""
    path = tmp_path / "empty.db"
    open_writer(path).close()
    r = run("search", "astana", "--db", path, "--source", "wire")
    assert r.exit_code == 2
    assert r.stderr == "Error: the database has no articles of source 'wire'; known sources: (none: nothing crawled yet)\n"
    r = run("export", "--db", path, "--language", "en")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "Error: the database has no articles in language 'en'; known languages: (none: no articles yet)\n"
    r = run("export", "--db", path)                 # no filter: an empty export, as before
    assert r.exit_code == 0 and r.stdout == ""


def test_missing_database_exit_2(tmp_path):
    for args in (["search", "x"], ["export"], ["stats"], ["digest"], ["feed", "--topic", "t"], ["retag"]):
        r = run(*args, "--db", tmp_path / "none.db")
        assert r.exit_code == 2 and "no such database" in r.stderr, args
    assert not (tmp_path / "none.db").exists()


def test_export_to_file_and_stdout(db, tmp_path):
    path, ids = db
    with open_writer(path) as storage:
        add_bulk(storage, 1200)                     # more than one export batch (1000)
    out = tmp_path / "all.jsonl"
    r = run("export", "--db", path, "-o", out)
    assert r.exit_code == 0 and "Exported 1206 articles" in r.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1206 and json.loads(lines[0])["id"] == ids["deal_en"]
    assert not list(tmp_path.glob(".*.part"))
    r = run("export", "--db", path, "--format", "csv", "--query", "казахстан* OR қазақстан*", "--include-duplicates")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {int(x["id"]) for x in rows} == {ids["deal_ru"], ids["trade_kk"]}


def test_stats_command(db):
    path, _ = db
    r = run("stats", "--db", path, "--days", "3")
    assert r.exit_code == 0
    for part in ("Per source:", "Per language:", "Per topic:", "Per day (last 3 days", "Last crawl per source:",
                 "Silent sources", "silentnews"):
        assert part in r.stdout
    data = json.loads(run("stats", "--db", path, "--format", "json").stdout)
    assert data["articles"] == 7 and len(data["per_day"]) == 30


def test_digest_command_formats(db, tmp_path):
    path, ids = db
    r = run("digest", "--db", path)
    assert r.exit_code == 0 and r.stdout.startswith("# News digest — since")
    assert "## 1. Kazakhstan, US sign critical minerals deal" in r.stdout
    out = tmp_path / "digest.html"
    r = run("digest", "--db", path, "--format", "html", "--since", "2d", "--topic", "kz-us", "-o", out)
    assert r.exit_code == 0 and "Wrote 3 stories" in r.stderr
    html = out.read_text(encoding="utf-8")
    assert "Prezydent Kazachstanu w Waszyngtonie" in html and "<script" not in html
    data = json.loads(run("digest", "--db", path, "--format", "json", "--max-stories", "1").stdout)
    assert data["story_count"] == 1 and data["stories"][0]["story"] == ids["deal_en"]


def test_feed_command(db, tmp_path):
    path, _ = db
    out = tmp_path / "kz-us.xml"
    r = run("feed", "--db", path, "--topic", "kz-us", "-o", out, "--limit", "3")
    assert r.exit_code == 0 and "Wrote 3 entries" in r.stderr
    root = ET.parse(out).getroot()
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 3


def test_retag_after_topic_change(db, tmp_path):
    path, ids = db
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\nname = "weather"\ndescription = "Weather"\nquery = \'weather OR forecast*\'\n\n'
                      '[[topic]]\nname = "kz-us"\nquery = \'(kazakh* OR қазақ*) AND ("united states" OR ақш)\'\n',
                      encoding="utf-8")
    r = run("retag", "--db", path, "--topics", topics)
    assert r.exit_code == 0, r.output
    assert "  weather  1 (+1)\n  kz-us    3 (-2)\n" in r.stdout
    assert "Removed tags of topics no longer defined: energy" in r.stdout
    res = json.loads(run("search", "weather OR kazakh* OR қазақ*", "--db", path, "--topic", "weather",
                         "--format", "json").stdout)
    assert [d["id"] for d in res] == [ids["weather"]]
    kz = json.loads(run("search", "kazakh* OR қазақ*", "--db", path, "--topic", "kz-us", "--format", "json").stdout)
    assert {d["id"] for d in kz} == {ids["deal_en"], ids["trade_kk"]}
    r = run("search", "astana", "--db", path, "--topic", "energy")
    assert r.exit_code == 2 and "unknown topic 'energy'" in r.stderr


def test_retag_refuses_bad_topics_file(db, tmp_path):
    path, _ = db
    bad = tmp_path / "bad.toml"
    bad.write_text('[[topic]]\nname = "broken-one"\nquery = \'kazakhstan AND (oil OR\'\n', encoding="utf-8")
    r = run("retag", "--db", path, "--topics", bad)
    assert r.exit_code == 2
    assert str(bad) in r.stderr and "'broken-one'" in r.stderr and "kazakhstan AND (oil OR" in r.stderr
    assert "fts5: syntax error" in r.stderr and "Traceback" not in r.output
    # nothing changed
    r = run("search", "kazakh*", "--db", path, "--topic", "energy", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)


def test_serve_without_datasette_is_a_clear_error(db, monkeypatch):
    import importlib.util

    path, _ = db
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "datasette" else real(name, *a))
    r = run("serve", "--db", path)
    assert r.exit_code == 2 and "pip install 'media-monitor[serve]'" in r.stderr


def test_help_texts():
    for cmd in ("search", "export", "stats", "digest", "feed", "retag", "serve"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "Usage:" in r.stdout and "--db FILE" in r.stdout
