"""Contaminated area within any distance of the frontier: the what-if curve and ranges.

``W(d)`` is the area of the union of hazards on the home side within ``d`` km
of the frontier.  It is computed from the pieces of an analysis (hazard
unions split by province and band), which carry the band they lie in: a
piece wholly nearer or farther than ``d`` - known from its band, or from
cheap distance bounds - needs no geometry work, and only pieces the
``d``-line crosses are intersected with the ``d`` buffer.  At a band edge no
piece is crossed, so ``W`` there is the very sum the analysis makes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo._threads import in_threads, intersecting_pairs
from geo.constants import ANALYSIS_CRS, WGS84
from geo.crs import transform_geoms
from geo.engine.overlay import union_groups
from geo.engine.zones import frontier_buffers
from geo.io.cache import lookup, store

#: Safety margins for the distance bounds measured in the equal-area CRS, whose scale
#: differs from 1 by < 0.1 % over Cambodia: relative, and absolute in metres.
BOUND_REL = 0.003
BOUND_ABS_M = 25.0


def zones_within(frontier_wgs84: np.ndarray, distances_m: Sequence[float]) -> list[np.ndarray]:
    """Areas within each distance of the frontier (both sides), analysis CRS; cached on disk.

    Each is an array of per-stretch buffers whose union is the area (see
    :func:`geo.engine.zones.frontier_buffers`).  Distances not yet cached are buffered
    together in one pass.
    """
    front = np.asarray(frontier_wgs84, dtype=object)
    base = b"".join(shapely.to_wkb(front))
    found: dict[float, np.ndarray] = {}
    missing = []
    for d in distances_m:
        key = [base, repr(float(d)).encode()]
        hit = lookup("within-parts", key)
        if hit is None:
            missing.append(float(d))
        else:
            found[float(d)] = hit
    if missing:
        for d, parts in zip(missing, frontier_buffers(front, missing, union=False)):
            found[d] = parts
            store(("within-parts", [base, repr(d).encode()]), parts)
    return [found[float(d)] for d in distances_m]


def metres(km: float) -> float:
    """km to m, rounded to the micrometre so that equal distances make equal cache keys.

    Examples
    --------
    >>> metres(2 - 0.01) == metres(1.99)
    True
    """
    return round(float(km) * 1000.0, 6)


def code_groups(codes: np.ndarray) -> tuple[pd.Index, np.ndarray]:
    """The province codes present, sorted, and which of them each row has (-1: none)."""
    which, names = pd.factorize(np.asarray(codes, dtype=object), sort=True)
    return pd.Index(names), which


def sums_in_groups(values: np.ndarray, groups: tuple[pd.Index, np.ndarray]) -> pd.Series:
    """Sum ``values`` per group of :func:`code_groups`, each in row order."""
    names, which = groups
    ok = which >= 0
    return pd.Series(np.bincount(which[ok], weights=np.asarray(values, dtype=float)[ok], minlength=len(names)), names)


def sum_by_code(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """Sum areas per province code, in the order given (the one summation both the analysis'
    band figures and the curve use, so that they agree to the last bit: a row that adds 0 changes
    no sum).

    Examples
    --------
    >>> sum_by_code(np.array([1.0, 2.0, 4.0]), np.array(["02", "01", "02"])).to_dict()
    {'01': 2.0, '02': 5.0}
    """
    return sums_in_groups(values, code_groups(codes))


#: Longest frontier segment, m, when the frontier is cut into points for the nearest-point search of
#: :func:`distance_bounds` (the nearest point of the line is then within half of it of a vertex).
NEAREST_STEP_M = 20.0


def with_extent(pieces: pd.DataFrame) -> pd.DataFrame:
    """``pieces`` with the centre of each one's bounding box (``_cx``, ``_cy``) and the box's half
    diagonal (``_radius``), m: every point of a piece lies within ``_radius`` of its centre.  Measured
    once, for every line :func:`within_curve` is asked about (from the boxes alone: no geometry is
    built).

    Examples
    --------
    >>> one = pd.DataFrame({"geometry": [shapely.box(0, 0, 6, 8)]})
    >>> with_extent(one)[["_cx", "_cy", "_radius"]].round(6).values.tolist()
    [[3.0, 4.0, 5.0]]
    """
    cx, cy, radius = box_extent(shapely.bounds(pieces["geometry"].to_numpy()))
    return pieces.assign(_cx=cx, _cy=cy, _radius=radius)


def box_extent(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The centre (x, y) and half diagonal of each box (rows of ``xmin, ymin, xmax, ymax``): the
    extent :func:`with_extent` gives a piece from its box."""
    x0, y0, x1, y1 = np.asarray(bounds, dtype=float).reshape(-1, 4).T
    return (x0 + x1) / 2, (y0 + y1) / 2, np.hypot(x1 - x0, y1 - y0) / 2


