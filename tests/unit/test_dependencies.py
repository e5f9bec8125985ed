"""pyproject.toml says what the code needs: every third-party import is declared, every declaration is used.

A package that is installed only because another one pulls it in (numpy through datasketch, tld through
courlan) disappears the day that package drops it; a declared package nothing imports is dead weight that
pins versions for nothing.  The few declarations that are used without an import say why in pyproject.toml
and are listed in NOT_IMPORTED below.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import lru_cache
from importlib import metadata

from tests.support.helpers import REPO_ROOT

# declared, used, but not through an import of ours
NOT_IMPORTED = {
    "lxml_html_clean": "trafilatura imports lxml.html.clean, which lxml 6 moved into this package",
    "pytest-timeout": "the `timeout` option in [tool.pytest.ini_options]",
    "scrapyd": "a real Scrapyd server started by tests/test_scrapyd.py",
    "scrapyd-client": "its scrapyd-deploy command, run by tests/test_scrapyd.py",
}
# the project's own top-level names (spiders/ is installed as monitor_spiders), and the scripts of tools/ and
# benchmarks/ that import each other
LOCAL = {"monitor", "monitor_spiders", "spiders", "tests", "tools", "benchmarks",
         *(p.stem for folder in ("tools", "benchmarks") for p in (REPO_ROOT / folder).glob("*.py"))}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _norm(re.split(r"[\s<>=!~;\[(]", req.strip(), maxsplit=1)[0])


def _project() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _imports(*folders: str) -> dict[str, set[str]]:
    """Top-level third-party module name -> files importing it."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (REPO_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in LOCAL:
                        found.setdefault(top, set()).add(str(path.relative_to(REPO_ROOT)))
    return found


@lru_cache(maxsize=1)
def _installed() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    return {_norm(d) for d in _installed().get(module, [module])}


def _undeclared(imports: dict[str, set[str]], declared: set[str]) -> dict[str, list[str]]:
    return {mod: sorted(files) for mod, files in imports.items() if not _distributions(mod) & declared}


def test_runtime_imports_are_declared():
    project = _project()
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for extra in ("serve", "distributed", "charts", "browser"):   # imported lazily, by the commands that need them
        declared |= {_requirement_name(r) for r in project["optional-dependencies"][extra]}
    assert _undeclared(_imports("monitor", "spiders"), declared) == {}


def test_test_and_benchmark_imports_are_declared():
    project = _project()
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for reqs in project["optional-dependencies"].values():
        declared |= {_requirement_name(r) for r in reqs}
    assert _undeclared(_imports("tests", "benchmarks", "tools"), declared) == {}


def test_every_declared_package_is_used():
    project = _project()
    used = {d for mod in _imports("monitor", "spiders", "tests", "benchmarks", "tools") for d in _distributions(mod)}
    allowed = {_norm(name) for name in NOT_IMPORTED}
    unused = []
    for group, reqs in [("dependencies", project["dependencies"]), *project["optional-dependencies"].items()]:
        for req in reqs:
            name = _requirement_name(req)
            if name not in used and name not in allowed:
                unused.append(f"{group}: {name}")
    assert unused == []


def test_the_checks_see_a_missing_and_an_unused_declaration():
    """The helpers above would catch the two mistakes this file guards against."""
    imports = {"numpy": {"monitor/dedup/fingerprints.py"}, "click": {"monitor/cli.py"}}
    assert _undeclared(imports, {"click"}) == {"numpy": ["monitor/dedup/fingerprints.py"]}
    assert _requirement_name("sqlite-utils>=4.1,<5") == "sqlite-utils"
    assert _requirement_name("lxml_html_clean>=0.4") == "lxml-html-clean"
