"""The coverage chart renders: `monitor stats --chart` and the HTML digest, screenshotted by headless Chromium
(Debian's /usr/bin/chromium; skipped where it is absent, CI installs it).  The screenshot is not blank and
shows the series' colours; the SVG carries its axis labels (dates, counts, axis titles) as text."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest

from monitor.query.coverage import coverage
from monitor.store.db import open_writer
from tests.support.helpers import run_monitor
from tests.support.png import png_colours
from tests.unit.test_coverage import DAYS, SOURCES, START, build_corpus

CHROMIUM = "/usr/bin/chromium"
SERIES_COLOURS = ("1d4ed8", "dc2626", "059669")      # the first three of monitor/query/charts.py's palette

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed (apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("pygal") is None, reason="pygal not installed (the charts extra)"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("charts") / "charts.db"
    with open_writer(path) as storage:
        build_corpus(storage)
    return path


def screenshot(page: Path, png: Path, size: str = "1000,600") -> Path:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={png.parent / 'profile'}", f"--screenshot={png}", f"--window-size={size}",
         page.as_uri()], capture_output=True, text=True, timeout=120)
    assert png.exists(), proc.stderr[-2000:]
    return png


def near(colours: set[bytes], hex_colour: str, distance: int = 40) -> bool:
    target = bytes.fromhex(hex_colour)
    return any(sum((a - b) ** 2 for a, b in zip(c, target)) <= distance ** 2 for c in colours)


def test_stats_chart_renders_in_chromium(db, tmp_path):
    svg_path = tmp_path / "coverage.svg"
    until = START.replace(day=START.day + DAYS - 1).isoformat()
    r = run_monitor("stats", "--db", db, "--chart", svg_path, "--by", "source", "--since", START.isoformat(),
                    "--until", until)
    assert r.returncode == 0, r.stderr
    svg = svg_path.read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    # axis labels: dates under the x axis, counts beside the y axis, both axis titles, the legend
    assert START.isoformat() in texts and sum(1 for t in texts if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t)) >= 5
    cov = coverage(db, by="source", since=START.isoformat(), until=until)
    peak = max(c for s in cov["series"] for c in s["counts"])
    assert "0" in texts and str(peak) in texts
    assert {"day (UTC)", "articles"} <= set(texts) and set(SOURCES) <= set(texts)
    colours = png_colours(screenshot(svg_path, tmp_path / "coverage.png"))
    assert len(colours) > 100                            # a blank page has one colour
    assert all(near(colours, c) for c in SERIES_COLOURS)  # the three series were drawn


def test_html_digest_chart_renders_in_chromium(db, tmp_path):
    page = tmp_path / "digest.html"
    until = START.replace(day=START.day + DAYS - 1).isoformat()
    r = run_monitor("digest", "--db", db, "--since", START.isoformat(), "--until", until, "--format", "html",
                    "-o", page)
    assert r.returncode == 0, r.stderr
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "<script" not in html
    assert "Articles per day per topic, duplicates folded" in html
    colours = png_colours(screenshot(page, tmp_path / "digest.png", "1000,700"))
    assert len(colours) > 100
    assert near(colours, SERIES_COLOURS[0]) and near(colours, SERIES_COLOURS[1])   # alpha and beta lines
