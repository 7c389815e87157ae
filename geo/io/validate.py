"""Checks and repairs of hazard geometry and coordinates (used by :mod:`geo.engine.hazards`)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo._threads import valid_mask
from geo.constants import WGS84
from geo.errors import GeoInputError

#: Cambodia's extent with a margin, lon/lat degrees: hazards far outside it point to a CRS problem.
CAMBODIA_BOX = (101.5, 9.5, 108.5, 15.5)
#: Bytes of memory a feature file needs per byte on disk: 6.3-6.8 measured at peak on GeoPackages of
#: 43,300 to 433,000 hazards, 8.1-8.7 for 433,000 hazards spread like the demo (3.8-4.1 GB for 470 MB;
#: the upper figure with the pieces' GeoParquet file written too).
MEMORY_FACTOR = 9
#: Share of the physical memory geo allows itself when GEO_MAX_MEMORY is not set.
MEMORY_SHARE = 0.8


def _id_list(ids) -> list[str]:
    return [str(i) for i in ids]


def clean_geometries(gdf: gpd.GeoDataFrame, report: dict) -> gpd.GeoDataFrame:
    """Drop null/empty features, flatten Z/M, keep polygon parts, repair invalid rings."""
    geoms = gdf.geometry.values
    ids = gdf["hazard_id"].to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["dropped_empty"] = {"count": int(missing.sum()), "ids": _id_list(ids[missing])}
    keep = ~missing
    gdf, geoms, ids = gdf[keep], geoms[keep], ids[keep]
    zm = shapely.has_z(geoms) | (shapely.has_m(geoms) if hasattr(shapely, "has_m") else False)
    report["z_m_dropped"] = {"count": int(zm.sum()), "note": "3-D (Z) and measure (M) values are not used"}
    if zm.any():
        geoms = shapely.force_2d(geoms)
    invalid = ~valid_mask(geoms)
    reasons = shapely.is_valid_reason(geoms[invalid])
    report["repaired"] = {
        "count": int(invalid.sum()),
        "ids": _id_list(ids[invalid]),
        "reasons": dict(zip(_id_list(ids[invalid]), reasons)),
    }
    geoms = geoms.copy()
    geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    # Polygons and multipolygons pass as they are; only the other rows need a look at their parts.
    kinds = shapely.get_type_id(geoms)
    odd = np.flatnonzero((kinds != 3) & (kinds != 6))
    non_poly = []
    for i in odd:
        polys, dropped = polygon_parts(geoms[i])
        if dropped:
            non_poly.append(str(ids[i]))
        geoms[i] = shapely.union_all(polys) if len(polys) > 1 else (polys[0] if polys else None)
    report["non_polygon_dropped"] = {"count": len(non_poly), "ids": non_poly}
    area = np.where(shapely.is_missing(geoms), 0.0, shapely.area(geoms))
    zero = area <= 0
    report["zero_area_dropped"] = {"count": int(zero.sum()), "ids": _id_list(ids[zero])}
    out = gdf.iloc[np.flatnonzero(~zero)].copy()
    out = out.set_geometry(gpd.GeoSeries(geoms[~zero], index=out.index, crs=gdf.crs))
    return out


def polygon_parts(geom) -> tuple[list, bool]:
    """Every polygon inside a geometry, at any depth of nested collections; and whether anything else was there.

    Examples
    --------
    >>> inner = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    >>> polys, dropped = polygon_parts(shapely.GeometryCollection([inner, shapely.box(2, 0, 3, 1)]))
    >>> [p.area for p in polys], dropped
    ([1.0, 1.0], True)
    """
    polys: list = []
    dropped = False
    stack = [geom]
    while stack:
        g = stack.pop()
        if g is None or g.is_empty:
            continue
        kind = shapely.get_type_id(g)
        if kind == 3:
            polys.append(g)
        elif kind in (6, 7):
            stack.extend(reversed(shapely.get_parts(g).tolist()))
        else:
            dropped = True
    return polys, dropped


#: CRSs Cambodian data come in, tried when a layer falls outside the country with the CRS it declares.
USUAL_CRS = (
    "EPSG:32648",  # WGS 84 / UTM zone 48N
    "EPSG:32647",  # WGS 84 / UTM zone 47N (the far west)
    "EPSG:32649",  # WGS 84 / UTM zone 49N
    "EPSG:3148",  # Indian 1960 / UTM zone 48N
    "EPSG:3149",  # Indian 1960 / UTM zone 49N
    "EPSG:24047",  # Indian 1975 / UTM zone 47N
    "EPSG:24048",  # Indian 1975 / UTM zone 48N
    "EPSG:4326",  # WGS 84 degrees
)
#: A layer with less than this share of its features in Cambodia is taken to have a wrong CRS.
MIN_SHARE_INSIDE = 0.5
#: Margin around the national outline, degrees (~5 km), for hazards drawn across the frontier.
OUTLINE_MARGIN_DEG = 0.05


def check_territory(gdf: gpd.GeoDataFrame, land_wgs84, path: Path, sample: int = 2000) -> None:
    """Stop when most of a layer lies outside Cambodia, suggesting the CRS that would put it inside.

    A layer in UTM zone 47N declared as 48N lands 6 degrees east, partly on Cambodian soil: a
    plausible but false result.  The share of features whose representative point lies in the
    national outline (with a small margin) is computed with the declared CRS and, when it is
    below :data:`MIN_SHARE_INSIDE`, with each of :data:`USUAL_CRS`.

    Raises
    ------
    GeoInputError
        Naming the share inside, and the CRS to pass with ``--crs`` when one fits.
    """
    geoms = gdf.geometry.values
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(ok):
        return
    if len(ok) > sample:
        ok = ok[np.linspace(0, len(ok) - 1, sample).astype(int)]
    points = shapely.point_on_surface(geoms[ok])
    shapely.prepare(land_wgs84)  # a prepared distance test: no buffer of the whole outline

    def share(crs) -> float:
        try:
            lonlat = gpd.GeoSeries(points, crs=crs).to_crs(WGS84).values
        except Exception:  # a CRS the coordinates cannot be taken in
            return 0.0
        return float(np.mean(shapely.dwithin(land_wgs84, lonlat, OUTLINE_MARGIN_DEG)))

    declared = CRS.from_user_input(gdf.crs)
    inside = share(declared)
    if inside >= MIN_SHARE_INSIDE:
        return
    tried = [(share(c), c) for c in USUAL_CRS if CRS.from_user_input(c) != declared]
    best_share, best = max(tried) if tried else (0.0, None)
    problem = (
        f"only {inside:.0%} of the hazards lie in Cambodia with the CRS the layer is read in "
        f"({declared.name}, {declared.to_string()})"
    )
    if best is not None and best_share >= 0.9:
        problem += f"; with {best} ({CRS.from_user_input(best).name}) {best_share:.0%} do: pass --crs {best}"
    else:
        problem += "; is the CRS right? pass the right one with --crs"
    raise GeoInputError(problem, str(path))


def _likely_crs(cx: np.ndarray, cy: np.ndarray, wrong) -> str | None:
    """The first of :data:`USUAL_CRS` (other than ``wrong``) that puts at least 90 % of the points
    ``cx``, ``cy`` in or near Cambodia, or None."""
    wrong = CRS.from_user_input(wrong)
    for candidate in USUAL_CRS:
        if CRS.from_user_input(candidate) == wrong:
            continue
        try:
            lonlat = gpd.GeoSeries(shapely.points(cx, cy), crs=candidate).to_crs(WGS84)
        except Exception:  # coordinates this CRS cannot take
            continue
        if np.mean(_inside_box(lonlat.x.to_numpy(), lonlat.y.to_numpy())) >= 0.9:
            return candidate
    return None


def _inside_box(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = CAMBODIA_BOX
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def check_coordinates(gdf: gpd.GeoDataFrame, crs, path: Path, hint_only: bool = False, per_row: bool = False):
    """Catch coordinates that cannot be right for Cambodia: swapped lat/lon, metres labelled degrees.

    Returns a hint string (``hint_only``), a report fragment (``per_row``: rows far from
    Cambodia, and those that would fall in it with lat/lon swapped), or raises
    :class:`GeoInputError` when the whole file is off.
    """
    geoms = gdf.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return "" if hint_only else {}
    b = shapely.bounds(geoms[ok])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    if hint_only:
        if np.nanmax(np.abs(b)) > 1000:
            if (
                (np.nanmedian(cx) > 160_000)
                and (np.nanmedian(cx) < 840_000)
                and (1_000_000 < np.nanmedian(cy) < 1_800_000)
            ):
                return " (the coordinates look like UTM zone 48N metres: EPSG:32648, or EPSG:3148 for Indian 1960)"
            return " (the coordinates look like projected metres)"
        return " (the coordinates look like degrees: EPSG:4326?)"
    crs = CRS.from_user_input(crs) if crs is not None else None
    if crs is not None and crs.is_geographic:
        off = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        if off.any():
            k = int(np.flatnonzero(ok)[np.flatnonzero(off)[0]])
            ident = gdf["hazard_id"].iloc[k] if "hazard_id" in gdf.columns else None
            where = f"row {k + 1}" + (f" (id {ident})" if ident is not None and ident == ident else "")
            if np.abs(b[off]).max() > 1e8:
                raise GeoInputError(
                    f"implausible coordinates (up to {np.abs(b[off]).max():.3g}): the file looks damaged",
                    str(path),
                    where,
                )
            if np.abs(b[off]).max() > 1000:
                raise GeoInputError(
                    f"the file says {crs.to_string()} (degrees) but coordinates reach {np.abs(b[off]).max():,.0f}: "
                    "they are projected metres; pass the right CRS with --crs (e.g. EPSG:32648)",
                    str(path),
                    where,
                )
            raise GeoInputError(
                f"latitude {b[off][0, 1]:.4f} is beyond ±90 degrees: did you swap lat/lon?", str(path), where
            )
    if crs is None:
        return {}
    if crs == CRS.from_user_input(WGS84):
        x, y = cx, cy
    else:  # the box centres in degrees (no points built)
        x, y = Transformer.from_crs(crs, WGS84, always_xy=True).transform(cx, cy)
    inside = _inside_box(x, y)
    swapped = ~inside & _inside_box(y, x)
    if not per_row:
        if not inside.any():
            if swapped.all():
                raise GeoInputError(
                    "no hazard lies in or near Cambodia, but all would with x and y exchanged: did you swap lat/lon?",
                    str(path),
                )
            likely = _likely_crs(cx, cy, crs)
            raise GeoInputError(
                f"no hazard lies in or near Cambodia (they centre on lon {np.nanmedian(x):.3f}, "
                f"lat {np.nanmedian(y):.3f}"
                f" in {crs.to_string()}); "
                + (
                    f"with {likely} ({CRS.from_user_input(likely).name}) they do: pass --crs {likely}"
                    if likely
                    else "is the CRS right? pass the right one with --crs"
                ),
                str(path),
            )
        return {}
    ids = gdf["hazard_id"].to_numpy()[ok] if "hazard_id" in gdf.columns else np.arange(len(gdf))[ok]
    return {
        "far_from_cambodia": {"count": int((~inside).sum()), "ids": [str(i) for i in ids[~inside]]},
        "swapped_lat_lon_suspected": {
            "count": int(swapped.sum()),
            "ids": [str(i) for i in ids[swapped]],
            "note": "these lie far from Cambodia but would fall in it with lat/lon swapped: did you swap lat/lon?",
        },
    }


def memory_budget() -> tuple[int | None, str]:
    """The memory geo allows itself, bytes, and where that figure comes from.

    ``GEO_MAX_MEMORY`` (bytes, or with a unit: ``8GB``, ``512MB``) when set, else
    :data:`MEMORY_SHARE` of the machine's physical memory: the same figure on every
    run, unlike the momentary free memory, which depends on what else runs.
    """
    cap = os.environ.get("GEO_MAX_MEMORY", "").strip()
    if cap:
        units = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
        number = cap.upper().rstrip("BKMGT ").strip()
        unit = cap.upper()[len(number) :].strip()
        try:
            value = int(float(number) * units[unit])
        except (ValueError, KeyError):
            raise GeoInputError(f"GEO_MAX_MEMORY={cap!r} is not a size; give e.g. 8GB or 500MB") from None
        return value, f"GEO_MAX_MEMORY={cap}"
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None, "unknown"
    return int(total * MEMORY_SHARE), f"{MEMORY_SHARE:.0%} of the {total / 1e9:,.1f} GB of physical memory"


def input_bytes(path: Path) -> int:
    """Size of a hazard input, bytes: a file, a directory's files (a File Geodatabase), or what a zip holds."""
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    if not path.is_dir() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                size = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError):
            pass
    return size


def check_memory(path: Path) -> None:
    """Refuse, with a clear message, a file that would not fit in geo's memory budget (:func:`memory_budget`)."""
    size = input_bytes(path)
    budget, source = memory_budget()
    need = size * MEMORY_FACTOR
    if budget is not None and need > budget:
        raise GeoInputError(
            f"a {size / 1e6:,.0f} MB file needs about {need / 1e9:,.1f} GB of memory to analyse "
            f"({MEMORY_FACTOR} x its size); geo's budget is {budget / 1e9:,.1f} GB ({source}). "
            "Analyse it in chunks (geo analyze --engine chunked), split it (e.g. by province), "
            "raise GEO_MAX_MEMORY, or use a larger machine",
            str(path),
        )
