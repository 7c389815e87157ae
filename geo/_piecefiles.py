"""The hazard pieces' files, which may hold millions of rows: ``by_hazard.csv``, the ``hazard_pieces``
layer of ``zones.gpkg`` and ``hazard_pieces.parquet``.

The pieces become one Arrow table (attributes, and WKB MultiPolygons in WGS 84) that both the
GeoPackage layer and the GeoParquet file are written from, whole (:func:`geo.export.write_outputs`)
or a chunk at a time (:class:`PieceWriter`, for :func:`geo.chunked.analyze_in_chunks`).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._files import _gdal_errors, atomic_write, layer_metadata, rounded_for_csv, spreadsheet_safe, valid_polygons
from geo._gpkgstream import LayerStream
from geo._pieces import public_columns
from geo.constants import SYNTHETIC_NOTICE, WGS84
from geo.crs import reproject, to_crs


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    return public_columns(df).drop(columns=[c for c in df.columns if c == "geometry"])


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
    arrow : pyarrow.Table or Path
        The ``hazard_pieces`` rows in WGS 84, valid polygons as WKB MultiPolygons: the batch of the
        GeoPackage layer and of ``hazard_pieces.parquet``; or the Arrow IPC file holding them
        (:meth:`spill`).
    synthetic : bool
        Whether the rows carry the ``synthetic`` flag.
    """

    header: str
    csv: str
    arrow: Any
    synthetic: bool

    def spill(self, path: Path) -> PieceRows:
        """These rows with their Arrow table written to ``path`` (an uncompressed Arrow IPC file), for a
        worker process to hand them over through the file system: about 1 KB per piece, which through
        the pipe to the parent kept the worker waiting until the busy parent had read it all."""
        import pyarrow as pa

        if isinstance(self.arrow, Path):
            return self
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, self.arrow.schema) as ipc:
            ipc.write_table(self.arrow)
        return PieceRows(self.header, self.csv, Path(path), self.synthetic)

    def table(self):
        """The Arrow table of the rows (memory-mapped when :meth:`spill` wrote it to a file)."""
        import pyarrow as pa

        if isinstance(self.arrow, Path):
            return pa.ipc.open_file(pa.memory_map(str(self.arrow))).read_all()
        return self.arrow

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
        # Arrow writes Parquet without Python's lock: in a thread, one table at a time, beside GDAL's.
        self._parquet_thread = ThreadPoolExecutor(1)
        self._parquet_write: Future | None = None
        self._gpkg: LayerStream | None = None  # the hazard_pieces layer, once the first rows came
        self._spilled: list[Path] = []  # files of rows handed over by PieceRows.spill, removed at the end

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
        arrow = rows.table()
        if isinstance(rows.arrow, Path):
            self._spilled.append(rows.arrow)
        if first:
            import pyarrow.parquet as pq

            schema = arrow.schema.with_metadata(_geoparquet_meta(notice))
            self._parquet = pq.ParquetWriter(self.parquet_part, schema, compression="zstd")
            self._gpkg = LayerStream(self.gpkg_part, "hazard_pieces", self._meta, arrow)
        table = _conform(arrow, self._parquet.schema)
        assert self._gpkg is not None
        with _gdal_errors(self.out_dir / "zones.gpkg", self.gpkg_part):
            self._gpkg.put(table)  # GDAL writes it in its thread, the Parquet file here (both beside the analysis)
        self._parquet_done()
        self._parquet_write = self._parquet_thread.submit(self._parquet.write_table, table)
        self.rows += table.num_rows

    def _parquet_done(self) -> None:
        """Wait for the table being written to ``hazard_pieces.parquet``; raise what the write raised."""
        if self._parquet_write is not None:
            write, self._parquet_write = self._parquet_write, None
            write.result()

    def spill_path(self, key: int) -> Path:
        """Where a worker may :meth:`PieceRows.spill` the rows it made (``key``: e.g. the first row)."""
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
            assert self._gpkg is not None
            self._gpkg.finish()
            self._gpkg = None
            for name, gdf in layers.items():
                valid_polygons(gdf).to_file(
                    self.gpkg_part, layer=name, driver="GPKG", engine="pyogrio", layer_metadata=self._meta
                )
        self._parquet_done()
        self._parquet.close()
        self._parquet = None
        self._parquet_thread.shutdown(wait=True)
        self._unspill()
        done = [self.out_dir / "by_hazard.csv", self.out_dir / "zones.gpkg", self.out_dir / "hazard_pieces.parquet"]
        for part, path in zip((self.csv_part, self.gpkg_part, self.parquet_part), done):
            os.replace(part, path)
        return done
