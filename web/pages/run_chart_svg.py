"""A run chart as a standalone SVG file (for reports; the page draws it with Chart.js)."""
from __future__ import annotations

from xml.sax.saxutils import escape

from workflows.measures.run_charts import RunChart

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 50, 80


def render(chart: RunChart, title: str, subtitle: str = "") -> str:
    n = len(chart.points)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + (plot_w * (i + 0.5) / n if n else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    flagged = {i for i in range(n) if chart.signals_at(i)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Arial, sans-serif" font-size="12" '
           f'role="img" aria-label="{escape(title)}">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="20" font-size="16" font-weight="bold">{escape(title)}</text>',
           f'<text x="{LEFT}" y="38" fill="#505a5f">{escape(subtitle)}</text>']
    for tick in range(0, 101, 20):
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="#e5e5e5"/><text x="{LEFT - 8}" y="{y(tick) + 4:.1f}" '
                   f'text-anchor="end">{tick}%</text>')
    for i, point in enumerate(chart.points):
        out.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="end" '
                   f'transform="rotate(-45 {x(i):.1f} {HEIGHT - BOTTOM + 16})">'
                   f'{point.month:%b %Y}</text>')
    for number, note in enumerate(chart.annotations, start=1):
        month = note.on.replace(day=1)
        index = next((i for i, p in enumerate(chart.points) if p.month == month), None)
        if index is None:
            continue
        dash = ' stroke-dasharray="4 4"' if note.kind == "pdsa" else ""
        out.append(f'<line x1="{x(index):.1f}" x2="{x(index):.1f}" y1="{TOP}" '
                   f'y2="{TOP + plot_h}" stroke="#1d70b8"{dash}><title>{escape(note.label)}'
                   f'</title></line><text x="{x(index):.1f}" y="{TOP - 4}" text-anchor="middle" '
                   f'fill="#1d70b8">{number}</text>')
    for value, colour, dash, label in ((chart.median, "#00703c", "8 4", "Median"),
                                       (chart.target, "#f47738", "2 3", "Target")):
        if value is not None:
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                       f'y2="{y(value):.1f}" stroke="{colour}" stroke-width="2" '
                       f'stroke-dasharray="{dash}"/><text x="{WIDTH - RIGHT}" '
                       f'y="{y(value) - 4:.1f}" text-anchor="end" fill="{colour}">{label} '
                       f'{value:.1f}%</text>')
    if n:
        path = " ".join(f"{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(chart.points))
        out.append(f'<polyline points="{path}" fill="none" stroke="#0b0c0c" stroke-width="2"/>')
        for i, p in enumerate(chart.points):
            colour, size = ("#d4351c", 6) if i in flagged else ("#0b0c0c", 4)
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{size}" fill="{colour}">'
                       f'<title>{p.month:%b %Y}: {p.value:.1f}%</title></circle>')
    out.append("</svg>")
    return "\n".join(out)
