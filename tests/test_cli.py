"""The ``geo analyze`` contract: files, keys, columns and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.cli import main
from tests.conftest import hazards_tm


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "geo-output"
    code = main(["analyze", "--out", str(out), "--quiet"])
    assert code == 0
    return out


def test_outputs_written(demo_run):
    names = {p.name for p in demo_run.iterdir()}
    assert {"summary.json", "by_province.csv", "by_hazard.csv", "zones.gpkg", "validation.json"} <= names
    assert not [n for n in names if n.startswith(".") and n != ".geo-output"]  # no temporary files left


def test_summary_keys(demo_run):
    s = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    for key in (
        "hazards",
        "area_km2",
        "area_sum_km2",
        "within_2km_km2",
        "within_7km_km2",
        "bands",
        "inputs",
        "crs",
        "version",
    ):
        assert key in s
    assert s["hazards"] == 4330
    assert [b["band"] for b in s["bands"]] == ["0-2 km", "2-5 km", "5-7 km", "beyond 7 km"]
    for b in s["bands"]:
        assert {"band", "inner_km", "outer_km", "area_km2", "hazards"} <= set(b)
    assert sum(b["area_km2"] for b in s["bands"]) == pytest.approx(s["area_km2"])
    assert s["inputs"]["hazards"]["file"] == "demo_sha_2023.gpkg"
    assert len(s["inputs"]["hazards"]["sha256"]) == 64
    assert "/" not in s["inputs"]["hazards"]["file"]
    assert s["synthetic"] is True


def test_by_province_columns(demo_run):
    bp = pd.read_csv(demo_run / "by_province.csv")
    cols = [
        "province",
        "code",
        "hazards",
        "area_km2",
        "area_sum_km2",
        "within_2km_km2",
        "within_7km_km2",
        "share_within_7km",
        "band_0-2_km2",
        "band_2-5_km2",
        "band_5-7_km2",
        "band_beyond_7_km2",
    ]
    assert all(c in bp.columns for c in cols)
    assert len(bp) == 25 and bp["code"].is_unique
    # The notice said once (first row), the flag on every row; rows in the printed table's order.
    assert bp["data_notice"].iloc[0].startswith("SYNTHETIC") and bp["data_notice"].iloc[1:].isna().all()
    assert bp["synthetic"].all()
    assert bp["area_km2"].is_monotonic_decreasing and "province_area_km2" in bp and "land_km2" not in bp
    s = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert bp["within_7km_km2"].sum() == pytest.approx(s["within_7km_km2"])


def test_by_hazard_and_layers(demo_run):
    bh = pd.read_csv(demo_run / "by_hazard.csv")
    assert {"hazard_id", "province", "code", "band", "area_m2", "area_km2"} <= set(bh.columns)
    assert bh["area_m2"].sum() / 1e6 == pytest.approx(435.064085, abs=1e-5)
    layers = set(pyogrio.list_layers(demo_run / "zones.gpkg")[:, 0])
    assert layers == {"provinces", "districts", "frontier", "zones", "hazard_pieces"}
    zones = gpd.read_file(demo_run / "zones.gpkg", layer="zones")
    assert zones.crs.to_epsg() == 4326 and len(zones) == 4
    pieces = gpd.read_file(demo_run / "zones.gpkg", layer="hazard_pieces")
    assert len(pieces) == len(bh)


def test_pieces_geoparquet(demo_run):
    """hazard_pieces.parquet holds the GeoPackage layer's rows, columns and shapes, with GeoParquet's
    metadata and the SYNTHETIC notice in the file's metadata."""
    import pyarrow.parquet as pq

    layer = gpd.read_file(demo_run / "zones.gpkg", layer="hazard_pieces")
    parquet = gpd.read_parquet(demo_run / "hazard_pieces.parquet")
    assert parquet.crs == layer.crs and list(parquet.columns) == list(layer.columns)
    assert (parquet.geom_type == "MultiPolygon").all()
    assert shapely.equals_exact(parquet.geometry.values, layer.geometry.values, tolerance=0).all()
    attrs = [c for c in layer.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(parquet[attrs]).astype(object).where(parquet[attrs].notna(), None),
        pd.DataFrame(layer[attrs]).astype(object).where(layer[attrs].notna(), None),
    )
    meta = pq.read_schema(demo_run / "hazard_pieces.parquet").metadata
    geo_meta = json.loads(meta[b"geo"])
    assert geo_meta["primary_column"] == "geometry" and geo_meta["columns"]["geometry"]["encoding"] == "WKB"
    assert meta[b"SYNTHETIC"] == b"yes" and b"NOT real hazard locations" in meta[b"NOTICE"]
    assert parquet["synthetic"].all()


