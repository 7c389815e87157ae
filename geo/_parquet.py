"""GeoParquet read a part at a time: what the chunked engine needs of a file OGR would read by feature id.

A row's "feature id" here is its position in the file, from 0.  Only the row groups holding the rows
asked for are read; the rows are then decoded by :func:`geopandas.read_parquet` itself, so a part
read here is the same frame as those rows of the whole file read at once.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from geo._errors import GeoInputError

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
