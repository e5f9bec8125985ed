"""`monitor story ID|URL`: editions (hreflang, shared image), copies (duplicate_of), edits (article_versions,
word diff), topics, URL resolution, JSON keys, errors; and the edition/copy counts of search and digest."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.query.story import ARTICLE_KEYS, STORY_KEYS, story, word_diff
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from monitor.topics import Topic

NOW = datetime.now(timezone.utc).replace(microsecond=0)
WHEN = (NOW - timedelta(hours=3)).isoformat()
IMAGE = "https://astana.example/img/lithium.jpg"
TOPICS = [Topic("minerals", "Critical minerals", "lithium OR литий OR литий* OR литийді"),
          Topic("politics", "Politics", "minister* OR министр*")]

EN_V1 = ("Kazakhstan opened a lithium deposit near Astana to foreign investors on Monday.\n"
         "The minister said the first licences would be issued next spring after a tender.\n"
         "Analysts expect interest from American and European companies.")
EN_V2 = EN_V1.replace("next spring", "in March").replace("on Monday", "on Monday morning")
EN_V3 = EN_V2.replace("Analysts expect interest from American and European companies.",
                      "Analysts expect strong interest from American companies.")
RU = ("Казахстан открыл месторождение лития под Астаной для иностранных инвесторов в понедельник.\n"
      "Министр сообщил, что первые лицензии будут выданы весной после тендера.")
KK = ("Қазақстан Астана маңындағы литий кен орнын шетелдік инвесторларға ашты.\n"
      "Министр алғашқы лицензиялар көктемде тендерден кейін берілетінін айтты.")
LONE = ("A quiet story about the weather in Almaty, with no other edition and no copy anywhere else.\n"
        "Forecasters expect snow in the mountains by the weekend.")


@pytest.fixture
def db(tmp_path):
    """en original (with an AMP variant and a redirect) + its ru edition (hreflang) + its kk edition (same
    source, image and time); a copy of the en text on wire and one of the ru text on rusnews; the en text
    re-fetched twice with changes; an unrelated article."""
    path = tmp_path / "story.db"
    ids = {}
    with open_writer(path) as w:
        w.set_topics(TOPICS)
        crawl = w.start_crawl(["astana", "wire", "rusnews", "other"])
        w.crawl_id = crawl

        def put(name, **kw):
            res = w.write_batch([ArticleRecord(**kw)])[0]
            ids[name] = res.article_id
            return res

        put("en", url="https://astana.example/en/lithium", source="astana", language="en", title="Lithium tender",
            text=EN_V1, published=WHEN, image=IMAGE, variants=["https://astana.example/en/lithium/amp"],
            redirects=["https://astana.example/?p=123"])
        put("ru", url="https://astana.example/ru/lithium", source="astana", language="ru", title="Литий: тендер",
            text=RU, published=WHEN, image=IMAGE, extra={"hreflang": [("en", "https://astana.example/en/lithium")]})
        put("kk", url="https://astana.example/kk/lithium", source="astana", language="kk", title="Литий",
            text=KK, published=WHEN, image=IMAGE)
        res = put("en_copy", url="https://wire.example/kz-lithium", source="wire", language="en",
                  title="Lithium tender", text=EN_V1, published=(NOW - timedelta(hours=2)).isoformat())
        assert res.duplicate_of == ids["en"]
        res = put("ru_copy", url="https://rusnews.example/lithium", source="rusnews", language="ru",
                  title="Литий: тендер", text=RU, published=(NOW - timedelta(hours=1)).isoformat())
        assert res.duplicate_of == ids["ru"]
        put("lone", url="https://other.example/weather", source="other", language="en", title="Snow",
            text=LONE, published=WHEN)
        for text, title in ((EN_V2, "Lithium tender"), (EN_V3, "Lithium tender opens")):
            res = w.write_batch([ArticleRecord(url="https://astana.example/en/lithium", source="astana",
                                               language="en", title=title, text=text, extra={"refetch": True})])[0]
            assert res.status == "updated"
        w.finish_crawl(crawl, "finished", {})
    return path, ids


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_story_has_editions_copies_edits_and_topics(db):
    path, ids = db
    s = story(path, str(ids["en"]))
    assert s["story"] == ids["en"] and s["root"]["id"] == ids["en"] and s["matched_by"] == "id"
    assert [(e["language"], e["article"]["id"], e["via"]) for e in s["editions"]] == [
        ("en", ids["en"], "first"), ("kk", ids["kk"], "og_image"), ("ru", ids["ru"], "hreflang")]
    assert {e["language"]: [c["id"] for c in e["copies"]] for e in s["editions"]} == {
        "en": [ids["en_copy"]], "kk": [], "ru": [ids["ru_copy"]]}
    assert s["edition_count"] == 3 and s["copy_count"] == 2 and s["version_count"] == 2
    assert s["topics"] == ["minerals", "politics"]
    [edit] = s["edits"]
    assert edit["article_id"] == ids["en"] and [v["version"] for v in edit["versions"]] == [1, 2, 3]
    v1, v2, v3 = edit["versions"]
    assert v1["changes"] is None and not v1["current"] and v3["current"] and v3["replaced_at"] is None
    assert v2["changes"]["title"] is None and v3["changes"]["title"] == {"old": "Lithium tender",
                                                                        "new": "Lithium tender opens"}
    # words keep their punctuation: "Monday." -> "Monday morning.", "next spring" -> "in March"
    assert v2["changes"]["removed_words"] == 3 and v2["changes"]["added_words"] == 4
    assert any("[-Monday.-]{+Monday morning.+}" in h for h in v2["changes"]["hunks"])
    assert any("[-next spring-]{+in March+}" in h for h in v2["changes"]["hunks"])
    assert v3["changes"]["hunks"] == ["… March after a tender. Analysts expect {+strong+} interest from American "
                                      "[-and European-] companies."]          # six words of context


def test_every_article_of_the_story_leads_to_it(db):
    path, ids = db
    first = story(path, str(ids["en"]))
    for name in ("ru", "kk", "en_copy", "ru_copy"):
        s = story(path, f"#{ids[name]}")
        assert s["article_id"] == ids[name]
        assert {k: v for k, v in s.items() if k not in ("input", "article_id")} == \
            {k: v for k, v in first.items() if k not in ("input", "article_id")}


@pytest.mark.parametrize("url, matched_by", [
    ("https://astana.example/en/lithium", "url"),
    ("https://www.astana.example/en/lithium?utm_source=tw&fbclid=1#top", "canonical url"),
    ("https://astana.example/en/lithium/amp", "variant url"),
    ("https://astana.example/?p=123", "redirect url"),
])
def test_url_is_resolved_through_canonicalisation_and_article_urls(db, url, matched_by):
    path, ids = db
    s = story(path, url)
    assert s["article_id"] == ids["en"] and s["matched_by"] == matched_by and s["story"] == ids["en"]


def test_cli_table_and_json(db):
    path, ids = db
    r = run("story", ids["ru_copy"], "--db", path)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.startswith(f"Story {ids['en']}: Lithium tender opens\n")
    assert "3 language editions, 2 copies on other outlets, 2 earlier versions" in out
    assert "topics: minerals, politics" in out and f"(found #{ids['ru_copy']} by id)" in out
    assert f"[ru] #{ids['ru']}  astana" in out and "(linked by hreflang)" in out
    assert f"copy #{ids['ru_copy']}  rusnews" in out and "https://rusnews.example/lithium" in out
    assert "title: [-Lithium tender-]{+Lithium tender opens+}" in out and "[-next spring-]{+in March+}" in out
    data = json.loads(run("story", "https://astana.example/kk/lithium", "--db", path, "--format", "json").stdout)
    assert list(data) == list(STORY_KEYS)
    assert list(data["root"]) == list(ARTICLE_KEYS)
    assert all(list(c) == list(ARTICLE_KEYS) for e in data["editions"] for c in [e["article"], *e["copies"]])
    assert list(data["editions"][0]) == ["language", "via", "article", "copies"]
    assert list(data["edits"][0]) == ["article_id", "source", "language", "url", "versions"]
    assert list(data["edits"][0]["versions"][1]) == ["version", "current", "title", "fetched_at", "replaced_at",
                                                     "word_count", "changes"]
    assert list(data["edits"][0]["versions"][1]["changes"]) == ["title", "removed_words", "added_words", "hunks",
                                                                "more_hunks"]
    assert data["article_id"] == ids["kk"] and data["story"] == ids["en"]


def test_a_story_of_one_article(db):
    path, ids = db
    s = story(path, str(ids["lone"]))
    assert (s["edition_count"], s["copy_count"], s["version_count"], s["edits"]) == (1, 0, 0, [])
    assert s["editions"][0]["via"] == "first" and s["editions"][0]["copies"] == []
    r = run("story", ids["lone"], "--db", path)
    assert "1 language edition, 0 copies on other outlets, 0 earlier versions" in r.stdout
    assert "(none: no stored text of this story changed when re-fetched)" in r.stdout


@pytest.mark.parametrize("ref, message", [
    ("999999", "Error: no article with id 999999 in this database"),
    ("https://nowhere.example/x", "Error: no article with URL 'https://nowhere.example/x' in this database"),
    ("lithium", "Error: 'lithium' is neither an article id nor an http(s) URL"),
])
def test_unknown_id_or_url_is_one_line_exit_2(db, ref, message):
    path, _ = db
    r = run("story", ref, "--db", path)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(message) and r.stderr.count("\n") == 1


def test_word_diff():
    d = word_diff("a b c d e f g h i j k l m n o p", "a b c X e f g h i j k l m n o p q", context=2)
    assert d == {"removed_words": 1, "added_words": 2, "more_hunks": 0,
                 "hunks": ["… b c [-d-]{+X+} e f …", "… o p {+q+}"]}
    assert word_diff("same words", "same  words")["hunks"] == []           # whitespace alone is no change
    many = word_diff(" ".join(f"w{i}" for i in range(400)), " ".join(f"w{i}" if i % 20 else "Z" for i in range(400)),
                     max_hunks=5)
    assert len(many["hunks"]) == 5 and many["more_hunks"] == 15 and many["removed_words"] == 20


def test_search_and_digest_show_editions_and_copies(db):
    path, ids = db
    res = json.loads(run("search", "lithium OR литий* OR литий", "--db", path, "--format", "json").stdout)
    by_id = {r["id"]: r for r in res}
    assert by_id[ids["en"]]["editions"] == 3 and by_id[ids["en"]]["copies"] == 1
    assert by_id[ids["kk"]]["editions"] == 3 and by_id[ids["kk"]]["copies"] == 0
    lone = json.loads(run("search", "snow", "--db", path, "--format", "json").stdout)
    assert [(r["id"], r["editions"], r["copies"]) for r in lone] == [(ids["lone"], 1, 0)]
    rows = list(csv.DictReader(io.StringIO(run("search", "lithium", "--db", path, "--format", "csv").stdout)))
    assert list(rows[0])[-1] == "editions" and rows[0]["editions"] == "3"
    table = run("search", "lithium", "--db", path).stdout
    assert "[3 language editions]" in table
    d = json.loads(run("digest", "--db", path, "--since", "1d", "--format", "json").stdout)
    top = next(s for s in d["stories"] if s["story"] == ids["en"])
    assert (top["edition_count"], top["copy_count"]) == (3, 2)
    md = run("digest", "--db", path, "--since", "1d").stdout
    assert "editions: en, kk, ru · 2 copies" in md or "editions: en, ru, kk · 2 copies" in md


def test_a_file_without_url_kinds_still_resolves_urls(db):
    """article_urls.kind came with migration m007: an older file's variants are found all the same."""
    path, ids = db
    with open_writer(path) as w:
        w.db.execute("ALTER TABLE article_urls DROP COLUMN kind")
    s = story(path, "https://astana.example/?p=123")
    assert s["article_id"] == ids["en"] and s["matched_by"] == "variant url"
