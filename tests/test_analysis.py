"""The estimate: analytic cases on a straight frontier, and the bundled demo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import geo
import geo.io.data
from tests.conftest import hazards_tm

REL = 2e-5  # TM scale and ellipsoid effects at <= 40 km from the test meridian stay below this


def bands_of(result) -> dict[str, float]:
    return {b["band"]: b["area_km2"] for b in result.summary["bands"]}


def test_rectangle_straddling_band_edges(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(1, 10, 6, 11)])  # x 1-6 km, 1 km tall
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier))
    got = bands_of(res)
    assert got["0-2 km"] == pytest.approx(1.0, rel=REL)
    assert got["2-5 km"] == pytest.approx(3.0, rel=REL)
    assert got["5-7 km"] == pytest.approx(1.0, rel=REL)
    assert got["beyond 7 km"] == pytest.approx(0.0, abs=1e-9)
    assert res.summary["within_2km_km2"] == pytest.approx(1.0, rel=REL)
    assert res.summary["within_7km_km2"] == pytest.approx(5.0, rel=REL)
    assert len(res.by_hazard) == 3
    assert res.by_hazard["area_km2"].sum() == pytest.approx(5.0, rel=REL)


def test_rectangle_across_the_frontier_keeps_the_outside_part(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(-2, 0, 3, 2)])  # 2 km into the neighbour, 3 km on the home side
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier))
    s = res.summary
    assert s["area_km2"] == pytest.approx(10.0, rel=REL)
    assert s["outside_cambodia_km2"] == pytest.approx(4.0, rel=REL)
    assert bands_of(res)["0-2 km"] == pytest.approx(4.0, rel=REL)
    assert bands_of(res)["2-5 km"] == pytest.approx(2.0, rel=REL)
    assert res.validation["outside_cambodia"]["count"] == 1


def test_rectangle_straddling_a_province_line_is_split_exactly(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(18, 0, 23, 1)])
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier))
    bp = res.by_province.set_index("code")
    assert bp.loc["A", "area_km2"] == pytest.approx(2.0, rel=REL)
    assert bp.loc["B", "area_km2"] == pytest.approx(3.0, rel=REL)
    assert bp.loc["A", "hazards"] + bp.loc["B", "hazards"] == 1  # counted once, where most of it lies
    assert bp.loc["B", "hazards"] == 1
    assert res.validation["straddling_provinces"]["count"] == 1


def test_overlaps_are_counted_once_in_zone_figures(straight_world):
    provinces, frontier = straight_world
    # Two 4 km2 squares overlapping by 1 km x 2 km, both across the 2 km line; a third apart.
    hz = hazards_tm([(0, 0, 2, 2), (1, 0, 3, 2), (10, 10, 11, 11)])
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier))
    s = res.summary
    assert s["area_sum_km2"] == pytest.approx(9.0, rel=REL)
    assert s["area_km2"] == pytest.approx(7.0, rel=REL)
    assert s["overlap_km2"] == pytest.approx(2.0, rel=1e-4)
    assert s["within_2km_km2"] == pytest.approx(4.0, rel=REL)
    assert bands_of(res)["2-5 km"] == pytest.approx(2.0, rel=REL)
    assert bands_of(res)["beyond 7 km"] == pytest.approx(1.0, rel=REL)
    # per-hazard pieces keep each polygon's own area
    own = res.by_hazard.groupby("hazard_id")["area_km2"].sum()
    assert own.to_numpy() == pytest.approx([4.0, 4.0, 1.0], rel=REL)


def test_overlap_components_join_shared_area_only():
    """Squares sharing an edge (boxes that only touch), a corner, or nothing stay apart; a square
    reaching a micrometre into another joins it, and a triangle inside another's box but not
    touching it stays apart; the labels are the components' smallest members."""
    import shapely

    from geo.engine.overlay import overlap_components

    geoms = np.array(
        [
            shapely.box(0, 0, 1, 1),
            shapely.box(1, 0, 2, 1),  # shares an edge with 0
            shapely.box(2, 1, 3, 2),  # shares a corner with 1
            shapely.box(3 - 1e-6, 1, 4, 2),  # a micrometre into 2
            shapely.Polygon([(10, 10), (12, 10), (10, 12)]),
            shapely.Polygon([(12, 12), (12, 11.2), (11.2, 12)]),  # in 4's box, not touching it
            shapely.box(20, 20, 21, 21),
            shapely.box(20.5, 20.5, 20.6, 20.6),  # inside 6
        ]
    )
    assert overlap_components(geoms).tolist() == [0, 1, 2, 2, 4, 5, 6, 6]


