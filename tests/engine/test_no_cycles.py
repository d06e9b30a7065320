"""engine/ imports in one direction: no module imports, however indirectly, a module that
imports it. Imports inside functions count too (a function-level import is how a cycle
hides), as do imports made only for type checking."""
from __future__ import annotations

import grimp


def cycles(package: str) -> list[tuple[str, ...]]:
    """Each cycle through a direct import, as the modules along it (first = last)."""
    graph = grimp.build_graph(package)
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                found.append((module, *back))
    return found


def test_the_engine_has_no_import_cycle():
    assert cycles("engine") == []


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    """The check itself: two modules importing each other, one inside a function."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def later():\n    from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("cyclic") == [("cyclic.a", "cyclic.b", "cyclic.a"),
                                ("cyclic.b", "cyclic.a", "cyclic.b")]
