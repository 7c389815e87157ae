"""Charts beside the maps (matplotlib, PNG): the what-if curve of ``geo curve`` and the land-release
burndown of ``geo release``."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from geo._files import atomic_write


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
