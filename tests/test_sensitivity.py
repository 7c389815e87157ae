"""How the zone figures depend on the frontier: every border, other lines, shifted lines."""

from __future__ import annotations

import pytest

import geo
from geo.engine.sensitivity import SHIFTS_M
from geo.errors import GeoInputError


@pytest.fixture(scope="module")
def all_borders(demo_hazards, boundaries):
    return geo.analyze(demo_hazards, boundaries=boundaries, neighbor="all")


def test_every_border_gives_per_neighbour_and_combined_figures(all_borders, demo_result):
    s = all_borders.summary
    per = {r["neighbor"]: r for r in s["by_neighbor"]}
    assert set(per) == {"THA", "LAO", "VNM"} == set(s["neighbors"])
    # The Thai frontier alone, measured on the combined analysis' pieces, is the Thai-only analysis.
    assert per["THA"]["within_2km_km2"] == pytest.approx(demo_result.summary["within_2km_km2"], rel=1e-9)
    assert per["THA"]["within_7km_km2"] == pytest.approx(demo_result.summary["within_7km_km2"], rel=1e-9)
    for key in ("within_2km_km2", "within_7km_km2"):
        # Land near two frontiers is counted once in the combined figure.
        assert max(r[key] for r in per.values()) <= s[key] + 1e-9 <= sum(r[key] for r in per.values()) + 2e-9
    bp = all_borders.by_province
    for iso3, row in per.items():
        assert bp[f"within_7km_{iso3}_km2"].sum() == pytest.approx(row["within_7km_km2"], rel=1e-9)
    assert bp.loc[bp["code"] == "KH-16", "within_7km_LAO_km2"].iloc[0] > 0  # Ratanak Kiri borders Laos


def test_the_thai_run_carries_the_all_borders_figures_of_an_all_borders_run(all_borders, demo_result):
    # Two methods: the Thai run measures every border on its pieces (W(d) of the whole frontier);
    # the all-borders run cuts its bands from every border. They agree to rounding.
    every = demo_result.summary["all_borders"]
    s = all_borders.summary
    assert every["neighbors"] == ["LAO", "THA", "VNM"]
    for key in ("within_2km_km2", "within_7km_km2", "share_within_7km"):
        assert every[key] == pytest.approx(s[key], rel=1e-6)
    assert every["within_7km_km2"] > demo_result.summary["within_7km_km2"]  # Laos and Viet Nam add land
    bp = all_borders.by_province.set_index("code")
    for code, row in every["by_province"].items():
        assert row["within_7km_km2"] == pytest.approx(bp.loc[code, "within_7km_km2"], rel=1e-6, abs=1e-9)
    # On the all-borders run the figures are its own.
    assert s["all_borders"]["within_2km_km2"] == s["within_2km_km2"]


def test_neighbour_lists_and_unknown_codes(demo_hazards, boundaries):
    two = geo.analyze(demo_hazards.iloc[:200], boundaries=boundaries, neighbor="THA,LAO")
    assert [r["neighbor"] for r in two.summary["by_neighbor"]] == ["LAO", "THA"]
    with pytest.raises(GeoInputError, match="no frontier with neighbor XYZ; the layer has LAO, THA, VNM"):
        geo.analyze(demo_hazards.iloc[:10], boundaries=boundaries, neighbor="XYZ")


def test_sensitivity_holds_every_line_and_shift(demo_result):
    entries = demo_result.summary["frontier_sensitivity"]
    shifts = sorted(e["shift_m"] for e in entries if e["kind"] == "analysed")
    assert shifts == sorted([0.0, *SHIFTS_M, *(-s for s in SHIFTS_M)])
    names = {e["line"] for e in entries if e["kind"] == "alternative"}
    assert names == {"GSHHG/WDBII full resolution", "Natural Earth 10 m"}
    for e in entries:
        assert {"within_2km_km2", "within_7km_km2", "bands", "by_province", "source", "file"} <= set(e)
        assert [(b["inner_km"], b["outer_km"]) for b in e["bands"]] == [(0.0, 2.0), (2.0, 5.0), (5.0, 7.0)]
        assert sum(b["area_km2"] for b in e["bands"]) == pytest.approx(e["within_7km_km2"], rel=1e-9)
        assert sum(p["within_2km_km2"] for p in e["by_province"].values()) == pytest.approx(
            e["within_2km_km2"], rel=1e-9
        )
    central = next(e for e in entries if e["kind"] == "analysed" and e["shift_m"] == 0)
    assert central["within_2km_km2"] == demo_result.summary["within_2km_km2"]
    assert central["within_7km_km2"] == demo_result.summary["within_7km_km2"]
    moved = [e["within_2km_km2"] for e in sorted(entries, key=lambda e: e["shift_m"]) if e["kind"] == "analysed"]
    assert moved == sorted(moved)  # the line moved inward puts more land within 2 km of it


@pytest.mark.slow
def test_an_alternative_line_agrees_with_a_full_analysis_on_it(demo_hazards, boundaries, demo_result):
    """Two methods: the curve on the analysis' pieces, and an analysis whose bands are cut from that line."""
    frame, _ = boundaries.alternatives["GSHHG/WDBII full resolution"]
    thai = frame[frame["neighbor"] == "THA"]
    full = geo.analyze(
        demo_hazards,
        geo.Boundaries.from_frames(boundaries.provinces, thai, boundaries.outline),
        frontier_tolerance_m=0,
    )
    entry = next(e for e in demo_result.summary["frontier_sensitivity"] if e["line"] == "GSHHG/WDBII full resolution")
    assert entry["within_2km_km2"] == pytest.approx(full.summary["within_2km_km2"], rel=1e-6)
    assert entry["within_7km_km2"] == pytest.approx(full.summary["within_7km_km2"], rel=1e-6)
    # And the line matters: 15 % less within 2 km than on the OpenStreetMap line.
    assert entry["within_2km_km2"] < 0.9 * demo_result.summary["within_2km_km2"]


@pytest.mark.slow
def test_a_users_line_is_compared_with_the_bundled_ones(tmp_path):
    import json

    from geo.cli import main
    from geo.io.data import NATURAL_EARTH_FILE

    out = tmp_path / "o"
    # Any line layer as "the official line": here the Natural Earth file, Thai frontier picked by --neighbor.
    assert main(["analyze", "--frontier", str(NATURAL_EARTH_FILE), "--neighbor", "THA", "--out", str(out), "-q"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    lines = {e["line"]: e for e in s["frontier_sensitivity"]}
    assert {"analysed line", "OpenStreetMap 2017 (bundled)", "GSHHG/WDBII full resolution"} <= set(lines)
    assert lines["analysed line"]["file"] == "frontier.gpkg"
    # Measured from the Natural Earth line, the analysis is what the sensitivity said of that line.
    assert lines["analysed line"]["within_2km_km2"] == pytest.approx(
        lines["Natural Earth 10 m"]["within_2km_km2"], rel=1e-6
    )
    assert lines["OpenStreetMap 2017 (bundled)"]["within_2km_km2"] == pytest.approx(114.36, abs=0.01)
