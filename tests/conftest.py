"""Shared fixtures: a fresh database, the repo root, and a runner for `monitor` in a subprocess."""

from __future__ import annotations

import pytest

from tests.helpers import REPO_ROOT  # noqa: F401  (re-exported for tests)


@pytest.fixture
def fresh_db(tmp_path):
    """A migrated, empty Storage on a temporary file, closed after the test."""
    from monitor.storage import Storage

    storage = Storage.open(tmp_path / "test.db")
    yield storage
    storage.close()
