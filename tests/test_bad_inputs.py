"""The catalogue of bad inputs: each gets a clear error (exit 2, naming file and problem) or a recorded repair."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import geo
from geo.cli import main
from tests.conftest import TM, tm_box

UTM = "EPSG:32648"


def polys(geoms, crs=TM, **cols) -> gpd.GeoDataFrame:
    data = {"hazard_id": [f"H{i + 1}" for i in range(len(geoms))], **cols}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def box_m(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def run(tmp_path, path, *extra):
    out = tmp_path / "out"
    code = main(["analyze", str(path), "--out", str(out), "-q", *extra])
    return code, out


# ------------------------------------------------------------------ errors: exit 2, file named, problem said


def _write(gdf, path, **kw):
    gdf.to_file(path, engine="pyogrio", **kw)
    return path


ERRORS = {
    "empty_gpkg": (lambda p: _write(polys([]).set_crs(TM, allow_override=True), p / "e.gpkg"), "holds no features"),
    "empty_geojson": (
        lambda p: (p / "e.geojson").write_text('{"type":"FeatureCollection","features":[]}') and p / "e.geojson",
        "holds no features",
    ),
    "points_only": (lambda p: _write(polys([shapely.Point(0, 0), shapely.Point(10, 10)]), p / "pt.gpkg"), "no polygon"),
    "lines_only": (lambda p: _write(polys([shapely.LineString([(0, 0), (9, 9)])]), p / "ln.gpkg"), "no polygon"),
    "zero_area_only": (
        lambda p: _write(polys([shapely.Polygon([(0, 0), (5, 5), (10, 10), (0, 0)])]), p / "z.gpkg"),
        "no polygon",
    ),
    "swapped_latlon": (
        lambda p: (
            (p / "s.geojson").write_text(
                json.dumps(
                    {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "properties": {"id": "A"},
                                "geometry": {
                                    "type": "Polygon",
                                    "coordinates": [[[13.0, 103.0], [13.01, 103.0], [13.01, 103.01], [13.0, 103.0]]],
                                },
                            }
                        ],
                    }
                )
            )
            and p / "s.geojson"
        ),
        "did you swap lat/lon",
    ),
    "metres_claiming_degrees": (
        lambda p: _write(
            polys([box_m(250_000, 1_425_000, 251_000, 1_426_000)], crs=UTM).set_crs("EPSG:4326", allow_override=True),
            p / "m.gpkg",
        ),
        "projected metres",
    ),
    "far_from_cambodia": (
        lambda p: _write(polys([box_m(0, 0, 1000, 1000)], crs="EPSG:3857"), p / "far.gpkg"),
        "no hazard lies in or near Cambodia",
    ),
    "truncated_gpkg": (
        lambda p: (p / "t.gpkg").write_bytes(geo.DEMO_HAZARDS.read_bytes()[:20_000]) and p / "t.gpkg",
        "cannot read",
    ),
    "truncated_zip": (lambda p: _truncated_zip(p), "cannot read"),
    "directory": (lambda p: (p / "d").mkdir() or p / "d", "is a directory"),
    "missing": (lambda p: p / "nope.gpkg", "does not exist"),
    "unsupported": (lambda p: (p / "x.docx").write_text("not a map") and p / "x.docx", "unsupported file type"),
    "broken_kml": (lambda p: (p / "x.kml").write_text("<kml/>") and p / "x.kml", "cannot read file"),
    "csv_bad_wkt": (
        lambda p: (
            (p / "w.csv").write_text('id,wkt\nA,"POLYGON((0 0,1 0,1 1,0 0))"\nB,"POLYGON((0 0, 1 0"\n') and p / "w.csv"
        ),
        "line 3",
    ),
    "csv_latlon_out_of_range": (
        lambda p: (p / "ll.csv").write_text("id,lat,lon,area_m2\nA,13,103,100\nB,113,13,100\n") and p / "ll.csv",
        "line 3",
    ),
    "csv_no_geometry": (lambda p: (p / "n.csv").write_text("id,name\n1,a\n") and p / "n.csv", "needs a WKT column"),
    "gpkg_no_geometry": (lambda p: _attribute_table(p), "no geometry"),
}


def _truncated_zip(p):
    polys([tm_box(1, 1, 2, 2)]).to_crs(UTM).to_file(p / "z.shp", engine="pyogrio")
    with zipfile.ZipFile(p / "z.zip", "w") as z:
        for f in p.glob("z.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    data = (p / "z.zip").read_bytes()
    (p / "z.zip").write_bytes(data[: len(data) // 2])
    return p / "z.zip"


def _attribute_table(p):
    pyogrio.write_dataframe(pd.DataFrame({"id": [1, 2], "name": ["a", "b"]}), p / "a.gpkg")
    return p / "a.gpkg"


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_input_is_a_clear_error(tmp_path, capsys, case):
    make, needle = ERRORS[case]
    path = make(tmp_path)
    before = {f: f.read_bytes() for f in tmp_path.rglob("*") if f.is_file()}
    code, out = run(tmp_path, path, "--crs", "EPSG:32648") if case == "csv_bad_wkt" else run(tmp_path, path)
    err = capsys.readouterr().err
    assert code == 2, err
    assert needle in err, err
    assert path.name in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written
    assert {f: f.read_bytes() for f in tmp_path.rglob("*") if f.is_file()} == before  # inputs untouched


def test_missing_prj_names_the_likely_crs(tmp_path, capsys):
    polys([tm_box(1, 1, 2, 2)]).to_crs(UTM).to_file(tmp_path / "np.shp", engine="pyogrio")
    (tmp_path / "np.prj").unlink()
    code, _ = run(tmp_path, tmp_path / "np.shp")
    err = capsys.readouterr().err
    assert code == 2 and "no CRS" in err and "EPSG:32648" in err
    assert run(tmp_path, tmp_path / "np.shp", "--crs", "EPSG:32648")[0] == 0


def test_too_big_for_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GEO_MAX_MEMORY", "1000")
    code, _ = run(tmp_path, geo.DEMO_HAZARDS)
    assert code == 2 and "memory" in capsys.readouterr().err


# ------------------------------------------------------------------ repairs: exit 0, recorded in validation.json


def _validation(out):
    return json.loads((out / "validation.json").read_text(encoding="utf-8"))


REPAIRS = {
    "bowtie": ([shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])], "repaired", 1),
    "spike": (
        [shapely.Polygon([(0, 0), (1000, 0), (1000, 500), (1500, 500), (1000, 500), (1000, 1000), (0, 1000)])],
        "repaired",
        1,
    ),
    "hole_outside_shell": (
        [
            shapely.Polygon(
                shapely.box(0, 0, 1000, 1000).exterior.coords, [shapely.box(2000, 0, 2100, 100).exterior.coords]
            )
        ],
        "repaired",
        1,
    ),
    "duplicate_vertices": (
        [shapely.Polygon([(0, 0), (0, 0), (1000, 0), (1000, 0), (1000, 1000), (0, 1000)])],
        "repaired",
        0,
    ),
    "mixed_types": (
        [shapely.box(0, 0, 1000, 1000), shapely.Point(5, 5), shapely.LineString([(0, 0), (9, 9)])],
        "non_polygon_dropped",
        2,
    ),
    "zero_area_among_good": (
        [shapely.box(0, 0, 1000, 1000), shapely.LineString([(0, 0), (1, 1)]).buffer(0)],
        "dropped_empty",
        1,
    ),
    "three_d": ([shapely.Polygon([(0, 0, 5), (1000, 0, 5), (1000, 1000, 7), (0, 1000, 5)])], "z_m_dropped", 1),
}


@pytest.mark.parametrize("case", sorted(REPAIRS))
def test_repairs_are_recorded(tmp_path, case):
    geoms, key, count = REPAIRS[case]
    shifted = [shapely.transform(g, lambda xy: xy + 5000.0, include_z=g.has_z) for g in geoms]  # 5 km inland
    path = tmp_path / "h.geojson"
    polys(shifted).to_crs("EPSG:4326").to_file(path, engine="pyogrio")
    code, out = run(tmp_path, path)
    assert code == 0
    assert _validation(out)[key]["count"] == count


def test_ids_text_and_big_values(tmp_path):
    gdf = polys([tm_box(5, 5, 6, 6), tm_box(7, 5, 8, 6), tm_box(9, 5, 10, 6)], name=["ភូមិ ថ្មី", "x" * 200_000, "Kâmpóng"])
    gdf["hazard_id"] = ["A", "A", None]
    path = tmp_path / "t.gpkg"
    gdf.to_file(path, engine="pyogrio")
    code, out = run(tmp_path, path, "--map")
    assert code == 0
    v = _validation(out)
    assert v["duplicate_ids"]["ids"] == ["A"] and v["null_ids"]["rows"] == [3]
    table = pd.read_csv(out / "by_hazard.csv")
    assert "ភូមិ ថ្មី" in set(table["name"]) and "Kâmpóng" in set(table["name"])
    assert (out / "map.html").stat().st_size > 0


def test_windows_1252_csv(tmp_path):
    geom = gpd.GeoSeries([tm_box(5, 5, 6, 6)], crs=TM).to_crs(UTM).iloc[0]
    (tmp_path / "w.csv").write_bytes(f'id,name,wkt\nA,Kâmpóng Spœ,"{geom.wkt}"\n'.encode("cp1252"))
    code, out = run(tmp_path, tmp_path / "w.csv", "--crs", "EPSG:32648")
    assert code == 0
    assert "Windows-1252" in " ".join(_validation(out)["notes"])
    assert "Kâmpóng Spœ" in (out / "by_hazard.csv").read_text(encoding="utf-8")


def test_one_swapped_row_is_named(tmp_path, capsys):
    good = gpd.GeoSeries([tm_box(5, 5, 6, 6)], crs=TM).to_crs("EPSG:4326").iloc[0]
    bad = shapely.transform(good, lambda xy: xy[:, ::-1])  # lat/lon exchanged
    gdf = gpd.GeoDataFrame({"hazard_id": ["OK", "SWAP"]}, geometry=[good, bad], crs="EPSG:4326")
    gdf.to_file(tmp_path / "h.gpkg", engine="pyogrio")
    code, _ = run(tmp_path, tmp_path / "h.gpkg")
    err = capsys.readouterr().err
    assert code == 2 and "did you swap lat/lon" in err and "row 2 (id SWAP)" in err


def test_no_local_paths_in_outputs(tmp_path):
    code, out = run(tmp_path, geo.DEMO_HAZARDS, "--map")
    assert code == 0
    home = str(geo.DEMO_HAZARDS.parent)
    for name in ("summary.json", "validation.json", "map.html", "by_province.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert home not in text and str(tmp_path) not in text


def test_ring_with_too_few_points_is_repaired_then_dropped(tmp_path):
    path = tmp_path / "r.geojson"
    ring3 = [[103.0, 13.0], [103.01, 13.0], [103.0, 13.0]]
    ok = [[103.0, 13.0], [103.01, 13.0], [103.01, 13.01], [103.0, 13.0]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "R3"},
                        "geometry": {"type": "Polygon", "coordinates": [ring3]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"id": "OK"},
                        "geometry": {"type": "Polygon", "coordinates": [ok]},
                    },
                ],
            }
        )
    )
    code, out = run(tmp_path, path)
    assert code == 0
    v = _validation(out)
    assert v["repaired"]["ids"] == ["R3"] and "Too few points" in v["repaired"]["reasons"]["R3"]
    assert v["zero_area_dropped"]["ids"] == ["R3"] and v["features_kept"] == 1


def test_refuses_to_write_over_its_input(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".geo-output").write_text("written by geo\n")
    geom = gpd.GeoSeries([tm_box(5, 5, 6, 6)], crs=TM).to_crs(UTM).iloc[0]
    hazards = out / "by_hazard.csv"  # an input named like an output, inside the output directory
    hazards.write_text(f'id,wkt\nA,"{geom.wkt}"\n', encoding="utf-8")
    before = hazards.read_bytes()
    code = main(["analyze", str(hazards), "--crs", "EPSG:32648", "--out", str(out), "-q"])
    assert code == 2 and "overwrite the input" in capsys.readouterr().err
    assert hazards.read_bytes() == before


@pytest.mark.parametrize(
    "given,expected",
    [
        ("-", "standard input"),
        ("/vsistdin/", "standard input"),
        ("/vsizip//data/hazards.zip/hazards.gpkg", "give the .zip file itself"),
        ("/vsicurl/http://127.0.0.1:9/hazards.gpkg", "files on this machine only"),
    ],
)
def test_what_ogr2ogr_users_type_gets_a_clear_answer(given, expected, tmp_path, capsys):
    from geo.cli import main

    assert main(["analyze", given, "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "does not exist" not in err
    assert main(["where", "--file", given]) == 2
    assert expected in capsys.readouterr().err


def test_out_dash_is_refused_and_makes_no_folder(tmp_path, capsys, monkeypatch):
    from geo.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "--out", "-", "-q"]) == 2
    assert "standard output" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()