def test_public_tables_carry_documented_columns_only_and_progress_goes_to_the_geo_logger(straight_world, caplog):
    provinces, frontier = straight_world
    hz = hazards_tm([(0, 0, 2, 2), (1, 0, 3, 2), (10, 10, 11, 11)])
    with caplog.at_level("INFO", logger="geo"):
        res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier), bands_km=(1, 3))
    # The library says what it does through logging; nothing is printed.
    steps = [r.getMessage() for r in caplog.records if r.name == "geo"]
    assert any(m.startswith("splitting 3 hazards by province and band (1, 3 km)") for m in steps)
    assert any("2 hazards overlap" in m for m in steps)
    assert res.land_pieces.columns.tolist() == [
        "code",
        "district_code",
        "fine_index",
        "band_index",
        "area_m2",
        "geometry",
    ]
    # The user's 3 bands index the zones; the territory's finer bands (1, 2, 3, 7 km edges) stay apart.
    assert len(res.zones) == 3 and len(res.territory.fine_bands) == 5
    assert set(res.land_pieces["band_index"]) <= {-1, 0, 1, 2}
    for table in (res.by_hazard, res.by_province, res.land_pieces, res.hazards):
        assert not [c for c in table.columns if str(c).startswith("_") or c in ("src", "cell", "fine", "band_idx")]
    # land pieces tile the union: their total is the union's area (7 km2 of 9 drawn)
    assert res.land_pieces["area_m2"].sum() / 1e6 == pytest.approx(7.0, rel=REL)


def test_within_figures_exist_whatever_the_bands(straight_world):
    provinces, frontier = straight_world
    hz = hazards_tm([(1, 0, 9, 1)])
    res = geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier), bands_km=(3, 10))
    assert [b["band"] for b in res.summary["bands"]] == ["0-3 km", "3-10 km", "beyond 10 km"]
    assert res.summary["within_2km_km2"] == pytest.approx(1.0, rel=REL)
    assert res.summary["within_7km_km2"] == pytest.approx(6.0, rel=REL)
    assert bands_of(res)["0-3 km"] == pytest.approx(2.0, rel=REL)
    assert bands_of(res)["3-10 km"] == pytest.approx(6.0, rel=REL)
    # one piece per hazard x province x user band, fine pieces merged
    assert sorted(res.by_hazard["band"]) == ["0-3 km", "3-10 km"]
    assert "band_0-3_km2" in res.by_province.columns


def test_band_pieces_sum_to_each_hazard_area(demo_result, demo_hazards):
    from geo.constants import ANALYSIS_CRS

    own = demo_result.by_hazard.groupby("hazard_id")["area_m2"].sum()
    area = pd.Series(demo_hazards.to_crs(ANALYSIS_CRS).area.to_numpy(), index=demo_hazards["hazard_id"])
    assert np.allclose(own.reindex(area.index).to_numpy(), area.to_numpy(), rtol=1e-9)


def test_demo_reproduces_table1_exactly(demo_result):
    table = pd.read_csv(geo.io.data.TABLE1_FILE)
    ref = pd.DataFrame(demo_result.summary["reference_table1"])
    assert len(ref) == len(table)
    assert (ref["input_hazards"] == ref["table1_shas"]).all()
    assert np.abs(ref["input_area_m2"] - ref["table1_area_m2"]).max() < 0.5
    bp = demo_result.by_province.set_index("province")
    for _, row in table.iterrows():
        assert bp.loc[row["province"], "hazards"] == row["shas"]
        assert bp.loc[row["province"], "area_sum_km2"] * 1e6 == pytest.approx(row["area_m2"], abs=0.5)