_LINE_POINTS: dict[bytes, tuple[np.ndarray, Any]] = {}


def _line_points(frontier_wgs84: np.ndarray) -> tuple[np.ndarray, Any]:
    """The frontier cut every :data:`NEAREST_STEP_M` (analysis CRS) and a k-d tree of the points: built
    once per line in a process (a run asks about the same few lines for every chunk and distance)."""
    from scipy.spatial import cKDTree

    lines = np.asarray(frontier_wgs84, dtype=object)
    key = hashlib.sha256(b"".join(shapely.to_wkb(lines))).digest()
    if key not in _LINE_POINTS:
        if len(_LINE_POINTS) >= 8:
            _LINE_POINTS.pop(next(iter(_LINE_POINTS)))
        projected = transform_geoms(lines, WGS84, ANALYSIS_CRS)
        points = shapely.get_coordinates(shapely.segmentize(projected, NEAREST_STEP_M))
        _LINE_POINTS[key] = (points, cKDTree(points) if len(points) else None)
    return _LINE_POINTS[key]


#: Side, m, of the grid squares whose centres :func:`distance_bounds` measures with ``by_square``: a
#: first, loose pass (one k-d tree query a square instead of one a piece) settles the pieces far from
#: every distance asked about, before each piece left is measured on its own.
SQUARE_M = 500.0


