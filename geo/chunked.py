"""The analysis of a hazard layer larger than memory: read, split and written in chunks of rows.

:func:`analyze_in_chunks` gives the figures :func:`geo.analyze` gives, for a file of any size,
holding one chunk of hazards (``chunk_rows`` features) and the few columns the figures need at a
time:

1. The boundaries' side (provinces, bands, cells, buffers) is built once (:func:`geo.analysis.plan_run`).
2. Each chunk of rows is read, checked and repaired as :func:`geo.read_hazards` does, and split by
   province and band; its pieces go to disk at once (``by_hazard.csv``, the ``hazard_pieces``
   layer of ``zones.gpkg`` and ``hazard_pieces.parquet``, through :class:`geo.export.PieceWriter`).
3. Land is counted once across chunks: a chunk's land leaves out what earlier chunks' hazards cover.
   Those hazards are found from the bounding boxes of the earlier rows (read a chunk at a time,
   :func:`counted_before`) and read again by feature id with the chunk, so the land of all chunks
   is disjoint and its areas add up exactly.  Chunks are then independent: ``workers`` processes,
   or the workers of a ``dask.distributed`` cluster, analyse them side by side, and their pieces
   are written in row order.
4. What the figures need is additive over disjoint land: band areas per province, and the curves
   W(d) behind the ranges, the shifted lines, the alternative lines and each neighbour
   (:class:`geo.analysis.Curves`).  They are summed, and the tables, ranges and sensitivity are
   derived once at the end (:meth:`geo.analysis.RunPlan.finish`).

Peak memory is that of one chunk's analysis per worker plus about :data:`geo._chunking.HELD_BYTES_PER_HAZARD` per
hazard; :func:`geo._chunking.plan_memory` estimates it before any work, and the run is refused when it does not fit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._chunking import (
    CHUNK_ROWS,
    _merge_reports,
    _synthetic,
    check_plan_memory,
    counted_before,
    even_chunks,
    layer_info,
    plan_memory,
)
from geo._data import sha256_path
from geo._errors import GeoEnvironmentError, GeoInputError
from geo._parquet import PARQUET_SUFFIXES
from geo._piecefiles import PieceRows, PieceWriter
from geo._pieces import AnalysedHazards, hazard_table
from geo._plan import Curves, RunPlan, plan_run
from geo._result import AnalysisResult
from geo._workers import _PLANS, _in_order, _plan_in_worker, _worker_pool, dask_client
from geo.boundaries import Boundaries
from geo.constants import ANALYSIS_CRS, DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M
from geo.summary import sliver_overlap_m2

log = logging.getLogger("geo")

#: Suffixes read in chunks (formats OGR reads by feature id).
CHUNKED_SUFFIXES = (".gpkg", ".shp", ".fgb", ".geojson", ".json", ".gdb", ".gml", ".tab", ".mif", *PARQUET_SUFFIXES)
#: Suffixes of formats GDAL reads from their start on every access (it keeps no index into them): in
#: chunks, each chunk's rows, and the earlier rows it looks up, cost a read of the whole file (measured
#: with 173,200 hazards in GeoJSON: 100.5 s in chunks, 40.2 s in memory).
SEQUENTIAL_SUFFIXES = (".geojson", ".json", ".gml", ".mif")
#: Hazard columns the figures and checks use; the others only go to the files written.
_KEEP = ("hazard_id", "area_recorded_m2", "province_recorded", "approximate")
#: Piece columns the figures use.
_PIECE_KEEP = ("hazard_index", "province", "code", "band", "band_index", "area_m2")


def _read_chunk(path: Path, *, layer, crs, id_field, first_row: int = 1, **rows):
    """Features of ``rows`` read, checked and repaired as :func:`geo.read_hazards` does, and the report."""
    from geo.hazards import hazard_rows, read_rows

    gdf, _, warned, notes = read_rows(path, layer=layer, crs=crs, **rows)
    return hazard_rows(gdf, path, id_field=id_field, notes=notes, reader_warnings=warned, first_row=first_row)


@dataclass(frozen=True)
class ChunkJob:
    """One chunk of rows to analyse: where it is, and the earlier rows whose land it must leave out."""

    path: Path
    layer: str | None
    crs: str | None
    id_field: str | None
    start: int
    rows: int
    counted_fids: np.ndarray
    synthetic: bool
    spill: Path | None = None  # where the pieces go to disk for the caller (PieceRows.spill), or not at all


@dataclass
class ChunkPart:
    """What one chunk gives: its pieces to write, and the columns and curves the figures need."""

    rows: PieceRows | None
    report: dict
    by_hazard: pd.DataFrame
    pieces: pd.DataFrame
    land: pd.DataFrame
    kept: pd.DataFrame
    area_m2: np.ndarray
    curves: Curves | None
    in_sliver_m2: float


def analyse_chunk(plan: RunPlan, job: ChunkJob) -> ChunkPart:
    """Read, check, repair and split one chunk of rows; its land leaves out what earlier rows cover."""
    chunk, report = _read_chunk(
        job.path,
        layer=job.layer,
        crs=job.crs,
        id_field=job.id_field,
        first_row=job.start + 1,
        skip_features=job.start,
        max_features=job.rows,
    )
    t = plan.territory
    hz = AnalysedHazards.prepare(chunk)
    del chunk
    counted = np.array([], dtype=object)
    if len(job.counted_fids) and len(hz.table):
        earlier, _ = _read_chunk(job.path, layer=job.layer, crs=job.crs, id_field=job.id_field, fids=job.counted_fids)
        if len(earlier):
            counted = AnalysedHazards.prepare(earlier).geoms
    if not len(hz.table):
        empty = pd.DataFrame()
        return ChunkPart(gpd.GeoDataFrame(), report, empty, empty, empty, empty, np.array([]), None, 0.0)
    pieces, land = plan.pieces(hz, counted=counted)
    table = hazard_table(pieces, hz, t.provinces, plan.zones)
    rows = PieceRows.of(table, synthetic=job.synthetic)
    return ChunkPart(
        rows=rows if job.spill is None else rows.spill(job.spill),
        report=report,
        by_hazard=pd.DataFrame(table[list(_PIECE_KEEP)]),
        pieces=pd.DataFrame(pieces[["code", "band_index", "area_m2"]]),
        land=pd.DataFrame(land[["code", "fine_index", "band_index", "area_m2"]]),
        kept=pd.DataFrame(hz.table[[c for c in _KEEP if c in hz.table.columns]]),
        area_m2=hz.area_m2,
        curves=plan.curves(land),
        in_sliver_m2=sliver_overlap_m2(hz.geoms, t.slivers),
    )


def _work(run: str, plan_args: dict, job: ChunkJob) -> ChunkPart:
    """Analyse a chunk in a worker, with the run's plan (built here on first use)."""
    _plan_in_worker(run, plan_args)
    return analyse_chunk(_PLANS[run], job)