def test_demo_is_marked_synthetic_and_close_to_half_within_7km(demo_result):
    s = demo_result.summary
    assert s["synthetic"] is True and "SYNTHETIC" in s["notice"]
    assert s["hazards"] == 4330
    assert s["area_km2"] == pytest.approx(435.064085, abs=1e-5)
    assert s["overlap_km2"] == pytest.approx(0.0, abs=1e-6)  # the demo has no overlaps
    assert 0.40 < s["share_within_7km"] < 0.60
    assert s["within_2km_km2"] < s["within_7km_km2"] < s["area_km2"]
    # the K5 belt: contamination is densest next to the Thai frontier
    bands = {b["key"]: b for b in s["bands"]}
    density = {k: b["area_km2"] / b["zone_area_km2"] for k, b in bands.items()}
    assert density["0-2"] > density["2-5"] > density["beyond_7"]


def test_province_table_lists_every_province_and_adds_up(demo_result):
    bp = demo_result.by_province
    assert len(bp) == 25
    band_cols = [f"band_{k}_km2" for k in demo_result.zones["key"]]
    assert np.allclose(bp[band_cols].sum(axis=1) + bp["outside_cambodia_km2"], bp["area_km2"], atol=1e-9)
    assert bp["within_7km_km2"].sum() == pytest.approx(demo_result.summary["within_7km_km2"])
    assert np.allclose(bp["band_0-2_km2"], bp["within_2km_km2"])


def test_zone_overlay_matches_a_raster_count(demo_result, demo_hazards):
    """Second, independent method: count 10 m cells whose centres fall in hazards and zones."""
    import rasterio.features
    from rasterio.transform import from_origin

    from geo.constants import ANALYSIS_CRS

    zones = demo_result.zones
    pailin = demo_result.provinces.set_index("province").geometry["Pailin"]
    x0, y0, x1, y1 = pailin.bounds
    cell = 10.0
    width, height = int((x1 - x0) / cell) + 1, int((y1 - y0) / cell) + 1
    transform = from_origin(x0, y1, cell, cell)
    hz = demo_hazards.to_crs(ANALYSIS_CRS).geometry
    hmask = rasterio.features.rasterize(
        ((g, 1) for g in hz if g.intersects(pailin)), (height, width), transform=transform
    )
    pmask = rasterio.features.rasterize([(pailin, 1)], (height, width), transform=transform)
    bp = demo_result.by_province.set_index("province").loc["Pailin"]
    for _, z in zones.iterrows():
        zmask = rasterio.features.rasterize([(z.geometry, 1)], (height, width), transform=transform)
        raster_km2 = float((hmask & zmask & pmask).sum()) * cell * cell / 1e6
        vector_km2 = bp[f"band_{z['key']}_km2"]
        assert raster_km2 == pytest.approx(vector_km2, rel=0.01, abs=0.01), z["band"]


def test_synthetic_flag_survives_a_rebuilt_frame(demo_hazards, boundaries):
    import geopandas as gpd

    # As a user copying columns would: a fresh frame, no attrs.
    fresh = gpd.GeoDataFrame(
        {c: demo_hazards[c].to_numpy() for c in demo_hazards.columns if c != "geometry"},
        geometry=demo_hazards.geometry.to_numpy(),
        crs=demo_hazards.crs,
    ).iloc[:300]
    assert not fresh.attrs
    res = geo.analyze(fresh, boundaries=boundaries)
    assert res.summary["synthetic"] is True and "SYNTHETIC" in res.summary["notice"]


def _utm_world(tmp_path=None):
    """A straight 100 km frontier given in UTM 48N by its two end vertices, a 40 x 80 km province east of
    it with 80 km straight edges, and a 10 x 10 km hazard from the frontier eastwards (4 vertices)."""
    import geopandas as gpd
    import shapely

    e0, n0 = 300_000.0, 1_400_000.0
    front = gpd.GeoDataFrame(
        {"neighbor": ["XXX"]}, geometry=[shapely.LineString([(e0, n0 - 50_000), (e0, n0 + 50_000)])], crs="EPSG:32648"
    )
    prov = gpd.GeoDataFrame(
        {"code": ["A"], "province": ["Alpha"]},
        geometry=[shapely.box(e0, n0 - 40_000, e0 + 40_000, n0 + 40_000)],
        crs="EPSG:32648",
    )
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["H1"]}, geometry=[shapely.box(e0, n0 - 5_000, e0 + 10_000, n0 + 5_000)], crs="EPSG:32648"
    )
    return front, prov, hz


