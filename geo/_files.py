"""Files written safely: atomically, JSON without NaN, CSV that a spreadsheet cannot run, valid polygons.

Every file is written to a temporary name in the target directory and renamed into place, so a run
that is interrupted leaves the previous file or none, never half a file.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._outdir import library_write_error
from geo._threads import valid_mask


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


def layer_metadata(notice: str | None) -> dict | None:
    """Metadata of the GeoPackage layers: the SYNTHETIC notice, when there is one."""
    return {"SYNTHETIC": "yes", "NOTICE": notice} if notice else None
