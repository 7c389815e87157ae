"""Files written safely: atomically, JSON without NaN, CSV that a spreadsheet cannot run, valid polygons.

Every file is written to a temporary name in the target directory and renamed into place, so a run
that is interrupted leaves the previous file or none, never half a file.
"""

from __future__ import annotations

import io
import json
import math
import os
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._threads import valid_mask
from geo.constants import GPKG_VERSION, SYNTHETIC_NOTICE, WGS84
from geo.crs import reproject, to_crs
from geo.errors import GeoEnvironmentError, GeoInputError
from geo.io.outdir import library_write_error


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


def csv_decimals(name: str) -> int | None:
    """Decimals a CSV keeps of a number column (:func:`rounded_for_csv`), by its name; None: all.

    Examples
    --------
    >>> csv_decimals("area_km2"), csv_decimals("share_of_hazard"), csv_decimals("area_m2"), csv_decimals("row")
    (8, 6, 2, None)
    """
    if name.endswith("_km2"):
        return 8
    if name.startswith("share"):
        return 6
    if name.endswith(("_m2", "_m")):
        return 2
    return None


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
        decimals = csv_decimals(str(col))
        if decimals is not None:
            out[col] = out[col].round(decimals)
    return out


#: Characters that can make Python's CSV writer quote a text field (the delimiter, the quote, a line
#: break); fields without them are written as they are.
_CSV_QUOTED = '[,"\r\n]'


def csv_rows(df: pd.DataFrame) -> str:
    """The text of ``df.to_csv(index=False, header=False)``, character for character, made in
    Arrow's kernels where the columns allow it (about three times faster for a table of pieces).

    Text columns (missing values empty; a field holding a comma, a quote or a line break quoted by
    Python's own CSV writer, as pandas does), whole numbers, booleans (``True``/``False``) and
    floats go through Arrow; a float of the decimals :func:`csv_decimals` names for its column is
    printed from its digits as an integer (:func:`_float_text`), any other as numpy prints it (the
    shortest text that reads back to it, what pandas writes). A table with any other kind of column
    (times, categories, lists, mixed values, a single column) is written by pandas.

    Examples
    --------
    >>> df = pd.DataFrame({"id": ["a", 'say "hi", twice', None], "area_m2": [1.5, 10.0, float("nan")]})
    >>> df["ok"] = [True, False, True]
    >>> csv_rows(df) == df.to_csv(index=False, header=False)
    True
    >>> print(csv_rows(df), end="")
    a,1.5,True
    "say ""hi"", twice",10.0,False
    ,,True
    """
    try:
        fast = _arrow_csv_rows(df)
    except Exception:  # values Arrow will not take as they are (its errors are of many kinds): pandas writes them
        fast = None
    return fast if fast is not None else df.to_csv(index=False, header=False)


def _arrow_csv_rows(df: pd.DataFrame) -> str | None:
    """:func:`csv_rows` in Arrow, or None for a table it does not cover."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(df.columns) < 2 or not len(df):  # a lone empty field is quoted: left to pandas
        return None
    columns = []
    for position, name in enumerate(df.columns):
        values = df.iloc[:, position]  # by position: a name may be there twice
        dtype = values.dtype
        if dtype == np.float64:
            column = _float_text(values.to_numpy(), csv_decimals(str(name)))
        elif dtype == np.bool_:
            column = pa.array(np.array(["False", "True"], dtype=object)[values.to_numpy().astype(np.int8)], pa.string())
        elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
            column = pc.cast(pa.array(values.to_numpy()), pa.string())
        elif dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype):
            column = pa.array(values, from_pandas=True)
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if column.type == pa.null():
                column = column.cast(pa.string())
            elif column.type == pa.large_string():
                column = column.cast(pa.string())
            elif column.type != pa.string():  # numbers, bytes, mixed values: as pandas prints them
                return None
            column = _csv_quoted(column)
        else:
            return None
        columns.append(column)
    rows = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    rows = pc.binary_join_element_wise(rows, pa.scalar(""), os.linesep)  # each row ends with a line break
    if rows.null_count:
        return None
    # The rows' characters lie end to end in the array's data buffer, from the first offset to the last.
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4)
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]].tobytes().decode("utf-8")


def _csv_quoted(column):
    """A text column with the fields Python's CSV writer would quote, quoted by it (as pandas writes them)."""
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc

    data = column.buffers()[2]
    text = bytes(data) if data is not None else b""  # the column's characters (its slice, perhaps more)
    if not any(text.find(c) >= 0 for c in (b",", b'"', b"\r", b"\n")):  # most columns: a byte search
        return column
    special = pc.fill_null(pc.match_substring_regex(column, _CSV_QUOTED), False)
    if not pc.any(special).as_py():
        return column
    mask = special.to_numpy(zero_copy_only=False)
    quoted = []
    for value in column.filter(special).to_pylist():
        buf = io.StringIO()
        csv.writer(buf, lineterminator=os.linesep).writerow([value, ""])  # pandas' dialect
        quoted.append(buf.getvalue()[: -len(os.linesep) - 1])
    return pc.replace_with_mask(column, pa.array(mask), pa.array(quoted, pa.string()))


