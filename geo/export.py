"""Writing an analysis to disk: tables, GeoPackage layers, JSON.

Every file is written to a temporary name in the target directory and
renamed into place, so a run that is interrupted leaves the previous file or
none, never half a file.  Paths recorded in outputs are file names only.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import GeoEnvironmentError
from geo._outdir import ANALYSIS_FILES, library_write_error
from geo._pieces import public_columns
from geo._threads import valid_mask
from geo.analysis import AnalysisResult
from geo.constants import SYNTHETIC_NOTICE, WGS84
from geo.crs import reproject, to_crs

OUTPUT_FILES = ANALYSIS_FILES


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # some writers (GDAL) refuse to open an existing empty file
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if not math.isfinite(obj) else float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return obj.name
    return str(obj)


def write_json(obj, path: Path) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default, allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


#: A text cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _defuse(value):
    """Text a spreadsheet would evaluate gets a leading apostrophe; numbers and other text stay as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _defuse_column(values: pd.Series) -> pd.Series:
    """:func:`_defuse` on a column, the test done once per distinct value (values that are not text
    stay as they are)."""
    column = values.astype(object)
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists, dicts): test each one
        codes, uniques = np.arange(len(column)), column.to_numpy()
    starts = np.fromiter(
        (isinstance(v, str) and v.startswith(FORMULA_START) for v in uniques), dtype=bool, count=len(uniques)
    )
    risky = np.append(starts, False)[codes]  # code -1: a missing value
    if not risky.any():
        return column
    out = column.to_numpy(copy=True)
    out[risky] = ["'" + v for v in out[risky]]
    return pd.Series(out, index=values.index, dtype=object)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and headers cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or a line break is prefixed with
    ``'``, so Excel and LibreOffice show it as text; numeric columns are untouched.

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"id": ["=1+1", "A-1"], "n": [-1.5, 2]})).to_dict("list")
    {'id': ["'=1+1", 'A-1'], 'n': [-1.5, 2.0]}
    """
    text = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)]
    out = df.assign(**{str(c): _defuse_column(df[c]) for c in text}) if text else df.copy()
    out.columns = [_defuse(str(c)) for c in out.columns]
    return out


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text, safe to open in a spreadsheet (see :func:`spreadsheet_safe`)."""
    buf = io.StringIO()
    spreadsheet_safe(df).to_csv(buf, index=False)
    return buf.getvalue()


def rounded_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers as a reader of a CSV wants them: m2 and m to 0.01, km2 to 0.00000001 (the same
    0.01 m2, so ``area_km2`` and ``area_m2`` agree), shares to 0.000001; other columns as they are.
    Full precision stays in the GeoPackage and JSON outputs.

    Examples
    --------
    >>> rounded_for_csv(pd.DataFrame({"area_km2": [1.23456789012], "area_m2": [1234567.891234]})).iloc[0].tolist()
    [1.23456789, 1234567.89]
    """
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        name = str(col)
        if name.endswith("_km2"):
            out[col] = out[col].round(8)
        elif name.startswith("share"):
            out[col] = out[col].round(6)
        elif name.endswith(("_m2", "_m")):
            out[col] = out[col].round(2)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, atomically: UTF-8 with a byte-order mark (so a spreadsheet opened by
    double-click reads Khmer names right), numbers rounded (:func:`rounded_for_csv`), safe to open
    in a spreadsheet (:func:`spreadsheet_safe`)."""
    safe = spreadsheet_safe(rounded_for_csv(df))
    atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False, encoding="utf-8-sig"))


def write_gpkg(layers: dict[str, Any], path: Path, metadata: dict | None = None, *, checked: bool = False) -> None:
    """Write several layers into one GeoPackage, atomically (``checked``: the layers have been through
    :func:`valid_polygons` already).  A layer may be a GeoDataFrame, or an Arrow table of pieces
    (:func:`_arrow_pieces`: WGS 84 MultiPolygons as WKB), written as it is."""

    def _write(tmp: Path) -> None:
        with _gdal_errors(path, tmp):
            for name, layer in layers.items():
                if isinstance(layer, gpd.GeoDataFrame):
                    (layer if checked else valid_polygons(layer)).to_file(
                        tmp, layer=name, driver="GPKG", engine="pyogrio", layer_metadata=metadata
                    )
                else:
                    write_arrow_layer(layer, tmp, name, metadata)

    atomic_write(path, _write)


