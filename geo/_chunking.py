"""How a layer is cut into chunks of rows (:mod:`geo.chunked`): the memory a plan needs, the rows per
chunk, the earlier rows whose land each chunk leaves out, and one report from the chunks' reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo._errors import GeoInputError
from geo._parquet import is_parquet, parquet_bounds, parquet_info
from geo._validate import memory_budget
from geo.summary import is_synthetic

#: Features read and analysed at a time.
CHUNK_ROWS = 150_000
#: Peak memory per hazard of a chunk's analysis, bytes (8.8 KB measured at 433,000 demo-like hazards,
#: reading to writing, rounded up).
CHUNK_BYTES_PER_HAZARD = 10_000
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
    9.1
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
    from geo._readers import says_synthetic

    if says_synthetic(info.get("layer_metadata") or {}):
        return True
    if "synthetic" in [str(f) for f in info["fields"]]:
        if is_parquet(path):
            flags = pd.read_parquet(path, columns=["synthetic"])
        else:
            flags = pyogrio.read_dataframe(path, layer=layer, columns=["synthetic"], read_geometry=False)
        return is_synthetic(flags)
    return False


def counted_before(
    path: Path, layer: str | None, source_crs: str | None, chunk_rows: int, total: int
) -> Iterator[np.ndarray]:
    """For each chunk of rows in turn (``total`` rows), the feature ids of earlier rows whose bounding boxes
    meet its own (``source_crs``: the CRS the file's coordinates are in).

    The bounds are read a chunk at a time (a chunk's ids are ready long before the chunk before it is
    analysed).  Boxes are the file's own, widened by :data:`BOX_MARGIN_DEG` (geographic CRS) or
    :data:`BOX_MARGIN_M`, so that hazards meeting in the analysis CRS are always among them.
    """
    try:
        geographic = source_crs is None or CRS.from_user_input(source_crs).is_geographic
    except CRSError as exc:
        raise GeoInputError(f"the file's CRS cannot be used ({exc}); pass --crs", str(path)) from exc
    margin = BOX_MARGIN_DEG if geographic else BOX_MARGIN_M
    yield np.array([], dtype=np.int64)  # the first chunk has no earlier rows: on its way before any box is read
    seen: list[tuple[shapely.STRtree, np.ndarray]] = []
    for start in range(0, total if total > chunk_rows else 0, chunk_rows):
        try:
            if is_parquet(path):
                fids, bounds = parquet_bounds(path, start, chunk_rows)
            else:
                fids, bounds = pyogrio.read_bounds(path, layer=layer, skip_features=start, max_features=chunk_rows)
        except Exception as exc:  # the readers raise many types for broken files
            raise GeoInputError(f"cannot read file: {exc}", str(path)) from exc
        ok = np.isfinite(bounds).all(axis=0)
        b = bounds[:, ok]
        boxes = shapely.box(b[0] - margin, b[1] - margin, b[2] + margin, b[3] + margin)
        if start:
            found = [ids[np.unique(tree.query(boxes, predicate="intersects")[1])] for tree, ids in seen]
            yield np.unique(np.concatenate(found))
        if start + chunk_rows < total:  # a later chunk looks these boxes up
            seen.append((shapely.STRtree(boxes), fids[ok]))
