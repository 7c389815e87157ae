"""The one place that knows projections.

Every area in geo is measured in :data:`geo.constants.ANALYSIS_CRS`, an
Albers equal-area conic on the WGS 84 ellipsoid.  Every distance that defines
a border zone is measured in a transverse Mercator centred on the stretch of
frontier concerned (see :func:`local_tm`), where the scale error a few tens of
kilometres from the centre is below 1e-5.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops
from pyproj import CRS, Geod, Transformer

from geo.constants import ANALYSIS_CRS, WGS84

GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=256)
def transformer(src: str, dst: str) -> Transformer:
    """A cached :class:`pyproj.Transformer` between two CRSs, lon/lat (x, y) order."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def transform_geoms(geoms: np.ndarray | shapely.Geometry, src: str, dst: str):
    """Transform shapely geometries between two CRSs given as strings.

    Parameters
    ----------
    geoms : shapely geometry or array of them
    src, dst : str
        Anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    The same shape of geometry or array, with coordinates in ``dst``.
    """
    return apply_transformer(geoms, transformer(src, dst))


def local_tm(lon: float, lat: float) -> str:
    """Transverse Mercator centred on ``(lon, lat)``, scale 1 on its meridian.

    Parameters
    ----------
    lon, lat : float
        Centre in degrees (WGS 84).

    Returns
    -------
    str
        A PROJ string; metres; WGS 84 datum.

    Examples
    --------
    >>> local_tm(103.0, 13.5)
    '+proj=tmerc +lat_0=13.5 +lon_0=103.0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs'
    """
    centre = f"+lat_0={float(lat)!r} +lon_0={float(lon)!r}"  # float(): a numpy scalar's repr is not a number
    return f"+proj=tmerc {centre} +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs"


