"""The error budget: exact with no error, calibrated on a synthetic truth, covering another real line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.engine.errorbudget import (
    NODE_KM,
    ErrorModel,
    calibrate_lines,
    error_budget,
    fit_two_scales,
    frontier_field,
)

FINE = pd.DataFrame({"inner_km": [0.0, 2.0, 5.0, 7.0], "outer_km": [2.0, 5.0, 7.0, np.inf]})
LENGTH_M = 300_000.0


def _pieces(land: shapely.Geometry, line: shapely.Geometry) -> pd.DataFrame:
    """Land cut by the fine bands of ``line`` (exact buffers), as the analysis cuts it."""
    rows, inner = [], shapely.Polygon()
    for i, hi in enumerate(FINE["outer_km"]):
        outer = shapely.buffer(line, hi * 1000.0) if np.isfinite(hi) else shapely.box(-1e7, -1e7, 1e7, 1e7)
        ring = shapely.difference(outer, inner)
        inner = outer
        for part in shapely.get_parts(shapely.intersection(land, ring)):
            rows.append({"code": "P", "fine_index": i, "area_m2": shapely.area(part), "geometry": part})
    return pd.DataFrame(rows)


def _hazard_land(seed: int) -> shapely.Geometry:
    rng = np.random.default_rng(seed)
    n = 160
    x = rng.uniform(0, LENGTH_M - 1000, n)
    y = rng.uniform(0, 9000, n)
    w, h = rng.uniform(200, 900, n), rng.uniform(200, 900, n)
    return shapely.union_all(shapely.box(x, y, x + w, y + h))


def test_with_no_error_the_budget_is_the_analysis_figure_itself(demo_result):
    t = demo_result.territory
    s = demo_result.summary
    lines = demo_result.frontier.to_crs(geo.constants.ANALYSIS_CRS).geometry.values
    none = ErrorModel(frontier_sigma_m=0.0, frontier_corr_km=10.0, hazard_sigma_m=0.0)
    eb = error_budget(
        demo_result.land_pieces, t.fine_bands, list(t.provinces["code"]), lines, s["bands_km"], none, draws=5
    )
    # Sampled points, clipped into their piece's band, give back the exact figures (no shift applied).
    for key in ("within_2km_km2", "within_7km_km2"):
        assert eb[key]["p05"] == pytest.approx(s[key], rel=1e-9)
        assert eb[key]["p95"] == pytest.approx(s[key], rel=1e-9)
    assert len(eb["bands"]) == len(s["bands"]) - 1  # the land beyond needs the exact total: not given here
    for band, exact in zip(eb["bands"], s["bands"]):
        assert band["band"] == exact["band"]
        assert band["p50"] == pytest.approx(exact["area_km2"], rel=1e-9)


def test_the_analysis_carries_the_budget_and_it_covers_the_gshhg_line(demo_result):
    eb = demo_result.summary["error_budget"]
    s = demo_result.summary
    for key in ("within_2km_km2", "within_7km_km2"):
        e = eb[key]
        assert e["p05"] < e["p50"] < e["p95"]
        assert e["central"] == pytest.approx(s[key])
    assert [b["band"] for b in eb["bands"]] == [b["band"] for b in s["bands"]]
    border = demo_result.by_province.loc[demo_result.by_province["within_7km_km2"] > 0, "code"]
    assert set(border) <= set(eb["by_province"])
    model = eb["model"]
    # Calibrated on the two bundled mappings of the Thai frontier (OSM and GSHHG/WDBII).
    src = model["sources"]["frontier"]
    assert 400 < src["median_m"] < 650 and 1200 < src["p95_m"] < 1700
    assert 450 < model["frontier_sigma_m"] < 650
    # On the real data the 90 % interval holds what the other independent line gives.
    gshhg = next(e for e in s["frontier_sensitivity"] if e["line"].startswith("GSHHG"))
    for key in ("within_2km_km2", "within_7km_km2"):
        assert eb[key]["p05"] <= gshhg[key] <= eb[key]["p95"], (key, gshhg[key], eb[key])


def test_the_same_inputs_give_the_same_budget(demo_result):
    t = demo_result.territory
    s = demo_result.summary
    lines = demo_result.frontier.to_crs(geo.constants.ANALYSIS_CRS).geometry.values
    model = ErrorModel(
        frontier_sigma_m=500.0, frontier_corr_km=2.0, frontier_long_corr_km=50.0, frontier_long_share=0.4
    )
    args = (demo_result.land_pieces, t.fine_bands, list(t.provinces["code"]), lines, s["bands_km"], model)
    a = error_budget(*args, draws=30, seed=7)
    b = error_budget(*args, draws=30, seed=7)
    c = error_budget(*args, draws=30, seed=8)
    assert a["within_2km_km2"] == b["within_2km_km2"]
    assert a["within_2km_km2"] != c["within_2km_km2"]


def test_the_90_percent_interval_covers_a_synthetic_truth_about_90_percent_of_the_time():
    """A known straight border, mapped with the modelled error; the interval from the mapped line."""
    model = ErrorModel(
        frontier_sigma_m=500.0,
        frontier_corr_km=2.0,
        frontier_long_corr_km=60.0,
        frontier_long_share=0.45,
        hazard_sigma_m=0.0,
    )
    truth = shapely.LineString([(0.0, 0.0), (LENGTH_M, 0.0)])
    n_nodes = int(LENGTH_M / (NODE_KM * 1000.0)) + 1
    node_x = np.arange(n_nodes) * NODE_KM * 1000.0
    rng = np.random.default_rng(2024)
    keys = {"within_2km_km2": 2000.0, "within_7km_km2": 7000.0}
    covered, trials = dict.fromkeys(keys, 0), 60
    widths = []
    for trial in range(trials):
        land = _hazard_land(trial)
        # The line as mapped: the border moved across itself by one draw of the modelled error.
        mapped = shapely.LineString(np.column_stack([node_x, frontier_field([n_nodes], 1, model, rng)[0]]))
        eb = error_budget(_pieces(land, mapped), FINE, ["P"], [mapped], [2.0, 5.0, 7.0], model, draws=200, seed=trial)
        for key, d in keys.items():
            true_km2 = shapely.area(shapely.intersection(land, shapely.buffer(truth, d))) / 1e6
            covered[key] += eb[key]["p05"] <= true_km2 <= eb[key]["p95"]
        widths.append(eb["within_2km_km2"]["p95"] - eb["within_2km_km2"]["p05"])
    for key, hits in covered.items():
        # 60 trials of a 90 % interval: 54 expected, binomial sd 2.3.
        assert 0.80 <= hits / trials <= 0.99, (key, hits)
    assert min(widths) > 0  # a real interval, not a point


def test_two_scale_fit_recovers_a_known_autocorrelation():
    h = np.arange(0, 200.5, 0.5)
    acf = 0.6 * np.exp(-h / 3.0) + 0.4 * np.exp(-h / 80.0)
    short, long_, share = fit_two_scales(acf, 0.5)
    assert short == pytest.approx(3.0, rel=0.2)
    assert long_ == pytest.approx(80.0, rel=0.2)
    assert share == pytest.approx(0.4, abs=0.05)


def test_line_calibration_reads_a_known_offset():
    # Line B is line A moved 300 m sideways everywhere: half-normal scale s sqrt 2 = 300 / 0.674 ...
    a = shapely.LineString([(0, 0), (100_000, 0)])
    b = shapely.LineString([(0, 300), (100_000, 300)])
    sigma, _, stats = calibrate_lines([a], [b], both_uncertain=False)
    assert stats["median_m"] == pytest.approx(300.0, abs=1.0)
    assert sigma == pytest.approx(300.0 / 0.6745, rel=0.01)


def test_the_web_map_shows_the_budget_beside_the_headline(tmp_path, demo_result):
    from geo.render.webmap import make_map, write_map

    page = write_map(make_map(demo_result), tmp_path / "m.html").read_text(encoding="utf-8")
    e2 = demo_result.summary["error_budget"]["within_2km_km2"]
    e7 = demo_result.summary["error_budget"]["within_7km_km2"]
    assert f"within 2 km {e2['p05']:,.2f}–{e2['p95']:,.2f} km²" in page
    assert f"within 7 km {e7['p05']:,.2f}–{e7['p95']:,.2f} km²" in page