def write_arrow_layer(table, path: Path, name: str, metadata: dict | None = None, *, append: bool = False) -> None:
    """Write (or with ``append`` add to) a GeoPackage layer from an Arrow table of pieces (attributes,
    then ``geometry``: WKB MultiPolygons in WGS 84), without turning its rows into Python objects.

    GeoPackage has no unsigned 64-bit integers and keeps a time zone only as an offset, so such
    columns are written as signed integers (when they fit) and as UTC times.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyogrio
    from pyproj import CRS

    if pyogrio.__gdal_version__ < (3, 8, 0):
        raise GeoEnvironmentError(
            f"writing the hazard_pieces layer needs GDAL 3.8 or later, and this pyogrio uses GDAL "
            f"{pyogrio.__gdal_version_string__}; install pyogrio's own wheel (pip install --force-reinstall "
            "--only-binary pyogrio pyogrio)"
        )
    arrays, fields = [], []
    for field, column in zip(table.schema, table.columns):
        kind = field.type
        if pa.types.is_uint64(kind) and (len(column) == 0 or (pc.max(column).as_py() or 0) < 2**63):
            kind = pa.int64()
        elif pa.types.is_timestamp(kind) and kind.tz and not _fixed_offset(kind.tz):
            kind = pa.timestamp(kind.unit, tz="UTC")  # the same instants
        arrays.append(column.cast(kind))
        fields.append(field.with_type(kind))
    pyogrio.write_arrow(
        pa.Table.from_arrays(arrays, schema=pa.schema(fields)),
        path,
        layer=name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="MultiPolygon",
        crs=CRS.from_user_input(WGS84).to_wkt(),
        append=append,
        layer_metadata=None if append else metadata,
    )


def _fixed_offset(tz: str) -> bool:
    """Whether an Arrow time zone is UTC or a fixed offset (``+07:00``), which GDAL keeps."""
    return tz.upper() == "UTC" or (len(tz) == 6 and tz[0] in "+-" and tz[3] == ":")


@contextmanager
def _gdal_errors(path: Path, partial: Path):
    """GDAL reports a full disk as a failed commit, not an OS error: say so when the machine is the cause."""
    try:
        yield
    except Exception as exc:
        env = library_write_error(path, partial)
        if env is not None:
            raise env from exc
        raise


def write_kml(result: AnalysisResult, path: Path) -> None:
    """Write the bands, the frontier and the hazard pieces as KML (WGS 84) for Google Earth / OsmAnd,
    atomically; attribute values go into the file's ExtendedData as text."""
    notice = result.summary.get("notice")
    zones = result.zones.to_crs(WGS84).assign(outer_km=result.zones["outer_km"].replace(np.inf, np.nan))
    pieces = _flat(result.by_hazard).assign(geometry=result.by_hazard.geometry.values)
    pieces = gpd.GeoDataFrame(pieces, geometry="geometry", crs=result.by_hazard.crs).to_crs(WGS84)
    layers = {"zones": zones, "frontier": result.frontier.to_crs(WGS84), "hazard_pieces": pieces}
    if notice:
        layers = {k: v.assign(data_notice=notice) for k, v in layers.items()}

    def _write(tmp: Path) -> None:
        for name, gdf in layers.items():
            valid_polygons(gdf).to_file(tmp, layer=name, driver="KML", engine="pyogrio")

    atomic_write(path, _write)


