"""The crawl frontier (monitor/crawl/frontier.py): FIFO order through the spill file, memory bound, no file left."""

from __future__ import annotations

import os

import pytest

from monitor.crawl import frontier as fr
from monitor.crawl.frontier import Frontier


def entry(i: int) -> tuple:
    return (f"https://example.com/news/{i}/", "sitemap", {"lastmod": f"2026-11-{1 + i % 28:02d}"} if i % 3 else None,
            bool(i % 2), {"known_article_id": i} if i % 5 == 0 else None)


def test_fifo_through_memory_file_and_write_buffer(tmp_path, monkeypatch):
    monkeypatch.setattr(fr, "WRITE_BATCH", 7)
    f = Frontier(memory_max=10, spill_dir=tmp_path)
    out = []
    for i in range(95):                       # pushes interleaved with pops, as a crawl does
        f.push(entry(i))
        if i % 4 == 3:
            out.append(f.pop())
        assert len(f.head) <= 10, "more entries in memory than memory_max"
    assert f.on_disk > 0 and f.spilled > 0    # the file was used
    assert len(f) == 95 - len(out)
    while f:
        out.append(f.pop())
    assert out == [entry(i) for i in range(95)]
    with pytest.raises(IndexError):
        f.pop()
    f.close()


def test_file_is_unlinked_and_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(fr, "WRITE_BATCH", 4)
    f = Frontier(memory_max=3, spill_dir=tmp_path)
    for i in range(50):
        f.push(entry(i))
    assert f.on_disk > 0
    assert os.listdir(tmp_path) == []        # a temporary file without a name: nothing left after kill -9
    got = [f.pop() for _ in range(50)]
    assert got == [entry(i) for i in range(50)]
    assert f._file.seek(0, 2) == 0            # drained: truncated, its disk space given back
    for i in range(50, 60):
        f.push(entry(i))
    assert [f.pop() for _ in range(10)] == [entry(i) for i in range(50, 60)]


def test_unwritable_folder_keeps_entries_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(fr, "WRITE_BATCH", 2)
    f = Frontier(memory_max=2, spill_dir=tmp_path / "missing")
    for i in range(20):
        f.push(entry(i))
    assert f.disk_failed and f.on_disk == 0
    assert [f.pop() for _ in range(20)] == [entry(i) for i in range(20)]
