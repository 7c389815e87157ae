"""An error budget on the zone figures: how far the inputs' positional errors move them.

The figure users quote - contamination within 2 km of the border - depends on where
the frontier line is drawn, and the lines people use differ by hundreds of metres.
:func:`error_budget` draws the inputs' positional errors many times (a seeded Monte
Carlo) and reports, per headline figure, the 5th, 50th and 95th percentiles: a 90 %
interval that reflects the spread of the data, not a tolerance picked by hand.

Error sources, each drawn independently:

(a) the frontier's position: a displacement *across* the line that varies smoothly
    along it (a Gaussian AR(1) field on nodes every :data:`NODE_KM` km, correlation
    length ``frontier_corr_km``).  Its size is calibrated where two independent
    mappings of the same frontier exist (OpenStreetMap against GSHHG/WDBII): if each
    line is off by ``N(0, s)``, their distance is half-normal with scale ``s*sqrt(2)``,
    so ``s`` is the median distance / (0.674 sqrt 2), or the 95th percentile / (1.96
    sqrt 2), whichever is larger.  The correlation length is where the
    autocorrelation of their signed offset along the line falls below 1/e.
(b) the province edges: a displacement constant over squares of ``province_corr_km``,
    calibrated by the distance between the province map's outer edge and the
    national outline (the more detailed line) - the generalisation error of the
    province map itself.  It moves land between neighbouring provinces only.
(c) the hazards' own position (GPS, a few to tens of metres): each land piece moved
    ``N(0, hazard_sigma_m)`` across the frontier and across a province edge.

Method: the land pieces the analysis already cut (province x fine band) are sampled by
points on a jittered grid, each weighted so a piece's points sum to its exact area; a
point's distance to the frontier is clipped into its piece's band, so with no error the
points give back the analysis' figures exactly.  A draw moves every point's distance by
the field at its place along the line (no new overlay), and its province where an edge
moves past it.  Percentiles are reported as the analysis' exact figure plus the drawn
change.

Direction: the line as mapped is taken as the true line plus the modelled error.  Errors
that vary over a few km make the mapped line wavier than the border, and a wavier line's
buffer reaches farther (its far edge is the envelope of circles on the waves'
crests), so the figure read off a mapped line tends to be high, more so at 7 km than at
2 km.  Each draw therefore moves the buffer edge by the drawn displacement *and* takes
back the extra reach the drawn waves would give (:func:`reach_of`): the interval is not
centred on the analysis' figure.  Calibration: on a straight border mapped with the
modelled error, the 5th-95th percentile interval holds the true figure in about 90 % of
trials (``tests/test_errorbudget.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import ANALYSIS_CRS, ERROR_DRAWS
from geo.engine.zones import band_label

log = logging.getLogger("geo")

#: Lines as a sequence or an array of shapely geometries.
Lines = Sequence[shapely.Geometry] | np.ndarray

#: Draws of the Monte Carlo (see :data:`geo.constants.ERROR_DRAWS`).
DRAWS = ERROR_DRAWS
#: Seed of the draws: the same inputs give the same budget.
SEED = 20240
#: Spacing of the frontier field's nodes along each line, km.
NODE_KM = 0.5
#: Spacing of the sample points in the land pieces, m.
SPACING_M = 60.0
#: Positional error of a hazard polygon (handheld GPS and sketch maps), standard deviation, m.
HAZARD_SIGMA_M = 15.0
#: Correlation length used when no second line of the frontier calibrates one, km.
DEFAULT_CORR_KM = 10.0
#: Points farther than this many standard deviations from an edge cannot change band or province.
REACH_SIGMAS = 6.0
_Z50 = 0.6745  # median of |N(0, 1)|
_Z95 = 1.9600  # 95th percentile of |N(0, 1)|


@dataclass(frozen=True)
class ErrorModel:
    """Sizes of the positional errors drawn, with where each comes from.

    Attributes
    ----------
    frontier_sigma_m, frontier_corr_km : float
        Standard deviation of the frontier's displacement across the line, and the correlation
        length of its short-range part along it.
    frontier_long_corr_km, frontier_long_share : float
        Correlation length of its long-range part, and that part's share of the variance.
    province_sigma_m, province_corr_km : float
        The same for the province edges (0: provinces taken as exact).
    hazard_sigma_m : float
        Standard deviation of a hazard polygon's position, m.
    sources : dict
        Per parameter, how it was obtained (calibration figures or "assumed").
    """

    frontier_sigma_m: float
    frontier_corr_km: float
    frontier_long_corr_km: float = 0.0
    frontier_long_share: float = 0.0
    province_sigma_m: float = 0.0
    province_corr_km: float = DEFAULT_CORR_KM
    hazard_sigma_m: float = HAZARD_SIGMA_M
    sources: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- calibration


def offsets_along(
    line_a: Lines,
    line_b: Lines,
    step_m: float = 500.0,
    cutoff_m: float = 10_000.0,
):
    """Signed offset of line B from line A, at points every ``step_m`` along A (metric CRS).

    Returns
    -------
    part : ndarray of int
        Which line of A each point lies on (points are in order along each).
    offset_m : ndarray
        Distance to B, positive where B lies to the left of A; NaN where B is farther than
        ``cutoff_m`` (the lines do not describe the same stretch there).
    """
    from scipy.spatial import cKDTree  # here: importing geo spares scipy.spatial

    txy, _, _ = _densified(line_b, 25.0)
    tree = cKDTree(txy)
    axy, apart, aarc = _densified(line_a, 25.0)
    parts, offsets = [], []
    for i in np.unique(apart):
        rows = np.flatnonzero(apart == i)
        if len(rows) < 3 or aarc[rows[-1]] < 2 * step_m:
            continue
        # The vertex nearest each multiple of step_m along the part (vertices are 25 m apart or closer).
        pick = rows[
            np.unique(np.searchsorted(aarc[rows], np.arange(0.0, aarc[rows[-1]], step_m)).clip(max=len(rows) - 1))
        ]
        pts = axy[pick]
        tangent = axy[np.minimum(pick + 1, rows[-1])] - axy[np.maximum(pick - 1, rows[0])]
        dist, j = tree.query(pts, workers=-1)  # the nearest of B's vertices every 25 m
        rel = txy[j] - pts
        side = np.sign(tangent[:, 0] * rel[:, 1] - tangent[:, 1] * rel[:, 0])
        parts.append(np.full(len(pick), i))
        offsets.append(np.where(dist > cutoff_m, np.nan, side * dist))
    if not parts:
        return np.zeros(0, int), np.zeros(0)
    return np.concatenate(parts), np.concatenate(offsets)


def autocorrelation(part: np.ndarray, offset: np.ndarray, step_m: float, max_km: float = 200.0) -> np.ndarray:
    """Autocorrelation of ``offset`` at lags 0, step, 2 step, ... (pooled over the parts; NaN skipped)."""
    lags = int(max_km * 1000.0 / step_m)
    num = np.zeros(lags + 1)
    den = np.zeros(lags + 1)
    mean, var = np.nanmean(offset), np.nanvar(offset)
    if not var > 0:
        return np.zeros(lags + 1)
    for p in np.unique(part):
        x = offset[part == p] - mean
        for k in range(min(lags, len(x) - 1) + 1):
            prod = x[: len(x) - k] * x[k:]
            ok = np.isfinite(prod)
            num[k] += prod[ok].sum()
            den[k] += ok.sum()
    return np.divide(num, den * var, out=np.zeros_like(num), where=den > 0)


def correlation_length_km(acf: np.ndarray, step_km: float) -> float:
    """Lag at which an autocorrelation falls below 1/e, km."""
    below = np.flatnonzero(acf < 1 / math.e)
    return float(below[0] * step_km) if len(below) else (len(acf) - 1) * step_km


def fit_two_scales(acf: np.ndarray, step_km: float, max_km: float = 150.0) -> tuple[float, float, float]:
    """Fit ``(1 - w) exp(-h/a) + w exp(-h/b)`` to an autocorrelation (least squares, grid search).

    Offsets between two mappings of a frontier decorrelate fast (a few km: where each drew a
    bend) but keep a long tail (tens to hundreds of km: one follows a river, the other a ridge),
    and the long part is what does not average out along the border.

    Returns
    -------
    short_km, long_km, long_share : float
    """
    every = max(1, round(1.0 / step_km))  # lags every km or so are enough for the fit
    n = min(len(acf), int(max_km / step_km) + 1)
    acf = acf[:n:every]
    h = np.arange(n)[::every] * step_km
    n = len(h)
    shorts = np.geomspace(0.5, 30.0, 30)
    longs = np.geomspace(10.0, 500.0, 30)
    shares = np.linspace(0.0, 1.0, 41)
    es = np.exp(-h[None, :] / shorts[:, None])  # (S, n)
    el = np.exp(-h[None, :] / longs[:, None])  # (L, n)
    model = (1 - shares)[:, None, None, None] * es[None, :, None, :] + shares[:, None, None, None] * el[None, None]
    err = ((model - acf[None, None, None, :n]) ** 2).sum(axis=-1)
    w, i, j = np.unravel_index(np.argmin(err), err.shape)
    return float(shorts[i]), float(longs[j]), float(shares[w])


def calibrate_lines(
    line_a: Lines,
    line_b: Lines,
    *,
    both_uncertain: bool = True,
    cutoff_m: float = 10_000.0,
) -> tuple[float, tuple[float, float, float], dict]:
    """Error size and correlation implied by the distances between two lines (metric CRS).

    Parameters
    ----------
    line_a, line_b : sequences of lines
    both_uncertain : bool
        True: two independent mappings, each off by ``N(0, s)`` (distance scale ``s*sqrt 2``);
        False: B is the reference, only A is off.
    cutoff_m : float
        Points of A farther than this from B are left out (they map something else).

    Returns
    -------
    sigma_m : float
    correlation : (short_km, long_km, long_share)
        Of :func:`fit_two_scales` on the signed offset's autocorrelation.
    stats : dict
        ``median_m``, ``p95_m``, ``max_m`` of the distances, ``points`` compared, the 1/e
        correlation length and the autocorrelation at 5, 20, 50 and 100 km.
    """
    step = 500.0
    part, off = offsets_along(line_a, line_b, step, cutoff_m)
    ok = np.isfinite(off)
    dist = np.abs(off[ok])
    if len(dist) < 10:
        return float("nan"), (DEFAULT_CORR_KM, DEFAULT_CORR_KM, 0.0), {"points": len(dist)}
    scale = math.sqrt(2.0) if both_uncertain else 1.0
    med, p95 = float(np.median(dist)), float(np.percentile(dist, 95))
    sigma = max(med / (_Z50 * scale), p95 / (_Z95 * scale))
    acf = autocorrelation(part, off, step)
    fit = fit_two_scales(acf, step / 1000.0)
    stats = {
        "median_m": med,
        "p95_m": p95,
        "max_m": float(dist.max()),
        "points": len(dist),
        "step_m": step,
        "cutoff_m": cutoff_m,
        "mean_offset_m": float(np.nanmean(off)),
        "correlation_1e_km": correlation_length_km(acf, step / 1000.0),
        "autocorrelation": {
            f"{k:g} km": float(acf[int(k * 1000 / step)]) for k in (5, 20, 50, 100) if k * 1000 / step < len(acf)
        },
    }
    return sigma, fit, stats


# ---------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Samples:
    """Points standing for the land pieces: ``x``, ``y`` (m), weight ``w`` (m2), ``piece``, ``code``
    (index into the province list), ``lo``/``hi`` (their band's limits, m)."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    piece: np.ndarray
    code: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def sample_pieces(
    geoms: np.ndarray,
    areas: np.ndarray,
    code: np.ndarray,
    lo_m: np.ndarray,
    hi_m: np.ndarray,
    spacing_m: float,
    rng: np.random.Generator,
) -> Samples:
    """Points on a jittered grid in every piece, weighted to its exact area (metric CRS)."""
    bounds = shapely.bounds(geoms)
    nx = np.maximum(np.ceil((bounds[:, 2] - bounds[:, 0]) / spacing_m), 1).astype(int)
    ny = np.maximum(np.ceil((bounds[:, 3] - bounds[:, 1]) / spacing_m), 1).astype(int)
    counts = nx * ny
    owner = np.repeat(np.arange(len(geoms)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(counts.sum()) - start
    jx, jy = rng.random(2)
    x = bounds[owner, 0] + (k % nx[owner] + jx) * spacing_m
    y = bounds[owner, 1] + (k // nx[owner] + jy) * spacing_m
    shapely.prepare(geoms)
    inside = shapely.contains_xy(geoms[owner], x, y)
    owner, x, y = owner[inside], x[inside], y[inside]
    # A piece too small to hold a grid point is stood for by a point inside it.
    empty = np.setdiff1d(np.arange(len(geoms)), owner)
    if len(empty):
        rep = shapely.get_coordinates(shapely.point_on_surface(geoms[empty]))
        owner = np.concatenate([owner, empty])
        x, y = np.concatenate([x, rep[:, 0]]), np.concatenate([y, rep[:, 1]])
    n = np.bincount(owner, minlength=len(geoms))
    w = areas[owner] / n[owner]
    return Samples(x, y, w, owner, code[owner], lo_m[owner], hi_m[owner])


def _densified(lines: Lines, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices every ``step_m`` or closer along each line part: xy, part index, distance along the part."""
    parts = shapely.get_parts(np.asarray(lines, dtype=object))
    dense = shapely.segmentize(parts, step_m)
    xy, idx = shapely.get_coordinates(dense, return_index=True)
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[np.diff(idx) != 0] = 0.0
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    first = np.searchsorted(idx, idx)  # index of each part's first vertex
    return xy, idx, arc - arc[first]


# ---------------------------------------------------------------- the budget


def _ar1(n_nodes: np.ndarray, draws: int, rho: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian AR(1) fields, one per line part, concatenated: (draws, sum of n_nodes)."""
    out = []
    for n in n_nodes:
        f = np.empty((draws, n))
        f[:, 0] = rng.normal(0.0, sigma, draws)
        step = math.sqrt(max(1.0 - rho * rho, 0.0)) * sigma
        for j in range(1, n):
            f[:, j] = rho * f[:, j - 1] + rng.normal(0.0, step, draws)
        out.append(f)
    return np.concatenate(out, axis=1) if out else np.zeros((draws, 0))


def reach_of(field: np.ndarray, node_part: np.ndarray, c: float) -> np.ndarray:
    """How far a line moved by ``field`` has its ``c`` m buffer reach beyond the unmoved one's, per node, m.

    A point at distance ``d`` across node ``i`` lies within ``c`` of the moved line if some node
    ``j`` of the same line, ``x`` m along from ``i``, has ``d < field_j + sqrt(c^2 - x^2)``: the
    buffer of a wavy line is the envelope of its circles, so it reaches farther than the line's
    mean displacement (more so the wavier the line and the wider the buffer).

    Parameters
    ----------
    field : ndarray (draws, nodes)
        Displacements (positive: inward), nodes :data:`NODE_KM` km apart.
    node_part : ndarray (nodes,)
        The line part of each node (the envelope does not jump between parts).
    c : float
        Buffer distance, m.
    """
    step = NODE_KM * 1000.0
    n = field.shape[1]
    out = field.copy()
    idx = np.arange(n)
    for o in range(1, int(c // step) + 1):
        gain = math.sqrt(max(c * c - (o * step) ** 2, 0.0)) - c
        for j in (idx + o, idx - o):
            ok = (j >= 0) & (j < n)
            ok[ok] &= node_part[j[ok]] == node_part[ok]
            out[:, ok] = np.maximum(out[:, ok], field[:, j[ok]] + gain)
    return out


def frontier_field(
    n_nodes: Sequence[int] | np.ndarray, draws: int, model: ErrorModel, rng: np.random.Generator
) -> np.ndarray:
    """Draws of the frontier's displacement at nodes every :data:`NODE_KM` km along each line part.

    The sum of two independent Gaussian AR(1) series (short- and long-range), of total standard
    deviation ``model.frontier_sigma_m``.  Positive: the line moved inward (into the land measured).

    Returns
    -------
    ndarray (draws, sum of n_nodes), m
    """
    share = min(max(model.frontier_long_share, 0.0), 1.0)
    rho_s = math.exp(-NODE_KM / max(model.frontier_corr_km, 1e-6))
    rho_l = math.exp(-NODE_KM / max(model.frontier_long_corr_km, 1e-6))
    nodes = np.asarray(n_nodes, dtype=int)
    field = _ar1(nodes, draws, rho_s, model.frontier_sigma_m * math.sqrt(1 - share), rng)
    if share > 0:
        field += _ar1(nodes, draws, rho_l, model.frontier_sigma_m * math.sqrt(share), rng)
    return field


def error_budget(
    pieces: pd.DataFrame,
    fine_zones: pd.DataFrame,
    codes: Sequence[str],
    lines: Lines,
    edges_km: Sequence[float],
    model: ErrorModel,
    *,
    provinces: gpd.GeoDataFrame | None = None,
    outline: shapely.Geometry | None = None,
    central: dict | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
    spacing_m: float = SPACING_M,
) -> dict:
    """Percentiles of the zone figures over draws of the inputs' positional errors.

    Parameters
    ----------
    pieces : DataFrame
        Land pieces (land counted once) cut by province and fine band, metric CRS: ``code``,
        ``fine_index`` (into ``fine_zones``; negative: outside the territory, left out),
        ``area_m2``, ``geometry``.
    fine_zones : DataFrame
        ``inner_km`` and ``outer_km`` of the fine bands.
    codes : sequence of str
        Province codes, in the order of the output.
    lines : sequence of lines
        The frontier analysed, same CRS as the pieces.
    edges_km : sequence of float
        Band edges reported (2 and 7 km are always added).
    model : ErrorModel
    provinces : GeoDataFrame, optional
        ``code`` and geometry (same CRS): with ``model.province_sigma_m > 0``, land near an edge
        between two provinces may move from one to the other.
    outline : geometry, optional
        The national outline: province edges along it are not edges between provinces.
    central : dict, optional
        The analysis' exact figures (``within_2km_km2``, ``within_7km_km2``, ``bands`` areas,
        ``by_province``); percentiles are reported as these plus the drawn change.
    draws, seed, spacing_m : optional

    Returns
    -------
    dict
        ``level`` (0.9), ``draws``, ``seed``, ``model`` (:meth:`ErrorModel.to_dict`),
        ``within_2km_km2`` / ``within_7km_km2`` (``p05``, ``p50``, ``p95``, ``central``),
        ``bands`` (one such entry per band, with ``band``), ``by_province`` (code -> the two
        headline figures' percentiles, for provinces with land within 7 km + reach).
    """
    rng = np.random.default_rng(seed)
    edges = sorted({float(e) for e in edges_km} | {2.0, 7.0})
    cut_m = np.array(edges) * 1000.0
    codes = list(codes)
    code_ix = {c: i for i, c in enumerate(codes)}
    inside = pieces[pieces["fine_index"] >= 0]
    sig_f = math.hypot(model.frontier_sigma_m, model.hazard_sigma_m)
    reach_m = REACH_SIGMAS * sig_f
    fi = inside["fine_index"].to_numpy()
    lo_m = fine_zones["inner_km"].to_numpy()[fi] * 1000.0
    hi_m = fine_zones["outer_km"].to_numpy()[fi] * 1000.0
    near = lo_m < cut_m[-1] + reach_m  # pieces farther out cannot come within the last edge
    # Only pieces with a shape and an area (a chunked run may carry empty ones).
    near &= np.isfinite(shapely.bounds(np.asarray(inside.geometry.values, dtype=object))).all(axis=1)
    near &= inside["area_m2"].to_numpy() > 0
    code_of = inside["code"].astype(str).map(code_ix).fillna(-1).to_numpy(dtype=np.int64)
    near &= code_of >= 0  # land of a province the output lists
    sub = inside[near]
    geoms = np.asarray(sub.geometry.values, dtype=object)
    smp = sample_pieces(
        geoms,
        sub["area_m2"].to_numpy(dtype=float),
        code_of[near],
        lo_m[near],
        hi_m[near],
        spacing_m,
        rng,
    )
    # Distance to the frontier and place along it, from vertices every 25 m (error < 0.1 m past 1 km).
    from scipy.spatial import cKDTree

    vxy, vpart, varc = _densified(lines, 25.0)
    dist, nearest = cKDTree(vxy).query(np.column_stack([smp.x, smp.y]), workers=-1)
    d = np.clip(dist, smp.lo, np.nextafter(smp.hi, -np.inf))  # inside its piece's band, as cut exactly
    part_len = np.bincount(vpart, weights=np.r_[np.diff(varc), 0.0].clip(min=0))
    n_nodes = np.round(np.maximum(part_len, 0) / (NODE_KM * 1000.0)).astype(int) + 1
    node0 = np.cumsum(n_nodes) - n_nodes
    node = node0[vpart[nearest]] + np.minimum(
        np.round(varc[nearest] / (NODE_KM * 1000.0)).astype(int), n_nodes[vpart[nearest]] - 1
    )
    node_part = np.repeat(np.arange(len(n_nodes)), n_nodes)
    band0 = np.searchsorted(cut_m, d, side="right")
    # Province edges: distance to the nearest other province and which it is.
    other = np.full(len(d), -1)
    edge_d = np.full(len(d), np.inf)
    cell = np.zeros(len(d), dtype=np.int64)
    sig_p = math.hypot(model.province_sigma_m, model.hazard_sigma_m)
    if provinces is not None and model.province_sigma_m > 0 and len(provinces) > 1:
        other, edge_d = _nearest_other_province(smp, provinces, codes, outline, REACH_SIGMAS * sig_p)
        size = model.province_corr_km * 1000.0
        gx, gy = np.floor(smp.x / size).astype(np.int64), np.floor(smp.y / size).astype(np.int64)
        _, cell = np.unique(np.column_stack([gx, gy]), axis=0, return_inverse=True)
        cell = cell.ravel()
    f_active = (np.abs(d[:, None] - cut_m[None, :]) < reach_m).any(axis=1)
    p_active = edge_d < REACH_SIGMAS * sig_p
    active = f_active | p_active
    nb, nc = len(cut_m) + 1, len(codes)
    fixed = np.bincount(smp.code[~active] * nb + band0[~active], weights=smp.w[~active], minlength=nc * nb).reshape(
        nc, nb
    )
    base = np.bincount(smp.code * nb + band0, weights=smp.w, minlength=nc * nb).reshape(nc, nb)
    a = np.flatnonzero(active)
    a_d, a_w, a_code, a_other = d[a], smp.w[a], smp.code[a], other[a]
    a_node, a_piece, a_edge, a_cell = node[a], smp.piece[a], edge_d[a], cell[a]
    # +1: the edge moves into this point's province (it goes to the other one when moved past it).
    a_sign = np.where(a_code > a_other, 1.0, -1.0)
    n_cells = int(cell.max()) + 1 if len(cell) else 1
    results = np.empty((draws, nc, nb))
    chunk = max(1, min(draws, int(1e6 // max(len(a), 1))))  # draws at once: arrays of ~1e6 values
    for s in range(0, draws, chunk):
        k = min(chunk, draws - s)
        field = frontier_field(n_nodes, k, model, rng)
        hz = rng.normal(0.0, model.hazard_sigma_m, (k, len(geoms), 2)) if model.hazard_sigma_m > 0 else None
        at = a_d[None, :] + (hz[:, a_piece, 0] if hz is not None else 0.0)
        band = np.zeros((k, len(a)), dtype=np.int64)
        for c in cut_m:  # outside the moved line's buffer of each edge: one band farther out
            # The true line is the mapped one less the error: its buffer reaches the mapped one's less
            # the displacement and less the extra reach the error's waves give (first order).
            true_reach = 2 * field - reach_of(field, node_part, c)
            band += at - true_reach[:, a_node] >= c
        code = np.broadcast_to(a_code, (k, len(a)))
        if model.province_sigma_m > 0 and p_active.any():
            pf = rng.normal(0.0, model.province_sigma_m, (k, n_cells))[:, a_cell] * a_sign[None, :]
            if hz is not None:
                pf = pf + hz[:, a_piece, 1]
            code = np.where((pf > a_edge[None, :]) & (a_other[None, :] >= 0), a_other[None, :], code)
        flat = (np.arange(k)[:, None] * nc + code) * nb + band
        drawn = np.bincount(flat.ravel(), weights=np.tile(a_w, k), minlength=k * nc * nb)
        results[s : s + k] = drawn.reshape(k, nc, nb) + fixed[None]
    return _percentiles(results, base, edges, list(edges_km), codes, central, draws, seed, model, len(smp.x))


def _nearest_other_province(
    smp: Samples, provinces: gpd.GeoDataFrame, codes: list[str], outline, reach_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the nearest province other than its own across an inner edge, and the distance."""
    edges = []
    owners = []
    coast = shapely.buffer(shapely.boundary(outline), 50.0) if outline is not None else None
    for c, g in zip(provinces["code"], provinces.geometry.values):
        if c not in codes:
            continue
        ring = shapely.boundary(g)
        if coast is not None:
            ring = shapely.difference(ring, coast)
        if shapely.is_empty(ring):
            continue
        edges.append(ring)
        owners.append(codes.index(c))
    other = np.full(len(smp.x), -1)
    dist = np.full(len(smp.x), np.inf)
    if not edges:
        return other, dist
    xy, part, _ = _densified(edges, 25.0)
    lab = np.asarray(owners)[np.repeat(np.arange(len(edges)), [len(shapely.get_parts(e)) for e in edges])[part]]
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    pts = np.column_stack([smp.x, smp.y])
    dd, ii = tree.query(pts, k=16, distance_upper_bound=reach_m, workers=-1)
    for j in range(dd.shape[1]):
        ok = np.isfinite(dd[:, j]) & (other < 0)
        if not ok.any():
            break
        who = lab[np.minimum(ii[ok, j], len(lab) - 1)]
        take = who != smp.code[ok]
        idx = np.flatnonzero(ok)[take]
        other[idx] = who[take]
        dist[idx] = dd[ok, j][take]
    return other, dist


def _percentiles(results, base, edges, user_edges, codes, central, draws, seed, model, n_points) -> dict:
    central = central or {}
    cum = np.cumsum(results, axis=2)  # land within each edge, per draw and province
    cum0 = np.cumsum(base, axis=1)

    def pct(values: np.ndarray, exact: float | None, sampled: float) -> dict:
        shift = (exact - sampled) if exact is not None else 0.0
        p = np.percentile(values, [5, 50, 95]) + shift
        out = {"p05": float(p[0]) / 1e6, "p50": float(p[1]) / 1e6, "p95": float(p[2]) / 1e6}
        out["central"] = float(exact if exact is not None else sampled) / 1e6
        return {k: max(v, 0.0) for k, v in out.items()}

    def within(e_km: float, per_code: bool = False):
        j = edges.index(e_km)
        if per_code:
            return cum[:, :, j], cum0[:, j]
        return cum[:, :, j].sum(axis=1), cum0[:, j].sum()

    out: dict = {
        "level": 0.9,
        "percentiles": "p05, p50 and p95 of the figure over the draws; central is the analysis' own figure",
        "draws": draws,
        "seed": seed,
        "sample_points": n_points,
        "model": model.to_dict(),
    }
    for e in (2.0, 7.0):
        v, s0 = within(e)
        out[f"within_{e:g}km_km2"] = pct(v, _exact(central, f"within_{e:g}km_km2"), s0)
    bands = []
    lows = [0.0, *user_edges]
    exact_bands = {b.get("band"): {"area_km2": b.get("area_km2")} for b in central.get("bands", [])}
    for inner, outer in zip(lows, [*user_edges, math.inf]):
        label = band_label(inner, outer)
        if math.isinf(outer):  # the land beyond: what the last edge does not hold (given the exact total)
            if _exact(exact_bands.get(label, {}), "area_km2") is None:
                continue
            v_lo, s_lo = within(inner)
            v_hi, s_hi = -v_lo, -s_lo
        else:
            v_hi, s_hi = within(outer)
            if inner > 0:
                v_lo, s_lo = within(inner)
                v_hi, s_hi = v_hi - v_lo, s_hi - s_lo
        bands.append({"band": label, **pct(v_hi, _exact(exact_bands.get(label, {}), "area_km2"), s_hi)})
    out["bands"] = bands
    by_prov = {}
    v2, s2 = within(2.0, per_code=True)
    v7, s7 = within(7.0, per_code=True)
    central_prov = central.get("by_province", {})
    for i, c in enumerate(codes):
        if s7[i] <= 0 and not (v7[:, i] > 0).any():
            continue
        ex = central_prov.get(c, {})
        by_prov[c] = {
            "within_2km_km2": pct(v2[:, i], _exact(ex, "within_2km_km2"), s2[i]),
            "within_7km_km2": pct(v7[:, i], _exact(ex, "within_7km_km2"), s7[i]),
        }
    out["by_province"] = by_prov
    return out


def _exact(d: dict, key: str) -> float | None:
    """A figure of the analysis in km2 (``d[key]``) in m2, or None when not given."""
    v = d.get(key)
    return None if v is None else float(v) * 1e6


def model_for(
    front: gpd.GeoDataFrame,
    alternatives: dict,
    provinces: gpd.GeoDataFrame | None,
    outline: gpd.GeoDataFrame | shapely.Geometry | None,
    *,
    fallback_m: float,
    hazard_sigma_m: float = HAZARD_SIGMA_M,
) -> ErrorModel:
    """The error model of an analysis, calibrated on its own boundary data.

    Parameters
    ----------
    front : GeoDataFrame
        The frontier analysed.
    alternatives : dict
        Other mappings of the same frontier (name -> (lines, source)); the first GSHHG one (else
        the first) calibrates the frontier's error.
    provinces, outline
        The province map as read (not fitted) and the land borders (every frontier, as mapped for
        the analysis): their distance along the borders calibrates the province edges' error.
    fallback_m : float
        Without another line: the frontier tolerance, taken as the median distance between two
        independent mappings.
    """
    sources: dict = {}
    a = np.asarray(front.to_crs(ANALYSIS_CRS).geometry.values, dtype=object)
    names = sorted(alternatives, key=lambda n: (not n.upper().startswith("GSHHG"), n))
    sigma_f = corr_f = float("nan")
    long_f = share_f = 0.0
    if names:
        other = alternatives[names[0]][0]
        b = np.asarray(other.to_crs(ANALYSIS_CRS).geometry.values, dtype=object)
        sigma_f, (corr_f, long_f, share_f), stats = calibrate_lines(a, b)
        sources["frontier"] = {
            "method": "two independent mappings, each off by N(0, s): s from the larger of median/(0.674 sqrt 2) "
            "and p95/(1.96 sqrt 2) of their distance; correlation: a short- and a long-range exponential fitted "
            "to the autocorrelation of their signed offset along the line (0-150 km)",
            "lines": [str(front.attrs.get("name", "analysed line")), names[0]],
            **stats,
        }
    if not math.isfinite(sigma_f):
        sigma_f, corr_f, long_f, share_f = fallback_m / (_Z50 * math.sqrt(2.0)), DEFAULT_CORR_KM, 0.0, 0.0
        sources["frontier"] = {
            "method": f"assumed: no second mapping of this frontier; its tolerance {fallback_m:g} m taken as the "
            f"median distance between two mappings, correlation length {DEFAULT_CORR_KM:g} km"
        }
    sigma_p, corr_p = 0.0, DEFAULT_CORR_KM
    if provinces is not None and outline is not None:
        outer = shapely.boundary(shapely.union_all(np.asarray(provinces.to_crs(ANALYSIS_CRS).geometry.values)))
        ref = outline.to_crs(ANALYSIS_CRS).geometry.values if isinstance(outline, gpd.GeoDataFrame) else [outline]
        # Along the land borders only: points of the coast, farther than 3 km from them, are left out.
        sp, _, stats = calibrate_lines([outer], ref, both_uncertain=False, cutoff_m=3000.0)
        if math.isfinite(sp):
            sigma_p, corr_p = sp, max(stats["correlation_1e_km"], NODE_KM)
            sources["provinces"] = {
                "method": "the province map's outer edge against the land borders as mapped for the analysis "
                "(taken as exact): s from the larger of median/0.674 and p95/1.96 of their distance",
                **stats,
            }
    sources["hazards"] = {"method": f"assumed: handheld GPS and sketch maps, {hazard_sigma_m:g} m standard deviation"}
    return ErrorModel(
        frontier_sigma_m=float(sigma_f),
        frontier_corr_km=float(max(corr_f, NODE_KM)),
        frontier_long_corr_km=float(long_f),
        frontier_long_share=float(share_f),
        province_sigma_m=float(sigma_p),
        province_corr_km=float(corr_p),
        hazard_sigma_m=hazard_sigma_m,
        sources=sources,
    )


__all__ = [
    "DRAWS",
    "HAZARD_SIGMA_M",
    "SEED",
    "ErrorModel",
    "autocorrelation",
    "calibrate_lines",
    "correlation_length_km",
    "error_budget",
    "fit_two_scales",
    "frontier_field",
    "model_for",
    "offsets_along",
    "reach_of",
    "sample_pieces",
]
