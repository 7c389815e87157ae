"""One reader per kind of file a hazard layer comes in (vector formats through pyogrio, GeoParquet,
CSV of WKT or of points with an area), and the field names they are matched by; used by
:func:`geo.read_hazards`."""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from pyproj import CRS

from geo.constants import WGS84
from geo.crs import GEOD
from geo.errors import GeoInputError
from geo.names import normalize_name, parse_degrees

#: geo's field -> export names seen in IMSMA and operator data (normalised).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    # IMSMA Core (the national mine-action database) names come first where they differ:
    # hazard_localid, hazard_guid, status_enum, hazardtype_enum, calculated/estimated area, admin levels.
    "hazard_id": (
        "hazardid", "hazardlocalid", "hazid", "shaid", "hazardref", "hazardreference", "imsmaid", "localid",
        "id", "ref", "hazardguid", "guid",
    ),
    "status": ("status", "hazstatus", "hazardstatus", "statusenum", "hazardstatusenum", "state"),
    "province_recorded": (
        "provincerecorded", "province", "prov", "provname", "provincename", "admin1", "adm1name",
        "adminlevel1", "admin1name", "location1",
    ),
    "district_recorded": (
        "districtrecorded", "district", "dist", "distname", "districtname", "admin2", "adm2name",
        "adminlevel2", "admin2name", "location2",
    ),
    "hazard_type": (
        "hazardtype", "haztype", "hazardtypeenum", "typeenum", "type", "shatype", "contaminationtype", "category",
    ),
    "device_type": ("devicetype", "device", "minetype", "apav", "threattype", "ordnancetype", "devicetypeenum"),
    "density": ("density", "minedensity", "contaminationdensity", "densityclass"),
    "area_recorded_m2": (
        "arearecordedm2", "aream2", "areasqm", "areasqm2", "area", "shaarea", "recordedarea", "sizem2",
        "calculatedarea", "estimatedarea", "measuredarea", "hazardarea", "polygonarea",
    ),
}  # fmt: skip
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


def column_named(name: str, columns, path: Path | str, what: str = "hazard ids") -> str:
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


def coordinate_values(values: pd.Series, *, decimal_comma: bool = True) -> tuple[np.ndarray, bool]:
    """Latitudes or longitudes as typed in tables: decimal degrees (with a decimal comma when
    ``decimal_comma``), or degrees, minutes and seconds with a hemisphere; NaN where a value is none
    of these.  Also whether any value was read as degrees, minutes and seconds.

    Examples
    --------
    >>> coordinate_values(pd.Series(["13,5", "13.25", "13°30'N", "north", ""]))
    (array([13.5 , 13.25, 13.5 ,   nan,   nan]), True)
    """
    text = values.astype(str).str.strip()
    out = pd.to_numeric(text.str.replace(",", ".", regex=False) if decimal_comma else text, errors="coerce")
    out = out.to_numpy(dtype=float, copy=True)
    dms = False
    for i in np.flatnonzero(np.isnan(out)):
        if not text.iloc[i]:
            continue
        try:
            out[i] = parse_degrees(text.iloc[i])
            dms = True
        except GeoInputError:
            pass
    return out, dms


def _read_csv(path: Path, crs: str | None) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    notes: list[str] = []
    _check_width(_header_width(path) - 1, path)  # less one for the geometry (WKT) column
    df = None
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    # European-style exports separate with ';' and write decimal commas (as geo where --file reads them).
    sep = ";" if header.count(";") > header.count(",") else ","
    if sep == ";":
        notes.append("read as semicolon-separated, decimal commas accepted")
    # UTF-8, else Windows-1252 (common in exports), else Latin-1 (decodes any byte; said in the notes).
    for encoding, note in (
        ("utf-8-sig", None),
        ("cp1252", "text is not UTF-8; read as Windows-1252"),
        ("latin-1", "text is neither UTF-8 nor Windows-1252; read as Latin-1, check accents"),
    ):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, sep=sep)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise GeoInputError(f"not a readable CSV table: {exc}", str(path)) from exc
        if note:
            notes.append(note)
        break
    if df is None:  # Latin-1 decodes any byte, so this only guards the types
        raise GeoInputError("cannot decode the text of the CSV", str(path))
    return _read_table(df, path, crs, notes, decimal_comma=sep == ";", unit_name="line")


