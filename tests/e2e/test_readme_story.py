"""The README's "Stories and coverage over time" block runs as written, against a small database named demo.db
(built through the writer: a story with a copy and a Russian edition, articles over the last days)."""

from __future__ import annotations

import importlib.util
import json
import shlex

import pytest

from monitor.store.db import open_writer
from tests.support.helpers import REPO_ROOT, run_monitor
from tests.support.query_corpus import build

SECTION = "### Stories and coverage over time"


def readme_commands() -> list[list[str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    block = section[section.index("```bash\n") + len("```bash\n"):]
    block = block[:block.index("```")]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


@pytest.mark.skipif(importlib.util.find_spec("pygal") is None, reason="pygal not installed (the charts extra)")
def test_readme_story_and_chart_examples_run(tmp_path):
    with open_writer(tmp_path / "demo.db") as storage:
        ids = build(storage)
    assert ids["deal_en"] == 1                      # the README's `monitor story 1` is a story with everything
    commands = readme_commands()
    assert {tuple(argv[:2]) for argv in commands} == {("monitor", "story"), ("monitor", "stats"), ("monitor", "digest")}
    for argv in commands:
        assert argv[0] == "monitor", argv
        r = run_monitor(*argv[1:], cwd=tmp_path)
        assert r.returncode == 0, (argv, r.stderr)
        if argv[1] == "story" and "json" in argv:
            data = json.loads(r.stdout)
            assert data["story"] == 1 and data["edition_count"] == 2 and data["copy_count"] == 1
        elif argv[1] == "story":
            assert r.stdout.startswith("Story 1: ") and "Editions:" in r.stdout and "copy #" in r.stdout
        elif "--chart" in argv:
            svg = (tmp_path / argv[argv.index("--chart") + 1]).read_text(encoding="utf-8")
            assert svg.startswith("<svg") and "Wrote coverage chart" in r.stderr
        else:
            html = (tmp_path / argv[argv.index("-o") + 1]).read_text(encoding="utf-8")
            assert "<svg" in html and "Kazakhstan, US sign critical minerals deal" in html