def _parts(
    jobs: Iterator[ChunkJob],
    plan: RunPlan,
    plan_args: dict,
    run: str,
    workers: int,
    pool: ProcessPoolExecutor | None,
    scheduler: str | None,
    writer: PieceWriter,
) -> Iterator[ChunkPart]:
    """The chunks' parts in row order: here, in the ``workers`` processes of ``pool``, or on a dask cluster (each
    worker at most one chunk ahead).  Worker processes hand their pieces over in files of ``writer``'s
    directory."""
    if scheduler is not None:
        with dask_client(scheduler, workers) as client:
            ahead = max(len(client.scheduler_info().get("workers", {})), 1) + 1
            log.info("analysing chunks on the dask cluster at %s", client.scheduler.address)
            yield from _in_order(jobs, lambda job: client.submit(_work, run, plan_args, job, pure=False), ahead)
        return
    if pool is None:
        for job in jobs:
            yield analyse_chunk(plan, job)
        return
    try:
        spilled = (replace(job, spill=writer.spill_path(job.start)) for job in jobs)
        yield from _in_order(spilled, lambda job: pool.submit(_work, run, plan_args, job), workers + 1)
    except BrokenProcessPool as exc:
        raise GeoEnvironmentError(
            f"a worker process stopped abruptly (out of memory?); give fewer --workers than {workers} "
            "or smaller --chunk-rows"
        ) from exc


