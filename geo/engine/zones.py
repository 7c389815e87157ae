"""Border zones: bands of land at given distances from a frontier.

Distances are true on the ground.  The frontier is cut into stretches of at
most :data:`~geo.constants.FRONTIER_CHUNK_KM` km; each stretch is buffered in
a transverse Mercator centred on it (scale error < 1e-5 within 30 km of the
centre) with :data:`~geo.constants.BUFFER_QUAD_SEGS` segments per quarter
circle (chords < 0.15 m inside the arc at 7 km), densified, and carried to
the equal-area analysis CRS, where the stretches' buffers are unioned.  The
union of the buffers of the pieces of a line is the buffer of the line, so
the result is the set of points within the distance of the frontier.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import ANALYSIS_CRS, BUFFER_QUAD_SEGS, DEFAULT_BANDS_KM, DENSIFY_M, FRONTIER_CHUNK_KM, WGS84
from geo.crs import GEOD, apply_transformer, densify, local_tm_transformers
from geo.errors import GeoInputError


def band_key(inner_km: float, outer_km: float) -> str:
    """Short key of a band, used in column names.

    Examples
    --------
    >>> band_key(0, 2), band_key(2.5, 5), band_key(7, math.inf)
    ('0-2', '2.5-5', 'beyond_7')
    """
    if math.isinf(outer_km):
        return f"beyond_{inner_km:g}"
    return f"{inner_km:g}-{outer_km:g}"


def band_label(inner_km: float, outer_km: float) -> str:
    """Human label of a band.

    Examples
    --------
    >>> band_label(0, 2), band_label(7, math.inf)
    ('0-2 km', 'beyond 7 km')
    """
    if math.isinf(outer_km):
        return f"beyond {inner_km:g} km"
    return f"{inner_km:g}-{outer_km:g} km"


def band_labels(edges_km: Sequence[float]) -> list[str]:
    """Labels of the bands that edges make, the last one open.

    Examples
    --------
    >>> band_labels((2, 5, 7))
    ['0-2 km', '2-5 km', '5-7 km', 'beyond 7 km']
    """
    inner = (0.0, *edges_km)
    outer = (*edges_km, math.inf)
    return [band_label(a, b) for a, b in zip(inner, outer)]


def sort_by_band(table: pd.DataFrame, columns: list[str], bands: Sequence[str]) -> pd.DataFrame:
    """``table`` sorted by ``columns``, the ``band`` column in the order of ``bands`` (nearest first) rather
    than alphabetically; a band label followed by `` (place)`` sorts with its band, unknown labels last.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"band": ["beyond 7 km", "0-2 km", "2-5 km (zone)"]})
    >>> sort_by_band(t, ["band"], ["0-2 km", "2-5 km", "beyond 7 km"])["band"].tolist()
    ['0-2 km', '2-5 km (zone)', 'beyond 7 km']
    """
    order = {b: i for i, b in enumerate(bands)}

    def key(s):
        return s.map(lambda b: order.get(str(b).split(" (")[0], len(order))) if s.name == "band" else s

    return table.sort_values(columns, key=key, kind="stable")


def parse_bands(bands: str | Sequence[float]) -> tuple[float, ...]:
    """Validate band edges (km): positive, finite, strictly increasing.

    Examples
    --------
    >>> parse_bands("2,5,7"), parse_bands("2km, 5 km, 7000m"), parse_bands("500m,2")
    ((2.0, 5.0, 7.0), (2.0, 5.0, 7.0), (0.5, 2.0))
    """
    if isinstance(bands, str):
        values = []
        for item in bands.replace(" ", "").lower().split(","):
            if not item:
                continue
            unit = 0.001 if item.endswith("m") and not item.endswith("km") else 1.0
            try:
                values.append(float(item.removesuffix("km").removesuffix("m")) * unit)
            except ValueError as exc:
                raise GeoInputError(
                    f"bands must be comma-separated distances (km unless written 500m), got {bands!r}"
                ) from exc
    else:
        values = [float(v) for v in bands]
    if not values:
        raise GeoInputError("at least one band edge is needed")
    if any(not math.isfinite(v) or v <= 0 for v in values):
        raise GeoInputError(f"band edges must be positive finite km, got {values}")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise GeoInputError(f"band edges must increase strictly, got {values}")
    return tuple(values)


def _lines(frontier_wgs84) -> list[np.ndarray]:
    coords = []
    for geom in np.atleast_1d(np.asarray(frontier_wgs84, dtype=object)):
        for part in shapely.get_parts(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom):
            if part.geom_type == "LineString" and len(part.coords) >= 2:
                coords.append(np.asarray(part.coords)[:, :2])
    if not coords:
        raise GeoInputError("the frontier holds no line")
    return coords


def _stretches(coords: np.ndarray, max_km: float) -> list[np.ndarray]:
    """Cut a vertex array into runs of at most ``max_km`` geodesic km (sharing end vertices)."""
    seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])[2]
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / 1000.0
    out, start = [], 0
    while start < len(coords) - 1:
        end = int(np.searchsorted(cum, cum[start] + max_km, side="right")) - 1
        end = max(end, start + 1)
        out.append(coords[start : end + 1])
        start = end
    return out


def frontier_buffers(frontier_wgs84, distances_m: Sequence[float], union: bool = True) -> list:
    """Areas within each distance of the frontier, both sides, in the analysis CRS.

    Parameters
    ----------
    frontier_wgs84 : shapely geometry or array of them
        Frontier lines in WGS 84 degrees.
    distances_m : sequence of float
        Ground distances, m.
    union : bool
        Union the stretches' buffers (default); else return each distance's
        buffers per stretch, whose union is the same area - cheaper to
        intersect small polygons with.

    Returns
    -------
    list of shapely Polygon/MultiPolygon, or of arrays of them
        One per distance, in :data:`~geo.constants.ANALYSIS_CRS` metres.
    """
    stretches = []
    for line in _lines(frontier_wgs84):
        for run in _stretches(line, FRONTIER_CHUNK_KM):
            mid = run[len(run) // 2]
            fwd, inv = local_tm_transformers(float(mid[0]), float(mid[1]))
            stretches.append((apply_transformer(shapely.LineString(run), fwd), inv))

    def _buffer(job: tuple[int, float]) -> shapely.Geometry:
        local, inv = stretches[job[0]]
        buf = shapely.buffer(local, job[1], quad_segs=BUFFER_QUAD_SEGS)
        return apply_transformer(shapely.segmentize(buf, DENSIFY_M), inv)

    out = []
    # GEOS releases the GIL, so the stretches buffer in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for dist in distances_m:
            if dist <= 0:
                out.append(shapely.Polygon() if union else np.array([], dtype=object))
                continue
            parts = list(pool.map(_buffer, [(i, dist) for i in range(len(stretches))]))
            out.append(shapely.union_all(parts) if union else np.array(parts, dtype=object))
    return out


def border_zones(
    frontier: gpd.GeoDataFrame | None = None,
    outline: gpd.GeoDataFrame | None = None,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    neighbor: str = "THA",
) -> gpd.GeoDataFrame:
    """Bands of national territory by distance from a frontier.

    Parameters
    ----------
    frontier : GeoDataFrame, optional
        Frontier lines (any CRS); default the bundled frontier with ``neighbor``.
    outline : GeoDataFrame, optional
        The national territory (any CRS); bands are clipped to it, so they lie
        on the home side only.  Default the bundled national outline.
    bands_km : sequence of float
        Band edges, km, increasing.  ``(2, 5, 7)`` gives bands ``0-2 km``,
        ``2-5 km``, ``5-7 km`` and ``beyond 7 km``.
    neighbor : str
        ISO3 code of the neighbour, for the bundled frontier (THA, LAO, VNM).

    Returns
    -------
    GeoDataFrame
        In the analysis CRS, one row per band, columns ``band`` (label),
        ``key``, ``inner_km``, ``outer_km``, ``area_km2``, ``geometry``.
        The bands tile the outline without overlap.

    Examples
    --------
    >>> from geo import load_boundaries
    >>> b = load_boundaries()
    >>> zones = border_zones(b.frontier_with("THA"), b.outline, bands_km=(2, 7))
    >>> list(zones["band"])
    ['0-2 km', '2-7 km', 'beyond 7 km']
    """
    edges = parse_bands(bands_km)
    if frontier is None or outline is None:
        from geo.engine.boundaries import load_boundaries

        bundled = load_boundaries()
        frontier = bundled.frontier_with(neighbor) if frontier is None else frontier
        outline = bundled.outline if outline is None else outline
    front = frontier_lines(frontier)
    land = shapely.union_all(outline.to_crs(ANALYSIS_CRS).geometry.values)
    return bands_from_buffers(frontier_buffers(front, [e * 1000.0 for e in edges]), land, edges)


def frontier_lines(frontier: gpd.GeoDataFrame) -> np.ndarray:
    """The frontier's lines in WGS 84, densified in their own CRS first (see :func:`geo.crs.densify`)."""
    return densify(frontier, DENSIFY_M).to_crs(WGS84).geometry.values


