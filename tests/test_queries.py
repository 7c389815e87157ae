"""Planners' questions: distances, curves, ranges and names, against answers known by hand."""

from __future__ import annotations

import io
import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import geo
from geo.cli import main
from geo.constants import WGS84
from geo.crs import geodesic_distance_m, transform_geoms
from geo.engine.analysis import distance_curve
from geo.errors import GeoInputError
from geo.names import parse_distance_m
from geo.planning.queries import query, resolve_band, resolve_province, where
from tests.conftest import LAT0, LON0, NAME_VARIANTS, TM, hazards_tm

GEOD = Geod(ellps="WGS84")
REL = 2e-5


@pytest.fixture(scope="module")
def straight(straight_world):
    """A 5 km x 1 km hazard from 1 to 6 km east of the straight frontier, a second one 20 km out."""
    provinces, frontier = straight_world
    hz = hazards_tm([(1, 0, 6, 1), (20, 0, 21, 1)], ids=["NEAR", "FAR"])
    hz["status"] = ["SHA", "CHA"]
    hz["device_type"] = ["AP", "AV"]
    return geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=250.0)


def test_curve_is_analytic_on_a_straight_frontier(straight):
    ds = [0, 0.5, 1, 1.5, 2, 3.3, 5, 6, 8, 19, 20.5, 25]
    got = straight.within(ds)["total_km2"].to_numpy()
    expected = [min(max(d - 1, 0), 5) + min(max(d - 20, 0), 1) for d in ds]
    assert got == pytest.approx(expected, rel=REL, abs=1e-9)


def test_curve_at_2_and_7_km_equals_the_analysis_exactly(demo_result):
    curve = distance_curve(demo_result, max_km=8, step_km=0.5)
    at = curve.set_index("distance_km")["total_km2"]
    assert at[2.0] == demo_result.summary["within_2km_km2"]
    assert at[7.0] == demo_result.summary["within_7km_km2"]
    assert (np.diff(curve["total_km2"]) >= 0).all()  # more distance, never less area
    top = [c for c in curve.columns if c.endswith("_km2") and c != "total_km2"]
    assert len(top) == 5 and (curve[top].sum(axis=1) <= curve["total_km2"] + 1e-9).all()


def test_curve_equals_the_land_cut_by_each_buffer_whole(demo_result):
    """Two independent ways to the curve agree: the pieces' sums with only the pieces a distance may
    cross cut (bounded by grid squares, then piece by piece), and the union of every hazard on the
    territory cut by the whole buffer at each distance - for the analysed line and another line."""
    from geo.engine.curve import within_curve
    from geo.engine.zones import frontier_buffers, frontier_lines

    ds = [0.7, 1.3, 2.0, 3.7, 6.2, 9.0]
    land = shapely.intersection(shapely.union_all(demo_result.hazards.geometry.values), demo_result.territory.land)
    got = demo_result.within(ds)["total_km2"]
    other = frontier_lines(demo_result.alternative_lines.iloc[[0]])
    pieces = demo_result.land_pieces
    n = len(demo_result.territory.fine_bands)
    unbounded = pd.DataFrame({"inner_km": np.zeros(n), "outer_km": np.full(n, np.inf)})  # bands bound nothing
    got_other = within_curve(pieces, unbounded, demo_result.provinces["code"], other, ds)["total_km2"]
    for line, curve in ((demo_result.territory.frontier, got), (other, got_other)):
        whole = [
            shapely.area(shapely.intersection(land, b)) / 1e6 for b in frontier_buffers(line, [d * 1000 for d in ds])
        ]
        assert curve.to_numpy() == pytest.approx(whole, rel=1e-12, abs=1e-9)
    assert got_other.to_numpy() != pytest.approx(got.to_numpy(), rel=1e-3)  # another line, other figures


def test_uncertainty_ranges_are_analytic(straight):
    u = straight.summary["uncertainty"]
    assert u["tolerance_m"] == 250.0
    assert (u["within_2km_km2"]["low"], u["within_2km_km2"]["central"], u["within_2km_km2"]["high"]) == pytest.approx(
        (0.75, 1.0, 1.25), rel=REL
    )
    assert u["within_7km_km2"]["low"] == pytest.approx(5.0, rel=REL) == u["within_7km_km2"]["high"]
    b57 = next(b for b in u["bands"] if b["band"] == "5-7 km")
    assert (b57["low"], b57["central"], b57["high"]) == pytest.approx((0.75, 1.0, 1.25), rel=REL)


