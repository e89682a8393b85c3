"""Report charts as hand-written inline SVG: the same markup in the HTML page and in the PDF.

Every chart is a list of labelled rows drawn as dots (with an optional interval) on one
horizontal scale. Labels sit on their own line above each row, so a chart keeps its text
readable on a 390 px phone (the viewBox is 360 units wide: about one unit per CSS pixel on a
phone). Each SVG carries a text alternative, `<title>` and `<desc>`, holding every number it
draws; the table behind each chart sits next to it in the report. Output is deterministic
(no ids, dates or random salts), so two builds of a report are byte-identical.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 360
LEFT, RIGHT = 8, 12
ROW = 36
TOP = 10
# Colour-blind-safe pairs (Okabe–Ito): the state, the comparison, a third reference.
COLOURS = ("#0b4f8a", "#c55a11", "#555555")
SHAPES = ("circle", "diamond", "bar")


@dataclass
class Point:
    """One value on a row: the series it belongs to, the value and an optional interval."""

    series: int
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass
class Row:
    """One labelled line of a chart and its points."""

    label: str
    points: list[Point] = field(default_factory=list)
    text: str = ""  # the row in words for the text alternative


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def _shape(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "diamond":
        return (f'<path d="M{x:.1f} {y - 6:.1f}L{x + 6:.1f} {y:.1f}L{x:.1f} {y + 6:.1f}L{x - 6:.1f} {y:.1f}Z" '
                f'fill="#ffffff" stroke="{colour}" stroke-width="2"/>')
    if kind == "bar":
        return f'<rect x="{x - 1.5:.1f}" y="{y - 8:.1f}" width="3" height="16" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}"/>'


def dot_chart(title: str, desc: str, rows: Sequence[Row], series: Sequence[str], *,
              domain: tuple[float, float] = (0.0, 1.0), ticks: Sequence[float] = (0, 0.25, 0.5, 0.75, 1),
              digits: int = 2, zero_line: bool = False, reverse: bool = False) -> str:
    """A dot-and-interval chart as inline SVG ("" when no row has a value).

    `series` names each point kind (legend); `reverse` draws the scale from high to low (ranks).
    """
    drawn = [r for r in rows if any(p.value is not None for p in r.points)]
    if not drawn:
        return ""
    lo, hi = domain
    span = (hi - lo) or 1.0

    def sx(v: float) -> float:
        frac = (min(max(v, lo), hi) - lo) / span
        if reverse:
            frac = 1 - frac
        return LEFT + frac * (WIDTH - LEFT - RIGHT)

    legend_h = 18 * len(series) + 4
    height = TOP + legend_h + ROW * len(drawn) + 26
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'class="dotchart" font-family="DejaVu Sans, sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>", f"<desc>{escape(desc)}</desc>"]
    # legend
    for i, name in enumerate(series):  # one legend line per series: never cut on a phone
        out.append(_shape(SHAPES[i % 3], LEFT + 6, TOP + 7 + 18 * i, COLOURS[i % 3]))
        out.append(f'<text x="{LEFT + 18}" y="{TOP + 11 + 18 * i}" fill="#1b1b1b">{escape(name)}</text>')
    # grid
    base = TOP + legend_h
    bottom = base + ROW * len(drawn)
    for t in ticks:
        gx = sx(t)
        out.append(f'<line x1="{gx:.1f}" y1="{base}" x2="{gx:.1f}" y2="{bottom}" stroke="#d9d9d9" stroke-width="1"/>')
        label = _fmt(t, 0 if float(t).is_integer() and span > 2 else 2)
        anchor = "start" if gx < LEFT + 10 else "end" if gx > WIDTH - RIGHT - 10 else "middle"
        out.append(f'<text x="{gx:.1f}" y="{bottom + 16}" text-anchor="{anchor}" fill="#444444">{label}</text>')
    if zero_line and lo < 0 < hi:
        zx = sx(0)
        out.append(f'<line x1="{zx:.1f}" y1="{base}" x2="{zx:.1f}" y2="{bottom}" stroke="#1b1b1b" stroke-width="1.5"/>')
    for k, row in enumerate(drawn):
        y0 = base + ROW * k
        out.append(f'<text x="{LEFT}" y="{y0 + 12}" fill="#1b1b1b">{escape(row.label)}</text>')
        cy = y0 + 25
        for p in row.points:
            if p.value is None:
                continue
            colour = COLOURS[p.series % 3]
            if p.low is not None and p.high is not None:
                out.append(f'<line x1="{sx(p.low):.1f}" y1="{cy}" x2="{sx(p.high):.1f}" y2="{cy}" '
                           f'stroke="{colour}" stroke-width="3" stroke-opacity="0.55"/>')
            out.append(_shape(SHAPES[p.series % 3], sx(p.value), cy, colour))
    out.append("</svg>")
    return "".join(out)


def strip_chart(title: str, desc: str, groups: Sequence[tuple[str, Sequence[float]]], *,
                domain: tuple[float, float] = (0.0, 1.0)) -> str:
    """Each group's values as a strip of dots with its quartile box (distributions), inline SVG."""
    drawn = [(label, [v for v in values if v is not None]) for label, values in groups]
    drawn = [(label, values) for label, values in drawn if values]
    if not drawn:
        return ""
    lo, hi = domain

    def sx(v: float) -> float:
        return LEFT + (min(max(v, lo), hi) - lo) / ((hi - lo) or 1) * (WIDTH - LEFT - RIGHT)

    height = TOP + 46 * len(drawn) + 26
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'class="dotchart" font-family="DejaVu Sans, sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>", f"<desc>{escape(desc)}</desc>"]
    bottom = TOP + 46 * len(drawn)
    for t in (0, 0.25, 0.5, 0.75, 1):
        gx = sx(t)
        out.append(f'<line x1="{gx:.1f}" y1="{TOP}" x2="{gx:.1f}" y2="{bottom}" stroke="#d9d9d9"/>')
        anchor = "start" if t == 0 else "end" if t == 1 else "middle"
        out.append(f'<text x="{gx:.1f}" y="{bottom + 16}" text-anchor="{anchor}" fill="#444444">{t:.2f}</text>')
    for k, (label, values) in enumerate(drawn):
        y0 = TOP + 46 * k
        colour = COLOURS[k % 2]
        q1, med, q3 = quartiles(values)
        out.append(f'<text x="{LEFT}" y="{y0 + 12}" fill="#1b1b1b">{escape(label)}</text>')
        out.append(f'<rect x="{sx(q1):.1f}" y="{y0 + 20}" width="{max(sx(q3) - sx(q1), 1):.1f}" height="18" '
                   f'fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>')
        out.append(f'<line x1="{sx(med):.1f}" y1="{y0 + 18}" x2="{sx(med):.1f}" y2="{y0 + 40}" '
                   f'stroke="{colour}" stroke-width="2.5"/>')
        for v in sorted(values):
            out.append(f'<circle cx="{sx(v):.1f}" cy="{y0 + 29}" r="2.5" fill="{colour}" fill-opacity="0.6"/>')
    out.append("</svg>")
    return "".join(out)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile (linear interpolation, as numpy's default)."""
    data = sorted(values)
    n = len(data)

    def q(p: float) -> float:
        pos = p * (n - 1)
        i = int(pos)
        frac = pos - i
        return data[i] if i + 1 >= n else data[i] + (data[i + 1] - data[i]) * frac

    return q(0.25), q(0.5), q(0.75)


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _iv(low: float | None, high: float | None, digits: int = 2) -> str:
    return "" if low is None or high is None else f" [{_f(low, digits)}–{_f(high, digits)}]"


def for_state(r, en: bool) -> dict[str, str]:
    """Every chart of a state report (`services.report.StateReport`), keyed by section, in a language.

    Each chart's `<desc>` lists the same numbers, with the same rounding, as the table beside it.
    """
    t = (lambda es, en_: en_ if en else es)  # noqa: E731
    lab = (lambda row: row["label_en"] if en else row["label_es"])  # noqa: E731
    charts: dict[str, str] = {}
    latest = max((e for e in r.editions), key=lambda e: e["edition"], default=None)
    latest_year = int(latest["edition"]) if latest else None
    rows = []
    for h in r.headline:
        pub = h["editions"].get(latest_year) if latest_year else None
        rows.append(Row(f"{h['code']} · {lab(h)}", [Point(0, h["value"], h["low"], h["high"]),
                                                     Point(1, h["rest"]), Point(2, pub)],
                        f"{h['code']} {lab(h)}: {_f(h['value'])}{_iv(h['low'], h['high'])}; "
                        f"{t('resto del país', 'rest of the nation')} {_f(h['rest'])}; "
                        f"{t('nacional publicado', 'published national')} {latest_year}: {_f(pub)}"))
    series = [r.name, t("Resto del país", "Rest of the nation"),
              t(f"MGA {latest_year} nacional", f"MGA {latest_year} national")]
    charts["headline"] = dot_chart(
        t(f"{r.name} frente al resto del país y la MGA {latest_year}", f"{r.name} against the rest of the nation and MGA {latest_year}"),
        ". ".join(row.text for row in rows) + ".", rows, series)

    dist = r.distribution
    if dist.get("state"):
        q_s, q_n = quartiles(dist["state"]), quartiles(dist["nation"])
        charts["distribution"] = strip_chart(
            t(f"Distribución del índice: instituciones de {r.name} y del país", f"Index distribution: institutions of {r.name} and the nation"),
            t(f"{r.name}: {len(dist['state'])} instituciones, cuartiles {_f(q_s[0])}, {_f(q_s[1])}, {_f(q_s[2])}. "
              f"País: {len(dist['nation'])} instituciones, cuartiles {_f(q_n[0])}, {_f(q_n[1])}, {_f(q_n[2])}.",
              f"{r.name}: {len(dist['state'])} institutions, quartiles {_f(q_s[0])}, {_f(q_s[1])}, {_f(q_s[2])}. "
              f"Nation: {len(dist['nation'])} institutions, quartiles {_f(q_n[0])}, {_f(q_n[1])}, {_f(q_n[2])}."),
            [(r.name, dist["state"]), (t("País", "Nation"), dist["nation"])])

    rows = [Row(ty["type_en"] if en else ty["type_es"], [Point(0, ty["state"]), Point(1, ty["nation"])],
                f"{ty['type_en'] if en else ty['type_es']}: {r.name} {_f(ty['state'])} (n = {ty['n']}); "
                f"{t('nacional', 'national')} {_f(ty['nation'])}") for ty in r.by_type]
    charts["by_type"] = dot_chart(t("Índice por tipo de institución: entidad y mismo tipo en el país",
                                    "Index by type of institution: state and same type nationally"),
                                  ". ".join(row.text for row in rows) + ".", rows,
                                  [r.name, t("Mismo tipo, nacional", "Same type, national")])

    if r.rank.get("value") is not None:
        row = Row(t("Lugar", "Rank"), [Point(0, r.rank["value"], r.rank["low"], r.rank["high"])])
        charts["rank"] = dot_chart(
            t(f"Lugar de {r.name} entre {r.n_states} entidades", f"Rank of {r.name} among {r.n_states} states"),
            t(f"Lugar {_f(r.rank['value'], 0)}; intervalo de 90 %: {_f(r.rank['low'], 0)} a {_f(r.rank['high'], 0)} de {r.n_states}.",
              f"Rank {_f(r.rank['value'], 0)}; 90% interval: {_f(r.rank['low'], 0)} to {_f(r.rank['high'], 0)} of {r.n_states}."),
            [row], [t("Lugar (1 = el más alto)", "Rank (1 = highest)")], domain=(1, max(r.n_states, 2)),
            ticks=sorted({1, max(r.n_states, 2), *range(8, r.n_states, 8)}), digits=0)

    if r.gaps:
        top = max([g["gap_high"] or g["gap"] or 0 for g in r.gaps] + [0.1])
        bottom = min([g["gap_low"] or 0 for g in r.gaps] + [0])
        rows = [Row(lab(g), [Point(0, g["gap"], g["gap_low"], g["gap_high"])],
                    f"{lab(g)}: {t('brecha', 'gap')} {_f(g['gap'])}{_iv(g['gap_low'], g['gap_high'])}"
                    f"{t(', dentro del ruido', ', within noise') if g['noise'] else ''}; "
                    f"{t('peso', 'weight')} {_f(g['weight'], 3)}; {t('efecto potencial', 'potential effect')} "
                    f"{_f(g['potential'], 3)}") for g in r.gaps]
        lo, hi = math_floor(bottom), math_ceil(top)
        charts["gaps"] = dot_chart(t("Brechas con el promedio nacional (IC 95 %)", "Gaps to the national mean (95% CI)"),
                                   ". ".join(row.text for row in rows) + ".", rows,
                                   [t("Brecha: nacional − entidad", "Gap: national − state")],
                                   domain=(lo, hi), ticks=_ticks(lo, hi), zero_line=True)

    if r.conditions:
        rows = [Row(lab(c), [Point(0, c["value"]), Point(1, c["nation"])],
                    f"{lab(c)}: {r.name} {_f(c['value'])}; {t('promedio de las entidades', 'mean of the states')} {_f(c['nation'])}")
                for c in r.conditions]
        charts["conditions"] = dot_chart(t("Índice de condiciones estatales por componente", "State conditions index by component"),
                                         ". ".join(row.text for row in rows) + ".", rows,
                                         [r.name, t("Promedio de las entidades", "Mean of the states")])
    if r.inclusion:
        rows = [Row(lab(i), [Point(0, i["state"]), Point(1, i["nation"])],
                    f"{lab(i)}: {r.name} {_f(i['state'])}; {t('nacional', 'national')} {_f(i['nation'])}") for i in r.inclusion]
        charts["inclusion"] = dot_chart(t("Reactivos de inclusión: entidad y país", "Inclusion items: state and nation"),
                                        ". ".join(row.text for row in rows) + ".", rows,
                                        [r.name, t("Nacional", "National")])
    return charts


def math_floor(x: float, step: float = 0.1) -> float:
    """x rounded down to a multiple of `step`."""
    import math
    return math.floor(round(x / step, 6)) * step


def math_ceil(x: float, step: float = 0.1) -> float:
    """x rounded up to a multiple of `step`."""
    import math
    return math.ceil(round(x / step, 6)) * step


def _ticks(lo: float, hi: float) -> list[float]:
    step = 0.1 if hi - lo <= 0.6 else 0.25
    n = int(round((hi - lo) / step))
    return [round(lo + i * step, 2) for i in range(n + 1)]


def _colour(v: float | None) -> str:
    """Sequential blue scale for 0–1 (light = low, dark = high); grey without a value."""
    if v is None:
        return "#e6e6e6"
    v = min(max(v, 0.0), 1.0)
    light, dark = (222, 235, 247), (8, 48, 107)
    rgb = tuple(round(a + (b - a) * v) for a, b in zip(light, dark, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def tile_map(title: str, desc: str, tiles: dict, states: Sequence[dict]) -> str:
    """The states as tiles of a grid (layout is data), coloured by index, each with its value."""
    by_code = {s["state"]: s for s in states}
    cols = max(c for _, c in tiles.values()) + 1
    rows = max(r for r, _ in tiles.values()) + 1
    size = (WIDTH - 8) / cols
    height = rows * size + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" class="dotchart" '
           f'font-family="DejaVu Sans, sans-serif" font-size="10">', f"<title>{escape(title)}</title>",
           f"<desc>{escape(desc)}</desc>"]
    for code, (r, c) in sorted(tiles.items()):
        s = by_code.get(code)
        v = s["value"] if s else None
        x, y = 4 + c * size, r * size
        fill = _colour(v)
        ink = "#ffffff" if v is not None and v > 0.5 else "#1b1b1b"
        out.append(f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{size - 2:.1f}" height="{size - 2:.1f}" fill="{fill}" stroke="#ffffff"/>')
        abbr = s["abbr"] if s else state_abbr(code)
        out.append(f'<text x="{x + size / 2:.1f}" y="{y + size / 2 - 2:.1f}" text-anchor="middle" fill="{ink}">{escape(abbr)}</text>')
        out.append(f'<text x="{x + size / 2:.1f}" y="{y + size / 2 + 10:.1f}" text-anchor="middle" fill="{ink}">{_f(v)}</text>')
    for i, v in enumerate((0, 0.25, 0.5, 0.75, 1)):
        out.append(f'<rect x="{4 + i * 40}" y="{rows * size + 8:.1f}" width="40" height="10" fill="{_colour(v)}"/>')
        out.append(f'<text x="{4 + i * 40 + 20}" y="{rows * size + 28:.1f}" text-anchor="middle">{v:.2f}</text>')
    out.append("</svg>")
    return "".join(out)


def state_abbr(code: str) -> str:
    """The abbreviation of a state code."""
    from scoring import states

    return states.by_code(code).abbr


def funnel_plot(title: str, desc: str, funnel: dict) -> str:
    """State means against the number of institutions, with 95 % and 99.8 % control limits."""
    points = [p for p in funnel["points"] if p["value"] is not None]
    mean, sd = funnel["mean"], funnel["sd"]
    if not points or mean is None:
        return ""
    max_n = max(p["n"] for p in points)
    left, bottom_pad, plot_h = 34, 30, 240
    height = plot_h + bottom_pad + 10

    def sx(n: float) -> float:
        return left + (n / max_n) * (WIDTH - left - RIGHT)

    def sy(v: float) -> float:
        return 10 + (1 - min(max(v, 0), 1)) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" class="dotchart" '
           f'font-family="DejaVu Sans, sans-serif" font-size="11">', f"<title>{escape(title)}</title>",
           f"<desc>{escape(desc)}</desc>"]
    for t in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{left}" y1="{sy(t):.1f}" x2="{WIDTH - RIGHT}" y2="{sy(t):.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 4}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:.2f}</text>')
    out.append(f'<line x1="{left}" y1="{sy(mean):.1f}" x2="{WIDTH - RIGHT}" y2="{sy(mean):.1f}" stroke="#1b1b1b"/>')
    if sd:
        for z, dash in ((1.96, "4 3"), (3.09, "1 3")):
            for sign in (1, -1):
                pts = " ".join(f"{sx(n):.1f},{sy(mean + sign * z * sd / n ** 0.5):.1f}"
                               for n in [max(1, max_n * i / 40) for i in range(1, 41)])
                out.append(f'<polyline points="{pts}" fill="none" stroke="#c55a11" stroke-dasharray="{dash}"/>')
    for p in points:
        colour = COLOURS[1] if p["outside95"] else COLOURS[0]
        out.append(f'<circle cx="{sx(p["n"]):.1f}" cy="{sy(p["value"]):.1f}" r="3.5" fill="{colour}"/>')
        if p["outside95"]:
            out.append(f'<text x="{sx(p["n"]) + 5:.1f}" y="{sy(p["value"]) - 4:.1f}">{escape(p["abbr"])}</text>')
    step = max(1, round(max_n / 4 / 5) * 5) if max_n >= 20 else max(1, round(max_n / 4))
    for n in range(0, max_n + 1, step):  # whole numbers of institutions
        out.append(f'<text x="{sx(n):.1f}" y="{plot_h + 26}" text-anchor="middle">{n}</text>')
    out.append("</svg>")
    return "".join(out)


def for_nation(n, en: bool) -> dict[str, str]:
    """Every chart of the national report (`services.national.NationalReport`) in a language."""
    t = (lambda es, en_: en_ if en else es)  # noqa: E731
    charts: dict[str, str] = {}
    listing = "; ".join(f"{s['entidad']} {_f(s['value'])}" for s in n.states)
    charts["tiles"] = tile_map(t("Índice por entidad (mapa de mosaicos)", "Index by state (tile map)"),
                               t(f"Índice de cada entidad: {listing}.", f"Index of each state: {listing}."),
                               n.tiles, n.states)
    rows = [Row(f"{s['entidad']}", [Point(0, s["value"], s["low"], s["high"])],
                f"{s['entidad']} {_f(s['value'])}{_iv(s['low'], s['high'])}, "
                f"{t('lugar', 'rank')} {_f(s['rank_low'], 0)}–{_f(s['rank_high'], 0)}") for s in n.states]
    charts["caterpillar"] = dot_chart(
        t("Entidades ordenadas por índice, con intervalo de 95 %", "States ordered by index, with 95% intervals"),
        ". ".join(r.text for r in rows) + ".", rows, [t("Índice e IC 95 %", "Index and 95% CI")])
    outside = [p for p in n.funnel["points"] if p["outside95"]]
    charts["funnel"] = funnel_plot(
        t("Gráfico de embudo: promedio de cada entidad contra el número de instituciones",
          "Funnel plot: each state's mean against the number of institutions"),
        t(f"Promedio nacional {_f(n.funnel['mean'])}; límites de control de 95 % y 99.8 %. Fuera del 95 %: "
          + (", ".join(f"{p['entidad']} ({_f(p['value'])}, n = {p['n']})" for p in outside) or "ninguna") + ".",
          f"National mean {_f(n.funnel['mean'])}; 95% and 99.8% control limits. Outside 95%: "
          + (", ".join(f"{p['entidad']} ({_f(p['value'])}, n = {p['n']})" for p in outside) or "none") + "."),
        n.funnel)
    if n.sensitivity:
        rows = [Row(f["label_en"] if en else f["label_es"], [Point(0, f["total"]), Point(1, f["first_order"])],
                    f"{f['label_en'] if en else f['label_es']}: {t('índice total', 'total index')} {_f(f['total'])}, "
                    f"{t('primer orden', 'first order')} {_f(f['first_order'])}") for f in n.sensitivity]
        charts["sensitivity"] = dot_chart(
            t("Qué elección de modelado mueve más el lugar de las entidades (índices de Sobol)",
              "Which modelling choice moves the states' ranks most (Sobol indices)"),
            ". ".join(r.text for r in rows) + ".", rows,
            [t("Índice total", "Total index"), t("Primer orden", "First order")])
    return charts
