"""Scrapy users' habits: `scrapy crawl NAME -O items.jsonl|csv` exports exactly the stored articles, `scrapy
parse --spider NAME URL` shows what the spider extracts, and the README's "For Scrapy users" lines run.

Pipeline units run in-process on the asyncio loop of Twisted's reactor; whole Scrapy runs in a subprocess
against fixture sites on 127.0.0.1 (a reactor starts once per process).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import pytest_twisted
from scrapy.exceptions import DropItem
from twisted.internet.defer import Deferred

from tests.support.fixtureserver import FixtureServer, Site
from monitor.crawl.items import ArticleItem, fetch_error_item, url_alias_item
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, write_sources
from tests.support.sites import build_news_site
from tests.support.sites import syndication
from tests.support.sites.common import page_resource

EXPORT_FIELDS = ["id", "url", "canonical_url", "source", "title", "author", "published", "language", "text",
                 "topics", "duplicate_of", "story"]

KZ_TEXT = ("Kazakhstan and the United States signed an agreement on critical minerals in Astana on Tuesday, "
           "the foreign ministry said, after two days of talks between the delegations. ") * 4
OTHER_TEXT = ("The city council approved a new budget for road repairs on Monday evening after a long debate "
              "about bus lanes, parking fees and the timetable of the works in the old town. ") * 4


def aio(coro) -> Deferred:
    return Deferred.fromFuture(asyncio.ensure_future(coro))


def _record(url: str, text: str, title: str):
    from monitor.store.records import ArticleRecord

    return ArticleRecord(url=url, source="unit", text=text, title=title, language="en",
                         published="2026-01-05T10:00:00+00:00", author="A. Writer")


def _pipeline(tmp_path, **settings):
    from scrapy.utils.test import get_crawler

    from monitor.crawl.pipelines import StoragePipeline
    from monitor.store.db import open_writer

    crawler = get_crawler(settings_dict={"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_BATCH_SIZE": 3,
                                         "MONITOR_BATCH_SECONDS": 600, **settings})
    pipe = StoragePipeline(crawler)
    pipe.storage = open_writer(tmp_path / "m.db")
    pipe._set_topics(pipe.storage)
    return pipe


# ----------------------------------------------------------------------------------------- pipeline units

def test_who_gets_article_items():
    """`scrapy crawl` (no MONITOR_CRAWL_ID) and any feed export hold items for their stored row; `monitor crawl`
    (which sets MONITOR_CRAWL_ID) does not, unless MONITOR_ARTICLE_ITEMS asks."""
    from scrapy.utils.test import get_crawler

    from monitor.crawl.pipelines import StoragePipeline

    def emit(**settings):
        return StoragePipeline(get_crawler(settings_dict={"MONITOR_DB": "unused.db", **settings})).emit

    feed = {"out.jsonl": {"format": "jsonlines"}}
    assert emit() and emit(FEEDS=feed) and emit(MONITOR_CRAWL_ID=3, FEEDS=feed)
    assert emit(MONITOR_CRAWL_ID=3, MONITOR_ARTICLE_ITEMS=True)
    assert not emit(MONITOR_CRAWL_ID=3)


@pytest_twisted.ensureDeferred
async def test_article_items_wait_for_their_batch_and_come_out_stored(tmp_path):
    """With a feed configured, an article item leaves StoragePipeline only when its batch is written, as the
    stored row; a duplicate comes out with duplicate_of, a record of an already stored URL is dropped."""
    feed = {str(tmp_path / "out.jsonl"): {"format": "jsonlines"}}
    pipe = _pipeline(tmp_path, FEEDS=feed, MONITOR_CRAWL_ID=1)
    assert pipe.emit
    fetched = {"a1": "https://news.example/a/1?utm_source=rss", "a2": "https://news.example/a/2",
               "copy": "https://copies.example/c/9", "again": "https://news.example/a/1"}
    recs = {"a1": _record("https://news.example/a/1", KZ_TEXT, "Minerals deal"),
            "a2": _record("https://news.example/a/2", OTHER_TEXT, "Road repairs"),
            "copy": _record("https://copies.example/c/9", KZ_TEXT, "Minerals deal (copy)"),
            "again": _record("https://news.example/a/1", KZ_TEXT, "Minerals deal")}

    async def scenario():
        tasks = {k: asyncio.ensure_future(pipe.process_item({"kind": "article", "record": recs[k],
                                                             "url": fetched[k]}))
                 for k in ("a1", "a2")}
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in tasks.values()), "an article item left before its batch was written"
        assert rows(tmp_path / "m.db", "SELECT count(*) AS n FROM articles") == [{"n": 0}]
        for k in ("copy", "again"):   # the third record fills the batch (MONITOR_BATCH_SIZE=3): written
            tasks[k] = asyncio.ensure_future(pipe.process_item({"kind": "article", "record": recs[k],
                                                               "url": fetched[k]}))
        await asyncio.sleep(0.05)
        assert all(tasks[k].done() for k in ("a1", "a2", "copy")) and not tasks["again"].done()
        pipe.flush()   # the fourth record's batch (timer or close_spider in a crawl)
        return {k: (await asyncio.wait_for(t, 5) if k != "again" else t) for k, t in tasks.items()}

    out = await aio(scenario())
    with pytest.raises(DropItem) as dropped:   # same URL as a1: "known", nothing stored by this record
        out.pop("again").result()
    assert dropped.value.log_level == "DEBUG"

    db_rows = {r["url"]: r for r in rows(tmp_path / "m.db", "SELECT * FROM articles")}
    topics = {}
    for r in rows(tmp_path / "m.db", "SELECT article_id, topic FROM article_topics ORDER BY topic"):
        topics.setdefault(r["article_id"], []).append(r["topic"])
    assert len(db_rows) == 3
    for key, item in out.items():
        assert isinstance(item, ArticleItem)
        row = db_rows[recs[key].url]
        assert (item.id, item.canonical_url, item.title, item.text) == (row["id"], row["url"], row["title"], row["text"])
        assert item.url == fetched[key]
        assert item.duplicate_of == row["duplicate_of"]
        assert item.topics == topics.get(row["id"], [])
        json.dumps(dataclasses.asdict(item))   # plain values only
    assert out["copy"].duplicate_of == out["a1"].id and out["a1"].duplicate_of is None
    assert out["copy"].story == out["a1"].story == out["a1"].id
    assert out["a1"].topics, "the Kazakhstan/US text got no topic from the bundled topics file"
    pipe.storage.close()


@pytest_twisted.ensureDeferred
async def test_without_a_feed_items_pass_at_once_and_internal_items_are_dropped_quietly(tmp_path):
    from monitor.crawl.pipelines import DropInternalItems

    pipe = _pipeline(tmp_path, MONITOR_CRAWL_ID=1)   # as `monitor crawl` runs it
    assert not pipe.emit
    last = DropInternalItems()

    async def scenario():
        item = {"kind": "article", "record": _record("https://news.example/a/1", KZ_TEXT, "T"),
                "url": "https://news.example/a/1"}
        out = await asyncio.wait_for(pipe.process_item(item), 5)   # not held: `monitor crawl` is unchanged
        assert out is item and pipe.records
        results = []
        for internal in (out, fetch_error_item(source="unit", url="https://news.example/x", reason="not_found"),
                         url_alias_item(source="unit", url="https://news.example/a/1?utm_source=x", keys=[])):
            try:
                await last.process_item(internal)
            except DropItem as exc:
                results.append(exc.log_level)
        plain = ArticleItem(title="kept")
        return results, await last.process_item(plain), plain

    levels, passed, plain = await aio(scenario())
    assert levels == ["DEBUG", "DEBUG", "DEBUG"]
    assert passed is plain
    pipe.flush()
    assert rows(tmp_path / "m.db", "SELECT count(*) AS n FROM articles") == [{"n": 1}]
    pipe.storage.close()


@pytest_twisted.ensureDeferred
async def test_a_batch_that_cannot_be_written_releases_its_waiting_items(tmp_path):
    pipe = _pipeline(tmp_path, MONITOR_ARTICLE_ITEMS=True, MONITOR_CRAWL_ID=1)
    assert pipe.emit

    def fail(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    pipe.storage.write_batch = fail
    closed = []
    pipe._close = closed.append   # no engine in this unit test; a crawl closes the spider here

    async def scenario():
        task = asyncio.ensure_future(pipe.process_item(
            {"kind": "article", "record": _record("https://news.example/a/1", KZ_TEXT, "T"), "url": None}))
        await asyncio.sleep(0.02)
        pipe.flush()
        with pytest.raises(DropItem):
            await asyncio.wait_for(task, 5)   # not left waiting forever (the crawl could never close)

    await aio(scenario())
    assert pipe.write_error and closed == ["storage_error"]
    pipe.storage.close()


# ----------------------------------------------------------------------------------------- whole runs

def _scrapy(args: list[str], cwd, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def parsed_items(stdout: str) -> list[dict]:
    """The items `scrapy parse` printed (a pprint-ed list of dicts under "# Scraped Items")."""
    import ast

    found = re.search(r"# Scraped Items\s*-+\n(.*?)\n# Requests", stdout, re.S)
    assert found, stdout[-2000:]
    return ast.literal_eval(found.group(1))


def _env(sources) -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MONITOR_SOURCES": str(sources)}


@pytest.fixture
def copies_site(tmp_path):
    """A news site whose feed also lists an exact copy of one article at its own URL (stored, a duplicate),
    another article's page again under a second URL (same canonical URL: not stored twice) and a page
    too short to be an article (rejected)."""
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=4, with_feed=None, with_sitemap=None)
        server.site.update(site)
        original, mirrored = site.articles[0], site.articles[1]
        copy_path, mirror_path, short_path = "/copies/one/", "/mirror/two/", "/notes/short/"
        copy_html = site.resources[original.path].body.decode("utf-8").replace(original.url, server.url + copy_path)
        when = datetime(2026, 1, 1, tzinfo=timezone.utc)
        server.site[copy_path] = page_resource(copy_html, when)
        server.site[mirror_path] = site.resources[mirrored.path]
        server.site[short_path] = page_resource("<html><head><title>Note</title></head><body><p>Back soon.</p>"
                                                "</body></html>", when)
        listed = [*site.articles,
                  dataclasses.replace(original, path=copy_path, url=server.url + copy_path),
                  dataclasses.replace(mirrored, path=mirror_path, url=server.url + mirror_path),
                  dataclasses.replace(original, path=short_path, url=server.url + short_path, title="Note")]
        channel = syndication.Channel("Copies", server.url + "/", server.url + "/all.xml", "all", "en", when)
        server.site["/all.xml"] = page_resource(syndication.rss2(channel, listed), when,
                                                content_type="application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", [{"name": "copysite", "url": server.url + "/",
                                                              "language": "en", "feeds": [server.url + "/all.xml"]}])
        yield site, sources, server.url


def _stored(db) -> dict[str, dict]:
    """articles rows by URL, with their topics and story as ArticleItem has them."""
    out = {r["url"]: r for r in rows(db, "SELECT a.*, COALESCE(sl.story_id, sg.story_id, a.duplicate_of, a.id) "
                                         "AS story FROM articles a LEFT JOIN story_links sl ON sl.article_id = a.id "
                                         "LEFT JOIN story_links sg ON sg.article_id = a.duplicate_of")}
    for r in out.values():
        r["topics"] = [t["topic"] for t in rows(db, "SELECT topic FROM article_topics WHERE article_id = ? "
                                                    "ORDER BY topic", [r["id"]])]
    return out


@pytest.mark.slow
def test_crawl_exports_exactly_the_stored_articles(copies_site, tmp_path):
    site, sources, base = copies_site
    db = tmp_path / "m.db"
    args = ["crawl", "copysite", "-O", str(tmp_path / "out.jsonl"), "-O", str(tmp_path / "out.csv"),
            "-s", f"MONITOR_DB={db}"]
    for setting in FAST_SETTINGS[1::2]:
        args += ["-s", setting]
    result = _scrapy(args, REPO_ROOT, _env(sources))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr, result.stderr[-3000:]
    assert "Dropped:" not in result.stderr   # internal items leave no trace at the default level

    stored = _stored(db)
    # the fixture is what it says: 4 articles + 1 stored copy; the mirrored page and the short note add no row
    assert len(stored) == 5
    pair = {site.articles[0].url, base + "/copies/one/"}   # whichever was stored first is the original
    [copy_row] = [r for r in stored.values() if r["duplicate_of"]]
    assert copy_row["url"] in pair
    [original_url] = pair - {copy_row["url"]}
    assert copy_row["duplicate_of"] == stored[original_url]["id"]
    assert rows(db, "SELECT reason FROM fetch_errors WHERE url = ?", [base + "/notes/short/"])

    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    assert len(items) == len(stored)
    assert {i["canonical_url"] for i in items} == set(stored)
    for item in items:
        assert list(item) == EXPORT_FIELDS
        row = stored[item["canonical_url"]]
        for field in ("id", "source", "title", "author", "published", "language", "text", "duplicate_of",
                      "story", "topics"):
            assert item[field] == row[field], (field, item["canonical_url"])
    assert any(i["topics"] for i in items)
    copy = next(i for i in items if i["canonical_url"] == copy_row["url"])
    assert copy["duplicate_of"] == stored[original_url]["id"] == copy["story"]

    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == EXPORT_FIELDS
    assert {(r["canonical_url"], r["title"]) for r in table} == {(u, r["title"]) for u, r in stored.items()}
    assert {r["topics"] for r in table} == {",".join(r["topics"]) for r in stored.values()}

    crawls = rows(db, "SELECT status, sources, articles_new, duplicates FROM crawls")
    assert crawls == [{"status": "finished", "sources": '["copysite"]', "articles_new": 4, "duplicates": 1}]


# ----------------------------------------------------------------------------------------- README

def readme_scrapy_lines() -> list[str]:
    """The commands of the README's "For Scrapy users" code block."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For Scrapy users", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip().startswith("scrapy ")]