def test_default_tolerance_is_the_measured_spread_of_the_lines(demo_result):
    from geo.constants import FRONTIER_TOLERANCE_M

    u = demo_result.summary["uncertainty"]
    assert u["tolerance_m"] == FRONTIER_TOLERANCE_M == 500.0
    # The range is the spread of the line moved 500 m either way, as in frontier_sensitivity.
    moved = {e["shift_m"]: e for e in demo_result.summary["frontier_sensitivity"] if e["kind"] == "analysed"}
    assert u["within_2km_km2"]["low"] == pytest.approx(moved[-500.0]["within_2km_km2"], rel=1e-12)
    assert u["within_2km_km2"]["high"] == pytest.approx(moved[500.0]["within_2km_km2"], rel=1e-12)
    for key in ("within_2km_km2", "within_7km_km2"):
        assert u[key]["low"] <= u[key]["central"] <= u[key]["high"]
        assert u[key]["central"] == demo_result.summary[key]


def test_where_a_point_at_known_distance(straight):
    lon, lat, _ = GEOD.fwd(LON0, LAT0 + 0.004, 90.0, 3500.0)  # 3.5 km east of the frontier meridian
    ans = where(straight, (lat, lon), radius_m=600)
    assert ans["distance_to_frontier_m"] == pytest.approx(3500.0, abs=0.5)
    assert ans["band"] == "2-5 km" and ans["province"] == "Alpha" and ans["inside_cambodia"]
    assert [h["hazard_id"] for h in ans["hazards"]] == ["NEAR"]  # inside it
    assert ans["hazards"][0]["distance_m"] == 0.0
    lon2, lat2, _ = GEOD.fwd(LON0, LAT0 + 0.02, 90.0, 7000.0)  # 7 km east, ~1.1 km north of NEAR's top edge
    ans2 = where(straight, (lat2, lon2), radius_m=3000)
    north_km = transform_geoms(shapely.Point(lon2, lat2), WGS84, TM).y - 1000.0
    expected = float(np.hypot(1000.0, north_km))
    assert ans2["hazards"][0]["distance_m"] == pytest.approx(expected, abs=1.0)


def test_where_a_polygon_site(straight):
    site = transform_geoms(shapely.segmentize(shapely.box(0, 0.5e3, 8e3, 1.5e3), 10), TM, WGS84)  # 8 km x 1 km
    ans = where(straight, site, radius_m=10)
    bands = {b["band"]: b for b in ans["bands"]}
    assert ans["distance_to_frontier_m"] == pytest.approx(0.0, abs=0.5)
    assert bands["0-2 km"]["area_m2"] == pytest.approx(2e6, rel=REL)
    assert bands["beyond 7 km"]["area_m2"] == pytest.approx(1e6, rel=REL)
    assert bands["0-2 km"]["hazard_area_m2"] == pytest.approx(0.5e6, rel=REL)  # x 1-2 km, y 0.5-1 km
    assert ans["hazard_area_m2"] == pytest.approx(2.5e6, rel=REL)


def test_site_distances_match_geod_on_the_real_frontier(boundaries):
    """Brute force: the frontier's nearest stretch sampled every ~2 m, measured with Geod.inv."""
    front = boundaries.frontier_with("THA").geometry.iloc[0]
    rng = np.random.default_rng(3)
    coords = shapely.get_coordinates(front)  # one part: the frontier with Thailand is a single line
    for k in rng.choice(len(coords) - 1, 6, replace=False):
        lon0, lat0 = coords[k]
        lon, lat, _ = GEOD.fwd(lon0, lat0, rng.uniform(0, 360), rng.uniform(500, 9000))
        got = geodesic_distance_m((lon, lat), front)
        near = coords[max(k - 80, 0) : k + 80]
        best = np.inf
        for (x0, y0), (x1, y1) in itertools.pairwise(near):
            n = max(int(GEOD.inv(x0, y0, x1, y1)[2] / 2.0), 2)
            xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
            best = min(best, GEOD.inv(np.full(n, lon), np.full(n, lat), xs, ys)[2].min())
        assert got == pytest.approx(best, abs=1.0)


