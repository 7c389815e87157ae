"""Print-quality static maps (matplotlib): PNG and PDF for reports.

Drawn in the equal-area analysis CRS, so the scale bar is true to within
~0.1 % over Cambodia.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from geo.analysis import AnalysisResult
from geo.constants import ANALYSIS_CRS
from geo.export import atomic_write
from geo.mapdata import AREA_COLORS, area_class, area_legend, band_colors, band_meaning


def _scale_bar(ax, length_m: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (x + i * length_m / 4, y),
                length_m / 4,
                h,
                facecolor="k" if i % 2 == 0 else "w",
                edgecolor="k",
                lw=0.6,
                zorder=10,
            )
        )
    ax.text(x, y + 2.2 * h, "0", ha="center", va="bottom", fontsize=7, zorder=10)
    ax.text(x + length_m, y + 2.2 * h, f"{length_m / 1000:g} km", ha="center", va="bottom", fontsize=7, zorder=10)


def _north_arrow(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y, dy = x1 - 0.06 * (x1 - x0), y1 - 0.16 * (y1 - y0), 0.08 * (y1 - y0)
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            dy,
            width=0.012 * (x1 - x0),
            head_length=0.03 * (y1 - y0),
            length_includes_head=True,
            color="k",
            zorder=10,
        )
    )
    ax.text(x, y + dy + 0.01 * (y1 - y0), "N", ha="center", va="bottom", fontsize=11, fontweight="bold", zorder=10)


def make_plot(result: AnalysisResult, title: str | None = None, when: str | None = None):
    """A static map of an analysis: provinces, bands, hazards, frontier, north arrow, scale bar, legend.

    Returns
    -------
    matplotlib.figure.Figure
        A4 landscape.
    """
    when = when or date.today().isoformat()
    s = result.summary
    fig = Figure(figsize=(11.69, 8.27), dpi=100)  # no pyplot: no global figure state, no backend chosen
    ax = fig.add_axes((0.02, 0.05, 0.66, 0.82))
    prov = result.provinces.merge(result.by_province[["code", "area_km2"]], on="code")
    prov.plot(ax=ax, color=[AREA_COLORS[area_class(a)] for a in prov["area_km2"]], edgecolor="#555", linewidth=0.4)
    colors = band_colors(result.zones)
    finite = result.zones[result.zones["outer_km"].map(math.isfinite)]
    finite.plot(ax=ax, color=[colors[b] for b in finite["band"]], alpha=0.45, linewidth=0)
    pieces = result.by_hazard
    if len(pieces):
        pieces.plot(ax=ax, color=[colors.get(b, "k") for b in pieces["band"]], edgecolor="#222", linewidth=0.1)
    result.frontier.to_crs(ANALYSIS_CRS).plot(ax=ax, color="k", linewidth=1.0, linestyle=(0, (4, 2)))
    ax.set_aspect("equal")
    ax.set_axis_off()
    xmin, ymin, xmax, ymax = result.provinces.total_bounds
    pad = 0.03 * (xmax - xmin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    _scale_bar(ax, 100_000.0)
    _north_arrow(ax)
    handles = [Patch(facecolor=c, edgecolor="#555", label=t) for c, t in area_legend()]
    handles += [
        Patch(facecolor=colors[b], alpha=0.6, label=f"{b}: {band_meaning(i, o)}")
        for b, i, o in zip(finite["band"], finite["inner_km"], finite["outer_km"])
    ]
    handles.append(Line2D([], [], color="k", linestyle=(0, (4, 2)), label="frontier"))
    ax.legend(
        handles=handles,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=8,
        frameon=True,
        title="Contaminated area per province (km²)\nand border bands (Cambodian side)",
        title_fontsize=8,
    )
    head = title or "Mine contamination in Cambodia's border zones"
    fig.suptitle(head, fontsize=14, fontweight="bold", y=0.97, parse_math=False)  # user text, not mathtext
    sub = (
        f"{s['area_km2']:,.2f} km² contaminated; {s['within_2km_km2']:,.2f} km² within 2 km and "
        f"{s['within_7km_km2']:,.2f} km² ({s['share_within_7km']:.1%}) within 7 km of the frontier"
    )
    fig.text(0.5, 0.925, sub, ha="center", fontsize=9)
    if s.get("notice"):
        fig.text(
            0.5,
            0.895,
            s["notice"],
            ha="center",
            fontsize=8,
            color="white",
            fontweight="bold",
            bbox={"facecolor": "#b00020", "edgecolor": "none", "pad": 3},
        )
    inputs = [v for v in s.get("inputs", {}).values() if isinstance(v, dict)]
    sources = list(dict.fromkeys(v["attribution"] for v in inputs if v.get("attribution")))
    foot = " | ".join(
        [
            *sources,
            "Reference figures: Mine Action Review, Clearing the Mines 2024",
            f"Albers equal-area (WGS 84); geo {s.get('version', '')}; {when}",
        ]
    )
    fig.text(0.01, 0.01, foot, fontsize=5.5, ha="left", va="bottom", wrap=True)
    return fig


def write_plot(fig, path: str | Path) -> list[Path]:
    """Write ``fig`` as PNG (200 dpi) and PDF beside it (same stem), atomically."""
    path = Path(path)
    png, pdf = path.with_suffix(".png"), path.with_suffix(".pdf")
    atomic_write(png, lambda tmp: fig.savefig(tmp, dpi=200, format="png"))
    atomic_write(pdf, lambda tmp: fig.savefig(tmp, format="pdf"))
    return [png, pdf]


__all__ = ["make_plot", "write_plot"]


def write_curve_plot(curve, path: str | Path, summary: dict | None = None) -> Path:
    """Plot contaminated area within distance d of the frontier (total and per province), 2 and 7 km marked."""
    fig = Figure(figsize=(9, 5.5), dpi=100)
    ax = fig.subplots()
    d = curve["distance_km"]
    ax.plot(d, curve["total_km2"], color="k", lw=2.2, label="all provinces")
    for col in [c for c in curve.columns if c not in ("distance_km", "total_km2")]:
        ax.plot(d, curve[col], lw=1.3, label=col.removesuffix("_km2"))
    for km, text in ((2.0, "2 km: military only"), (7.0, "7 km: restricted zone")):
        if d.min() <= km <= d.max():
            ax.axvline(km, color="#b00020", ls="--", lw=1)
            ax.text(km, ax.get_ylim()[1] * 0.98, f" {text}", color="#b00020", va="top", fontsize=8)
    ax.set_xlabel("distance from the frontier, d (km)")
    ax.set_ylabel("contaminated area within d (km²)")
    ax.set_title("If the restricted zone were d km wide: contamination inside it")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.01, 0.93))
    if summary and summary.get("notice"):
        fig.text(0.5, 0.005, summary["notice"], ha="center", fontsize=6.5, color="#b00020")
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
    return path


def write_burndown(sc, path: str | Path) -> Path:
    """Land left per band at the end of each year, one panel per set of rules (PNG, 150 dpi).

    ``sc`` is a :class:`geo.scenario.ScenarioResult`; completion years and their ranges
    are written on each panel.
    """
    data = sc.burndown.groupby(["rules", "year", "band"], sort=False)["remaining_km2"].sum().reset_index()
    rules = list(dict.fromkeys(data["rules"]))
    bands = list(dict.fromkeys(sc.completion["band"]))
    palette = ["#b2182b", "#ef8a62", "#fddbc7", "#67a9cf", "#2166ac", "#999999"]
    fig = Figure(figsize=(5.5 * len(rules) + 1, 5.0), dpi=100)
    axes = fig.subplots(1, len(rules), sharey=True, squeeze=False)[0]
    last = int(data["year"].max())
    for ax, name in zip(axes, rules):
        d = data[data["rules"] == name].pivot(index="year", columns="band", values="remaining_km2").fillna(0.0)
        d = d.reindex(range(int(d.index.min()), last + 1)).ffill()
        cols = [b for b in bands if b in d.columns]
        ax.stackplot(
            d.index, *[d[b] for b in cols], labels=cols, colors=palette[: len(cols)], edgecolor="white", linewidth=0.4
        )
        info = next(s for s in sc.summary["scenarios"] if s["rules"] == name)["all_land"]
        done = "never" if info["year"] is None else f"{info['year']} (range {info['low']}-{info['high'] or 'never'})"
        ax.set_title(f"{name}\nall land released: {done}", fontsize=10, parse_math=False)
        ax.set_xlabel("end of year")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("contaminated land left (km²)")
    axes[0].legend(fontsize=8, loc="upper right", title="band", title_fontsize=8)
    notice = sc.summary.get("notice")
    fig.suptitle("Projected land release by border band", fontsize=12, fontweight="bold")
    s = sc.summary
    foot = (
        f"capacity ±{s['capacity_range']:.0%}; 1 m² cleared releases {s['release_per_cleared_m2']:.2f} m² "
        "(Table 4 shares); Mine Action Review, Clearing the Mines 2024"
    )
    fig.text(0.01, 0.01, foot, fontsize=7)
    if notice:
        fig.text(0.5, 0.93, notice, ha="center", fontsize=6.5, color="#b00020")
    fig.tight_layout(rect=(0, 0.04, 1, 0.92))
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
    return path
