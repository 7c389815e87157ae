"""Areas of interest (--aoi): a province, a box or a polygon file scopes the tables and the maps."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

import geo
from geo.engine.aoi import clip_hazards, parse_aoi, scope_result

GEO = [sys.executable, "-m", "geo.cli"]


def run(*args):
    return subprocess.run([*GEO, *args], capture_output=True, text=True, timeout=600)


def test_a_province_aoi_keeps_that_province_and_its_figures(tmp_path, demo_result):
    r = run("analyze", "--aoi", "pailin", "--out", str(tmp_path / "out"), "-q")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["aoi"]["label"] == "Pailin (KH-24)" and s["aoi"]["kind"] == "province"
    bp = demo_result.by_province.set_index("code").loc["KH-24"]
    assert s["area_km2"] == pytest.approx(bp["area_km2"], abs=1e-6)
    assert s["within_2km_km2"] == pytest.approx(bp["within_2km_km2"], abs=1e-6)
    import pandas as pd

    rows = pd.read_csv(tmp_path / "out" / "by_province.csv")
    assert rows["code"].tolist() == ["KH-24"]


def test_a_box_aoi_clips_hazards_to_the_area_measured_independently(boundaries, demo_hazards):
    aoi = parse_aoi("102.6,12.6,102.9,12.9", boundaries)
    clipped = clip_hazards(demo_hazards, aoi)
    assert len(clipped) < len(demo_hazards)
    # Independent measure: geodesic areas of the clipped polygons on the ellipsoid.
    geod = clipped.crs.get_geod()
    geodesic_km2 = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in clipped.geometry) / 1e6
    res = scope_result(geo.analyze(clipped, boundaries), aoi)
    assert res.summary["area_sum_km2"] == pytest.approx(geodesic_km2, rel=1e-5)
    # Nothing of the clipped hazards lies outside the box.
    box = shapely.box(102.6, 12.6, 102.9, 12.9).buffer(1e-9)
    assert all(box.contains(g) for g in clipped.geometry)
    assert set(res.by_province["code"]) <= set(boundaries.provinces["code"])


def test_a_polygon_file_aoi_and_the_maps_open_on_it(tmp_path):
    poly = gpd.GeoDataFrame(geometry=[shapely.box(102.9, 13.3, 103.3, 13.7)], crs="EPSG:4326")
    poly.to_file(tmp_path / "district.gpkg", engine="pyogrio")
    r = run("analyze", "--aoi", str(tmp_path / "district.gpkg"), "--map", "--out", str(tmp_path / "out"), "-q")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "fitBounds" in page and "[[13.3, 102.9], [13.7, 103.3]]" in page
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["aoi"]["kind"] == "file" and s["aoi"]["area_km2"] == pytest.approx(43.3 * 43.3 / 1.0, rel=0.05)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("Atlantis", "is not a province, a box"), ("103,13,102,12", "west < east"), ("107,14.5,107.1,14.6", "no hazard")],
)
def test_bad_aois_are_clear_errors(tmp_path, spec, message):
    r = run("analyze", "--aoi", spec, "--out", str(tmp_path / "out"), "-q")
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
