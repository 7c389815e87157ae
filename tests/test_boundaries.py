"""The bundled boundaries hold the facts they are meant to hold."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geo
from geo.constants import ANALYSIS_CRS, CAMBODIA_OFFICIAL_AREA_KM2
from geo.crs import GEOD, geodesic_area_m2
from geo.engine.boundaries import fit_provinces
from geo.engine.zones import frontier_buffers
from geo.names import PROVINCE_NAMES, normalize_name, province_code
from tests.conftest import NAME_VARIANTS, hazards_tm

THAI_BORDER_PROVINCES = {
    "Koh Kong",
    "Pursat",
    "Battambang",
    "Pailin",
    "Banteay Meanchey",
    "Oddar Meanchey",
    "Preah Vihear",
}


def test_25_provinces_with_unique_iso_codes(boundaries):
    p = boundaries.provinces
    assert len(p) == 25
    assert p["code"].is_unique
    assert set(p["code"]) == {f"KH-{i}" for i in range(1, 26)}
    assert "Tboung Khmum" in set(p["province"])
    assert p["name_km"].str.len().min() > 0
    assert p.geometry.is_valid.all()


def test_province_areas_sum_to_official_area(boundaries):
    # The geoBoundaries provinces leave the Tonle Sap lake out (about 2,500 km2 at low water): with the
    # land the fit gives them (the lake and slivers along the outline), they make up the country.
    total = boundaries.provinces.to_crs(ANALYSIS_CRS).area.sum() / 1e6
    assert 0.98 < total / CAMBODIA_OFFICIAL_AREA_KM2 < 0.995
    fitted, slivers = fit_provinces(boundaries.provinces.to_crs(ANALYSIS_CRS), boundaries.outline.to_crs(ANALYSIS_CRS))
    assert abs(fitted.area.sum() / 1e6 - CAMBODIA_OFFICIAL_AREA_KM2) / CAMBODIA_OFFICIAL_AREA_KM2 < 0.01
    assert 2_000 < slivers["area_m2"].sum() / 1e6 < 3_000
    amcharts = geo.load_boundaries("amcharts").provinces.to_crs(ANALYSIS_CRS).area.sum() / 1e6
    assert abs(amcharts - CAMBODIA_OFFICIAL_AREA_KM2) / CAMBODIA_OFFICIAL_AREA_KM2 < 0.01


def test_equal_area_agrees_with_geodesic_area(boundaries):
    projected = boundaries.provinces.to_crs(ANALYSIS_CRS).area.to_numpy()
    geodesic = geodesic_area_m2(boundaries.provinces.geometry.values)
    assert np.all(np.abs(projected - geodesic) / geodesic < 1e-4)


def test_thai_frontier_length(boundaries):
    line = boundaries.frontier_with("THA").geometry.iloc[0]
    length_km = GEOD.geometry_length(line) / 1000
    assert abs(length_km - 800) / 800 < 0.10
    assert set(boundaries.frontier["neighbor"]) == {"THA", "LAO", "VNM"}


def test_exactly_seven_provinces_within_7km_of_thailand(boundaries):
    zone = frontier_buffers(boundaries.frontier_with("THA").geometry.values, [7000.0])[0]
    land = shapely.union_all(boundaries.outline.to_crs(ANALYSIS_CRS).geometry.values)
    fitted, _ = fit_provinces(boundaries.provinces.to_crs(ANALYSIS_CRS), boundaries.outline.to_crs(ANALYSIS_CRS))
    inside = shapely.intersection(zone, land)
    areas = shapely.area(shapely.intersection(fitted.geometry.values, inside))
    touching = set(fitted.loc[areas > 1e4, "province"])  # more than a hectare within 7 km
    assert touching == THAI_BORDER_PROVINCES


def test_fitted_provinces_tile_the_outline(boundaries):
    outline = boundaries.outline.to_crs(ANALYSIS_CRS)
    fitted, slivers = fit_provinces(boundaries.provinces.to_crs(ANALYSIS_CRS), outline)
    land = outline.area.sum()
    assert fitted.area.sum() == pytest.approx(land, rel=1e-9)
    union = shapely.union_all(fitted.geometry.values)
    assert union.area == pytest.approx(land, rel=1e-9)  # no overlaps
    assert slivers["area_m2"].sum() > 0
    assert fitted["sliver_m2"].sum() == pytest.approx(slivers["area_m2"].sum())


@pytest.mark.parametrize(
    ("name", "code"),
    [*NAME_VARIANTS, ("Taakaev", "KH-21"), ("បាត់ដំបង", "KH-2"), ("Atlantis", None)],
)
def test_province_name_variants(name, code):
    assert province_code(name) == code


def test_every_english_name_maps_to_its_code():
    for code, (english, khmer, variants) in PROVINCE_NAMES.items():
        assert province_code(english) == code
        assert province_code(khmer) == code
        assert all(province_code(v) == code for v in variants)
    assert normalize_name("Kâmpóng Cham") == "kampongcham"


def test_boundaries_from_frames_carry_their_provenance_into_the_summary(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(1, 0, 3, 1)])
    mine = geo.Boundaries.from_frames(
        provinces, frontier, sources={"frontier": {"file": "survey_2024.gpkg", "attribution": "my survey"}}
    )
    res = geo.analyze(hz, mine, frontier_tolerance_m=0)
    assert res.summary["inputs"]["frontier"] == {"file": "survey_2024.gpkg", "attribution": "my survey"}
    assert "from_frames" in res.summary["inputs"]["provinces"]["note"]
    assert res.summary["within_2km_km2"] == pytest.approx(1.0, rel=1e-4)


def test_analyze_refuses_anything_but_a_boundaries_value(straight_world):
    provinces, _ = straight_world
    with pytest.raises(TypeError, match=r"\.from_frames"):
        geo.analyze(hazards_tm([(1, 0, 3, 1)]), provinces)


def test_from_frames_names_missing_columns(straight_world):
    provinces, frontier = straight_world
    with pytest.raises(geo.GeoInputError, match="missing province"):
        geo.Boundaries.from_frames(provinces.drop(columns="province"), frontier)
    with pytest.raises(geo.GeoInputError, match="must hold lines"):
        geo.Boundaries.from_frames(provinces, provinces)