def _float_text(values: np.ndarray, decimals: int | None):
    """Floats as pandas writes them to a CSV (missing: null), as an Arrow text array.

    Without ``decimals``, each distinct value printed once by numpy. With it, each value that is a
    whole number of 10**-decimals (as :func:`rounded_for_csv` leaves it) and between 0.0001 and
    2**50 / 10**decimals is printed from those digits as an integer: its shortest text that reads back
    to it is that decimal, trailing zeros dropped (no other decimal of as few places lies within half
    a unit in the last place of it: in that range the unit is under 10**-decimals); numpy prints the
    others (zero's sign, small numbers it writes with an exponent, values not rounded).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = np.isnan(values)
    if decimals is None:  # distinct by their bits: 0.0 and -0.0 are printed apart
        codes, distinct = pd.factorize(np.ascontiguousarray(values, dtype=np.float64).view(np.int64))
        text = pa.array(distinct.view(np.float64).astype(str), pa.string())
        return text.take(pa.array(codes, mask=missing))
    scale = 10.0**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        whole = np.rint(values * scale)
        digits = (
            ~missing
            & ((values >= 1e-4) | ((values == 0) & ~np.signbit(values)))
            & (values < 2.0**50 / scale)
            & (whole / scale == values)
        )
    units = np.where(digits, whole, 0).astype(np.int64)
    unit = 10**decimals
    integral = pc.cast(pa.array(units // unit), pa.string())
    fraction = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(units % unit), pa.string()), decimals, "0"), "0")
    fraction = pc.if_else(pc.equal(fraction, ""), "0", fraction)  # 12.0, as numpy prints it
    text = pc.binary_join_element_wise(integral, fraction, ".")
    other = ~missing & ~digits
    if other.any():
        text = pc.replace_with_mask(text, pa.array(other), pa.array(values[other].astype(str), pa.string()))
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    return text


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, atomically: UTF-8 with a byte-order mark (so a spreadsheet opened by
    double-click reads Khmer names right), numbers rounded (:func:`rounded_for_csv`), safe to open
    in a spreadsheet (:func:`spreadsheet_safe`)."""
    safe = spreadsheet_safe(rounded_for_csv(df))
    text = safe.iloc[:0].to_csv(index=False) + csv_rows(safe)  # pandas' text: the header, then the rows
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8-sig", newline=""))


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


