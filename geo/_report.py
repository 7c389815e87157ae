"""Text the command line prints: the province table, the frontier sensitivity, the checks.

Plain functions of an analysis' tables and summary; :mod:`geo.cli` prints what they return.
"""

from __future__ import annotations

import sys


def fmt_number(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def render_table(result) -> str:
    """A plain-text table of the per-province figures and totals."""
    s = result.summary
    bp = result.by_province
    band_cols = [f"band_{k}_km2" for k in result.zones["key"]]
    outside = s.get("outside_cambodia_km2", 0.0) > 0  # shown whenever a hazard reaches beyond the outline
    if outside:
        band_cols.append("outside_cambodia_km2")
    head = ["province", "hazards", "area km2", *[b["band"] for b in s["bands"]]]
    head += ["outside Cambodia"] * outside + ["within 7 km", "share"]
    rows = []
    for _, r in bp[(bp["hazards"] > 0) | (bp["area_km2"] > 0)].sort_values("area_km2", ascending=False).iterrows():
        rows.append(
            [
                r["province"],
                f"{r['hazards']:,}",
                fmt_number(r["area_km2"]),
                *[fmt_number(r[c]) for c in band_cols],
                fmt_number(r["within_7km_km2"]),
                f"{r['share_within_7km']:.0%}",
            ]
        )
    rows.append(
        [
            "TOTAL",
            f"{s['hazards']:,}",
            fmt_number(s["area_km2"]),
            *[fmt_number(b["area_km2"]) for b in s["bands"]],
            *[fmt_number(s["outside_cambodia_km2"])] * outside,
            fmt_number(s["within_7km_km2"]),
            f"{s['share_within_7km']:.0%}",
        ]
    )
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]

    def line(cells: list) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[:-1]]
    out += ["  ".join("-" * w for w in widths), line(rows[-1])]
    return "\n".join(out)


def render_sensitivity(entries: list[dict]) -> str:
    """The frontier sensitivity as a short table: each line, within 2 km and within 7 km."""
    central = next(e for e in entries if e["kind"] == "analysed" and e["shift_m"] == 0)
    head = ["frontier line", "within 2 km", "change", "within 7 km", "change"]
    rows = []
    for e in entries:
        if e["kind"] == "analysed" and e["shift_m"] not in (0.0, -500.0, 500.0, -1000.0, 1000.0):
            continue  # the full list is in summary.json
        rows.append(
            [
                e["line"],
                fmt_number(e["within_2km_km2"]),
                _change(e["within_2km_km2"], central["within_2km_km2"]),
                fmt_number(e["within_7km_km2"]),
                _change(e["within_7km_km2"], central["within_7km_km2"]),
            ]
        )
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    lines = ["Frontier sensitivity (km2; summary.json, frontier_sensitivity, has every line and shift):"]
    for r in [head, *rows]:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _change(value: float, reference: float) -> str:
    return "" if reference == 0 or value == reference else f"{(value - reference) / reference:+.0%}"


def print_checks(v: dict, verbose: bool = False) -> None:
    labels = (
        ("repaired", "geometries repaired"),
        ("dropped_empty", "empty geometries dropped"),
        ("non_polygon_dropped", "non-polygon parts dropped"),
        ("duplicate_ids", "duplicate ids"),
        ("outside_cambodia", "hazards reaching outside Cambodia"),
        ("area_mismatch", "recorded areas off by >10%"),
        ("province_mismatch", "recorded provinces differing from the map"),
        ("reader_warnings", "warnings from the file reader (values may have been altered)"),
        ("swapped_lat_lon_suspected", "hazards that look like lat/lon swapped"),
        ("ids_numbered", "hazards without a recognised id column, numbered row-N (name it with --id-field)"),
    )
    notes = [f"{v[k]['count']} {label}" for k, label in labels if v.get(k, {}).get("count")]
    if notes:
        print("checks: " + "; ".join(notes) + " - see validation.json")
    if verbose:
        for k, label in labels:
            entry = v.get(k) or {}
            shown = entry.get("ids") or entry.get("messages") or [i.get("hazard_id") for i in entry.get("items", [])]
            if entry.get("count"):
                more = f" (+{len(shown) - 10} more)" if len(shown) > 10 else ""
                print(f"  {label}: {', '.join(map(str, shown[:10]))}{more}", file=sys.stderr)
        for note in v.get("notes", []):
            print(f"  note: {note}", file=sys.stderr)
