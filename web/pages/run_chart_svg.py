"""A run chart as a standalone SVG file (for reports; the page draws it with Chart.js).

As on the page: the x axis is the calendar (``run_charts.calendar``), so a month with no
point is a gap in the line, not a closed-up step; a point resting on fewer than ``few``
children is drawn hollow and its tooltip says how many; every text is at least 16 px.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from workflows.measures import run_charts
from workflows.measures.run_charts import RunChart

WIDTH, HEIGHT = 960, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 60, 100
FONT = 16


def render(chart: RunChart, title: str, subtitle: str = "",
           few: int = run_charts.FEW_CHILDREN) -> str:
    months = run_charts.calendar(chart.points)
    n = len(months)
    position = {month: slot for slot, (month, _) in enumerate(months)}
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(slot: float) -> float:
        return LEFT + (plot_w * (slot + 0.5) / n if n else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    flagged = {i for i in range(len(chart.points)) if chart.signals_at(i)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Arial, sans-serif" '
           f'font-size="{FONT}" role="img" aria-label="{escape(title)}">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="22" font-size="19" font-weight="bold">{escape(title)}</text>',
           f'<text x="{LEFT}" y="44" fill="#505a5f">{escape(subtitle)}</text>']
    for tick in range(0, 101, 20):
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="#e5e5e5"/><text x="{LEFT - 8}" y="{y(tick) + 5:.1f}" '
                   f'text-anchor="end">{tick}%</text>')
    every = max(1, -(-n // 24))  # at most 24 month labels, so 16 px text does not overlap
    for slot, (month, _) in enumerate(months):
        if slot % every:
            continue
        out.append(f'<text x="{x(slot):.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="end" '
                   f'transform="rotate(-45 {x(slot):.1f} {HEIGHT - BOTTOM + 20})">'
                   f'{month:%b %Y}</text>')
    for number, note in enumerate(chart.annotations, start=1):
        slot = position.get(note.on.replace(day=1))
        if slot is None:
            continue
        dash = ' stroke-dasharray="4 4"' if note.kind == "pdsa" else ""
        out.append(f'<line x1="{x(slot):.1f}" x2="{x(slot):.1f}" y1="{TOP}" '
                   f'y2="{TOP + plot_h}" stroke="#1d70b8"{dash}><title>{escape(note.label)}'
                   f'</title></line><text x="{x(slot):.1f}" y="{TOP - 4}" text-anchor="middle" '
                   f'fill="#1d70b8">{number}</text>')
    for value, colour, dash, label in ((chart.median, "#00703c", "8 4", "Median"),
                                       (chart.target, "#f47738", "2 3", "Target")):
        if value is not None:
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                       f'y2="{y(value):.1f}" stroke="{colour}" stroke-width="2" '
                       f'stroke-dasharray="{dash}"/><text x="{WIDTH - RIGHT}" '
                       f'y="{y(value) - 5:.1f}" text-anchor="end" fill="{colour}">{label} '
                       f'{value:.1f}%</text>')
    segment: list[str] = []  # consecutive months with a point: one polyline each
    for slot, (_, i) in enumerate(months + [(None, None)]):
        if i is not None:
            segment.append(f"{x(slot):.1f},{y(chart.points[i].value):.1f}")
            continue
        if segment:
            out.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="#0b0c0c" '
                       f'stroke-width="2"/>')
        segment = []
    for slot, (month, i) in enumerate(months):
        if i is None:
            continue
        p = chart.points[i]
        colour, size = ("#d4351c", 6) if i in flagged else ("#0b0c0c", 4)
        small = run_charts.rests_on_few(p, few)
        fill = f'fill="#ffffff" stroke="{colour}" stroke-width="2"' if small else f'fill="{colour}"'
        children = "" if p.denominator is None else \
            f", {p.numerator} of {p.denominator} child{'ren' if p.denominator != 1 else ''}"
        warning = f" (fewer than {few} children)" if small else ""
        out.append(f'<circle cx="{x(slot):.1f}" cy="{y(p.value):.1f}" r="{size}" {fill} '
                   f'data-month="{month:%Y-%m}"><title>{month:%b %Y}: {p.value:.1f}%'
                   f'{children}{warning}</title></circle>')
    out.append("</svg>")
    return "\n".join(out)