def test_validation_json(demo_run):
    v = json.loads((demo_run / "validation.json").read_text(encoding="utf-8"))
    assert v["features_read"] == 4330 and v["repaired"]["count"] == 0


def test_custom_bands_and_boundaries(tmp_path, straight_world):
    provinces, frontier = straight_world
    provinces.to_file(tmp_path / "prov.gpkg", engine="pyogrio")
    frontier.to_file(tmp_path / "front.gpkg", engine="pyogrio")
    hazards_tm([(1, 0, 9, 1)]).to_file(tmp_path / "hz.gpkg", engine="pyogrio")
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            str(tmp_path / "hz.gpkg"),
            "--provinces",
            str(tmp_path / "prov.gpkg"),
            "--frontier",
            str(tmp_path / "front.gpkg"),
            "--bands",
            "3,10",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["within_2km_km2"] == pytest.approx(1.0, rel=2e-5)
    assert s["within_7km_km2"] == pytest.approx(6.0, rel=2e-5)
    bp = pd.read_csv(out / "by_province.csv")
    assert list(bp["province"]) == ["Alpha", "Beta"]
    assert bp.loc[0, "band_0-3_km2"] == pytest.approx(2.0, rel=2e-5)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["analyze", "missing.gpkg"], "missing.gpkg: file does not exist"),
        (["analyze", "--bands", "7,2"], "increase"),
        (["analyze", "--neighbor", "XYZ"], "no frontier with neighbor"),
    ],
)
def test_bad_input_exit_code_2(tmp_path, capsys, args, needle):
    code = main([*args, "--out", str(tmp_path / "o"), "-q"])
    assert code == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # a failed run leaves nothing behind