def valid_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons valid in the layer's own CRS: reprojection can pinch a ring valid in the analysis CRS
    (a self-touching band edge at a coast), so invalid ones are repaired, keeping their polygonal parts."""
    geoms = gdf.geometry.values
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero(np.isin(kinds, (3, 6)) & ~valid_mask(geoms))
    if not len(bad):
        return gdf
    fixed = np.array(geoms, dtype=object)
    for i, geom in zip(bad, shapely.make_valid(fixed[bad], method="structure", keep_collapsed=False)):
        polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
        fixed[i] = shapely.union_all(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())
    return gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    return public_columns(df).drop(columns=[c for c in df.columns if c == "geometry"])


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


def write_xlsx(result: AnalysisResult, path: Path, *, max_rows: int = EXCEL_MAX_ROWS) -> None:
    """Write the tables into one workbook (sheets ``summary``, ``bands``, ``by_province``, ``by_hazard``,
    and ``reference_table1`` when there is one).

    Numbers are stored as numbers, formatted by unit (km2 to 0.0001, m2 to 1, shares as %), under a
    frozen header with filters; text is always text, never a formula.  A ``by_hazard`` table longer
    than an Excel sheet (``max_rows`` rows) is left out of the workbook, and the summary sheet says
    where the whole table is (``by_hazard.csv``, ``hazard_pieces`` in ``zones.gpkg`` and
    ``hazard_pieces.parquet``).
    """
    from geo._xlsx import write_workbook

    s = result.summary
    scalars = {k: v for k, v in s.items() if not isinstance(v, (dict, list))}
    summary = pd.DataFrame({"key": list(scalars), "value": pd.Series(list(scalars.values()), dtype=object)})
    sheets = {"summary": summary, "bands": pd.DataFrame(s["bands"]), "by_province": result.by_province}
    if result.streamed:
        note = (
            "the analysis was made in chunks: by_hazard is in by_hazard.csv, and with geometry in zones.gpkg "
            "(layer hazard_pieces) and hazard_pieces.parquet"
        )
        sheets["summary"] = pd.concat([summary, pd.DataFrame({"key": ["note"], "value": [note]})], ignore_index=True)
    elif len(result.by_hazard) <= max_rows:
        sheets["by_hazard"] = _flat(result.by_hazard)
    else:
        note = (
            f"by_hazard has {len(result.by_hazard):,} rows, more than an Excel sheet holds ({max_rows:,}): "
            "it is not in this workbook; the whole table is in by_hazard.csv, and with geometry in zones.gpkg "
            "(layer hazard_pieces) and hazard_pieces.parquet"
        )
        sheets["summary"] = pd.concat([summary, pd.DataFrame({"key": ["note"], "value": [note]})], ignore_index=True)
    if s.get("reference_table1"):
        sheets["reference_table1"] = pd.DataFrame(s["reference_table1"])
    safe = {name: spreadsheet_safe(df) for name, df in sheets.items()}
    atomic_write(path, lambda tmp: write_workbook(tmp, safe, _number_format))


#: Layer aliases ArcGIS shows in place of the layer names of zones.gdb.
GDB_ALIASES = {
    "provinces": "Provinces: contaminated area by border band (km2)",
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
    the ``by_province`` figures), ``frontier``, ``zones`` (open outer edge as null) and ``hazard_pieces``
    (the public columns; a ``synthetic`` flag for synthetic input, whose notice the layer metadata carries)."""
    provinces = result.provinces.merge(
        result.by_province.drop(columns=["province", "name_km"]), on="code", how="left"
    ).to_crs(WGS84)
    zones = result.zones.to_crs(WGS84).assign(outer_km=result.zones["outer_km"].replace(np.inf, np.nan))
    layers = {"provinces": provinces, "frontier": result.frontier.to_crs(WGS84), "zones": zones}
    if pieces:
        layers["hazard_pieces"] = _piece_layer(result.by_hazard, synthetic=bool(result.summary.get("notice")))
    return layers


def _piece_table(by_hazard: pd.DataFrame, *, synthetic: bool) -> pd.DataFrame:
    """The rows of ``by_hazard.csv``: the public columns without geometry, and for synthetic input a
    ``synthetic`` flag (the notice itself is said once per file, not on every row)."""
    table = _flat(by_hazard)
    if synthetic:
        table["synthetic"] = True
    return table