def valid_polygons(gdf: gpd.GeoDataFrame, rows: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Polygons valid in the layer's own CRS: reprojection can pinch a ring valid in the analysis CRS
    (a self-touching band edge at a coast), so invalid ones are repaired, keeping their polygonal parts.
    With ``rows`` (a boolean mask), only those rows are looked at: the others are known valid."""
    geoms = gdf.geometry.values
    kinds = shapely.get_type_id(geoms)
    look = np.isin(kinds, (3, 6)) if rows is None else np.isin(kinds, (3, 6)) & np.asarray(rows, dtype=bool)
    bad = np.flatnonzero(look)
    bad = bad[~valid_mask(np.asarray(geoms, dtype=object)[bad])]
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


def write_arrow_layer(table, path: Path, name: str, metadata: dict | None = None) -> None:
    """Write a GeoPackage layer from an Arrow table of pieces (attributes, then ``geometry``: WKB
    MultiPolygons in WGS 84), without turning its rows into Python objects.

    GeoPackage has no unsigned 64-bit integers and keeps a time zone only as an offset, so such
    columns are written as signed integers (when they fit) and as UTC times (:func:`gpkg_schema`).
    """
    _write_layer(table.cast(gpkg_schema(table)), path, name, metadata)


def gpkg_schema(table):
    """The schema ``table`` (an Arrow table of pieces) is written to a GeoPackage with: unsigned 64-bit
    integers as signed ones when its values fit, times in a named zone as UTC (the same instants)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fields = []
    for field, column in zip(table.schema, table.columns):
        kind = field.type
        if pa.types.is_uint64(kind) and (len(column) == 0 or (pc.max(column).as_py() or 0) < 2**63):
            kind = pa.int64()
        elif pa.types.is_timestamp(kind) and kind.tz and not _fixed_offset(kind.tz):
            kind = pa.timestamp(kind.unit, tz="UTC")
        fields.append(field.with_type(kind))
    return pa.schema(fields, metadata=table.schema.metadata)


def _check_gdal() -> None:
    """Refuse, saying what to install, a pyogrio whose GDAL cannot write Arrow (before 3.8)."""
    import pyogrio

    if pyogrio.__gdal_version__ < (3, 8, 0):
        raise GeoEnvironmentError(
            f"writing the hazard_pieces layer needs GDAL 3.8 or later, and this pyogrio uses GDAL "
            f"{pyogrio.__gdal_version_string__}; install pyogrio's own wheel (pip install --force-reinstall "
            "--only-binary pyogrio pyogrio)"
        )


def _write_layer(data, path: Path, name: str, metadata: dict | None) -> None:
    """One ``pyogrio.write_arrow`` call: ``data`` is an Arrow table or a stream of batches (in the
    schema :func:`gpkg_schema` gives)."""
    import pyogrio
    from pyproj import CRS

    _check_gdal()
    pyogrio.write_arrow(
        data,
        path,
        layer=name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="MultiPolygon",
        crs=CRS.from_user_input(WGS84).to_wkt(),
        layer_metadata=metadata,
        dataset_options={"VERSION": GPKG_VERSION},
    )


#: Tables of pieces that may wait for GDAL in a :class:`LayerStream` (from worker processes they are
#: memory-mapped files; from a dask cluster, about 1 KB per piece in memory each).
QUEUED_TABLES = 3


class _Stop(Exception):
    """Sent into a :class:`LayerStream` to end its write early (the run failed)."""


class LayerStream:
    """One GeoPackage layer written by one ``pyogrio.write_arrow`` call, in a thread, from Arrow tables
    handed to it later (:meth:`put`), so that GDAL builds the layer's spatial index in one pass (when
    a layer is appended to instead, every row updates the R-tree: about 1.7 times slower, measured at
    433,000 pieces).

    Parameters
    ----------
    path, name, metadata
        The GeoPackage, the layer and its metadata.
    first : pyarrow.Table
        The first table, which sets the layer's schema (:func:`gpkg_schema`); it is not written
        until :meth:`put` is given it.
    """

    def __init__(self, path: Path, name: str, metadata: dict | None, first):
        import pyarrow as pa

        _check_gdal()
        self.schema = gpkg_schema(first)
        # A few tables may wait for GDAL, so that the caller goes on (e.g. to derive the figures once the
        # last chunk is in) while GDAL, slowed by busy workers, catches up.
        self._tables: queue.Queue = queue.Queue(maxsize=QUEUED_TABLES)
        self._error: BaseException | None = None
        reader = pa.RecordBatchReader.from_batches(self.schema, self._batches())
        self._thread = threading.Thread(target=self._write, args=(reader, path, name, metadata), daemon=True)
        self._thread.start()

    def _batches(self):
        while True:
            table = self._tables.get()
            if table is None:
                return
            if isinstance(table, _Stop):
                raise table
            yield from table.to_batches()

    def _write(self, reader, path: Path, name: str, metadata: dict | None) -> None:
        try:
            _write_layer(reader, path, name, metadata)
        except BaseException as exc:  # handed to the caller's thread by _check
            self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _send(self, item) -> None:
        while True:
            self._check()
            if not self._thread.is_alive():
                raise RuntimeError("the GeoPackage writer stopped")
            try:
                self._tables.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def put(self, table) -> None:
        """Hand a table of pieces (the first one's columns) to the writer; returns once it is queued."""
        import pyarrow as pa

        try:
            cast = table.cast(self.schema)
        except (pa.ArrowInvalid, ValueError) as exc:
            raise ValueError(f"hazard_pieces: {exc} (a GeoPackage holds signed 64-bit integers only)") from exc
        self._send(cast)

    def finish(self) -> None:
        """Wait until every table is written and the layer closed; raise what the writer raised."""
        self._send(None)
        self._thread.join()
        self._check()

    def stop(self) -> None:
        """End the write early, leaving an unfinished file (after a failure elsewhere)."""
        if self._thread.is_alive():
            try:
                self._send(_Stop())
            except BaseException:  # the writer failed too: nothing more to stop
                pass
            self._thread.join()


def _fixed_offset(tz: str) -> bool:
    """Whether an Arrow time zone is UTC or a fixed offset (``+07:00``), which GDAL keeps."""
    return tz.upper() == "UTC" or (len(tz) == 6 and tz[0] in "+-" and tz[3] == ":")


__all__ = ["QUEUED_TABLES", "LayerStream", "gpkg_schema", "write_arrow_layer"]


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Characters XML 1.0 cannot hold (control characters other than tab, newline, return).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def column_letter(i: int) -> str:
    """Spreadsheet column name of the 0-based column ``i``.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _text_tails(values: pd.Series) -> np.ndarray:
    """The part of each text cell after its reference; each distinct value is escaped once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    tails = []
    for u in uniques.tolist():
        text = escape(_ILLEGAL.sub("", str(u)))
        tails.append(f'" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>' if text else '"/>')
    return np.array([*tails, '"/>'], dtype=object)[codes]  # code -1 (missing) takes the last: a blank


def _number_tails(values: pd.Series, style: int) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    integral = ok & (v == np.round(v)) & (np.abs(v) < 1e15)
    rest = ok & ~integral
    head = f'" s="{style}"><v>'
    out = np.full(len(v), '"/>', dtype=object)
    out[integral] = [f"{head}{x}</v></c>" for x in v[integral].astype(np.int64).tolist()]
    out[rest] = [f"{head}{x!r}</v></c>" for x in v[rest].tolist()]
    return out


def _bool_tails(values: pd.Series) -> np.ndarray:
    flags = values.fillna(False).astype(bool).to_numpy()
    return np.where(flags, '" t="b"><v>1</v></c>', '" t="b"><v>0</v></c>').astype(object)


def _tails(s: pd.Series, style: int) -> np.ndarray:
    """Each cell of a column, less its ``<c r="A1`` head."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return _bool_tails(s)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _number_tails(s, style)
    values = s.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return _text_tails(values)
    # A mix (e.g. the summary's values): numbers and booleans in it keep their type.
    kind = values.map(lambda v: 2 if isinstance(v, (bool, np.bool_)) else 1 if _is_number(v) else 0).to_numpy()
    out = _text_tails(values.where(kind == 0))
    if (kind == 1).any():
        out = np.where(kind == 1, _number_tails(values.where(kind == 1), style), out)
    if (kind == 2).any():
        out = np.where(kind == 2, _bool_tails(values.where(kind == 2, False)), out)
    return out


def _sheet_xml(df: pd.DataFrame, styles: dict[str, int], fmt_of: Callable[[str], str | None]) -> str:
    n, cols = len(df), list(df.columns)
    rows = np.arange(2, n + 2)
    numbers = rows.tolist()
    columns = []
    for j, col in enumerate(cols):
        head = f'<c r="{column_letter(j)}'
        tails = _tails(df[col], styles.get(fmt_of(str(col)) or "", 0)).tolist()
        columns.append([f"{head}{r}{t}" for r, t in zip(numbers, tails)])
    lines = [f'<row r="{r}">{"".join(cells)}</row>' for r, *cells in zip(numbers, *columns)]
    header = "".join(
        f'<c r="{column_letter(j)}1" t="inlineStr" s="1"><is><t xml:space="preserve">'
        f"{escape(_ILLEGAL.sub('', str(c)))}</t></is></c>"
        for j, c in enumerate(cols)
    )
    widths = "".join(
        f'<col min="{j + 1}" max="{j + 1}" width="{_width(df[c], str(c))}" customWidth="1"/>'
        for j, c in enumerate(cols)
    )
    last = f"{column_letter(max(len(cols) - 1, 0))}{n + 1}"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        + (f"<cols>{widths}</cols>" if cols else "")
        + f'<sheetData><row r="1">{header}</row>'
        + "".join(lines)
        + "</sheetData>"
        + (f'<autoFilter ref="A1:{last}"/>' if cols else "")
        + "</worksheet>"
    )


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _attr(value: str) -> str:
    """Text for an XML attribute value in double quotes."""
    return escape(value, {'"': "&quot;"})


def _width(values: pd.Series, name: str) -> int:
    sample = max((len(str(v)) for v in values.head(200).tolist()), default=0)
    return min(max(len(name), sample) + 2, 60)


def _styles_xml(formats: list[str]) -> str:
    num = "".join(f'<numFmt numFmtId="{164 + k}" formatCode="{_attr(f)}"/>' for k, f in enumerate(formats))
    # Style 0: plain; 1: the bold header; 2...: one per number format.
    xfs = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    xfs += '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" applyFont="1"/>'
    xfs += "".join(
        f'<xf numFmtId="{164 + k}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
        for k in range(len(formats))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS}">'
        + (f'<numFmts count="{len(formats)}">{num}</numFmts>' if formats else "")
        + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{2 + len(formats)}">{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], fmt_of: Callable[[str], str | None]) -> None:
    """Write ``sheets`` (name -> table, at most 1,048,575 rows each) as one ``.xlsx`` file at ``path``.

    ``fmt_of(column)`` gives a column's number format (e.g. ``"#,##0.0000"``) or None.
    """
    formats = sorted({f for df in sheets.values() for c in df.columns if (f := fmt_of(str(c)))})
    styles = {f: 2 + k for k, f in enumerate(formats)}
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for k in range(len(names))
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            head + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        sheet_list = "".join(
            f'<sheet name="{_attr(n)}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, n in enumerate(names)
        )
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{k}" hidden="1">'
            f"'{escape(n.replace(chr(39), chr(39) * 2))}'!$A$1:${column_letter(max(len(df.columns) - 1, 0))}"
            f"${len(df) + 1}</definedName>"
            for k, (n, df) in enumerate(sheets.items())
            if len(df.columns)
        )
        z.writestr(
            "xl/workbook.xml",
            head
            + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheet_list}</sheets>'
            + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + "</workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{k + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{k + 1}.xml"/>'
            for k in range(len(names))
        )
        rels += f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", head + f'<Relationships xmlns="{_PKG}">{rels}</Relationships>')
        z.writestr("xl/styles.xml", _styles_xml(formats))
        for k, df in enumerate(sheets.values()):
            z.writestr(f"xl/worksheets/sheet{k + 1}.xml", _sheet_xml(df, styles, fmt_of))


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    return public_columns(df).drop(columns=[c for c in df.columns if c == "geometry"])


def with_notice(table: pd.DataFrame, notice: str) -> pd.DataFrame:
    """``table`` with a ``synthetic`` flag on every row and the ``data_notice`` said once, on the first."""
    text = np.full(len(table), "", dtype=object)
    if len(text):
        text[0] = notice
    return table.assign(synthetic=True, data_notice=text)


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
    :func:`geo.engine.pieces.hazard_table`); the others are reprojected.
    """
    return _piece_layer_moved(by_hazard, synthetic=synthetic)[0]


def _piece_layer_moved(by_hazard: gpd.GeoDataFrame, *, synthetic: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """:func:`_piece_layer`, and which of its rows were reprojected (the others keep ``_wgs84``)."""
    layer = public_columns(by_hazard)
    if synthetic:
        layer = layer.assign(synthetic=True)
    if "_wgs84" not in by_hazard.columns:
        return to_crs(layer, WGS84), np.ones(len(layer), dtype=bool)
    geoms = by_hazard["_wgs84"].to_numpy().copy()
    moved = pd.isna(geoms)
    geoms[moved] = reproject(layer.geometry.to_numpy()[moved], layer.crs, WGS84)
    return layer.set_geometry(gpd.GeoSeries(geoms, index=layer.index, crs=WGS84), crs=WGS84), moved


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
    out: list = []
    other = []  # 3-D polygons and what is a MultiPolygon already
    for i, w in enumerate(wkb):
        if w is not None and w[1:5] == _POLYGON_2D:
            w = _MULTI_OF_ONE + w if len(w) > 9 else _MULTI_EMPTY
        elif w is not None:
            other.append(i)
        out.append(w)
    if other:
        part = geoms[other]
        polygon, empty = shapely.get_type_id(part) == 3, shapely.is_empty(part)
        part = part.copy()
        part[polygon & ~empty] = shapely.multipolygons(part[polygon & ~empty].reshape(-1, 1))
        part[polygon & empty] = shapely.from_wkt("MULTIPOLYGON EMPTY")  # not a MultiPolygon of an empty one
        for i, w in zip(other, shapely.to_wkb(part, byte_order=1)):
            out[i] = w
    return out


def _pieces_schema(by_hazard: gpd.GeoDataFrame, *, synthetic: bool):
    """The Arrow schema of the ``hazard_pieces`` rows of ``by_hazard`` (see :func:`_attributes_schema`)."""
    layer = public_columns(by_hazard)
    attrs = pd.DataFrame({str(c): layer[c] for c in layer.columns if c != layer.geometry.name})
    if synthetic:
        attrs["synthetic"] = True
    return _attributes_schema(attrs)


def _attributes_schema(attrs: pd.DataFrame):
    """The attributes' Arrow types as the whole table gives them (a column of nulls only as text), then
    ``geometry`` as WKB."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(attrs, preserve_index=False)
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    return pa.schema([*fields, pa.field("geometry", pa.binary())])


def _arrow_pieces(layer: gpd.GeoDataFrame, schema=None):
    """The ``hazard_pieces`` rows (WGS 84, valid polygons) as an Arrow table: attributes as they
    are (a column of nulls only as text), geometry as WKB MultiPolygons (as in the GeoPackage layer).
    With ``schema`` (:func:`_pieces_schema` of a larger table these rows are part of), its types."""
    import pyarrow as pa

    attrs = pd.DataFrame({str(c): layer[c] for c in layer.columns if c != layer.geometry.name})
    schema = schema if schema is not None else _attributes_schema(attrs)
    table = pa.Table.from_pandas(attrs, schema=pa.schema(list(schema)[:-1]), preserve_index=False)
    wkb = pa.array(multipolygon_wkb(layer.geometry.to_numpy()), type=pa.binary())
    return pa.Table.from_arrays([*table.columns, wkb], schema=schema)


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


#: The files the hazard pieces go to (``geo analyze --pieces``): the ``hazard_pieces`` layer of
#: ``zones.gpkg`` (for QGIS/ArcGIS), ``by_hazard.csv`` (for a spreadsheet) and ``hazard_pieces.parquet``
#: (for pandas, DuckDB, Arrow). All three by default: each is some reader's way in.
PIECE_FORMATS: tuple[str, ...] = ("gpkg", "csv", "parquet")
#: Pieces made ready for the files at a time (:meth:`PieceRows.of`): the copies each step makes of a
#: chunk's table stay this small.
PIECE_BATCH_ROWS = 25_000
PIECE_FILES = {"gpkg": "zones.gpkg's hazard_pieces layer", "csv": "by_hazard.csv", "parquet": "hazard_pieces.parquet"}


def piece_formats(text: str) -> tuple[str, ...]:
    """The piece files of a ``--pieces`` value: formats separated by commas, or ``none``.

    Examples
    --------
    >>> piece_formats("csv, gpkg")
    ('gpkg', 'csv')
    >>> piece_formats("none")
    ()
    >>> piece_formats("shp")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: --pieces shp: 'shp' is not a piece file; give some of gpkg, csv, parquet ...
    """
    words = [w.strip().lower() for w in str(text).split(",") if w.strip()]
    if words == ["none"]:
        return ()
    if words == ["all"]:
        return PIECE_FORMATS
    wrong = [w for w in words if w not in PIECE_FORMATS]
    if wrong or not words:
        what = f"{wrong[0]!r} is not a piece file" if wrong else "no piece file named"
        raise GeoInputError(
            f"--pieces {text}: {what}; give some of {', '.join(PIECE_FORMATS)} separated by commas, or none"
        )
    return tuple(f for f in PIECE_FORMATS if f in words)


@dataclass(frozen=True)
class PieceRows:
    """Pieces made ready for the files (where they were made, e.g. in a worker process).

    Attributes
    ----------
    header : str
        The CSV header line.
    csv : str
        The CSV rows, without the header: rounded and spreadsheet-safe as :func:`write_csv` writes them.
    arrow : pyarrow.Table, Path or None
        The ``hazard_pieces`` rows in WGS 84, valid polygons as WKB MultiPolygons: the batch of the
        GeoPackage layer and of ``hazard_pieces.parquet``; or the Arrow IPC file holding them
        (``spill`` of :meth:`of`); None when neither file is written.
    synthetic : bool
        Whether the rows carry the ``synthetic`` flag.
    count : int
        How many rows.
    """

    header: str
    csv: str
    arrow: Any
    synthetic: bool
    count: int = 0

    def table(self):
        """The Arrow table of the rows (memory-mapped when :meth:`of` spilled it to a file)."""
        import pyarrow as pa

        if isinstance(self.arrow, Path):
            return pa.ipc.open_file(pa.memory_map(str(self.arrow))).read_all()
        return self.arrow

    @classmethod
    def of(
        cls,
        by_hazard: gpd.GeoDataFrame,
        *,
        synthetic: bool,
        formats: tuple[str, ...] = PIECE_FORMATS,
        spill: Path | None = None,
        batch_rows: int = PIECE_BATCH_ROWS,
        own_valid: bool = False,
    ) -> PieceRows:
        """The rows of a ``by_hazard`` table (analysis CRS) as :func:`write_outputs` writes them, made
        only for the piece files in ``formats`` (no CSV text without ``csv``, no Arrow table without
        ``gpkg`` or ``parquet``).

        They are made ``batch_rows`` at a time (the copies each step makes stay that small); the Arrow
        columns take the types of the whole table, so the rows are the same whatever the batches. With
        ``spill``, each batch of the Arrow table goes straight to that file (an uncompressed Arrow IPC
        file), for a worker process to hand the rows over through the file system: about 1 KB per
        piece, which through the pipe to the parent kept the worker waiting until the busy parent had
        read it all. With ``own_valid``, the hazards' own geometries (``_wgs84``) are known valid (they
        were checked when read, :func:`geo.engine.hazards.hazard_rows`): only the pieces reprojected
        back to WGS 84 are checked again (at 433,000 hazards, 0.5 s of CPU spared).
        """
        import pyarrow as pa

        arrow_wanted = bool({"gpkg", "parquet"} & set(formats))
        header, csv_parts, tables = "", [], []
        schema = _pieces_schema(by_hazard, synthetic=synthetic) if arrow_wanted else None
        with ExitStack() as stack:
            ipc = None
            if arrow_wanted and spill is not None:
                sink = stack.enter_context(pa.OSFile(str(spill), "wb"))
                ipc = stack.enter_context(pa.ipc.new_file(sink, schema))
            for start in range(0, max(len(by_hazard), 1), batch_rows):
                part = by_hazard.iloc[start : start + batch_rows]
                text = spreadsheet_safe(rounded_for_csv(_piece_table(part, synthetic=synthetic)))
                if start == 0:
                    header = text.iloc[:0].to_csv(index=False)
                if "csv" in formats:
                    csv_parts.append(csv_rows(text))
                del text
                if arrow_wanted:
                    layer, moved = _piece_layer_moved(part, synthetic=synthetic)
                    table = _arrow_pieces(valid_polygons(layer, rows=moved if own_valid else None), schema)
                    if ipc is not None:
                        ipc.write_table(table)
                    else:
                        tables.append(table)
        arrow: Any = None
        if arrow_wanted:
            arrow = Path(spill) if spill is not None else pa.concat_tables(tables)
        return cls(header=header, csv="".join(csv_parts), arrow=arrow, synthetic=synthetic, count=len(by_hazard))


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
        :class:`geo.io.outdir.OutputSet`, which removes what a failed run leaves).
    formats : tuple of str
        The piece files written (:data:`PIECE_FORMATS`; see :func:`piece_formats`); ``zones.gpkg``
        is written with its other layers in any case.
    """

    def __init__(self, out_dir: Path, formats: tuple[str, ...] = PIECE_FORMATS):
        self.formats = tuple(formats)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.csv_part = self.out_dir / ".by_hazard.part.csv"
        self.gpkg_part = self.out_dir / ".zones.part.gpkg"
        self.parquet_part = self.out_dir / ".hazard_pieces.part.parquet"
        self.rows = 0
        self._header: str | None = None
        self._meta: dict | None = None
        self._parquet: Any = None  # a pyarrow.parquet.ParquetWriter once the first rows came
        # Arrow writes Parquet without Python's lock: in a thread, one table at a time, beside GDAL's.
        self._parquet_thread = ThreadPoolExecutor(1)
        self._parquet_write: Future | None = None
        self._gpkg: LayerStream | None = None  # the hazard_pieces layer, once the first rows came
        self._schema: Any = None  # the Arrow schema of the first rows, which later ones are made to fit
        self._spilled: list[Path] = []  # files of rows spilled by PieceRows.of, removed at the end

    def add(self, rows: PieceRows) -> None:
        """Append pieces (see :meth:`PieceRows.of`) to the three files."""
        first = self._header is None
        notice = SYNTHETIC_NOTICE if rows.synthetic else None
        if first:
            self._header = rows.header
            self._meta = layer_metadata(notice)
        elif rows.header != self._header:
            raise ValueError(f"pieces with columns {rows.header!r} after {self._header!r}")
        if "csv" in self.formats:
            with self.csv_part.open("w" if first else "a", encoding="utf-8-sig" if first else "utf-8", newline="") as f:
                f.write((rows.header if first else "") + rows.csv)
        if isinstance(rows.arrow, Path):
            self._spilled.append(rows.arrow)
        if rows.arrow is None:  # neither the layer nor the Parquet file is written
            self.rows += rows.count
            return
        arrow = rows.table()
        if first:
            import pyarrow.parquet as pq

            schema = arrow.schema.with_metadata(_geoparquet_meta(notice))
            self._schema = schema
            if "parquet" in self.formats:
                self._parquet = pq.ParquetWriter(self.parquet_part, schema, compression="zstd")
            if "gpkg" in self.formats:
                self._gpkg = LayerStream(self.gpkg_part, "hazard_pieces", self._meta, arrow)
        table = _conform(arrow, self._schema)
        if self._gpkg is not None:
            with _gdal_errors(self.out_dir / "zones.gpkg", self.gpkg_part):
                self._gpkg.put(table)  # GDAL writes it in its thread, the Parquet file here (both beside the analysis)
        if self._parquet is not None:
            self._parquet_done()
            self._parquet_write = self._parquet_thread.submit(self._parquet.write_table, table)
        self.rows += table.num_rows

    def _parquet_done(self) -> None:
        """Wait for the table being written to ``hazard_pieces.parquet``; raise what the write raised."""
        if self._parquet_write is not None:
            write, self._parquet_write = self._parquet_write, None
            write.result()

    def spill_path(self, key: int) -> Path:
        """Where a worker may spill the rows it made (:meth:`PieceRows.of`) (``key``: e.g. the first row)."""
        return self.out_dir / f".pieces-{int(key)}.part.arrow"

    def _unspill(self) -> None:
        for path in self._spilled:
            path.unlink(missing_ok=True)
        self._spilled.clear()

    def discard(self) -> None:
        """Close the part files after a failure (the caller removes the staging directory)."""
        if self._gpkg is not None:
            self._gpkg.stop()
            self._gpkg = None
        if self._parquet is not None:
            try:
                self._parquet_done()
            except Exception:  # the run failed already; its staging directory goes
                pass
            self._parquet.close()
            self._parquet = None
        self._parquet_thread.shutdown(wait=True)
        self._unspill()

    def close(self, layers: dict[str, gpd.GeoDataFrame]) -> list[Path]:
        """Add the other ``layers`` to the GeoPackage and give the three files their names."""
        if self._header is None:
            raise ValueError("no pieces were written")
        with _gdal_errors(self.out_dir / "zones.gpkg", self.gpkg_part):
            if self._gpkg is not None:
                self._gpkg.finish()
                self._gpkg = None
            for name, gdf in layers.items():
                valid_polygons(gdf).to_file(
                    self.gpkg_part,
                    layer=name,
                    driver="GPKG",
                    engine="pyogrio",
                    layer_metadata=self._meta,
                    VERSION=GPKG_VERSION,
                )
        self._parquet_done()
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        self._parquet_thread.shutdown(wait=True)
        self._unspill()
        parts = {
            "by_hazard.csv": self.csv_part,
            "zones.gpkg": self.gpkg_part,
            "hazard_pieces.parquet": self.parquet_part,
        }
        done = []
        for name, part in parts.items():
            if part.exists():
                os.replace(part, self.out_dir / name)
                done.append(self.out_dir / name)
        return done


#: Columns of the piece table that index other tables of the result (``hazards`` rows and
#: ``zones`` rows, -1 outside Cambodia): kept in Python, left out of the files written.
INDEX_COLUMNS = ("hazard_index", "band_index")


def public_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A piece table as written to files: without the index columns and any ``_``-prefixed ones.

    Examples
    --------
    >>> public_columns(pd.DataFrame(columns=["hazard_id", "band_index", "_tmp", "area_m2"])).columns.tolist()
    ['hazard_id', 'area_m2']
    """
    return table.drop(columns=[c for c in table.columns if str(c).startswith("_") or c in INDEX_COLUMNS])