def test_refuses_foreign_non_empty_directory(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["analyze", "--out", str(tmp_path), "-q"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-m", "geo.cli", "analyze", "--help"], capture_output=True, text=True, check=True
    )
    assert "--bands" in out.stdout and "examples:" in out.stdout


def test_xlsx_tables_match_csv(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", "--out", str(out), "--xlsx", "-q"]) == 0
    xl = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert {"summary", "bands", "by_province", "by_hazard", "reference_table1"} <= set(xl)
    csv = pd.read_csv(out / "by_province.csv")
    assert xl["by_province"]["within_7km_km2"].to_numpy() == pytest.approx(csv["within_7km_km2"].to_numpy())


def test_map_and_plot_commands(tmp_path, capsys):
    assert main(["map", "--out", str(tmp_path / "zones.html"), "-q", "--title", "Test"]) == 0
    page = (tmp_path / "zones.html").read_text(encoding="utf-8")
    assert "Test" in page and "<script src=" not in page
    size = (tmp_path / "zones.html").stat().st_size / 1e6
    assert f"zones.html ({size:.1f} MB)" in capsys.readouterr().out  # the size a user shares
    assert main(["map", "--out", str(tmp_path / "zones.txt"), "-q"]) == 2
    assert ".html" in capsys.readouterr().err
    assert main(["plot", "--out", str(tmp_path / "zones.png"), "-q"]) == 0
    assert (tmp_path / "zones.png").exists() and (tmp_path / "zones.pdf").exists()


def test_analyze_with_map_and_png(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", "--out", str(out), "--map", "--png", "-q"]) == 0
    assert {"map.html", "map.png", "map.pdf"} <= {p.name for p in out.iterdir()}


def test_inputs_name_the_bundled_boundary_files(demo_run):
    s = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert s["inputs"]["outline"]["file"] == "data/boundaries/osm/cambodia.gpkg"
    assert s["inputs"]["provinces"]["file"] == "data/boundaries/geoboundaries/provinces.gpkg"
    assert s["inputs"]["districts"]["file"] == "data/boundaries/geoboundaries/districts.gpkg"
    assert s["inputs"]["frontier"]["file"] == "data/boundaries/osm/cambodia.gpkg"
    assert all(len(s["inputs"][k]["sha256"]) == 64 for k in ("outline", "provinces", "frontier"))


def test_common_column_names_and_geo_own_pieces_read_back(tmp_path, capsys):
    import geopandas as gpd

    import geo

    hz = geo.read_hazards(geo.DEMO_HAZARDS).iloc[:60].drop(columns=["row"])
    hz["code"] = "X-1"
    hz["band"] = "my band"
    hz["inner_km"] = 3.5
    path = tmp_path / "cols.gpkg"
    hz.to_file(path, engine="pyogrio")
    out = tmp_path / "o"
    assert main(["analyze", str(path), "--out", str(out), "-q"]) == 0, capsys.readouterr().err
    table = pd.read_csv(out / "by_hazard.csv")
    assert set(table["input_code"]) == {"X-1"} and set(table["input_band"]) == {"my band"}
    assert table["code"].str.startswith("KH-").all() and table["inner_km"].notna().any()
    # geo's own piece layer, read back as hazards.
    pieces = gpd.read_file(out / "zones.gpkg", layer="hazard_pieces")
    back = tmp_path / "pieces.gpkg"
    pieces.to_file(back, engine="pyogrio")
    assert main(["analyze", str(back), "--out", str(tmp_path / "o2"), "-q"]) == 0, capsys.readouterr().err
    s = json.loads((tmp_path / "o2" / "summary.json").read_text(encoding="utf-8"))
    first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["area_km2"] == pytest.approx(first["area_km2"], rel=1e-9)  # the same land, cut once more


@pytest.mark.parametrize("crs", ["EPSG:9999", "utm48"])
def test_unknown_crs_is_a_clear_error_before_any_work(tmp_path, capsys, crs):
    assert main(["analyze", "--crs", crs, "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"--crs {crs} is not a coordinate reference system" in err and "EPSG:32648" in err
    assert not (tmp_path / "o").exists()


def test_band_edges_take_units(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", "--bands", "2km,5 km,7000m", "--out", str(out), "-q"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["bands_km"] == [2.0, 5.0, 7.0]


def test_quiet_prints_the_headline_and_table1_only_for_the_demo(tmp_path, capsys):
    import geo

    assert main(["analyze", "--out", str(tmp_path / "demo"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "within 2 km (military only)" in out and "Table 1" in out
    # The Thai-frontier figures, then every land border's beside them, as in summary.json.
    every = json.loads((tmp_path / "demo" / "summary.json").read_text(encoding="utf-8"))["all_borders"]
    line = next(x for x in out.splitlines() if x.startswith("from every land border (LAO, THA, VNM)"))
    assert f"within 7 km {every['within_7km_km2']:,.2f} km2" in line
    assert "TOTAL" not in out  # -q: no table
    user = tmp_path / "mine.gpkg"
    geo.read_hazards(geo.DEMO_HAZARDS).iloc[:50].drop(columns=["row", "synthetic"]).to_file(user, engine="pyogrio")
    assert main(["analyze", str(user), "--out", str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out and "Table 1" not in out  # a user's layer is not a Table 1 calibration


@pytest.mark.parametrize(
    "typed",
    [
        ["13 21 00 N", "102 33 00 E"],
        ["13", "21", "00", "N", "102", "33", "00", "E"],
        ["13°21'N 102°33'E"],
        ["13.35,102.55"],
        ["13.35,", "102.55"],
    ],
)
def test_where_reads_a_site_however_it_is_typed(typed, capsys):
    assert main(["where", *typed, "--format", "json", "--error-draws", "0"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["site"] == "13.35, 102.55" and answer["code"] == "KH-2"


def test_where_with_half_a_site_says_so_without_a_usage_dump(capsys):
    assert main(["where", "13.35", "--error-draws", "0"]) == 2
    err = capsys.readouterr().err
    assert "give both LAT and LON" in err and "usage:" not in err


def test_a_wrong_crs_names_the_likely_one(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    path = tmp_path / "utm48.gpkg"
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.box(300000, 1500000, 300500, 1500500)], crs="EPSG:32648").to_file(
        path, engine="pyogrio"
    )
    assert main(["analyze", str(path), "--crs", "EPSG:32647", "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "with EPSG:32648 (WGS 84 / UTM zone 48N) they do: pass --crs EPSG:32648" in err


def test_the_printed_table_and_by_province_csv_list_provinces_in_one_order(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["analyze", "--out", str(out), "--error-draws", "0"]) == 0
    printed = capsys.readouterr().out.splitlines()
    start = next(i for i, x in enumerate(printed) if x.startswith("province "))
    end = next(i for i, x in enumerate(printed) if x.startswith("TOTAL"))
    rows = [x for x in printed[start + 1 : end] if not x.startswith("-")]
    csv = pd.read_csv(out / "by_province.csv", encoding="utf-8-sig")
    listed = csv.loc[csv["area_km2"] > 0, "province"].tolist()
    assert [r[: len(p)] for r, p in zip(rows, listed)] == listed and len(rows) == len(listed) == 10


def test_where_csv_says_the_notice_once(tmp_path, capsys):
    sites = tmp_path / "sites.csv"
    sites.write_text("name,lat,lon\na,13.35,102.55\nb,13.5,102.6\nc,12.9,102.5\n", encoding="utf-8")
    assert main(["where", "--file", str(sites), "--format", "csv", "--error-draws", "0"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["data_notice"].iloc[0].startswith("SYNTHETIC") and table["data_notice"].iloc[1:].isna().all()
    assert table["synthetic"].all() and len(table) == 3
