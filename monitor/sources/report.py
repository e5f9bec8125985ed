"""What ``monitor sources check`` found, and how it is shown: per-source reports (channels, candidates,
problems, warnings), the table or JSON rendering, and ``--suggest``'s corrected sources file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from monitor.sources.catalogue import Source, source_from_dict
from monitor.sources.render import source_to_toml, table


@dataclass
class Channel:
    """A feed, sitemap or section page of a source, as checked."""

    kind: str                  # feed | sitemap | section
    url: str
    origin: str                # declared | home page | robots.txt | probe | index
    ok: bool = False
    status: int | None = None
    final_url: str | None = None
    entries: int = 0           # feed entries, sitemap <url>s + child <sitemap>s, section links
    problem: str | None = None
    forbidden: bool = False    # robots.txt forbids it to USER_AGENT (not fetched)


@dataclass
class Candidate:
    """An article page tried: where it came from and what extraction made of it."""

    url: str
    via: str                   # feed | sitemap | link
    robots_ok: bool = True
    status: int | None = None
    ok: bool = False
    title: str | None = None
    published: str | None = None
    text_chars: int = 0
    problem: str | None = None


@dataclass
class SourceReport:
    name: str
    url: str
    reachable: bool = False
    home_status: int | None = None
    robots: str = ""           # what robots.txt said: "200", "none (404)", "error: ..."
    robots_ok: bool = True     # home page and all candidates allowed for USER_AGENT
    channels: list[Channel] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    links_rejected: int = 0    # link-found pages that turned out not to be articles
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)   # what makes the source broken
    warnings: list[str] = field(default_factory=list)
    suggested: Source | None = None

    @property
    def broken(self) -> bool:
        return bool(self.problems)

    @property
    def status(self) -> str:
        return "BROKEN" if self.problems else ("warn" if self.warnings else "ok")

    def _count(self, kind: str) -> str:
        mine = [c for c in self.channels if c.kind == kind and c.origin != "index"]
        declared = [c for c in mine if c.origin == "declared"]
        found = [c for c in mine if c.origin != "declared" and c.ok]
        return f"{sum(c.ok for c in declared)}/{len(declared)} +{len(found)}"

    def row(self) -> dict:
        return {
            "source": self.name, "status": self.status, "reachable": "yes" if self.reachable else "NO",
            "feeds": self._count("feed"), "sitemaps": self._count("sitemap"),
            "candidates": len(self.candidates),
            "extracted": f"{sum(c.ok for c in self.candidates)}/{len(self.candidates)}",
            "robots": "ok" if self.robots_ok else "NO", "secs": f"{self.seconds:.1f}",
            "problems": "; ".join(self.problems + self.warnings),
        }

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("suggested")
        d.update(status=self.status, broken=self.broken, seconds=round(self.seconds, 2))
        if self.suggested is not None:
            d["suggested_toml"] = source_to_toml(self.suggested)
        return d


COLUMNS = ["source", "status", "reachable", "feeds", "sitemaps", "candidates", "extracted", "robots", "secs",
           "problems"]


@dataclass
class CheckSummary:
    reports: list[SourceReport]
    seconds: float = 0.0

    @property
    def broken(self) -> list[SourceReport]:
        return [r for r in self.reports if r.broken]

    @property
    def exit_code(self) -> int:
        return 1 if self.broken else 0

    def render(self, fmt: str = "table") -> str:
        if fmt == "json":
            return json.dumps([r.to_dict() for r in self.reports], ensure_ascii=False, indent=2)
        lines = [table([r.row() for r in self.reports], COLUMNS), ""]
        for r in self.reports:
            for p in r.problems:
                lines.append(f"{r.name}: BROKEN: {p}")
            for w in r.warnings:
                lines.append(f"{r.name}: warning: {w}")
        lines.append(f"{len(self.reports)} source(s) checked in {self.seconds:.1f} s: "
                     f"{len(self.reports) - len(self.broken)} ok, {len(self.broken)} broken"
                     + (f" ({', '.join(r.name for r in self.broken)})" if self.broken else ""))
        lines.append("feeds/sitemaps: declared working/declared +discovered working")
        return "\n".join(lines)

    def render_suggestions(self) -> str:
        """A sources file: the report as comments, then one corrected [[source]] entry per source."""
        out = ["# media-monitor: sources as `monitor sources check --suggest` found them", "#"]
        out += ["# " + line if line else "#" for line in self.render("table").splitlines()]
        for r in self.reports:
            out.append("")
            out.append(f"# {r.name}: {r.status}" + (f": {'; '.join(r.problems)}" if r.problems else ""))
            for note in _suggestion_notes(r):
                out.append(f"#   {note}")
            out.append(source_to_toml(r.suggested or _unchanged(r)))
        return "\n".join(out) + "\n"


def _unchanged(r: SourceReport) -> Source:
    return source_from_dict({"name": r.name, "url": r.url})


def _suggestion_notes(r: SourceReport) -> list[str]:
    notes = []
    if r.suggested is None:
        return ["(no suggestion)"]
    before = {c.url for c in r.channels if c.origin == "declared"}
    after = set(r.suggested.feeds) | set(r.suggested.sitemaps) | set(r.suggested.sections)
    for url in sorted(before - after):
        notes.append(f"dropped (failing): {url}")
    for url in sorted(after - before):
        origin = next((c.origin for c in r.channels if url in (c.url, c.final_url)), "")
        notes.append(f"added ({origin or 'found'}): {url}")
    if not r.reachable:
        notes.append("left as it was: the home page failed, so there is nothing to correct it from")
    if any(c.forbidden for c in r.channels) or not r.robots_ok:
        notes.append("robots.txt forbids media-monitor here: ask the site, or disable the source (enabled = false)")
    return notes
