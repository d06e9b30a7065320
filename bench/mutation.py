"""`make mutate`: mutation testing of the guard modules, and its table in bench/MUTATION.md.

Why: the code that keeps children's data and the server safe (the expression sandbox, the
XML defences, small-number suppression) and the code that sets due dates must be guarded
by tests that fail when it changes. mutmut changes one thing at a time in those modules
(the list and the tests it runs are under [tool.mutmut] in pyproject.toml) and runs the
tests that call the changed function; a change no test notices "survives".

A surviving change that cannot alter behaviour (equivalent) is named, with why, in
bench/mutation_equivalents.toml; the table counts it apart, so the score is the share of
the other mutants the tests kill. Run it in a clone or a tree you own: mutmut writes its
copy and its results under mutants/.

    python -m bench.mutation                         # every guard module
    python -m bench.mutation engine.xml_safety ...   # only these modules (the table keeps the
                                                     # last figures of the others)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "bench" / "mutation_equivalents.toml"
TABLE = ROOT / "bench" / "MUTATION.md"
# mutmut's exit codes of a mutant's test run (mutmut/stats.py): 1 and 3 are failures, a
# timeout means the change made the tests hang, which they notice too.
KILLED = {1, 3, 36, -24, 24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class ModuleResult:
    module: str
    mutants: int = 0
    killed: int = 0
    equivalent: dict[str, str] = field(default_factory=dict)
    surviving: list[str] = field(default_factory=list)  # neither killed nor equivalent
    not_run: int = 0

    @property
    def score(self) -> float | None:
        judged = self.killed + len(self.surviving)
        return None if judged == 0 else self.killed / judged


def guard_modules() -> list[str]:
    """The modules mutmut may change, as dotted names (pyproject.toml's only_mutate)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return [path.removesuffix(".py").replace("/", ".") for path in config["only_mutate"]]


def equivalents() -> dict[str, str]:
    return {name: entry["why"] for name, entry in
            tomllib.loads(EQUIVALENTS.read_text()).items()} if EQUIVALENTS.exists() else {}


def results(module: str, known_equivalents: dict[str, str]) -> ModuleResult | None:
    meta = ROOT / "mutants" / (module.replace(".", "/") + ".py.meta")
    if not meta.exists():
        return None
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    result = ModuleResult(module, mutants=len(codes))
    for name, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
        if code in KILLED:
            result.killed += 1
        elif code is None:
            result.not_run += 1
        elif name in known_equivalents:
            result.equivalent[name] = known_equivalents[name]
        else:
            result.surviving.append(name + (" (no test calls it)" if code in NO_TESTS else ""))
    return result


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("_")
    return stem, int(number) if number.isdigit() else 0


def previous_rows() -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """The table's rows, each module's list of survivors and the notes written by hand
    between the table and the lists, from an earlier run, so a run over some modules keeps
    what was found for the others and what was said about the runs."""
    rows: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    notes: list[str] = []
    current, after_table = None, False
    for line in (TABLE.read_text().splitlines() if TABLE.exists() else []):
        if line.startswith("| `"):
            rows[line.strip("|").split("|")[0].strip().strip("`")] = line
            after_table = True
        elif line.startswith("## `"):
            current = line.removeprefix("## `").rstrip("`")
            sections[current] = []
        elif current and line.startswith("- "):
            sections[current].append(line)
        elif after_table and current is None:
            notes.append(line)
    return rows, sections, notes


def row(result: ModuleResult, when: str) -> str:
    score = "–" if result.score is None else f"{result.score:.0%}"
    return (f"| `{result.module}` | {result.mutants} | {result.killed} | {len(result.equivalent)} "
            f"| {len(result.surviving)} | {result.not_run} | {score} | {when} |")


def write_table(measured: list[ModuleResult], modules: list[str], took: float | None) -> None:
    when = time.strftime("%Y-%m-%d", time.gmtime())
    rows, sections, notes = previous_rows()
    for result in measured:
        rows[result.module] = row(result, when)
        sections[result.module] = (
            [f"- equivalent `{name}`: {why}" for name, why in result.equivalent.items()] +
            [f"- surviving `{name}` (see `mutmut show {name.split()[0]}`)" for name in result.surviving])
    lines = [
        "# Mutation testing of the guard modules",
        "",
        f"- **Command**: `make mutate` (`python -m bench.mutation`), mutmut "
        f"{version('mutmut')}; "
        + (f"last run took {took:.0f} s over " if took is not None else
           "last written from mutmut's results under mutants/ for ")
        + f"{', '.join(r.module for r in measured) or 'no module'}.",
        "- **Score** = killed / (mutants − equivalent − not run). Killed counts a test "
        "failure or a timeout. Equivalent: a change that cannot alter what the module does, "
        "named below with why (bench/mutation_equivalents.toml).",
        "- Which tests run: `[tool.mutmut]` in pyproject.toml; mutmut runs those that call "
        "the changed function.",
        "- mutmut changes code inside functions only: module-level tables and limits "
        "(engine/xml_safety.PARSER_OPTIONS, the bounds in engine/expressions.py, RUNS_TABLE) "
        "are not counted here; tests pin them (tests/unit/test_xml_defences.py turns each "
        "parser option on its own, tests/unit/test_expression_refusals.py tries each bound at "
        "its limit, tests/unit/test_run_chart_guards.py each runs-table entry).",
        "",
        "| Module | Mutants | Killed | Equivalent | Surviving | Not run | Score | Measured |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [rows.get(module, f"| `{module}` | – | – | – | – | – | not measured | |")
              for module in modules]
    while notes and not notes[-1].strip():
        notes.pop()
    lines += notes
    for module in modules:
        if sections.get(module):
            lines += ["", f"## `{module}`", ""] + sections[module]
    TABLE.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="dotted module names (default: all guard modules)")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--table-only", action="store_true",
                        help="write the table from the results of the last run")
    args = parser.parse_args(argv)
    modules = guard_modules()
    chosen = args.modules or modules
    unknown = sorted(set(chosen) - set(modules))
    if unknown:
        parser.error(f"not a guard module (pyproject.toml [tool.mutmut] only_mutate): {unknown}")
    started = time.monotonic()
    if not args.table_only:
        globs = [] if not args.modules else [f"{module}.*" for module in chosen]
        subprocess.run([sys.executable, "-m", "mutmut", "run",
                        "--max-children", str(args.max_children), *globs], cwd=ROOT, check=True)
    known = equivalents()
    measured = [r for r in (results(module, known) for module in chosen) if r is not None]
    write_table(measured, modules, None if args.table_only else time.monotonic() - started)
    for result in measured:
        print(row(result, "now"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
