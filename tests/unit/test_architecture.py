"""The house rules of monitor/, checked on the source (docs/design.md explains them).

- No import cycle between modules of the package, lazy imports inside functions included: a cycle is a seam
  that has come loose even when the import order happens to work today.
- Scrapy (and Twisted) only in ``monitor/crawl`` and ``monitor/distributed``: the core stays usable and testable
  without a crawler.
- ``sqlite3`` / ``sqlite_utils`` only in ``monitor/store``: one door to the database.
- No module over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "monitor"
MAX_LINES = 600
# third-party top-level names allowed only below these sub-packages
CONFINED = {
    "scrapy": ("monitor.crawl", "monitor.distributed"),
    "scrapy_redis": ("monitor.crawl", "monitor.distributed"),
    "twisted": ("monitor.crawl", "monitor.distributed"),
    "sqlite3": ("monitor.store",),
    "sqlite_utils": ("monitor.store",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> tuple[set[str], set[str]]:
    """(modules of the package imported, third-party/stdlib top-level names imported), at any depth."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    internal, external = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
            for t in targets:
                if t.split(".")[0] == "monitor":
                    internal.add(_closest(t, known))
                else:
                    external.add(t.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "monitor":
                external.add(mod.split(".")[0])
                continue
            for alias in node.names:   # `from monitor.crawl import extractpool` imports a module
                sub = f"{mod}.{alias.name}"
                internal.add(sub if sub in known else _closest(mod, known))
    internal.discard(name)
    return internal, external


def _closest(dotted: str, known: set[str]) -> str:
    while dotted not in known and "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
    return dotted


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    known = set(modules)
    graph, external = {}, {}
    for name, path in modules.items():
        graph[name], external[name] = _imports(path, name, known)
    return graph, external


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_import_cycle_in_the_package():
    graph, _ = _graph()
    assert find_cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_scrapy_and_sqlite_stay_in_their_rooms():
    _, external = _graph()
    wrong = sorted(f"{module} imports {lib}" for module, libs in external.items() for lib in libs
                   if lib in CONFINED and not any(module == p or module.startswith(p + ".") for p in CONFINED[lib]))
    assert wrong == []


def test_no_module_over_600_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "monitor" / "a"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text("def f():\n    from monitor.a import y\n    import sqlite3\n")
    (pkg / "y.py").write_text("from .x import f\n")
    known = {"monitor.a.x", "monitor.a.y", "monitor.a"}
    internal, external = _imports(pkg / "x.py", "monitor.a.x", known)
    assert internal == {"monitor.a.y"} and external == {"sqlite3"}
    internal, _ = _imports(pkg / "y.py", "monitor.a.y", known)
    assert internal == {"monitor.a.x"}
