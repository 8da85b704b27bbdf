"""The package layout's rules, checked on the source (docs/architecture.md explains them).

Imports are read with ``ast`` (module-level and inside functions alike, since a lazy
import is still a dependency), never executed, so the checks are fast and see the whole
tree:

* no import cycle between modules;
* the one-way order of the packages: a group may import only groups on a lower level;
* no flat modules in ``gis_core/`` beyond ``__init__.py`` and ``paths.py``;
* no source module over ``MAX_LINES`` lines (and no console script either), pure data
  tables aside.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gis_core", "api", "layers")
MAX_LINES = 600
MAX_JS_LINES = 600

LEVELS: dict[str, int] = {
    "gis_core.paths": 0,
    "gis_core": 10,  # the facade (gis_core/__init__.py) re-exports spatial names only
    "gis_core.standards": 0,
    "gis_core.spatial": 10,
    "gis_core.cases": 10,
    "gis_core.storage": 20,
    "gis_core.boundaries": 30,
    "gis_core.batch": 30,
    "gis_core.auth": 30,
    "gis_core.catalogue": 35,  # matter catalogue: events check closure standards against it
    "gis_core.events": 40,
    "gis_core.analytics": 45,  # statistics over events; vital signs raise events
    "gis_core.planning": 45,  # drafts, validation, impact, activation of generations
    "gis_core.integrations": 45,  # devices, MQTT, hotline platforms, outbox delivery
    "gis_core.field": 45,  # tracks, coverage, rotation, spot checks, volunteers
    "gis_core.sample_data": 50,
    "gis_core.reports": 55,  # area health reports: read analytics and events
    "gis_core.cli": 60,
    "layers": 70,
    "api": 80,
}
"""Level of each group: a module may import modules of its own group and of groups on a
lower level, never a higher one. Groups sharing a level may not import each other. Levels
step by ten so a new group can sit between two (e.g. 45: reads events, read by sample data)."""

ALLOWED_SAME_LEVEL: frozenset[tuple[str, str]] = frozenset(
    {("gis_core", "gis_core.spatial")}  # the facade re-exports GridIndex, Locator, read_layer
)
"""(importer group, imported group) pairs on one level that are allowed anyway."""

FLAT_ALLOWED = {"__init__.py", "paths.py"}

LONG_ALLOWED: dict[str, str] = {
    # Pure data tables (no logic to split): path -> why it may be long.
}

SKIP_DIRS = {"__pycache__", "migrations"}
"""Migrations are a history, never imported by the code: not checked for size or order."""


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIP_DIRS.isdisjoint(path.relative_to(ROOT).parts):
                yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in _source_files()}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import refers to (a package means its __init__), or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            # `from pkg import sub` imports the module pkg.sub; `from pkg import name`, pkg.
            subs = [f"{prefix}.{alias.name}" for alias in node.names]
            names = [n for n in subs if n in modules]
            if len(names) < len(subs):
                names.append(prefix)
        for name in names:
            target = _resolve(name, modules)
            if target and target != module:
                found.add(target)
    return found


@lru_cache(maxsize=1)
def _graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    return {m: frozenset(_imports(m, p, modules)) for m, p in modules.items()}


def _group(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "gis_core":
        return ".".join(parts[:2])  # "gis_core" alone: the facade, gis_core/__init__.py
    return parts[0]


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def import_cycles() -> list[list[str]]:
    return _cycles(dict(_graph()))


def order_violations() -> list[str]:
    """'importer -> imported (group level -> group level)' for every forbidden import."""
    bad = []
    for module, targets in sorted(_graph().items()):
        src = _group(module)
        for target in sorted(targets):
            dst = _group(target)
            if dst == src:
                continue
            a, b = LEVELS[src], LEVELS[dst]
            if a < b or (a == b and (src, dst) not in ALLOWED_SAME_LEVEL):
                bad.append(f"{module} -> {target} ({src} level {a} -> {dst} level {b})")
    return bad


def long_modules() -> list[str]:
    out = []
    for path in _source_files():
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in LONG_ALLOWED:
            out.append(f"{rel}: {n} lines")
    for path in sorted((ROOT / "web" / "src").glob("*.js")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_JS_LINES:
            out.append(f"{path.relative_to(ROOT).as_posix()}: {n} lines")
    return out


def test_every_group_has_a_level() -> None:
    groups = {_group(m) for m in _modules()}
    assert groups <= set(LEVELS), f"packages without a level: {sorted(groups - set(LEVELS))}"


def test_the_graph_sees_function_level_imports() -> None:
    # api.routers.console imports gis_core.cases.vocab inside a function.
    assert any(t.startswith("gis_core.") for t in _graph()["api.routers.console"])


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles between modules:\n" + "\n".join(
        "  " + " <-> ".join(c) for c in cycles
    )


def test_one_way_package_order() -> None:
    bad = order_violations()
    assert not bad, "imports against the package order (docs/architecture.md):\n  " + "\n  ".join(
        bad
    )


def test_no_flat_modules_in_gis_core() -> None:
    flat = sorted(p.name for p in (ROOT / "gis_core").glob("*.py") if p.name not in FLAT_ALLOWED)
    assert not flat, f"flat modules in gis_core/ (give each a subpackage): {flat}"


def test_no_long_modules() -> None:
    long = long_modules()
    assert not long, f"modules over {MAX_LINES} lines (split them by job):\n  " + "\n  ".join(long)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("gis_core.spatial.locator", "gis_core.spatial.grid_index"),
        ("gis_core.spatial.locator", "gis_core.standards.codes"),
    ],
)
def test_relative_and_absolute_imports_resolve(module: str, expected: str) -> None:
    assert expected in _graph()[module]
