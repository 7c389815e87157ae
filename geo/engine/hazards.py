"""Reading hazard polygons from any common format, and checking them.

:func:`read_hazards` is the only entry point: it reads GeoPackage,
Shapefile (plain or zipped), GeoJSON, FlatGeobuf, GeoParquet and CSV, maps
common export field names to geo's own, repairs what can be repaired and
records everything it did in a validation report.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from geo._threads import valid_mask
from geo.constants import WGS84
from geo.crs import to_crs_dense
from geo.engine.boundaries import bundled_land
from geo.errors import GeoInputError
from geo.io.data import sha256_path
from geo.io.db import is_db_url, read_postgis_layer, split_table
from geo.io.readers import (
    AREA_UNITS,
    FIELD_ALIASES,
    _check_width,
    _read_csv,
    _read_vector,
    _read_workbook,
    check_input_path,
    column_named,
    find_column,
    geodesic_circles,
)
from geo.io.validate import check_coordinates, check_memory, check_territory, clean_geometries

log = logging.getLogger("geo")

VECTOR_SUFFIXES = {
    ".gpkg", ".shp", ".zip", ".geojson", ".json", ".fgb", ".parquet", ".geoparquet", ".csv",
    ".kml", ".kmz", ".gml", ".tab", ".mif", ".gdb", ".xlsx", ".ods",
}  # fmt: skip


def read_hazards(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    id_field: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read hazard polygons, map their fields and validate them.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile (``.shp`` or zipped ``.zip``), GeoJSON,
        FlatGeobuf, GeoParquet or CSV.  A CSV holds either a WKT column or
        ``lat``/``lon`` columns with an area column (m2, or ``area_ha`` /
        ``area_km2``); points become circles of that area, flagged
        ``approximate``.  An Esri File Geodatabase folder (``.gdb``), or a
        PostGIS table: ``postgresql://user@host/db?table=schema.name``.
    layer : str, optional
        Layer of a multi-layer file (the table, for a PostGIS connection string).
    crs : str, optional
        CRS of a file that declares none (e.g. ``EPSG:32648``).  A file with
        no CRS and no ``crs`` is an error.
    id_field : str, optional
        Column holding the hazard id; guessed from common names otherwise.
    encoding : str, optional
        Text encoding of a file that does not say (a Shapefile without ``.cpg``); by default a
        Shapefile whose text is valid UTF-8 is read as UTF-8, and the notes say so.

    Returns
    -------
    GeoDataFrame
        In WGS 84, columns ``hazard_id``, ``status``, ``province_recorded``,
        ``district_recorded``, ``hazard_type``, ``device_type``, ``density``,
        ``area_recorded_m2``, ``approximate`` and every other attribute of the
        file.  ``.attrs["validation"]`` holds the validation report,
        ``.attrs["source"]`` the file name and sha256, ``.attrs["synthetic"]``
        whether the file says it is synthetic.

    Raises
    ------
    GeoInputError
        Naming the file, row and problem, for any input geo cannot use.

    Examples
    --------
    >>> from geo import DEMO_HAZARDS, read_hazards
    >>> hz = read_hazards(DEMO_HAZARDS)
    >>> len(hz), hz.attrs["synthetic"]
    (4330, True)
    """

    if is_db_url(path):  # postgresql://.../db?table=NAME, or the table as the layer
        return read_postgis_hazards(str(path), table=layer, crs=crs, id_field=id_field)
    path = check_input_path(path)
    if path.is_dir() and path.suffix.lower() != ".gdb":  # an Esri File Geodatabase is a folder
        raise GeoInputError("is a directory, not a file", str(path))
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise GeoInputError(
            f"unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(VECTOR_SUFFIXES))}", str(path)
        )
    reader_warnings: list[str] = []
    synthetic = False
    if suffix == ".csv":
        gdf, notes, approximate = _read_csv(path, crs)
    elif suffix in (".xlsx", ".ods"):
        gdf, notes, approximate = _read_workbook(path, layer, crs)
    else:
        check_memory(path)
        if layer is not None and layer.lower() == "all":  # every layer (a KML's folders, a GeoPackage's tables)
            gdf, synthetic, reader_warnings, notes = _read_all_layers(path, crs=crs, encoding=encoding)
        else:
            gdf, synthetic, reader_warnings, notes = read_rows(path, layer=layer, crs=crs, encoding=encoding)
        gdf, approximate = points_with_area_as_circles(gdf, notes)
        if suffix in (".kml", ".kmz") and id_field is None and "Name" in gdf.columns:
            names = gdf["Name"].astype(str).str.strip()
            if (names != "").all() and names.is_unique:  # Google Earth keeps the hazard's id as the Placemark name
                gdf = gdf.drop(columns=[c for c in gdf.columns if str(c).lower() == "id"])
                id_field = "Name"
                notes.append("hazard ids read from the Placemark names (Name)")
    for note in notes:  # every guess said on screen, not only in validation.json
        log.warning("%s: %s", path.name, note)
    source = {"file": path.name, "sha256": sha256_path(path), "layer": layer}
    return checked_hazards(
        gdf,
        path,
        source=source,
        synthetic=synthetic,
        id_field=id_field,
        notes=notes,
        reader_warnings=reader_warnings,
        approximate=approximate,
    )