def _read_workbook(path: Path, layer: str | None, crs: str | None) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    """A hazard list kept in a spreadsheet (XLSX, ODS): a sheet with a WKT column, or lat/lon and an
    area column, as a CSV would have them."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        if layer is None and len(names) > 1:
            raise GeoInputError(f"several sheets ({', '.join(names)}); pick one with --layer", str(path))
        if layer is not None and layer not in names:
            raise GeoInputError(f"no sheet {layer!r}; the workbook has: {', '.join(names)}", str(path))
        df = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except GeoInputError:
        raise
    except Exception as exc:
        raise GeoInputError(f"cannot read the workbook: {exc}", str(path)) from exc
    _check_width(len(df.columns) - 1, path)
    text = df.astype(object).where(df.notna(), "").map(lambda v: f"{v:.12g}" if isinstance(v, float) else str(v))
    return _read_table(text, path, crs, [], decimal_comma=False, unit_name="row")


def _read_table(
    df: pd.DataFrame, path: Path, crs: str | None, notes: list[str], *, decimal_comma: bool, unit_name: str
) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    """Hazards from a table of text: a WKT column, or lat/lon and a recorded area (circles)."""
    wkt_col = find_column(df.columns, WKT_FIELDS)
    if wkt_col is not None:
        if crs is None:
            raise GeoInputError("a table with a WKT column has no CRS; pass --crs (e.g. EPSG:32648)", str(path))
        geoms = []
        for i, text in enumerate(df[wkt_col]):
            try:
                geoms.append(shapely.from_wkt(text) if isinstance(text, str) else None)
            except shapely.errors.GEOSException as exc:
                raise GeoInputError(f"bad WKT in column {wkt_col!r}: {exc}", str(path), f"{unit_name} {i + 2}") from exc
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
            "a table of hazards needs a WKT column, or lat/lon columns with an area column (m2, ha or km2); "
            f"found columns {list(df.columns)}",
            str(path),
        )
    if crs is not None and CRS.from_user_input(crs) != CRS.from_user_input(WGS84):
        raise GeoInputError("lat/lon columns are WGS 84 degrees; --crs does not apply to them", str(path))
    values = {}
    for col in (lat_col, lon_col, area_col):
        if col == area_col:
            raw = df[col].str.replace(",", ".", regex=False) if decimal_comma else df[col]
            num, dms = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float), False
        else:  # degrees, minutes and seconds (13°21'00"N) too, as GPS units write them
            num, dms = coordinate_values(df[col], decimal_comma=decimal_comma)
        if dms:
            notes.append(f"{col!r} read as degrees, minutes and seconds")
        bad = np.flatnonzero(np.isnan(num))
        if len(bad):
            raise GeoInputError(
                f"{col!r} is not a number: {df[col].iloc[bad[0]]!r}", str(path), f"{unit_name} {bad[0] + 2}"
            )
        values[col] = num
    lat, lon, area = values[lat_col], values[lon_col], values[area_col] * unit
    for name, arr, lim in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        bad = np.flatnonzero(np.abs(arr) > lim)
        if len(bad):
            raise GeoInputError(f"{name} {arr[bad[0]]} out of range", str(path), f"{unit_name} {bad[0] + 2}")
    bad = np.flatnonzero(area <= 0)
    if len(bad):
        raise GeoInputError(f"area must be positive, got {area[bad[0]]}", str(path), f"{unit_name} {bad[0] + 2}")
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


#: GDAL settings under which no file geo opens makes GDAL reach the network: its HTTP(S)/FTP
#: requests go through a proxy on a closed local port (the discard port), ``/vsicurl/`` opens no
#: name, and GML schemas and XLinks are not fetched.  A VRT naming a URL, a GML whose
#: ``schemaLocation`` names a WFS, a zipped VRT: each is then read without a request leaving the machine.
OFFLINE_GDAL = {
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "2",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geo-network-off",
    "GML_DOWNLOAD_SCHEMA": "NO",
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
}


def gdal_network(allowed: bool) -> None:
    """Turn GDAL's network access off (geo's default, set when this module is imported) or on.

    The setting is GDAL's, so it holds for the whole process; the command line turns it on only
    with ``--allow-network``.
    """
    pyogrio.set_gdal_config_options({k: (None if allowed else v) for k, v in OFFLINE_GDAL.items()})


gdal_network(False)


def check_input_path(path: Path | str) -> Path:
    """The input ``path`` as a file that exists, or a clear error for what ogr2ogr users type that geo
    does not open: ``-`` and ``/vsistdin/`` (standard input), GDAL's virtual paths (``/vsizip/``,
    ``/vsicurl/`` ...), a missing file."""
    text = str(path)
    if text in ("-", "/vsistdin/", "/vsistdin"):
        raise GeoInputError(
            "geo does not read a layer from standard input; save it to a file (e.g. ogr2ogr hazards.gpkg ...)", text
        )
    if text.startswith("/vsi"):
        kind = text.split("/")[1]
        hint = (
            "give the .zip file itself (geo reads a zipped Shapefile, GeoPackage or FlatGeobuf) or unzip it"
            if kind in ("vsizip", "vsitar", "vsigzip", "vsi7z")
            else "geo opens files on this machine only; download it first"
        )
        raise GeoInputError(f"GDAL virtual paths ({'/' + kind + '/'}) are not opened: {hint}", text)
    path = Path(path)
    if not path.exists():
        raise GeoInputError("file does not exist", str(path))
    return path


def check_vrt(path: Path) -> None:
    """Refuse a VRT whose sources lie outside its own folder, or on the network, and a zip holding a
    VRT (whose sources cannot be checked): a file must not make geo open what the user did not name."""
    import xml.etree.ElementTree as ET
    import zipfile

    suffix = path.suffix.lower()
    if suffix == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            inner = [n for n in z.namelist() if n.lower().endswith(".vrt")]
        if inner:
            raise GeoInputError(f"the zip holds a VRT ({inner[0]}); unzip it and open the VRT itself", str(path))
        return
    if suffix != ".vrt":
        return
    try:
        tree = ET.parse(path)  # the standard parser fetches no external entity
    except (ET.ParseError, OSError) as exc:
        raise GeoInputError(f"not a readable VRT: {exc}", str(path)) from None
    folder = path.resolve().parent
    for el in tree.iter():
        source = (el.text or "").strip()
        if el.tag not in ("SrcDataSource", "SourceFilename") or not source:
            continue
        if source.startswith("/vsi") or "://" in source or source.lower().startswith(("http:", "https:", "ftp:")):
            raise GeoInputError(
                f"the VRT's source {source!r} is not a file beside it; geo opens no such source", str(path)
            )
        target = Path(source) if el.get("relativeToVRT", "0") != "1" and Path(source).is_absolute() else folder / source
        if not target.resolve().is_relative_to(folder):
            raise GeoInputError(
                f"the VRT's source {source!r} lies outside the VRT's folder; copy it beside the VRT", str(path)
            )


def shapefile_encoding(path: Path) -> str | None:
    """``UTF-8`` for a Shapefile whose text is UTF-8 but which says nothing of its encoding (no ``.cpg``,
    no code page in the ``.dbf`` header), as QGIS exports and phone apps write them; else None (GDAL's
    own reading, Latin-1 for such a file, would scramble Khmer names without a word).

    The ``.dbf``'s bytes decide: some are not plain ASCII, and all of them decode as UTF-8.
    """
    if path.suffix.lower() != ".shp":
        return None
    siblings = {p.name.lower(): p for p in path.parent.glob(f"{path.stem}.*")}
    dbf = siblings.get(f"{path.stem.lower()}.dbf")
    if dbf is None or f"{path.stem.lower()}.cpg" in siblings:
        return None
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32 or head[29] != 0:  # the header names a code page (LDID): GDAL follows it
            return None
        fh.seek(int.from_bytes(head[8:10], "little"))
        data = fh.read(64 << 20)
    if max(data, default=0) < 0x80:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:  # not merely a character cut by the 64 MB read
            return None
    return "UTF-8"


def _read_vector(
    path: Path, layer: str | None, encoding: str | None = None, **rows
) -> tuple[gpd.GeoDataFrame, bool, list[str]]:
    """Read a vector file (``rows``: pyogrio's ``skip_features``/``max_features``/``fids``/``fid_as_index``),
    in ``encoding`` if given, else as the file says or :func:`shapefile_encoding` finds; with the notes
    of what was assumed."""
    suffix = path.suffix.lower()
    synthetic = False
    notes: list[str] = []
    check_vrt(path)
    if encoding is None and (encoding := shapefile_encoding(path)) is not None:
        notes.append("read as UTF-8: the Shapefile has no .cpg and its text is UTF-8 (--encoding to choose another)")
    opts = {"encoding": encoding} if encoding else {}
    try:
        if is_parquet(path):
            synthetic = says_synthetic(parquet_info(path)["layer_metadata"])  # and checks the geometry metadata
            gdf = read_parquet_rows(path, **rows) if rows else gpd.read_parquet(path)
        else:
            if suffix not in (".shp", ".zip", ".csv") or layer is not None:
                names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
                if layer is None and len(names) > 1:
                    raise GeoInputError(
                        f"several layers ({', '.join(names)}); pick one with --layer (layer= in Python)", str(path)
                    )
                if layer is not None and layer not in names:
                    raise GeoInputError(f"no layer {layer!r}; the file has: {', '.join(names)}", str(path))
            # Not the Arrow path: on a damaged FlatGeobuf it crashed the interpreter (segfault in
            # pyarrow's table_to_dataframe, found by benchmarks/fuzz_readers.py); the plain path reports it.
            try:
                info = pyogrio.read_info(path, layer=layer, **opts)
                meta = info.get("layer_metadata") or {}
                gdf = _whole_numbers(gpd.read_file(path, layer=layer, engine="pyogrio", **opts, **rows), info)
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
    return gdf, synthetic, notes


#: File name endings read as GeoParquet.
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def is_parquet(path: Path | str) -> bool:
    """Whether ``path`` names a (Geo)Parquet file (by its ending)."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def _geo_meta(pf: pq.ParquetFile, path: Path) -> dict:
    raw = (pf.schema_arrow.metadata or {}).get(b"geo")
    if raw is None:
        raise GeoInputError("a Parquet file without GeoParquet metadata (no 'geo' key): no geometry column", str(path))
    try:
        meta = json.loads(raw)
        column = meta["columns"][meta["primary_column"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise GeoInputError(f"damaged GeoParquet metadata ({exc})", str(path)) from exc
    if str(column.get("encoding", "WKB")).upper() != "WKB":
        raise GeoInputError(
            f"the chunked engine reads GeoParquet geometry encoded as WKB, not {column.get('encoding')!r}; "
            "use --engine memory",
            str(path),
        )
    return meta


def parquet_info(path: Path) -> dict:
    """What :func:`pyogrio.read_info` says of a vector layer, for a GeoParquet file: ``features``,
    ``crs``, ``fields`` and ``layer_metadata`` (the file's own key-value metadata, as text)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise GeoInputError(f"cannot read file: {exc}", str(path)) from exc
    meta = _geo_meta(pf, path)
    projjson = meta["columns"][meta["primary_column"]].get("crs", "OGC:CRS84")  # GeoParquet's default
    crs = None if projjson is None else CRS.from_user_input(projjson).to_string()
    other = {
        k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
        for k, v in (pf.schema_arrow.metadata or {}).items()
        if k not in (b"geo", b"pandas")
    }
    fields = [n for n in pf.schema_arrow.names if n != meta["primary_column"] and not n.startswith("__index_level_")]
    return {"features": pf.metadata.num_rows, "crs": crs, "fields": fields, "layer_metadata": other}


def _rows_of(pf: pq.ParquetFile, rows: np.ndarray, columns: list[str] | None = None) -> pa.Table:
    """The rows at positions ``rows`` (ascending or not), reading only the row groups holding them
    (and only ``columns``, when given)."""
    sizes = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    group = np.searchsorted(starts, rows, side="right") - 1
    groups = np.unique(group)
    table = pf.read_row_groups(groups.tolist(), columns=columns)
    first_local = np.concatenate([[0], np.cumsum(sizes[groups])])
    return table.take(first_local[np.searchsorted(groups, group)] + (rows - starts[group]))


def _positions(total: int, skip_features: int = 0, max_features: int | None = None, fids=None) -> np.ndarray:
    if fids is not None:
        return np.asarray(fids, dtype=np.int64)
    stop = total if max_features is None else min(total, skip_features + max_features)
    return np.arange(min(skip_features, total), stop, dtype=np.int64)


def read_parquet_rows(path: Path, **rows) -> gpd.GeoDataFrame:
    """Rows of a GeoParquet file as :func:`geopandas.read_parquet` decodes them (``rows``: pyogrio's
    ``skip_features``/``max_features`` or ``fids``, positions from 0)."""
    pf = pq.ParquetFile(path)
    _geo_meta(pf, path)
    table = _rows_of(pf, _positions(pf.metadata.num_rows, **rows))
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(pf.schema_arrow.metadata), buf, compression="none")
    buf.seek(0)
    return gpd.read_parquet(buf)


def parquet_bounds(path: Path, skip_features: int, max_features: int) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`pyogrio.read_bounds` gives, for a GeoParquet file: the rows' positions and their
    bounds (4 x n: xmin, ymin, xmax, ymax; NaN for a missing or empty geometry)."""
    pf = pq.ParquetFile(path)
    meta = _geo_meta(pf, path)
    positions = _positions(pf.metadata.num_rows, skip_features, max_features)
    wkb = _rows_of(pf, positions, columns=[meta["primary_column"]]).column(0).to_numpy(zero_copy_only=False)
    return positions, shapely.bounds(shapely.from_wkb(wkb)).T


def is_synthetic(hazards: pd.DataFrame) -> bool:
    """Whether a hazard layer holds synthetic data, decided from the data themselves.

    A ``synthetic`` column with any true value marks the layer (geo's demo carries one on
    every row, and :func:`geo.read_hazards` adds it for files whose metadata say
    ``SYNTHETIC=yes``), so the flag survives copying columns into a new frame.

    Examples
    --------
    >>> is_synthetic(pd.DataFrame({"synthetic": [False, "yes"]})), is_synthetic(pd.DataFrame({"a": [1]}))
    (True, False)
    """
    if "synthetic" not in hazards.columns:
        return False
    return bool(hazards["synthetic"].astype(str).str.strip().str.lower().isin({"true", "1", "yes"}).any())


#: A hazard's pieces are all read when their ``share_of_hazard`` add up to 1 within this (the
#: shares are written to 6 decimals).
SHARES_WHOLE = 1e-4


def _pieces_info(path: Path) -> dict:
    """What pyogrio says of the ``hazard_pieces`` layer of ``path``; a clear error where there is none."""
    try:
        return pyogrio.read_info(path, layer="hazard_pieces")
    except pyogrio.errors.DataError as exc:
        raise GeoInputError(f"{path}: no hazard_pieces layer ({exc})") from None


def read_pieces(path: Path | str, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """The ``hazard_pieces`` layer of a ``zones.gpkg`` that ``geo analyze`` wrote: ``columns`` (those the
    layer has) and geometry, WGS 84 (433,000 pieces: about 3 s)."""
    path = Path(path)
    names = set(_pieces_info(path)["fields"])
    return pyogrio.read_dataframe(
        path, layer="hazard_pieces", columns=[c for c in columns if c in names], use_arrow=True
    )


def read_pieces_near(path: Path | str, boxes: np.ndarray) -> gpd.GeoDataFrame:
    """Every piece of each hazard that has a piece in one of ``boxes`` (rows of W, S, E, N degrees), from
    the ``hazard_pieces`` layer of a ``zones.gpkg`` that ``geo analyze`` wrote: ``hazard_id``,
    ``area_m2``, geometry (WGS 84).

    One box (a site): the pieces in it are read through the GeoPackage's spatial index, and the box
    grows until the pieces of every hazard found add up to the whole hazard (their ``share_of_hazard``
    sum to 1). Many boxes (a file of sites): the pieces' boxes are read in one pass without geometry,
    those meeting a box found with a spatial index, and every piece of each hazard found read by feature
    id (reading the ids of the layer once costs about a second at 433,000 pieces, more than one box).
    """
    path = Path(path)
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    info = _pieces_info(path)
    if len(boxes) == 1:
        return _pieces_in_box(path, boxes[0], info["total_bounds"])
    fids, bounds = pyogrio.read_bounds(path, layer="hazard_pieces")
    tree = shapely.STRtree(shapely.box(*bounds))
    _, hit = tree.query(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]), predicate="intersects")
    ids = pyogrio.read_dataframe(path, layer="hazard_pieces", columns=["hazard_id"], read_geometry=False,
                                 fid_as_index=True)["hazard_id"]  # fmt: skip
    found = ids.loc[fids[np.unique(hit)]].unique()
    wanted = np.sort(ids.index[ids.isin(found)].to_numpy())
    return pyogrio.read_dataframe(path, layer="hazard_pieces", fids=wanted, columns=["hazard_id", "area_m2"])


def _pieces_in_box(path: Path, box: np.ndarray, extent) -> gpd.GeoDataFrame:
    """:func:`read_pieces_near` for one box: read through the spatial index, the box grown until each
    hazard found is whole."""
    columns = ["hazard_id", "area_m2", "share_of_hazard"]
    while True:
        pieces = pyogrio.read_dataframe(path, layer="hazard_pieces", bbox=tuple(box), columns=columns)
        shares = pieces.groupby("hazard_id", sort=False)["share_of_hazard"].sum()
        partial = shares.index[shares < 1 - SHARES_WHOLE]
        covers_all = box[0] <= extent[0] and box[1] <= extent[1] and box[2] >= extent[2] and box[3] >= extent[3]
        if not len(partial) or covers_all:
            return pieces.drop(columns="share_of_hazard")
        # Grow the box over the partial hazards' pieces found, by as much again as they span.
        x0, y0, x1, y1 = shapely.total_bounds(pieces.geometry.values[pieces["hazard_id"].isin(partial).to_numpy()])
        pad = max(x1 - x0, y1 - y0, 1e-4)
        box = np.array([min(box[0], x0 - pad), min(box[1], y0 - pad), max(box[2], x1 + pad), max(box[3], y1 + pad)])