def test_sites_in_bulk_answer_as_one_by_one(demo_result, straight):
    """geo.planning.sites.where_points (used by where --file) against where() site by site, on the demo and on
    the analytic world: random points, points near hazards and near the frontier, a point outside."""
    from geo.constants import ANALYSIS_CRS
    from geo.planning.sites import where_points

    rng = np.random.default_rng(11)
    for res, spread in ((demo_result, 300.0), (straight, 2000.0)):
        land = res.territory.land
        x0, y0, x1, y1 = land.bounds
        xy = rng.uniform((x0 - 5e3, y0), (x1, y1), size=(400, 2))  # some beyond the frontier
        hz = shapely.get_coordinates(shapely.point_on_surface(res.hazards.geometry.values))
        xy = np.vstack([xy, hz[rng.choice(len(hz), min(len(hz), 150))] + rng.normal(0, spread, (min(len(hz), 150), 2))])
        pts = transform_geoms(shapely.points(xy), ANALYSIS_CRS, WGS84)
        lat, lon = shapely.get_y(pts), shapely.get_x(pts)
        bulk = where_points(lat, lon, res, radius_m=1500)
        one = [where(res, a, b, radius_m=1500) for a, b in zip(lat, lon)]
        assert not all(a["inside_cambodia"] for a in one) and any(a["hazards"] for a in one)
        for a, b in zip(bulk, one):
            for key in ("site", "province", "code", "inside_cambodia", "band", "radius_m"):
                assert a[key] == b[key], (key, a, b)
            assert a["distance_to_frontier_m"] == pytest.approx(b["distance_to_frontier_m"], abs=0.011)
            assert [h["hazard_id"] for h in a["hazards"]] == [h["hazard_id"] for h in b["hazards"]]
            for ha, hb in zip(a["hazards"], b["hazards"]):
                assert ha["distance_m"] == pytest.approx(hb["distance_m"], abs=0.011)
                assert ha["area_m2"] == hb["area_m2"]


@pytest.mark.parametrize(("name", "expected"), [*NAME_VARIANTS, ("otdar", "KH-22"), ("banteay", "KH-1")])
def test_province_names(demo_result, name, expected):
    assert resolve_province(name, demo_result) == expected


def test_unknown_province_suggests(demo_result):
    with pytest.raises(GeoInputError, match="did you mean Banteay Meanchey"):
        resolve_province("Banteay Manchey", demo_result)
    with pytest.raises(GeoInputError, match="unknown band"):
        resolve_band("3-4", demo_result)
    assert resolve_band("beyond 7", demo_result) == 3 and resolve_band("0-2 km", demo_result) == 0


def test_groups_count_overlaps_once_within_each_group_only(straight_world):
    """Overlapping hazards of two statuses: each status' land is its own hazards' union (the overlap
    with the other status counts in both), the total the union of all; by band, the same land."""
    provinces, frontier = straight_world
    hz = hazards_tm([(1, 0, 3, 1), (2, 0, 4, 1), (2.5, 0, 3.5, 1)], ids=["A", "B", "C"])
    hz["status"] = ["SHA", "CHA", "SHA"]
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier), error_draws=0)
    answer = query(res, by="status")
    groups = {g["status"]: g["area_km2"] for g in answer["groups"]}
    assert answer["area_km2"] == pytest.approx(3.0, rel=REL) and answer["area_sum_km2"] == pytest.approx(5.0, rel=REL)
    assert groups["SHA"] == pytest.approx(2.5, rel=REL) and groups["CHA"] == pytest.approx(2.0, rel=REL)
    by_band = {g["band"]: g["area_km2"] for g in query(res, by="band")["groups"]}
    assert by_band["0-2 km"] == pytest.approx(1.0, rel=REL) and by_band["2-5 km"] == pytest.approx(2.0, rel=REL)