def bands_from_buffers(buffers: Sequence[shapely.Geometry], land: shapely.Geometry, edges: Sequence[float]):
    """Bands between successive buffers, clipped to ``land`` (see :func:`border_zones`)."""
    inside = [shapely.intersection(b, land) for b in buffers]
    rows, previous, inner = [], None, 0.0
    for edge, zone in zip(edges, inside):
        geom = zone if previous is None else shapely.difference(zone, previous)
        rows.append((inner, edge, geom))
        previous, inner = zone, edge
    rows.append((inner, math.inf, shapely.difference(land, previous)))
    return band_frame([a for a, _, _ in rows], [b for _, b, _ in rows], [g for _, _, g in rows])


def band_frame(inner_km: Sequence[float], outer_km: Sequence[float], geoms: Sequence[shapely.Geometry]):
    """The bands table: ``band``, ``key``, ``inner_km``, ``outer_km``, ``area_km2``, geometry (analysis CRS)."""
    gdf = gpd.GeoDataFrame(
        {
            "band": [band_label(a, b) for a, b in zip(inner_km, outer_km)],
            "key": [band_key(a, b) for a, b in zip(inner_km, outer_km)],
            "inner_km": list(inner_km),
            "outer_km": list(outer_km),
        },
        geometry=list(geoms),
        crs=ANALYSIS_CRS,
    )
    gdf["area_km2"] = gdf.geometry.area / 1e6
    return gdf
