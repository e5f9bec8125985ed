"""monitor/crawl/spiderloader.py: the one "which spider class for this source", and Scrapy's spider-loader
interface over Scrapy's own SpiderLoader plus one spider per source (``scrapy list`` / ``scrapy crawl NAME``;
the command-line report of a bad sources file is in tests/e2e/test_scrapy_cli.py)."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.exceptions import UsageError as ScrapyUsageError
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

from monitor.crawl.spider import NewsSpider
from monitor.crawl.spiderloader import SourceSpiderLoader, SourcesFileError, spider_class_for
from monitor.errors import SourcesError
from monitor.sources.catalogue import source_from_dict
from monitor_spiders.timesca import TimesCASpider
from tests.support.helpers import write_sources


class ModuleSpider(scrapy.Spider):
    """A spider with its own name in SPIDER_MODULES (this module, in these tests)."""

    name = "from-module"
    allowed_domains = ["module.example"]


class ShadowedSpider(scrapy.Spider):
    name = "onesite"   # a source of the same name wins


def _settings(sources, modules=("tests.unit.test_spiderloader",)) -> Settings:
    settings = Settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.set("MONITOR_SOURCES", str(sources), priority="cmdline")
    settings.set("SPIDER_MODULES", list(modules), priority="cmdline")
    return settings


def test_spider_class_for_a_source():
    plain = spider_class_for(source_from_dict({"name": "one-site", "url": "https://one.example/"}))
    assert issubclass(plain, NewsSpider) and plain.name == "one-site" and plain.__name__ == "OneSiteSpider"
    assert plain.allowed_domains == ["one.example"] and plain.source.url == "https://one.example/"
    site = spider_class_for(source_from_dict({"name": "timesca", "url": "https://timesca.example/",
                                              "spider": "monitor_spiders.timesca.TimesCASpider"}))
    assert issubclass(site, TimesCASpider) and site.name == "timesca"


@pytest.mark.parametrize("path, why", [("monitor.crawl.items.ArticleItem", "is not a NewsSpider subclass"),
                                       ("monitor.crawl.spider.is_newer", "is not a NewsSpider subclass"),
                                       ("monitor_spiders.nowhere.Spider", "cannot be imported"),
                                       ("monitor_spiders.timesca.Missing", "cannot be imported")])
def test_spider_class_for_refuses_what_is_no_news_spider(path, why):
    source = source_from_dict({"name": "odd", "url": "https://odd.example/", "spider": path})
    with pytest.raises(SourcesError) as err:
        spider_class_for(source)
    assert why in str(err.value) and (err.value.source, err.value.field) == ("odd", "spider")


def test_loader_offers_the_module_spiders_and_one_per_source(tmp_path):
    sources = write_sources(tmp_path / "s.toml", [{"name": "onesite", "url": "https://one.example/"},
                                                  {"name": "timesca", "url": "https://timesca.example/",
                                                   "spider": "monitor_spiders.timesca.TimesCASpider"}])
    loader = get_spider_loader(_settings(sources))   # SPIDER_LOADER_CLASS of monitor.settings
    assert isinstance(loader, SourceSpiderLoader)
    assert sorted(loader.list()) == ["from-module", "onesite", "timesca"]
    assert loader.load("from-module") is ModuleSpider
    assert issubclass(loader.load("onesite"), NewsSpider)          # not ShadowedSpider
    assert issubclass(loader.load("timesca"), TimesCASpider)
    with pytest.raises(KeyError):
        loader.load("nope")
    assert loader.find_by_request(scrapy.Request("https://www.one.example/a")) == ["onesite"]
    assert loader.find_by_request(scrapy.Request("https://module.example/")) == ["from-module"]
    assert loader.find_by_request(scrapy.Request("https://elsewhere.example/")) == []


def test_a_bad_sources_file_is_reported_when_used_not_when_loaded(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "x"\nurl = "not a url"\n', encoding="utf-8")
    loader = SourceSpiderLoader.from_settings(_settings(bad))      # Scrapy builds it outside the command
    for use in (loader.list, lambda: loader.load("x")):
        with pytest.raises(SourcesFileError) as err:
            use()
        # a SourcesError for Python callers, Scrapy's UsageError (no help text) for its command line
        assert isinstance(err.value, SourcesError) and isinstance(err.value, ScrapyUsageError)
        assert err.value.print_help is False and str(bad) in str(err.value) and err.value.exit_code == 2
    wrong_class = write_sources(tmp_path / "w.toml", [{"name": "w", "url": "https://w.example/",
                                                       "spider": "monitor.crawl.items.ArticleItem"}])
    with pytest.raises(SourcesFileError, match="is not a NewsSpider subclass"):
        SourceSpiderLoader.from_settings(_settings(wrong_class)).list()


@pytest.mark.parametrize("cmd", [["crawl"], ["schedule", "--max-runs", "1"]])
def test_a_missing_spider_class_is_refused_before_a_crawl_row_is_opened(tmp_path, cmd):
    """issue 15: `spider = "nosuch.module.Spider"` passed validation, then a 62-line traceback and a crawls row
    left `running`: now one line, exit 2, and the database untouched (plan_crawl checks the class first)."""
    from monitor.store.db import open_writer
    from tests.unit.test_cli_errors import check_one_clear_line, run, snapshot

    sources = write_sources(tmp_path / "s.toml", [{"name": "odd", "url": "https://odd.example/",
                                                   "spider": "nosuch.module.Spider"}])
    db = tmp_path / "m.db"
    open_writer(db).close()
    before = snapshot(tmp_path)
    result = run([*cmd, "--sources", str(sources), "--db", str(db)])
    check_one_clear_line(result, ["odd", "spider", "nosuch.module.Spider", "cannot be imported"], tmp_path, before)
