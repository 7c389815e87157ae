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


def intersecting_pairs(tree_geoms: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)`` of each ``geoms[i]`` and ``tree_geoms[j]`` that intersect: the pairs, in the
    order, of ``STRtree(tree_geoms).query(geoms, predicate="intersects")``.

    The boxes are matched by the tree, then each pair is tested with ``tree_geoms`` prepared. For a few
    large polygons (frontier buffers, slivers) against many small ones this is several times faster
    (measured: 0.03 s instead of 0.20 s for 7,931 pieces against 42 buffers of ~1,900 vertices).

    Examples
    --------
    >>> big = np.array([shapely.box(0, 0, 10, 10), shapely.Polygon([(20, 0), (30, 10), (20, 10)])])
    >>> small = np.array([shapely.box(29, 0, 30, 1), shapely.box(5, 5, 6, 6), shapely.box(21, 8, 22, 9)])
    >>> [a.tolist() for a in intersecting_pairs(big, small)]
    [[1, 2], [0, 1]]
    """
    tree_geoms = np.asarray(tree_geoms, dtype=object)
    geoms = np.asarray(geoms, dtype=object)
    i, j = shapely.STRtree(tree_geoms).query(geoms)
    shapely.prepare(tree_geoms)
    hit = shapely.intersects(tree_geoms[j], geoms[i])  # one thread: GEOS builds a prepared index on first use
    return i[hit], j[hit]
