"""Plain-text renderings shared by CLI commands (tables, TOML)."""

from __future__ import annotations

import json


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


def source_to_toml(src) -> str:
    out = ["[[source]]"]
    for key in ("name", "url", "feeds", "sitemaps", "sections", "article_pattern", "language", "tags", "every",
                "description", "allowed_domains", "spider"):
        value = getattr(src, key)
        if value in (None, (), ""):
            continue
        if isinstance(value, tuple):
            value = list(value)
        out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    if not src.enabled:
        out.append("enabled = false")
    return "\n".join(out)


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
