"""Report charts drawn with matplotlib as inline SVG.

Figures are built with `matplotlib.figure.Figure`, not pyplot: no global figure registry or
interactive backend is involved, so threads of a worker can draw at once and nothing has to be
closed (matplotlib's advice for web servers).
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure

STATE, REST = "#1f4e79", "#c55a11"


def headline_chart(headline: list[dict]) -> str:
    """A dot-and-interval chart of the state against the rest of the nation, as inline SVG ("" without data)."""
    rows = [r for r in headline if r["value"] is not None]
    if not rows:
        return ""
    fig = Figure(figsize=(6.4, 0.45 * len(rows) + 0.8), dpi=100)
    ax = fig.subplots()
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows, strict=True):
        if r["low"] is not None and r["high"] is not None:
            ax.plot([r["low"], r["high"]], [y, y], color=STATE, linewidth=2.5, solid_capstyle="butt")
        ax.plot(r["value"], y, "o", color=STATE, markersize=7, label="Entidad" if y == ys[0] else None)
        if r["rest"] is not None:
            ax.plot(r["rest"], y, "D", color=REST, markersize=6, label="Resto del país" if y == ys[0] else None)
    ax.set_yticks(ys, [r["code"] for r in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("0 – 1")
    ax.grid(axis="x", color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
