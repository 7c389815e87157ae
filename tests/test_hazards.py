"""Reading hazards from every supported format, and the validation report."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import geo
from geo.constants import ANALYSIS_CRS, UTM48N
from geo.crs import geodesic_area_m2
from geo.engine.hazards import read_hazards
from geo.errors import GeoInputError
from geo.io.readers import geodesic_circles


@pytest.fixture(scope="module")
def sample(demo_hazards):
    # Short column names, as Shapefile exports have them.
    return demo_hazards.iloc[:40][["hazard_id", "status", "density", "geometry"]].copy()


def _areas(gdf):
    return gdf.to_crs(ANALYSIS_CRS).area.to_numpy()


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet", ".shp"])
def test_formats_round_trip(tmp_path, sample, suffix):
    path = tmp_path / f"hz{suffix}"
    data = sample.to_crs(UTM48N)
    if suffix == ".parquet":
        data.to_parquet(path)
    else:
        data.to_file(path, engine="pyogrio")
    got = read_hazards(path).sort_values("hazard_id")  # FlatGeobuf reorders features spatially
    assert list(got["hazard_id"]) == list(sample["hazard_id"])
    assert np.allclose(_areas(got), _areas(sample), rtol=1e-7)
    assert got.crs.to_epsg() == 4326
    assert got.attrs["source"]["file"] == path.name and len(got.attrs["source"]["sha256"]) == 64


def test_zipped_shapefile(tmp_path, sample):
    sample.to_file(tmp_path / "hz.shp", engine="pyogrio")
    zpath = tmp_path / "hz.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in tmp_path.glob("hz.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    got = read_hazards(zpath)
    assert len(got) == len(sample)


def test_shapefile_without_prj_needs_crs(tmp_path, sample):
    sample.to_crs(UTM48N).to_file(tmp_path / "hz.shp", engine="pyogrio")
    (tmp_path / "hz.prj").unlink()
    with pytest.raises(GeoInputError, match="no CRS"):
        read_hazards(tmp_path / "hz.shp")
    got = read_hazards(tmp_path / "hz.shp", crs="EPSG:32648")
    assert np.allclose(_areas(got), _areas(sample), rtol=1e-7)


def test_indian_1960_input_agrees_within_datum_shift(tmp_path, sample):
    path = tmp_path / "indian.gpkg"
    sample.to_crs("EPSG:3148").to_file(path, engine="pyogrio")
    got = read_hazards(path)
    shift = shapely.distance(got.to_crs(UTM48N).centroid.values, sample.to_crs(UTM48N).centroid.values)
    assert shift.max() < 1.0  # round trip through a published transformation, not a datum error
    assert np.allclose(_areas(got), _areas(sample), rtol=1e-6)


def test_csv_with_wkt(tmp_path, sample):
    df = pd.DataFrame({"SHA_ID": sample["hazard_id"], "WKT": sample.to_crs(UTM48N).geometry.to_wkt()})
    path = tmp_path / "hz.csv"
    df.to_csv(path, index=False)
    with pytest.raises(GeoInputError, match="no CRS"):
        read_hazards(path)
    got = read_hazards(path, crs="EPSG:32648")
    assert list(got["hazard_id"]) == list(sample["hazard_id"])
    assert np.allclose(_areas(got), _areas(sample), rtol=1e-6)


def test_csv_with_bad_wkt_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('id,wkt\nA,"POLYGON((0 0,1 0,1 1,0 0))"\nB,"POLYGON((0 0, 1 0"\n', encoding="utf-8")
    with pytest.raises(GeoInputError, match="line 3"):
        read_hazards(path, crs="EPSG:32648")


def test_csv_points_become_circles_of_their_area(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("hazard_id,lat,lon,area_m2\nP1,13.1,103.0,10000\nP2,14.0,103.5,250000\n", encoding="utf-8")
    got = read_hazards(path)
    assert got["approximate"].all()
    assert geodesic_area_m2(got.geometry.values) == pytest.approx([10000, 250000], rel=1e-6)
    assert got.attrs["validation"]["notes"]


def test_csv_latitude_out_of_range(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("id,lat,lon,area_m2\nP1,13.1,103.0,100\nP2,103.0,13.1,100\n", encoding="utf-8")
    with pytest.raises(GeoInputError, match="line 3"):
        read_hazards(path)


def test_geodesic_circles_area():
    polys = geodesic_circles(np.array([104.0]), np.array([12.0]), np.array([1e6]))
    assert geodesic_area_m2(polys)[0] == pytest.approx(1e6, rel=1e-6)


def test_field_mapping_and_validation_report(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    good = shapely.box(2000, 0, 3000, 1000)
    line = shapely.LineString([(0, 0), (10, 10)])
    coll = shapely.GeometryCollection([shapely.box(5000, 0, 5100, 100), line])
    gdf = gpd.GeoDataFrame(
        {
            "SHA_ID": ["B1", "G1", "G1", None, "L1", "E1"],
            "Province": ["Pailin", "Pailin", "Pailin", "Pailin", "Pailin", "Pailin"],
            "Area": [1e6, 1e6, 5e5, 1e4, 1.0, 1.0],
            "Remarks": ["x", "y", "z", "w", "v", "u"],
        },
        geometry=[bowtie, good, shapely.box(4000, 0, 4100, 100), coll, line, shapely.Polygon()],
        crs="EPSG:32648",
    )
    gdf = gdf.set_geometry(gpd.GeoSeries(gdf.geometry.values, crs="EPSG:32648").translate(250_000, 1_420_000))
    path = tmp_path / "mixed.gpkg"
    gdf.to_file(path, engine="pyogrio")
    got = read_hazards(path)
    v = got.attrs["validation"]
    assert v["fields"]["hazard_id"] == "SHA_ID" and v["fields"]["province_recorded"] == "Province"
    assert "Remarks" in got.columns
    assert v["repaired"]["ids"] == ["B1"]
    assert v["duplicate_ids"]["ids"] == ["G1"]
    assert v["null_ids"]["rows"] == [4]
    assert set(v["non_polygon_dropped"]["ids"]) == {"row-4", "L1"}
    assert v["dropped_empty"]["ids"] == ["E1"]
    assert v["features_kept"] == 4
    bowtie_area = got.loc[got["hazard_id"] == "B1"].to_crs(UTM48N).area.iloc[0]
    assert bowtie_area == pytest.approx(500_000, rel=1e-9)  # both triangles of the bow-tie kept


def test_bad_paths(tmp_path):
    with pytest.raises(GeoInputError, match="does not exist"):
        read_hazards(tmp_path / "nope.gpkg")
    with pytest.raises(GeoInputError, match="directory"):
        read_hazards(tmp_path)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(GeoInputError, match="unsupported"):
        read_hazards(tmp_path / "x.txt")
    (tmp_path / "broken.gpkg").write_bytes(geo.DEMO_HAZARDS.read_bytes()[:5000])
    with pytest.raises(GeoInputError, match=r"broken\.gpkg"):
        read_hazards(tmp_path / "broken.gpkg")


def test_spatial_checks_in_analysis(tmp_path, demo_hazards, boundaries):
    hz = demo_hazards.iloc[:5].copy()
    hz.loc[0, "province_recorded"] = "Kampot"
    hz.loc[1, "area_recorded_m2"] = hz.loc[1, "area_recorded_m2"] * 2
    hz.loc[2, "province_recorded"] = "banteay mean chey"  # a variant of the right name is no mismatch
    res = geo.analyze(hz, boundaries=boundaries)
    v = res.validation
    assert [i["hazard_id"] for i in v["province_mismatch"]["items"]] == [hz.loc[0, "hazard_id"]]
    assert [i["hazard_id"] for i in v["area_mismatch"]["items"]] == [hz.loc[1, "hazard_id"]]


def test_wrong_utm_zone_is_refused_with_the_right_one(tmp_path, demo_hazards):
    # Western hazards in UTM 47N, labelled 48N: they would land 6 degrees east, some on Cambodian soil.
    west = demo_hazards[demo_hazards.geometry.bounds["maxx"] < 103.5].iloc[:200]
    wrong = west[["hazard_id", "geometry"]].to_crs("EPSG:32647").set_crs("EPSG:32648", allow_override=True)
    path = tmp_path / "zone47_as_48.gpkg"
    wrong.to_file(path, engine="pyogrio")
    with pytest.raises(GeoInputError, match="pass --crs EPSG:32647") as err:
        read_hazards(path)
    assert "zone47_as_48.gpkg" in str(err.value) and "UTM zone 48N" in str(err.value)
    assert len(read_hazards(path, crs="EPSG:32647")) == 200  # the override reads them where they are


def test_polygons_nested_in_collections_are_kept(tmp_path):
    a = shapely.box(0, 0, 1000, 1196)
    b = shapely.box(2000, 0, 3000, 1196)
    nested = shapely.GeometryCollection(
        [shapely.GeometryCollection([a, shapely.Point(5, 5)]), shapely.MultiPolygon([b])]
    )
    gdf = gpd.GeoDataFrame({"hazard_id": ["GC1"]}, geometry=[nested], crs=UTM48N).translate(250_000, 1_420_000)
    path = tmp_path / "nested.geojson"
    gpd.GeoDataFrame({"hazard_id": ["GC1"]}, geometry=gdf.values, crs=UTM48N).to_file(path, engine="pyogrio")
    got = read_hazards(path)
    assert got.to_crs(UTM48N).area.iloc[0] == pytest.approx(2 * 1000 * 1196, rel=1e-6)  # 2.392 km2, both parts
    assert got.attrs["validation"]["non_polygon_dropped"]["ids"] == ["GC1"]  # the point, and only it


def test_very_wide_layers_are_refused_before_the_work(tmp_path):
    wide = tmp_path / "wide.csv"
    cols = [f"c{i}" for i in range(100_000)]
    row = '"POLYGON ((250000 1420000, 250100 1420000, 250100 1420100, 250000 1420000))",' + ",".join("1" * len(cols))
    wide.write_text("wkt," + ",".join(cols) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(GeoInputError, match="100,000 attribute columns") as err:
        read_hazards(wide, crs=UTM48N)
    assert "wide.csv" in str(err.value)
    gdf = gpd.GeoDataFrame(
        {f"a{i}": [1] for i in range(2_500)}, geometry=[shapely.box(250_000, 1_420_000, 250_100, 1_420_100)], crs=UTM48N
    )
    path = tmp_path / "wide.fgb"
    gdf.to_file(path, engine="pyogrio")
    with pytest.raises(GeoInputError, match="at most 1,950"):
        read_hazards(path)


def test_memory_budget_is_reproducible_and_named(monkeypatch):
    from geo.io.validate import check_memory, memory_budget

    monkeypatch.delenv("GEO_MAX_MEMORY", raising=False)
    first, source = memory_budget()
    assert first == memory_budget()[0] and "physical memory" in source  # not the momentary free memory
    monkeypatch.setenv("GEO_MAX_MEMORY", "1MB")
    assert memory_budget() == (1_000_000, "GEO_MAX_MEMORY=1MB")
    with pytest.raises(GeoInputError, match=r"budget is 0.0 GB \(GEO_MAX_MEMORY=1MB\)"):
        check_memory(geo.DEMO_HAZARDS)
    monkeypatch.setenv("GEO_MAX_MEMORY", "lots")
    with pytest.raises(GeoInputError, match="not a size"):
        memory_budget()


def test_guesses_are_said_and_names_are_listed(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"លេខ": ["a", "b"], "SHA_Ref_No": ["S1", "S2"]},
        geometry=[
            shapely.box(250_000, 1_420_000, 250_100, 1_420_100),
            shapely.box(250_200, 1_420_000, 250_300, 1_420_100),
        ],
        crs=UTM48N,
    )
    path = tmp_path / "khmer.gpkg"
    gdf.to_file(path, layer="hazards", engine="pyogrio")
    gdf.to_file(path, layer="other", engine="pyogrio")
    with pytest.raises(GeoInputError, match="no layer 'hazard'; the file has: hazards, other"):
        read_hazards(path, layer="hazard")
    got = read_hazards(path, layer="hazards")
    v = got.attrs["validation"]["ids_numbered"]
    assert v["count"] == 2 and "SHA_Ref_No" in v["columns"]  # said, with the columns to choose from
    got = read_hazards(path, layer="hazards", id_field="sha_ref_no")  # case does not matter
    assert got["hazard_id"].tolist() == ["S1", "S2"]
    with pytest.raises(GeoInputError, match="the layer has: លេខ, SHA_Ref_No"):
        read_hazards(path, layer="hazards", id_field="ref")


@pytest.mark.parametrize(
    "suffix,driver", [(".kml", "KML"), (".kmz", "LIBKML"), (".gml", "GML"), (".tab", "MapInfo File")]
)
def test_formats_gdal_reads_are_read(tmp_path, sample, suffix, driver):
    path = tmp_path / f"sha{suffix}"
    sample.to_file(path, driver=driver, engine="pyogrio")
    got = read_hazards(path)
    assert len(got) == len(sample)
    assert _areas(got).sum() == pytest.approx(_areas(sample).sum(), rel=1e-4)


def test_shapefile_with_khmer_names_cut_by_the_format(tmp_path):
    import warnings

    gdf = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "ឈ្មោះតំបន់": ["ភូមិ"]},
        geometry=[shapely.box(250_000, 1_420_000, 250_100, 1_420_100)],
        crs=UTM48N,
    )
    path = tmp_path / "khmer.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns that it shortens the name
        gdf.to_file(path, engine="pyogrio")
    got = read_hazards(path)
    khmer = [c for c in got.columns if c.startswith("ឈ")]
    assert khmer and got[khmer[0]].iloc[0] == "ភូមិ"  # the value intact, the name cut at a whole character


def test_imsma_core_field_names_are_understood(tmp_path):
    """An IMSMA Core export (hazard_localid, hazard_guid, status_enum, hazardtype_enum, calculated_area,
    province): ids, status, type and recorded area are recognised, the guid kept as an attribute."""
    demo = gpd.read_file(geo.DEMO_HAZARDS).head(40)
    imsma = gpd.GeoDataFrame(
        {
            "hazard_localid": demo["hazard_id"],
            "hazard_guid": [f"{{{i:08d}-0000-4000-8000-000000000000}}" for i in range(len(demo))],
            "status_enum": demo["status"],
            "hazardtype_enum": "SHA",
            "calculated_area": demo["area_recorded_m2"],
            "province": demo["province_recorded"],
        },
        geometry=demo.geometry.values,
        crs=demo.crs,
    )
    imsma.to_file(tmp_path / "imsma.gpkg", layer="hazard")
    hz = read_hazards(tmp_path / "imsma.gpkg")
    fields = hz.attrs["validation"]["fields"]
    assert fields["hazard_id"] == "hazard_localid" and fields["status"] == "status_enum"
    assert fields["hazard_type"] == "hazardtype_enum" and fields["area_recorded_m2"] == "calculated_area"
    assert list(hz["hazard_id"]) == list(demo["hazard_id"])
    assert "ids_numbered" not in hz.attrs["validation"] and "hazard_guid" in hz.columns


def test_a_utf8_shapefile_without_cpg_keeps_its_khmer_text(tmp_path, caplog):
    """QGIS exports and phone apps write UTF-8 Shapefiles without a .cpg; GDAL alone reads them as
    Latin-1. geo finds the text is UTF-8, reads it so and says so; --encoding overrides."""
    import warnings

    demo = gpd.read_file(geo.DEMO_HAZARDS).head(10)[["hazard_id", "geometry"]]
    demo["village"] = "ភូមិ តាសែន"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo.to_file(tmp_path / "sha.shp", encoding="UTF-8")
    (tmp_path / "sha.cpg").unlink(missing_ok=True)
    with caplog.at_level("WARNING", logger="geo"):
        hz = read_hazards(tmp_path / "sha.shp")
    assert set(hz["village"]) == {"ភូមិ តាសែន"}
    assert any("read as UTF-8" in n for n in hz.attrs["validation"]["notes"])
    assert "read as UTF-8" in caplog.text
    forced = read_hazards(tmp_path / "sha.shp", encoding="CP1252")
    assert set(forced["village"]) != {"ភូមិ តាសែន"}  # the encoding asked for is the one used
    (tmp_path / "sha.cpg").write_text("UTF-8")
    assert set(read_hazards(tmp_path / "sha.shp")["village"]) == {"ភូមិ តាសែន"}


def test_one_reader_behaviour_for_every_format(tmp_path, caplog):
    """The same points with a recorded area, as GeoJSON, a semicolon CSV with decimal commas and an XLSX
    sheet: each becomes the same circles, and the guesses are said on screen."""
    import pandas as pd

    demo = gpd.read_file(geo.DEMO_HAZARDS).head(15)
    pts = demo.assign(geometry=demo.geometry.representative_point())[["hazard_id", "area_recorded_m2", "geometry"]]
    pts.to_file(tmp_path / "pts.geojson")
    ll = pts.to_crs("EPSG:4326")
    table = pd.DataFrame(
        {"hazard_id": ll["hazard_id"], "lat": ll.geometry.y, "lon": ll.geometry.x, "area_m2": ll["area_recorded_m2"]}
    )
    table.to_csv(tmp_path / "semi.csv", sep=";", decimal=",", index=False)
    table.to_excel(tmp_path / "list.xlsx", index=False)
    with caplog.at_level("WARNING", logger="geo"):
        read = {name: read_hazards(tmp_path / name) for name in ("pts.geojson", "semi.csv", "list.xlsx")}
    for name, hz in read.items():
        assert list(hz["hazard_id"]) == list(demo["hazard_id"]), name
        assert hz["approximate"].all(), name
        geod = pyproj.Geod(ellps="WGS84")  # the circles' area on the ellipsoid is the recorded area
        areas = [abs(geod.geometry_area_perimeter(g)[0]) for g in hz.to_crs("EPSG:4326").geometry]
        assert areas == pytest.approx(demo["area_recorded_m2"].to_numpy(), rel=1e-4), name
    base = read["pts.geojson"].geometry.values
    for name in ("semi.csv", "list.xlsx"):
        assert shapely.equals_exact(read[name].geometry.values, base, tolerance=1e-7).all(), name
    assert "semicolon-separated" in caplog.text and caplog.text.count("points turned into circles") >= 3


def test_a_google_earth_kml_with_folders_reads_whole_with_its_placemark_names(tmp_path, capsys):
    """Folders are layers: --layer all reads every one (source_layer says which), and the Placemark
    names, Google Earth's ids, are the hazard ids (not the driver's generated ``id``)."""
    from geo.cli import main

    demo = gpd.read_file(geo.DEMO_HAZARDS).head(6).to_crs("EPSG:4326")
    named = demo[["hazard_id", "geometry"]].rename(columns={"hazard_id": "Name"})
    named.iloc[:3].to_file(tmp_path / "sha.kml", layer="Pailin", driver="KML")
    named.iloc[3:].to_file(tmp_path / "sha.kml", layer="Battambang", driver="KML", mode="a")
    hz = read_hazards(tmp_path / "sha.kml", layer="all")
    assert list(hz["hazard_id"]) == list(demo["hazard_id"])
    assert list(hz["source_layer"]) == ["Pailin"] * 3 + ["Battambang"] * 3
    assert main(["analyze", str(tmp_path / "sha.kml"), "--layer", "all", "--out", str(tmp_path / "o"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "Placemark names" in err and "read all 2 layers" in err


def test_csv_coordinates_in_degrees_minutes_seconds_are_read_and_said(tmp_path, caplog):
    (tmp_path / "dms.csv").write_text(
        'hazard_id,lat,lon,area_m2\nH1,"14°21\'34.3""N","103°28\'27.6""E",10000\nH2,13.5,102.9,20000\n',
        encoding="utf-8",
    )
    with caplog.at_level("WARNING", logger="geo"):
        hz = read_hazards(tmp_path / "dms.csv")
    centre = hz.geometry.iloc[0].centroid
    assert centre.y == pytest.approx(14 + 21 / 60 + 34.3 / 3600, abs=1e-5)
    assert centre.x == pytest.approx(103 + 28 / 60 + 27.6 / 3600, abs=1e-5)
    assert "read as degrees, minutes and seconds" in caplog.text
    (tmp_path / "bad.csv").write_text("hazard_id,lat,lon,area_m2\nH1,north,103.1,10000\n", encoding="utf-8")
    with pytest.raises(GeoInputError, match="'lat' is not a number: 'north'"):
        read_hazards(tmp_path / "bad.csv")