def local_tm_transformers(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Transformers WGS 84 -> :func:`local_tm` and :func:`local_tm` -> analysis CRS.

    Built as PROJ pipelines (both ends are on the WGS 84 ellipsoid, so no
    datum step is involved), which is ~1000x quicker to set up than a
    CRS-to-CRS search and matters when a frontier is cut into many stretches.
    """
    tm = f"+proj=tmerc +lat_0={float(lat)!r} +lon_0={float(lon)!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    aea = ANALYSIS_CRS.replace("+datum=WGS84", "+ellps=WGS84").replace(" +no_defs +type=crs", "")
    fwd = Transformer.from_pipeline(f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {tm}")
    inv = Transformer.from_pipeline(f"+proj=pipeline +step +inv {tm} +step {aea}")
    return fwd, inv


def aeqd_transformers(lon: float, lat: float, src: str = WGS84) -> tuple[Transformer, Transformer]:
    """Transformers ``src`` -> azimuthal equidistant centred on ``(lon, lat)`` (m), and AEQD -> WGS 84.

    ``src`` is WGS 84 or the analysis CRS.  Built as PROJ pipelines on the WGS 84
    ellipsoid: ~0.1 ms each, where a CRS-to-CRS search takes ~10 ms (it matters
    when thousands of sites are checked).
    """
    aeqd = f"+proj=aeqd +lat_0={float(lat)!r} +lon_0={float(lon)!r} +ellps=WGS84"
    if src == WGS84:
        first = "+proj=unitconvert +xy_in=deg +xy_out=rad"
    elif src == ANALYSIS_CRS:
        first = "+inv " + ANALYSIS_CRS.replace("+datum=WGS84", "+ellps=WGS84").replace(" +no_defs +type=crs", "")
    else:
        raise ValueError(f"aeqd_transformers: source must be WGS 84 or the analysis CRS, not {src}")
    fwd = Transformer.from_pipeline(f"+proj=pipeline +step {first} +step {aeqd}")
    inv = Transformer.from_pipeline(f"+proj=pipeline +step +inv {aeqd} +step +proj=unitconvert +xy_in=rad +xy_out=deg")
    return fwd, inv


def apply_transformer(geoms, pipeline: Transformer):
    """Apply a :class:`pyproj.Transformer` (x, y order) to shapely geometries."""

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = pipeline.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)


def reproject(geoms: np.ndarray, src, dst) -> np.ndarray:
    """Reproject an array of geometries, its rows split over the cores.

    PROJ runs without Python's lock, so threads share the cores; each thread builds its own
    :class:`pyproj.Transformer` (one is not to be shared between threads).  The coordinates are
    the ones :meth:`geopandas.GeoSeries.to_crs` gives, to the bit.

    Parameters
    ----------
    geoms : array of shapely geometry
    src, dst : anything :meth:`pyproj.CRS.from_user_input` accepts

    Examples
    --------
    >>> pts = shapely.points(np.linspace(102.0, 107.0, 5000), 13.5)
    >>> ours = reproject(pts, "EPSG:4326", "EPSG:32648")
    >>> theirs = gpd.GeoSeries(pts, crs="EPSG:4326").to_crs("EPSG:32648").to_numpy()
    >>> bool(shapely.equals_exact(ours, theirs, tolerance=0).all()), round(ours[0].x, 1)
    (True, 175206.3)
    """
    from geo._threads import in_threads

    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)

    def part(chunk: np.ndarray) -> np.ndarray:
        return apply_transformer(chunk, Transformer.from_crs(src_crs, dst_crs, always_xy=True))

    return in_threads(part, np.asarray(geoms, dtype=object))


def to_crs(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """:meth:`GeoDataFrame.to_crs` with the coordinates reprojected in threads (see :func:`reproject`)."""
    if gdf.crs is None:
        raise ValueError("cannot reproject a layer without a CRS")
    dst = CRS.from_user_input(crs)
    if dst == gdf.crs:
        return gdf.copy()
    moved = reproject(gdf.geometry.to_numpy(), gdf.crs, dst)
    return gdf.set_geometry(gpd.GeoSeries(moved, index=gdf.index, crs=dst), crs=dst)


def densify(gdf: gpd.GeoDataFrame, max_m: float) -> gpd.GeoDataFrame:
    """Cut segments longer than ``max_m`` (in degrees ~``max_m``/111 km for geographic CRSs).

    A straight segment of the source CRS is then still close to straight
    after reprojection, so the source's idea of the line is kept.
    """
    step = max_m / 111_000.0 if gdf.crs is not None and gdf.crs.is_geographic else max_m
    return gdf.set_geometry(shapely.segmentize(gdf.geometry.values, step))


def to_crs_dense(gdf: gpd.GeoDataFrame, crs, max_m: float | None = None) -> gpd.GeoDataFrame:
    """Reproject, first cutting long segments of a projected layer in its own CRS.

    A straight edge of a UTM layer (a 100 km frontier segment, a long province edge) stays
    close to straight in the target CRS instead of becoming the chord between its two end
    vertices (6.7 m off course for 100 km).  Layers in degrees are reprojected as they are.

    Parameters
    ----------
    gdf : GeoDataFrame
    crs : anything :meth:`GeoDataFrame.to_crs` accepts
    max_m : float, optional
        Longest segment kept, in the source CRS's units (default :data:`~geo.constants.DENSIFY_M`).
    """
    from geo.constants import DENSIFY_M

    if gdf.crs is None or CRS.from_user_input(crs) == gdf.crs:
        return gdf.to_crs(crs) if gdf.crs is not None else gdf
    if gdf.crs.is_projected:
        gdf = densify(gdf, DENSIFY_M if max_m is None else max_m)
    return to_crs(gdf, crs)


def geodesic_area_m2(geoms_wgs84) -> np.ndarray:
    """Geodesic area of each WGS 84 polygon on the ellipsoid, m2 (edges as geodesics).

    An independent check of the equal-area projection: for polygons with
    short edges the two agree to well under 0.01 %.
    """
    arr = np.atleast_1d(np.asarray(geoms_wgs84, dtype=object))
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in arr])


def geodesic_distance_m(point_lonlat: tuple[float, float], line_wgs84, densify_m: float = 5.0) -> float:
    """Shortest geodesic distance from a point to a line, m.

    The line is projected to an azimuthal equidistant projection centred on
    the point, where distances from the centre are true geodesic distances;
    the nearest point found there is then measured with
    :meth:`pyproj.Geod.inv`.

    Parameters
    ----------
    point_lonlat : (float, float)
        Longitude and latitude in degrees.
    line_wgs84 : shapely LineString or MultiLineString
        In WGS 84 degrees.
    densify_m : float
        Segment length, m, the line is cut to before the nearest point is
        searched, so that the straight chords of the projected line stay on
        the geodesic to millimetres.
    """
    lon, lat = point_lonlat
    fwd, inv = aeqd_transformers(lon, lat)
    # Densify in degrees first: a long lon/lat segment is not straight in AEQD.
    local = apply_transformer(shapely.segmentize(line_wgs84, 0.0005), fwd)
    origin = shapely.Point(0.0, 0.0)
    # The nearest chord is found first; only the line within 200 m of its nearest point is
    # cut finer (a 55 m chord strays from the geodesic by far less than a millimetre).
    first = shapely.ops.nearest_points(local, origin)[0]
    near_part = shapely.clip_by_rect(local, first.x - 200.0, first.y - 200.0, first.x + 200.0, first.y + 200.0)
    near = shapely.ops.nearest_points(shapely.segmentize(near_part, densify_m), origin)[0]
    near_ll = apply_transformer(near, inv)
    return float(GEOD.inv(lon, lat, near_ll.x, near_ll.y)[2])