def checked_hazards(
    gdf: gpd.GeoDataFrame,
    path: Path,
    *,
    source: dict,
    synthetic: bool,
    id_field: str | None = None,
    notes: list[str] | None = None,
    reader_warnings: list[str] | None = None,
    approximate: bool = False,
) -> gpd.GeoDataFrame:
    """Features already read (a file's, or a QGIS layer's) checked and repaired as :func:`read_hazards`
    does, with the report, ``source`` and ``synthetic`` flag in ``attrs``; ``path`` names them in messages.

    Raises
    ------
    GeoInputError
        If there are no features, or no polygon hazards once empty and non-polygon ones are dropped.
    """
    if gdf.empty:
        raise GeoInputError("holds no features", str(path))
    out, report = hazard_rows(
        gdf, path, id_field=id_field, notes=notes or [], reader_warnings=reader_warnings or [], approximate=approximate
    )
    if out.empty:
        raise GeoInputError("no polygon hazards left after dropping empty and non-polygon features", str(path))
    out = out.reset_index(drop=True)
    out.attrs["validation"] = report
    out.attrs["source"] = source
    out.attrs["synthetic"] = bool(synthetic)
    return out


def points_with_area_as_circles(gdf: gpd.GeoDataFrame, notes: list[str]) -> tuple[gpd.GeoDataFrame, bool]:
    """A layer of points with a recorded-area column (any format, as a CSV of lat/lon and area is
    read): each point becomes a geodesic circle of its area, flagged approximate; other layers as they are."""
    geoms = gdf.geometry.to_numpy()
    if not len(gdf) or not (shapely.get_type_id(geoms[~shapely.is_missing(geoms)]) == 0).all():
        return gdf, False
    column = find_column(gdf.columns, FIELD_ALIASES["area_recorded_m2"])
    if column is None:
        return gdf, False
    area = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(area) & (area > 0) & ~shapely.is_missing(geoms)
    lonlat = gdf.geometry.to_crs(WGS84) if gdf.crs is not None else gdf.geometry
    circles = np.full(len(gdf), None, dtype=object)
    circles[keep] = geodesic_circles(lonlat.x.to_numpy()[keep], lonlat.y.to_numpy()[keep], area[keep])
    notes.append(
        f"{int(keep.sum())} points turned into circles of their recorded area ({column!r}; approximate shapes)"
        + (f"; {int((~keep).sum())} points without an area dropped" if (~keep).any() else "")
    )
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=circles, crs=WGS84), True


def _read_all_layers(
    path: Path, *, crs: str | None, encoding: str | None
) -> tuple[gpd.GeoDataFrame, bool, list[str], list[str]]:
    """Every layer of a file as one layer, with a ``source_layer`` column naming each feature's layer."""
    import pyogrio

    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    frames, warned, notes, synthetic = [], [], [f"read all {len(names)} layers: {', '.join(names)}"], False
    for name in names:
        gdf, syn, w, n = read_rows(path, layer=name, crs=crs, encoding=encoding)
        frames.append(gdf.to_crs(WGS84).assign(source_layer=name))
        warned += w
        notes += n
        synthetic |= syn
    joined = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
    return joined, synthetic, warned, notes


