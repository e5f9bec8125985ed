"""Extraction quality on real pages with human-checked ground truth: monitor vs plain trafilatura, AEB and
fundus side by side.

    python benchmarks/extraction_quality.py [--set aeb|fundus|both] [--limit N] [--worst K]

Per corpus (``../shared/corpus``: AEB, 181 pages; fundus, 258 pages of ~180 publishers in 41 countries):

- text: mean token precision, recall and F1 (lower-cased ``\\w+`` tokens as multisets, averaged over pages; a
  rejected page scores 0) and milliseconds per page, CPU (``time.process_time``: what another process on the
  machine takes counts less) and wall, of ``monitor.extract.extract_article``,
  ``trafilatura.extract(html, url=url, include_comments=False)`` and the same with ``favor_precision=True``.
  The three alternate page by page (and take turns going first), so cache effects and a busy machine touch
  them alike and the time ratios hold;
- rejections by reason: as a feed/sitemap page (the timed run) and as a link-followed page
  (``require_article_signals=True``, untimed); every page of both corpora is an article;
- titles: fundus, exact match with the expected title after normalising spaces, quotes, dashes, soft hyphens
  (monitor, and trafilatura's own metadata title for reference); AEB has no title ground truth: how often the
  title monitor chose agrees with the page's ``<h1>`` and with its ``<title>`` (whole, or one end of it).

All systems get the same decoded HTML. Needs ``../shared/corpus``; without it, says so and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.corpus import AEB, FUNDUS, aeb_pages, fundus_pages, norm_title, token_prf  # noqa: E402

MONITOR, PLAIN, PRECISION = "monitor extract_article", "trafilatura (comments off)", "trafilatura favor_precision"


def _monitor(html: str, url: str):
    from monitor.extract import extract_article

    return extract_article(html, url)


def _plain(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def _precision(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False, favor_precision=True) or ""


SYSTEMS = {MONITOR: _monitor, PLAIN: _plain, PRECISION: _precision}


def load(which: str, limit: int) -> list[tuple[str, str, str, str, str | None]]:
    """(id, url, html, expected text, expected title or None)."""
    if which == "aeb":
        pages = [(pid, url, html, truth, None) for pid, url, html, truth in aeb_pages()]
    else:
        pages = list(fundus_pages())
    return pages[: limit or None]


def measure(pages) -> dict:
    from monitor.extract import Article

    scores = {name: [] for name in SYSTEMS}
    seconds = dict.fromkeys(SYSTEMS, 0.0)
    wall = dict.fromkeys(SYSTEMS, 0.0)
    results = []
    names = list(SYSTEMS)
    for i, (_pid, url, html, truth, _title) in enumerate(pages):
        for name in names[i % 3:] + names[:i % 3]:   # who goes first (cold caches) rotates too
            fn = SYSTEMS[name]
            start, start_wall = time.process_time(), time.perf_counter()
            out = fn(html, url)
            seconds[name] += time.process_time() - start
            wall[name] += time.perf_counter() - start_wall
            if name == MONITOR:
                results.append(out)
                out = out.text if isinstance(out, Article) else ""
            scores[name].append(token_prf(out, truth))
    return {"scores": scores, "seconds": seconds, "wall": wall, "results": results}


def checks(pages, results) -> dict:
    """Untimed: link-followed rejections, title accuracy (fundus) or agreement (AEB)."""
    from trafilatura import bare_extraction

    from monitor.extract import Article, extract_article, markup
    from monitor.extract.titles import key

    strict = Counter()
    titles = Counter()
    for (_pid, url, html, _truth, want), result in zip(pages, results):
        linked = extract_article(html, url, require_article_signals=True)
        if not isinstance(linked, Article):
            strict[linked.reason.value] += 1
        got = result.title if isinstance(result, Article) else None
        if want is not None:
            titles["pages"] += 1
            titles["monitor"] += norm_title(got) == norm_title(want)
            doc = bare_extraction(html, url=url, include_comments=False, with_metadata=True)
            titles["trafilatura"] += norm_title(getattr(doc, "title", None)) == norm_title(want)
            titles["oracle"] += norm_title(want) in {norm_title(c) for c in _title_candidates(html, url)}
        else:
            tree = markup.parse_html(html)
            h1s = {key(h.text_content()) for h in tree.iter("h1")}
            page_title = next((key(t.text_content()) for t in tree.iter("title")), "")
            titles["pages"] += 1
            titles["h1"] += key(got) in h1s
            ends = got and page_title and (page_title == key(got) or page_title.startswith(key(got) + " ")
                                           or page_title.endswith(" " + key(got)))
            titles["title"] += bool(ends)
            titles["both"] += bool(ends) and key(got) in h1s
    return {"strict": strict, "titles": titles}


def _title_candidates(html: str, url: str) -> list[str]:
    """Every title the page offers (og, JSON-LD, h1s, twitter, <title>), as found and without site names."""
    from monitor.extract import markup, titles
    from monitor.extract.prune import strip_markup

    tree = markup.parse_html(strip_markup(html))
    if tree is None:
        return []
    found = markup.page_facts(tree, url)[1]["titles"]
    site = titles._Site(found.site_names, found.host, (found.og, found.title, *found.jsonld, *found.h1))
    raw = [found.og, found.twitter, found.title, *found.jsonld, *found.h1, *found.h1_outside]
    return [t for value in raw if value for t in (value, titles.strip_site(value, site))]


def report(name: str, where: Path, pages, run: dict, check: dict, worst: int) -> None:
    from monitor.extract import Article

    n = len(pages)
    print(f"\n{name}: {n} pages ({where})")
    print(f"  {'system':<30} {'precision':>9} {'recall':>7} {'F1':>7} {'CPU ms/page':>12} {'wall ms/page':>13}")
    means = {}
    for system, scores in run["scores"].items():
        p, r, f = (sum(s[i] for s in scores) / n for i in range(3))
        means[system] = (p, r, f, run["seconds"][system] / n * 1000, run["wall"][system] / n * 1000)
        print(f"  {system:<30} {p:>9.4f} {r:>7.4f} {f:>7.4f} {means[system][3]:>12.1f} {means[system][4]:>13.1f}")
    mf, mt, mw = means[MONITOR][2], means[MONITOR][3], means[MONITOR][4]
    for other in (PLAIN, PRECISION):
        print(f"  monitor / {other:<20} F1 {mf - means[other][2]:+.4f}   CPU time x{mt / means[other][3]:.2f}"
              f"   wall time x{mw / means[other][4]:.2f}")
    rejected = Counter(r.reason.value for r in run["results"] if not isinstance(r, Article))
    print(f"  rejected (feed/sitemap page): {sum(rejected.values())} of {n} ({sum(rejected.values()) / n:.1%})"
          f" {dict(rejected) or ''}")
    strict = check["strict"]
    print(f"  rejected (link-followed page): {sum(strict.values())} of {n} ({sum(strict.values()) / n:.1%})"
          f" {dict(strict) or ''}")
    t = check["titles"]
    if "monitor" in t:
        print(f"  titles exact (normalised): monitor {t['monitor'] / t['pages']:.3f}, "
              f"trafilatura metadata {t['trafilatura'] / t['pages']:.3f}; the expected title is one of the "
              f"page's candidates on {t['oracle'] / t['pages']:.3f}")
    else:
        print(f"  title agrees with an <h1> {t['h1'] / t['pages']:.3f}, with <title> (whole or one end) "
              f"{t['title'] / t['pages']:.3f}, with both {t['both'] / t['pages']:.3f}")
    if worst:
        ranked = sorted(zip(run["scores"][MONITOR], run["scores"][PLAIN], pages), key=lambda x: x[0][2] - x[1][2])
        print(f"  worst {worst} pages for monitor against plain trafilatura (F1 monitor, plain; id):")
        for mine, plain, page in ranked[:worst]:
            print(f"    {mine[2]:.3f} {plain[2]:.3f} {page[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("aeb", "fundus", "both"), default="both", help="which corpus (default both)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages of each corpus (0 = all)")
    parser.add_argument("--worst", type=int, default=0, help="also list the K pages where monitor loses most")
    args = parser.parse_args(argv)
    wanted = {"aeb": (AEB / "ground-truth.json", AEB), "fundus": (FUNDUS / "index.jsonl", FUNDUS)}
    if args.set != "both":
        wanted = {args.set: wanted[args.set]}
    missing = [name for name, (marker, _) in wanted.items() if not marker.is_file()]
    if missing:
        print(f"corpus not found ({', '.join(missing)}) under {AEB.parent}: nothing to measure "
              "(it lives in ../shared/corpus beside the repo).")
        return 0
    logging.disable(logging.WARNING)  # trafilatura logs a line for every page it finds odd
    import os

    import trafilatura

    print(f"trafilatura {trafilatura.__version__}; load average {os.getloadavg()[0]:.2f} at the start "
          "(CPU time is measured: another process's load matters less than for wall time)")

    for name, (_marker, where) in wanted.items():
        pages = load(name, args.limit)
        for fn in SYSTEMS.values():  # warm up: imports, language model
            fn(pages[0][2], pages[0][1])
        run = measure(pages)
        report(name.upper() if name == "aeb" else name, where, pages, run, checks(pages, run["results"]), args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