def _utm_hand_answer() -> dict[str, float]:
    """Band areas, km2, of the 10 x 10 km grid square: ground distances are grid distances / k and
    ground areas grid areas / k2, with k the UTM point scale at the square (pyproj)."""
    from pyproj import Proj, Transformer

    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(305_000, 1_400_000)
    k = Proj("EPSG:32648").get_factors(lon, lat).meridional_scale
    height_km, width_km = 10.0 / k, 10.0 / k
    edges = [0.0, 2.0, 5.0, 7.0, width_km]
    return {key: height_km * (b - a) for key, a, b in zip(("0-2", "2-5", "5-7", "beyond_7"), edges[:-1], edges[1:])}


def test_long_utm_segments_keep_their_course(tmp_path):
    """Every layer in UTM with long straight segments: each band within 0.05 % of the hand answer,
    through the Python API and through files."""
    from geo.cli import main

    front, prov, hz = _utm_world()
    want = _utm_hand_answer()
    res = geo.analyze(hz, geo.Boundaries.from_frames(prov, front), frontier_tolerance_m=0)
    got = {b["key"]: b["area_km2"] for b in res.summary["bands"]}
    for key, area in want.items():
        assert got[key] == pytest.approx(area, rel=5e-4), key
    for name, gdf in (("front", front), ("prov", prov), ("hz", hz)):
        gdf.to_file(tmp_path / f"{name}.gpkg", engine="pyogrio")
    code = main(
        [
            "analyze",
            str(tmp_path / "hz.gpkg"),
            "--provinces",
            str(tmp_path / "prov.gpkg"),
            "--frontier",
            str(tmp_path / "front.gpkg"),
            "--out",
            str(tmp_path / "out"),
            "-q",
        ]
    )
    assert code == 0
    import json

    bands = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["bands"]
    for b in bands:
        assert b["area_km2"] == pytest.approx(want[b["key"]], rel=5e-4), b["key"]


def test_api_maps_a_common_id_column_and_says_when_it_numbers(demo_hazards, boundaries, caplog):
    import geopandas as gpd

    part = demo_hazards.iloc[:20]
    frame = gpd.GeoDataFrame({"SHA_ID": part["hazard_id"].to_numpy()}, geometry=part.geometry.to_numpy(), crs=4326)
    res = geo.analyze(frame, boundaries=boundaries)
    assert set(res.by_hazard["hazard_id"]) <= set(part["hazard_id"])
    bare = gpd.GeoDataFrame({"ស្ថានភាព": ["x"] * 20}, geometry=part.geometry.to_numpy(), crs=4326)
    with caplog.at_level("WARNING", logger="geo"):
        res = geo.analyze(bare, boundaries=boundaries)
    assert "no hazard id column recognised" in caplog.text and "ស្ថានភាព" in caplog.text
    assert res.by_hazard["hazard_id"].str.startswith("row-").all()


def test_contamination_outside_cambodia_is_shown_with_the_totals(straight_world):
    from geo.cli.common import render_table
    from geo.planning.queries import where
    from tests.conftest import TM, hazards_tm

    provinces, frontier = straight_world
    # 5 km2 of a 6 km2 hazard inside (x 0-5 km), 1 km2 across the frontier (x -1-0 km).
    res = geo.analyze(
        hazards_tm([(-1, 0, 5, 1)]), geo.Boundaries.from_frames(provinces, frontier), frontier_tolerance_m=0
    )
    s, row = res.summary, res.by_province.set_index("code").loc["A"]
    assert s["outside_cambodia_km2"] == pytest.approx(1.0, rel=1e-3)
    assert s["inside_cambodia_km2"] == pytest.approx(5.0, rel=1e-3)
    assert sum(b["area_km2"] for b in s["bands"]) == pytest.approx(s["inside_cambodia_km2"], rel=1e-9)
    assert row["outside_cambodia_km2"] + row["inside_cambodia_km2"] == pytest.approx(row["area_km2"], rel=1e-12)
    assert s["share_within_7km"] == pytest.approx(1.0, rel=1e-9)  # all the land in Cambodia is within 7 km
    table = render_table(res)
    assert "outside Cambodia" in table.splitlines()[0] and "1.00" in table.splitlines()[-1]
    import shapely

    from geo.crs import transform_geoms

    site = transform_geoms(shapely.box(-2000, 0, 2000, 2000), TM, "EPSG:4326")
    ans = where(res, site)
    assert ans["inside_cambodia"] is True
    assert ans["outside_cambodia_m2"] == pytest.approx(4e6, rel=1e-3)
    assert ans["hazard_outside_cambodia_m2"] == pytest.approx(1e6, rel=1e-3)


