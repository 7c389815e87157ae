"""One reader per kind of file a hazard layer comes in (vector formats through pyogrio, GeoParquet,
CSV of WKT or of points with an area), and the field names they are matched by; used by
:func:`geo.read_hazards`."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo._errors import GeoInputError
from geo._parquet import is_parquet, parquet_info, read_parquet_rows
from geo._text import normalize_name
from geo.constants import WGS84
from geo.crs import GEOD
from geo.summary import is_synthetic

#: geo's field -> export names seen in IMSMA and operator data (normalised).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "hazard_id": ("hazardid", "hazid", "shaid", "hazardref", "hazardreference", "imsmaid", "localid", "id", "ref"),
    "status": ("status", "hazstatus", "hazardstatus", "state"),
    "province_recorded": ("provincerecorded", "province", "prov", "provname", "provincename", "admin1", "adm1name"),
    "district_recorded": ("districtrecorded", "district", "dist", "distname", "districtname", "admin2", "adm2name"),
    "hazard_type": ("hazardtype", "haztype", "type", "shatype", "contaminationtype", "category"),
    "device_type": ("devicetype", "device", "minetype", "apav", "threattype", "ordnancetype"),
    "density": ("density", "minedensity", "contaminationdensity", "densityclass"),
    "area_recorded_m2": (
        "arearecordedm2",
        "aream2",
        "areasqm",
        "areasqm2",
        "area",
        "shaarea",
        "recordedarea",
        "sizem2",
    ),
}
#: Recorded-area fields in other units, and their factor to m2.
AREA_UNITS: dict[str, float] = {"areaha": 1e4, "areahectare": 1e4, "areakm2": 1e6, "areasqkm": 1e6}
WKT_FIELDS = ("wkt", "geometry", "geom", "wktgeom", "shape")
LAT_FIELDS = ("lat", "latitude", "y", "ycoord")
LON_FIELDS = ("lon", "long", "lng", "longitude", "x", "xcoord")
#: Most attribute columns a hazard layer may have: a GeoPackage table holds at most 2,000 columns
#: (SQLite's default limit), and geo adds about 20 of its own to the piece table.
MAX_COLUMNS = 1_950
#: Vertices of the circle built for a CSV point with an area.
CIRCLE_VERTICES = 64


def _column_named(name: str, columns, path: Path | str, what: str = "hazard ids") -> str:
    """The column called ``name``, matched without regard to case; an error listing the columns otherwise."""
    exact = [c for c in columns if str(c) == name]
    loose = [c for c in columns if str(c).casefold() == name.casefold()]
    if exact or len(loose) == 1:
        return (exact or loose)[0]
    listed = ", ".join(str(c) for c in columns)
    raise GeoInputError(f"no column {name!r} for {what}; the layer has: {listed}", str(path))


def find_column(columns, aliases) -> str | None:
    """The first column whose normalised name is one of ``aliases`` (normalised), or None."""
    lookup = {normalize_name(c): c for c in columns}
    for alias in aliases:
        if alias in lookup:
            return lookup[alias]
    return None


def geodesic_circles(lon: np.ndarray, lat: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Polygons of the given geodesic area centred on points (WGS 84).

    The circle is a regular polygon of :data:`CIRCLE_VERTICES` vertices on
    the ellipsoid whose radius is enlarged so that the polygon, not the
    circle, has the requested area.
    """
    n = CIRCLE_VERTICES
    radius = np.sqrt(area_m2 / (0.5 * n * math.sin(2 * math.pi / n)))
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lons = np.repeat(lon, n)
    lats = np.repeat(lat, n)
    x, y, _ = GEOD.fwd(lons, lats, np.tile(az, len(lon)), np.repeat(radius, n))
    rings = np.stack([x.reshape(-1, n), y.reshape(-1, n)], axis=-1)
    return shapely.polygons(rings)


def _check_width(n_columns: int, path: Path) -> None:
    if n_columns > MAX_COLUMNS:
        raise GeoInputError(
            f"{n_columns:,} attribute columns: the piece tables geo writes (GeoPackage) hold at most "
            f"{MAX_COLUMNS:,}; keep the columns you need (e.g. ogr2ogr -select hazard_id,status ...)",
            str(path),
        )


