"""README.md stays true: generated sections are current, and the quick start really runs."""

import subprocess
import sys

import pytest

from tests.support.helpers import REPO_ROOT, rows, run_monitor


def test_generated_sections_are_current():
    result = subprocess.run([sys.executable, "tools/gen_readme.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_readme_names_every_command():
    from monitor.cli import cli

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"`monitor {name}" in readme, name


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = 'pip install -e ".[test]" && python -m pytest'
    assert command in readme
    assert command.replace('"', "") in ci.replace('"', "")
    # in a virtual environment made new for the run, so the newest allowed releases are what is tested
    assert "python3 -m venv" in ci and "/bin/activate" in ci


@pytest.mark.slow
def test_quick_start_runs(tmp_path):
    db = tmp_path / "demo.db"
    demo = run_monitor("demo", "--db", db)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "finished" in demo.stdout
    titles = rows(db, "SELECT source, language, title FROM articles")
    assert len(titles) == 10
    assert {r["language"] for r in titles} == {"en", "ru", "kk"}
    search = run_monitor("search", "--db", db, "kazakhstan* OR қазақстан* OR казахстан*")
    assert search.returncode == 0, search.stderr
    assert search.stdout.count("\n") >= 5


def test_freshness_check_ignores_click_layout_but_not_content():
    """click 8.5 brackets a group's COMMAND and may wrap differently: not drift; a changed help text is."""
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    try:
        import gen_readme
    finally:
        sys.path.remove(str(REPO_ROOT / "tools"))
    current = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    new = gen_readme.render(current)
    relaid = new.replace("[OPTIONS] COMMAND [ARGS]", "[OPTIONS] [COMMAND] [ARGS]")   # click 8.4 -> 8.5
    if relaid == new:
        relaid = new.replace("[OPTIONS] [COMMAND] [ARGS]", "[OPTIONS] COMMAND [ARGS]")
    relaid = relaid.replace("  -h, --help ", "\n  -h, --help ")   # other wrapping
    assert relaid != new and gen_readme.stale_sections(relaid, new) == []
    changed = new.replace("Only sources with this tag", "Only sources without this tag", 1)
    assert gen_readme.stale_sections(changed, new) == ["commands"]
    assert gen_readme.stale_sections(new.replace("| `MONITOR_DB` |", "| `MONITOR_DBX` |", 1), new) == ["settings"]
