"""Writing an analysis to disk: tables, GeoPackage layers, JSON, and on request XLSX, KML and a
File Geodatabase (:func:`write_outputs`).

Every file is written to a temporary name in the target directory and renamed into place, so a run
that is interrupted leaves the previous file or none, never half a file (:mod:`geo.io.writers`).  The
pieces' files, which may hold millions of rows, are written from one Arrow table
(:mod:`geo.io.writers`).  Paths recorded in outputs are file names only.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.constants import GPKG_VERSION, WGS84
from geo.engine.analysis import AnalysisResult
from geo.engine.summary import by_area
from geo.errors import GeoEnvironmentError
from geo.io.outdir import ANALYSIS_FILES
from geo.io.writers import (
    FORMULA_START,
    PIECE_FORMATS,
    PieceWriter,
    _arrow_pieces,
    _flat,
    _gdal_errors,
    _piece_layer,
    _piece_table,
    atomic_write,
    layer_metadata,
    spreadsheet_safe,
    valid_polygons,
    with_notice,
    write_arrow_layer,
    write_csv,
    write_json,
    write_pieces_parquet,
)

OUTPUT_FILES = ANALYSIS_FILES


def write_gpkg(layers: dict[str, Any], path: Path, metadata: dict | None = None, *, checked: bool = False) -> None:
    """Write several layers into one GeoPackage, atomically (``checked``: the layers have been through
    :func:`valid_polygons` already).  A layer may be a GeoDataFrame, or an Arrow table of pieces
    (:func:`_arrow_pieces`: WGS 84 MultiPolygons as WKB), written as it is."""

    def _write(tmp: Path) -> None:
        with _gdal_errors(path, tmp):
            for name, layer in layers.items():
                if isinstance(layer, gpd.GeoDataFrame):
                    (layer if checked else valid_polygons(layer)).to_file(
                        tmp,
                        layer=name,
                        driver="GPKG",
                        engine="pyogrio",
                        layer_metadata=metadata,
                        VERSION=GPKG_VERSION,
                    )
                else:
                    write_arrow_layer(layer, tmp, name, metadata)

    atomic_write(path, _write)


def kml_field_names(columns: list) -> dict:
    """XML-safe names for a layer's columns in KML: letters, marks, digits and ``_`` (Khmer too), the
    rest replaced by ``_``, each name unique.  GDAL's KML driver writes names into XML attributes as
    they are, so a column named ``a"><NetworkLink>...`` would otherwise inject elements.

    Examples
    --------
    >>> kml_field_names(["hazard_id", 'a"><x y="', "a__x_y__", "1st", "ភូមិ"])
    {'hazard_id': 'hazard_id', 'a"><x y="': 'a___x_y__', 'a__x_y__': 'a__x_y__', '1st': '_1st', 'ភូមិ': 'ភូមិ'}
    """
    out: dict = {}
    used: set[str] = set()
    for column in columns:
        safe = "".join(c if c == "_" or unicodedata.category(c)[0] in "LMN" else "_" for c in str(column)) or "field"
        safe = f"_{safe}" if safe[0].isdigit() else safe
        name, k = safe, 2
        while name in used:
            name, k = f"{safe}_{k}", k + 1
        used.add(name)
        out[column] = name
    return out


def _kml_booleans(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """True/false columns as 1/0: GDAL writes booleans into KML's Integer fields as ``true``/``false``,
    which GDAL 3.6 and QGIS 3.22 read as 0 (the demo's ``synthetic`` mark was lost in Google Earth)."""
    flags = [
        c
        for c in gdf.columns
        if c != gdf.geometry.name
        and (gdf[c].dtype == bool or (gdf[c].dtype == object and gdf[c].map(type).isin([bool]).all() and len(gdf)))
    ]
    return gdf.assign(**{c: gdf[c].astype(int) for c in flags}) if flags else gdf


def check_kml(path: Path) -> None:
    """Refuse a KML file that is not well-formed XML or that links anywhere (``NetworkLink``, ``href``):
    what geo writes holds data only."""
    import xml.etree.ElementTree as ET

    try:
        tree = ET.parse(path)  # our own file; the standard parser resolves no external entity
    except ET.ParseError as exc:
        raise GeoEnvironmentError(
            f"the KML written is not well-formed XML ({exc}); nothing was written", str(path)
        ) from None
    links = {el.tag.rsplit("}", 1)[-1] for el in tree.iter()} & {"NetworkLink", "Link", "href", "Url"}
    if links:
        raise GeoEnvironmentError(f"the KML written holds links ({sorted(links)}); nothing was written", str(path))


def write_kml(result: AnalysisResult, path: Path) -> None:
    """Write the bands, the frontier and the hazard pieces as KML (WGS 84) for Google Earth / OsmAnd,
    atomically; attribute values go into the file's ExtendedData as text, under XML-safe field names
    (:func:`kml_field_names`), and the file is parsed before it takes its place."""
    notice = result.summary.get("notice")
    zones = result.zones.to_crs(WGS84).assign(outer_km=result.zones["outer_km"].replace(np.inf, np.nan))
    pieces = _flat(result.hazard_pieces).assign(geometry=result.hazard_pieces.geometry.values)
    pieces = gpd.GeoDataFrame(pieces, geometry="geometry", crs=result.hazard_pieces.crs).to_crs(WGS84)
    layers = {"zones": zones, "frontier": result.frontier.to_crs(WGS84), "hazard_pieces": pieces}
    if notice:
        layers = {k: v.assign(data_notice=notice) for k, v in layers.items()}
    layers = {
        k: _kml_booleans(v).rename(
            columns={c: n for c, n in kml_field_names(list(v.columns)).items() if c != v.geometry.name}
        )
        for k, v in layers.items()
    }

    def _write(tmp: Path) -> None:
        for name, gdf in layers.items():
            valid_polygons(gdf).to_file(tmp, layer=name, driver="KML", engine="pyogrio")
        check_kml(tmp)

    atomic_write(path, _write)


#: Data rows an Excel sheet holds (1,048,576 rows, less the header).
EXCEL_MAX_ROWS = 1_048_575


def _number_format(column: str) -> str | None:
    """Excel number format for a column, from the unit in its name."""
    if column.startswith("share"):
        return "0.0%"
    if column.endswith("_km2"):
        return "#,##0.0000"
    if column.endswith("_m2"):
        return "#,##0"
    if column.endswith("_km"):
        return "0.###"
    return None


def _where_pieces_are(piece_files: tuple[str, ...]) -> str:
    """Where the whole piece table was written, in words (``--pieces``).

    Examples
    --------
    >>> _where_pieces_are(("gpkg", "csv", "parquet"))
    'in by_hazard.csv, and with geometry in zones.gpkg (layer hazard_pieces) and hazard_pieces.parquet'
    >>> _where_pieces_are(())
    'in no file (the analysis was run with --pieces none)'
    """
    geometry = [n for f, n in (("gpkg", "zones.gpkg (layer hazard_pieces)"), ("parquet", "hazard_pieces.parquet"))
                if f in piece_files]  # fmt: skip
    said = ["in by_hazard.csv"] if "csv" in piece_files else []
    if geometry:
        said.append(("and " if said else "") + "with geometry in " + " and ".join(geometry))
    return ", ".join(said) if said else "in no file (the analysis was run with --pieces none)"


def write_xlsx(
    result: AnalysisResult, path: Path, *, max_rows: int = EXCEL_MAX_ROWS, piece_files: tuple[str, ...] = PIECE_FORMATS
) -> None:
    """Write the tables into one workbook (sheets ``summary``, ``bands``, ``by_province``, ``by_hazard``,
    and ``reference_table1`` when there is one).

    Numbers are stored as numbers, formatted by unit (km2 to 0.0001, m2 to 1, shares as %), under a
    frozen header with filters; text is always text, never a formula.  A ``by_hazard`` table longer
    than an Excel sheet (``max_rows`` rows) is left out of the workbook, and the summary sheet says
    where the whole table is (``by_hazard.csv``, ``hazard_pieces`` in ``zones.gpkg`` and
    ``hazard_pieces.parquet``, those of them ``piece_files`` names).
    """
    from geo.io.writers import write_workbook

    s = result.summary
    scalars = {k: v for k, v in s.to_dict().items() if not isinstance(v, (dict, list))}
    summary = pd.DataFrame({"key": list(scalars), "value": pd.Series(list(scalars.values()), dtype=object)})
    sheets = {"summary": summary, "bands": pd.DataFrame(s["bands"]), "by_province": by_area(result.by_province)}
    if result.streamed:
        note = f"the analysis was made in chunks: by_hazard is {_where_pieces_are(piece_files)}"
        sheets["summary"] = pd.concat([summary, pd.DataFrame({"key": ["note"], "value": [note]})], ignore_index=True)
    elif len(result.hazard_pieces) <= max_rows:
        sheets["by_hazard"] = _flat(result.hazard_pieces)
    else:
        note = (
            f"by_hazard has {len(result.hazard_pieces):,} rows, more than an Excel sheet holds ({max_rows:,}): "
            f"it is not in this workbook; the whole table is {_where_pieces_are(piece_files)}"
        )
        sheets["summary"] = pd.concat([summary, pd.DataFrame({"key": ["note"], "value": [note]})], ignore_index=True)
    if s.get("reference_table1"):
        sheets["reference_table1"] = pd.DataFrame(s["reference_table1"])
    safe = {name: spreadsheet_safe(df) for name, df in sheets.items()}
    atomic_write(path, lambda tmp: write_workbook(tmp, safe, _number_format))


#: Layer aliases ArcGIS shows in place of the layer names of zones.gdb.
GDB_ALIASES = {
    "provinces": "Provinces: contaminated area by border band (km2)",
    "districts": "Districts: contaminated area by border band (km2)",
    "frontier": "Frontier analysed",
    "zones": "Border bands (Cambodian side)",
    "hazard_pieces": "Hazard pieces by province and border band",
}


def write_gdb(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write layers into an Esri File Geodatabase folder (GDAL's OpenFileGDB), as a whole.

    The folder is built beside ``path`` and renamed into place.  Field names are
    laundered by GDAL where the format forbids characters (``band_0-2_km2`` becomes
    ``band_0_2_km2``); polygons and lines are written as multi-part types.  Each layer
    carries an alias (:data:`GDB_ALIASES`), which ArcGIS shows as its name; field aliases
    and coded-value domains are not written (pyogrio, which geo writes through, exposes
    neither).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.gdb")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(laundered|will be written as a Float64).*")
            with _gdal_errors(path, tmp):
                for name, layer in layers.items():
                    options = {"LAYER_ALIAS": GDB_ALIASES[name]} if name in GDB_ALIASES else None
                    valid_polygons(layer).to_file(
                        tmp,
                        layer=name,
                        driver="OpenFileGDB",
                        engine="pyogrio",
                        promote_to_multi=True,
                        layer_options=options,
                    )
        if path.exists():
            shutil.rmtree(path)
        os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def gis_layers(result: AnalysisResult, *, pieces: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``zones.gpkg``, ``zones.gdb`` and the PostGIS tables, in WGS 84: ``provinces`` (with
    the ``by_province`` figures), ``districts`` (with the ``by_district`` figures, where the boundaries
    have districts), ``frontier``, ``zones`` (open outer edge as null) and ``hazard_pieces`` (the public
    columns; a ``synthetic`` flag for synthetic input, whose notice the layer metadata carries)."""
    provinces = result.provinces.merge(
        result.by_province.drop(columns=["province", "name_km"]), on="code", how="left"
    ).to_crs(WGS84)
    zones = result.zones.to_crs(WGS84).assign(outer_km=result.zones["outer_km"].replace(np.inf, np.nan))
    layers = {"provinces": provinces}
    districts = result.territory.districts
    if result.by_district is not None and districts is not None:
        figures = result.by_district.drop(columns=["district", "name_km", "province", "code"])
        layers["districts"] = gpd.GeoDataFrame(
            districts[["district_code", "district", "name_km", "code", "province"]].merge(
                figures, on="district_code", how="left"
            ),
            geometry=districts.geometry.values,
            crs=districts.crs,
        ).to_crs(WGS84)
    layers.update({"frontier": result.frontier.to_crs(WGS84), "zones": zones})
    if pieces:
        layers["hazard_pieces"] = _piece_layer(result.hazard_pieces, synthetic=bool(result.summary.get("notice")))
    return layers


def district_rows(result: AnalysisResult) -> pd.DataFrame:
    """The rows of ``by_district.csv``: most contaminated first (by province as the province table,
    then by district), a ``synthetic`` flag and the notice for synthetic data; header only when the
    boundaries have no districts."""
    table = result.by_district
    if table is None:
        table = pd.DataFrame(columns=["district", "district_code", "name_km", "province", "code"])
    else:
        rank = {c: i for i, c in enumerate(by_area(result.by_province)["code"])}
        order = np.lexsort(
            (
                table["district_code"].astype(str).to_numpy(),
                -table["area_km2"].to_numpy(),
                table["code"].map(rank).fillna(len(rank)).to_numpy(),
            )
        )
        table = table.iloc[order].reset_index(drop=True)
    notice = result.summary.get("notice")
    return with_notice(table, notice) if notice else table


def write_outputs(
    result: AnalysisResult,
    out_dir: Path,
    xlsx: bool = False,
    kml: bool = False,
    gdb: bool = False,
    *,
    pieces: PieceWriter | None = None,
    piece_files: tuple[str, ...] = PIECE_FORMATS,
) -> list[Path]:
    """Write the analysis' files into ``out_dir`` (each file atomically; for a whole set, write
    into the staging directory of :class:`geo.io.outdir.OutputSet`).

    Files: ``summary.json``, ``by_province.csv``, ``by_hazard.csv``,
    ``zones.gpkg`` (layers ``provinces``, ``districts``, ``frontier``, ``zones``,
    ``hazard_pieces``; EPSG:4326), ``validation.json``, ``hazard_pieces.parquet``
    (the pieces again, as GeoParquet), ``by_district.csv`` (each province's districts add up to
    its row of ``by_province.csv``), with ``xlsx``
    ``tables.xlsx`` and with ``kml`` ``zones.kml`` (bands, frontier, pieces).

    ``piece_files`` (:data:`geo.io.writers.PIECE_FORMATS`, see ``geo analyze --pieces``) says which
    of the three piece files are written: ``gpkg`` (the ``hazard_pieces`` layer of ``zones.gpkg``),
    ``csv`` (``by_hazard.csv``), ``parquet`` (``hazard_pieces.parquet``); for a chunked run the
    writer's own formats decide. ``zones.gpkg`` is written in any case, with its other layers.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    notice = result.summary.get("notice")
    by_province = by_area(result.by_province)  # in the order of the printed table
    meta = layer_metadata(notice)
    if notice:
        # Said once per file: a ``synthetic`` flag on every row, the full text on the first.
        by_province = with_notice(by_province, notice)
    written = [out_dir / n for n in OUTPUT_FILES]
    write_json(result.summary.to_dict(), written[0])
    write_csv(by_province, written[1])
    if pieces is not None:  # by_hazard.csv and hazard_pieces were written chunk by chunk
        piece_files = pieces.formats
        pieces.close(gis_layers(result, pieces=False))
    else:
        # The pieces' layer (reprojected, checked) only for a file that holds it: the GeoPackage, the
        # Parquet file or the File Geodatabase.
        with_pieces = bool({"gpkg", "parquet"} & set(piece_files)) or gdb
        layers = {name: valid_polygons(layer) for name, layer in gis_layers(result, pieces=with_pieces).items()}
        table = _arrow_pieces(layers["hazard_pieces"]) if {"gpkg", "parquet"} & set(piece_files) else None
        gpkg_layers = {k: v for k, v in layers.items() if k != "hazard_pieces"}
        if "gpkg" in piece_files:
            gpkg_layers["hazard_pieces"] = table
        # Parquet is written without Python's lock, so beside the CSV and the GeoPackage.
        with ThreadPoolExecutor(1) as pool:
            parquet = pool.submit(write_pieces_parquet, table, written[5], notice) if "parquet" in piece_files else None
            if "csv" in piece_files:
                write_csv(_piece_table(result.hazard_pieces, synthetic=bool(notice)), written[2])
            write_gpkg(gpkg_layers, written[3], meta, checked=True)
            if parquet is not None:
                parquet.result()
    write_json(result.validation, written[4])
    write_csv(district_rows(result), written[6])
    skipped = {"csv": "by_hazard.csv", "parquet": "hazard_pieces.parquet"}
    written = [p for p in written if p.name not in {n for f, n in skipped.items() if f not in piece_files}]
    if gdb:
        written.append(out_dir / "zones.gdb")
        write_gdb(layers, written[-1])
    if xlsx:
        written.append(out_dir / "tables.xlsx")
        write_xlsx(result, written[-1], piece_files=piece_files)
    if kml:
        written.append(out_dir / "zones.kml")
        write_kml(result, written[-1])
    return written


__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMULA_START",
    "GDB_ALIASES",
    "OUTPUT_FILES",
    "district_rows",
    "gis_layers",
    "write_gdb",
    "write_gpkg",
    "write_kml",
    "write_outputs",
    "write_xlsx",
]


def postgis_layers(result: AnalysisResult) -> dict[str, pd.DataFrame]:
    """The tables :func:`geo.io.db.write_postgis` writes: the province table, the bands, and the
    pieces and zones of the files."""
    gis = gis_layers(result)
    bands = pd.DataFrame(result.summary.get("bands", []))
    return {
        # As by_province.csv: most contaminated first, a synthetic flag on synthetic data (the notice
        # itself is the table's comment).
        "by_province": by_area(result.by_province).assign(
            **({"synthetic": True} if result.summary.get("notice") else {})
        ),
        "bands": bands.map(lambda v: v if not isinstance(v, (list, dict)) else str(v)),
        "hazard_pieces": gis["hazard_pieces"].reset_index(drop=True),
        "zones": gis["zones"].reset_index(drop=True),
    }
