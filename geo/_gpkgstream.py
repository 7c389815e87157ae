"""The ``hazard_pieces`` layer of a GeoPackage written from Arrow tables: whole (:func:`write_arrow_layer`),
or streamed from tables handed over as they are made (:class:`LayerStream`), without turning rows into
Python objects."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from geo._errors import GeoEnvironmentError
from geo.constants import WGS84


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
