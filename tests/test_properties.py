"""Invariants of the engine, on random valid polygon sets (hypothesis)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geo
from geo.constants import ANALYSIS_CRS
from tests.conftest import TM

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def polygon_sets(draw, max_n: int = 6):
    """Random convex-ish polygons (1 m2 to ~4 km2) within 12 km of the straight test frontier, home side mostly."""
    n = draw(st.integers(1, max_n))
    out = []
    for _ in range(n):
        cx = draw(st.floats(-500, 12_000))
        cy = draw(st.floats(-20_000, 20_000))
        r = draw(st.floats(1.0, 1200.0))
        k = draw(st.integers(3, 9))
        phase = draw(st.floats(0, 6.28))
        squash = draw(st.floats(0.3, 1.0))
        t = np.linspace(0, 2 * np.pi, k, endpoint=False) + phase
        ring = np.column_stack([cx + r * np.cos(t), cy + r * squash * np.sin(t)])
        out.append(shapely.Polygon(ring))
    return out


def frame(geoms, crs=TM):
    return gpd.GeoDataFrame({"hazard_id": [f"P{i}" for i in range(len(geoms))]}, geometry=geoms, crs=crs)


@pytest.fixture(scope="module")
def world(straight_world):
    return straight_world


def run(world, gdf, **kw):
    provinces, frontier = world
    return geo.analyze(gdf, geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0, **kw)


@SETTINGS
@given(polygon_sets())
def test_pieces_sum_to_each_hazard_and_union_le_sum(world, geoms):
    res = run(world, frame(geoms))
    own = res.by_hazard.groupby("hazard_id")["area_m2"].sum()
    # Each hazard as analysed: densified in its own (projected) CRS, so its straight edges keep their course.
    areas = res.hazards.set_index("hazard_id")["area_m2"].reindex(own.index).to_numpy()
    assert np.allclose(own.to_numpy(), areas, rtol=1e-7, atol=1e-6)
    plain = frame(geoms).to_crs(ANALYSIS_CRS).area.to_numpy()  # the same polygons, edges not densified
    assert np.allclose(res.hazards["area_m2"].to_numpy(), plain, rtol=1e-6)
    s = res.summary
    assert s["area_km2"] <= s["area_sum_km2"] * (1 + 1e-9) + 1e-12
    bands = sum(b["area_km2"] for b in s["bands"]) + s["outside_cambodia_km2"]
    assert bands == pytest.approx(s["area_km2"], rel=1e-7, abs=1e-10)
    # province pieces of each hazard add up to it too (the band split is inside them)
    by_prov = res.by_hazard.groupby(["hazard_id", "code"])["area_m2"].sum().groupby(level=0).sum()
    assert np.allclose(by_prov.to_numpy(), own.to_numpy(), rtol=1e-9)


@SETTINGS
@given(polygon_sets(), st.randoms(use_true_random=False))
def test_independent_of_input_order(world, geoms, rnd):
    shuffled = list(geoms)
    rnd.shuffle(shuffled)
    a, b = run(world, frame(geoms)).summary, run(world, frame(shuffled)).summary
    for key in ("area_km2", "area_sum_km2", "within_2km_km2", "within_7km_km2"):
        assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(polygon_sets(max_n=4))
def test_independent_of_input_crs(world, geoms):
    base = frame([shapely.segmentize(g, 20.0) for g in geoms])
    ref = run(world, base).summary
    for crs in ("EPSG:4326", "EPSG:32648", "EPSG:3148"):
        other = run(world, base.to_crs(crs)).summary
        for key in ("area_km2", "within_2km_km2", "within_7km_km2"):
            # the datum shift of Indian 1960 moves nothing here: to_crs round-trips through one transformation
            assert other[key] == pytest.approx(ref[key], rel=1e-5, abs=1e-8), (crs, key)


@SETTINGS
@given(polygon_sets(max_n=1), st.floats(10.0, 5000.0))
def test_moving_away_never_increases_the_2km_area(world, geoms, shift):
    # For a hazard on the home side: one across the frontier gains home land as it moves (found by hypothesis).
    geoms = [shapely.affinity.translate(g, xoff=max(0.0, -g.bounds[0]) + 1e-3) for g in geoms]
    before = run(world, frame(geoms)).summary["within_2km_km2"]
    moved = [shapely.transform(g, lambda xy, s=shift: xy + np.array([s, 0.0])) for g in geoms]
    after = run(world, frame(moved)).summary["within_2km_km2"]
    assert after <= before + 1e-9


@SETTINGS
@given(polygon_sets(max_n=6))
def test_distance_bounds_hold_every_point_of_a_polygon(world, geoms):
    """The cheap bounds that spare the curves most geometry work never exclude a true distance."""
    from geo.crs import transform_geoms
    from geo.engine.curve import distance_bounds
    from geo.engine.zones import frontier_lines

    _, frontier = world
    lines = frontier_lines(frontier.to_crs("EPSG:4326"))
    polys = frame(geoms).to_crs(ANALYSIS_CRS).geometry.to_numpy()
    line = shapely.union_all(transform_geoms(lines, "EPSG:4326", ANALYSIS_CRS))
    nearest = shapely.distance(polys, line)
    farthest = np.array([shapely.distance(shapely.points(shapely.get_coordinates(p)), line).max() for p in polys])
    x0, y0, x1, y1 = shapely.bounds(polys).T
    half_diagonal = np.hypot(x1 - x0, y1 - y0) / 2
    for by_square, loose in ((False, 0.0), (True, 500.0 / np.sqrt(2))):
        lower, upper = distance_bounds(pd.DataFrame({"geometry": polys}), lines, by_square=by_square)
        assert (lower <= nearest + 1e-6).all() and (upper >= farthest - 1e-6).all()
        # and tight enough to spare work
        assert (upper - lower <= 2.02 * (half_diagonal + loose) + 0.01 * upper + 100.0).all()
