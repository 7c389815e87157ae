"""The HTML panels of the interactive map: title, legend, charts and credits.

Built by geo itself as text, every user value escaped (:func:`geo.mapdata._esc`) and every
figure taken from the analysis; :mod:`geo.webmap` places them on the page.
"""

from __future__ import annotations

import json
import math

from geo.analysis import AnalysisResult
from geo.constants import OUTSIDE
from geo.mapdata import _esc, area_class, area_legend, band_colors, band_meaning


def compact_json(obj) -> str:
    """JSON for a <script> block: no spaces, and no '<', '>' or '&' that could end the block."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def legend_html(result: AnalysisResult, hazards_as_grid: bool) -> str:
    """The legend: a swatch for every colour the map draws (provinces, bands, hazards by band)."""
    # Only the classes some province is drawn in: every swatch is a colour on the map.
    drawn_classes = {area_class(float(a)) for a in result.by_province["area_km2"]}
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{c}"></span>{_esc(t)}</div>'
        for k, (c, t) in enumerate(area_legend())
        if k in drawn_classes
    )
    colors = band_colors(result.zones)
    bands = "".join(
        f'<div class="row"><span class="sw" style="background:{colors[b]};opacity:0.75"></span>'
        f"{_esc(b)}: {_esc(band_meaning(i, o))}</div>"
        for b, i, o in zip(result.zones["band"], result.zones["inner_km"], result.zones["outer_km"])
        if math.isfinite(o)
    )
    if hazards_as_grid:
        hz = "<div>hazard density (share of each 2 km cell)</div>"
    else:
        drawn = set(result.by_hazard["band"])
        hz = "".join(
            f'<div class="row"><span class="sw" style="background:{colors[b]}"></span>hazards {_esc(b)}</div>'
            for b in result.zones["band"]
            if b in drawn
        )
        if OUTSIDE in drawn:
            hz += '<div class="row"><span class="sw" style="background:#000"></span>hazards outside Cambodia</div>'
    return (
        '<details class="geo-panel geo-legend geo-collapsible" id="geo-legend" open>'
        "<summary>Legend</summary>"
        "<h2>Contaminated area per province (km²)</h2>"
        + rows
        + "<h2>Border bands (Cambodian side)</h2>"
        + bands
        + '<div class="row"><span class="ln"></span>frontier</div>'
        f"<h2>Hazards, coloured by band</h2>{hz}</details>"
    )


def chart_html(data: dict) -> str:
    """The chart panel (drawn by the page script from ``data``, a JSON block no markup can escape)."""
    curve = ""
    if data.get("curve"):
        curve = (
            '<h2>What if the belt were d km wide?</h2><div id="geo-curve"></div>'
            '<input type="range" id="geo-curve-slider" aria-label="distance from the frontier, km">'
            '<p class="geo-chart-note" id="geo-curve-readout" aria-live="polite"></p>'
        )
    note = "SYNTHETIC demo data: not real locations. " if data.get("synthetic") else ""
    return (
        '<details class="geo-panel geo-chart" id="geo-chart">'
        '<summary>Charts<span id="geo-chart-label"></span></summary>'
        "<h2>Contaminated km² per province, by band</h2>"
        '<div id="geo-chart-bars"></div><div id="geo-chart-detail"></div>'
        + curve
        + f'<p class="geo-chart-note">{_esc(note)}Figures from the analysis (summary.json, curve at '
        "the band edges equal to the table); land counted once where hazards overlap.</p>"
        "</details>"
        f'<script type="application/json" id="geo-chart-data">{compact_json(data)}</script>'
    )


def title_html(result: AnalysisResult, title: str, when: str) -> str:
    s = result.summary
    lead = (
        f"{s['area_km2']:,.2f} km² contaminated; {s['within_2km_km2']:,.2f} km² within 2 km and "
        f"{s['within_7km_km2']:,.2f} km² ({s['share_within_7km']:.1%} of the land in Cambodia) within 7 km "
        "of the frontier."
    )
    u = s.get("uncertainty")
    if u and u.get("tolerance_m", 0) > 0:
        r2, r7 = u["within_2km_km2"], u["within_7km_km2"]
        lead += (
            f" Frontier uncertain by ±{u['tolerance_m']:g} m: within 2 km {r2['low']:,.2f}–{r2['high']:,.2f} km², "
            f"within 7 km {r7['low']:,.2f}–{r7['high']:,.2f} km²."
        )
    if s.get("outside_cambodia_km2", 0) > 0:
        lead += f" {s['outside_cambodia_km2']:,.2f} km² of the hazards lie outside Cambodia's outline."
    others = [e for e in s.get("frontier_sensitivity", []) if e["kind"] == "alternative"]
    if others:
        values = [e["within_2km_km2"] for e in others] + [s["within_2km_km2"]]
        lead += (
            f" Other mappings of the frontier ({', '.join(e['line'] for e in others)}) give "
            f"{min(values):,.2f}–{max(values):,.2f} km² within 2 km."
        )
    banner = ""
    if s.get("notice"):
        short = s["notice"].split(" - ")[0] + " - not real locations"
        banner = (
            f'<div class="geo-synthetic" id="geo-synthetic"><span class="long">{_esc(s["notice"])}</span>'
            f'<span class="short">{_esc(short)}</span></div>'
        )
    return (
        f'<div class="geo-panel geo-title" id="geo-title">'
        f'<details class="geo-collapsible" open><summary><h1>{_esc(title)}</h1></summary><p>{_esc(lead)}</p>'
        f'</details><p class="geo-note" id="geo-tile-note"></p>{banner}</div>'
    )


def footer_html(result: AnalysisResult, when: str, grid_note: str) -> str:
    s = result.summary
    attributions = [
        v.get("attribution") for v in s.get("inputs", {}).values() if isinstance(v, dict) and v.get("attribution")
    ]
    parts = [
        *attributions,
        "Reference figures: Mine Action Review, Clearing the Mines 2024 (Cambodia)",
        f"Analysis {when}, geo {s.get('version', '')}",
        "Areas in an Albers equal-area projection (WGS 84); map display in Web Mercator; shapes simplified for display",
    ]
    if grid_note:
        parts.append(grid_note)
    return f'<div class="geo-panel geo-footer" id="geo-footer">{" | ".join(_esc(p) for p in parts)}</div>'
