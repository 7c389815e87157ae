"""How a layer is cut into chunks of rows (:mod:`geo.engine.chunked`): the memory a plan needs, the rows per
chunk, the earlier rows whose land each chunk leaves out, and one report from the chunks' reports."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.constants import ANALYSIS_CRS, DEFAULT_BANDS_KM, FRONTIER_TOLERANCE_M
from geo.engine.analysis import AnalysisResult, Curves, RunPlan, plan_run
from geo.engine.boundaries import Boundaries
from geo.engine.errorbudget import DRAWS
from geo.engine.pieces import AnalysedHazards, hazard_table
from geo.engine.summary import sliver_overlap_m2
from geo.errors import GeoEnvironmentError, GeoInputError
from geo.io.data import sha256_path
from geo.io.readers import PARQUET_SUFFIXES, is_parquet, is_synthetic, parquet_bounds, parquet_info
from geo.io.validate import memory_budget
from geo.io.writers import PIECE_FORMATS, PieceRows, PieceWriter

#: Features read and analysed at a time.
CHUNK_ROWS = 150_000
#: Peak memory per hazard of a chunk's analysis, bytes (a worker's peak for a 150,000-row chunk of
#: demo-like hazards, reading to writing: 1.02 GB, of which 0.33 GB before the chunk: 4.6 KB, rounded up).
CHUNK_BYTES_PER_HAZARD = 6_000
#: Memory held per hazard until the end (the columns the figures need, and its bounding box), bytes.
HELD_BYTES_PER_HAZARD = 1_200
#: Memory per hazard of a chunk's pieces on their way from a worker to the files (CSV text, the WGS 84
#: layer and its Arrow batch), bytes.
PART_BYTES_PER_HAZARD = 3_000
#: Widening of the bounding boxes that find overlaps between chunks: 0.00001 degree (about 1.1 m) in a
#: geographic CRS, 1 unit (m) in a projected one.  Reprojection moves an edge off its source line by
#: far less (hazard edges are short; projected layers are densified first, see geo.crs.to_crs_dense).
BOX_MARGIN_DEG = 1e-5
BOX_MARGIN_M = 1.0
#: Boxes of earlier rows grouped under one envelope in the tree later chunks query (see ``_BoxGroups``).
BOX_GROUP = 16
#: A chunk's boxes looked up this many at a time (the candidate pairs stay a few tens of MB).
BOX_QUERY = 20_000


def layer_info(path: Path, layer: str | None = None) -> dict:
    """pyogrio's description of a vector layer, its features counted where the format keeps no count
    (for GeoParquet, the same keys from the file's own metadata)."""
    if is_parquet(path):
        return parquet_info(path)
    try:
        return pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except Exception as exc:  # the readers raise many types for broken files
        raise GeoInputError(f"cannot read file: {exc}", str(path)) from exc


def plan_memory(features: int, chunk_rows: int = CHUNK_ROWS, workers: int = 1) -> int:
    """Peak memory, bytes, of a chunked analysis of ``features`` hazards: what is held per hazard, and
    one chunk in each worker and two more on their way to the files.

    Examples
    --------
    >>> round(plan_memory(4_330_000, 150_000, workers=2) / 1e9, 1)
    7.9
    """
    chunk = min(features, chunk_rows)
    return features * HELD_BYTES_PER_HAZARD + chunk * (workers * CHUNK_BYTES_PER_HAZARD + 2 * PART_BYTES_PER_HAZARD)


def even_chunks(total: int, chunk_rows: int, *, workers: int = 1) -> int:
    """Rows per chunk, at most ``chunk_rows``, evened out so that the chunks are a multiple of the workers
    (none waits alone for the last one).

    Examples
    --------
    >>> even_chunks(4_330_000, 150_000, workers=2)  # 29 chunks of 150,000 would leave one alone: 30
    144334
    >>> even_chunks(1000, 150_000, workers=2), even_chunks(300_000, 150_000, workers=2)
    (1000, 150000)
    """
    n = max(-(-total // chunk_rows), 1)
    if n > 1 and workers > 1:
        n = -(-n // workers) * workers
    return max(-(-total // n), 1)


def check_plan_memory(path: Path, features: int, chunk_rows: int, workers: int = 1) -> None:
    """Refuse, saying why, a chunked plan that would not fit in geo's memory budget."""
    need = plan_memory(features, chunk_rows, workers)
    budget, source = memory_budget()
    if budget is not None and need > budget:
        raise GeoInputError(
            f"{features:,} hazards in chunks of {chunk_rows:,} need about {_size(need)} of memory "
            f"({HELD_BYTES_PER_HAZARD:,} bytes per hazard held, {CHUNK_BYTES_PER_HAZARD:,} per hazard of a chunk "
            f"in each of {workers} worker(s)); geo's budget is {_size(budget)} ({source}). Use smaller chunks "
            "(--chunk-rows) or fewer --workers, raise GEO_MAX_MEMORY, or use a larger machine",
            str(path),
        )


def _size(n_bytes: float) -> str:
    """Bytes as MB or GB.

    Examples
    --------
    >>> _size(3_298_000), _size(8.8e9)
    ('3.3 MB', '8.8 GB')
    """
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes < 1e9 else f"{n_bytes / 1e9:,.1f} GB"


def _merge_reports(reports: list[dict]) -> dict:
    """One reading report from the reports of the chunks: counts summed, lists joined."""
    out: dict = {}
    for report in reports:
        for key, value in report.items():
            if key not in out:
                out[key] = value if not isinstance(value, (dict, list)) else type(value)()
                if isinstance(value, dict):
                    out[key].update(value)
                    continue
                if isinstance(value, list):
                    out[key].extend(value)
                    continue
                continue
            have = out[key]
            if isinstance(value, bool) or isinstance(value, str):
                continue
            if isinstance(value, (int, float)):
                out[key] = have + value
            elif isinstance(value, list):
                have.extend(v for v in value if v not in have)
            elif isinstance(value, dict) and key != "fields":
                for k, v in value.items():
                    if k == "count" and isinstance(v, int):
                        have[k] = have.get(k, 0) + v
                    elif isinstance(v, list) and k in ("columns", "messages"):  # the same for every chunk
                        have[k] = list(dict.fromkeys([*have.get(k, []), *v]))
                    elif isinstance(v, list):  # ids, rows, items: each chunk's own
                        have[k] = [*have.get(k, []), *v]
                    elif isinstance(v, dict):
                        have[k] = {**have.get(k, {}), **v}
    if "reader_warnings" in out:
        msgs = list(dict.fromkeys(out["reader_warnings"].get("messages", [])))[:20]
        out["reader_warnings"] = {"count": len(msgs), "messages": msgs}
    return out


def _synthetic(path: Path, layer: str | None, info: dict) -> bool:
    """Whether the file says it is synthetic (``info``: :func:`layer_info`): its metadata, or a
    ``synthetic`` column with a true value."""
    from geo.io.readers import says_synthetic

    if says_synthetic(info.get("layer_metadata") or {}):
        return True
    if "synthetic" in [str(f) for f in info["fields"]]:
        if is_parquet(path):
            flags = pd.read_parquet(path, columns=["synthetic"])
        else:
            flags = pyogrio.read_dataframe(path, layer=layer, columns=["synthetic"], read_geometry=False)
        return is_synthetic(flags)
    return False


def circle_reach_m(path: Path, layer: str | None, info: dict) -> float:
    """The largest radius, m, of the circles a point layer with a recorded-area column becomes
    (:func:`geo.engine.hazards.points_with_area_as_circles`); 0 for other layers."""
    from geo.io.readers import FIELD_ALIASES, find_column

    kind = info.get("geometry_type")  # GeoParquet's info has none: its area column is taken as it is
    if kind is not None and "point" not in str(kind).lower():
        return 0.0
    column = find_column(list(info.get("fields", [])), FIELD_ALIASES["area_recorded_m2"])
    if column is None:
        return 0.0
    if is_parquet(path):
        import pyarrow.parquet as pq

        values = pq.read_table(path, columns=[column]).column(0).to_pandas()
    else:
        values = pyogrio.read_dataframe(path, layer=layer, columns=[column], read_geometry=False)[column]
    area = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    area = area[np.isfinite(area) & (area > 0)]
    return float(np.sqrt(area.max() / np.pi)) * 1.01 if len(area) else 0.0


def counted_before(
    path: Path, layer: str | None, source_crs: str | None, chunk_rows: int, total: int, reach_m: float = 0.0
) -> Iterator[np.ndarray]:
    """For each chunk of rows in turn (``total`` rows), the feature ids of earlier rows whose bounding boxes
    meet its own (``source_crs``: the CRS the file's coordinates are in).

    The bounds are read a chunk at a time (a chunk's ids are ready long before the chunk before it is
    analysed).  Boxes are the file's own, widened by :data:`BOX_MARGIN_DEG` (geographic CRS) or
    :data:`BOX_MARGIN_M`, so that hazards meeting in the analysis CRS are always among them; and by
    ``reach_m`` more for points that become circles of up to that radius.
    """
    try:
        geographic = source_crs is None or CRS.from_user_input(source_crs).is_geographic
    except CRSError as exc:
        raise GeoInputError(f"the file's CRS cannot be used ({exc}); pass --crs", str(path)) from exc
    # A degree is at least 100 km on the ground anywhere near Cambodia (longitude, at 15 degrees north: 107 km).
    margin = BOX_MARGIN_DEG + reach_m / 100_000.0 if geographic else BOX_MARGIN_M + reach_m
    yield np.array([], dtype=np.int64)  # the first chunk has no earlier rows: on its way before any box is read
    seen: list[_BoxGroups] = []
    for start in range(0, total if total > chunk_rows else 0, chunk_rows):
        try:
            if is_parquet(path):
                fids, bounds = parquet_bounds(path, start, chunk_rows)
            else:
                fids, bounds = pyogrio.read_bounds(path, layer=layer, skip_features=start, max_features=chunk_rows)
        except Exception as exc:  # the readers raise many types for broken files
            raise GeoInputError(f"cannot read file: {exc}", str(path)) from exc
        ok = np.isfinite(bounds).all(axis=0)
        b = bounds[:, ok] + np.array([-margin, -margin, margin, margin])[:, None]
        if start:
            boxes = shapely.box(*b)
            yield np.unique(np.concatenate([group.meeting(boxes, b) for group in seen]))
            del boxes
        if start + chunk_rows < total:  # a later chunk looks these boxes up
            seen.append(_BoxGroups(b, fids[ok]))


class _BoxGroups:
    """A chunk's boxes, kept for the later chunks to look up: their bounds, and a tree of the envelopes of
    :data:`BOX_GROUP` boxes at a time (near one another), not one geometry per box - at 4.33 million
    hazards a tree of every box held 2 GB in the main process.

    Parameters
    ----------
    bounds : ndarray, shape (4, n)
        ``xmin, ymin, xmax, ymax`` of each box.
    fids : ndarray
        The boxes' feature ids.
    """

    def __init__(self, bounds: np.ndarray, fids: np.ndarray):
        n = bounds.shape[1]
        # Near one another: in strips of the boxes' typical size, ordered along each strip.
        cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        size = float(np.median(bounds[2] - bounds[0])) * 8 if n else 1.0
        order = np.lexsort((cy, np.floor(cx / (size or 1.0)))) if n else np.array([], dtype=np.int64)
        self.bounds = np.ascontiguousarray(bounds[:, order])
        self.fids = np.asarray(fids)[order]
        firsts = np.arange(0, n, BOX_GROUP)
        envelopes = (
            [np.minimum.reduceat(self.bounds[k], firsts) for k in (0, 1)]
            + [np.maximum.reduceat(self.bounds[k], firsts) for k in (2, 3)]
            if n
            else [np.array([])] * 4
        )
        self.tree = shapely.STRtree(shapely.box(*envelopes))

    def meeting(self, boxes: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Feature ids of the kept boxes that meet any of ``boxes`` (geometries, with their ``bounds``)."""
        out = []
        for lo in range(0, len(boxes), BOX_QUERY):  # the candidate pairs of a slice at a time
            box, group = self.tree.query(boxes[lo : lo + BOX_QUERY], predicate="intersects")
            if not len(box):
                continue
            box = np.repeat(box + lo, BOX_GROUP)
            row = (group[:, None] * BOX_GROUP + np.arange(BOX_GROUP)).ravel()
            inside = row < self.bounds.shape[1]
            box, row = box[inside], row[inside]
            meets = (
                (bounds[0, box] <= self.bounds[2, row])
                & (bounds[2, box] >= self.bounds[0, row])
                & (bounds[1, box] <= self.bounds[3, row])
                & (bounds[3, box] >= self.bounds[1, row])
            )
            out.append(np.unique(row[meets]))
        return self.fids[np.unique(np.concatenate(out))] if out else self.fids[:0]


log = logging.getLogger("geo")


#: How long a dask scheduler may take to answer, s.
DASK_CONNECT_S = 10


#: Plans built in this process for the run whose chunks it analyses (a worker process or a dask
#: worker), by run: built on a run's first chunk, dropped when another run starts.
_PLANS: dict[str, RunPlan] = {}


def _in_order(jobs: Iterator, submit, ahead: int) -> Iterator:
    """Submit jobs at most ``ahead`` at a time and yield their results in job order.

    The next job is made (its earlier rows' boxes read) while the submitted ones run, so that a worker
    which finishes a chunk finds the next one waiting rather than waiting for it to be made.
    """
    pending = deque(submit(job) for job in islice(jobs, ahead))
    more = next(jobs, None)
    while pending:
        part = pending.popleft().result()
        if more is not None:
            pending.append(submit(more))
            more = next(jobs, None)
        yield part


def _plan_in_worker(run: str, plan_args: dict) -> None:
    """Build the run's plan in a worker process before its first chunk comes (see :func:`_work`)."""
    if run not in _PLANS:
        _PLANS.clear()
        _PLANS[run] = plan_run(**plan_args)


def die_with_parent(parent: int) -> None:
    """Make this worker process end when the process that started it dies, even by SIGKILL, which
    leaves no chance to clean up: the kernel's parent-death signal on Linux, else a thread that
    watches the parent.  Without it a killed run's workers (about 1 GB each at scale) kept
    computing for minutes."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="geo-parent-watch", daemon=True).start()


@contextmanager
def _worker_pool(workers: int, run: str, plan_args: dict) -> Iterator[ProcessPoolExecutor]:
    """``workers`` local processes, started at once: each imports geo and builds the run's plan while
    this process builds its own.  Chunks not yet started are cancelled when the run fails; after a
    run, the processes end in the background."""
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        for _ in range(workers):
            pool.submit(_plan_in_worker, run, plan_args)
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=False)  # every chunk is done: the processes end while the figures are derived


@dataclass(frozen=True)
class SchedulerTrust:
    """Whether geo may hand work to a dask scheduler: dask moves pickles, so whoever runs the scheduler
    or a worker can run code in this process.

    ``trusted`` admits a plain-TCP scheduler off this machine (the user says the cluster is theirs);
    ``tls_ca``, ``tls_cert`` and ``tls_key`` are the certificate files of a ``tls://`` scheduler.
    """

    trusted: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None


def check_scheduler(address: str, trust: SchedulerTrust) -> None:
    """Refuse a scheduler geo should not hand work to, before any connection is made.

    A ``tls://`` scheduler needs the CA, certificate and key files; a plain ``tcp://`` one must be on
    this machine (loopback) unless ``trust.trusted``.

    Examples
    --------
    >>> check_scheduler("tcp://127.0.0.1:8786", SchedulerTrust())
    >>> check_scheduler("tcp://10.0.0.5:8786", SchedulerTrust(trusted=True))
    >>> check_scheduler("tcp://10.0.0.5:8786", SchedulerTrust())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: the dask scheduler tcp://10.0.0.5:8786 is reached over plain TCP off this machine...
    """
    import ipaddress
    from urllib.parse import urlsplit

    if address == "local":
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme == "tls":
        missing = [
            n
            for n, v in (("--tls-ca", trust.tls_ca), ("--tls-cert", trust.tls_cert), ("--tls-key", trust.tls_key))
            if not v
        ]
        if missing:
            raise GeoInputError(f"a tls:// dask scheduler needs {', '.join(missing)} (certificate files)")
        for name in (trust.tls_ca, trust.tls_cert, trust.tls_key):
            if not Path(str(name)).is_file():
                raise GeoInputError("certificate file does not exist", str(name))
        return
    if parts.scheme not in ("tcp", ""):
        raise GeoInputError(f"the dask scheduler's address {address!r}: use tcp://HOST:PORT or tls://HOST:PORT")
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not trust.trusted:
        raise GeoInputError(
            f"the dask scheduler {address} is reached over plain TCP off this machine, and dask moves pickles: "
            "whoever answers there can run code in geo. Use tls:// with --tls-ca/--tls-cert/--tls-key, or pass "
            "--trust-scheduler if the cluster is yours"
        )


@contextmanager
def dask_client(scheduler: str, workers: int, trust: SchedulerTrust | None = None):
    """A ``dask.distributed`` client: of the scheduler at ``scheduler`` (``tcp://host:port`` or
    ``tls://host:port``, checked by :func:`check_scheduler`), or with ``"local"`` of a local cluster of
    ``workers`` processes, closed on exit."""
    trust = trust or SchedulerTrust()
    check_scheduler(scheduler, trust)
    try:
        from distributed import Client, LocalCluster, Security
    except ImportError as exc:
        raise GeoEnvironmentError(
            "--engine dask needs dask.distributed: pip install 'geo[dask]' (or dask[distributed])"
        ) from exc
    if scheduler == "local":
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    security = None
    if scheduler.startswith("tls://"):
        security = Security(
            tls_ca_file=trust.tls_ca,
            tls_client_cert=trust.tls_cert,
            tls_client_key=trust.tls_key,
            require_encryption=True,
        )
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_S, security=security)
    except (OSError, TimeoutError) as exc:
        raise GeoEnvironmentError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield client


#: Suffixes read in chunks (formats OGR reads by feature id).
CHUNKED_SUFFIXES = (".gpkg", ".shp", ".fgb", ".geojson", ".json", ".gdb", ".gml", ".tab", ".mif", *PARQUET_SUFFIXES)
#: Suffixes of formats GDAL reads from their start on every access (it keeps no index into them): in
#: chunks, each chunk's rows, and the earlier rows it looks up, cost a read of the whole file (measured
#: with 173,200 hazards in GeoJSON: 100.5 s in chunks, 40.2 s in memory).
SEQUENTIAL_SUFFIXES = (".geojson", ".json", ".gml", ".mif")
#: Hazard columns the figures and checks use; the others only go to the files written.
_KEEP = ("hazard_id", "area_recorded_m2", "province_recorded", "approximate")
#: Piece columns the figures use.
_PIECE_KEEP = ("hazard_index", "province", "code", "district_code", "band", "lies_in", "band_index", "area_m2")


def _read_chunk(path: Path, *, layer, crs, id_field, encoding=None, first_row: int = 1, **rows):
    """Features of ``rows`` read, checked and repaired as :func:`geo.read_hazards` does (points with an
    area as circles, the same text encoding), and the report."""
    from geo.engine.hazards import hazard_rows, points_with_area_as_circles, read_rows

    gdf, _, warned, notes = read_rows(path, layer=layer, crs=crs, encoding=encoding, **rows)
    gdf, approximate = points_with_area_as_circles(gdf, notes)
    return hazard_rows(
        gdf,
        path,
        id_field=id_field,
        notes=notes,
        reader_warnings=warned,
        approximate=approximate,
        first_row=first_row,
    )


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
    spill: Path | None = None  # where the pieces go to disk for the caller (PieceRows.of), or not at all
    encoding: str | None = None
    formats: tuple[str, ...] = PIECE_FORMATS  # the piece files the rows are made for (PieceRows.of)


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
        encoding=job.encoding,
        first_row=job.start + 1,
        skip_features=job.start,
        max_features=job.rows,
    )
    t = plan.territory
    hz = AnalysedHazards.prepare(chunk)
    del chunk
    counted = np.array([], dtype=object)
    if len(job.counted_fids) and len(hz.table):
        earlier, _ = _read_chunk(
            job.path, layer=job.layer, crs=job.crs, id_field=job.id_field, encoding=job.encoding, fids=job.counted_fids
        )
        if len(earlier):
            counted = AnalysedHazards.prepare(earlier).geoms
    if not len(hz.table):
        empty = pd.DataFrame()
        return ChunkPart(gpd.GeoDataFrame(), report, empty, empty, empty, empty, np.array([]), None, 0.0)
    pieces, land = plan.pieces(hz, counted=counted)
    table = hazard_table(pieces, hz, t.provinces, plan.zones, plan.places, districts=t.districts)
    # The hazards' own geometries were checked (and repaired) in WGS 84 as they were read.
    rows = PieceRows.of(table, synthetic=job.synthetic, formats=job.formats, spill=job.spill, own_valid=True)
    return ChunkPart(
        rows=rows,
        report=report,
        by_hazard=pd.DataFrame(table[list(_PIECE_KEEP)]),
        pieces=pd.DataFrame(pieces[["code", "district_code", "band_index", "area_m2"]]),
        land=pd.DataFrame(land[["code", "district_code", "fine_index", "band_index", "area_m2"]]),
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
    trust: SchedulerTrust | None = None,
) -> Iterator[ChunkPart]:
    """The chunks' parts in row order: here, in the ``workers`` processes of ``pool``, or on a dask cluster (each
    worker at most one chunk ahead).  Worker processes hand their pieces over in files of ``writer``'s
    directory."""
    if scheduler is not None:
        with dask_client(scheduler, workers, trust) as client:
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
    encoding: str | None = None,
    boundaries: Boundaries | None = None,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str | Sequence[str] | None = None,
    frontier_tolerance_m: float = FRONTIER_TOLERANCE_M,
    error_draws: int = DRAWS,
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 1,
    scheduler: str | None = None,
    trust: SchedulerTrust | None = None,
) -> AnalysisResult:
    """Analyse a hazard file chunk by chunk, writing its pieces as they are made.

    Parameters
    ----------
    path : str or Path
        A vector file OGR reads by feature id (GeoPackage, Shapefile, FlatGeobuf, GeoJSON,
        File Geodatabase ...), or GeoParquet with WKB geometry.
    writer : PieceWriter
        Writes ``by_hazard.csv`` and the ``hazard_pieces`` layer of ``zones.gpkg`` as chunks are
        split (:class:`geo.render.export.PieceWriter`); :func:`geo.render.export.write_outputs` with ``pieces=writer``
        finishes them.
    layer, crs, id_field, encoding
        As for :func:`geo.read_hazards`.
    boundaries, bands_km, neighbor, frontier_tolerance_m, error_draws
        As for :func:`geo.analyze`.
    chunk_rows : int
        Features read and analysed at a time.
    workers : int
        Processes analysing chunks side by side (1: all in this process).
    scheduler : str, optional
        Analyse the chunks on a ``dask.distributed`` cluster instead: the scheduler's address
        (``tcp://host:port``; its workers need geo installed and ``path`` readable at the same
        path), or ``"local"`` for a local cluster of ``workers`` processes.  The cluster must be
        trusted (dask moves pickles): see :func:`check_scheduler`.
    trust : SchedulerTrust, optional
        What admits a scheduler off this machine: ``trusted``, or the certificates of a ``tls://`` one.

    Returns
    -------
    AnalysisResult
        The figures of :func:`geo.analyze` on the whole file.  ``streamed`` is true: ``by_hazard``
        holds ``hazard_index``, ``province``, ``code``, ``band``, ``band_index`` and ``area_m2``
        without geometry, ``land_pieces`` has no geometry and ``hazards`` none; the pieces with every
        column and geometry are in the files written.
    """
    if scheduler is not None:
        check_scheduler(scheduler, trust or SchedulerTrust())  # before any work or connection
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
        "error_draws": error_draws,
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
            ChunkJob(
                path,
                layer,
                crs,
                id_field,
                k * chunk_rows,
                chunk_rows,
                fids,
                synthetic,
                encoding=encoding,
                formats=writer.formats,
            )
            for k, fids in enumerate(
                counted_before(
                    path, layer, crs or info.get("crs"), chunk_rows, total, circle_reach_m(path, layer, info)
                )
            )
        )
        reports, kept, by_hazard, pieces, land = [], [], [], [], []
        areas: list[np.ndarray] = []
        curves: Curves | None = None
        in_sliver = 0.0
        offset = 0
        for k, part in enumerate(_parts(jobs, plan, plan_args, run, workers, pool, scheduler, writer, trust)):
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
    "SchedulerTrust",
    "analyse_chunk",
    "analyze_in_chunks",
    "check_plan_memory",
    "check_scheduler",
    "counted_before",
    "dask_client",
    "layer_info",
    "plan_memory",
]
