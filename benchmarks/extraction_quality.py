"""Extraction quality on the Article Extraction Benchmark pages: monitor vs plain trafilatura.

    python benchmarks/extraction_quality.py [--limit N] [--worst K]

Prints, per system, mean token precision, recall and F1 (lower-cased ``\\w+`` tokens as multisets,
averaged over pages; a rejected page scores 0) and milliseconds per page, then the ratios.
Both systems get the same decoded HTML. Needs ``../shared/corpus``; without it, says so and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.corpus import AEB, aeb_pages, token_prf  # noqa: E402


def _monitor(html: str, url: str) -> str:
    from monitor.extract import Article, extract_article

    result = extract_article(html, url)
    return result.text if isinstance(result, Article) else ""


def _plain(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


SYSTEMS = {"monitor.extract.extract_article": _monitor, "trafilatura.extract (defaults)": _plain}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages (0 = all)")
    parser.add_argument("--worst", type=int, default=0, help="also list the K pages where monitor scores lowest")
    args = parser.parse_args(argv)
    if not (AEB / "ground-truth.json").is_file():
        print(f"AEB corpus not found at {AEB}: nothing to measure (it lives in ../shared/corpus beside the repo).")
        return 0
    logging.disable(logging.WARNING)  # trafilatura logs a line for every page it finds odd

    pages = list(aeb_pages())[: args.limit or None]
    for fn in SYSTEMS.values():  # warm up: imports, language model
        fn(pages[0][2], pages[0][1])

    # Systems alternate page by page, so a busy machine slows both alike and the time ratio holds.
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SYSTEMS}
    seconds = dict.fromkeys(SYSTEMS, 0.0)
    for _page_id, url, html, truth in pages:
        for name, fn in SYSTEMS.items():
            start = time.perf_counter()
            text = fn(html, url)
            seconds[name] += time.perf_counter() - start
            results[name].append(token_prf(text, truth))

    n = len(pages)
    print(f"AEB token scores, {n} pages ({AEB})")
    print(f"{'system':<38} {'precision':>9} {'recall':>7} {'F1':>7} {'ms/page':>8}")
    means = {}
    for name, scores in results.items():
        p, r, f = (sum(s[i] for s in scores) / n for i in range(3))
        means[name] = (p, r, f, seconds[name] / n * 1000)
        print(f"{name:<38} {p:>9.4f} {r:>7.4f} {f:>7.4f} {means[name][3]:>8.1f}")
    (mp, mr, mf, mt), (pp, pr, pf, pt) = means.values()
    print(f"{'ratio monitor / plain':<38} {mp / pp:>9.3f} {mr / pr:>7.3f} {mf / pf:>7.3f} {mt / pt:>8.2f}")

    if args.worst:
        ranked = sorted(zip(results["monitor.extract.extract_article"], pages), key=lambda x: x[0][2])
        print(f"\nworst {args.worst} pages for monitor (precision recall F1 url):")
        for (p, r, f), (_pid, url, _html, _truth) in ranked[: args.worst]:
            print(f"  {p:.3f} {r:.3f} {f:.3f} {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