@pytest.mark.slow
def test_readme_scrapy_examples_run(tmp_path):
    """Each line of the README block runs as written, in a directory with the project's scrapy.cfg, with the
    README's source name and article URL replaced by a fixture site's (and fast settings appended)."""
    lines = readme_scrapy_lines()
    assert [line.split()[1] for line in lines] == ["list", "crawl", "crawl", "crawl", "parse"]
    name = lines[1].split()[2]
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO_ROOT / "scrapy.cfg", work / "scrapy.cfg")
    fast = [x for s in FAST_SETTINGS[1::2] for x in ("-s", s)]
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=4, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        sources = write_sources(tmp_path / "sources.toml", [site.source("fixturenews", declare_feeds=True)])
        env = _env(sources)
        outputs = []
        for line in lines:
            args = [a.replace(name, "fixturenews") for a in shlex.split(line)[1:]]
            args = [site.articles[0].url if a.startswith("https://") else a for a in args]
            result = _scrapy(args + (fast if args[0] != "list" else []), work, env)
            assert result.returncode == 0, (line, result.stderr[-3000:])
            assert "Traceback" not in result.stderr, (line, result.stderr[-3000:])
            outputs.append(result)
    assert outputs[0].stdout.split() == ["fixturenews"]

    # first crawl: ./monitor.db (MONITOR_DB's default) and every article it stored in items.jsonl
    first = _stored(work / "monitor.db")
    assert {a.url for a in site.articles} <= set(first)
    items = [json.loads(x) for x in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(i["canonical_url"] for i in items) == sorted(first)
    # second crawl, same database: nothing new, an empty export, a second crawls row
    assert (work / "new.jsonl").read_text(encoding="utf-8") == ""
    assert [r["status"] for r in rows(work / "monitor.db", "SELECT status FROM crawls ORDER BY id")] == [
        "finished", "finished"]
    # third: another database, CSV
    with open(work / "items.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == EXPORT_FIELDS
    assert sorted(r["canonical_url"] for r in table) == sorted(_stored(work / "kz.db"))
    # parse: the article's fields on stdout, nothing written
    [shown] = parsed_items(outputs[4].stdout)
    assert shown["title"] == site.articles[0].title and site.articles[0].text_snippet in shown["text"]
    assert len(rows(work / "monitor.db", "SELECT id FROM crawls")) == 2


@pytest.mark.slow
def test_parse_shows_the_article_and_writes_nothing(tmp_path):
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=2, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        sources = write_sources(tmp_path / "sources.toml", [site.source("fixturenews", declare_feeds=True)])
        db = tmp_path / "never.db"
        article = _scrapy(["parse", "--spider", "fixturenews", site.articles[1].url, "-s", f"MONITOR_DB={db}"],
                          REPO_ROOT, _env(sources))
        home = _scrapy(["parse", "--spider", "fixturenews", site.home_url, "-s", f"MONITOR_DB={db}"],
                       REPO_ROOT, _env(sources))
    assert article.returncode == 0, article.stderr[-3000:]
    [shown] = parsed_items(article.stdout)
    assert list(shown) == sorted(EXPORT_FIELDS)   # pprint sorts the keys
    expected = site.articles[1]
    assert shown["title"] == expected.title and expected.text_snippet in shown["text"]
    assert shown["canonical_url"] == shown["url"] == expected.url and shown["source"] == "fixturenews"
    assert shown["published"][:10] == expected.published_date and shown["language"] == "en"
    assert shown["id"] is shown["topics"] is shown["duplicate_of"] is shown["story"] is None
    assert "Traceback" not in article.stderr and "ScrapyDeprecationWarning" not in article.stderr
    # a listing page: why it is not an article, and the article links it would follow
    assert home.returncode == 0, home.stderr[-3000:]
    assert "is not stored as an article: not_article" in home.stderr
    for a in site.articles:
        assert a.url in home.stdout
    assert not db.exists()


@pytest.mark.parametrize("args", [["list"], ["crawl", "onesite"]], ids=["list", "crawl"])
def test_bad_sources_file_is_one_error_line_and_exit_2(tmp_path, args):
    """The spider loader reads the sources file inside the command, where Scrapy turns its UsageError into one
    ``error:`` line (after the command's usage line, as for any usage error) and exit 2: no traceback, no help
    text, no crawl."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "onesite"\nurl = "not a url"\n', encoding="utf-8")
    result = _scrapy([*args, "-s", f"MONITOR_DB={tmp_path / 'm.db'}"], REPO_ROOT, _env(bad), timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(bad) in errors[0] and "source 'onesite'" in errors[0], result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0] and "Options" not in result.stderr   # no help text
    assert not (tmp_path / "m.db").exists()