def test_query_uses_the_analysis_numbers(demo_result, straight):
    q = query(demo_result, province="Pailin", band="0-2")
    bp = demo_result.by_province.set_index("province").loc["Pailin"]
    assert q["area_km2"] == pytest.approx(bp["band_0-2_km2"], rel=1e-12)
    everything = query(demo_result)
    assert everything["hazards"] == 4330 and everything["area_sum_km2"] == pytest.approx(435.064085, abs=1e-6)
    assert query(straight, type="av")["hazards"] == 1 and query(straight, status="SHA")["area_km2"] == pytest.approx(
        5.0, rel=REL
    )
    assert query(straight, type="AP", band="0-2")["area_km2"] == pytest.approx(1.0, rel=REL)


def test_parse_distance():
    assert parse_distance_m("250m") == 250.0 and parse_distance_m("1km") == 1000.0
    with pytest.raises(GeoInputError):
        parse_distance_m("far")


def test_cli_where_query_curve(tmp_path, capsys):
    assert main(["where", "14.35632", "103.46527", "--format", "json", "--radius", "500m"]) == 0
    ans = json.loads(capsys.readouterr().out)
    assert {"province", "code", "distance_to_frontier_m", "band", "hazards"} <= set(ans)
    assert {"hazard_id", "distance_m", "area_m2"} <= set(ans["hazards"][0])
    assert main(["where", "103.47", "14.35"]) == 2  # swapped
    assert "swap" in capsys.readouterr().err
    sites = tmp_path / "sites.csv"
    sites.write_text("name,lat,lon\nA,14.35632,103.46527\nB,12.5,104.9\n", encoding="utf-8")
    assert main(["where", "--file", str(sites), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 3 and "Oddar Meanchey" in out
    assert main(["query", "--province", "Pouthisat", "--band", "0-2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["filters"]["province"] == "Pursat"
    assert main(["curve", "--max", "8", "--step", "1", "--out", str(tmp_path / "c.csv")]) == 0
    assert (tmp_path / "c.csv").exists() and (tmp_path / "c.png").exists()


def test_cli_frontier_tolerance(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", "--out", str(out), "-q", "--frontier-tolerance", "250m"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    u = s["uncertainty"]
    assert u["tolerance_m"] == 250.0
    assert u["within_7km_km2"]["low"] < s["within_7km_km2"] < u["within_7km_km2"]["high"]


def test_where_accepts_the_forms_a_planner_types(demo_result):
    a = where(demo_result, 14.35632, 103.46527)
    b = where(demo_result, (14.35632, 103.46527))
    c = where(demo_result, "POINT (103.46527 14.35632)")
    assert a["distance_to_frontier_m"] == b["distance_to_frontier_m"] == c["distance_to_frontier_m"]
    with pytest.raises(GeoInputError):
        where(demo_result, 1, 2, 3)


def test_top_level_api():
    assert callable(geo.make_map) and callable(geo.where) and callable(geo.distance_curve)
    zones = geo.border_zones(bands_km=(2, 7))  # bundled Thai frontier and outline by default
    assert list(zones["band"]) == ["0-2 km", "2-7 km", "beyond 7 km"]


def test_out_extension_picks_the_format(tmp_path, capsys):
    sites = tmp_path / "sites.csv"
    sites.write_text("name,lat,lon\nA,14.35632,103.46527\nB,12.5,104.9\n", encoding="utf-8")
    assert main(["where", "--file", str(sites), "--out", str(tmp_path / "w.csv")]) == 0
    table = pd.read_csv(tmp_path / "w.csv")
    assert len(table) == 2 and {"province", "distance_to_frontier_m", "band"} <= set(table.columns)
    assert main(["where", "--file", str(sites), "--out", str(tmp_path / "w.geojson")]) == 0
    assert json.loads((tmp_path / "w.geojson").read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    assert main(["query", "--province", "pailin", "--out", str(tmp_path / "q.json")]) == 0
    assert json.loads((tmp_path / "q.json").read_text(encoding="utf-8"))["filters"]["province"] == "Pailin"
    capsys.readouterr()
    assert main(["query", "--province", "pailin", "--out", str(tmp_path / "q.docx")]) == 2
    assert ".csv, .json, .txt" in capsys.readouterr().err and not (tmp_path / "q.docx").exists()
    assert main(["query", "--province", "pailin", "--format", "csv", "--out", str(tmp_path / "q.json")]) == 2
    assert "does not match" in capsys.readouterr().err


def test_unknown_filter_values_are_named_with_the_values_present(capsys):
    assert main(["query", "--type", "XX"]) == 2
    err = capsys.readouterr().err
    assert "no hazard has type 'XX'" in err and "AP" in err
    assert main(["query", "--status", "SHAA"]) == 2
    assert "SHA" in capsys.readouterr().err


def test_sites_files_as_planners_make_them(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    sites = tmp_path / "villages.csv"
    sites.write_text(
        "name;lat;lon;households\nA;14.35632;103.46527;120\n;;;\nB;12,5;104,9;40\nC;0;0;1\n", encoding="utf-8"
    )
    assert main(["where", "--file", str(sites), "--out", str(tmp_path / "w.csv")]) == 0
    err = capsys.readouterr().err
    assert "semicolon" in err and "line 3: no lat/lon, skipped" in err and "km from Cambodia, skipped" in err
    table = pd.read_csv(tmp_path / "w.csv")
    assert table["name"].tolist() == ["A", "B"] and table["households"].tolist() == [120, 40]
    assert {"lat", "lon", "province", "band"} <= set(table.columns)  # the sites' own columns, then the answer
    assert main(["where", "0", "0"]) == 2
    assert "km from Cambodia" in capsys.readouterr().err
    # A multi-layer file: the sites' layer has its own option.
    gpkg = tmp_path / "sites.gpkg"
    pts = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(103.46527, 14.35632)], crs=4326)
    pts.to_file(gpkg, layer="villages", engine="pyogrio")
    pts.to_file(gpkg, layer="schools", engine="pyogrio")
    assert main(["where", "--file", str(gpkg)]) == 2
    assert "--site-layer" in capsys.readouterr().err
    assert main(["where", "--file", str(gpkg), "--site-layer", "schools", "--format", "json"]) == 0
    ans = json.loads(capsys.readouterr().out)
    assert ans["site"] == "A" and ans["province"] == "Oddar Meanchey" and ans["site_attributes"] == {"name": "A"}


def test_planners_questions_grouped_and_cumulative(demo_result, capsys):
    seven = query(demo_result, within_km=7)
    assert seven["area_km2"] == pytest.approx(demo_result.summary["within_7km_km2"], rel=1e-9)
    grouped = query(demo_result, within_km=7, by="province,band")
    assert sum(g["area_km2"] for g in grouped["groups"]) == pytest.approx(seven["area_km2"], rel=1e-9)
    bp = demo_result.by_province.set_index("province")
    for g in grouped["groups"]:
        key = "band_" + g["band"].replace(" km", "") + "_km2"
        assert g["area_km2"] == pytest.approx(bp.loc[g["province"], key], rel=1e-9)
    two = query(demo_result, province=["Pailin", "koh kong"], within_km=2)
    assert two["area_km2"] == pytest.approx(bp.loc[["Pailin", "Koh Kong"], "within_2km_km2"].sum(), rel=1e-9)
    with pytest.raises(geo.GeoInputError, match="not a band edge"):
        query(demo_result, within_km=6)
    assert main(["query", "--within", "7", "--by", "province", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["area_km2"].sum() == pytest.approx(demo_result.summary["within_7km_km2"], rel=1e-6)


def test_curve_distances_take_units(tmp_path):
    assert main(["curve", "--max", "8km", "--step", "2000m", "--out", str(tmp_path / "c.csv")]) == 0
    assert pd.read_csv(tmp_path / "c.csv")["distance_km"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_questions_take_a_result_and_the_demo_only_by_name(demo_result, caplog):
    from geo.engine import analysis

    assert demo_result.curve(max_km=7, step_km=1, top=0)["total_km2"].iloc[-1] == demo_result.summary["within_7km_km2"]
    # No result, no answer made up from the demo: the error says what to pass.
    for ask in (lambda: query(None, province="Pailin"), lambda: where(None, 14.35632, 103.46527)):
        with pytest.raises(GeoInputError, match='"demo" for the bundled SYNTHETIC demo'):
            ask()
    with pytest.raises(TypeError):
        query(province="Pailin")  # the result is required
    analysis._demo_result.cache_clear()
    with caplog.at_level("WARNING", logger="geo"):
        by_name = query("demo", province="Pailin")
        query("Demo", province="Pailin")
    # Asked for by name, the synthetic demo is analysed once and the user is told.
    assert caplog.text.count("answering from the bundled SYNTHETIC demo") == 1
    assert by_name == query(demo_result, province="Pailin")
    assert where("demo", 14.35632, 103.46527) == where(demo_result, 14.35632, 103.46527)


def test_where_wkt_with_swapped_coordinates_is_named(capsys):
    assert main(["where", "--wkt", "POINT (13.35 102.55)"]) == 2
    err = capsys.readouterr().err
    assert "did you swap them? WKT gives longitude first" in err and "Traceback" not in err


def test_answers_carry_the_documented_keys_of_their_types(demo_result):
    from geo.planning.queries import NearbyHazard, QueryAnswer, SiteBand, WhereAnswer

    point = where(demo_result, 14.35632, 103.46527)
    every_site = {
        "site",
        "province",
        "code",
        "inside_cambodia",
        "distance_to_frontier_m",
        "band",
        "radius_m",
        "hazards",
    }
    assert every_site <= set(point) <= set(WhereAnswer.__annotations__)
    assert set(point["hazards"][0]) == set(NearbyHazard.__annotations__)
    box = "POLYGON((103.4 14.3, 103.5 14.3, 103.5 14.4, 103.4 14.4, 103.4 14.3))"
    poly = where(demo_result, box, radius_m=10)
    assert every_site | {"area_m2", "hazard_area_m2", "bands"} <= set(poly) <= set(WhereAnswer.__annotations__)
    assert all(set(b) == set(SiteBand.__annotations__) for b in poly["bands"])
    q = query(demo_result, within_km=7, by="province")
    assert {"filters", "hazards", "pieces", "area_km2", "area_sum_km2", "groups"} <= set(q)
    assert set(q) <= set(QueryAnswer.__annotations__)


def test_sites_from_a_plain_workbook_are_read_by_their_lat_lon_columns(tmp_path, capsys):
    """A workbook of sites (no geometry, as field offices keep them) answers like a CSV; one without
    lat/lon columns is a clear error, not an internal one."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["village", "lat", "lon"])
    sheet.append(["Phum Ta Sen", 14.35632, 103.46527])
    sheet.append(["no place", None, None])
    book.save(tmp_path / "sites.xlsx")
    assert main(["where", "--file", str(tmp_path / "sites.xlsx"), "--format", "csv"]) == 0
    out = capsys.readouterr()
    table = pd.read_csv(io.StringIO(out.out))
    assert len(table) == 1 and table["band"].iloc[0] == "0-2 km" and table["province"].iloc[0] == "Oddar Meanchey"
    assert "row 3: no lat/lon, skipped" in out.err
    sheet.delete_cols(2, 2)
    book.save(tmp_path / "no_coords.xlsx")
    assert main(["where", "--file", str(tmp_path / "no_coords.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "needs lat and lon columns" in err and "no_coords.xlsx" in err and "internal error" not in err


def test_answers_become_tables(demo_result):
    grouped = query(demo_result, within_km=7, by="province")
    table = grouped.to_frame()
    assert list(table["province"]) == [g["province"] for g in grouped["groups"]]
    assert table["area_km2"].sum() == pytest.approx(demo_result.summary["within_7km_km2"], rel=1e-9)
    one = query(demo_result, province="Pailin", band="0-2").to_frame()
    assert len(one) == 1 and one.loc[0, "province"] == "Pailin" and one.loc[0, "band"] == "0-2 km"
    site = where(demo_result, 14.35632, 103.46527)
    row = site.to_frame()
    assert len(row) == 1 and row.loc[0, "band"] == "0-2 km" and row.loc[0, "province"] == "Oddar Meanchey"
    assert row.loc[0, "nearest_hazard_id"] == site["hazards"][0]["hazard_id"]
    assert row.loc[0, "hazards_nearby"] == len(site["hazards"])


def test_where_measures_to_every_border_and_names_the_nearest(demo_result):
    """A site in Ratanak Kiri near Viet Nam: far from the Thai frontier the figures are measured from,
    but 2-5 km from a border the restriction applies along. Distances checked against pyproj's
    geodesic distance to the densified border line (an independent method)."""
    geod = Geod(ellps="WGS84")
    vnm = demo_result.border_lines["VNM"]
    dense = shapely.get_coordinates(shapely.segmentize(vnm, 0.0002))
    land = shapely.union_all(demo_result.provinces.to_crs("EPSG:4326").geometry.values)
    x0, y0 = dense[len(dense) // 3]
    site = None
    for az in range(0, 360, 15):
        lon, lat, _ = geod.fwd(x0, y0, az, 3900.0)
        if shapely.contains(land, shapely.Point(lon, lat)):
            _, _, d = geod.inv(np.full(len(dense), lon), np.full(len(dense), lat), dense[:, 0], dense[:, 1])
            if 3000 < d.min() < 5000:
                site, truth = (lat, lon), float(d.min())
                break
    assert site is not None
    ans = where(demo_result, *site)
    assert ans["nearest_border"] == "VNM" and ans["band"] == "beyond 7 km"  # the figures' frontier is Thailand's
    vn = next(b for b in ans["borders"] if b["neighbor"] == "VNM")
    assert vn["distance_m"] == pytest.approx(truth, abs=5.0) and vn["band"] == "2-5 km"
    assert {b["neighbor"] for b in ans["borders"]} == {"THA", "LAO", "VNM"}
    from geo.planning.sites import where_points

    (batch,) = where_points([site[0]], [site[1]], demo_result)
    assert batch["nearest_border"] == "VNM"
    assert next(b for b in batch["borders"] if b["neighbor"] == "VNM")["distance_m"] == pytest.approx(truth, abs=5.0)


def test_messages_say_what_to_type_and_the_suggestion_works(capsys):
    # Degrees, minutes and seconds are read; a value that is none is one line, not a usage dump.
    assert main(["where", "14°21'22.8\"N", "103°27'55.0\"E", "--format", "json"]) == 0
    dms = json.loads(capsys.readouterr().out)
    assert main(["where", "14.35632", "103.46527", "--format", "json"]) == 0
    decimal = json.loads(capsys.readouterr().out)
    assert dms["band"] == decimal["band"] and abs(dms["distance_to_frontier_m"] - decimal["distance_to_frontier_m"]) < 5
    assert main(["where", "13x", "102"]) == 2
    err = capsys.readouterr().err
    assert "is not a latitude or longitude" in err and "usage:" not in err
    # The --bands suggested for a --within that is not a band edge is accepted as it is given.
    assert main(["query", "--within", "6"]) == 2
    suggested = re.search(r"--bands (\S+),", capsys.readouterr().err).group(1)
    assert suggested == "2,5,6,7"
    assert main(["query", "--within", "6", "--bands", suggested, "--format", "json"]) == 0


def test_a_sites_distance_to_the_analysed_border_is_its_distance_to_the_frontier(demo_result, rng):
    """The border lines a site check names are the frontier the bands were measured from, densified the
    same way: for the analysed neighbour both distances agree, one site at a time and all at once."""
    from geo.planning.sites import where_points

    line = shapely.union_all(demo_result.territory.frontier)
    points = shapely.line_interpolate_point(line, rng.uniform(0, 1, 12), normalized=True)
    lat = shapely.get_y(points) + rng.uniform(0.005, 0.05, 12)  # a few km off the line, either side
    lon = shapely.get_x(points) + rng.uniform(-0.05, 0.05, 12)
    # And where the bundled frontier's long straight segments lie farthest (0.29 m) from the same
    # segments densified along the geodesic, near 13.725 N 102.632 E.
    lat, lon = np.r_[lat, 13.72202, 13.7300], np.r_[lon, 102.65570, 102.6450]
    many = where_points(lat, lon, demo_result)
    for la, lo, bulk in zip(lat, lon, many):
        one = where(demo_result, float(la), float(lo))
        for answer in (one, bulk):
            tha = next(b for b in answer["borders"] if b["neighbor"] == "THA")
            assert tha["distance_m"] == pytest.approx(answer["distance_to_frontier_m"], abs=0.011)
        assert one["distance_to_frontier_m"] == pytest.approx(bulk["distance_to_frontier_m"], abs=0.011)
