"""The layering contracts hold (``lint-imports``, configured in pyproject.toml), and no module of
workflows or web imports itself back through others (an import inside a function counts).

The acyclic_siblings contract in pyproject.toml compares sibling modules only; the module
check here also sees a package's ``__init__`` (``from web import db`` made every page import
the app factory, which imports every page).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]

# Imports from one engine module to another are part of the cycle check (the engine's last
# cycle, runtime ↔ timers ↔ notifications ↔ writer, went with the redesign of issue 22).
CHECK_ENGINE_CYCLES = True

CYCLE_EXEMPT_IMPORTS: frozenset[tuple[str, str]] = frozenset()  # none left


def _lint_imports() -> list[str]:
    script = Path(sys.executable).with_name("lint-imports")
    if script.exists():
        return [str(script), "--no-cache"]
    return [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())", "--no-cache"]


def test_import_contracts_are_kept():
    done = subprocess.run(_lint_imports(), cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"lint-imports exited {done.returncode}:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


def _cycles(graph: grimp.ImportGraph, modules: set[str],
            exempt: frozenset[tuple[str, str]], *, engine: bool = True) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm, iterative),
    leaving out the ``exempt`` imports and, unless ``engine``, engine-to-engine imports."""
    def counted(importer: str, imported: str) -> bool:
        if (importer, imported) in exempt:
            return False
        return engine or not (_in_engine(importer) and _in_engine(imported))

    edges = {m: sorted(w for w in graph.find_modules_directly_imported_by(m)
                       if w in modules and counted(m, w)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            for i in range(position, len(edges[module])):
                target = edges[module][i]
                if target not in index:
                    work.append((module, i + 1))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    low[module] = min(low[module], index[target])
            else:
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
    return groups


def _describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    lines = [" <-> ".join(group)]
    for importer in group:
        for imported in group:
            if imported != importer and graph.direct_import_exists(importer=importer,
                                                                   imported=imported):
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    lines.append(f"    {importer}:{detail['line_number']} "
                                 f"{detail['line_contents']}")
    return "\n".join(lines)


def _in_engine(module: str) -> bool:
    return module == "engine" or module.startswith("engine.")


def test_no_import_cycles_among_modules():
    packages = ("engine", "workflows", "web")
    graph = grimp.build_graph(*packages, cache_dir=None)
    modules = {m for m in graph.modules if m.split(".")[0] in packages}
    cycles = _cycles(graph, modules, CYCLE_EXEMPT_IMPORTS, engine=CHECK_ENGINE_CYCLES)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_the_cycle_check_sees_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b", line_number=1, line_contents="import p.b")
    graph.add_import(importer="p.b", imported="p.c", line_number=5,
                     line_contents="from . import c  # inside a function")
    graph.add_import(importer="p.c", imported="p.a", line_number=2, line_contents="import p.a")
    graph.add_import(importer="p.a", imported="p", line_number=3, line_contents="import p")
    assert _cycles(graph, set(graph.modules), frozenset()) == [["p.a", "p.b", "p.c"]]
    assert _cycles(graph, set(graph.modules), frozenset({("p.c", "p.a")})) == []


def test_the_cycle_check_leaves_out_only_imports_inside_the_engine_when_asked():
    graph = grimp.ImportGraph()
    for module in ("engine", "engine.a", "engine.b", "web", "web.c"):
        graph.add_module(module)
    graph.add_import(importer="engine.a", imported="engine.b")
    graph.add_import(importer="engine.b", imported="engine.a")
    assert _cycles(graph, set(graph.modules), frozenset()) == [["engine.a", "engine.b"]]
    assert _cycles(graph, set(graph.modules), frozenset(), engine=False) == []
    graph.add_import(importer="engine.b", imported="web.c")
    graph.add_import(importer="web.c", imported="engine.b")
    assert _cycles(graph, set(graph.modules), frozenset(), engine=False) == [["engine.b", "web.c"]]