def analyze_in_chunks(
    path: str | Path,
    writer: PieceWriter,
    *,
    layer: str | None = None,
    crs: str | None = None,
    id_field: str | None = None,
    boundaries: Boundaries | None = None,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 1,
    scheduler: str | None = None,
) -> AnalysisResult:
    """Analyse a hazard file chunk by chunk, writing its pieces as they are made.

    Parameters
    ----------
    path : str or Path
        A vector file OGR reads by feature id (GeoPackage, Shapefile, FlatGeobuf, GeoJSON,
        File Geodatabase ...), or GeoParquet with WKB geometry.
    writer : PieceWriter
        Writes ``by_hazard.csv`` and the ``hazard_pieces`` layer of ``zones.gpkg`` as chunks are
        split (:class:`geo.export.PieceWriter`); :func:`geo.export.write_outputs` with ``pieces=writer``
        finishes them.
    layer, crs, id_field
        As for :func:`geo.read_hazards`.
    boundaries, bands_km, neighbor, frontier_tolerance_m
        As for :func:`geo.analyze`.
    chunk_rows : int
        Features read and analysed at a time.
    workers : int
        Processes analysing chunks side by side (1: all in this process).
    scheduler : str, optional
        Analyse the chunks on a ``dask.distributed`` cluster instead: the scheduler's address
        (``tcp://host:port``; its workers need geo installed and ``path`` readable at the same
        path), or ``"local"`` for a local cluster of ``workers`` processes.

    Returns
    -------
    AnalysisResult
        The figures of :func:`geo.analyze` on the whole file.  ``streamed`` is true: ``by_hazard``
        holds ``hazard_index``, ``province``, ``code``, ``band``, ``band_index`` and ``area_m2``
        without geometry, ``land_pieces`` has no geometry and ``hazards`` none; the pieces with every
        column and geometry are in the files written.
    """
    path = Path(path).resolve()
    if not path.exists():
        raise GeoInputError("file does not exist", str(path))
    if path.suffix.lower() not in CHUNKED_SUFFIXES:
        raise GeoInputError(
            f"the chunked engine reads {', '.join(CHUNKED_SUFFIXES)} files; convert this one "
            "(e.g. ogr2ogr out.gpkg in) or use --engine memory",
            str(path),
        )
    if chunk_rows < 1:
        raise GeoInputError(f"chunk rows must be at least 1, got {chunk_rows}")
    workers = max(int(workers), 1)
    info = layer_info(path, layer)
    total = int(info["features"])
    chunk_rows = even_chunks(total, chunk_rows, workers=workers)
    check_plan_memory(path, total, chunk_rows, workers)
    plan_args: dict[str, Any] = {
        "boundaries": boundaries,
        "bands_km": bands_km,
        "neighbor": neighbor,
        "frontier_tolerance_m": frontier_tolerance_m,
    }
    n_chunks = max(-(-total // chunk_rows), 1)
    if n_chunks > 1 and path.suffix.lower() in SEQUENTIAL_SUFFIXES:
        log.warning(
            "%s is read from its start for each of its %s chunks (GDAL keeps no index into %s files); "
            "converted once to GeoPackage or FlatGeobuf (e.g. ogr2ogr hazards.gpkg %s) it is read in chunks "
            "far quicker",
            path.name,
            n_chunks,
            path.suffix.lower(),
            path.name,
        )
    run = uuid.uuid4().hex
    with ExitStack() as stack:
        pool = None
        if scheduler is None and workers > 1 and n_chunks > 1:
            pool = stack.enter_context(_worker_pool(workers, run, dict(plan_args)))
        # The file's digest (provenance) is read beside the analysis: hashlib works without Python's lock.
        hashing = ThreadPoolExecutor(1)
        digest = hashing.submit(sha256_path, path)
        hashing.shutdown(wait=False)
        plan = plan_run(**plan_args)
        plan_args["boundaries"] = plan.boundaries
        synthetic = _synthetic(path, layer, info)
        jobs = (
            ChunkJob(path, layer, crs, id_field, k * chunk_rows, chunk_rows, fids, synthetic)
            for k, fids in enumerate(counted_before(path, layer, crs or info.get("crs"), chunk_rows, total))
        )
        reports, kept, by_hazard, pieces, land = [], [], [], [], []
        areas: list[np.ndarray] = []
        curves: Curves | None = None
        in_sliver = 0.0
        offset = 0
        for k, part in enumerate(_parts(jobs, plan, plan_args, run, workers, pool, scheduler, writer)):
            reports.append(part.report)
            log.info("chunk %s of %s: %s hazards", k + 1, n_chunks, f"{len(part.kept):,}")
            if part.curves is None or part.rows is None:
                continue
            writer.add(part.rows)
            curves = part.curves if curves is None else curves + part.curves
            in_sliver += part.in_sliver_m2
            by_hazard.append(part.by_hazard.assign(hazard_index=part.by_hazard["hazard_index"].to_numpy() + offset))
            pieces.append(part.pieces)
            land.append(part.land)
            kept.append(part.kept)
            areas.append(part.area_m2)
            offset += len(part.kept)
            del part
    if not offset or curves is None:
        raise GeoInputError("no polygon hazards left after dropping empty and non-polygon features", str(path))
    checks = _merge_reports(reports)
    table_all = pd.concat(kept, ignore_index=True)
    dup = table_all["hazard_id"].duplicated(keep=False)
    checks["duplicate_ids"] = {
        "count": int(table_all.loc[dup, "hazard_id"].nunique()),
        "ids": sorted(set(table_all.loc[dup, "hazard_id"])),
    }
    checks["chunks"] = {
        "count": len(reports),
        "rows_per_chunk": chunk_rows,
        "workers": workers,
        "engine": "dask" if scheduler is not None else "chunked",
        "note": "read and analysed in chunks of rows; land counted once across chunks",
    }
    none = np.full(offset, None, dtype=object)
    hz_all = AnalysedHazards(
        table=gpd.GeoDataFrame(table_all, geometry=none, crs=ANALYSIS_CRS),
        geoms=none,
        area_m2=np.concatenate(areas),
    )
    frame = lambda parts: gpd.GeoDataFrame(  # noqa: E731
        pd.concat(parts, ignore_index=True), geometry=np.full(sum(map(len, parts)), None), crs=ANALYSIS_CRS
    )
    return plan.finish(
        hz_all,
        pieces=pd.concat(pieces, ignore_index=True),
        land_pieces=frame(land),
        by_hazard=frame(by_hazard),
        curves=curves,
        checks=checks,
        source={"file": path.name, "sha256": digest.result(), "layer": layer},
        synthetic=synthetic,
        in_sliver_m2=in_sliver,
        streamed=True,
    )


__all__ = [
    "CHUNK_ROWS",
    "SEQUENTIAL_SUFFIXES",
    "ChunkJob",
    "ChunkPart",
    "analyse_chunk",
    "analyze_in_chunks",
    "check_plan_memory",
    "counted_before",
    "layer_info",
    "plan_memory",
]
