"""Regenerate the parts of README.md that the code already knows, so they cannot drift.

Sections between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers are rewritten:

- ``commands``: every ``monitor`` command's ``--help``, straight from the click definitions;
- ``settings``: the ``MONITOR_*`` table from ``monitor/settings.py`` (default and one-line comment);
- ``schema``: the SQL of a freshly migrated database.

``python tools/gen_readme.py`` rewrites README.md; ``--check`` exits 1 when it is out of date (a test runs it).
The check compares the command help by its words, not its layout: a click release that wraps lines or brackets
a metavar differently (click 8.5 writes ``[COMMAND]`` where 8.4 wrote ``COMMAND``) is not drift, a changed
option, help text or default is.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
README = ROOT / "README.md"


def _walk(cmd, path, parent=None):
    """Every command with its click context, each made under its parent's (so `-h` is listed as users get it,
    whatever click cached on the command objects from earlier calls in the same process)."""
    import click

    ctx = click.Context(cmd, info_name=path[-1] if parent is not None else " ".join(path), parent=parent,
                        terminal_width=100, max_content_width=100,
                        **(cmd.context_settings if parent is None else {}))
    yield path, cmd, ctx
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], [*path, name], ctx)


def commands_section() -> str:
    from monitor.cli import cli

    out = []
    for path, cmd, ctx in _walk(cli, ["monitor"]):
        if len(path) == 1:
            continue
        text = cmd.get_help(ctx)
        out.append(f"### `{' '.join(path)}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(out)


SETTING_RE = re.compile(r"^(MONITOR_[A-Z0-9_]+)\s*=\s*(.+?)\s*#\s*(.+)$")


def settings_section() -> str:
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for line in (ROOT / "monitor" / "settings.py").read_text(encoding="utf-8").splitlines():
        m = SETTING_RE.match(line)
        if m:
            name, default, comment = m.groups()
            comment = comment.replace("|", "\\|")
            rows.append(f"| `{name}` | `{default}` | {comment} |")
    return "\n".join(rows) + "\n"


def schema_section() -> str:
    from monitor.store.db import open_writer

    with tempfile.TemporaryDirectory() as tmp:
        store = open_writer(Path(tmp) / "schema.db")
        try:
            rows = store.db.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE '%_fts_%' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY "
                "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name").fetchall()
        finally:
            store.close()
    parts = [sql.strip() + ";" for _type, _name, sql in rows]
    return "```sql\n" + "\n\n".join(parts) + "\n```\n"


SECTIONS = {"commands": commands_section, "settings": settings_section, "schema": schema_section}
# how a section is compared by --check: layout-free for click's help text, exact for the rest
WORDS = re.compile(r"\w+")
COMPARE = {"commands": lambda body: WORDS.findall(body)}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- BEGIN {name} -->\n)(.*?)(<!-- END {name} -->)", re.S)


def render(text: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- BEGIN {name} --> ... <!-- END {name} --> markers")
        body = fn()
        text = pattern.sub(lambda m: m.group(1) + body + m.group(3), text)
    return text


def stale_sections(current: str, new: str) -> list[str]:
    """Names of the generated sections whose README text differs from what the code says now."""
    out = []
    for name in SECTIONS:
        key = COMPARE.get(name, lambda body: body)
        if key(_pattern(name).search(current).group(2)) != key(_pattern(name).search(new).group(2)):
            out.append(name)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    new = render(current)
    if args.check:
        stale = stale_sections(current, new)
        if stale:
            print(f"README.md is out of date ({', '.join(stale)}): run python tools/gen_readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