def _piece_layer(by_hazard: gpd.GeoDataFrame, *, synthetic: bool) -> gpd.GeoDataFrame:
    """The ``hazard_pieces`` layer: the public columns (and the ``synthetic`` flag) in WGS 84.

    A piece that is a whole hazard given in WGS 84 keeps that geometry (``_wgs84``, see
    :func:`geo._pieces.hazard_table`); the others are reprojected.
    """
    layer = public_columns(by_hazard)
    if synthetic:
        layer = layer.assign(synthetic=True)
    if "_wgs84" not in by_hazard.columns:
        return to_crs(layer, WGS84)
    geoms = by_hazard["_wgs84"].to_numpy().copy()
    moved = pd.isna(geoms)
    geoms[moved] = reproject(layer.geometry.to_numpy()[moved], layer.crs, WGS84)
    return layer.set_geometry(gpd.GeoSeries(geoms, index=layer.index, crs=WGS84), crs=WGS84)


def layer_metadata(notice: str | None) -> dict | None:
    """Metadata of the GeoPackage layers: the SYNTHETIC notice, when there is one."""
    return {"SYNTHETIC": "yes", "NOTICE": notice} if notice else None


def _geoparquet_meta(notice: str | None) -> dict[bytes, bytes]:
    """File metadata of ``hazard_pieces.parquet``: GeoParquet's ``geo`` key (WKB MultiPolygons in
    WGS 84, lon/lat), and the SYNTHETIC notice when there is one (the keys of the GeoPackage layers)."""
    from pyproj import CRS

    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["MultiPolygon"],
                "crs": CRS.from_user_input(WGS84).to_json_dict(),
                "edges": "planar",
            }
        },
    }
    meta = {b"geo": json.dumps(geo).encode()}
    for key, value in (layer_metadata(notice) or {}).items():
        meta[key.encode()] = str(value).encode()
    return meta


#: The WKB of a MultiPolygon of one polygon, before that polygon's own WKB: little-endian, type 6, one part.
_MULTI_OF_ONE = b"\x01\x06\x00\x00\x00\x01\x00\x00\x00"
#: The WKB of MULTIPOLYGON EMPTY, little-endian.
_MULTI_EMPTY = b"\x01\x06\x00\x00\x00\x00\x00\x00\x00"
#: Bytes 1-4 of a little-endian 2-D polygon's WKB: its type.
_POLYGON_2D = b"\x03\x00\x00\x00"


def multipolygon_wkb(geoms: np.ndarray) -> list:
    """Each geometry as the WKB of a MultiPolygon (little-endian; None stays None): a 2-D polygon's
    own WKB behind a MultiPolygon header, so no geometry is built; other rows through shapely.

    Examples
    --------
    >>> a = shapely.box(0, 0, 1, 1)
    >>> wkb = multipolygon_wkb(np.array([a, shapely.Polygon(), None, shapely.MultiPolygon([a])]))
    >>> [shapely.from_wkb(w).geom_type if w else w for w in wkb], shapely.from_wkb(wkb[1]).is_empty
    (['MultiPolygon', 'MultiPolygon', None, 'MultiPolygon'], True)
    >>> wkb[0] == shapely.to_wkb(shapely.MultiPolygon([a]), byte_order=1)
    True
    """
    wkb = shapely.to_wkb(geoms, byte_order=1)  # to_wkb holds Python's lock: no threads
    out = [
        None if w is None else (_MULTI_OF_ONE + w if len(w) > 9 else _MULTI_EMPTY) if w[1:5] == _POLYGON_2D else w
        for w in wkb
    ]
    other = [i for i, w in enumerate(wkb) if w is not None and w[1:5] != _POLYGON_2D]
    if other:  # 3-D polygons and what is a MultiPolygon already
        part = geoms[other]
        polygon, empty = shapely.get_type_id(part) == 3, shapely.is_empty(part)
        part = part.copy()
        part[polygon & ~empty] = shapely.multipolygons(part[polygon & ~empty].reshape(-1, 1))
        part[polygon & empty] = shapely.from_wkt("MULTIPOLYGON EMPTY")  # not a MultiPolygon of an empty one
        for i, w in zip(other, shapely.to_wkb(part, byte_order=1)):
            out[i] = w
    return out


