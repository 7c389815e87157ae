"""Districts: fitted into the provinces, cut with the bands, adding up to the provinces; border districts;
province status from the report."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.constants import ANALYSIS_CRS
from geo.engine.aoi import match_district, parse_aoi
from geo.engine.boundaries import bundled_districts, fit_districts, fit_provinces, load_boundaries
from geo.engine.summary import province_status
from geo.errors import GeoInputError
from geo.planning.queries import query
from tests.conftest import TM, hazards_tm, tm_box

REL = 2e-5

#: The figures of by_province.csv that its districts add up to (not the province's own area and slivers).
SUMMED = [
    "hazards",
    "area_km2",
    "area_sum_km2",
    "within_2km_km2",
    "within_7km_km2",
    "band_0-2_km2",
    "band_2-5_km2",
    "band_5-7_km2",
    "band_beyond_7_km2",
    "outside_cambodia_km2",
    "inside_cambodia_km2",
]


@pytest.fixture(scope="module")
def district_world(straight_world):
    """The straight world's two provinces, each split in two districts by a line at y = 0 that a
    second source draws 300 m off (so the fit has gaps and overlaps to settle)."""
    provinces, frontier = straight_world
    districts = gpd.GeoDataFrame(
        {
            "district_code": ["A1", "A2", "B1", "B2"],
            "district": ["Alpha North", "Alpha South", "Beta North", "Beta South"],
            "name_km": ["", "", "", ""],
            "province_code": ["A", "A", "B", "B"],
            "province": ["Alpha", "Alpha", "Beta", "Beta"],
        },
        geometry=[
            tm_box(0.3, 0.3, 20.3, 30),  # a little off its province's edges (another source)
            tm_box(0, -30, 20, 0.0),
            tm_box(20, 0, 40, 30.2),
            tm_box(20, -30.2, 40, 0),
        ],
        crs=TM,
    )
    return geo.Boundaries.from_frames(provinces, frontier, districts=districts)


def test_fitted_districts_tile_each_province_exactly(district_world):
    b = district_world
    prov = b.provinces.to_crs(ANALYSIS_CRS)
    fitted, _ = fit_provinces(prov, prov.dissolve())
    d = fit_districts(b.districts, fitted)
    for code, geom in zip(fitted["code"], fitted.geometry):
        own = d[d["code"] == code].geometry.values
        assert shapely.area(own).sum() == pytest.approx(geom.area, rel=1e-9)
        assert shapely.area(shapely.intersection(own[0], own[1])) == pytest.approx(0.0, abs=1e-3)
    # Alpha North's polygon starts 300 m east of the frontier: that strip goes to it (its longest edge).
    north = d.set_index("district_code").geometry["A1"]
    assert north.area / 1e6 == pytest.approx(20 * 30, rel=1e-4)


def test_rectangles_across_district_edges_are_split_exactly_and_add_up(district_world):
    # x 1-3 km, y -0.5 to +0.5 km: half in each of Alpha's districts, all within 0-2 / 2-5 km.
    hz = hazards_tm([(1, -0.5, 3, 0.5), (19, 5, 22, 6)])
    res = geo.analyze(hz, district_world)
    bd = res.by_district.set_index("district_code")
    assert bd.loc["A1", "area_km2"] == pytest.approx(1.0 + 1.0, rel=REL)  # 1 km2 of H1 and 1 km2 of H2
    assert bd.loc["A2", "area_km2"] == pytest.approx(1.0, rel=REL)
    assert bd.loc["A1", "within_2km_km2"] == pytest.approx(0.5, rel=REL)
    assert bd.loc["A2", "band_2-5_km2"] == pytest.approx(0.5, rel=REL)
    assert bd.loc["B1", "area_km2"] == pytest.approx(2.0, rel=REL)
    assert bd.loc["B2", "area_km2"] == pytest.approx(0.0, abs=1e-12)
    sums = res.by_district.groupby("code")[SUMMED].sum()
    bp = res.by_province.set_index("code")[SUMMED]
    assert np.allclose(sums.loc[bp.index].to_numpy(), bp.to_numpy(), rtol=0, atol=1e-9)
    # by_hazard names the district holding most of each piece.
    pieces = res.by_hazard.set_index(["hazard_id", "band"])
    assert set(res.by_hazard["district"]) <= {"Alpha North", "Alpha South", "Beta North"}
    assert pieces.loc[("H2", "beyond 7 km"), "district"].tolist() == ["Alpha North", "Beta North"]


def test_demo_districts_add_up_to_the_provinces_to_the_square_metre(demo_result):
    bd, bp = demo_result.by_district, demo_result.by_province
    assert set(bp.columns) - {"province", "code", "name_km"} <= set(bd.columns)  # the columns of by_province
    assert len(bd) == 197 and bd["district_code"].is_unique
    sums = bd.groupby("code")[SUMMED].sum().reindex(bp["code"]).fillna(0)
    diff = np.abs(sums.to_numpy() - bp.set_index("code")[SUMMED].to_numpy())
    assert diff[:, 1:].max() * 1e6 < 1.0  # m2
    assert (diff[:, 0] == 0).all()  # hazard counts
    fitted = demo_result.territory.districts
    prov_area = demo_result.provinces.set_index("code").area
    assert np.allclose(fitted.groupby("code").geometry.apply(lambda g: g.area.sum()).loc[prov_area.index], prov_area)
    named = demo_result.by_hazard["district"]
    assert (named != "").all() and named.isin(set(bd["district"])).all()


def test_bundled_districts_carry_gazetteer_codes_and_khmer_names():
    d = bundled_districts()
    assert len(d) == 197 and d["district_code"].str.fullmatch(r"\d{4}").all()
    assert (d["name_km"] != "").all()
    # The code's first two digits are the province's number (ISO 3166-2:KH uses the same numbers).
    assert (d["district_code"].str[:2].astype(int) == d["province_code"].str[3:].astype(int)).all()
    malai = d[d["district"] == "Malai"].iloc[0]
    assert (malai["district_code"], malai["province"], malai["name_km"]) == ("0109", "Banteay Meanchey", "ម៉ាឡៃ")


def test_a_shared_district_name_asks_for_the_province(demo_result):
    fitted = demo_result.territory.districts
    with pytest.raises(GeoInputError, match=r"Samraong, Takeo .*Samraong, Oddar Meanchey"):
        match_district("Samraong", fitted)
    hit = match_district("samraong, oddar meanchey", fitted)
    assert hit["district_code"].tolist() == ["2204"]
    assert match_district("0109", fitted)["district"].tolist() == ["Malai"]
    assert match_district("Atlantis", fitted) is None


def test_query_by_district_equals_its_row(demo_result):
    row = demo_result.by_district.set_index("district").loc["Malai"]
    q = query(demo_result, district="Malai")
    assert q["area_km2"] == pytest.approx(row["area_km2"], abs=1e-9)
    q7 = query(demo_result, district="0109", within_km=7)
    assert q7["area_km2"] == pytest.approx(row["within_7km_km2"], abs=1e-9)
    assert q7["filters"]["district"] == "Malai, Banteay Meanchey"


def test_border_districts_are_those_with_land_within_7km(demo_result, boundaries):
    s = demo_result.summary["border_districts"]
    flagged = demo_result.by_district[demo_result.by_district["border_district"]]
    assert s["count"] == len(flagged) == len(s["districts"])
    assert set(flagged["district_code"]) == {d["district_code"] for d in s["districts"]}
    # Every district with contamination within 7 km is a border district, and they hold all of it.
    within = demo_result.by_district[demo_result.by_district["within_7km_km2"] > 0]
    assert within["border_district"].all()
    assert s["within_7km_km2"] == pytest.approx(demo_result.summary["within_7km_km2"], abs=1e-9)
    # A district far from the frontier is not one (Phnom Penh's).
    assert not demo_result.by_district.loc[demo_result.by_district["code"] == "KH-12", "border_district"].any()
    aoi = parse_aoi("border-districts", boundaries)
    assert aoi.kind == "district" and f"({s['count']}," in aoi.label


def test_province_status_from_the_report(demo_result):
    status = province_status()
    assert len(status) == 18 and status["code"].is_unique
    bp = demo_result.by_province.set_index("province")
    assert bp.loc["Kep", "declared_mine_free"] and bp.loc["Kep", "mine_free_status"] == "declared 2022"
    assert bp.loc["Mondul Kiri", "mine_free_status"] == "declared 2023"
    assert not bp.loc["Siem Reap", "declared_mine_free"] and bp.loc["Siem Reap", "mine_free_status"] == "expected 2024"
    assert not bp.loc["Pailin", "declared_mine_free"] and pd.isna(bp.loc["Pailin", "mine_free_status"])
    assert int(bp["declared_mine_free"].sum()) == 14  # "fourteen" in the report's text
    # The synthetic demo follows Table 1 of end 2023: no hazard in a province declared mine free.
    assert demo_result.validation["in_mine_free_province"]["count"] == 0


def test_a_hazard_in_a_mine_free_province_is_flagged(boundaries):
    kep = boundaries.provinces.set_index("code").geometry["KH-23"]
    spot = kep.representative_point()
    hz = gpd.GeoDataFrame({"hazard_id": ["IN-KEP"]}, geometry=[shapely.buffer(spot, 0.002)], crs="EPSG:4326")
    res = geo.analyze(hz, boundaries=boundaries, error_draws=0)
    flag = res.validation["in_mine_free_province"]
    assert flag["count"] == 1 and flag["items"][0]["hazard_id"] == "IN-KEP"
    assert flag["items"][0]["declared"] == 2022


def test_province_sets_compared(boundaries):
    am = load_boundaries("amcharts")
    gb = load_boundaries("geoboundaries")
    assert gb.sources["provinces"]["set"] == "geoboundaries" == boundaries.sources["provinces"]["set"]
    assert am.sources["provinces"]["file"].endswith("amcharts/provinces.gpkg")
    assert len(am.provinces) == len(gb.provinces) == 25
    # The geoBoundaries provinces follow the Thai frontier far more closely than amCharts' outlines.
    line = shapely.union_all(gb.frontier[gb.frontier["neighbor"] == "THA"].to_crs(ANALYSIS_CRS).geometry.values)
    points = shapely.line_interpolate_point(line, np.arange(0, line.length, 500.0))

    def median_off(b):
        edge = shapely.boundary(shapely.union_all(b.provinces.to_crs(ANALYSIS_CRS).geometry.values))
        return float(np.median(shapely.distance(edge, points)))

    assert median_off(gb) < 50 < 150 < median_off(am)


def test_cli_writes_by_district_csv_and_answers_for_border_districts(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "geo.cli", "analyze", "--aoi", "border-districts", "--out", str(out), "-q"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    table = pd.read_csv(out / "by_district.csv", dtype={"district_code": str})
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(table) == summary["border_districts"]["count"] and table["border_district"].all()
    assert table["synthetic"].all() and table["data_notice"].iloc[0].startswith("SYNTHETIC")
    assert "districts" in set(gpd.list_layers(out / "zones.gpkg")["name"])
    layer = gpd.read_file(out / "zones.gpkg", layer="districts")
    assert set(layer["district_code"]) >= set(table["district_code"])


def test_cells_carry_no_specks_and_tile_the_territory(demo_result):
    """Differences of nearly coincident district and band edges leave specks of 1e-9 m2; GEOS then
    intersects a hazard with such a cell wrongly (whole, though it does not touch it), so they are
    dropped, and the cells still tile the territory to well under a square metre."""
    from geo.engine.overlay import SPECK_M2

    t = demo_result.territory
    parts = shapely.get_parts(t.cells.geometry.values)
    assert shapely.area(parts).min() >= SPECK_M2
    assert shapely.area(t.cells.geometry.values).sum() == pytest.approx(t.land.area, abs=1.0)
    # Land counted once, cell by cell, equals the union of the hazards in that cell (here: Malai's).
    malai = t.cells[t.cells["district_code"] == "0109"]
    union = shapely.union_all(demo_result.hazards.geometry.values)
    for fine, cell in zip(malai["zone"], malai.geometry.values):
        lp = demo_result.land_pieces
        got = lp.loc[(lp["district_code"] == "0109") & (lp["fine_index"] == fine), "area_m2"].sum()
        assert got == pytest.approx(shapely.intersection(union, cell).area, abs=1e-3)