def read_rows(
    path: Path, *, layer: str | None, crs: str | None, encoding: str | None = None, **rows
) -> tuple[gpd.GeoDataFrame, bool, list[str], list[str]]:
    """Read a vector file's features (all, or the ``rows`` pyogrio selects) with their CRS settled.

    Returns the frame, whether the file says it is synthetic, the reader's warnings and notes.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf, synthetic, notes = _read_vector(path, layer, encoding, **rows)
    # GDAL's warnings can mean silently altered values ("parsed incompletely"): keep them.
    reader_warnings = list(dict.fromkeys(str(w.message).strip() for w in caught))[:20]
    if gdf.crs is None:
        if crs is None:
            hint = check_coordinates(gdf, None, path, hint_only=True)
            raise GeoInputError(f"file has no CRS (e.g. a missing .prj){hint}; pass --crs (crs= in Python)", str(path))
        gdf = gdf.set_crs(crs)
    elif crs is not None and CRS.from_user_input(crs) != gdf.crs:
        notes.append(f"file declares {gdf.crs.to_string()}; overridden by --crs {crs}")
        gdf = gdf.set_crs(crs, allow_override=True)
    return gdf, synthetic, reader_warnings, notes


def hazard_rows(
    gdf: gpd.GeoDataFrame,
    path: Path,
    *,
    id_field: str | None,
    notes: list[str],
    reader_warnings: list[str],
    approximate: bool = False,
    first_row: int = 1,
) -> tuple[gpd.GeoDataFrame, dict]:
    """Map the fields of features read, check and repair them, and reproject to WGS 84.

    ``first_row`` is the file row of the first feature (rows are numbered from 1 in the report and
    in ``row-N`` ids).  The frame keeps the index it was read with; the report is returned.
    """
    try:
        check_coordinates(gdf, gdf.crs, path)
    except (ProjError, CRSError) as exc:
        raise GeoInputError(
            f"the file's CRS cannot be used ({exc}); is its .prj damaged? pass --crs", str(path)
        ) from exc

    check_territory(gdf, bundled_land(), path)
    gdf = gdf.rename(columns={gdf.geometry.name: "geometry"}).set_geometry("geometry")
    attrs = gdf.drop(columns="geometry")
    _check_width(attrs.shape[1], path)
    mapped: dict[str, str] = {}
    for field, aliases in FIELD_ALIASES.items():
        if field == "hazard_id" and id_field is not None:
            mapped[field] = column_named(id_field, attrs.columns, path)
            continue
        col = find_column([c for c in attrs.columns if c not in mapped.values()], aliases)
        if col is not None:
            mapped[field] = col
    data: dict = {field: attrs[mapped[field]].values if field in mapped else None for field in FIELD_ALIASES}
    if "area_recorded_m2" not in mapped:
        for alias, factor in AREA_UNITS.items():
            col = find_column(attrs.columns, (alias,))
            if col is not None:
                data["area_recorded_m2"] = pd.to_numeric(attrs[col], errors="coerce").to_numpy() * factor
                mapped["area_recorded_m2"] = col
                break
    data["area_recorded_m2"] = pd.to_numeric(pd.Series(data["area_recorded_m2"], index=gdf.index), errors="coerce")
    data["approximate"] = approximate
    extra = {col: attrs[col].values for col in attrs.columns if col not in mapped.values() and col not in data}
    # One step, column-wise: inserting columns one by one is quadratic on wide tables.
    out = gpd.GeoDataFrame({**data, **extra}, index=gdf.index, geometry=gdf.geometry.values, crs=gdf.crs)

    report: dict = {
        "file": path.name,
        "features_read": len(out),
        "fields": mapped,
        "notes": notes,
        "reader_warnings": {"count": len(reader_warnings), "messages": reader_warnings},
    }
    if "hazard_id" not in mapped:
        report["ids_numbered"] = {
            "count": len(out),
            "columns": [str(c) for c in attrs.columns],
            "note": "no hazard id column recognised; hazards are numbered row-1, row-2 ...; "
            "name the id column with --id-field",
        }
    ids = out["hazard_id"].astype(object)
    null_ids = ids.isna() | (ids.astype(str).str.strip() == "")
    rows = np.arange(first_row, first_row + len(out))
    named = ids.astype(str).to_numpy(dtype=object)
    named[null_ids.to_numpy()] = [f"row-{r}" for r in rows[null_ids.to_numpy()]]  # only rows without an id
    out["hazard_id"] = named
    report["null_ids"] = {"count": int(null_ids.sum()), "rows": rows[null_ids.to_numpy()].tolist()}
    dup = out["hazard_id"].duplicated(keep=False)
    report["duplicate_ids"] = {
        "count": int(out.loc[dup, "hazard_id"].nunique()),
        "ids": sorted(set(out.loc[dup, "hazard_id"])),
    }
    out["row"] = rows

    out = clean_geometries(out, report)
    if out.empty:
        report["features_kept"] = 0
        return out, report
    if CRS.from_user_input(WGS84) != out.crs:  # cleaned above: only a reprojected layer is checked again
        out = to_crs_dense(out, WGS84)
        bad = ~valid_mask(out.geometry.values)
    else:
        bad = np.zeros(len(out), dtype=bool)
    if bad.any():  # reprojection can pinch a ring; repair once more
        out.loc[bad, "geometry"] = shapely.make_valid(
            out.geometry.values[bad], method="structure", keep_collapsed=False
        )
    report["features_kept"] = len(out)
    return out, report


__all__ = [
    "FIELD_ALIASES",
    "VECTOR_SUFFIXES",
    "checked_hazards",
    "hazard_rows",
    "read_hazards",
    "read_rows",
]


def read_postgis_hazards(url: str, *, table: str | None = None, sql: str | None = None, **kwargs) -> gpd.GeoDataFrame:
    """Hazards from PostGIS, read and validated exactly as a file would be (:func:`geo.read_hazards`)."""
    url, named = split_table(url)
    gdf, source = read_postgis_layer(url, table=table or (None if sql else named), sql=sql)
    with tempfile.TemporaryDirectory(prefix="geo-db-") as tmp:
        path = Path(tmp) / "layer.parquet"
        gdf.to_parquet(path)
        out = read_hazards(path, **kwargs)
    out.attrs["source"] = {**source, "sha256": out.attrs["source"]["sha256"]}
    out.attrs["validation"]["file"] = source.get("table") or "query"
    return out
