"""Every per-site spider (``spiders/``, installed as ``monitor_spiders``) crawls its saved fixture.

One generic test, fundus-style: ``tests/support/spider_fixtures/<module>/fixture.json`` names the catalogue
source the module's spider is for, the answers of the site as files (routes: request path with its query
string -> file, with optional response headers; ``{BASE}`` in them becomes the fixture server's URL) and the
articles a crawl must store.  The test points a copy of that catalogue entry, with its own ``spider = ...``,
at a local fixture server, loads the spider through that sources file, runs a real ``monitor crawl`` and
checks the stored rows against the fixture.  A module without a fixture, or a spider named in the catalogue
that is not one of these modules, fails ``test_every_per_site_spider_has_a_fixture``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor.demoserver import read_static
from monitor.sources.catalogue import Source, load_sources
from tests.support.fixtureserver import FixtureServer, Resource, Site
from tests.support.helpers import FAST_SETTINGS, REPO_ROOT, rows, run_monitor, write_sources

SPIDERS_DIR = REPO_ROOT / "spiders"
FIXTURES = REPO_ROOT / "tests" / "support" / "spider_fixtures"
PACKAGE = "monitor_spiders"


def spider_modules() -> list[str]:
    return sorted(p.stem for p in SPIDERS_DIR.glob("*.py") if p.stem != "__init__")


def catalogue_spiders() -> dict[str, list[Source]]:
    """Dotted spider path -> the bundled catalogue's sources that name it."""
    found: dict[str, list[Source]] = {}
    for source in load_sources(None):
        if source.spider:
            found.setdefault(source.spider, []).append(source)
    return found


def manifest(module: str) -> dict:
    return json.loads((FIXTURES / module / "fixture.json").read_text(encoding="utf-8"))


def test_every_per_site_spider_has_a_fixture():
    modules = spider_modules()
    assert modules, "spiders/ holds no per-site spider"
    named = catalogue_spiders()
    for path in named:
        package, module, _cls = path.rsplit(".", 2)
        assert package == PACKAGE and module in modules, f"{path}: not a module of spiders/ ({PACKAGE}.<module>)"
    for module in modules:
        assert (FIXTURES / module / "fixture.json").is_file(), f"spiders/{module}.py has no fixture in {FIXTURES}"
        source = manifest(module)["source"]
        assert any(s.name == source for sources in named.values() for s in sources
                   if s.spider.rsplit(".", 2)[1] == module), \
            f"fixture of {module}: the catalogue source {source!r} does not use a spider from spiders/{module}.py"


def _site(folder: Path, routes: dict) -> Site:
    """path (with query) -> the fixture file, served with its content type and {BASE} replaced."""
    site = Site()
    for path, spec in routes.items():
        spec = {"file": spec} if isinstance(spec, str) else spec
        file = folder / spec["file"]
        assert file.is_file(), f"{folder.name}: route {path} names a missing file {spec['file']}"

        def answer(req, file=file, headers=spec.get("headers", {})):
            body, ctype = read_static(file, req.server)
            return Resource(body, content_type=ctype, headers=dict(headers))

        site[path] = Resource(answer)
    return site


def _pointed_at(source: Source, base: str) -> dict:
    """The catalogue entry, its URLs moved to the fixture server (same paths), same ``spider``."""
    def move(url: str) -> str:
        parts = urlsplit(url)
        return base + parts.path + (f"?{parts.query}" if parts.query else "")

    entry = {"name": source.name, "url": move(source.url), "spider": source.spider}
    for field in ("feeds", "sitemaps", "sections"):
        if getattr(source, field):
            entry[field] = [move(u) for u in getattr(source, field)]
    if source.article_pattern:
        entry["article_pattern"] = source.article_pattern
    if source.language:
        entry["language"] = source.language
    return entry


def _loaded_spider(sources_file: Path, name: str):
    """The spider class Scrapy's spider loader gives for ``name`` with this sources file (``scrapy list`` /
    ``scrapy crawl NAME`` load it the same way)."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import get_spider_loader

    settings = Settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.set("MONITOR_SOURCES", str(sources_file), priority="cmdline")
    loader = get_spider_loader(settings)
    assert name in loader.list()
    return loader.load(name)


@pytest.mark.parametrize("module", spider_modules())
def test_spider_crawls_its_saved_fixture(module, tmp_path):
    fixture = manifest(module)
    [source] = [s for s in load_sources(None) if s.name == fixture["source"]]
    overrides = [arg for k, v in fixture.get("settings", {}).items() for arg in ("-s", f"{k}={v}")]
    db = tmp_path / "site.db"
    with FixtureServer(_site(FIXTURES / module, fixture["routes"])) as server:
        sources_file = write_sources(tmp_path / "sources.toml", [_pointed_at(source, server.url)])

        spider_cls = _loaded_spider(sources_file, source.name)
        from importlib import import_module

        expected_cls = getattr(import_module(source.spider.rsplit(".", 1)[0]), source.spider.rsplit(".", 1)[1])
        assert issubclass(spider_cls, expected_cls) and spider_cls.source.url == server.url + "/"

        result = run_monitor("crawl", "--sources", sources_file, "--db", db, *FAST_SETTINGS, *overrides)
        requested = server.paths_requested()
    assert result.returncode == 0, result.stderr[-3000:]

    stored = {urlsplit(r["url"]).path: r for r in rows(db, "SELECT url, title, published, source FROM articles")}
    expected = {a["path"]: a for a in fixture["expected"]}
    assert sorted(stored) == sorted(expected), f"stored {sorted(stored)}; requests: {requested}"
    for path, want in expected.items():
        row = stored[path]
        assert (row["source"], row["title"], row["published"]) == (source.name, want["title"], want["published"]), path
    for path in fixture.get("not_requested", []):
        assert path not in requested, f"{path} was requested: {requested}"
    assert all(requested.count(p) == 1 for p in fixture["routes"] if p in requested and p != "/robots.txt"), requested
    errors = rows(db, "SELECT url, reason, detail FROM fetch_errors")
    assert errors == [], errors