def _header_width(path: Path) -> int:
    """Columns in a CSV's first line, counted without parsing the table (a very wide file is refused at once)."""
    import csv

    with open(path, encoding="latin-1", newline="") as fh:
        return len(next(csv.reader(fh), []))


def _read_csv(path: Path, crs: str | None) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    notes: list[str] = []
    _check_width(_header_width(path) - 1, path)  # less one for the geometry (WKT) column
    df = None
    # UTF-8, else Windows-1252 (common in exports), else Latin-1 (decodes any byte; said in the notes).
    for encoding, note in (
        ("utf-8", None),
        ("cp1252", "text is not UTF-8; read as Windows-1252"),
        ("latin-1", "text is neither UTF-8 nor Windows-1252; read as Latin-1, check accents"),
    ):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise GeoInputError(f"not a readable CSV table: {exc}", str(path)) from exc
        if note:
            notes.append(note)
        break
    if df is None:  # Latin-1 decodes any byte, so this only guards the types
        raise GeoInputError("cannot decode the text of the CSV", str(path))
    wkt_col = find_column(df.columns, WKT_FIELDS)
    if wkt_col is not None:
        if crs is None:
            raise GeoInputError("CSV with a WKT column has no CRS; pass crs=/--crs (e.g. EPSG:32648)", str(path))
        geoms = []
        for i, text in enumerate(df[wkt_col]):
            try:
                geoms.append(shapely.from_wkt(text) if isinstance(text, str) else None)
            except shapely.errors.GEOSException as exc:
                raise GeoInputError(f"bad WKT in column {wkt_col!r}: {exc}", str(path), f"line {i + 2}") from exc
        gdf = gpd.GeoDataFrame(df.drop(columns=[wkt_col]), geometry=geoms, crs=crs)
        return gdf, notes, False
    lat_col, lon_col = find_column(df.columns, LAT_FIELDS), find_column(df.columns, LON_FIELDS)
    area_col = find_column(df.columns, FIELD_ALIASES["area_recorded_m2"])
    unit = 1.0
    if area_col is None:
        for alias, factor in AREA_UNITS.items():
            area_col = find_column(df.columns, (alias,))
            if area_col:
                unit = factor
                break
    if lat_col is None or lon_col is None or area_col is None:
        raise GeoInputError(
            "CSV needs a WKT column, or lat/lon columns with an area column (m2, ha or km2); "
            f"found columns {list(df.columns)}",
            str(path),
        )
    if crs is not None and CRS.from_user_input(crs) != CRS.from_user_input(WGS84):
        raise GeoInputError("lat/lon columns are WGS 84 degrees; --crs does not apply to them", str(path))
    values = {}
    for col in (lat_col, lon_col, area_col):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if len(bad):
            raise GeoInputError(f"{col!r} is not a number: {df[col].iloc[bad[0]]!r}", str(path), f"line {bad[0] + 2}")
        values[col] = num.to_numpy(dtype=float)
    lat, lon, area = values[lat_col], values[lon_col], values[area_col] * unit
    for name, arr, lim in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        bad = np.flatnonzero(np.abs(arr) > lim)
        if len(bad):
            raise GeoInputError(f"{name} {arr[bad[0]]} out of range", str(path), f"line {bad[0] + 2}")
    bad = np.flatnonzero(area <= 0)
    if len(bad):
        raise GeoInputError(f"area must be positive, got {area[bad[0]]}", str(path), f"line {bad[0] + 2}")
    circles = geodesic_circles(lon, lat, area)
    gdf = gpd.GeoDataFrame(df.drop(columns=[lat_col, lon_col]), geometry=circles, crs=WGS84)
    if area_col in gdf.columns and unit != 1.0:
        gdf["area_recorded_m2"] = area
    notes.append(f"{len(gdf)} points turned into circles of their recorded area (approximate shapes)")
    return gdf, notes, True


