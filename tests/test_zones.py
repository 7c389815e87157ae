"""Border zones are true on the ground and tile the territory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from geo.constants import ANALYSIS_CRS, WGS84
from geo.crs import geodesic_distance_m, transform_geoms
from geo.engine.zones import band_key, band_label, border_zones, frontier_buffers, parse_bands
from geo.errors import GeoInputError


@pytest.mark.parametrize("distance_m", [2000.0, 5000.0, 7000.0])
def test_zone_edge_is_at_nominal_geodesic_distance(boundaries, distance_m):
    """Every point of the edge, not just vertices: points drawn along the edge, mid-chord included."""
    frontier = boundaries.frontier_with("THA").geometry.values
    buf = frontier_buffers(frontier, [distance_m])[0]
    land = shapely.union_all(boundaries.outline.to_crs(ANALYSIS_CRS).geometry.values)
    edge = shapely.intersection(buf.boundary, shapely.buffer(land, -100.0))  # the edge on the Cambodian side
    rng = np.random.default_rng(int(distance_m))
    points = shapely.line_interpolate_point(edge, rng.uniform(0, edge.length, 120))
    lonlat = transform_geoms(points, ANALYSIS_CRS, WGS84)
    errors = np.array([geodesic_distance_m((p.x, p.y), frontier[0]) - distance_m for p in lonlat])
    assert np.abs(errors).max() < 1.0, errors


def test_geodesic_distance_helper_matches_geod_on_a_meridian():
    # A point 7 km east of the meridian 103 E (along the parallel, measured by Geod.fwd).
    from geo.crs import GEOD

    lon, lat, _ = GEOD.fwd(103.0, 13.0, 90.0, 7000.0)
    meridian = shapely.LineString([(103.0, 12.0), (103.0, 14.0)])
    assert geodesic_distance_m((lon, lat), meridian) == pytest.approx(7000.0, abs=0.05)


def test_bands_tile_the_outline_on_the_home_side(boundaries):
    zones = border_zones(boundaries.frontier_with("THA"), boundaries.outline, bands_km=(2, 5, 7))
    assert list(zones["band"]) == ["0-2 km", "2-5 km", "5-7 km", "beyond 7 km"]
    land = shapely.union_all(boundaries.outline.to_crs(ANALYSIS_CRS).geometry.values)
    assert zones.area.sum() == pytest.approx(land.area, rel=1e-9)
    assert shapely.union_all(zones.geometry.values).area == pytest.approx(land.area, rel=1e-9)
    # The 7 km zone of the ~820 km frontier: about 820 km x 7 km minus the coastal cap, on one side.
    within7 = zones.loc[zones["outer_km"] <= 7, "area_km2"].sum()
    assert 4500 < within7 < 5800


def test_band_areas_on_straight_frontier_are_analytic(straight_world):
    provinces, frontier = straight_world
    zones = border_zones(frontier, provinces, bands_km=(2, 5, 7))
    # 60 km of straight frontier inside the provinces: band area = 60 km x width.
    expected = [120.0, 180.0, 120.0, 60 * 40 - 420.0]
    assert zones["area_km2"].to_numpy() == pytest.approx(expected, rel=2e-5)


def test_parse_bands():
    assert parse_bands("2,5,7") == (2.0, 5.0, 7.0)
    assert parse_bands([0.5, 10]) == (0.5, 10.0)
    for bad in ("7,2", "a,b", "", "0,2", "-1", "2,2"):
        with pytest.raises(GeoInputError):
            parse_bands(bad)


def test_band_names():
    assert band_label(0, 2) == "0-2 km" and band_key(5, 7) == "5-7"
    assert band_label(7, math.inf) == "beyond 7 km" and band_key(7, math.inf) == "beyond_7"
