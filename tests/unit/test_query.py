"""monitor.query.reads (read-only search/export/stats/digest/feed) and monitor.query.formats renderers."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from monitor.query import formats
from monitor.query import reads as query
from monitor.errors import DatabaseError, UsageError
from monitor.store.db import open_reader
from monitor.store.records import ArticleRecord
from tests.support.png import png_colours
from tests.support.query_corpus import add_bulk, build


@pytest.fixture
def corpus(fresh_db):
    ids = build(fresh_db)
    return fresh_db.path, ids, fresh_db


# --------------------------------------------------------------------------- opening

def test_missing_and_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(DatabaseError, match="no such database"):
        query.search(tmp_path / "nope.db", "x")
    notes = tmp_path / "notes.db"
    notes.write_text("not a database\n" * 5)
    with pytest.raises(DatabaseError, match="is not an SQLite database"):
        query.stats(notes)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(DatabaseError, match="is empty"):
        query.digest(empty)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(DatabaseError, match="not a media-monitor database"):
        query.export(other)
    with pytest.raises(DatabaseError, match="is a directory"):
        query.stats(tmp_path)


def test_connection_is_read_only(corpus):
    path, _, _ = corpus
    conn = open_reader(path)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM articles")
    conn.close()


# --------------------------------------------------------------------------- dates

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, end, expected", [
    ("24h", False, "2024-05-09 12:00:00"),
    ("7d", False, "2024-05-03 12:00:00"),
    ("2w", False, "2024-04-26 12:00:00"),
    ("30m", False, "2024-05-10 11:30:00"),
    ("2024-05-01", False, "2024-05-01 00:00:00"),
    ("2024-05-01", True, "2024-05-01 23:59:59"),
    ("2024-05-01T10:00", False, "2024-05-01 10:00:00"),
    ("2024-05-01T10:00:00+06:00", False, "2024-05-01 04:00:00"),
    ("2024-05-01T10:00:00Z", False, "2024-05-01 10:00:00"),
])
def test_parse_when(text, end, expected):
    assert query.parse_when(text, end=end, now=NOW) == expected


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", "7 days ago", "24x", ""])
def test_bad_dates_are_usage_errors(bad):
    with pytest.raises(UsageError, match="is not a date"):
        query.parse_when(bad, now=NOW, option="--since")


# --------------------------------------------------------------------------- search

def test_search_folds_duplicates_with_copy_count(corpus):
    path, ids, _ = corpus
    res = query.search(path, "minerals")
    assert [r["id"] for r in res] == [ids["deal_en"]]
    assert res[0]["copies"] == 1 and res[0]["topics"] == ["energy", "kz-us", "trade"]
    assert "**minerals**" in res[0]["snippet"]
    both = query.search(path, "minerals", include_duplicates=True)
    assert sorted(r["id"] for r in both) == sorted([ids["deal_en"], ids["deal_copy"]])
    assert {r["duplicate_of"] for r in both} == {None, ids["deal_en"]}


def test_search_folded_group_keeps_copy_when_first_is_filtered_out(corpus):
    path, ids, _ = corpus
    res = query.search(path, "minerals", sources=["wire"])
    assert [r["id"] for r in res] == [ids["deal_copy"]] and res[0]["copies"] == 0


def test_search_multilingual_prefixes_and_cyrillic_case(corpus):
    path, ids, _ = corpus
    assert [r["id"] for r in query.search(path, "казахстан*")] == [ids["deal_ru"]]   # text has КАЗАХСТАН
    assert {r["id"] for r in query.search(path, "қазақстан*")} == {ids["trade_kk"]}  # Қазақстанның, Қазақстан
    assert {r["id"] for r in query.search(path, "ақш")} == {ids["trade_kk"]}
    assert {r["id"] for r in query.search(path, "NEAR(stan* zjednoczon*, 1)")} == {ids["visit_pl"]}
    assert {r["id"] for r in query.search(path, "kazachstan*")} == {ids["visit_pl"]}
    assert {r["id"] for r in query.search(path, '"united states" OR сша')} == {ids["deal_en"], ids["deal_ru"]}
    assert [r["id"] for r in query.search(path, "title:kazatomprom")] == [ids["old"]]


def test_search_filters(corpus):
    path, ids, _ = corpus
    everything = "kazakh* OR казах* OR қазақ* OR kazach*"
    assert {r["id"] for r in query.search(path, everything, languages=["ru", "kk"])} == {ids["deal_ru"], ids["trade_kk"]}
    assert {r["id"] for r in query.search(path, everything, topics=["security"])} == {ids["visit_pl"]}
    assert {r["id"] for r in query.search(path, everything, sources=["astanatimes"])} == {ids["deal_en"], ids["old"]}
    recent = {r["id"] for r in query.search(path, everything, since="24h")}
    assert recent == {ids["deal_en"], ids["deal_ru"], ids["trade_kk"]}
    assert {r["id"] for r in query.search(path, everything, since="2024-05-01", until="2024-05-01")} == {ids["old"]}
    assert {r["id"] for r in query.search(path, everything, until="2024-04-30")} == set()
    by_date = query.search(path, everything, sort="date")
    dates = [r["date"] for r in by_date]
    assert dates == sorted(dates, reverse=True) and by_date[-1]["id"] == ids["old"]
    assert len(query.search(path, everything, limit=2)) == 2


def test_search_rank_prefers_title_matches(corpus):
    path, ids, _ = corpus
    res = query.search(path, "kazatomprom OR uranium OR guidance", sort="rank")
    assert res[0]["id"] == ids["old"]
    assert all(a["rank"] <= b["rank"] for a, b in zip(res, res[1:]))


@pytest.mark.parametrize("bad, expect", [
    ("kz-us", "no such column: us"),
    ("(kazakhstan*", "fts5: syntax error"),
    ('"united states', "unterminated string"),
    ("", "empty query"),
])
def test_search_malformed_query_is_usage_error(corpus, bad, expect):
    path, _, _ = corpus
    with pytest.raises(UsageError) as exc:
        query.search(path, bad)
    assert expect in str(exc.value) and repr(bad) in str(exc.value)


def test_search_unknown_topic_lists_known(corpus):
    path, _, _ = corpus
    with pytest.raises(UsageError, match=r"unknown topic 'nope'; topics in this database: energy, kz-us"):
        query.search(path, "astana", topics=["nope"])


def test_render_search_formats(corpus):
    path, ids, _ = corpus
    res = query.search(path, "minerals OR минерал*")
    table = formats.render_search(res, "table", width=100)
    assert "(+1 copy)" in table and "https://astanatimes.example/deal" in table and "2 results" in table
    data = json.loads(formats.render_search(res, "json"))
    assert {d["id"] for d in data} == {ids["deal_en"], ids["deal_ru"]}
    rows = list(csv.DictReader(io.StringIO(formats.render_search(res, "csv"))))
    assert rows[0].keys() >= {"id", "title", "url", "snippet", "copies"} and len(rows) == 2
    assert formats.render_search([], "table") == "No matching articles."


# --------------------------------------------------------------------------- export

def test_export_streams_more_than_one_batch(corpus):
    path, ids, storage = corpus
    bulk = add_bulk(storage, 25)
    rows = query.export(path, query.Filters(sources=["bulk"]), batch_size=7)
    assert isinstance(rows, Iterator) and not isinstance(rows, (list, tuple))   # rows come as they are read
    first = next(rows)
    assert first["id"] == bulk[0] and first["text"].startswith("Kazakhstan ")
    rest = list(rows)
    assert [r["id"] for r in [first, *rest]] == bulk
    assert set(first) == set(query.EXPORT_COLUMNS)


def test_export_filters_duplicates_and_formats(corpus, tmp_path):
    path, ids, _ = corpus
    folded = list(query.export(path))
    assert ids["deal_copy"] not in {r["id"] for r in folded}
    assert next(r for r in folded if r["id"] == ids["deal_en"])["copies"] == 1
    assert len(list(query.export(path, query.Filters(include_duplicates=True)))) == len(ids)
    only = list(query.export(path, query.Filters(query="қазақстан*", languages=["kk"])))
    assert [r["id"] for r in only] == [ids["trade_kk"]] and only[0]["topics"] == ["kz-us", "trade"]
    buf = io.StringIO()
    assert formats.write_export(query.export(path, query.Filters(topics=["kz-us"])), buf, "csv") == 4
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(rows) == 4 and "\n" in rows[0]["text"]        # multi-line text survives CSV quoting
    buf = io.StringIO()
    formats.write_export(query.export(path, query.Filters(since="24h")), buf, "jsonl")
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert {r["id"] for r in lines} == {ids["deal_en"], ids["deal_ru"], ids["trade_kk"]}


def test_export_errors_are_raised_before_streaming(corpus):
    path, _, _ = corpus
    with pytest.raises(UsageError):
        query.export(path, query.Filters(query="(broken"))
    with pytest.raises(UsageError):
        query.export(path, query.Filters(since="soon"))


# --------------------------------------------------------------------------- stats

def test_stats(corpus):
    path, ids, storage = corpus
    # a source whose newest article is old although it was crawled just now: silent
    old = datetime.now(timezone.utc) - timedelta(days=10)
    storage.write_batch([ArticleRecord(
        url="https://sleepy.example/1", source="sleepy", text="Astana city council met on Monday to discuss parks.",
        title="Council", published=old.replace(microsecond=0).isoformat(), language="en")])
    storage.start_crawl(["sleepy"])
    s = query.stats(path, days=7)
    assert s["articles"] == len(ids) + 1 and s["duplicates"] == 1
    per_source = {r["source"]: r["articles"] for r in s["per_source"]}
    assert per_source["astanatimes"] == 2 and per_source["wire"] == 2
    assert {r["language"]: r["articles"] for r in s["per_language"]}["en"] == 5
    assert {r["topic"]: r["articles"] for r in s["per_topic"]}["kz-us"] == 5
    assert len(s["per_day"]) == 7 and sum(d["articles"] for d in s["per_day"]) == 6  # not the 2024 one
    crawls = {c["source"]: c for c in s["last_crawls"]}
    assert crawls["pap"]["errors"] == 1 and crawls["pap"]["articles_new"] == 1 and crawls["pap"]["status"] == "finished"
    silent = {r["source"]: r["reason"] for r in s["silent"]}
    assert set(silent) == {"sleepy", "silentnews"}
    assert "no article stored" in silent["silentnews"]
    text = formats.render_stats(s)
    assert "Silent sources" in text and "sleepy" in text and "Per topic:" in text
    assert json.loads(formats.render_stats(s, "json"))["articles"] == s["articles"]
    with pytest.raises(UsageError, match="not a duration"):
        query.stats(path, silent_after="soon")


# --------------------------------------------------------------------------- digest

def test_digest_groups_duplicates_and_language_editions(corpus):
    path, ids, _ = corpus
    d = query.digest(path, since="24h")
    assert d["story_count"] == 2 and d["article_count"] == 4
    deal, trade = d["stories"]                # newest first: the deal's copy is 1 h old
    assert deal["story"] == ids["deal_en"] and deal["title"] == "Kazakhstan, US sign critical minerals deal"
    assert deal["source_count"] == 3 and deal["article_count"] == 3 and deal["duplicate_count"] == 1
    assert deal["languages"] == ["en", "ru"]
    en, ru = deal["editions"]
    assert [a["id"] for a in en["articles"]] == [ids["deal_en"], ids["deal_copy"]]
    assert en["articles"][1]["duplicate_of"] == ids["deal_en"]
    assert [a["id"] for a in ru["articles"]] == [ids["deal_ru"]]
    assert deal["first_paragraph"].startswith("Kazakhstan and the United States signed a memorandum")
    assert trade["story"] == ids["trade_kk"] and trade["languages"] == ["kk"]
    wider = query.digest(path, since="2d", topic="security")
    assert [s["story"] for s in wider["stories"]] == [ids["visit_pl"]]
    with pytest.raises(UsageError, match="unknown topic"):
        query.digest(path, topic="nope")


def test_digest_renderings(corpus):
    path, ids, _ = corpus
    d = query.digest(path, since="24h")
    md = formats.render_digest(d, "md")
    assert md.startswith("# News digest") and "## 1. Kazakhstan, US sign critical minerals deal" in md
    assert "[Kazakhstan, US sign critical minerals deal](https://wire.example/kz-minerals) — wire (copy)" in md
    assert "- **ru**: [Казахстан и США" in md
    assert json.loads(formats.render_digest(d, "json"))["stories"][0]["story"] == ids["deal_en"]
    html = formats.render_digest(d, "html")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html.lower() and "<link" not in html.lower()
    assert "<style" not in html.lower() and 'style="' in html             # inline CSS only (e-mail clients)
    assert "Казахстан и США подписали" in html and "https://tengrinews.example/ru/deal" in html
    empty = formats.render_digest(query.digest(path, since="2024-01-01", until="2024-01-02"), "html")
    assert "No articles in this window." in empty


def test_digest_html_escapes_and_refuses_script_links():
    d = {"generated_at": "2024-05-01 00:00:00", "since": None, "until": None, "topic": None, "story_count": 1,
         "article_count": 1, "source_count": 1, "stories": [{
             "story": 1, "title": "<b>bold</b> & co", "url": "javascript:alert(1)", "date": None, "updated": None,
             "first_paragraph": "<script>x</script>", "source_count": 1, "sources": ["s"], "article_count": 1,
             "duplicate_count": 0, "languages": ["en"], "topics": [], "editions": [{"language": "en", "title": "t",
                 "articles": [{"id": 1, "title": "t", "url": "javascript:alert(1)", "source": "s", "date": None,
                               "duplicate_of": None}]}]}]}
    html = formats.render_digest_html(d)
    assert "<script>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "javascript:" not in html


def test_first_paragraph():
    assert query.first_paragraph("ASTANA —\n\nThe talks ended late on Tuesday with an agreement on the main points"
                                 " of the deal.\nSecond.") == ("ASTANA — The talks ended late on Tuesday with an "
                                                               "agreement on the main points of the deal.")
    long = "word " * 300
    out = query.first_paragraph(long, max_chars=100)
    assert len(out) <= 102 and out.endswith("…")
    assert query.first_paragraph(None) == ""


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed (apt-get install chromium)")
def test_digest_html_renders_in_headless_chromium(corpus, tmp_path):
    path, _, _ = corpus
    page = tmp_path / "digest.html"
    page.write_text(formats.render_digest(query.digest(path, since="48h"), "html"), encoding="utf-8")
    png = tmp_path / "digest.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1200,900",
         page.as_uri()], capture_output=True, text=True, timeout=120)
    assert png.exists(), proc.stderr[-2000:]
    # a blank page has one colour; text, links, cards and topic tags give hundreds (anti-aliasing)
    assert len(png_colours(png)) > 50


# --------------------------------------------------------------------------- feed

def test_topic_feed_atom(corpus):
    path, ids, _ = corpus
    feed = query.topic_feed(path, "kz-us", limit=10)
    got = [e["id"] for e in feed["entries"]]
    assert ids["deal_copy"] not in got and set(got) == {ids["deal_en"], ids["deal_ru"], ids["trade_kk"], ids["visit_pl"]}
    assert got[-1] == ids["visit_pl"]                       # oldest last
    xml = formats.render_atom(feed, self_url="https://example.org/kz-us.xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(xml.encode())
    assert root.find("a:id", ns).text == "urn:media-monitor:topic:kz-us"
    entries = root.findall("a:entry", ns)
    assert len(entries) == 4
    for e in entries:
        assert e.find("a:id", ns).text.startswith("https://")
        assert e.find("a:updated", ns).text.endswith("Z") and e.find("a:title", ns).text
        assert e.find("a:link", ns).get("href") == e.find("a:id", ns).text
    assert root.find("a:link[@rel='self']", ns).get("href") == "https://example.org/kz-us.xml"
    assert len(query.topic_feed(path, "kz-us", limit=2)["entries"]) == 2
    with pytest.raises(UsageError, match="unknown topic"):
        query.topic_feed(path, "nope")