def _arrow_pieces(layer: gpd.GeoDataFrame):
    """The ``hazard_pieces`` rows (WGS 84, valid polygons) as an Arrow table: attributes as they
    are (a column of nulls only as text), geometry as WKB MultiPolygons (as in the GeoPackage layer)."""
    import pyarrow as pa

    attrs = pd.DataFrame({str(c): layer[c] for c in layer.columns if c != layer.geometry.name})
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
    arrays = [table.column(f.name).cast(f.type) for f in fields]
    wkb = pa.array(multipolygon_wkb(layer.geometry.to_numpy()), type=pa.binary())
    return pa.Table.from_arrays([*arrays, wkb], schema=pa.schema([*fields, pa.field("geometry", pa.binary())]))


def _conform(table, schema):
    """``table`` with the column types of ``schema`` (that of a file's first batch): a batch where a
    column is all null, or whole numbers where the first batch had gaps, still fits the file."""
    if table.schema.equals(schema, check_metadata=False):
        return table
    if table.schema.names != schema.names:
        raise ValueError(f"pieces with columns {table.schema.names} after {schema.names}")
    return table.cast(schema)


def write_pieces_parquet(table, path: Path, notice: str | None) -> None:
    """Write the ``hazard_pieces`` layer, as the Arrow table :func:`_arrow_pieces` made of it, as
    GeoParquet (one file, atomically): the fastest of the piece files to write and to read back
    (``geopandas.read_parquet``, GDAL, DuckDB, QGIS)."""
    import pyarrow.parquet as pq

    table = table.replace_schema_metadata(_geoparquet_meta(notice))
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


@dataclass(frozen=True)
class PieceRows:
    """Pieces made ready for the files (where they were made, e.g. in a worker process).

    Attributes
    ----------
    header : str
        The CSV header line.
    csv : str
        The CSV rows, without the header: rounded and spreadsheet-safe as :func:`write_csv` writes them.
    arrow : pyarrow.Table
        The ``hazard_pieces`` rows in WGS 84, valid polygons as WKB MultiPolygons: the batch of the
        GeoPackage layer and of ``hazard_pieces.parquet``.
    synthetic : bool
        Whether the rows carry the ``synthetic`` flag.
    """

    header: str
    csv: str
    arrow: Any
    synthetic: bool

    @classmethod
    def of(cls, by_hazard: gpd.GeoDataFrame, *, synthetic: bool) -> PieceRows:
        """The rows of a ``by_hazard`` table (analysis CRS) as :func:`write_outputs` writes them."""
        text = spreadsheet_safe(rounded_for_csv(_piece_table(by_hazard, synthetic=synthetic)))
        return cls(
            header=text.iloc[:0].to_csv(index=False),
            csv=text.to_csv(index=False, header=False),
            arrow=_arrow_pieces(valid_polygons(_piece_layer(by_hazard, synthetic=synthetic))),
            synthetic=synthetic,
        )