def test_a_result_shows_its_headline_briefly_and_escapes_it_in_html(demo_result):
    text = repr(demo_result)
    s = demo_result.summary
    assert len(text) < 600
    assert f"within 7 km {s['within_7km_km2']:,.2f} km2" in text and "SYNTHETIC" in text
    low, high = s["uncertainty"]["within_2km_km2"]["low"], s["uncertainty"]["within_2km_km2"]["high"]
    assert f"({low:,.2f}-{high:,.2f})" in text
    html = demo_result._repr_html_()
    assert "Battambang" in html and "<script" not in html
    hostile = demo_result.by_province.assign(province="<img src=x onerror=alert(1)>")
    shown = dataclasses.replace(demo_result, by_province=hostile)._repr_html_()
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown


def test_public_frames_carry_no_private_column_and_the_summary_is_typed(demo_result):
    from geo.engine.summary import Provenance, Summary

    private = [c for c in demo_result.by_hazard.columns if str(c).startswith("_") or c.endswith("_index")]
    assert private == []
    assert {"hazard_index", "band_index"} <= set(demo_result.hazard_pieces.columns)
    assert len(demo_result.by_hazard) == len(demo_result.hazard_pieces)
    s = demo_result.summary
    assert isinstance(s, Summary) and isinstance(s.provenance, Provenance)
    assert s.provenance.synthetic and s.notice == s.provenance.notice
    # summary.json is the Summary, key for key; a key reads the attribute of that name.
    as_json = s.to_dict()
    assert as_json["within_7km_km2"] == s.within_7km_km2 == s["within_7km_km2"]
    assert as_json["inputs"]["hazards"]["file"] == "demo_sha_2023.gpkg" == s.provenance.inputs["hazards"]["file"]
    assert list(as_json)[:3] == ["synthetic", "notice", "hazards"]
    assert "aoi" not in s and s.get("aoi") is None
    with pytest.raises(KeyError):
        s["no_such_figure"]


def test_hazards_outside_cambodia_are_placed_and_kept_out_of_province_counts(boundaries):
    import geopandas as gpd
    import shapely

    sites = {f"kh-{i}": (102.6 + 0.01 * i, 13.5) for i in range(12)}
    sites |= {"tha": (102.3, 13.6), "lao": (106.0, 14.3), "vnm": (106.5, 11.0), "sea": (103.3, 10.4)}
    layer = gpd.GeoDataFrame(
        {"hazard_id": list(sites)}, geometry=[shapely.Point(x, y) for x, y in sites.values()], crs="EPSG:4326"
    ).to_crs("EPSG:32648")
    layer["geometry"] = layer.buffer(100)
    res = geo.analyze(layer, boundaries=boundaries, error_draws=0)
    where = res.by_hazard.set_index("hazard_id")["lies_in"]
    assert where["tha"] == "Thailand" and where["lao"] == "Laos" and where["vnm"] == "Viet Nam"
    assert where["sea"].startswith("the sea") and (where.filter(like="kh-") == "Cambodia").all()
    assert res.by_province["hazards"].sum() == 12  # the four abroad are no province's
    places = {p["lies_in"]: p for p in res.summary["outside_places"]}
    assert {p["hazards"] for p in places.values()} == {1} and len(places) == 4
    assert sum(p["area_sum_km2"] for p in places.values()) == pytest.approx(
        res.summary["outside_cambodia_km2"], rel=1e-6
    )