def _square_centres(centre: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """The centres of the grid squares of ``side`` m the points ``centre`` lie in (each once), and
    which square each point lies in."""
    shift = 1 << 30  # squares numbered from 0 (any point of the earth, in squares of a metre or more)
    cell = np.floor(centre / side).astype(np.int64) + shift
    squares, which = np.unique(cell[:, 0] * (2 * shift) + cell[:, 1], return_inverse=True)
    xy = np.column_stack([squares // (2 * shift), squares % (2 * shift)]) - shift
    return (xy + 0.5) * side, which.ravel()


def distance_bounds(
    pieces: pd.DataFrame, frontier_wgs84: np.ndarray, beyond_m: float = np.inf, *, by_square: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds, m, of the distance from each polygon's points to the frontier.

    The distance of the centre of the polygon's box minus and plus the box's half diagonal (distance
    to a line is 1-Lipschitz; see :func:`with_extent`).  The centre's distance is that to the nearest
    point of the line cut every :data:`NEAREST_STEP_M` (a k-d tree query; the line's own nearest
    point is at most half a step nearer).  With ``by_square``, the distance of the centre of the
    :data:`SQUARE_M` grid square the centre lies in instead, the bounds wider by the square's half
    diagonal: one query a square.  Both bounds are widened by :data:`BOUND_REL` and
    :data:`BOUND_ABS_M` for the projection's scale.  Polygons wholly farther than ``beyond_m`` get
    bounds of infinity (the search stops there).
    """
    if "_radius" not in pieces.columns:
        pieces = with_extent(pieces)
    points, tree = _line_points(frontier_wgs84)
    radius = pieces["_radius"].to_numpy()
    centre = np.column_stack([pieces["_cx"].to_numpy(), pieces["_cy"].to_numpy()])
    known = np.isfinite(centre).all(axis=1)
    slack = NEAREST_STEP_M / 2
    spread = radius.copy()
    if by_square:
        spread[known] += SQUARE_M / np.sqrt(2.0)
    # Searching no farther than any point that could lie within beyond_m: the rest are beyond it.
    reach = (beyond_m + (float(spread.max()) if len(spread) else 0.0) + BOUND_ABS_M) / (1 - BOUND_REL) + slack
    near = np.full(len(centre), np.inf)
    if len(points) and known.any():
        if by_square:
            squares, which = _square_centres(centre[known], SQUARE_M)
            near[known] = tree.query(squares, distance_upper_bound=reach, workers=-1)[0][which]
        else:
            near[known] = tree.query(centre[known], distance_upper_bound=reach, workers=-1)[0]
    lower, upper = near - slack - spread, near + spread
    return lower * (1 - BOUND_REL) - BOUND_ABS_M, upper * (1 + BOUND_REL) + BOUND_ABS_M


def clipped_to(parts: np.ndarray, pieces: np.ndarray, margin_m: float = 1.0) -> np.ndarray:
    """Each of ``parts`` cut to the box of the piece beside it, ``margin_m`` wider.

    ``piece & part`` is ``piece & clipped part`` (the piece lies in the box), and GEOS's rectangle
    clipping is a single pass over the part's vertices: a frontier buffer of ~1,900 vertices comes
    down to the few near a small piece, which halves the time of the intersections that follow
    (measured on 705 pairs at 43,300 hazards: 0.065 s, against 0.009 s to clip and 0.023 s to cut;
    areas equal to 5e-9 m2). A clipped part GEOS reports invalid is left whole.

    Examples
    --------
    >>> ring = np.array([shapely.box(0, 0, 100, 100).difference(shapely.box(10, 10, 90, 90))])
    >>> piece = np.array([shapely.box(0, 40, 20, 60)])
    >>> float(shapely.area(shapely.intersection(piece, clipped_to(ring, piece))[0]))
    200.0
    """
    x0, y0, x1, y1 = shapely.bounds(pieces).T - np.array([[margin_m], [margin_m], [-margin_m], [-margin_m]])
    out = np.array([shapely.clip_by_rect(p, a, b, c, d) for p, a, b, c, d in zip(parts, x0, y0, x1, y1)], dtype=object)
    bad = ~shapely.is_valid(out)
    out[bad] = parts[bad]
    return out


def within_curve(
    pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: pd.Series,
    frontier_wgs84: np.ndarray,
    distances_km: Sequence[float],
    buffers: dict[float, np.ndarray] | None = None,
    shapes: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Area within each distance of the frontier, per province, km2.

    Parameters
    ----------
    pieces : DataFrame
        Land-once pieces of an analysis: ``code``, ``fine_index`` (index into
        ``fine_zones``, -1 outside the territory), ``area_m2``, ``geometry``; with
        :func:`with_extent`'s columns when the same pieces serve several lines.
    fine_zones : DataFrame
        ``inner_km``, ``outer_km`` of each band the pieces were cut by.
    codes : Series
        Province codes, in the order of the output columns.
    frontier_wgs84 : array of lines
        As buffered for the bands (:func:`geo.engine.zones.frontier_lines`).
    distances_km : sequence of float
    buffers : dict, optional
        Frontier buffers already built (per-stretch arrays), by distance in m; others
        are built (and cached).
    shapes : callable, optional
        For pieces whose ``geometry`` is a stand-in (their :func:`with_extent` columns given):
        called once with the index labels of the pieces some distance crosses, it returns their
        geometries (analysis CRS); the others need only their extent and ``area_m2``.

    Returns
    -------
    DataFrame
        Index ``distance_km``; one column per province code (km2) and ``total_km2``.
    """
    inside = pieces[pieces["fine_index"] >= 0]
    if "_radius" not in inside.columns:  # measured once for both passes of the bounds below
        inside = with_extent(inside)
    fine = inside["fine_index"].to_numpy()
    inner = fine_zones["inner_km"].to_numpy()[fine] * 1000.0
    outer = fine_zones["outer_km"].to_numpy()[fine] * 1000.0
    geoms = inside["geometry"].to_numpy()
    ds = [metres(d) for d in distances_km]
    ds_max = max(ds, default=0.0)
    # Bounds from grid squares first; the pieces they leave unsure of some distance are measured alone.
    lower, upper = distance_bounds(inside, frontier_wgs84, beyond_m=ds_max, by_square=True)
    lo, hi = np.maximum(inner, lower), np.minimum(outer, upper)
    unsure = np.zeros(len(inside), dtype=bool)
    for d in ds:
        unsure |= (lo < d) & (hi > d)
    if unsure.any():
        lower, upper = distance_bounds(inside[unsure], frontier_wgs84, beyond_m=ds_max)
        lo[unsure], hi[unsure] = np.maximum(inner[unsure], lower), np.minimum(outer[unsure], upper)
    area = inside["area_m2"].to_numpy()
    groups = code_groups(inside["code"].to_numpy())
    crossing = [~(hi <= d) & (lo < d) for d in ds]
    if shapes is not None:  # only the pieces a distance crosses are cut: their shapes, once
        cut_rows = np.flatnonzero(np.logical_or.reduce(crossing)) if crossing else np.array([], dtype=int)
        geoms = geoms.copy()
        if len(cut_rows):
            geoms[cut_rows] = shapes(inside.index.to_numpy()[cut_rows])
    zones = dict(buffers or {})
    need = [d for d, c in zip(ds, crossing) if c.any() and d not in zones]
    if need:
        zones.update(zip(need, zones_within(frontier_wgs84, need)))
    rows = []
    for d_km, d, cross in zip(distances_km, ds, crossing):
        full = hi <= d
        part = np.zeros(len(inside))
        if cross.any():
            idx = np.flatnonzero(cross)
            # Only the crossing pieces are cut, each by the few stretch buffers it touches.
            parts = zones[d]
            pi, si = intersecting_pairs(parts, geoms[idx])  # prepares parts
            # A piece inside one stretch buffer counts whole (most of them: the bounds are loose).
            inside_one = np.zeros(len(idx), dtype=bool)
            inside_one[pi[shapely.covers(parts[si], geoms[idx[pi]])]] = True  # prepared: one thread
            part[idx[inside_one]] = area[idx[inside_one]]
            pi, si = pi[~inside_one[pi]], si[~inside_one[pi]]
            cut = in_threads(shapely.intersection, geoms[idx[pi]], clipped_to(parts[si], geoms[idx[pi]]))
            several = np.bincount(pi, minlength=len(idx)) > 1
            one = ~several[pi]
            part[idx[pi[one]]] = shapely.area(cut[one])
            if several.any():  # a piece cut by several overlapping stretch buffers: their union, once per piece
                keys, unions = union_groups(cut[~one], pi[~one])
                part[idx[keys]] = shapely.area(unions)
        # Summed per province in piece order, as the analysis sums its band figures.
        per_code = sums_in_groups(np.where(full, area, part), groups)
        values = codes.map(per_code).fillna(0.0).to_numpy() / 1e6
        rows.append([float(d_km), *values, float(pd.Series(values).sum())])
    out = pd.DataFrame(rows, columns=["distance_km", *codes, "total_km2"]).set_index("distance_km")
    return out


def ranges(curve_at, edges_km: Sequence[float], tolerance_m: float, total_km2: float) -> dict:
    """Low / central / high zone figures for a frontier uncertain by ``tolerance_m``.

    Three scenarios move every band edge by -tolerance, 0 and +tolerance (the
    frontier shifted outward, kept, shifted inward); the frontier itself stays the
    inner edge of the first band.  Each figure reports its smallest (``low``), its
    central and its largest (``high``) value over the scenarios.

    Parameters
    ----------
    curve_at : callable
        ``curve_at(distances_km)`` -> total areas (km2) within each distance.
    edges_km : sequence of float
        Band edges, km.
    tolerance_m : float
    total_km2 : float
        Contaminated area on the home side (the outer band is the rest).
    """
    t = tolerance_m / 1000.0
    shifts = (-t, 0.0, t)
    points = sorted({max(e + s, 0.0) for e in (*edges_km, 2.0, 7.0) for s in shifts})
    w = dict(zip(points, curve_at(points)))

    def at(edge: float, shift: float) -> float:
        if edge == 0:
            return 0.0
        return total_km2 if np.isinf(edge) else w[max(edge + shift, 0.0)]

    def span(values: list[float]) -> dict:
        return {"low": min(values), "central": values[1], "high": max(values)}

    out: dict = {"tolerance_m": float(tolerance_m)}
    for name, km in (("within_2km_km2", 2.0), ("within_7km_km2", 7.0)):
        out[name] = span([at(km, s) for s in shifts])
    inner, outer = (0.0, *edges_km), (*edges_km, np.inf)
    out["bands"] = [
        {"inner_km": a, "outer_km": None if np.isinf(b) else b, **span([at(b, s) - at(a, s) for s in shifts])}
        for a, b in zip(inner, outer)
    ]
    return out