class PieceWriter:
    """``by_hazard.csv``, the ``hazard_pieces`` layer of ``zones.gpkg`` and ``hazard_pieces.parquet``,
    written a chunk of pieces at a time.

    They grow under temporary names in ``out_dir`` and take their names in :meth:`close`, with the
    other layers of ``zones.gpkg`` added; the rows are the ones :func:`write_outputs` writes for a
    whole analysis, in the same order.

    Parameters
    ----------
    out_dir : Path
        The directory written into (for a whole set, the staging directory of
        :class:`geo._outdir.OutputSet`, which removes what a failed run leaves).
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.csv_part = self.out_dir / ".by_hazard.part.csv"
        self.gpkg_part = self.out_dir / ".zones.part.gpkg"
        self.parquet_part = self.out_dir / ".hazard_pieces.part.parquet"
        self.rows = 0
        self._header: str | None = None
        self._meta: dict | None = None
        self._parquet: Any = None  # a pyarrow.parquet.ParquetWriter once the first rows came

    def add(self, rows: PieceRows) -> None:
        """Append pieces (see :meth:`PieceRows.of`) to the three files."""
        first = self._header is None
        notice = SYNTHETIC_NOTICE if rows.synthetic else None
        if first:
            self._header = rows.header
            self._meta = layer_metadata(notice)
        elif rows.header != self._header:
            raise ValueError(f"pieces with columns {rows.header!r} after {self._header!r}")
        with self.csv_part.open("w" if first else "a", encoding="utf-8-sig" if first else "utf-8", newline="") as f:
            f.write((rows.header if first else "") + rows.csv)
        if first:
            import pyarrow.parquet as pq

            schema = rows.arrow.schema.with_metadata(_geoparquet_meta(notice))
            self._parquet = pq.ParquetWriter(self.parquet_part, schema, compression="zstd")
        table = _conform(rows.arrow, self._parquet.schema)
        # Parquet is written without Python's lock, so beside the GeoPackage (which holds it).
        with ThreadPoolExecutor(1) as pool:
            parquet = pool.submit(self._parquet.write_table, table)
            with _gdal_errors(self.out_dir / "zones.gpkg", self.gpkg_part):
                write_arrow_layer(table, self.gpkg_part, "hazard_pieces", self._meta, append=not first)
            parquet.result()
        self.rows += table.num_rows

    def discard(self) -> None:
        """Close the part files after a failure (the caller removes the staging directory)."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def close(self, layers: dict[str, gpd.GeoDataFrame]) -> list[Path]:
        """Add the other ``layers`` to the GeoPackage and give the three files their names."""
        if self._header is None:
            raise ValueError("no pieces were written")
        with _gdal_errors(self.out_dir / "zones.gpkg", self.gpkg_part):
            for name, gdf in layers.items():
                valid_polygons(gdf).to_file(
                    self.gpkg_part, layer=name, driver="GPKG", engine="pyogrio", layer_metadata=self._meta
                )
        self._parquet.close()
        self._parquet = None
        done = [self.out_dir / "by_hazard.csv", self.out_dir / "zones.gpkg", self.out_dir / "hazard_pieces.parquet"]
        for part, path in zip((self.csv_part, self.gpkg_part, self.parquet_part), done):
            os.replace(part, path)
        return done


def write_outputs(
    result: AnalysisResult,
    out_dir: Path,
    xlsx: bool = False,
    kml: bool = False,
    gdb: bool = False,
    *,
    pieces: PieceWriter | None = None,
) -> list[Path]:
    """Write the analysis' files into ``out_dir`` (each file atomically; for a whole set, write
    into the staging directory of :class:`geo._outdir.OutputSet`).

    Files: ``summary.json``, ``by_province.csv``, ``by_hazard.csv``,
    ``zones.gpkg`` (layers ``provinces``, ``frontier``, ``zones``,
    ``hazard_pieces``; EPSG:4326), ``validation.json``, ``hazard_pieces.parquet``
    (the pieces again, as GeoParquet), with ``xlsx``
    ``tables.xlsx`` and with ``kml`` ``zones.kml`` (bands, frontier, pieces).

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    notice = result.summary.get("notice")
    by_province = result.by_province.copy()
    meta = layer_metadata(notice)
    if notice:
        # Said in full once per file: in each of the 25 province rows, and in the pieces' table as a
        # ``synthetic`` flag (the full text on each of a million rows would be most of the file).
        by_province["data_notice"] = notice
    written = [out_dir / n for n in OUTPUT_FILES]
    write_json(result.summary, written[0])
    write_csv(by_province, written[1])
    if pieces is not None:  # by_hazard.csv and hazard_pieces were written chunk by chunk
        pieces.close(gis_layers(result, pieces=False))
    else:
        layers = {name: valid_polygons(layer) for name, layer in gis_layers(result).items()}
        table = _arrow_pieces(layers["hazard_pieces"])
        # Parquet is written without Python's lock, so beside the CSV and the GeoPackage.
        with ThreadPoolExecutor(1) as pool:
            parquet = pool.submit(write_pieces_parquet, table, written[5], notice)
            write_csv(_piece_table(result.by_hazard, synthetic=bool(notice)), written[2])
            write_gpkg({**layers, "hazard_pieces": table}, written[3], meta, checked=True)
            parquet.result()
    write_json(result.validation, written[4])
    if gdb:
        written.append(out_dir / "zones.gdb")
        write_gdb(layers, written[-1])
    if xlsx:
        written.append(out_dir / "tables.xlsx")
        write_xlsx(result, written[-1])
    if kml:
        written.append(out_dir / "zones.kml")
        write_kml(result, written[-1])
    return written
