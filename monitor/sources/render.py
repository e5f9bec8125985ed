"""Plain-text renderings shared by CLI commands (tables, TOML)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping


def table(rows: list[dict], columns: list[str]) -> str:
    """A simple aligned text table."""
    widths = {c: max([len(c), *(len(str(r.get(c, "") if r.get(c) is not None else "")) for r in rows)])
              for c in columns}
    widths = {c: min(w, 60) for c, w in widths.items()}

    def cell(v, c):
        s = "" if v is None else str(v)
        return (s if len(s) <= widths[c] else s[: widths[c] - 1] + "…").ljust(widths[c])

    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip(),
             "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(cell(r.get(c), c) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)


SOURCE_KEYS = ("name", "url", "feeds", "sitemaps", "sections", "article_pattern", "language", "tags", "every",
               "description", "allowed_domains", "spider")


def source_table(entry: Mapping) -> str:
    """One ``[[source]]`` table, keys in the mapping's order.  Values are strings, numbers, booleans or lists
    (tuples) of them, written as JSON, which is valid TOML for these."""
    lines = ["[[source]]"]
    for key, value in entry.items():
        lines.append(f"{key} = {json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)}")
    return "\n".join(lines)


def sources_toml(entries: Iterable[Mapping]) -> str:
    """A sources file: one ``[[source]]`` table per entry, each followed by a blank line."""
    return "\n".join(part for entry in entries for part in (source_table(entry), ""))


def source_to_toml(src) -> str:
    """A ``Source`` as its ``[[source]]`` table: the fields that differ from the defaults."""
    entry = {key: getattr(src, key) for key in SOURCE_KEYS if getattr(src, key) not in (None, (), "")}
    if getattr(src, "render", "http") != "http":
        entry["render"] = src.render
    if not src.enabled:
        entry["enabled"] = False
    return source_table(entry)


def render_sources(sources, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps([{k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(s).items()}
                           for s in sources], ensure_ascii=False, indent=2)
    if fmt == "toml":
        return "\n\n".join(source_to_toml(s) for s in sources)
    rows = [{"name": s.name, "language": s.language or "", "tags": ",".join(s.tags),
             "discovers": ", ".join(x for x, present in (("feeds", s.feeds), ("sitemaps", s.sitemaps),
                                                         ("sections", s.sections)) if present) or "auto",
             "url": s.url} for s in sources]
    return table(rows, ["name", "language", "tags", "discovers", "url"]) + f"\n{len(sources)} source(s)"
