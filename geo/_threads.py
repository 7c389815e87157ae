"""Geometry work spread over the cores: GEOS runs without Python's lock, so threads share them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely


def workers() -> int:
    """Threads for the geometry work: GEOS runs without Python's lock, so they share the cores."""
    return max(1, min(os.cpu_count() or 1, 8))


def in_threads(func, *arrays: np.ndarray, min_rows: int = 2000) -> np.ndarray:
    """``func(*arrays)`` for a row-wise vectorised shapely function, its rows split over the cores.

    The result is the one a single call gives (each row is computed alone), in the same order.
    Fewer than ``min_rows`` rows are done in one call (lower it for costly rows, such as unions of
    dozens of polygons).

    Examples
    --------
    >>> import shapely
    >>> a, b = shapely.points(np.arange(5000.0), 0.0), shapely.points(0.0, np.arange(5000.0))
    >>> bool((in_threads(shapely.distance, a, b) == shapely.distance(a, b)).all())
    True
    """
    n = len(arrays[0])
    count = workers()
    if count == 1 or n < max(min_rows, 2):
        return func(*arrays)
    bounds = np.linspace(0, n, count + 1).astype(int)
    with ThreadPoolExecutor(count) as pool:
        parts = list(pool.map(lambda k: func(*(a[bounds[k] : bounds[k + 1]] for a in arrays)), range(count)))
    return np.concatenate(parts)


def valid_mask(geoms) -> np.ndarray:
    """``shapely.is_valid`` of an array of geometries, its rows split over the cores."""
    return in_threads(shapely.is_valid, np.asarray(geoms, dtype=object))