def _check_text(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Attribute text that is not valid UTF-8 (a damaged file, or a wrong encoding) is named, not passed on."""
    for col in gdf.columns:
        if col == gdf.geometry.name or gdf[col].dtype.kind in "biufcmM":
            continue
        try:
            gdf[col].astype(object).tolist()
        except Exception as exc:
            row = next((i + 1 for i in range(len(gdf)) if not _convertible(gdf[col].iloc[i : i + 1])), None)
            raise GeoInputError(
                f"text in column {col!r} is not valid UTF-8 (damaged file or wrong encoding; a Shapefile "
                f"can name its encoding in a .cpg file, e.g. CP1252): {type(exc).__name__}",
                str(path),
                f"row {row}" if row else None,
            ) from exc


def _convertible(values: pd.Series) -> bool:
    try:
        values.astype(object).tolist()
    except Exception:
        return False
    return True


def _read_cut_names(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """A Shapefile whose column names were cut mid-character by the format's 10-byte limit
    (Khmer names): read the bytes as Latin-1, then decode names and text as UTF-8, dropping
    the cut character of a name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = gpd.read_file(path, layer=layer, engine="pyogrio", encoding="latin1")

    def utf8(text, errors: str) -> str:
        return text.encode("latin1").decode("utf-8", errors=errors) if isinstance(text, str) else text

    names = {
        c: utf8(c, "ignore").strip() or f"field_{i + 1}" for i, c in enumerate(raw.columns) if c != raw.geometry.name
    }
    text = [
        c
        for c in raw.columns
        if c != raw.geometry.name and (raw[c].dtype == object or pd.api.types.is_string_dtype(raw[c].dtype))
    ]
    fixed = raw.assign(**{c: [utf8(v, "replace") for v in raw[c].tolist()] for c in text})
    return fixed.rename(columns=names)


def says_synthetic(metadata: dict) -> bool:
    """Whether a layer's metadata say it is synthetic (``SYNTHETIC=yes``, as geo's demo does).

    Examples
    --------
    >>> says_synthetic({"SYNTHETIC": "Yes"}), says_synthetic({})
    (True, False)
    """
    return str(metadata.get("SYNTHETIC", "")).lower() in {"yes", "true", "1"}


def _whole_numbers(gdf: gpd.GeoDataFrame, info: dict) -> gpd.GeoDataFrame:
    """Integer fields read as floats because some values are null get pandas' nullable integers:
    ``3``, not ``3.0``, in the tables, whichever rows (or chunk of rows) were read."""
    for name, dtype in zip(info.get("fields", []), info.get("dtypes", [])):
        if str(dtype).startswith(("int", "uint")) and name in gdf.columns and pd.api.types.is_float_dtype(gdf[name]):
            gdf[name] = gdf[name].astype("Int64")
    return gdf


def _read_vector(path: Path, layer: str | None, **rows) -> tuple[gpd.GeoDataFrame, bool]:
    """Read a vector file (``rows``: pyogrio's ``skip_features``/``max_features``/``fids``/``fid_as_index``)."""
    suffix = path.suffix.lower()
    synthetic = False
    try:
        if is_parquet(path):
            synthetic = says_synthetic(parquet_info(path)["layer_metadata"])  # and checks the geometry metadata
            gdf = read_parquet_rows(path, **rows) if rows else gpd.read_parquet(path)
        else:
            if suffix not in (".shp", ".zip", ".csv") or layer is not None:
                names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
                if layer is None and len(names) > 1:
                    raise GeoInputError(f"several layers ({', '.join(names)}); pick one with layer=/--layer", str(path))
                if layer is not None and layer not in names:
                    raise GeoInputError(f"no layer {layer!r}; the file has: {', '.join(names)}", str(path))
            # Not the Arrow path: on a damaged FlatGeobuf it crashed the interpreter (segfault in
            # pyarrow's table_to_dataframe, found by benchmarks/fuzz_readers.py); the plain path reports it.
            try:
                info = pyogrio.read_info(path, layer=layer)
                meta = info.get("layer_metadata") or {}
                gdf = _whole_numbers(gpd.read_file(path, layer=layer, engine="pyogrio", **rows), info)
            except UnicodeDecodeError:
                if suffix not in (".shp", ".zip"):
                    raise
                if rows:
                    raise
                meta, gdf = {}, _read_cut_names(path, layer)
            synthetic = says_synthetic(meta)
    except GeoInputError:
        raise
    except Exception as exc:  # the readers raise many types for broken files
        raise GeoInputError(f"cannot read file: {exc}", str(path)) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise GeoInputError("no geometry column", str(path))
    _check_text(gdf, path)
    if synthetic:  # said once in the file's metadata: carried on every row, where copies keep it
        gdf["synthetic"] = True
    elif "synthetic" in gdf.columns:
        synthetic = is_synthetic(gdf)
    return gdf, synthetic
