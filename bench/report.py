"""Write bench/RESULTS.md: machine, date, command, the figures, the profile."""
from __future__ import annotations

import shlex
from datetime import datetime, timezone
from pathlib import Path

from . import common


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write(path: Path, ctx: common.Context, args, argv, elapsed: float, load_before: str,
          profile: dict | None) -> None:
    info = common.machine()
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None else
                                                                       __import__("sys").argv[1:]))
    lines = [
        "# Benchmark results",
        "",
        f"- **Date**: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; took {elapsed:.0f} s",
        f"- **Command**: `{command.strip()}` ({'quick' if args.quick else 'full'} run; "
        f"benchmarks: {', '.join(args.only)}; backends: {', '.join(ctx.backends)})",
        f"- **Machine**: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, {info['platform']}",
        f"- **Software**: Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL "
        f"{info['postgresql']}, SQLAlchemy {info['sqlalchemy']}, SpiffWorkflow {info['spiffworkflow']}; "
        f"commit {info['commit']}",
        f"- **Load average** before: {load_before}; after: {common.load()}. Every ratio's "
        "baseline ran in the same process under the same load: the completion's in turns "
        "with the full stack, the others minutes apart.",
        f"- The caseload's \"today\" is {common.TODAY.isoformat()} (fixed, so runs compare).",
        "",
        "| Benchmark | Figure | Value | Baseline | Ratio | Target | Met | Notes |",
        "|---|---|---:|---|---:|---|---|---|",
    ]
    for f in ctx.figures:
        value = "—" if f.value is None else f"{common.fmt(f.value)} {f.unit}"
        base = f"{f.baseline_name}: {common.fmt(f.baseline)} {f.unit}" if f.baseline is not None else ""
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[f.met]
        lines.append("| " + " | ".join(_cell(x) for x in (f.bench, f.name, value, base, ratio,
                                                          f.target, met, f.note)) + " |")
    if ctx.notes:
        lines += ["", "## Notes", ""] + [f"- {_cell(n)}" for n in ctx.notes]
    if profile:
        lines += ["", "## Profile of a full-stack completion (cProfile, ms per completion)", "",
                  "cProfile inflates every figure (about 2–3×); read the shares, not the totals. "
                  "Rows are cumulative and nest (indented rows are inside the row above).", ""]
        backends = list(profile)
        lines.append("| Phase | " + " | ".join(backends) + " |")
        lines.append("|---|" + "---:|" * len(backends))
        labels = [label for label, _ in profile[backends[0]][0]]
        for n, label in enumerate(labels):
            cells = [f"{profile[b][0][n][1]:.2f}" for b in backends]
            lines.append(f"| {_cell(label).replace('  ', '&nbsp;&nbsp;')} | " + " | ".join(cells) + " |")
        for backend in backends:
            lines += ["", f"<details><summary>Top functions by own time, {backend}</summary>", "",
                      "```", profile[backend][1].strip(), "```", "", "</details>"]
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
