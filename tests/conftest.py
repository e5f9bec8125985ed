"""Shared fixtures: a fresh database, the repo root, and a runner for `monitor` in a subprocess."""

from __future__ import annotations

import pytest

from tests.support.helpers import REPO_ROOT  # noqa: F401  (re-exported for tests)


@pytest.fixture(scope="module", autouse=True)
def _texts_per_module():
    """Each test module allocates fixture-site texts from full pools, as when it runs alone: the order of
    modules in a run cannot change which story a site gets (tests/support/sites/common.py)."""
    from tests.support.sites.common import reset_text_allocation

    reset_text_allocation()
    yield


@pytest.fixture
def fresh_db(tmp_path):
    """A migrated, empty database (the store's writer) on a temporary file, closed after the test."""
    from monitor.store.db import open_writer

    storage = open_writer(tmp_path / "test.db")
    yield storage
    storage.close()


# versions that decide behaviour (CI builds a fresh venv each run: the header says what it installed)
HEADER_PACKAGES = ("scrapy", "twisted", "trafilatura", "lxml", "lxml_html_clean", "click", "sqlite-utils", "datasette",
                   "feedparser", "numpy", "scrapy-redis", "redis")


def pytest_report_header(config):
    from importlib import metadata

    found = []
    for name in HEADER_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return "media-monitor stack: " + ", ".join(found)
